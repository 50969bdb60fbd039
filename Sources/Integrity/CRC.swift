/// Table-driven CRCs of any width from 1 to 32 bits, in the parametrised model of the
/// CRC RevEng catalogue (width, poly, init, refin, refout, xorout).
///
/// The 256-entry table is built once when a `CRC` is made; computing a CRC afterwards touches no
/// heap. Make engines once (at configuration time) and keep them: copying a `CRC` shares its table.

/// The parameters of one CRC algorithm, as the RevEng catalogue writes them.
public struct CRCParameters: Hashable, Sendable {
    /// Width in bits, 1...32.
    public var width: Int
    /// The generator polynomial without its top bit, unreflected (as in the catalogue).
    public var poly: UInt32
    /// The register's initial value, unreflected.
    public var initial: UInt32
    /// Value XORed into the final register.
    public var xorOut: UInt32
    /// Bytes are fed least significant bit first.
    public var reflectIn: Bool
    /// The final register is bit-reversed before `xorOut`.
    public var reflectOut: Bool

    public init(width: Int, poly: UInt32, initial: UInt32, xorOut: UInt32, reflectIn: Bool, reflectOut: Bool) {
        precondition((1...32).contains(width), "CRC width must be 1...32")
        let mask: UInt32 = width == 32 ? .max : (1 << UInt32(width)) - 1
        self.width = width
        self.poly = poly & mask
        self.initial = initial & mask
        self.xorOut = xorOut & mask
        self.reflectIn = reflectIn
        self.reflectOut = reflectOut
    }

    /// All ones of `width` bits.
    public var mask: UInt32 { width == 32 ? .max : (1 << UInt32(width)) - 1 }

    // MARK: Named presets (RevEng catalogue names in the comments)

