import ArgumentParser
import CANBus
import VehicleState

struct StateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "state",
        abstract: "Replay a candump log through a VSS mapping and print the driving context as JSON lines.",
        discussion: """
        One JSON object per --every seconds of log time (and one at the end); with --paths, every
        mapped VSS path with its value, timestamp and state instead. Frames of every log
        interface go to the mapping's bus with that interface (or the first bus).
        """)

    @Option(name: .long, help: "The mapping file (YAML).") var mapping: String
    @Argument(help: "The candump log ('-' for standard input).") var log: String = "-"
    @Option(name: .long, help: "Print the context every this many seconds of log time (0: only at the end).") var every: Double = 1
    @Flag(name: .long, help: "Print every VSS path instead of the driving context.") var paths = false

    func run() throws {
        let compiled: CompiledMapping
        do { compiled = try CompiledMapping.load(path: mapping) } catch {
            throw CLIFailure.exit("mapping has errors:\n\(error)", code: 65)
        }
        var engine = VehicleStateEngine(mapping: compiled)
        engine.context = DrivingContextTracker(mapping: compiled)
        var busByInterface: [String: Int] = [:]
        for (i, b) in compiled.buses.enumerated() { if let name = b.interface { busByInterface[name] = i } }
        var reader: CandumpReader
        do { reader = try CandumpReader(path: log, mode: .lenient) } catch { throw CLIFailure.exit("\(error)", code: 66) }
        reader.onMalformedLine = { printError("\($0)") }
        var out = OutputSink()
        var nextPrint: Int64?
        let step = Int64(every * 1e9)
        func emit(at time: CANTimestamp) {
            if paths {
                for (i, p) in compiled.paths.enumerated() {
                    out.buffer.append("{\"time\": ")
                    out.buffer.appendTimestamp(time, minimumSecondsDigits: 1)
                    out.buffer.append(", \"path\": ")
                    out.buffer.appendJSONString(p.name)
                    if let s = engine.sample(i) {
                        out.buffer.append(", \"value\": ")
                        out.buffer.appendJSONNumber(s.value)
                        out.buffer.append(", \"timestamp\": ")
                        out.buffer.appendTimestamp(s.timestamp, minimumSecondsDigits: 1)
                    }
                    out.buffer.append(", \"state\": \"")
                    switch engine.freshness(i, now: time) {
                    case .fresh: out.buffer.append("fresh\"")
                    case .stale: out.buffer.append("stale\"")
                    case .unavailable: out.buffer.append("unavailable\"")
                    }
                    out.buffer.append("}\n")
                }
            } else {
                engine.context!.snapshot(engine, now: time).appendJSON(to: &out.buffer)
            }
            out.flushIfNeeded()
        }
        do {
            while let record = try reader.next() {
                let t = record.timestamp.totalNanoseconds
                if step > 0 {
                    if nextPrint == nil { nextPrint = t + step }
                    while let due = nextPrint, t >= due {
                        emit(at: CANTimestamp(totalNanoseconds: due))
                        nextPrint = due + step
                    }
                }
                engine.ingest(bus: busByInterface[record.interface] ?? 0, record)
            }
        } catch {
            out.flush()
            throw CLIFailure.exit("\(error)", code: 65)
        }
        if let last = engine.latestTime { emit(at: last) }
        out.flush()
    }
}
