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
///
/// Decoding reads every signal as an Intel one: Motorola signals are read from a byte-reversed
/// copy of the payload, where their bits run contiguously from least to most significant. So
/// the loop is the same load, shift and mask for both byte orders, with no branch on the order.
public struct SignalPlan: Sendable {
    public enum Kind: UInt8, Sendable { case integer, unsigned64, float32, float64 }

    /// Byte offset of the 8-byte load in the chosen buffer (0 = payload, 1 = reversed payload).
    public var byte: Int32
    public var buffer: UInt8
    public var shift: UInt8
    /// `64 - length` for signed signals (sign extension by shifting), 0 otherwise.
    public var signShift: UInt8
    public var kind: Kind
    public var requiredBytes: UInt8
    /// For a classic payload (at most 8 bytes, read as one word): the shift of the signal's
    /// least significant bit in that word (Intel) or in the byte-swapped word (Motorola).
    public var classicShift: UInt8
    public var mask: UInt64
    public var factor: Double
    public var offset: Double
    /// Index (into the plan) of the signal's multiplexer; -1 none; -2 a multiplexer that does not exist.
    public var multiplexer: Int32
    /// This signal's multiplexer value ranges: `ranges[rangeStart ..< rangeStart + rangeCount]`.
    public var rangeStart: Int32
    public var rangeCount: Int32
    /// Index of the signal in `Message.signals` (the plan itself is ordered multiplexers first).
    public var signalIndex: Int32
    /// Where the bits are in wire terms, for encoding and inspection.
    public var layout: SignalLayout

    init(layout: SignalLayout, kind: Kind, isSigned: Bool, factor: Double, offset: Double,
         multiplexer: Int32, rangeStart: Int32, rangeCount: Int32, signalIndex: Int32) {
        self.layout = layout
        if layout.isBigEndian {
            // Linear big-endian index of the LSB; in the reversed 72-byte window bit q lands at 575 - q.
            let lsb = Int(layout.byte) * 8 + 71 - Int(layout.shift)
            let start = 575 - lsb
            byte = Int32(start / 8)
            shift = UInt8(start % 8)
            buffer = 1
        } else {
            byte = layout.byte
            shift = layout.shift
            buffer = 0
        }
        self.kind = kind
        signShift = isSigned && kind == .integer ? 64 - layout.length : 0
        requiredBytes = layout.requiredBytes
        // The reversed window holds a classic payload's swapped word at byte 64; a signal within
        // the first 8 bytes lies in that word (one beyond them is never decoded from 8 bytes).
        let inWord = buffer == 1 ? (Int(byte) - 64) * 8 + Int(shift) : Int(byte) * 8 + Int(shift)
        classicShift = layout.requiredBytes <= 8 ? UInt8(clamping: max(0, inWord)) : 0
        mask = layout.mask
        self.factor = factor
        self.offset = offset
        self.multiplexer = multiplexer
        self.rangeStart = rangeStart
        self.rangeCount = rangeCount
        self.signalIndex = signalIndex
    }

