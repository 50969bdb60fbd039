import Atomics
import CANBus

/// Frame time "now", for readers on any thread: the wall clock on live buses; in a paced
/// replay, the log's time advancing with the wall clock at the replay speed; in a replay as
/// fast as possible, the newest frame's time. Ages and staleness are measured against it.
public final class FrameClock: Sendable {
    final class Anchor: AtomicReference, Sendable {
        let timeline: FrameTimeline
        init(_ timeline: FrameTimeline) { self.timeline = timeline }
    }
    let anchor = ManagedAtomic(Anchor(.live))
    /// The newest frame time (ns), kept by the writer (an unmanaged atomic: the frame path
    /// touches it per frame).
    let latest = UnsafeAtomic<Int64>.create(0)

    public init() {}
    deinit { latest.destroy() }

    public func start(_ timeline: FrameTimeline) { anchor.store(Anchor(timeline), ordering: .releasing) }

    /// Writer only.
    @inline(__always) public func noteFrame(_ nanoseconds: Int64) {
        if nanoseconds > latest.load(ordering: .relaxed) { latest.store(nanoseconds, ordering: .relaxed) }
    }

    public var newestFrame: Int64 { latest.load(ordering: .relaxed) }

    /// Frame time now (ns).
    public func now() -> Int64 {
        switch anchor.load(ordering: .acquiring).timeline {
        case .live: return SystemClock.wallNanoseconds()
        case .newestFrame: return latest.load(ordering: .relaxed)
        case .scaled(let frame, let wall, let rate): return frame + Int64(Double(SystemClock.wallNanoseconds() - wall) * rate)
        }
    }
}
