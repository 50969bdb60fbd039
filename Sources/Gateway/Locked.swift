import Glibc

/// A value behind a pthread mutex, for the consumers of the change feed (never the frame
/// path's per-frame work). Not `Synchronization.Mutex`: on Linux its futex lock is invisible to
/// ThreadSanitizer (Swift 6.3), which then reports every guarded access as a race and would hide
/// a real one; pthread locks are intercepted, and uncontended they cost the same.
public final class Locked<Value>: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private var value: Value

    public init(_ value: Value) {
        mutex = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
        self.value = value
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    public func withLock<R>(_ body: (inout Value) throws -> R) rethrows -> R {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&value)
    }
}
