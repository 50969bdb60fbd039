import Atomics
import CANBus
import Integrity

/// The latest value of every VSS path, written by one writer (the frame path) and read by any
/// number of readers that never wait for it: each path is a seqlock of atomic words, so a read
/// retries only if it overlapped a write of that same path. Nothing on the write path locks or
/// allocates.
///
/// Each path carries a change version (from a global counter), so a reader can tell whether a
/// value is new to it without keeping the value; the frame path's change feed says which
/// paths changed.
public final class VehicleStateStore: @unchecked Sendable {
    /// Per path: sequence (odd while writing), value bits, frame time (ns), source, change
    /// version, received time (ns), timeout (ns) of the source that supplied it, and why its
    /// message is invalid (0: it is not; else the `MessageValidity.Reason` raw value + 1).
    static let wordsPerSlot = 8
    let words: UnsafeMutablePointer<UnsafeAtomic<UInt64>.Storage>
    public let pathCount: Int
    let globalVersion = ManagedAtomic<UInt64>(0)
    /// The recent values of the paths that keep them (each new value goes in as it is published).
    public let history: PathHistory

    public init(pathCount: Int) {
        self.pathCount = pathCount
        history = PathHistory(pathCount: pathCount)
        let n = max(1, pathCount * Self.wordsPerSlot)
        words = .allocate(capacity: n)
        words.initialize(repeating: UnsafeAtomic<UInt64>.Storage(0), count: n)
    }

    deinit { words.deallocate() }

    @inline(__always) func word(_ path: Int, _ k: Int) -> UnsafeAtomic<UInt64> {
        UnsafeAtomic(at: words + path * Self.wordsPerSlot + k)
    }

    /// Writer only. Publishes a new sample for `path`.
    @inline(__always)
    public func publish(_ path: Int, value: Double, timestampNanoseconds: Int64, source: Int,
                        receivedNanoseconds: Int64 = 0, timeoutNanoseconds: Int64 = .max, notify: Bool = true) {
        let seq = word(path, 0)
        let s = seq.load(ordering: .relaxed)
        seq.store(s &+ 1, ordering: .relaxed)  // odd: writing
        atomicMemoryFence(ordering: .releasing)
        word(path, 1).store(value.bitPattern, ordering: .relaxed)
        word(path, 2).store(UInt64(bitPattern: timestampNanoseconds), ordering: .relaxed)
        word(path, 3).store(UInt64(source) &+ 1, ordering: .relaxed)  // 0 = never written
        word(path, 5).store(UInt64(bitPattern: receivedNanoseconds), ordering: .relaxed)
        word(path, 6).store(UInt64(bitPattern: timeoutNanoseconds), ordering: .relaxed)
        word(path, 7).store(0, ordering: .relaxed)
        if notify {
            let version = globalVersion.wrappingIncrementThenLoad(ordering: .relaxed)
            word(path, 4).store(version, ordering: .relaxed)
        }
        seq.store(s &+ 2, ordering: .releasing)
        if notify { history.append(path, time: timestampNanoseconds, value: value) }
    }

    /// Writer only. Marks `path`'s value invalid (its message failed its integrity checks) or
    /// valid again (`reason` nil), keeping the value and its time; readers see it as a change.
    public func setInvalid(_ path: Int, _ reason: MessageValidity.Reason?) {
        let seq = word(path, 0)
        let s = seq.load(ordering: .relaxed)
        seq.store(s &+ 1, ordering: .relaxed)
        atomicMemoryFence(ordering: .releasing)
        word(path, 7).store(reason.map { UInt64($0.rawValue) + 1 } ?? 0, ordering: .relaxed)
        word(path, 4).store(globalVersion.wrappingIncrementThenLoad(ordering: .relaxed), ordering: .relaxed)
        seq.store(s &+ 2, ordering: .releasing)
    }

    public struct Entry: Sendable, Equatable {
        public var value: Double
        public var timestampNanoseconds: Int64
        public var source: Int
        public var version: UInt64
        /// When the gateway received it (wall clock ns).
        public var receivedNanoseconds: Int64 = 0
        /// Silence after which it is stale (its source's timeout, learned or configured).
        public var timeoutNanoseconds: Int64 = .max
        /// Why the message it comes from failed its integrity or plausibility checks, if it did.
        public var invalidReason: MessageValidity.Reason? = nil

        /// Fresh, stale or invalid as of `now` (frame time, ns): readers need nothing but the entry.
        @inline(__always)
        public func state(now: Int64) -> ValueState {
            invalidReason != nil ? .invalid : ValueState.of(ageNanoseconds: now - timestampNanoseconds, timeoutNanoseconds: timeoutNanoseconds)
        }

        /// Seconds since the value's frame, as of `now` (frame time, ns).
        @inline(__always)
        public func ageSeconds(now: Int64) -> Double { Double(now - timestampNanoseconds) / 1e9 }
    }

    /// Any thread. The latest entry of `path`, or nil if it was never written.
    @inline(__always)
    public func read(_ path: Int) -> Entry? {
        let seq = word(path, 0)
        while true {
            let before = seq.load(ordering: .acquiring)
            if before & 1 == 1 { continue }  // a write is in progress: it takes nanoseconds
            let value = word(path, 1).load(ordering: .relaxed)
            let time = word(path, 2).load(ordering: .relaxed)
            let source = word(path, 3).load(ordering: .relaxed)
            let version = word(path, 4).load(ordering: .relaxed)
            let received = word(path, 5).load(ordering: .relaxed)
            let timeout = word(path, 6).load(ordering: .relaxed)
            let invalid = word(path, 7).load(ordering: .relaxed)
            atomicMemoryFence(ordering: .acquiring)
            if seq.load(ordering: .relaxed) == before {
                guard source != 0 else { return nil }
                return Entry(value: Double(bitPattern: value), timestampNanoseconds: Int64(bitPattern: time),
                             source: Int(source - 1), version: version, receivedNanoseconds: Int64(bitPattern: received),
                             timeoutNanoseconds: Int64(bitPattern: timeout),
                             invalidReason: invalid == 0 ? nil : MessageValidity.Reason(rawValue: UInt8(truncatingIfNeeded: invalid - 1)))
            }
        }
    }

    /// The change version of one path (0 before its first value).
    @inline(__always) public func version(of path: Int) -> UInt64 { word(path, 4).load(ordering: .acquiring) }

    /// The version of the newest change (0 before any).
    public var version: UInt64 { globalVersion.load(ordering: .acquiring) }
}
