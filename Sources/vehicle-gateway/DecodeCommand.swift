import ArgumentParser
import CANBus
import CANLog
import DBC
import DecodeOutput

struct DecodeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "decode",
        abstract: "Decode a candump log (or standard input) with DBC files.",
        discussion: """
        Reads candump -l / -L log lines ('(1436509052.249713) vcan0 123#DEADBEEF') and candump's
        console format ('  vcan0  123   [4]  DE AD BE EF'). Prints one line per frame.
        """
    )

    @Option(name: .long, help: "A DBC file; repeat for several. The first file defining an id wins.")
    var dbc: [String]

    @Argument(help: "The candump log; '-' or nothing for standard input.")
    var log: String = "-"

    @Option(name: .long, help: "text (like cantools decode) or jsonl (one JSON object per frame).")
    var format: DecodedFrameWriter.Format = .text

    @Flag(name: .long, help: "Stop at the first malformed line instead of reporting it and going on.")
    var strict = false

    func validate() throws {
        if dbc.isEmpty { throw ValidationError("give at least one --dbc FILE") }
    }

    func run() throws {
        let databases = try dbc.map(loadDatabase)
        let codec = DatabaseCodec(databases)
        let writer = DecodedFrameWriter(codec: codec, format: format)
        let out = OutputSink()
        var reader: CandumpReader
        do {
            reader = try CandumpReader(path: log, mode: strict ? .strict : .lenient)
        } catch {
            printError("vehicle-gateway: \(error)")
            throw ExitCode(66)
        }
        reader.onMalformedLine = { printError("\($0)") }
        do {
            let text = format == .text
            while let f = try reader.nextFrame() {
                writer.append(timestamp: f.timestamp, interface: text ? reader.interfaceName(f.interface) : "", frame: f.frame, to: out.buffer)
                out.flushIfNeeded()
            }
        } catch {
            out.flush()
            printError("\(error)")
            throw ExitCode(65)
        }
        out.flush()
        if reader.errorCount > 0 {
            printError("vehicle-gateway: \(reader.errorCount) malformed line(s) skipped")
            throw ExitCode(65)
        }
    }
}

extension DecodedFrameWriter.Format: ExpressibleByArgument {}
