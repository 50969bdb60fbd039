#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import CANBus
import SocketCAN

struct RecordCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "record",
        abstract: "Record live traffic as a candump log (candump -l format), optionally rotating files.",
        discussion: """
        Without rotation the log goes to exactly -o FILE ('-' for standard output). With
        --rotate-size or --rotate-seconds, files are FILE-0001.log, FILE-0002.log, ... (FILE without
        its .log suffix), each closed when it reaches the size or age.
        """)

    @Argument(help: "CAN interfaces.") var interfaces: [String]
    @Option(name: .shortAndLong, help: "The log file.") var output: String
    @Option(name: .long, help: "Start a new file after this many megabytes.") var rotateSize: Double?
    @Option(name: .long, help: "Start a new file after this many seconds.") var rotateSeconds: Double?
    @Option(name: .long, help: "Stop after this many frames.") var count: Int?
    @OptionGroup var receive: ReceiveOptions

    func run() throws {
        installStopHandlers()
        var file = try LogFile(path: output, rotateBytes: rotateSize.map { Int($0 * 1_000_000) }, rotateSeconds: rotateSeconds)
        let reader = CANReader(interfaces: interfaces, options: receive.socketOptions())
        var frames = 0
        var failure: Error?
        do {
            let announce = { printError("vehicle-gateway: recording \(interfaces.joined(separator: ", ")) to \(output)") }
            try reader.run(shouldStop: {
                // What has waited a tenth of a second is written out, so a kill loses no more.
                if failure == nil { do { try file.flushIfOlder(than: LogFile.maximumDelay) } catch { failure = error } }
                return shouldStop || failure != nil || (count.map { frames >= $0 } ?? false)
            }, emit: { _, event in
                switch event {
                case .frame(let record):
                    if let count, frames >= count { return }
                    frames += 1
                    do { try file.append(record) } catch { failure = error }
                case .busError(let record, _):
                    // With --errors, error frames go into the log as candump -e writes them.
                    do { try file.append(record) } catch { failure = error }
                case .interfaceDown(let iface, let reason):
                    printError("vehicle-gateway: \(iface): down (\(reason)); waiting for it to return")
                case .interfaceUp(let iface):
                    printError("vehicle-gateway: \(iface): up again; recording")
                case .kernelDrops(let iface, let new, let total):
                    printError("vehicle-gateway: warning: \(iface): the kernel dropped \(new) frame(s) (\(total) in all)")
                }
            }, ready: announce)
            try file.close()
        } catch {
            throw CLIFailure.exit("\(error)", code: 74)
        }
        if let failure { throw CLIFailure.exit("\(failure)", code: 74) }
        printError("vehicle-gateway: recorded \(frames) frame(s)")
    }
}

/// A candump log being written, with size- or time-based rotation.
struct LogFile {
    let path: String
    let rotateBytes: Int?
    let rotateSeconds: Double?
    var fd: Int32 = -1
    var written = 0
    var opened = 0.0
    var sequence = 0
    var buffer = TextBuffer(capacity: 1 << 17)
    /// When the oldest line in `buffer` was added (monotonic seconds).
    var pendingSince = 0.0
    /// The longest a recorded line waits in memory: at most this much is lost if the recorder is
    /// killed (lines are written whole, so the file always ends with a whole line then).
    static let maximumDelay = 0.1

    init(path: String, rotateBytes: Int?, rotateSeconds: Double?) throws {
        self.path = path
        self.rotateBytes = rotateBytes
        self.rotateSeconds = rotateSeconds
        try openNext()
    }

    var rotating: Bool { rotateBytes != nil || rotateSeconds != nil }

    mutating func openNext() throws {
        if fd > 2 { try flush(); Glibc.close(fd) }
        sequence += 1
        var name = path
        if rotating {
            let base = path.hasSuffix(".log") ? String(path.dropLast(4)) : path
            let n = String(sequence)
            name = base + "-" + String(repeating: "0", count: max(0, 4 - n.count)) + n + ".log"
        }
        if path == "-" { fd = 1 } else {
            fd = Glibc.open(name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
            guard fd >= 0 else { throw SystemError.last("create \(name)") }
        }
        written = 0
        opened = SystemClock.monotonicSeconds()
    }

    mutating func append(_ record: CANLogRecord) throws {
        if rotating, written > 0,
           (rotateBytes.map { written + buffer.count >= $0 } ?? false) || (rotateSeconds.map { SystemClock.monotonicSeconds() - opened >= $0 } ?? false) {
            try openNext()
        }
        if buffer.count == 0 { pendingSince = SystemClock.monotonicSeconds() }
        CandumpWriter.appendLogLine(record, to: &buffer)
        if buffer.count >= 1 << 16 { try flush() }
    }

    mutating func flushIfOlder(than seconds: Double) throws {
        if buffer.count > 0, SystemClock.monotonicSeconds() - pendingSince >= seconds { try flush() }
    }

    mutating func flush() throws {
        var offset = 0
        while offset < buffer.count {
            let n = buffer.bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if n < 0 {
                if errno == EINTR { continue }
                throw SystemError.last("write \(path)")
            }
            offset += n
        }
        written += buffer.count
        buffer.removeAll()
    }

    mutating func close() throws {
        try flush()
        if fd > 2 { Glibc.close(fd) }
        fd = -1
    }
}
