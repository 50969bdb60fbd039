import CANBus
import VehicleState

/// Everything readers on other threads (the APIs, the uplink) see of a running gateway: the
/// mapping, the latest value of every path, the driving context, the clock that says what "now"
/// is in frame time, each bus's status, and the change feed. The frame path is its only writer;
/// nothing here lets a reader write to it.
public final class GatewayState: Sendable {
    public let mapping: CompiledMapping
    public let store: VehicleStateStore
    public let tracked: TrackedContext
    public let contextPaths: ContextPaths
    public let clock: FrameClock
    public let buses: BusStatusTable
    public let feed: ChangeFeed
    /// The protected messages' validity and dropped frames; implausible values per path.
    public let integrity: IntegrityStatusTable
    /// When the gateway started (wall clock ns).
    public let startedWall: Int64
    /// Consumers with health of their own (the uplink), for /healthz.
    public let consumers = ConsumerHealthRegistry()

    public init(mapping: CompiledMapping) {
        self.mapping = mapping
        store = VehicleStateStore(pathCount: mapping.paths.count)
        tracked = TrackedContext()
        contextPaths = ContextPaths(mapping: mapping)
        clock = FrameClock()
        buses = BusStatusTable(mapping: mapping.buses.map(\.name), interfaces: mapping.buses.map(\.interface))
        feed = ChangeFeed(store: store, clock: clock, tracked: tracked, contextPaths: contextPaths)
        integrity = IntegrityStatusTable(mapping: mapping)
        startedWall = SystemClock.wallNanoseconds()
    }

    /// The driving context as of the clock's now: ages grow and parts go stale while nothing arrives.
    public func context() -> DrivingContext {
        DrivingContext.read(store: store, tracked: tracked, paths: contextPaths, now: clock.now())
    }

    /// A path's latest value, with its state and age as of the clock's now.
    public struct Reading: Sendable {
        public var entry: VehicleStateStore.Entry
        public var state: ValueState
        public var ageSeconds: Double
    }

    /// A path's reading, or nil before its first value.
    public func read(_ path: Int) -> Reading? {
        guard let e = store.read(path) else { return nil }
        let now = clock.now()
        return Reading(entry: e, state: e.state(now: now), ageSeconds: e.ageSeconds(now: now))
    }

    /// Paths whose value is stale now (unavailable ones not counted).
    public func stalePathCount() -> Int {
        let now = clock.now()
        return (0..<store.pathCount).reduce(0) { $0 + (store.read($1)?.state(now: now) == .stale ? 1 : 0) }
    }
}
