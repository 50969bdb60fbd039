import Atomics
import CANBus

/// What changed since a subscriber's previous batch.
public struct ChangeBatch: Sendable {
    /// Paths with a new value.
    public var changed: PathSet
    /// Paths whose state turned (fresh to stale, stale to fresh, ...), without a new value.
    public var turned: PathSet
    /// The driving context changed: an input, a derived value, or a part's state.
    public var contextChanged: Bool
    /// Wall time (ns) the feed thread first collected a change of this batch, and the consumer
    /// took it: with the frame's own arrival time they split the publish step into its parts
    /// (0 for a heartbeat).
    public var collectedNanoseconds: Int64 = 0
    public var takenNanoseconds: Int64 = 0
    /// Nothing changed: the subscription's heartbeat.
    public var isHeartbeat: Bool { changed.isEmpty && turned.isEmpty && !contextChanged }
}

/// One consumer's subscription to the change feed: an asynchronous sequence of batches, each
/// everything that changed (of what it is interested in) since the previous one. It ends when
/// the feed stops or the subscription is cancelled (or its sequence is dropped).
public final class FeedSubscription: AsyncSequence, Sendable {
    public typealias Element = ChangeBatch

    struct Pending {
        var interest: FeedInterest
        var batch: ChangeBatch
        var hasNews = false
    }

    let feed: ChangeFeed
    let pending: Locked<Pending>
    let wakeups: AsyncStream<Void>
    let wakeInput: AsyncStream<Void>.Continuation
    let minimumInterval: Int64
    let heartbeat: Int64?
    let hasPending = ManagedAtomic<Bool>(false)
    let wantsContextWord: ManagedAtomic<Bool>
    // The feed thread's own bookkeeping (only it reads and writes these).
    nonisolated(unsafe) var nextAllowed: Int64 = 0
    nonisolated(unsafe) var lastDelivered: Int64

    init(feed: ChangeFeed, pathCount: Int, interest: FeedInterest, minimumInterval: Duration, heartbeat: Duration?) {
        self.feed = feed
        let empty = ChangeBatch(changed: PathSet(count: pathCount), turned: PathSet(count: pathCount), contextChanged: false)
        pending = Locked(Pending(interest: interest, batch: empty))
        (wakeups, wakeInput) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        self.minimumInterval = Self.nanoseconds(minimumInterval)
        self.heartbeat = heartbeat.map(Self.nanoseconds)
        wantsContextWord = ManagedAtomic(interest.context)
        lastDelivered = SystemClock.monotonicNanoseconds()
        wakeInput.onTermination = { [weak self] _ in
            guard let self else { return }
            self.feed.remove(self)
        }
    }

    static func nanoseconds(_ d: Duration) -> Int64 {
        let (s, a) = d.components
        return s * 1_000_000_000 + a / 1_000_000_000
    }

    /// Changes what wakes this subscription (a VISS connection adding a subscription).
    public func update(_ change: (inout FeedInterest) -> Void) {
        pending.withLock { p in
            change(&p.interest)
            wantsContextWord.store(p.interest.context, ordering: .relaxed)
        }
    }

    /// Stops it: the sequence ends, the feed forgets it.
    public func cancel() {
        feed.remove(self)
        wakeInput.finish()
    }

    var wantsContext: Bool { wantsContextWord.load(ordering: .relaxed) }

    /// Feed thread: when it must next look at this subscription (its interval ends, or a
    /// heartbeat is due); nil: only a change matters. The end of the interval counts even with
    /// nothing pending: until then a change cannot wake the feed thread for this subscriber, so
    /// it must look again then, and sleep ready to be woken, or the first change after the
    /// interval would wait for the next state scan.
    func deadline(now: Int64) -> Int64? {
        var d: Int64?
        if nextAllowed > now { d = nextAllowed }
        if let heartbeat { d = Swift.min(d ?? .max, lastDelivered + heartbeat) }
        return d
    }

    /// Feed thread: adds what changed, as far as it interests this subscription.
    func merge(changed: PathSet?, turned: PathSet?, context: Bool) {
        pending.withLock { p in
            var news = false
            if let changed {
                if let wanted = p.interest.paths {
                    if changed.intersects(wanted) { p.batch.changed.formUnion(changed.intersection(wanted)); news = true }
                } else { p.batch.changed.formUnion(changed); news = true }
            }
            if let turned, p.interest.states {
                if let wanted = p.interest.paths {
                    if turned.intersects(wanted) { p.batch.turned.formUnion(turned.intersection(wanted)); news = true }
                } else { p.batch.turned.formUnion(turned); news = true }
            }
            if context, p.interest.context { p.batch.contextChanged = true; news = true }
            if news {
                if !p.hasNews { p.batch.collectedNanoseconds = SystemClock.wallNanoseconds() }
                p.hasNews = true
                hasPending.store(true, ordering: .relaxed)
            }
        }
    }

    /// Feed thread: wakes the consumer if something is pending and its interval is up (or its
    /// heartbeat is due).
    func deliverIfDue(now: Int64) {
        let due = hasPending.load(ordering: .relaxed) && now >= nextAllowed
        let beat = heartbeat.map { now - lastDelivered >= $0 } ?? false
        guard due || beat else { return }
        nextAllowed = now + minimumInterval
        lastDelivered = now
        wakeInput.yield(())
    }

    func finish() { wakeInput.finish() }

    /// Consumer: everything pending, and nothing pending after.
    func take() -> ChangeBatch {
        pending.withLock { p in
            var b = p.batch
            b.takenNanoseconds = SystemClock.wallNanoseconds()
            p.batch.collectedNanoseconds = 0
            p.batch.changed.removeAll()
            p.batch.turned.removeAll()
            p.batch.contextChanged = false
            p.hasNews = false
            hasPending.store(false, ordering: .relaxed)
            return b
        }
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        let subscription: FeedSubscription
        var wakeups: AsyncStream<Void>.AsyncIterator

        public mutating func next() async -> ChangeBatch? {
            guard await wakeups.next() != nil else { return nil }
            return subscription.take()
        }

        /// On the caller's actor (SE-0421): a `for await` in an actor resumes there at once,
        /// instead of on a pool thread that then hops back to the actor.
        public mutating func next(isolation actor: isolated (any Actor)?) async -> ChangeBatch? {
            guard await wakeups.next(isolation: actor) != nil else { return nil }
            return subscription.take()
        }
    }

    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(subscription: self, wakeups: wakeups.makeAsyncIterator())
    }
}
