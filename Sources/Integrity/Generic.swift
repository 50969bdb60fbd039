/// Generic integrity checks for messages that follow no named profile: any CRC over any byte
/// range with the result anywhere in the payload, and a rolling counter anywhere.

/// A CRC over a byte range of the payload, optionally preceded by a data id, compared with a
/// field of the payload.
public struct GenericCRCCheck: Sendable {
    /// Where the CRC value sits.
    public enum Location: Hashable, Sendable {
        /// Whole bytes from `byteOffset`, `(width + 7) / 8` of them, most significant first when
        /// `bigEndian` (else least significant first).
        case bytes(byteOffset: Int, bigEndian: Bool)
        /// A DBC-style bit field (start bit, size, byte order); its size should equal the width.
        case bits(BitField)
    }

    /// How a data id is fed before the payload bytes.
    public enum DataIDInclusion: Hashable, Sendable {
        case none
        /// The low `byteCount` bytes of the id, most significant first when `bigEndian`.
        case prepended(id: UInt32, byteCount: Int, bigEndian: Bool)
        /// As `prepended`, but after the covered payload bytes.
        case appended(id: UInt32, byteCount: Int, bigEndian: Bool)
    }

    public let crc: CRC
    /// First covered byte.
    public var coveredStart: Int
    /// Number of covered bytes; nil means up to the end of the payload. Bytes of the CRC field
    /// inside the covered range are skipped (for `.bytes`) or read as zero (for `.bits`).
    public var coveredCount: Int?
    public var location: Location
    public var dataID: DataIDInclusion

    public init(parameters: CRCParameters, coveredStart: Int = 0, coveredCount: Int? = nil,
                location: Location, dataID: DataIDInclusion = .none) {
        self.crc = CRC(parameters)
        self.coveredStart = coveredStart
        self.coveredCount = coveredCount
        self.location = location
        self.dataID = dataID
    }

    /// Uses an existing engine (shares its table).
    public init(crc: CRC, coveredStart: Int = 0, coveredCount: Int? = nil, location: Location, dataID: DataIDInclusion = .none) {
        self.crc = crc
        self.coveredStart = coveredStart
        self.coveredCount = coveredCount
        self.location = location
        self.dataID = dataID
    }

    @inline(__always)
    func feedID(_ r: UInt32, id: UInt32, byteCount: Int, bigEndian: Bool) -> UInt32 {
        var r = r
        for k in 0..<byteCount {
            let shift = bigEndian ? 8 * (byteCount - 1 - k) : 8 * k
            r = crc.update(r, byte: UInt8(truncatingIfNeeded: id >> UInt32(shift)))
        }
        return r
    }

    /// The CRC the payload should carry.
    public func compute(_ payload: UnsafeRawBufferPointer) -> UInt32 {
        var r = crc.begin()
        if case .prepended(let id, let n, let be) = dataID { r = feedID(r, id: id, byteCount: n, bigEndian: be) }
        let start = max(0, min(coveredStart, payload.count))
        var end = payload.count
        if let c = coveredCount { end = min(payload.count, start + max(0, c)) }
        switch location {
        case .bytes(let off, _):
            let n = (crc.parameters.width + 7) / 8
            r = crc.update(r, bytes: payload, from: start, count: min(end, off) - start)
            r = crc.update(r, bytes: payload, from: max(start, off + n), count: end - max(start, off + n))
        case .bits(let field):
            let lo = min(field.lsb, field.msb) / 8
            let hi = max(field.lsb, field.msb) / 8
            var i = start
            while i < end {
                if i >= lo && i <= hi {
                    r = crc.update(r, byte: maskedByte(payload, i, field))
                } else {
                    r = crc.update(r, byte: payload[i])
                }
                i += 1
            }
        }
        if case .appended(let id, let n, let be) = dataID { r = feedID(r, id: id, byteCount: n, bigEndian: be) }
        return crc.finish(r)
    }

    /// Byte `i` with the field's bits cleared.
    @inline(__always)
    func maskedByte(_ p: UnsafeRawBufferPointer, _ i: Int, _ field: BitField) -> UInt8 {
        // Build the mask of the field's bits inside byte i.
        var mask: UInt8 = 0
        for bit in 0..<8 where field.contains(bit: i * 8 + bit) { mask |= 1 << UInt8(bit) }
        return p[i] & ~mask
    }

