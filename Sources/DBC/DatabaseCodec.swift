import CANBus

/// All messages of one or more databases compiled for decoding, with constant-time lookup by id.
/// A class: it is immutable and large, so sharing it costs one reference, not a copy of its arrays.
public final class DatabaseCodec: @unchecked Sendable {  // immutable after init; its buffers are only read
    public let codecs: [MessageCodec]
    /// Standard ids index a direct table; extended ids an open-addressing hash table.
    @usableFromInline let standard: [Int32]
    @usableFromInline let extendedKeys: [UInt32]
    @usableFromInline let extendedValues: [Int32]
    @usableFromInline let extendedMask: Int
    /// The most signals any message has: the size a decode buffer needs.
    public let maxSignalCount: Int
    /// Every message's plan and ranges in flat buffers allocated once, so decoding by index
    /// touches no per-message object and no array (copying a `MessageCodec` would retain its
    /// arrays and strings; an array property would be retained for each access).
    @usableFromInline let plans: UnsafeMutablePointer<SignalPlan>
    @usableFromInline let ranges: UnsafeMutablePointer<ClosedRange<Int64>>
    @usableFromInline let spans: UnsafeMutablePointer<(planStart: Int32, planCount: Int32)>
    @usableFromInline let counts: (plans: Int, ranges: Int, spans: Int)
    @usableFromInline let lengths: [Int32]

    public init(_ databases: [Database]) {
        var codecs: [MessageCodec] = []
        var standard = [Int32](repeating: -1, count: 2048)
        var extended: [(UInt32, Int32)] = []
        var seen = Set<CANID>()
        for db in databases {
            for m in db.messages where !seen.contains(m.id) {
                seen.insert(m.id)  // the first database that defines an id wins
                let index = Int32(codecs.count)
                codecs.append(MessageCodec(message: m))
                if m.id.isExtended { extended.append((m.id.value, index)) }
                else if m.id.value < 2048 { standard[Int(m.id.value)] = index }
            }
        }
        var capacity = 16
        while capacity < extended.count * 2 { capacity <<= 1 }
        var keys = [UInt32](repeating: UInt32.max, count: capacity)
        var values = [Int32](repeating: -1, count: capacity)
        for (key, value) in extended {
            var slot = Self.hash(key) & (capacity - 1)
            while keys[slot] != UInt32.max { slot = (slot + 1) & (capacity - 1) }
            keys[slot] = key
            values[slot] = value
        }
        var plans: [SignalPlan] = []
        var ranges: [ClosedRange<Int64>] = []
        var spans: [(planStart: Int32, planCount: Int32)] = []
        for c in codecs {
            spans.append((Int32(plans.count), Int32(c.plan.count)))
            let base = Int32(ranges.count)
            plans.append(contentsOf: c.plan.map { p in var p = p; p.rangeStart += base; return p })
            ranges.append(contentsOf: c.ranges)
        }
        func copy<T>(_ a: [T]) -> UnsafeMutablePointer<T> {
            let p = UnsafeMutablePointer<T>.allocate(capacity: max(1, a.count))
            p.initialize(from: a, count: a.count)
            return p
        }
        self.plans = copy(plans)
        self.ranges = copy(ranges)
        self.spans = copy(spans)
        counts = (plans.count, ranges.count, spans.count)
        lengths = codecs.map { Int32($0.message.length) }
        self.codecs = codecs
        self.standard = standard
        self.extendedKeys = keys
        self.extendedValues = values
        self.extendedMask = capacity - 1
        self.maxSignalCount = codecs.map { $0.message.signals.count }.max() ?? 0
    }

    public convenience init(_ database: Database) { self.init([database]) }

    deinit {
        plans.deinitialize(count: counts.plans).deallocate()
        ranges.deinitialize(count: counts.ranges).deallocate()
        spans.deinitialize(count: counts.spans).deallocate()
    }

    @inlinable @inline(__always)
    static func hash(_ key: UInt32) -> Int { Int(truncatingIfNeeded: (UInt64(key) &* 0x9E37_79B9_7F4A_7C15) >> 32) }

    /// The index into `codecs` for an id, or nil.
    @inlinable @inline(__always)
    public func index(of id: CANID) -> Int? {
        if !id.isExtended {
            guard id.value < 2048 else { return nil }
            let i = standard.withUnsafeBufferPointer { $0[Int(id.value)] }
            return i < 0 ? nil : Int(i)
        }
        return extendedKeys.withUnsafeBufferPointer { keys -> Int? in
            var slot = Self.hash(id.value) & extendedMask
            while true {
                let k = keys[slot]
                if k == id.value { return Int(extendedValues[slot]) }
                if k == UInt32.max { return nil }
                slot = (slot + 1) & extendedMask
            }
        }
    }

    public func codec(for id: CANID) -> MessageCodec? { index(of: id).map { codecs[$0] } }

    /// The DLC length of the message at `index`, without touching its description.
    @inlinable @inline(__always)
    public func messageLength(at index: Int) -> Int { Int(lengths[index]) }

    /// Decodes a payload of the message at `index` (from `index(of:)`); `out` needs room for
    /// that message's signals, in `Message.signals` order. Allocates and retains nothing.
    @inlinable
    public func decode(messageAt index: Int, _ payload: UnsafeRawBufferPointer, into out: UnsafeMutableBufferPointer<DecodedValue>) {
        let span = spans[index]
        MessageCodec.decode(payload, plan: UnsafeBufferPointer(start: plans + Int(span.planStart), count: Int(span.planCount)),
                            ranges: UnsafeBufferPointer(start: ranges, count: counts.ranges), into: out)
    }
}
