import Foundation
import Synchronization
import VehicleState

/// Fans one change signal out to every subscriber (VISS connections, SSE streams, MCP
/// sessions). One thread waits on the gateway's `ChangeSignal`; each subscriber gets an
/// AsyncStream that holds at most one pending wake-up, so a slow subscriber coalesces
/// changes instead of queueing them, and never slows the frame path.
public final class ChangeHub: @unchecked Sendable {
    public let live: LiveVehicleState
    let subscribers = Mutex<[Int: AsyncStream<Void>.Continuation]>([:])
    let nextID = Mutex(0)
    let stopped = Mutex(false)
    var thread: Thread?

    public init(live: LiveVehicleState) {
        self.live = live
    }

    public var subscriberCount: Int { subscribers.withLock { $0.count } }

    /// A stream that yields after values or the context changed (and every `heartbeat`
    /// interval regardless, so time-based work and staleness move on while nothing arrives).
    public func subscribe() -> AsyncStream<Void> {
        let id = nextID.withLock { $0 += 1; return $0 }
        let (stream, continuation) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        continuation.onTermination = { [weak self] _ in
            _ = self?.subscribers.withLock { $0.removeValue(forKey: id) }
        }
        subscribers.withLock { $0[id] = continuation }
        return stream
    }

    public func start() {
        let t = Thread { [self] in run() }
        t.name = "change-hub"
        t.start()
        thread = t
    }

    public func stop() { stopped.withLock { $0 = true } }

    func run() {
        var seenValues = live.store.version
        var seenContext = live.context.version
        var lastBeat = Date()
        var lastBroadcast = Date.distantPast
        while !stopped.withLock({ $0 }) {
            // Nobody listening: no wake-ups from the frame path at all. At high frame rates,
            // at most one broadcast a millisecond (subscribers coalesce anyway).
            let listening = subscriberCount > 0
            live.changes.wait(timeoutMilliseconds: listening ? 100 : 20, arm: listening) {
                live.store.version != seenValues || live.context.version != seenContext
            }
            let sinceLast = Date().timeIntervalSince(lastBroadcast)
            if sinceLast < 0.001 { usleep(UInt32((0.001 - sinceLast) * 1e6)) }
            let v = live.store.version, c = live.context.version
            let beat = Date().timeIntervalSince(lastBeat) >= 0.1
            guard v != seenValues || c != seenContext || beat else { continue }
            seenValues = v
            seenContext = c
            if beat { lastBeat = Date() }
            lastBroadcast = Date()
            for c in subscribers.withLock({ Array($0.values) }) { c.yield(()) }
        }
        // Finish outside the lock: finishing runs onTermination, which takes the lock.
        let all = subscribers.withLock { s in defer { s.removeAll() }; return Array(s.values) }
        for c in all { c.finish() }
    }
}
