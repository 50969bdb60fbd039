import ArgumentParser
import CANBus
import DBC
import DecodeOutput
import SocketCAN

/// Options shared by the commands that read live interfaces.
struct ReceiveOptions: ParsableArguments {
    @Option(name: .long, help: "Kernel receive buffer in bytes (SO_RCVBUF).") var receiveBuffer: Int = 8 << 20
    @Flag(name: .long, help: "Also receive the frames this program sends.") var ownMessages = false
    @Flag(name: .long, help: "Receive error frames (bus-off, error-passive, lost arbitration, ...).") var errors = false

    func socketOptions() -> CANSocketOptions {
        var o = CANSocketOptions()
        o.receiveBufferBytes = receiveBuffer
        o.receiveOwnMessages = ownMessages
        o.errorMask = errors ? 0x1FFF_FFFF : 0
        return o
    }
}

struct DumpCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dump",
        abstract: "Show live traffic like candump; with --dbc, decoded like cantools monitor.")

    @Argument(help: "CAN interfaces (vcan0 can1 ...).") var interfaces: [String]
    @Option(name: .long, help: "DBC files to decode with; repeat for several.") var dbc: [String] = []
    @Option(name: .long, help: "With --dbc: text or jsonl.") var format: DecodedFrameWriter.Format = .text
    @Flag(name: .long, help: "Print candump -l log lines instead of the console view.") var log = false
    @Flag(name: .long, help: "Receive only the ids the DBC files define (kernel filters).") var filterDBC = false
    @Flag(name: .long, help: "With --dbc: a screen of the latest value of every message, updated in place (like cantools monitor).")
    var monitor = false
    @OptionGroup var receive: ReceiveOptions

    func validate() throws {
        if monitor && dbc.isEmpty { throw ValidationError("--monitor needs --dbc") }
    }

    func run() throws {
        installStopHandlers()
        let databases = try dbc.map(loadDatabase)
        let writer = databases.isEmpty ? nil : DecodedFrameWriter(codec: DatabaseCodec(databases), format: format)
        var options = receive.socketOptions()
        if filterDBC, !databases.isEmpty {
            options.filters = databases.flatMap { $0.messages.map { CANFilter.exact($0.id) } }
        }
        let reader = CANReader(interfaces: interfaces, options: options)
        let out = OutputSink()
        var line = TextBuffer(capacity: 256)
        var lastFlush = 0.0
        let width = interfaces.map(\.utf8.count).max() ?? 5
        var screen = monitor ? MonitorScreen(codec: DatabaseCodec(databases)) : nil
        do {
            let announce = { printError("vehicle-gateway: reading \(interfaces.joined(separator: ", "))") }
            try reader.run(shouldStop: { shouldStop }, emit: { _, event in
                switch event {
                case .frame(let record):
                    if screen != nil {
                        screen!.update(record)
                        screen!.drawIfDue(to: out)
                        return
                    }
                    if writer != nil { writer!.append(record, to: out.buffer) }
                    else {
                        if log { CandumpWriter.appendLogLine(record, to: &line) }
                        else { CandumpWriter.appendConsoleLine(record, interfaceWidth: width, to: &line) }
                        out.buffer.append(line)
                        line.removeAll()
                    }
                    out.flushIfStale(&lastFlush)
                case .busError(let record, let error):
                    printError("vehicle-gateway: \(record.interface): bus error: \(error)")
                case .interfaceDown(let iface, let reason):
                    printError("vehicle-gateway: \(iface): down (\(reason)); waiting for it to return")
                case .interfaceUp(let iface):
                    printError("vehicle-gateway: \(iface): up again; reading")
                case .kernelDrops(let iface, let new, let total):
                    printError("vehicle-gateway: warning: \(iface): the kernel dropped \(new) frame(s) (\(total) in all); raise --receive-buffer")
                }
            }, ready: announce)
        } catch {
            out.flush()
            throw CLIFailure.exit("\(error)", code: 74)
        }
        out.flush()
    }
}

/// The latest decoded frame of every message on one screen, redrawn at most ten times a second.
struct MonitorScreen {
    let codec: DatabaseCodec
    var writer: DecodedFrameWriter
    var latest: [Int: String] = [:]
    var counts: [Int: Int] = [:]
    var frames = 0
    var unknown = 0
    var lastDraw = 0.0
    let scratch = OutputBuffer(capacity: 4096)

    init(codec: DatabaseCodec) {
        self.codec = codec
        writer = DecodedFrameWriter(codec: codec, format: .text)
    }

    mutating func update(_ record: CANLogRecord) {
        frames += 1
        guard let id = record.frame.id, let index = codec.index(of: id) else { unknown += 1; return }
        scratch.removeAll()
        writer.append(record, to: scratch)
        // Keep what follows "::" — the message and its signals.
        var text = scratch.string
        if let range = text.firstRange(of: " :: ") { text = String(text[range.upperBound...]) }
        latest[index] = text.hasSuffix("\n") ? String(text.dropLast()) : text
        counts[index, default: 0] += 1
    }

    mutating func drawIfDue(to out: OutputSink) {
        let now = SystemClock.monotonicSeconds()
        guard now - lastDraw >= 0.1 else { return }
        lastDraw = now
        out.buffer.append("\u{1B}[H\u{1B}[2J")
        out.buffer.append("Received: \(frames) frames, \(unknown) not in the DBC   (Ctrl-C to quit)\n\n")
        for index in latest.keys.sorted(by: { codec.codecs[$0].message.id < codec.codecs[$1].message.id }) {
            let m = codec.codecs[index].message
            out.buffer.append("\(m.id) \(counts[index] ?? 0)x  \(latest[index]!)\n")
        }
        out.flush()
    }
}
