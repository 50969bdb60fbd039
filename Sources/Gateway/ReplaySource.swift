import CANBus
import CANLog

/// Replays candump logs (plain or gzip, or standard input), merged by time, streaming: a line is
/// read only when the previous frame went through, so memory stays bounded and a piped log is
/// processed line by line as it arrives.
///
/// Paced, frames keep the log's relative timing scaled by `speed`, and (with `restamp`) their
/// times move to now, so ages and staleness behave as on a live bus; `fast` goes as fast as it
/// can with the log's own times. Passes after the first continue the timeline 10 ms after the
/// previous pass's last frame.
public struct ReplaySource: FrameSource {
    public struct Options: Sendable {
        public var logs: [String]
        /// Playback speed factor (2 = twice as fast).
        public var speed = 1.0
        /// Passes over the logs; 0 = forever (standard input is read once).
        public var passes = 1
        /// As fast as possible, with the log's own times.
        public var fast = false
        /// Paced frames take the time they are replayed at (looks live); else the log's times.
        public var restamp = true
        /// Seconds into the log to start at and to stop after (from its first frame).
        public var startOffset = 0.0
        public var stopOffset: Double?
        /// Stop at the first malformed line instead of skipping it.
        public var strict = false

        public init(logs: [String]) { self.logs = logs }
    }

    public let options: Options
    public let buses: BusResolver
    /// A paced replay wakes at most once per this (ns) and delivers what fell due meanwhile:
    /// every wake-up costs a context switch, which at 10 k frames/s would cost more than the frames.
    public static let wakeGroup: Int64 = 4_000_000

    public init(_ options: Options, buses: BusResolver) {
        self.options = options
        self.buses = buses
    }

    public var summary: String {
        "replay " + options.logs.joined(separator: ", ") + (options.fast ? " (fast)" : " at \(options.speed)x")
    }

    var readsStandardInput: Bool { options.logs.contains("-") }

    public func run<Sink: FrameSink>(into sink: inout Sink) throws {
        let wallStart = SystemClock.wallNanoseconds()
        // The pacing clock starts at the first frame, once its bus is announced (a sink opens
        // its socket then), so slow start-up work never makes every frame late.
        var monoStart: Int64?
        let restamp = options.restamp && !options.fast
        sink.begin(restamp ? .scaled(frame: wallStart, wall: wallStart, rate: options.speed) : .newestFrame)
        var announced: [Bool] = []
        var timelineStart: Int64?   // the first frame's log time, where offsets count from
        var loopOffset: Int64 = 0
        var lastWake: Int64 = 0
        var arrival = wallStart
        var sinceBeat = 0
        let fromStandardInput = readsStandardInput
        var pass = 0
        let startNs = Int64(options.startOffset * 1e9)
        let stopNs = options.stopOffset.map { Int64($0 * 1e9) }
        let malformed = MalformedLines()
        passes: while !sink.shouldStop, options.passes == 0 || pass < options.passes {
            pass += 1
            // The logs' cursors in a buffer of their own: the per-frame merge reads and writes them
            // in place, with no array copy-on-write check.
            var opened: [LogCursor] = []
            for log in options.logs { opened.append(try LogCursor(path: log, strict: options.strict, malformed: malformed)) }
            let cursors = UnsafeMutableBufferPointer<LogCursor>.allocate(capacity: opened.count)
            _ = cursors.initialize(from: opened)
            opened = []
            defer {
                for c in cursors { c.close() }
                cursors.deinitialize().deallocate()
            }
            var reportedErrors = 0
            var passFirst: Int64?, passLast: Int64 = 0
            frames: while !sink.shouldStop {
                // The earliest head among the logs; heads are read only when needed.
                var pickTime = Int64.max
                var errors = 0
                var pick = -1
                for i in cursors.indices {
                    try cursors[i].fill(buses)
                    errors += cursors[i].reader.pointee.errorCount
                    if let t = cursors[i].head?.timestamp, t < pickTime { pick = i; pickTime = t }
                }
                let next = pick >= 0 ? cursors[pick].head : nil
                if pick >= 0 { cursors[pick].head = nil }
                if errors != reportedErrors {
                    reportedErrors = errors
                    for d in malformed.take() { sink.malformedLine(d) }
                }
                guard var frame = next else { break }
                let t = pickTime
                let origin = passFirst ?? t
                if passFirst == nil { passFirst = t; if timelineStart == nil { timelineStart = t } }
                passLast = max(passLast, t)
                if t - origin < startNs { continue }
                if let stopNs, t - origin > stopNs { break frames }
                let bus = frame.bus
                if bus >= announced.count { announced += Array(repeating: false, count: bus + 1 - announced.count) }
                if !announced[bus] { announced[bus] = true; sink.busEvent(.up(source: summary), bus: bus) }
                let offset = t - timelineStart! + loopOffset - startNs
                frame.timestamp = t + loopOffset
                if options.fast {
                    // Arrival only feeds latency figures: one clock read per 256 frames of a
                    // file; per frame from standard input, where frames come as they are written.
                    sinceBeat += 1
                    if fromStandardInput { arrival = SystemClock.wallNanoseconds() }
                    if sinceBeat & 255 == 0 {
                        arrival = SystemClock.wallNanoseconds()
                        if sinceBeat >= 1 << 16 { sinceBeat = 0; sink.pause() }
                    }
                } else {
                    if monoStart == nil { monoStart = SystemClock.monotonicNanoseconds() - Int64(Double(offset) / options.speed) }
                    let due = monoStart! + Int64(Double(offset) / options.speed)
                    if due > lastWake {
                        // Not due yet: sleep until `wakeGroup` after it, so the frames due in that
                        // time go through on one wake-up (never early; their times are the log's).
                        sink.pause()
                        while !sink.shouldStop {
                            let now = SystemClock.monotonicNanoseconds()
                            if now >= due { lastWake = now; break }
                            SystemClock.sleep(nanoseconds: min(due - now + Self.wakeGroup, 100_000_000))
                            sink.pause()
                        }
                        arrival = SystemClock.wallNanoseconds()
                    }
                    if restamp { frame.timestamp = wallStart + offset }
                }
                frame.arrival = arrival
                sink.deliver(frame)
            }
            if let first = passFirst { loopOffset += passLast - first + 10_000_000 }
            if readsStandardInput { break passes }
        }
        for (bus, seen) in announced.enumerated() where seen {
            sink.busEvent(.ended(reason: sink.shouldStop ? "stopped" : "replay finished"), bus: bus)
        }
    }
}

