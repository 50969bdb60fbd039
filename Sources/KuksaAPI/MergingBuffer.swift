import Gateway
import KuksaProtos

/// A subscription's outgoing messages, at most `capacity` waiting. When one more comes, the two
/// oldest are merged (a path in both keeps its newer datapoint) instead of one being dropped, so
/// memory stays bounded and a slow client still gets every path's last value.
final class MergingBuffer: Sendable {
    typealias Entries = [(Int, Kuksa_Val_V2_Datapoint)]
    struct State {
        var messages: [Entries] = []
        var waiter: CheckedContinuation<Entries?, Never>?
        var finished = false
    }
    let capacity: Int
    let state = Locked(State())

    init(capacity: Int) { self.capacity = capacity }

    func push(_ entries: Entries) {
        let waiter = state.withLock { s -> CheckedContinuation<Entries?, Never>? in
            guard !s.finished else { return nil }
            if let w = s.waiter { s.waiter = nil; return w }
            s.messages.append(entries)
            if s.messages.count > capacity { Self.mergeOldest(&s.messages) }
            return nil
        }
        waiter?.resume(returning: entries)
    }

    /// The oldest message; nil once finished.
    func pop() async -> Entries? {
        await withCheckedContinuation { (c: CheckedContinuation<Entries?, Never>) in
            let ready: Entries?? = state.withLock { s in
                if !s.messages.isEmpty { return .some(s.messages.removeFirst()) }
                if s.finished { return .some(nil) }
                s.waiter = c
                return nil
            }
            if let ready { c.resume(returning: ready) }
        }
    }

    func finish() {
        let waiter = state.withLock { s -> CheckedContinuation<Entries?, Never>? in
            s.finished = true
            defer { s.waiter = nil }
            return s.waiter
        }
        waiter?.resume(returning: nil)
    }

    static func mergeOldest(_ messages: inout [Entries]) {
        let newer = messages.remove(at: 1)
        var merged = messages[0]
        for (path, d) in newer {
            if let k = merged.firstIndex(where: { $0.0 == path }) { merged[k].1 = d } else { merged.append((path, d)) }
        }
        messages[0] = merged
    }
}
