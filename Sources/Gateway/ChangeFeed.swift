import Atomics
import CANBus
import Foundation
import VehicleState

/// The one change feed every consumer subscribes to (SSE, VISS, MCP, and whatever comes next).
///
/// The frame path marks which paths a frame changed (an atomic OR into a bit per path) and
/// signals; nothing on its side locks or allocates. One feed thread collects the marks, notices
/// when values turn stale (or fresh again) as time passes, and hands each subscriber what it
/// asked for, coalesced: a subscriber holds at most one pending batch, merged, so a slow one
/// costs no memory and never holds anything up.
///
/// Rate limits live here and nowhere else, on the monotonic clock: a subscriber gets a change
/// at once if nothing was delivered to it within its minimum interval (coalescing never delays
/// the first change after a quiet period), otherwise when the interval is up, with everything
/// that changed meanwhile (the last value is never lost).
public final class ChangeFeed: @unchecked Sendable {
    public let pathCount: Int
    let wordCount: Int
    let dirty: UnsafeMutablePointer<UnsafeAtomic<UInt64>.Storage>
    /// Unmanaged: the frame path sets it per frame that changes the context.
    let contextDirty = UnsafeAtomic<Bool>.create(false)
    let wake = WakeSignal()
    let store: VehicleStateStore
    let clock: FrameClock
    let tracked: TrackedContext
    let contextPaths: ContextPaths
    let registry = Locked<[FeedSubscription]>([])
    let stopped = ManagedAtomic<Bool>(false)
    let started = ManagedAtomic<Bool>(false)
    /// How often values are checked for turning stale (or fresh again) while time passes.
    public static let stateScanNanoseconds: Int64 = 25_000_000

    init(store: VehicleStateStore, clock: FrameClock, tracked: TrackedContext, contextPaths: ContextPaths) {
        self.store = store
        self.clock = clock
        self.tracked = tracked
        self.contextPaths = contextPaths
        pathCount = store.pathCount
        wordCount = max(1, (store.pathCount + 63) / 64)
        dirty = .allocate(capacity: wordCount)
        dirty.initialize(repeating: UnsafeAtomic<UInt64>.Storage(0), count: wordCount)
    }

    deinit {
        dirty.deallocate()
        contextDirty.destroy()
    }

    // MARK: The frame path's side

    /// Writer: `path` has a new value.
    @inline(__always) public func markChanged(_ path: Int) {
        _ = UnsafeAtomic<UInt64>(at: dirty + (path >> 6)).loadThenBitwiseOr(with: 1 << UInt64(path & 63), ordering: .sequentiallyConsistent)
    }

    /// Writer: the driving context changed (an input, or what the tracker derives).
    @inline(__always) public func markContextChanged() { contextDirty.store(true, ordering: .sequentiallyConsistent) }

    /// Writer: after marking, wake the feed thread if it sleeps waiting for changes.
    @inline(__always) public func signal() { wake.signal() }

    // MARK: Subscribers

    /// A new subscription. `interest` says which changes wake it; `minimumInterval` how often it
    /// may be woken at most; `heartbeat`, if set, wakes it with an empty batch after that long
    /// without changes (for keep-alives).
    public func subscribe(_ interest: FeedInterest, minimumInterval: Duration = .milliseconds(1), heartbeat: Duration? = nil) -> FeedSubscription {
        let s = FeedSubscription(feed: self, pathCount: pathCount, interest: interest, minimumInterval: minimumInterval, heartbeat: heartbeat)
        registry.withLock { $0.append(s) }
        if stopped.load(ordering: .acquiring) { s.finish() }
        wakeFeedThread()  // it may sleep through changes while nobody could take them
        return s
    }

    public var subscriberCount: Int { registry.withLock { $0.count } }

    func remove(_ s: FeedSubscription) {
        registry.withLock { list in list.removeAll { $0 === s } }
    }

    // MARK: The feed thread

    public func start() {
        guard !started.exchange(true, ordering: .acquiringAndReleasing) else { return }
        let t = Thread { [self] in run() }
        t.name = "change-feed"
        t.start()
    }

    /// Ends every subscription (their sequences finish) and the feed thread.
    public func stop() {
        stopped.store(true, ordering: .releasing)
        wakeFeedThread()
        if !started.load(ordering: .acquiring) { finishAll() }
    }