    /// The CRC value stored in the payload.
    public func stored(_ payload: UnsafeRawBufferPointer) -> UInt32 {
        switch location {
        case .bytes(let off, let be):
            let n = (crc.parameters.width + 7) / 8
            var v: UInt32 = 0
            for k in 0..<n {
                let b = UInt32(payload[off + k])
                v |= be ? b << UInt32(8 * (n - 1 - k)) : b << UInt32(8 * k)
            }
            return v
        case .bits(let field):
            return UInt32(truncatingIfNeeded: field.read(payload))
        }
    }

    /// `.ok` when the stored CRC matches, `.error` otherwise (or when the payload is too short).
    public func check(_ payload: UnsafeRawBufferPointer) -> E2EStatus {
        guard payload.count >= requiredBytes else { return .error }
        return stored(payload) == compute(payload) ? .ok : .error
    }

    /// Writes the CRC into the payload.
    public func protect(_ payload: UnsafeMutableRawBufferPointer) {
        precondition(payload.count >= requiredBytes, "payload too short for the CRC field")
        let v = compute(UnsafeRawBufferPointer(payload))
        switch location {
        case .bytes(let off, let be):
            let n = (crc.parameters.width + 7) / 8
            for k in 0..<n {
                let shift = be ? 8 * (n - 1 - k) : 8 * k
                payload[off + k] = UInt8(truncatingIfNeeded: v >> UInt32(shift))
            }
        case .bits(let field):
            field.write(UInt64(v), into: payload)
        }
    }

    /// Bytes the payload needs for the CRC field.
    public var requiredBytes: Int {
        switch location {
        case .bytes(let off, _): return off + (crc.parameters.width + 7) / 8
        case .bits(let field): return field.requiredBytes
        }
    }
}

extension BitField {
    /// Whether absolute bit position `bit` (byte * 8 + bit-in-byte) belongs to the field.
    @inlinable
    public func contains(bit: Int) -> Bool {
        if isLittleEndian { return bit >= lsb && bit <= msb }
        // Big endian: walk in sawtooth order from msb.
        let first = (msb / 8) * 8 + (7 - msb % 8)
        let index = (bit / 8) * 8 + (7 - bit % 8)
        return index >= first && index < first + size
    }
}

/// A rolling counter at a bit field, with its own state. Status semantics: the first frame is
/// `.ok`; a delta (mod `modulus`) of 0 is `.repeated`; a delta that is `k * step` with
/// 1 ≤ k ≤ `maxDelta` is `.ok` (k − 1 frames lost); anything else is `.wrongSequence`. The last
/// counter is always taken over (as opendbc and AUTOSAR P04/P05 do).
public struct RollingCounter: Sendable {
    public var field: BitField
    /// Increment per frame (1 for most counters).
    public var step: UInt64
    /// Largest number of steps between two frames still `.ok`.
    public var maxDelta: UInt64
    /// Number of counter values; defaults to 2^size (use 15 for an AUTOSAR P01 counter).
    public var modulus: UInt64

    public init(field: BitField, step: UInt64 = 1, maxDelta: UInt64 = 1, modulus: UInt64? = nil) {
        precondition(field.size < 64 && step >= 1 && maxDelta >= 1)
        self.field = field
        self.step = step
        self.maxDelta = maxDelta
        self.modulus = modulus ?? (1 << UInt64(field.size))
    }

    /// Per-message state.
    public struct State: Hashable, Sendable {
        public var last: UInt64 = 0
        public var sawFirstFrame = false
        /// Frames lost before the last `.ok`.
        public var lostFrames: UInt64 = 0
        public init() {}
    }

    public func check(_ payload: UnsafeRawBufferPointer, state: inout State) -> E2EStatus {
        guard payload.count >= field.requiredBytes else { return .error }
        return check(value: field.read(payload), state: &state)
    }

    public func check(value: UInt64, state: inout State) -> E2EStatus {
        defer { state.last = value }
        guard value < modulus else { return .error }
        if !state.sawFirstFrame {
            state.sawFirstFrame = true
            state.lostFrames = 0
            return .ok
        }
        let delta = value >= state.last ? value - state.last : modulus - state.last + value
        if delta == 0 { return .repeated }
        if delta % step == 0 && delta / step <= maxDelta {
            state.lostFrames = delta / step - 1
            return .ok
        }
        return .wrongSequence
    }

    /// The value after `value`.
    public func next(_ value: UInt64) -> UInt64 { (value + step) % modulus }

    /// Writes `value` into the payload's field.
    public func write(_ value: UInt64, into payload: UnsafeMutableRawBufferPointer) {
        field.write(value, into: payload)
    }
}