    /// CRC-8/SAE-J1850: AUTOSAR `Crc_CalculateCRC8`; E2E Profile 1 uses the same polynomial with
    /// start 0x00 and no final XOR (see `crc8SAEJ1850ZeroInit`). Check 0x4B.
    public static let crc8SAEJ1850 = CRCParameters(width: 8, poly: 0x1D, initial: 0xFF, xorOut: 0xFF, reflectIn: false, reflectOut: false)
    /// Poly 0x1D, start 0x00, no final XOR: the effective CRC of AUTOSAR E2E Profile 1
    /// (RevEng: CRC-8/GSM-A, check 0x37).
    public static let crc8SAEJ1850ZeroInit = CRCParameters(width: 8, poly: 0x1D, initial: 0x00, xorOut: 0x00, reflectIn: false, reflectOut: false)
    /// CRC-8/AUTOSAR: `Crc_CalculateCRC8H2F` (poly 0x2F, start 0xFF, xor 0xFF), E2E Profile 2 and
    /// Volkswagen MQB/MEB. Check 0xDF.
    public static let crc8H2F = CRCParameters(width: 8, poly: 0x2F, initial: 0xFF, xorOut: 0xFF, reflectIn: false, reflectOut: false)
    /// CRC-16/IBM-3740 (alias CRC-16/AUTOSAR, CRC-16/CCITT-FALSE): `Crc_CalculateCRC16`, E2E
    /// Profile 5. Check 0x29B1.
    public static let crc16CCITTFalse = CRCParameters(width: 16, poly: 0x1021, initial: 0xFFFF, xorOut: 0x0000, reflectIn: false, reflectOut: false)
    /// CRC-16/XMODEM (poly 0x1021, start 0, no xor); Hyundai/Kia CAN FD (opendbc). Check 0x31C3.
    public static let crc16XMODEM = CRCParameters(width: 16, poly: 0x1021, initial: 0x0000, xorOut: 0x0000, reflectIn: false, reflectOut: false)
    /// CRC-16/KERMIT (CCITT-TRUE, reflected). Check 0x2189.
    public static let crc16Kermit = CRCParameters(width: 16, poly: 0x1021, initial: 0x0000, xorOut: 0x0000, reflectIn: true, reflectOut: true)
    /// CRC-16/ARC (reflected 0x8005). Check 0xBB3D.
    public static let crc16ARC = CRCParameters(width: 16, poly: 0x8005, initial: 0x0000, xorOut: 0x0000, reflectIn: true, reflectOut: true)
    /// CRC-16/MODBUS. Check 0x4B37.
    public static let crc16Modbus = CRCParameters(width: 16, poly: 0x8005, initial: 0xFFFF, xorOut: 0x0000, reflectIn: true, reflectOut: true)
    /// CRC-32/AUTOSAR: `Crc_CalculateCRC32P4`, E2E Profile 4. Check 0x1697D06A.
    public static let crc32P4 = CRCParameters(width: 32, poly: 0xF4AC_FB13, initial: 0xFFFF_FFFF, xorOut: 0xFFFF_FFFF, reflectIn: true, reflectOut: true)
    /// CRC-32/ISO-HDLC (the IEEE 802.3 / zlib CRC-32). Check 0xCBF43926.
    public static let crc32 = CRCParameters(width: 32, poly: 0x04C1_1DB7, initial: 0xFFFF_FFFF, xorOut: 0xFFFF_FFFF, reflectIn: true, reflectOut: true)
    /// CRC-32/ISCSI (Castagnoli, CRC-32C). Check 0xE3069283.
    public static let crc32C = CRCParameters(width: 32, poly: 0x1EDC_6F41, initial: 0xFFFF_FFFF, xorOut: 0xFFFF_FFFF, reflectIn: true, reflectOut: true)
    /// CRC-32/MPEG-2. Check 0x0376E6E7.
    public static let crc32MPEG2 = CRCParameters(width: 32, poly: 0x04C1_1DB7, initial: 0xFFFF_FFFF, xorOut: 0x0000_0000, reflectIn: false, reflectOut: false)
    /// CRC-15/CAN (the CAN 2.0 frame CRC). Check 0x059E.
    public static let crc15CAN = CRCParameters(width: 15, poly: 0x4599, initial: 0, xorOut: 0, reflectIn: false, reflectOut: false)
    /// CRC-8/SMBUS (poly 0x07). Check 0xF4.
    public static let crc8SMBus = CRCParameters(width: 8, poly: 0x07, initial: 0, xorOut: 0, reflectIn: false, reflectOut: false)
    /// CRC-8/MAXIM-DOW (1-Wire). Check 0xA1.
    public static let crc8MaximDOW = CRCParameters(width: 8, poly: 0x31, initial: 0, xorOut: 0, reflectIn: true, reflectOut: true)
    /// CRC-8/DVB-S2 (poly 0xD5, start 0): the polynomial of the comma body checksum (opendbc). Check 0xBC.
    public static let crc8DVBS2 = CRCParameters(width: 8, poly: 0xD5, initial: 0, xorOut: 0, reflectIn: false, reflectOut: false)
    /// CRC-4/G-704 (ITU). Check 0x7.
    public static let crc4G704 = CRCParameters(width: 4, poly: 0x3, initial: 0, xorOut: 0, reflectIn: true, reflectOut: true)
    /// CRC-12/DECT. Check 0xF5B.
    public static let crc12DECT = CRCParameters(width: 12, poly: 0x80F, initial: 0, xorOut: 0, reflectIn: false, reflectOut: false)
    /// CRC-24/OPENPGP. Check 0x21CF02.
    public static let crc24OpenPGP = CRCParameters(width: 24, poly: 0x86_4CFB, initial: 0xB7_04CE, xorOut: 0, reflectIn: false, reflectOut: false)
}

/// A CRC engine: parameters plus a 256-entry table built once.
///
/// Incremental use: `var r = crc.begin(); r = crc.update(r, bytes: a); r = crc.update(r, byte: b);
/// let value = crc.finish(r)`. The register value between calls is in the engine's internal form
/// (reflected, or left-aligned to 32 bits when unreflected); only `finish` gives the CRC.
public struct CRC: Sendable {
    public let parameters: CRCParameters
    @usableFromInline let table: [UInt32]
    @usableFromInline let start: UInt32

