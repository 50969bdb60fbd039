/// The car checksum families of opendbc 0.3.1 (PyPI `opendbc`), computed exactly as its Python
/// parser and packer do (`opendbc/can/dbc.py` picks the family; the functions live in
/// `opendbc/car/<brand>/*can.py` and `opendbc/car/crc.py`).
///
/// How opendbc decides: the DBC's name (file name without `.dbc`) is matched by prefix
/// (`get_checksum_state`); within such a DBC a signal named exactly `CHECKSUM` gets the family's
/// checksum function and one named exactly `COUNTER` is a counter (Tesla's `tesla_model3_party`
/// also takes names ending in `Checksum`/`Counter`). A DBC whose name matches no prefix has no
/// checksums or counters checked at all.

/// An opendbc checksum family.
public enum ChecksumFamily: String, Sendable, CaseIterable {
    case honda
    case toyota
    case hkgCANFD
    case volkswagenMQB
    case volkswagenMLB
    case volkswagenPQ
    case subaru
    case chrysler
    case fcaGiorgio
    case body
    case tesla
    case psa

    /// The family opendbc 0.3.1 gives a DBC, from its file name (a path and `.dbc` are stripped),
    /// with the same prefixes in the same order as `get_checksum_state`: `honda_`/`acura_` →
    /// honda; `toyota_`/`lexus_` → toyota; `hyundai_canfd_generated` → hkgCANFD;
    /// `vw_mqb`/`vw_mqbevo`/`vw_meb` → volkswagenMQB; `vw_mlb` → volkswagenMLB; `vw_pq` →
    /// volkswagenPQ; `subaru_global_` → subaru; `chrysler_` → chrysler; `fca_giorgio` →
    /// fcaGiorgio; `comma_body` → body; `tesla_model3_party` → tesla; `psa_` → psa. Matching is
    /// case-sensitive, as in opendbc (so `volkswagen_*.dbc` or `Toyota_*.dbc` get nothing).
    public static func forDBCFileName(_ fileName: String) -> ChecksumFamily? {
        var name = Substring(fileName)
        if let slash = name.lastIndex(of: "/") { name = name[name.index(after: slash)...] }
        let base = String(name).replacingOccurrencesOfDBC()
        func has(_ prefixes: String...) -> Bool { prefixes.contains { base.hasPrefix($0) } }
        if has("honda_", "acura_") { return .honda }
        if has("toyota_", "lexus_") { return .toyota }
        if has("hyundai_canfd_generated") { return .hkgCANFD }
        if has("vw_mqb", "vw_mqbevo", "vw_meb") { return .volkswagenMQB }
        if has("vw_mlb") { return .volkswagenMLB }
        if has("vw_pq") { return .volkswagenPQ }
        if has("subaru_global_") { return .subaru }
        if has("chrysler_") { return .chrysler }
        if has("fca_giorgio") { return .fcaGiorgio }
        if has("comma_body") { return .body }
        if has("tesla_model3_party") { return .tesla }
        if has("psa_") { return .psa }
        return nil
    }

    /// Whether opendbc treats a signal of this name as the checksum in a DBC of this family.
    public func isChecksumSignal(_ name: String) -> Bool {
        name == "CHECKSUM" || (self == .tesla && name.hasSuffix("Checksum"))
    }

    /// Whether opendbc treats a signal of this name as the rolling counter in a DBC of this family.
    public func isCounterSignal(_ name: String) -> Bool {
        name == "COUNTER" || (self == .tesla && name.hasSuffix("Counter"))
    }
}

extension String {
    /// opendbc: `os.path.basename(path).replace(".dbc", "")`.
    fileprivate func replacingOccurrencesOfDBC() -> String {
        var out = ""
        var rest = Substring(self)
        while let r = rest.firstRange(of: ".dbc") {
            out += rest[..<r.lowerBound]
            rest = rest[r.upperBound...]
        }
        return out + rest
    }
}

@inline(__always)
func nth16(_ i: Int, _ t: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                           UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8)) -> UInt8 {
    withUnsafeBytes(of: t) { $0[i & 15] }
}

