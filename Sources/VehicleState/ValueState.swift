/// Whether a value may be presented as current. Every API, the store and the driving context
/// say it with this one enum, in these words.
public enum ValueState: String, Sendable, CaseIterable {
    /// Received within its timeout.
    case fresh
    /// Its source went quiet for longer than its timeout; the last value is kept, with its age.
    case stale
    /// Never received.
    case unavailable
    /// Received, but failed an integrity or plausibility check; not to be trusted.
    case invalid

    /// The freshness rule, the only place it is written: a value is stale once its age (frame
    /// time now minus the time of the frame it came from) exceeds its source's timeout.
    @inline(__always)
    public static func of(ageNanoseconds age: Int64, timeoutNanoseconds timeout: Int64) -> ValueState {
        age > timeout ? .stale : .fresh
    }
}
