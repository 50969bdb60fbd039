/// Where a signal's bits are, precomputed once so decoding is a load, a shift and a mask.
///
/// Bit numbering follows DBC: for Intel (little-endian) signals the start bit is the least
/// significant bit and bit `i` is bit `i % 8` of byte `i / 8`; for Motorola (big-endian)
/// signals the start bit is the most significant bit in the same "sawtooth" numbering.
public struct SignalLayout: Sendable, Equatable {
    /// The first payload byte loaded.
    public var byte: Int32
    /// Intel: the start bit's offset in `byte`. Motorola: right shift of the 72-bit big-endian
    /// window (`byte` … `byte + 8`), 1 … 71. (`SignalPlan` turns this into its own load.)
    public var shift: UInt8
    public var length: UInt8
    public var isBigEndian: Bool
    /// Bytes a payload needs to hold the whole signal.
    public var requiredBytes: UInt8
    public var mask: UInt64

    public init(startBit: Int, length: Int, byteOrder: ByteOrder) {
        precondition(length >= 1 && length <= 64)
        self.length = UInt8(length)
        mask = length == 64 ? .max : (1 << UInt64(length)) - 1
        switch byteOrder {
        case .littleEndian:
            isBigEndian = false
            byte = Int32(startBit / 8)
            shift = UInt8(startBit % 8)
            requiredBytes = UInt8((startBit + length - 1) / 8 + 1)
        case .bigEndian:
            isBigEndian = true
            let msb = (startBit / 8) * 8 + (7 - startBit % 8)  // linear big-endian bit index
            let lsb = msb + length - 1
            byte = Int32(msb / 8)
            let lsbInWindow = lsb - Int(byte) * 8  // 0 … 70 within the 72-bit window
            shift = UInt8(71 - lsbInWindow)
            requiredBytes = UInt8(lsb / 8 + 1)
        }
    }

    /// Writes `raw`'s low `length` bits into the payload (which must hold `requiredBytes`).
    public func insert(_ raw: UInt64, into p: UnsafeMutableRawBufferPointer) {
        for j in 0..<Int(length) {
            let bit = (raw >> UInt64(j)) & 1
            let (index, bitInByte) = position(ofBit: j)
            if bit == 1 { p[index] |= 1 << bitInByte } else { p[index] &= ~(1 << bitInByte) }
        }
    }

    /// Reads bit by bit: the slow, obviously right reference the fast path is tested against.
    public func extractBitwise(_ p: UnsafeRawBufferPointer) -> UInt64 {
        var v: UInt64 = 0
        for j in 0..<Int(length) {
            let (index, bitInByte) = position(ofBit: j)
            v |= UInt64((p[index] >> bitInByte) & 1) << UInt64(j)
        }
        return v
    }

    /// Payload byte and bit of the signal's bit `j` (0 = least significant).
    func position(ofBit j: Int) -> (Int, UInt8) {
        if !isBigEndian {
            let p = Int(byte) * 8 + Int(shift) + j
            return (p / 8, UInt8(p % 8))
        }
        let lsb = Int(byte) * 8 + 71 - Int(shift)
        let q = lsb - j
        return (q / 8, UInt8(7 - q % 8))
    }
}

extension SignalLayout {
    /// Payload byte and bit (0 = least significant) of the signal's bit `j`, 0 being its LSB.
    public func bitPosition(_ j: Int) -> (byte: Int, bit: UInt8) {
        let (byte, bit) = position(ofBit: j)
        return (byte, bit)
    }
}