/// One family's checksum computer. Make it once per message (it holds the CRC tables it needs);
/// `compute` and `verify` then allocate nothing.
public struct OpendbcChecksum: Sendable {
    public let family: ChecksumFamily
    @usableFromInline let crc8H2F: CRC
    @usableFromInline let crc8J1850: CRC
    @usableFromInline let crc16XMODEM: CRC
    @usableFromInline let crc8Body: CRC

    public init(family: ChecksumFamily) {
        self.family = family
        crc8H2F = CRC.crc8H2F
        crc8J1850 = CRC.crc8SAEJ1850ZeroInit
        crc16XMODEM = CRC.crc16XMODEM
        crc8Body = CRC.crc8DVBS2
    }

    /// True when the checksum signal's value equals `compute`.
    public func verify(address: UInt32, checksum: BitField, payload: UnsafeRawBufferPointer) -> Bool {
        checksum.read(payload) == UInt64(compute(address: address, checksum: checksum, payload: payload))
    }

    /// The checksum opendbc would compute for `payload` (the frame as received, checksum field
    /// included: every family skips or masks its own field as opendbc does). `checksum` is the
    /// CHECKSUM signal's layout; like opendbc, only Volkswagen PQ/MLB (xor), Tesla and PSA use it,
    /// the others assume their brand's fixed position.
    public func compute(address: UInt32, checksum: BitField, payload d: UnsafeRawBufferPointer) -> UInt32 {
        let n = d.count
        switch family {
        case .honda:
            var s = 0
            var addr = address
            while addr != 0 { s += Int(addr & 0xF); addr >>= 4 }
            for i in 0..<n {
                var x = Int(d[i])
                if i == n - 1 { x >>= 4 }
                s += (x & 0xF) + (x >> 4)
            }
            s = 8 - s
            if address > 0x7FF { s += 3 }
            return UInt32(s & 0xF)
        case .toyota:
            var s = n
            var addr = address
            while addr != 0 { s += Int(addr & 0xFF); addr >>= 8 }
            if n > 1 { for i in 0..<(n - 1) { s += Int(d[i]) } }
            return UInt32(s & 0xFF)
        case .volkswagenMQB:
            return UInt32(volkswagenMQBMEB(address: address, d))
        case .volkswagenMLB:
            if let start = OpendbcChecksum.volkswagenMLBXorStart(address) {
                return UInt32(xorChecksum(checksum, d, initial: start))
            }
            return UInt32(volkswagenMQBMEB(address: address, d))
        case .volkswagenPQ:
            return UInt32(xorChecksum(checksum, d, initial: 0))
        case .subaru:
            var s = 0
            var addr = address
            while addr != 0 { s += Int(addr & 0xFF); addr >>= 8 }
            if n > 1 { for i in 1..<n { s += Int(d[i]) } }
            return UInt32(s & 0xFF)
        case .chrysler:
            var chk: UInt8 = 0xFF
            if n > 1 {
                for j in 0..<(n - 1) {
                    let curr = d[j]
                    var shift: UInt8 = 0x80
                    for _ in 0..<8 {
                        var bitSum: UInt8 = curr & shift
                        var tempChk: UInt8 = chk & 0x80
                        if bitSum != 0 {
                            bitSum = 0x1C
                            if tempChk != 0 { bitSum = 1 }
                            chk = chk << 1
                            tempChk = chk | 1
                            bitSum ^= tempChk
                        } else {
                            if tempChk != 0 { bitSum = 0x1D }
                            chk = chk << 1
                            bitSum ^= chk
                        }
                        chk = bitSum
                        shift >>= 1
                    }
                }
            }
            return UInt32(~chk)
        case .fcaGiorgio:
            let crc = UInt8(truncatingIfNeeded: crc8J1850.compute(bytes: UnsafeRawBufferPointer(rebasing: d[0..<max(0, n - 1)])))
            switch address {
            case 0xDE: return UInt32(crc ^ 0x10)
            case 0x106: return UInt32(crc ^ 0xF6)
            case 0x122: return UInt32(crc ^ 0xF1)
            default: return UInt32(crc ^ 0x0A)
            }
        case .hkgCANFD:
            var r = crc16XMODEM.update(crc16XMODEM.begin(), bytes: d, from: 2, count: n - 2)
            r = crc16XMODEM.update(r, byte: UInt8(truncatingIfNeeded: address))
            r = crc16XMODEM.update(r, byte: UInt8(truncatingIfNeeded: address >> 8))
            var crc = crc16XMODEM.finish(r)
            switch n {
            case 8: crc ^= 0x5F29
            case 16: crc ^= 0x041D
            case 24: crc ^= 0x819D
            case 32: crc ^= 0x9F5B
            default: break
            }
            return crc
        case .tesla:
            var s = Int(address & 0xFF) + Int((address >> 8) & 0xFF)
            let skip = checksum.startBit / 8
            for i in 0..<n where i != skip { s += Int(d[i]) }
            return UInt32(s & 0xFF)
        case .body:
            // crc = 0xFF; bytes n-2 down to 0 through the poly 0xD5 table, no final xor.
            var r = UInt32(0xFF) << 24
            var i = n - 2
            while i >= 0 { r = crc8Body.update(r, byte: d[i]); i -= 1 }
            return r >> 24
        case .psa:
            let initial: Int
            switch address {
            case 0x452: initial = 0x4
            case 0x38D: initial = 0x7
            case 0x42D: initial = 0xC
            default: initial = 0xB
            }
            let byte = checksum.startBit / 8
            let keep: UInt8 = checksum.startBit % 8 >= 4 ? 0x0F : 0xF0
            var s = 0
            for i in 0..<n {
                let b = i == byte ? d[i] & keep : d[i]
                s += Int(b >> 4) + Int(b & 0xF)
            }
            return UInt32((initial - s) & 0xF)
        }
    }

