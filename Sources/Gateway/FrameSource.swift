import CANBus

/// Where frames come from: live SocketCAN interfaces or replayed logs. A source runs on the
/// caller's thread and pushes every frame into a sink until it ends, fails or is told to stop.
/// The sink is a generic parameter, so each frame is a direct call, not a dynamic one.
public protocol FrameSource: Sendable {
    /// For people: "socketcan vcan0", "replay drive.log at 2x".
    var summary: String { get }
    /// Runs until the source ends (a replay's last pass) or `sink.shouldStop`; throws only
    /// for failures no waiting can fix (no CAN in the kernel, an unreadable log).
    func run<Sink: FrameSink>(into sink: inout Sink) throws
}

/// What a source feeds: the gateway's frame path, a CAN socket (the `replay` command), or a test.
public protocol FrameSink {
    /// Before the first frame: how frame time relates to the wall clock.
    mutating func begin(_ timeline: FrameTimeline)
    mutating func deliver(_ frame: BusFrame)
    /// Something happened to a bus: it came up, went down, dropped frames, sent an error frame.
    mutating func busEvent(_ event: BusEvent, bus: Int)
    /// The source has no frame at hand (it is about to wait, or a batch ended).
    mutating func pause()
    /// A log line could not be read; the source skipped it and goes on.
    mutating func malformedLine(_ diagnostic: Diagnostic)
    /// Checked between frames and at least every 100 ms while a source waits.
    var shouldStop: Bool { get }
}

extension FrameSink {
    public mutating func begin(_ timeline: FrameTimeline) {}
    public mutating func busEvent(_ event: BusEvent, bus: Int) {}
    public mutating func pause() {}
    public mutating func malformedLine(_ diagnostic: Diagnostic) {}
}

/// How frame time advances against the wall clock.
public enum FrameTimeline: Sendable, Equatable {
    /// Frame time is wall time (live buses).
    case live
    /// Frame time `frame` was wall time `wall` and advances `rate` times as fast (a paced replay,
    /// its frames moved to now).
    case scaled(frame: Int64, wall: Int64, rate: Double)
    /// Frame time is the newest frame's (a replay as fast as possible, keeping the log's times).
    case newestFrame
}

/// What happened to a bus, besides frames.
public enum BusEvent: Sendable {
    /// It delivers (again); `source` says from where.
    case up(source: String)
    case down(reason: String)
    /// A replay's log ended (or the source was stopped).
    case ended(reason: String)
    case busOff(reason: String)
    case errorPassive(reason: String)
    /// An error frame arrived (bus errors are counted, not decoded as data).
    case errorFrame
    /// The kernel dropped frames for want of socket buffer.
    case kernelDrops(UInt64)
}
