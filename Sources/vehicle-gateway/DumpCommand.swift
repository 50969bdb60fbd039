import ArgumentParser
import CANBus
import DBC
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
    @OptionGroup var receive: ReceiveOptions

    func run() throws {
        installStopHandlers()
        let databases = try dbc.map(loadDatabase)
        var writer = databases.isEmpty ? nil : DecodedFrameWriter(codec: DatabaseCodec(databases), format: format)
        var options = receive.socketOptions()
        if filterDBC, !databases.isEmpty {
            options.filters = databases.flatMap { $0.messages.map { CANFilter.exact($0.id) } }
        }
        let reader = CANReader(interfaces: interfaces, options: options)
        var out = OutputSink()
        let width = interfaces.map(\.utf8.count).max() ?? 5
        do {
            let announce = { printError("vehicle-gateway: reading \(interfaces.joined(separator: ", "))") }
            try reader.run(shouldStop: { shouldStop }, emit: { event in
                switch event {
                case .frame(let record):
                    if writer != nil { writer!.append(record, to: &out.buffer) }
                    else if log { CandumpWriter.appendLogLine(record, to: &out.buffer) }
                    else { CandumpWriter.appendConsoleLine(record, interfaceWidth: width, to: &out.buffer) }
                    out.flushIfStale()
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
