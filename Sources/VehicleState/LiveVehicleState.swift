import Atomics
import CANBus
#if canImport(Glibc)
import Glibc
#endif

/// Everything readers on other threads (the API) see of a running gateway: the store, the
/// driving context, the clock that says what "now" is in frame time, per-bus counters and a
/// signal that something changed. One thread (the frame path) writes; readers never lock it.
public final class LiveVehicleState: @unchecked Sendable {
    public let mapping: CompiledMapping
    public let store: VehicleStateStore
    public let clock = FrameClock()
    public let buses: [BusCounters]
    /// Raised (cheaply, and only when someone waits) after values or the context changed.
    public let changes = ChangeSignal()
    let published: ManagedAtomic<PublishedContext>
    /// Log lines that could not be parsed (replay sources).
    public let malformedLines = ManagedAtomic<UInt64>(0)

    public init(mapping: CompiledMapping, store: VehicleStateStore) {
        self.mapping = mapping
        self.store = store
        buses = mapping.buses.map { BusCounters(name: $0.name, interface: $0.interface) }
        published = ManagedAtomic(PublishedContext(context: nil, version: 0))
    }

    /// Writer only: makes `context` the current driving context.
    public func publish(_ context: DrivingContext) {
        let previous = published.load(ordering: .relaxed)
        published.store(PublishedContext(context: context, version: previous.version &+ 1), ordering: .releasing)
        changes.signal()
    }

    /// The latest published driving context (nil before the first frame).
    public var context: PublishedContext { published.load(ordering: .acquiring) }

    /// The context as of the clock's now: ages grow and parts go stale while nothing arrives.
    public func currentContext() -> DrivingContext? {
        context.context?.aged(to: CANTimestamp(totalNanoseconds: clock.now(), fractionDigits: 6))
    }

    /// A path's entry and its freshness as of the clock's now.
    public func read(_ path: Int) -> (entry: VehicleStateStore.Entry, state: DrivingContext.State, ageSeconds: Double)? {
        guard let e = store.read(path) else { return nil }
        let age = clock.now() - e.timestampNanoseconds
        let state: DrivingContext.State = age > e.timeoutNanoseconds ? .stale : .fresh
        return (e, state, Double(age) / 1e9)
    }
}

/// One published driving context; replaced whole, so a reader never sees half of one.
public final class PublishedContext: AtomicReference, Sendable {
    public let context: DrivingContext?
    /// Increases with every publication.
    public let version: UInt64
    init(context: DrivingContext?, version: UInt64) {
        self.context = context
        self.version = version
    }
}

/// Frame time "now": the wall clock for live buses; for a replay, the log's time advancing
/// with the wall clock at the replay speed; for a replay as fast as possible, the newest frame.
public final class FrameClock: Sendable {
    final class Anchor: AtomicReference, Sendable {
        let frame: Int64, wall: Int64, rate: Double
        init(frame: Int64, wall: Int64, rate: Double) { self.frame = frame; self.wall = wall; self.rate = rate }
    }
    let anchor = ManagedAtomic(Anchor(frame: 0, wall: 0, rate: 1))
    /// The newest frame time (ns), kept by the writer.
    let latest = ManagedAtomic<Int64>(0)

    public init() {}

    /// Frame time `frame` corresponds to wall time `wall` and advances `rate` times as fast
    /// (0: frozen at the newest frame).
    public func anchor(frame: Int64, wall: Int64 = FrameClock.wallNanoseconds(), rate: Double) {
        anchor.store(Anchor(frame: frame, wall: wall, rate: rate), ordering: .releasing)
    }

    @inline(__always) public func noteFrame(_ nanoseconds: Int64) {
        if nanoseconds > latest.load(ordering: .relaxed) { latest.store(nanoseconds, ordering: .relaxed) }
    }

    public var newestFrame: Int64 { latest.load(ordering: .relaxed) }

    public func now() -> Int64 {
        let a = anchor.load(ordering: .acquiring)
        if a.rate == 0 { return latest.load(ordering: .relaxed) }
        return a.frame + Int64(Double(Self.wallNanoseconds() - a.wall) * a.rate)
    }

