#if canImport(Glibc)
import Glibc
#endif
import Atomics
import CSocketCAN

/// Wakes one sleeping thread from the frame path. The frame path pays one atomic load per
/// signal, and a write(2) only when the other thread is actually asleep waiting for it.
final class WakeSignal: @unchecked Sendable {
    let fd: Int32
    /// Unmanaged: the frame path reads it per signal.
    let armed = UnsafeAtomic<Bool>.create(false)

    init() {
        fd = vg_eventfd()
        precondition(fd >= 0, "eventfd failed: errno \(-fd)")
    }
    deinit {
        close(fd)
        armed.destroy()
    }

    /// Writer: wakes the sleeper, if it sleeps armed.
    @inline(__always) func signal() {
        guard armed.load(ordering: .sequentiallyConsistent), armed.exchange(false, ordering: .sequentiallyConsistent) else { return }
        var one: UInt64 = 1
        _ = write(fd, &one, 8)
    }

    /// Sleeper: sleeps up to `nanoseconds`; armed, a `signal()` ends the sleep, unless `ready()`
    /// (checked after arming, so no signal is missed) says there is already something to do.
    /// Unarmed, it sleeps the whole time and the frame path pays nothing (another thread may
    /// still end the sleep by arming and signalling).
    func wait(nanoseconds: Int64, armed arm: Bool, unless ready: () -> Bool) {
        if arm {
            armed.store(true, ordering: .sequentiallyConsistent)
            if ready() { armed.store(false, ordering: .relaxed); return }
        }
        if vg_wait_readable(fd, nanoseconds) > 0 {
            var drain: UInt64 = 0
            _ = read(fd, &drain, 8)
        }
        armed.store(false, ordering: .relaxed)
    }
}