    public init(_ parameters: CRCParameters) {
        self.parameters = parameters
        let w = parameters.width
        var t = [UInt32](repeating: 0, count: 256)
        if parameters.reflectIn {
            let rpoly = CRC.reflect(parameters.poly, width: w)
            for i in 0..<256 {
                var c = UInt32(i)
                for _ in 0..<8 { c = (c & 1) != 0 ? (c >> 1) ^ rpoly : c >> 1 }
                t[i] = c
            }
            start = CRC.reflect(parameters.initial, width: w)
        } else {
            let poly32 = parameters.poly << UInt32(32 - w)
            for i in 0..<256 {
                var c = UInt32(i) << 24
                for _ in 0..<8 { c = (c & 0x8000_0000) != 0 ? (c << 1) ^ poly32 : c << 1 }
                t[i] = c
            }
            start = parameters.initial << UInt32(32 - w)
        }
        table = t
    }

    /// The register before any byte.
    @inlinable public func begin() -> UInt32 { start }

    /// Feeds one byte.
    @inlinable
    public func update(_ register: UInt32, byte: UInt8) -> UInt32 {
        if parameters.reflectIn {
            return table[Int((register ^ UInt32(byte)) & 0xFF)] ^ (register >> 8)
        } else {
            return table[Int((register >> 24) ^ UInt32(byte))] ^ (register << 8)
        }
    }

    /// Feeds the bytes of `bytes`.
    @inlinable
    public func update(_ register: UInt32, bytes: UnsafeRawBufferPointer) -> UInt32 {
        var r = register
        table.withUnsafeBufferPointer { t in
            if parameters.reflectIn {
                for b in bytes { r = t[Int((r ^ UInt32(b)) & 0xFF)] ^ (r >> 8) }
            } else {
                for b in bytes { r = t[Int((r >> 24) ^ UInt32(b))] ^ (r << 8) }
            }
        }
        return r
    }

    /// Feeds `count` bytes of `bytes` starting at `offset` (clipped to the buffer).
    @inlinable
    public func update(_ register: UInt32, bytes: UnsafeRawBufferPointer, from offset: Int, count: Int) -> UInt32 {
        let lo = max(0, min(offset, bytes.count))
        let hi = max(lo, min(offset + count, bytes.count))
        return update(register, bytes: UnsafeRawBufferPointer(rebasing: bytes[lo..<hi]))
    }

    /// The CRC value of a register: reflected as `refout` asks, XORed with `xorout`.
    @inlinable
    public func finish(_ register: UInt32) -> UInt32 {
        let w = parameters.width
        var r = parameters.reflectIn ? register : register >> UInt32(32 - w)
        if parameters.reflectIn != parameters.reflectOut { r = CRC.reflect(r, width: w) }
        return (r ^ parameters.xorOut) & parameters.mask
    }

    /// The CRC of `bytes`.
    @inlinable
    public func compute(bytes: UnsafeRawBufferPointer) -> UInt32 {
        finish(update(begin(), bytes: bytes))
    }

    /// The CRC of an array (convenience for tests and set-up code; allocation-free for the caller's array).
    public func compute(_ bytes: [UInt8]) -> UInt32 {
        bytes.withUnsafeBytes { compute(bytes: $0) }
    }

    /// The low `width` bits of `value`, bit-reversed.
    @inlinable
    public static func reflect(_ value: UInt32, width: Int) -> UInt32 {
        value.bitReversed >> UInt32(32 - width)
    }
}

extension UInt32 {
    @usableFromInline var bitReversed: UInt32 {
        var v = self
        v = ((v >> 1) & 0x5555_5555) | ((v & 0x5555_5555) << 1)
        v = ((v >> 2) & 0x3333_3333) | ((v & 0x3333_3333) << 2)
        v = ((v >> 4) & 0x0F0F_0F0F) | ((v & 0x0F0F_0F0F) << 4)
        return v.byteSwapped
    }
}

extension CRC {
    /// Engines for the named presets, built once per process. Read them at configuration time and
    /// store the engine (reading a `static let` costs a once-check).
    public static let crc8SAEJ1850 = CRC(.crc8SAEJ1850)
    public static let crc8SAEJ1850ZeroInit = CRC(.crc8SAEJ1850ZeroInit)
    public static let crc8H2F = CRC(.crc8H2F)
    public static let crc16CCITTFalse = CRC(.crc16CCITTFalse)
    public static let crc16XMODEM = CRC(.crc16XMODEM)
    public static let crc32P4 = CRC(.crc32P4)
    public static let crc32 = CRC(.crc32)
    public static let crc8DVBS2 = CRC(.crc8DVBS2)
}
