#if canImport(Glibc)
import Glibc
#endif

/// The two clocks the gateway reads, in one place: monotonic for intervals, deadlines and rate
/// limits (never jumps), wall (CLOCK_REALTIME) for timestamps people and logs compare.
public enum SystemClock {
    /// Nanoseconds on CLOCK_MONOTONIC: only differences mean anything.
    @inline(__always)
    public static func monotonicNanoseconds() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Int64(ts.tv_sec) &* 1_000_000_000 &+ Int64(ts.tv_nsec)
    }

    /// Nanoseconds since the Unix epoch (CLOCK_REALTIME).
    @inline(__always)
    public static func wallNanoseconds() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) &* 1_000_000_000 &+ Int64(ts.tv_nsec)
    }

    /// CPU time (ns) the calling thread has used.
    public static func threadCPUNanoseconds() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
        return Int64(ts.tv_sec) &* 1_000_000_000 &+ Int64(ts.tv_nsec)
    }

    /// Seconds on the monotonic clock, for human-scale intervals.
    public static func monotonicSeconds() -> Double { Double(monotonicNanoseconds()) / 1e9 }

    /// The wall clock as a frame timestamp (6 fractional digits, as SocketCAN's are written).
    public static func wallTimestamp() -> CANTimestamp { CANTimestamp(totalNanoseconds: wallNanoseconds(), fractionDigits: 6) }

    /// Sleeps until the monotonic clock reads `deadline` (ns); signals do not cut it short.
    public static func sleep(untilMonotonic deadline: Int64) {
        var ts = timespec(tv_sec: Int(deadline / 1_000_000_000), tv_nsec: Int(deadline % 1_000_000_000))
        while clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nil) == EINTR {}
    }

    /// Sleeps for `nanoseconds` on the monotonic clock.
    public static func sleep(nanoseconds: Int64) {
        guard nanoseconds > 0 else { return }
        sleep(untilMonotonic: monotonicNanoseconds() &+ nanoseconds)
    }
}