    /// The raw bits as a signed or unsigned integer, or the float, before scaling.
    @inlinable @inline(__always)
    public func value(ofRaw raw: UInt64) -> Double {
        switch kind {
        case .integer: return Double(Int64(bitPattern: raw))
        case .unsigned64: return Double(raw)
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
            default: !s.isSigned && length == 64 ? .unsigned64 : .integer
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
            plan.append(SignalPlan(layout: layout, kind: kind, isSigned: s.isSigned, factor: s.factor, offset: s.offset,
                                   multiplexer: mux, rangeStart: start, rangeCount: count, signalIndex: Int32(i)))
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
        plan.withUnsafeBufferPointer { plan in
            ranges.withUnsafeBufferPointer { ranges in
                Self.decode(payload, plan: plan, ranges: ranges, into: out)
            }
        }
    }

    /// The decode loop over a plan and its multiplexer ranges (`rangeStart` indexes `ranges`).
    @inlinable
    public static func decode(_ payload: UnsafeRawBufferPointer, plan: UnsafeBufferPointer<SignalPlan>,
                              ranges: UnsafeBufferPointer<ClosedRange<Int64>>, into out: UnsafeMutableBufferPointer<DecodedValue>) {
        // Two zero-padded 80-byte buffers: the payload, and the payload's first 72 bytes reversed.
        // A classic frame (at most 8 bytes, nearly all traffic) fills one word of each with a
        // load and a byte swap instead of a memcpy call.
        if payload.count <= 8 {
            decodeClassic(payload, plan: plan, ranges: ranges, into: out)
            return
        }
        var forward: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var reversed: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        let length = min(payload.count, 64)
        withUnsafeMutableBytes(of: &forward) { fwd in
          withUnsafeMutableBytes(of: &reversed) { rev in
            let f = fwd.baseAddress!.assumingMemoryBound(to: UInt64.self)
            let r = rev.baseAddress!.assumingMemoryBound(to: UInt64.self)
            if length == 8 {
                f[0] = payload.loadUnaligned(as: UInt64.self)
                r[8] = f[0].byteSwapped
            } else if length < 8 {
                var word: UInt64 = 0
                for k in 0..<length { word |= UInt64(payload[k]) &<< UInt64(8 * k) }
                f[0] = word.littleEndian
                r[8] = f[0].byteSwapped
            } else {
                fwd.baseAddress!.copyMemory(from: payload.baseAddress!, byteCount: length)
                for k in 0..<((length + 7) >> 3) { r[8 - k] = f[k].byteSwapped }
            }
            let bases = (UnsafeRawPointer(f), UnsafeRawPointer(r))
            // Fields are read through the pointer: only those used are loaded, the plan entry is not copied.
            for pi in plan.indices {
                let p = plan.baseAddress! + pi
                let slot = Int(p.pointee.signalIndex)
                if p.pointee.multiplexer != -1, !isActive(p, plan: plan, ranges: ranges, out) { out[slot].state = .inactive; continue }
                if Int(p.pointee.requiredBytes) > length { out[slot].state = .missing; continue }
                let at = (p.pointee.buffer == 0 ? bases.0 : bases.1) + Int(p.pointee.byte)
                let s = UInt64(p.pointee.shift)
                let low = UInt64(littleEndian: at.loadUnaligned(as: UInt64.self)) &>> s
                // The ninth byte's bits, when the signal reaches it (shift 0 contributes nothing).
                let high = (UInt64(at.load(fromByteOffset: 8, as: UInt8.self)) &<< 1) &<< (63 &- s)
                store(p, bits: (low | high) & p.pointee.mask, into: &out[slot])
            }
          }
        }
    }

    /// A classic payload (nearly all traffic): the whole payload is one word and its byte swap,
    /// so a signal is a shift and a mask of one of the two, with nothing copied or zeroed.
    @inlinable @inline(__always)
    static func decodeClassic(_ payload: UnsafeRawBufferPointer, plan: UnsafeBufferPointer<SignalPlan>,
                              ranges: UnsafeBufferPointer<ClosedRange<Int64>>, into out: UnsafeMutableBufferPointer<DecodedValue>) {
        let length = payload.count
        var le: UInt64 = 0
        if length == 8 {
            le = UInt64(littleEndian: payload.loadUnaligned(as: UInt64.self))
        } else {
            for k in 0..<length { le |= UInt64(payload[k]) &<< UInt64(8 * k) }
        }
        // The swapped word puts byte 0 at the top, as the reversed window's word at byte 64 does.
        let be = le.byteSwapped
        for pi in plan.indices {
            let p = plan.baseAddress! + pi
            let slot = Int(p.pointee.signalIndex)
            if p.pointee.multiplexer != -1, !isActive(p, plan: plan, ranges: ranges, out) { out[slot].state = .inactive; continue }
            if Int(p.pointee.requiredBytes) > length { out[slot].state = .missing; continue }
            let word = p.pointee.buffer == 0 ? le : be
            store(p, bits: (word &>> UInt64(p.pointee.classicShift)) & p.pointee.mask, into: &out[slot])
        }
    }

    /// Whether a multiplexed signal's multiplexer (decoded before it: the plan puts multiplexers
    /// first) holds one of its values.
    @inlinable @inline(__always)
    static func isActive(_ p: UnsafePointer<SignalPlan>, plan: UnsafeBufferPointer<SignalPlan>,
                         ranges: UnsafeBufferPointer<ClosedRange<Int64>>, _ out: UnsafeMutableBufferPointer<DecodedValue>) -> Bool {
        guard p.pointee.multiplexer >= 0 else { return false }
        let parent = out[Int(plan[Int(p.pointee.multiplexer)].signalIndex)]
        guard parent.state == .present else { return false }
        let v = Int64(bitPattern: parent.raw)
        var i = Int(p.pointee.rangeStart)
        let end = i + Int(p.pointee.rangeCount)
        while i < end {
            if ranges[i].contains(v) { return true }
            i += 1
        }
        return false
    }

    /// Sign extension and scaling of a signal's masked bits.
    @inlinable @inline(__always)
    static func store(_ p: UnsafePointer<SignalPlan>, bits: UInt64, into value: inout DecodedValue) {
        let ss = UInt64(p.pointee.signShift)
        let raw = UInt64(bitPattern: Int64(bitPattern: bits &<< ss) &>> Int64(ss))
        value.raw = raw
        let v = p.pointee.kind == .integer ? Double(Int64(bitPattern: raw)) : p.pointee.value(ofRaw: raw)
        value.physical = v * p.pointee.factor + p.pointee.offset
        value.state = .present
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