    public static func wallNanoseconds() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
    }
}

/// Per-bus counters, written by the frame path with plain loads and stores (one writer).
public final class BusCounters: Sendable {
    public enum State: UInt64, Sendable { case unknown, up, down, busOff, errorPassive, ended }
    public let name: String
    public let interface: String?
    public let frames = ManagedAtomic<UInt64>(0)
    /// Frames whose id is not in the bus's DBC files.
    public let unknownFrames = ManagedAtomic<UInt64>(0)
    /// Frames shorter than their message, so some signals could not be decoded.
    public let shortFrames = ManagedAtomic<UInt64>(0)
    public let errorFrames = ManagedAtomic<UInt64>(0)
    public let kernelDrops = ManagedAtomic<UInt64>(0)
    let stateWord = ManagedAtomic<UInt64>(State.unknown.rawValue)
    /// Wall time (ns) of the last frame.
    public let lastFrameWall = ManagedAtomic<Int64>(0)
    /// Why the bus is down, when it is.
    let reasonBox = ManagedAtomic(ReasonBox(""))

    final class ReasonBox: AtomicReference, Sendable { let text: String; init(_ t: String) { text = t } }

    init(name: String, interface: String?) {
        self.name = name
        self.interface = interface
    }

    @inline(__always) public func add(_ counter: ManagedAtomic<UInt64>, _ n: UInt64 = 1) {
        counter.store(counter.load(ordering: .relaxed) &+ n, ordering: .relaxed)
    }

    public var state: State { State(rawValue: stateWord.load(ordering: .relaxed)) ?? .unknown }
    public var reason: String { reasonBox.load(ordering: .acquiring).text }
    /// What feeds the bus: "socketcan vcan0", "replay DBC/demo_drive.log at 1x".
    public var source: String { sourceBox.load(ordering: .acquiring).text }
    public func describeSource(_ text: String) { sourceBox.store(ReasonBox(text), ordering: .releasing) }
    let sourceBox = ManagedAtomic(ReasonBox(""))

    public func set(_ state: State, reason: String = "") {
        reasonBox.store(ReasonBox(reason), ordering: .releasing)
        stateWord.store(state.rawValue, ordering: .relaxed)
    }
}

/// A wake-up from the writer to one waiting reader thread, through a pipe. The writer pays
/// one atomic load per change and a write(2) only when the reader is actually asleep.
public final class ChangeSignal: @unchecked Sendable {
    let readFD: Int32, writeFD: Int32
    let armed = ManagedAtomic<Bool>(false)

    public init() {
        var fds: [Int32] = [-1, -1]
        _ = pipe(&fds)
        readFD = fds[0]
        writeFD = fds[1]
        for fd in fds {
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        }
    }
    deinit { close(readFD); close(writeFD) }

    @inline(__always) public func signal() {
        guard armed.load(ordering: .sequentiallyConsistent),
              armed.exchange(false, ordering: .sequentiallyConsistent) else { return }
        var one: UInt8 = 1
        _ = write(writeFD, &one, 1)
    }

    /// Sleeps until signalled or `timeoutMilliseconds` pass, unless `changed()` (checked after
    /// arming, so no signal is missed) says there is already something to do.
    public func wait(timeoutMilliseconds: Int32, arm: Bool = true, unless changed: () -> Bool) {
        guard arm else {
            // Nobody to wake for: sleep without asking the writer for a signal.
            var p = pollfd(fd: readFD, events: Int16(POLLIN), revents: 0)
            _ = poll(&p, 1, timeoutMilliseconds)
            return
        }
        armed.store(true, ordering: .sequentiallyConsistent)
        if changed() { armed.store(false, ordering: .relaxed); return }
        var p = pollfd(fd: readFD, events: Int16(POLLIN), revents: 0)
        if poll(&p, 1, timeoutMilliseconds) > 0 {
            var drain = (UInt64(0), UInt64(0))
            _ = read(readFD, &drain, 16)
        }
        armed.store(false, ordering: .relaxed)
    }
}
