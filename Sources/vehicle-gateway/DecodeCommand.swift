import ArgumentParser
import CANBus
import CANLog
import DBC
import DecodeOutput
import VehicleState

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

    @Flag(name: [.long, .customLong("e2e")], help: ArgumentHelp(
        "Check each frame of a protected message (CRC, counter) and add \"e2e\": \"ok\" or the reason (checksum, counter, repeated).",
        discussion: "The checks come from --mapping's integrity: section, else from the DBC file names as opendbc reads them (toyota_*, honda_*, vw_* ... with CHECKSUM/COUNTER signals)."))
    var check = false

    @Option(name: .long, help: "With --check: a mapping file whose integrity: section declares the checks.")
    var mapping: String?

    @Option(name: .shortAndLong, help: "Decode on this many threads (default: one per processor; the output is the same, in order). --check uses one.")
    var jobs: Int?

    func validate() throws {
        if dbc.isEmpty { throw ValidationError("give at least one --dbc FILE") }
        if mapping != nil, !check { throw ValidationError("--mapping is for --check") }
        if let jobs, !(1...64).contains(jobs) { throw ValidationError("--jobs takes 1 to 64") }
    }

    func run() throws {
        let databases = try dbc.map(loadDatabase)
        let codec = DatabaseCodec(databases)
        let writer = DecodedFrameWriter(codec: codec, format: format)
        var checker: FrameChecker?
        if check {
            do {
                checker = try mapping.map { FrameChecker(mapping: try CompiledMapping.load(path: $0)) } ?? FrameChecker.forDBCFiles(dbc)
            } catch {
                printError("\(error)")
                throw ExitCode(65)
            }
            if checker?.checkedMessages == 0 { printError("vehicle-gateway: --check: no message has a check (declare them in a mapping's integrity: section)") }
        }
        let out = OutputSink()
        var reader: CandumpReader
        do {
            reader = try CandumpReader(path: log, mode: strict ? .strict : .lenient)
        } catch {
            printError("vehicle-gateway: \(error)")
            throw ExitCode(66)
        }
        reader.onMalformedLine = { printError("\($0)") }
        let threads = check ? 1 : jobs ?? ParallelDecoder.availableProcessors
        if threads > 1 {
            let decoder = ParallelDecoder(codec: codec, format: format, workers: threads)
            let outcome: ParallelDecoder.Outcome
            do {
                outcome = try decoder.run(&reader, strict: strict, write: { out.write($0) }, malformed: { printError("\($0)") })
            } catch {
                out.flush()
                printError("\(error)")
                throw ExitCode(65)
            }
            out.flush()
            if let stop = outcome.stoppedAt {
                printError("\(stop)")
                throw ExitCode(65)
            }
            let errors = outcome.errors + reader.errorCount
            if errors > 0 {
                printError("vehicle-gateway: \(errors) malformed line(s) skipped")
                throw ExitCode(65)
            }
            return
        }
        do {
            let text = format == .text
            while let f = try reader.nextFrame() {
                if checker != nil {
                    writer.append(timestamp: f.timestamp, interface: text ? reader.interfaceName(f.interface) : "", frame: f.frame,
                                  e2e: checker!.verdict(f.frame), to: out.buffer)
                } else {
                    writer.append(timestamp: f.timestamp, interface: text ? reader.interfaceName(f.interface) : "", frame: f.frame, to: out.buffer)
                }
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
