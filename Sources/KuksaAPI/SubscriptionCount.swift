import Atomics

/// Open subscriptions over every connection, against the configured limit.
final class SubscriptionCount: Sendable {
    let count = ManagedAtomic<Int>(0)

    func acquire(limit: Int) -> Bool {
        if count.loadThenWrappingIncrement(ordering: .relaxed) >= limit {
            count.wrappingDecrement(ordering: .relaxed)
            return false
        }
        return true
    }

    func release() { count.wrappingDecrement(ordering: .relaxed) }
    var current: Int { count.load(ordering: .relaxed) }
}