    /// Ends the feed thread's sleep, armed or not.
    func wakeFeedThread() {
        wake.armed.store(true, ordering: .sequentiallyConsistent)
        wake.signal()
    }

    func anyDirty() -> Bool {
        if contextDirty.load(ordering: .sequentiallyConsistent) { return true }
        for i in 0..<wordCount where UnsafeAtomic<UInt64>(at: dirty + i).load(ordering: .sequentiallyConsistent) != 0 { return true }
        return false
    }

    func run() {
        var changed = PathSet(count: pathCount), turned = PathSet(count: pathCount)
        var lastStates = [ValueState](repeating: .unavailable, count: pathCount)
        var lastContext = ContextSignature()
        var lastScan: Int64 = 0
        while !stopped.load(ordering: .acquiring) {
            var subscribers = registry.withLock { $0 }
            var now = SystemClock.monotonicNanoseconds()
            // Sleep until the next deadline (a rate-limited subscriber's, a heartbeat, the next
            // state scan). A change ends the sleep early only if some subscriber could take it now.
            var deadline = lastScan + Self.stateScanNanoseconds
            var someoneReady = false
            for s in subscribers {
                if let d = s.deadline(now: now) { deadline = min(deadline, d) }
                if s.nextAllowed <= now { someoneReady = true }
            }
            if deadline > now {
                wake.wait(nanoseconds: deadline - now, armed: someoneReady) { anyDirty() || stopped.load(ordering: .relaxed) }
                now = SystemClock.monotonicNanoseconds()
                subscribers = registry.withLock { $0 }  // including any that came while it slept
            }
            // Collect what the frame path marked.
            changed.removeAll()
            var anyChange = false
            for i in 0..<wordCount {
                let bits = UnsafeAtomic<UInt64>(at: dirty + i).exchange(0, ordering: .sequentiallyConsistent)
                if bits != 0 { changed.words[i] = bits; anyChange = true }
            }
            var contextChanged = contextDirty.exchange(false, ordering: .sequentiallyConsistent)
            // As time passes, values turn stale without any frame: look every scan period.
            var anyTurned = false
            if now - lastScan >= Self.stateScanNanoseconds {
                lastScan = now
                turned.removeAll()
                let frameNow = clock.now()
                for p in 0..<pathCount {
                    let state = store.read(p)?.state(now: frameNow) ?? .unavailable
                    if state != lastStates[p] { lastStates[p] = state; turned.insert(p); anyTurned = true }
                }
                if subscribers.contains(where: \.wantsContext) {
                    let signature = ContextSignature(DrivingContext.read(store: store, tracked: tracked, paths: contextPaths, now: frameNow))
                    if signature != lastContext { lastContext = signature; contextChanged = true }
                }
            }
            if anyChange || anyTurned || contextChanged {
                for s in subscribers { s.merge(changed: anyChange ? changed : nil, turned: anyTurned ? turned : nil, context: contextChanged) }
            }
            for s in subscribers { s.deliverIfDue(now: now) }
        }
        finishAll()
    }

    func finishAll() {
        let all = registry.withLock { list in defer { list.removeAll() }; return list }
        for s in all { s.finish() }
    }

    /// The parts of the context whose change of state is itself news (a position going stale).
    struct ContextSignature: Equatable {
        var speed = ValueState.unavailable, location = ValueState.unavailable, gear = ValueState.unavailable
        var motion = DrivingContext.Motion.unknown
        init() {}
        init(_ c: DrivingContext) { (speed, location, gear, motion) = (c.speed.state, c.location.state, c.gear.state, c.motion) }
    }
}

/// Which changes wake a subscription.
public struct FeedInterest: Sendable {
    /// Paths whose new values matter; nil: every path; empty: none.
    public var paths: PathSet?
    /// Also when one of those paths turns stale, fresh again, or invalid.
    public var states: Bool
    /// When the driving context changes (an input, a derived value, or a part's state).
    public var context: Bool

    public init(paths: PathSet?, states: Bool, context: Bool) {
        self.paths = paths
        self.states = states
        self.context = context
    }

    public static let everything = FeedInterest(paths: nil, states: true, context: true)
    public static let contextOnly = FeedInterest(paths: PathSet(count: 0), states: false, context: true)
}
