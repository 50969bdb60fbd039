import CANBus

/// What decoding found for one signal.
public enum SignalState: UInt8, Sendable {
    /// Not selected by the multiplexer values in this frame.
    case inactive = 0
    case present = 1
    /// Active, but the frame is too short to hold it.
    case missing = 2
}

/// One decoded signal: the raw bits (sign-extended for signed signals, the IEEE bit pattern
/// for floats) and the physical value.
public struct DecodedValue: Sendable {
    public var raw: UInt64 = 0
    public var physical: Double = 0
    public var state: SignalState = .inactive
    public init() {}
}

/// One signal's compiled decode step. Flat and small so a message plan is a contiguous array.
public struct SignalPlan: Sendable {
    public var layout: SignalLayout
    public enum Kind: UInt8, Sendable { case unsigned, signed, float32, float64 }
    public var kind: Kind
    public var factor: Double
    public var offset: Double
    /// Index (into the plan) of the signal's multiplexer, or -1.
    public var multiplexer: Int32
    /// This signal's multiplexer value ranges: `MessageCodec.ranges[rangeStart ..< rangeStart + rangeCount]`.
    public var rangeStart: Int32
    public var rangeCount: Int32
    /// Index of the signal in `Message.signals` (the plan itself is ordered multiplexers first).
    public var signalIndex: Int32

    /// The raw bits as a signed or unsigned integer, or the float, before scaling.
    @inlinable @inline(__always)
    public func value(ofRaw raw: UInt64) -> Double {
        switch kind {
        case .unsigned: return Double(raw)
        case .signed: return Double(Int64(bitPattern: raw))
        case .float32: return Double(Float(bitPattern: UInt32(truncatingIfNeeded: raw)))
        case .float64: return Double(bitPattern: raw)
        }
    }
}

/// A message compiled once into a decode plan: per signal, precomputed position, mask, sign
/// handling and scaling, in an order where every multiplexer precedes the signals it selects.
public struct MessageCodec: Sendable {
    public let message: Message
    public let plan: [SignalPlan]
    public let ranges: [ClosedRange<Int64>]
    /// Value labels per signal (in `Message.signals` order), keyed by the raw integer.
    public let labels: [[Int128: String]]
    /// Largest `requiredBytes` of any signal: payloads at least this long decode completely.
    public let requiredBytes: Int

    public init(message: Message) {
        self.message = message
        let signals = message.signals
        var order: [Int] = []
        var placed = [Bool](repeating: false, count: signals.count)
        var visiting = [Bool](repeating: false, count: signals.count)
        let byName = Dictionary(signals.enumerated().map { ($1.name, $0) }, uniquingKeysWith: { a, _ in a })
        func place(_ i: Int) {
            if placed[i] || visiting[i] { return }
            visiting[i] = true
            if let m = signals[i].multiplexCondition?.multiplexer, let mi = byName[m], mi != i { place(mi) }
            placed[i] = true
            order.append(i)
        }
        for i in signals.indices { place(i) }
        var planIndex = [Int](repeating: -1, count: signals.count)
        for (p, i) in order.enumerated() { planIndex[i] = p }

        var plan: [SignalPlan] = []
        var ranges: [ClosedRange<Int64>] = []
        var required = 0
        for i in order {
            let s = signals[i]
            let length = min(max(s.length, 1), 64)
            let layout = SignalLayout(startBit: max(0, min(s.startBit, 511)), length: length, byteOrder: s.byteOrder)
            let kind: SignalPlan.Kind = switch s.valueType {
            case .float32 where s.length == 32: .float32
            case .float64 where s.length == 64: .float64
            default: s.isSigned ? .signed : .unsigned
            }
            var mux: Int32 = -1
            var start = Int32(ranges.count), count: Int32 = 0
            if let c = s.multiplexCondition {
                if let mi = byName[c.multiplexer], mi != i {
                    mux = Int32(planIndex[mi])
                    ranges.append(contentsOf: c.ranges)
                    count = Int32(c.ranges.count)
                } else {
                    start = 0  // no multiplexer: never active
                    mux = -2
                }
            }
            required = max(required, Int(layout.requiredBytes))
            plan.append(SignalPlan(layout: layout, kind: kind, factor: s.factor, offset: s.offset, multiplexer: mux,
                                   rangeStart: start, rangeCount: count, signalIndex: Int32(i)))
        }
        self.plan = plan
        self.ranges = ranges
        self.requiredBytes = required
        self.labels = signals.map { s in Dictionary(s.valueLabels.map { ($0.value, $0.label) }, uniquingKeysWith: { a, _ in a }) }
    }

    /// Decodes `payload` into `out`, which holds one entry per signal in `Message.signals` order.
    /// Allocates nothing.
    @inlinable
    public func decode(_ payload: UnsafeRawBufferPointer, into out: UnsafeMutableBufferPointer<DecodedValue>) {
        // A zero-padded copy lets every signal load 9 bytes without a bounds check.
        var padded: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0, 0, 0, 0)
        let length = min(payload.count, 64)
        withUnsafeMutableBytes(of: &padded) { buffer in
            if length > 0 { buffer.baseAddress!.copyMemory(from: payload.baseAddress!, byteCount: length) }
            let base = UnsafeRawPointer(buffer.baseAddress!)
            plan.withUnsafeBufferPointer { plan in
                ranges.withUnsafeBufferPointer { ranges in
                    for p in plan {
                        let slot = Int(p.signalIndex)
                        if p.multiplexer != -1 {
                            var active = false
                            if p.multiplexer >= 0 {
                                let parent = out[Int(plan[Int(p.multiplexer)].signalIndex)]
                                if parent.state == .present {
                                    let v = Int64(bitPattern: parent.raw)
                                    var r = Int(p.rangeStart)
                                    let end = r + Int(p.rangeCount)
                                    while r < end {
                                        if ranges[r].contains(v) { active = true; break }
                                        r += 1
                                    }
                                }
                            }
                            if !active { out[slot].state = .inactive; continue }
                        }
                        if Int(p.layout.requiredBytes) > length { out[slot].state = .missing; continue }
                        var raw = p.layout.extract(base)
                        if p.kind == .signed {
                            let unused = 64 - UInt64(p.layout.length)
                            raw = UInt64(bitPattern: Int64(bitPattern: raw << unused) >> Int64(unused))
                        }
                        out[slot].raw = raw
                        out[slot].physical = p.value(ofRaw: raw) * p.factor + p.offset
                        out[slot].state = .present
                    }
                }
            }
        }
    }

    /// Convenience: decodes into a new array (allocates; use the buffer form on hot paths).
    public func decode(_ bytes: [UInt8]) -> [DecodedValue] {
        var out = [DecodedValue](repeating: DecodedValue(), count: message.signals.count)
        bytes.withUnsafeBytes { raw in out.withUnsafeMutableBufferPointer { decode(raw, into: $0) } }
        return out
    }

    /// The raw value as the integer its VAL_ keys use (signed signals sign-extended).
    public func labelKey(signal index: Int, raw: UInt64) -> Int128 {
        message.signals[index].isSigned ? Int128(Int64(bitPattern: raw)) : Int128(raw)
    }

    public func label(signal index: Int, raw: UInt64) -> String? {
        let l = labels[index]
        return l.isEmpty ? nil : l[labelKey(signal: index, raw: raw)]
    }
}