/// Why a replay stopped early.
public enum ReplayError: Error, CustomStringConvertible {
    /// A log line's interface maps to no bus.
    case unmappedInterface(Diagnostic)

    public var description: String {
        switch self {
        case .unmappedInterface(let d): return d.description
        }
    }
}

/// Malformed lines the readers skipped, until the replay passes them to its sink.
final class MalformedLines: @unchecked Sendable {
    var items: [Diagnostic] = []
    @inline(__always) func take() -> [Diagnostic] {
        guard !items.isEmpty else { return [] }
        defer { items.removeAll() }
        return items
    }
}

/// One log being replayed, with the next frame read ahead and already on its bus. Plain data:
/// the reader and the interface-to-bus table live behind pointers the cursor owns (`close`
/// frees them), so the merge reads and writes cursors with no reference counting.
struct LogCursor {
    let reader: UnsafeMutablePointer<CandumpReader>
    /// Per interface number of this log: its bus + 1 (0: not resolved yet).
    let busOfInterface: UnsafeMutablePointer<Int32>
    /// Where the reader writes each frame in place.
    let scratch: UnsafeMutablePointer<LogFrame>
    var head: BusFrame?
    var ended = false

    init(path: String, strict: Bool, malformed: MalformedLines) throws(CANIOError) {
        var r = try CandumpReader(path: path, mode: strict ? .strict : .lenient)
        r.onMalformedLine = { malformed.items.append($0) }
        reader = .allocate(capacity: 1)
        reader.initialize(to: r)
        busOfInterface = .allocate(capacity: InterfaceNames.limit)
        busOfInterface.initialize(repeating: 0, count: InterfaceNames.limit)
        scratch = .allocate(capacity: 1)
        scratch.initialize(to: LogFrame())
    }

    func close() {
        reader.deinitialize(count: 1).deallocate()
        busOfInterface.deallocate()
        scratch.deinitialize(count: 1).deallocate()
    }

    /// Reads the next frame into `head` unless one is waiting (nil head after: the end).
    /// An interface that maps to no bus stops the replay with its place in the log.
    @inline(__always)
    mutating func fill(_ buses: borrowing BusResolver) throws {
        guard head == nil, !ended else { return }
        guard try reader.pointee.nextFrame(into: &scratch.pointee) else { ended = true; return }
        let f = scratch
        var bus = busOfInterface[Int(f.pointee.interface)]
        if bus == 0 { bus = try resolve(f.pointee.interface, buses) }
        head = BusFrame(bus: Int(bus) - 1, timestamp: f.pointee.timestamp.totalNanoseconds, arrival: 0, frame: f.pointee.frame)
    }

    func resolve(_ number: Int32, _ buses: borrowing BusResolver) throws -> Int32 {
        let name = reader.pointee.interfaceName(number)
        guard let bus = buses.bus(of: name) else {
            throw ReplayError.unmappedInterface(Diagnostic(file: reader.pointee.fileName, line: reader.pointee.lineNumber, column: 1,
                                                           message: buses.unmapped(name)))
        }
        busOfInterface[Int(number)] = Int32(bus) + 1
        return Int32(bus) + 1
    }
}