    /// opendbc `volkswagen_mqb_meb_checksum`: CRC-8H2F over bytes 1..., then (for listed
    /// addresses) one more byte from a per-address, per-counter table; the counter is d[1]'s low nibble.
    @inlinable
    func volkswagenMQBMEB(address: UInt32, _ d: UnsafeRawBufferPointer) -> UInt8 {
        // Register form: opendbc's table walk with start 0xFF is this engine's begin()
        // (init 0xFF) without the final xor; its last `^ 0xFF` is the engine's xorOut.
        var r = crc8H2F.update(crc8H2F.begin(), bytes: d, from: 1, count: d.count - 1)
        if d.count > 1, let c = OpendbcChecksum.volkswagenMQBConstant(address: address, counter: Int(d[1] & 0x0F)) {
            r = crc8H2F.update(r, byte: c)
        }
        return UInt8(truncatingIfNeeded: crc8H2F.finish(r))
    }

    /// opendbc `xor_checksum`: XOR of every byte but the checksum's (start bit / 8).
    @inlinable
    func xorChecksum(_ checksum: BitField, _ d: UnsafeRawBufferPointer, initial: UInt8) -> UInt8 {
        var x = initial
        let skip = checksum.startBit / 8
        for i in 0..<d.count where i != skip { x ^= d[i] }
        return x
    }

    /// opendbc `volkswagen_mlb_checksum`'s xor start values; other addresses use the MQB checksum.
    @usableFromInline
    static func volkswagenMLBXorStart(_ address: UInt32) -> UInt8? {
        switch address {
        case 0x109: return 0x08
        case 0x111: return 0x10
        case 0x30C: return 0x0F
        case 0x324: return 0x27
        case 0x10B: return 0x0A
        case 0x10D: return 0x0C
        case 0x10F: return 0x0E
        case 0x311: return 0x12
        case 0x397: return 0x94
        case 0x10C: return 0x0D
        default: return nil
        }
    }

