#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import CANBus
import CANLog
import Gateway
import SocketCAN

struct ReplayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Play a candump log onto CAN interfaces, like canplayer.",
        discussion: """
        Frames keep the log's relative timing (scaled by --speed) unless --fast. Interfaces are
        mapped with --map LOGIFACE=IFACE (repeatable) or all sent to --to IFACE; frames of
        interfaces not mapped keep their own interface name. The log is streamed, never held
        in memory: a loop reads it again.
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
        var options = ReplaySource.Options(logs: [log])
        options.speed = speed
        options.fast = fast
        options.passes = loop
        options.restamp = false
        options.startOffset = start
        options.stopOffset = stop
        options.strict = strict
        var sink = SocketSender(to: to, map: Dictionary(uniqueKeysWithValues: map.map { m in
            let p = m.split(separator: "=")
            return (String(p[0]), String(p[1]))
        }))
        do {
            try ReplaySource(options, buses: sink.resolver).run(into: &sink)
        } catch let e as CANIOError {
            throw CLIFailure.exit("\(e)", code: { if case .system = e { return 66 } else { return 65 } }())
        } catch {
            throw CLIFailure.exit("\(error)", code: 74)
        }
        if let failure = sink.failure { throw CLIFailure.exit("\(failure)", code: 74) }
        printError("vehicle-gateway: sent \(sink.sent) frame(s)")
    }
}

/// Sends each replayed frame to its interface's socket (opened on first use). Each log
/// interface is one "bus" of the replay: --to sends all to one, --map renames.
struct SocketSender: FrameSink {
    let to: String?
    let map: [String: String]
    let resolver = BusResolver.everyInterface()
    var sockets: [CANSocket?] = []
    var sent = 0
    var failure: SystemError?

    init(to: String?, map: [String: String]) {
        self.to = to
        self.map = map
    }

    mutating func deliver(_ f: BusFrame) {
        if case .error = f.frame { return }
        do {
            try sendRetrying(try socket(for: f.bus), f.frame)
            sent += 1
        } catch { failure = error }
    }

    /// A bus is announced before its first frame: open its socket then, before the pacing
    /// clock starts.
    mutating func busEvent(_ event: BusEvent, bus: Int) {
        guard case .up = event else { return }
        do { _ = try socket(for: bus) } catch { failure = error }
    }

    mutating func malformedLine(_ diagnostic: Diagnostic) { printError("\(diagnostic)") }

    var shouldStop: Bool { stopRequested.load(ordering: .relaxed) || failure != nil }

    mutating func socket(for bus: Int) throws(SystemError) -> CANSocket {
        if bus < sockets.count, let s = sockets[bus] { return s }
        let name = resolver.name(of: bus) ?? ""
        let target = to ?? map[name] ?? name
        var o = CANSocketOptions()
        o.errorMask = 0
        o.filters = []  // send only: receive nothing
        let s = try CANSocket(interface: target, options: o)
        if bus >= sockets.count { sockets += Array(repeating: nil, count: bus + 1 - sockets.count) }
        sockets[bus] = s
        return s
    }

    /// A full transmit queue (ENOBUFS) is back-pressure, not failure: wait briefly and retry.
    func sendRetrying(_ socket: CANSocket, _ frame: CANFrame) throws(SystemError) {
        while true {
            do { try socket.send(frame); return } catch {
                guard error.errno == ENOBUFS else { throw error }
                usleep(200)
            }
        }
    }
}
