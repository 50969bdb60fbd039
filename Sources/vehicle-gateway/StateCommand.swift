import ArgumentParser
import CANBus
import CANLog
import Gateway
import VehicleState

struct StateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "state",
        abstract: "Replay a candump log through a VSS mapping and print the driving context as JSON lines.",
        discussion: """
        One JSON object per --every seconds of log time (and one at the end); with --paths, every
        mapped VSS path with its value, timestamp and state instead. Frames go to the mapping's
        bus whose interface they came from (--bus IFACE=BUS assigns others).
        """)

    @Option(name: .long, help: "The mapping file (YAML).") var mapping: String
    @Argument(help: "The candump log ('-' for standard input).") var log: String = "-"
    @Option(name: .long, help: "Print the context every this many seconds of log time (0: only at the end).") var every: Double = 1
    @Flag(name: .long, help: "Print every VSS path instead of the driving context.") var paths = false
    @Option(name: .long, help: ArgumentHelp("Frames of this interface belong to this bus: can3=powertrain; repeatable.", valueName: "iface=bus"))
    var bus: [String] = []

    func run() throws {
        let compiled: CompiledMapping
        do { compiled = try CompiledMapping.load(path: mapping) } catch {
            throw CLIFailure.exit("mapping has errors:\n\(error)", code: 65)
        }
        var assignments: [String: String] = [:]
        for b in bus { let p = b.split(separator: "="); if p.count == 2 { assignments[String(p[0])] = String(p[1]) } }
        let buses: BusResolver
        do { buses = try BusResolver(mapping: compiled, assignments: assignments) } catch { throw CLIFailure.exit("\(error)", code: 64) }
        var options = ReplaySource.Options(logs: [log])
        options.fast = true
        let state = GatewayState(mapping: compiled)
        var sink = StatePrinter(path: FramePath(state: state, control: FramePathControl(onMalformedLine: { printError("\($0)") })),
                                step: Int64(every * 1e9), paths: paths)
        do { try ReplaySource(options, buses: buses).run(into: &sink) } catch {
            sink.out.flush()
            throw CLIFailure.exit("\(error)", code: (error as? CANIOError).map { if case .system = $0 { 66 } else { 65 } } ?? 65)
        }
        if sink.frames > 0 { sink.emit(at: state.clock.newestFrame) }
        sink.out.flush()
    }
}

/// The frame path, and the context (or every path) printed at steps of log time.
struct StatePrinter: FrameSink {
    var path: FramePath
    let step: Int64
    let paths: Bool
    let out = OutputSink()
    var line = TextBuffer(capacity: 1024)
    var nextPrint: Int64?
    var frames = 0

    mutating func deliver(_ frame: BusFrame) {
        frames += 1
        if step > 0 {
            if nextPrint == nil { nextPrint = frame.timestamp + step }
            while let due = nextPrint, frame.timestamp >= due {
                emit(at: due)
                nextPrint = due + step
            }
        }
        path.deliver(frame)
    }

    mutating func begin(_ timeline: FrameTimeline) { path.begin(timeline) }
    mutating func busEvent(_ event: BusEvent, bus: Int) { path.busEvent(event, bus: bus) }
    mutating func malformedLine(_ diagnostic: Diagnostic) { path.malformedLine(diagnostic) }
    var shouldStop: Bool { false }

    /// The state as of frame time `now` (ns).
    mutating func emit(at now: Int64) {
        let state = path.state
        let time = CANTimestamp(totalNanoseconds: now, fractionDigits: 6)
        if paths {
            for (i, p) in state.mapping.paths.enumerated() {
                line.removeAll()
                line.append("{\"time\": ")
                line.appendTimestamp(time, minimumSecondsDigits: 1)
                line.append(", \"path\": ")
                line.appendJSONString(p.name)
                let entry = state.store.read(i)
                if let e = entry {
                    line.append(", \"value\": ")
                    line.appendJSONNumber(e.value)
                    line.append(", \"timestamp\": ")
                    line.appendTimestamp(CANTimestamp(totalNanoseconds: e.timestampNanoseconds, fractionDigits: 6), minimumSecondsDigits: 1)
                }
                line.append(", \"state\": \"")
                line.append((entry?.state(now: now) ?? .unavailable).rawValue)
                line.append("\"}\n")
                out.write(line)
            }
        } else {
            line.removeAll()
            DrivingContext.read(store: state.store, tracked: state.tracked, paths: state.contextPaths, now: now).appendJSON(to: &line)
            out.write(line)
        }
    }
}