    // Generated from opendbc 0.3.1 opendbc/car/volkswagen/mqbcan.py VOLKSWAGEN_MQB_MEB_CONSTANTS.
    @usableFromInline
    static func volkswagenMQBConstant(address: UInt32, counter: Int) -> UInt8? {
        switch address {
        case 0x40: return 0x40
        case 0x86: return 0x86
        case 0x9F: return 0xF5
        case 0xAD: return nth16(counter, (0x3F, 0x69, 0x39, 0xDC, 0x94, 0xF9, 0x14, 0x64, 0xD8, 0x6A, 0x34, 0xCE, 0xA2, 0x55, 0xB5, 0x2C))
        case 0xDB: return nth16(counter, (0x09, 0xFA, 0xCA, 0x8E, 0x62, 0xD5, 0xD1, 0xF0, 0x31, 0xA0, 0xAF, 0xDA, 0x4D, 0x1A, 0x0A, 0x97))
        case 0xFC: return nth16(counter, (0x77, 0x5C, 0xA0, 0x89, 0x4B, 0x7C, 0xBB, 0xD6, 0x1F, 0x6C, 0x4F, 0xF6, 0x20, 0x2B, 0x43, 0xDD))
        case 0xFD: return nth16(counter, (0xB4, 0xEF, 0xF8, 0x49, 0x1E, 0xE5, 0xC2, 0xC0, 0x97, 0x19, 0x3C, 0xC9, 0xF1, 0x98, 0xD6, 0x61))
        case 0x101: return 0xAA
        case 0x102: return nth16(counter, (0xD7, 0x12, 0x85, 0x7E, 0x0B, 0x34, 0xFA, 0x16, 0x7A, 0x25, 0x2D, 0x8F, 0x04, 0x8E, 0x5D, 0x35))
        case 0x106: return 0x07
        case 0x10B: return nth16(counter, (0x77, 0x5C, 0xA0, 0x89, 0x4B, 0x7C, 0xBB, 0xD6, 0x1F, 0x6C, 0x4F, 0xF6, 0x20, 0x2B, 0x43, 0xDD))
        case 0x116: return 0xAC
        case 0x117: return 0x16
        case 0x120: return nth16(counter, (0xC4, 0xE2, 0x4F, 0xE4, 0xF8, 0x2F, 0x56, 0x81, 0x9F, 0xE5, 0x83, 0x44, 0x05, 0x3F, 0x97, 0xDF))
        case 0x121: return nth16(counter, (0xE9, 0x65, 0xAE, 0x6B, 0x7B, 0x35, 0xE5, 0x5F, 0x4E, 0xC7, 0x86, 0xA2, 0xBB, 0xDD, 0xEB, 0xB4))
        case 0x122: return nth16(counter, (0x37, 0x7D, 0xF3, 0xA9, 0x18, 0x46, 0x6D, 0x4D, 0x3D, 0x71, 0x92, 0x9C, 0xE5, 0x32, 0x10, 0xB9))
        case 0x126: return 0xDA
        case 0x12B: return nth16(counter, (0x6A, 0x38, 0xB4, 0x27, 0x22, 0xEF, 0xE1, 0xBB, 0xF8, 0x80, 0x84, 0x49, 0xC7, 0x9E, 0x1E, 0x2B))
        case 0x12E: return nth16(counter, (0xF8, 0xE5, 0x97, 0xC9, 0xD6, 0x07, 0x47, 0x21, 0x66, 0xDD, 0xCF, 0x6F, 0xA1, 0x94, 0x74, 0x63))
        case 0x139: return nth16(counter, (0xED, 0x03, 0x1C, 0x13, 0xC6, 0x23, 0x78, 0x7A, 0x8B, 0x40, 0x14, 0x51, 0xBF, 0x68, 0x32, 0xBA))
        case 0x13D: return nth16(counter, (0x20, 0xCA, 0x68, 0xD5, 0x1B, 0x31, 0xE2, 0xDA, 0x08, 0x0A, 0xD4, 0xDE, 0x9C, 0xE4, 0x35, 0x5B))
        case 0x14C: return nth16(counter, (0x16, 0x35, 0x59, 0x15, 0x9A, 0x2A, 0x97, 0xB8, 0x0E, 0x4E, 0x30, 0xCC, 0xB3, 0x07, 0x01, 0xAD))
        case 0x14D: return nth16(counter, (0x1A, 0x65, 0x81, 0x96, 0xC0, 0xDF, 0x11, 0x92, 0xD3, 0x61, 0xC6, 0x95, 0x8C, 0x29, 0x21, 0xB5))
        case 0x187: return nth16(counter, (0x7F, 0xED, 0x17, 0xC2, 0x7C, 0xEB, 0x44, 0x21, 0x01, 0xFA, 0xDB, 0x15, 0x4A, 0x6B, 0x23, 0x05))
        case 0x1A4: return nth16(counter, (0x69, 0xBB, 0x54, 0xE6, 0x4E, 0x46, 0x8D, 0x7B, 0xEA, 0x87, 0xE9, 0xB3, 0x63, 0xCE, 0xF8, 0xBF))
        case 0x1AB: return nth16(counter, (0x13, 0x21, 0x9B, 0x6A, 0x9A, 0x62, 0xD4, 0x65, 0x18, 0xF1, 0xAB, 0x16, 0x32, 0x89, 0xE7, 0x26))
        case 0x1F0: return nth16(counter, (0x2F, 0x3C, 0x22, 0x60, 0x18, 0xEB, 0x63, 0x76, 0xC5, 0x91, 0x0F, 0x27, 0x34, 0x04, 0x7F, 0x02))
        case 0x20A: return nth16(counter, (0x9D, 0xE8, 0x36, 0xA1, 0xCA, 0x3B, 0x1D, 0x33, 0xE0, 0xD5, 0xBB, 0x5F, 0xAE, 0x3C, 0x31, 0x9F))
        case 0x26B: return nth16(counter, (0xCE, 0xCC, 0xBD, 0x69, 0xA1, 0x3C, 0x18, 0x76, 0x0F, 0x04, 0xF2, 0x3A, 0x93, 0x24, 0x19, 0x51))
        case 0x30C: return 0x0F
        case 0x30F: return 0x0C
        case 0x324: return 0x27
        case 0x3BE: return nth16(counter, (0x1F, 0x28, 0xC6, 0x85, 0xE6, 0xF8, 0xB0, 0x19, 0x5B, 0x64, 0x35, 0x21, 0xE4, 0xF7, 0x9C, 0x24))
        case 0x3C0: return 0xC3
        case 0x3D5: return nth16(counter, (0xC5, 0x39, 0xC7, 0xF9, 0x92, 0xD8, 0x24, 0xCE, 0xF1, 0xB5, 0x7A, 0xC4, 0xBC, 0x60, 0xE3, 0xD1))
        case 0x65D: return nth16(counter, (0xAC, 0xB3, 0xAB, 0xEB, 0x7A, 0xE1, 0x3B, 0xF7, 0x73, 0xBA, 0x7C, 0x9E, 0x06, 0x5F, 0x02, 0xD9))
        default: return nil
        }
    }
}

