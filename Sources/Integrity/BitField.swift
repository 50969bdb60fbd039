/// Where an unsigned field sits in a payload, in DBC terms: start bit, size and byte order.
///
/// Little endian (Intel, DBC `@1`): `startBit` is the least significant bit, bits numbered
/// `byte * 8 + bit` with bit 0 the LSB of a byte. Big endian (Motorola, DBC `@0`): `startBit` is
/// the most significant bit in the same numbering, and the field runs towards bit 0 of that byte
/// then on into the next byte's bit 7 (the "sawtooth" numbering opendbc and cantools use).
/// Reading and writing mirror opendbc's `get_raw_value`/`set_value`: bits that fall outside the
/// payload are skipped.
public struct BitField: Hashable, Sendable {
    public var startBit: Int
    public var size: Int
    public var isLittleEndian: Bool
    /// Lowest-order bit's position (opendbc `lsb`).
    public let lsb: Int
    /// Highest-order bit's position (opendbc `msb`).
    public let msb: Int

    public init(startBit: Int, size: Int, isLittleEndian: Bool) {
        precondition(size >= 1 && size <= 64, "field size must be 1...64 bits")
        self.startBit = startBit
        self.size = size
        self.isLittleEndian = isLittleEndian
        if isLittleEndian {
            lsb = startBit
            msb = startBit + size - 1
        } else {
            let index = (startBit / 8) * 8 + (7 - startBit % 8) + size - 1
            lsb = (index / 8) * 8 + (7 - index % 8)
            msb = startBit
        }
    }

    /// An AUTOSAR-style field: `offset` bits from the start (bit 0 = LSB of byte 0), little endian.
    public static func autosar(offset: Int, size: Int) -> BitField {
        BitField(startBit: offset, size: size, isLittleEndian: true)
    }

    /// A field that is exactly one whole byte at `byte`.
    @inlinable public var isWholeByte: Bool { size == 8 && lsb % 8 == 0 }
    /// Bytes the field spans must all be inside a payload of this many bytes.
    public var requiredBytes: Int { max(lsb, msb) / 8 + 1 }

    /// The unsigned value of the field in `payload`.
    @inlinable
    public func read(_ payload: UnsafeRawBufferPointer) -> UInt64 {
        var ret: UInt64 = 0
        var i = msb / 8
        var bits = size
        while i >= 0 && i < payload.count && bits > 0 {
            let lo = (lsb / 8) == i ? lsb : i * 8
            let hi = (msb / 8) == i ? msb : (i + 1) * 8 - 1
            let n = hi - lo + 1
            let d = (UInt64(payload[i]) >> UInt64(lo - i * 8)) & ((1 << UInt64(n)) - 1)
            ret |= d << UInt64(bits - n)
            bits -= n
            i = isLittleEndian ? i - 1 : i + 1
        }
        return ret
    }

    /// Writes the low `size` bits of `value` into the field.
    @inlinable
    public func write(_ value: UInt64, into payload: UnsafeMutableRawBufferPointer) {
        var v = size < 64 ? value & ((1 << UInt64(size)) - 1) : value
        var i = lsb / 8
        var bits = size
        while i >= 0 && i < payload.count && bits > 0 {
            let shift = (lsb / 8) == i ? lsb % 8 : 0
            let n = min(bits, 8 - shift)
            let mask = UInt8(truncatingIfNeeded: ((1 << UInt64(n)) - 1) << UInt64(shift))
            payload[i] = (payload[i] & ~mask) | (UInt8(truncatingIfNeeded: v << UInt64(shift)) & mask)
            bits -= n
            v >>= UInt64(n)
            i = isLittleEndian ? i + 1 : i - 1
        }
    }
}
