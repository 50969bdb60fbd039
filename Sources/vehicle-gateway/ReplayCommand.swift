#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import CANBus
import SocketCAN

struct ReplayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Play a candump log onto CAN interfaces, like canplayer.",
        discussion: """
        Frames keep the log's relative timing (scaled by --speed) unless --fast. Interfaces are
        mapped with --map LOGIFACE=IFACE (repeatable) or all sent to --to IFACE; frames of
        interfaces not mapped keep their own interface name.
        """)

    @Argument(help: "The candump log ('-' for standard input).") var log: String
    @Option(name: .long, help: "Send every frame to this interface.") var to: String?
    @Option(name: .long, help: "Map a log interface to a real one: vcan0=can0 (repeatable).") var map: [String] = []
    @Option(name: .long, help: "Playback speed factor (2 = twice as fast).") var speed: Double = 1
    @Flag(name: .long, help: "Send as fast as possible, ignoring the log's timing.") var fast = false
    @Option(name: .long, help: "Play the log this many times; 0 = forever.") var loop: Int = 1
    @Option(name: .long, help: "Start this many seconds into the log.") var start: Double = 0
    @Option(name: .long, help: "Stop this many seconds into the log.") var stop: Double?
    @Flag(name: .long, help: "Stop at the first malformed line.") var strict = false

    func validate() throws {
        if speed <= 0 { throw ValidationError("--speed must be above 0") }
        if loop < 0 { throw ValidationError("--loop must be 0 (forever) or more") }
        for m in map where m.split(separator: "=").count != 2 { throw ValidationError("--map takes LOGIFACE=IFACE, not '\(m)'") }
    }

    func run() throws {
        installStopHandlers()
        var mapping: [String: String] = [:]
        for m in map { let p = m.split(separator: "="); mapping[String(p[0])] = String(p[1]) }
        // Read the log once (it is replayed in loops); malformed lines are reported like decode does.
        var records: [CANLogRecord] = []
        do {
            var reader = try CandumpReader(path: log, mode: strict ? .strict : .lenient)
            reader.onMalformedLine = { printError("\($0)") }
            while let r = try reader.next() { records.append(r) }
        } catch {
            throw CLIFailure.exit("\(error)", code: 65)
        }
        guard let first = records.first else { return }
        let origin = first.timestamp.totalNanoseconds
        let startNs = origin + Int64(start * 1e9)
        let stopNs = stop.map { origin + Int64($0 * 1e9) }
        records = records.filter { r in r.timestamp.totalNanoseconds >= startNs && (stopNs.map { r.timestamp.totalNanoseconds <= $0 } ?? true) }
        guard let base = records.first?.timestamp.totalNanoseconds else { return }

        var sockets: [String: CANSocket] = [:]
        func socket(for name: String) throws -> CANSocket {
            if let s = sockets[name] { return s }
            var o = CANSocketOptions()
            o.errorMask = 0
            o.filters = []  // send only: receive nothing
            let s = try CANSocket(interface: name, options: o)
            sockets[name] = s
            return s
        }
        var pass = 0
        var sent = 0
        do {
            while loop == 0 || pass < loop {
                pass += 1
                let t0 = monotonicNanoseconds()
                for r in records {
                    if shouldStop { break }
                    if !fast {
                        let due = t0 + Int64(Double(r.timestamp.totalNanoseconds - base) / speed)
                        sleepUntil(due)
                    }
                    guard case .error = r.frame else {
                        let target = to ?? mapping[r.interface] ?? r.interface
                        try sendRetrying(try socket(for: target), r.frame)
                        sent += 1
                        continue
                    }
                }
                if shouldStop { break }
            }
        } catch {
            throw CLIFailure.exit("\(error)", code: 74)
        }
        printError("vehicle-gateway: sent \(sent) frame(s)")
    }

    /// A full transmit queue (ENOBUFS) is back-pressure, not failure: wait briefly and retry.
    func sendRetrying(_ socket: CANSocket, _ frame: CANFrame) throws {
        while true {
            do { try socket.send(frame); return } catch {
                guard error.errno == ENOBUFS else { throw error }
                usleep(200)
            }
        }
    }

    func monotonicNanoseconds() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
    }

    func sleepUntil(_ ns: Int64) {
        var ts = timespec(tv_sec: Int(ns / 1_000_000_000), tv_nsec: Int(ns % 1_000_000_000))
        while clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nil) == EINTR {}
    }
}