/// opendbc 0.3.1's counter check (`MessageState.update_counter` in `opendbc/can/parser.py`):
/// a frame whose COUNTER is not `(last + 1) mod 2^size` adds one failure (up to
/// `maxBadCounter`), a frame with the expected counter takes one away; the last counter is
/// always taken over. The first frame is compared against 0, as opendbc does. While failures
/// are at `maxBadCounter` (5) the message's frames are rejected and `can_valid` is false.
public struct OpendbcCounterCheck: Hashable, Sendable {
    /// opendbc `MAX_BAD_COUNTER`.
    public static let defaultMaxBadCounter = 5
    public var counter: UInt64 = 0
    public var counterFail = 0
    public var maxBadCounter: Int

    public init(maxBadCounter: Int = OpendbcCounterCheck.defaultMaxBadCounter) {
        self.maxBadCounter = maxBadCounter
    }

    /// Takes a received counter value of a `size`-bit COUNTER; returns whether opendbc would still
    /// accept the frame (failures below the limit).
    public mutating func update(_ value: UInt64, size: Int) -> Bool {
        let mask: UInt64 = size >= 64 ? .max : (1 << UInt64(size)) - 1
        if (counter &+ 1) & mask != value {
            counterFail = min(counterFail + 1, maxBadCounter)
        } else if counterFail > 0 {
            counterFail -= 1
        }
        counter = value
        return counterFail < maxBadCounter
    }

    /// opendbc's per-message part of `can_valid`.
    public var isValid: Bool { counterFail < maxBadCounter }
}
