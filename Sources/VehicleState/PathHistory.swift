import Atomics

/// The recent values of chosen paths, for windows over the past (a campaign's `before_s`, a
/// condition's `avg(path, 5)`): one ring per path that asks for one, written by the frame path
/// as it publishes (one writer) and read by any thread without locks. Each entry is a small
/// seqlock (sequence, frame time, value): a reader that meets an entry being overwritten has
/// reached values older than the ring holds, and stops there.
///
/// Rings are set up before the frame path starts (`keep`); paths without one cost the writer a
/// nil check.
public final class PathHistory: @unchecked Sendable {
    final class Ring {
        let capacity: Int
        let entries: UnsafeMutablePointer<UnsafeAtomic<UInt64>.Storage>  // per entry: sequence, time, value
        let written = UnsafeAtomic<UInt64>.create(0)  // entries ever written

        init(capacity: Int) {
            self.capacity = capacity
            entries = .allocate(capacity: 3 * capacity)
            entries.initialize(repeating: .init(0), count: 3 * capacity)
        }

        deinit {
            entries.deallocate()
            written.destroy()
        }

        @inline(__always) func word(_ i: Int, _ k: Int) -> UnsafeAtomic<UInt64> { UnsafeAtomic(at: entries + 3 * i + k) }
    }

    let rings: UnsafeMutablePointer<Ring?>
    public let pathCount: Int

    public init(pathCount: Int) {
        self.pathCount = pathCount
        rings = .allocate(capacity: max(1, pathCount))
        rings.initialize(repeating: nil, count: max(1, pathCount))
    }

    deinit {
        rings.deinitialize(count: max(1, pathCount))
        rings.deallocate()
    }

    /// Before the frame path starts: keep the last `capacity` values of `path` (a larger ring
    /// asked for later replaces a smaller one).
    public func keep(_ path: Int, capacity: Int) {
        guard path >= 0, path < pathCount else { return }
        if let r = rings[path], r.capacity >= capacity { return }
        rings[path] = Ring(capacity: max(16, capacity))
    }

    public func isKept(_ path: Int) -> Bool { rings[path] != nil }

    /// Writer only.
    @inline(__always)
    func append(_ path: Int, time: Int64, value: Double) {
        guard let ring = rings[path] else { return }
        let n = ring.written.load(ordering: .relaxed)
        let i = Int(n % UInt64(ring.capacity))
        let seq = ring.word(i, 0)
        seq.store(2 * n + 1, ordering: .relaxed)  // odd: being written, for the n-th value
        atomicMemoryFence(ordering: .releasing)
        ring.word(i, 1).store(UInt64(bitPattern: time), ordering: .relaxed)
        ring.word(i, 2).store(value.bitPattern, ordering: .relaxed)
        seq.store(2 * n + 2, ordering: .releasing)
        ring.written.store(n + 1, ordering: .releasing)
    }

    /// A value at its frame time (ns).
    public struct Sample: Sendable, Equatable {
        public var time: Int64
        public var value: Double
        public init(time: Int64, value: Double) { self.time = time; self.value = value }
    }

    /// The kept values of `path` with frame times in `from...to`, oldest first (empty when the
    /// path keeps none).
    public func samples(_ path: Int, from: Int64, to: Int64) -> [Sample] {
        guard path >= 0, path < pathCount, let ring = rings[path] else { return [] }
        var out: [Sample] = []
        var n = ring.written.load(ordering: .acquiring)
        while n > 0 {
            n -= 1
            let i = Int(n % UInt64(ring.capacity))
            let before = ring.word(i, 0).load(ordering: .acquiring)
            let t = Int64(bitPattern: ring.word(i, 1).load(ordering: .relaxed))
            let v = Double(bitPattern: ring.word(i, 2).load(ordering: .relaxed))
            atomicMemoryFence(ordering: .acquiring)
            // Overwritten (or being written) since: older values are gone.
            guard before == 2 * n + 2, ring.word(i, 0).load(ordering: .relaxed) == before else { break }
            if t < from { break }
            if t <= to { out.append(Sample(time: t, value: v)) }
        }
        return out.reversed()
    }
}
