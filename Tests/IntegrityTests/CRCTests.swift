import XCTest
@testable import Integrity

/// Check values of "123456789" from the CRC RevEng catalogue
/// (https://reveng.sourceforge.io/crc-catalogue/all.htm), lines as the catalogue writes them.
let revengCatalogue = """
width=3 poly=0x3 init=0x0 refin=false refout=false xorout=0x7 check=0x4 name="CRC-3/GSM"
width=3 poly=0x3 init=0x7 refin=true refout=true xorout=0x0 check=0x6 name="CRC-3/ROHC"
width=4 poly=0x3 init=0x0 refin=true refout=true xorout=0x0 check=0x7 name="CRC-4/G-704"
width=4 poly=0x3 init=0xf refin=false refout=false xorout=0xf check=0xb name="CRC-4/INTERLAKEN"
width=5 poly=0x09 init=0x09 refin=false refout=false xorout=0x00 check=0x00 name="CRC-5/EPC-C1G2"
width=5 poly=0x15 init=0x00 refin=true refout=true xorout=0x00 check=0x07 name="CRC-5/G-704"
width=5 poly=0x05 init=0x1f refin=true refout=true xorout=0x1f check=0x19 name="CRC-5/USB"
width=6 poly=0x27 init=0x3f refin=false refout=false xorout=0x00 check=0x0d name="CRC-6/CDMA2000-A"
width=6 poly=0x19 init=0x00 refin=true refout=true xorout=0x00 check=0x26 name="CRC-6/DARC"
width=6 poly=0x2f init=0x00 refin=false refout=false xorout=0x3f check=0x13 name="CRC-6/GSM"
width=7 poly=0x09 init=0x00 refin=false refout=false xorout=0x00 check=0x75 name="CRC-7/MMC"
width=7 poly=0x4f init=0x7f refin=true refout=true xorout=0x00 check=0x53 name="CRC-7/ROHC"
width=8 poly=0x2f init=0xff refin=false refout=false xorout=0xff check=0xdf name="CRC-8/AUTOSAR"
width=8 poly=0xa7 init=0x00 refin=true refout=true xorout=0x00 check=0x26 name="CRC-8/BLUETOOTH"
width=8 poly=0x9b init=0xff refin=false refout=false xorout=0x00 check=0xda name="CRC-8/CDMA2000"
width=8 poly=0xd5 init=0x00 refin=false refout=false xorout=0x00 check=0xbc name="CRC-8/DVB-S2"
width=8 poly=0x1d init=0x00 refin=false refout=false xorout=0x00 check=0x37 name="CRC-8/GSM-A"
width=8 poly=0x49 init=0x00 refin=false refout=false xorout=0xff check=0x94 name="CRC-8/GSM-B"
width=8 poly=0x1d init=0xff refin=false refout=false xorout=0x00 check=0xb4 name="CRC-8/HITAG"
width=8 poly=0x07 init=0x00 refin=false refout=false xorout=0x55 check=0xa1 name="CRC-8/I-432-1"
width=8 poly=0x31 init=0x00 refin=true refout=true xorout=0x00 check=0xa1 name="CRC-8/MAXIM-DOW"
width=8 poly=0x2f init=0x00 refin=false refout=false xorout=0x00 check=0x3e name="CRC-8/OPENSAFETY"
width=8 poly=0x07 init=0xff refin=true refout=true xorout=0x00 check=0xd0 name="CRC-8/ROHC"
width=8 poly=0x1d init=0xff refin=false refout=false xorout=0xff check=0x4b name="CRC-8/SAE-J1850"
width=8 poly=0x07 init=0x00 refin=false refout=false xorout=0x00 check=0xf4 name="CRC-8/SMBUS"
width=8 poly=0x1d init=0xff refin=true refout=true xorout=0x00 check=0x97 name="CRC-8/TECH-3250"
width=10 poly=0x233 init=0x000 refin=false refout=false xorout=0x000 check=0x199 name="CRC-10/ATM"
width=10 poly=0x175 init=0x000 refin=false refout=false xorout=0x3ff check=0x12a name="CRC-10/GSM"
width=11 poly=0x385 init=0x01a refin=false refout=false xorout=0x000 check=0x5a3 name="CRC-11/FLEXRAY"
width=12 poly=0xf13 init=0xfff refin=false refout=false xorout=0x000 check=0xd4d name="CRC-12/CDMA2000"
width=12 poly=0x80f init=0x000 refin=false refout=false xorout=0x000 check=0xf5b name="CRC-12/DECT"
width=12 poly=0xd31 init=0x000 refin=false refout=false xorout=0xfff check=0xb34 name="CRC-12/GSM"
width=12 poly=0x80f init=0x000 refin=false refout=true xorout=0x000 check=0xdaf name="CRC-12/UMTS"
width=13 poly=0x1cf5 init=0x0000 refin=false refout=false xorout=0x0000 check=0x04fa name="CRC-13/BBC"
width=14 poly=0x0805 init=0x0000 refin=true refout=true xorout=0x0000 check=0x082d name="CRC-14/DARC"
width=15 poly=0x4599 init=0x0000 refin=false refout=false xorout=0x0000 check=0x059e name="CRC-15/CAN"
width=15 poly=0x6815 init=0x0000 refin=false refout=false xorout=0x0001 check=0x2566 name="CRC-15/MPT1327"
width=16 poly=0x8005 init=0x0000 refin=true refout=true xorout=0x0000 check=0xbb3d name="CRC-16/ARC"
width=16 poly=0xc867 init=0xffff refin=false refout=false xorout=0x0000 check=0x4c06 name="CRC-16/CDMA2000"
width=16 poly=0x3d65 init=0x0000 refin=true refout=true xorout=0xffff check=0xea82 name="CRC-16/DNP"
width=16 poly=0x1021 init=0xffff refin=false refout=false xorout=0xffff check=0xd64e name="CRC-16/GENIBUS"
width=16 poly=0x1021 init=0xffff refin=false refout=false xorout=0x0000 check=0x29b1 name="CRC-16/IBM-3740"
width=16 poly=0x1021 init=0xffff refin=true refout=true xorout=0xffff check=0x906e name="CRC-16/IBM-SDLC"
width=16 poly=0x1021 init=0x0000 refin=true refout=true xorout=0x0000 check=0x2189 name="CRC-16/KERMIT"
width=16 poly=0x8005 init=0xffff refin=true refout=true xorout=0x0000 check=0x4b37 name="CRC-16/MODBUS"
width=16 poly=0x1dcf init=0xffff refin=false refout=false xorout=0xffff check=0xa819 name="CRC-16/PROFIBUS"
width=16 poly=0x8bb7 init=0x0000 refin=false refout=false xorout=0x0000 check=0xd0db name="CRC-16/T10-DIF"
width=16 poly=0x8005 init=0xffff refin=true refout=true xorout=0xffff check=0xb4c8 name="CRC-16/USB"
width=16 poly=0x1021 init=0x0000 refin=false refout=false xorout=0x0000 check=0x31c3 name="CRC-16/XMODEM"
width=17 poly=0x1685b init=0x00000 refin=false refout=false xorout=0x00000 check=0x04f03 name="CRC-17/CAN-FD"
width=21 poly=0x102899 init=0x000000 refin=false refout=false xorout=0x000000 check=0x0ed841 name="CRC-21/CAN-FD"
width=24 poly=0x00065b init=0x555555 refin=true refout=true xorout=0x000000 check=0xc25a56 name="CRC-24/BLE"
width=24 poly=0x5d6dcb init=0xfedcba refin=false refout=false xorout=0x000000 check=0x7979bd name="CRC-24/FLEXRAY-A"
width=24 poly=0x864cfb init=0xb704ce refin=false refout=false xorout=0x000000 check=0x21cf02 name="CRC-24/OPENPGP"
width=24 poly=0x800063 init=0xffffff refin=false refout=false xorout=0xffffff check=0x200fa5 name="CRC-24/OS-9"
width=30 poly=0x2030b9c7 init=0x3fffffff refin=false refout=false xorout=0x3fffffff check=0x04c34abf name="CRC-30/CDMA"
width=31 poly=0x04c11db7 init=0x7fffffff refin=false refout=false xorout=0x7fffffff check=0x0ce9e46c name="CRC-31/PHILIPS"
width=32 poly=0x814141ab init=0x00000000 refin=false refout=false xorout=0x00000000 check=0x3010bf7f name="CRC-32/AIXM"
width=32 poly=0xf4acfb13 init=0xffffffff refin=true refout=true xorout=0xffffffff check=0x1697d06a name="CRC-32/AUTOSAR"
width=32 poly=0x04c11db7 init=0xffffffff refin=false refout=false xorout=0xffffffff check=0xfc891918 name="CRC-32/BZIP2"
width=32 poly=0x04c11db7 init=0x00000000 refin=false refout=false xorout=0xffffffff check=0x765e7680 name="CRC-32/CKSUM"
width=32 poly=0x1edc6f41 init=0xffffffff refin=true refout=true xorout=0xffffffff check=0xe3069283 name="CRC-32/ISCSI"
width=32 poly=0x04c11db7 init=0xffffffff refin=true refout=true xorout=0xffffffff check=0xcbf43926 name="CRC-32/ISO-HDLC"
width=32 poly=0x04c11db7 init=0xffffffff refin=true refout=true xorout=0x00000000 check=0x340bc6d9 name="CRC-32/JAMCRC"
width=32 poly=0x04c11db7 init=0xffffffff refin=false refout=false xorout=0x00000000 check=0x0376e6e7 name="CRC-32/MPEG-2"
width=32 poly=0x000000af init=0x00000000 refin=false refout=false xorout=0x00000000 check=0xbd0be338 name="CRC-32/XFER"
"""

final class CRCTests: XCTestCase {
    let check = Array("123456789".utf8)

    func parse(_ line: Substring) -> (CRCParameters, UInt32, String) {
        var f: [String: String] = [:]
        for kv in line.split(separator: " ") {
            let p = kv.split(separator: "=", maxSplits: 1)
            f[String(p[0])] = String(p[1])
        }
        func n(_ k: String) -> UInt32 { UInt32(f[k]!.dropFirst(2), radix: 16)! }
        let params = CRCParameters(width: Int(f["width"]!)!, poly: n("poly"), initial: n("init"), xorOut: n("xorout"),
                                   reflectIn: f["refin"] == "true", reflectOut: f["refout"] == "true")
        return (params, n("check"), f["name"]!)
    }

    func testRevEngCatalogueCheckValues() {
        var count = 0
        var widths = Set<Int>()
        for line in revengCatalogue.split(separator: "\n") {
            let (p, expected, name) = parse(line)
            XCTAssertEqual(CRC(p).compute(check), expected, name)
            widths.insert(p.width)
            count += 1
        }
        XCTAssertEqual(count, 66)
        XCTAssertTrue(widths.isSuperset(of: [4, 8, 12, 15, 16, 24, 32]))
    }

    func testNamedPresets() {
        let expected: [(CRCParameters, UInt32, String)] = [
            (.crc8SAEJ1850, 0x4B, "CRC-8/SAE-J1850"),
            (.crc8SAEJ1850ZeroInit, 0x37, "CRC-8/GSM-A"),
            (.crc8H2F, 0xDF, "CRC-8/AUTOSAR"),
            (.crc16CCITTFalse, 0x29B1, "CRC-16/IBM-3740"),
            (.crc16XMODEM, 0x31C3, "CRC-16/XMODEM"),
            (.crc16Kermit, 0x2189, "CRC-16/KERMIT"),
            (.crc16ARC, 0xBB3D, "CRC-16/ARC"),
            (.crc16Modbus, 0x4B37, "CRC-16/MODBUS"),
            (.crc32P4, 0x1697_D06A, "CRC-32/AUTOSAR"),
            (.crc32, 0xCBF4_3926, "CRC-32/ISO-HDLC"),
            (.crc32C, 0xE306_9283, "CRC-32/ISCSI"),
            (.crc32MPEG2, 0x0376_E6E7, "CRC-32/MPEG-2"),
            (.crc15CAN, 0x059E, "CRC-15/CAN"),
            (.crc8SMBus, 0xF4, "CRC-8/SMBUS"),
            (.crc8MaximDOW, 0xA1, "CRC-8/MAXIM-DOW"),
            (.crc8DVBS2, 0xBC, "CRC-8/DVB-S2"),
            (.crc4G704, 0x7, "CRC-4/G-704"),
            (.crc12DECT, 0xF5B, "CRC-12/DECT"),
            (.crc24OpenPGP, 0x21_CF02, "CRC-24/OPENPGP"),
        ]
        for (p, value, name) in expected { XCTAssertEqual(CRC(p).compute(check), value, name) }
        XCTAssertEqual(CRC.crc8H2F.compute(check), 0xDF)
        XCTAssertEqual(CRC.crc32P4.compute(check), 0x1697_D06A)
    }

    /// The example tables of AUTOSAR "Specification of CRC Routines" (§7.2, data → result) for
    /// CRC8, CRC8H2F, CRC16 and CRC32P4. Written from recollection of that document, not re-read;
    /// they agree with the engine that the catalogue check values above verify.
    func testAutosarCRCRoutineExamples() {
        // CRC8 (SAE J1850): 00 00 00 00 -> 59; F2 01 83 -> 37; 0F AA 00 55 -> 79; 00 FF 55 11 -> B8;
        // 33 22 55 AA BB CC DD EE FF -> CB; 92 6B 55 -> 8C; FF FF FF FF -> 74.
        let j1850: [([UInt8], UInt32)] = [([0, 0, 0, 0], 0x59), ([0xF2, 0x01, 0x83], 0x37), ([0x0F, 0xAA, 0x00, 0x55], 0x79),
                                          ([0x00, 0xFF, 0x55, 0x11], 0xB8), ([0x33, 0x22, 0x55, 0xAA, 0xBB, 0xCC, 0xDD, 0xEE, 0xFF], 0xCB),
                                          ([0x92, 0x6B, 0x55], 0x8C), ([0xFF, 0xFF, 0xFF, 0xFF], 0x74)]
        for (d, v) in j1850 { XCTAssertEqual(CRC.crc8SAEJ1850.compute(d), v, hex(d)) }
        // CRC8H2F: 00 00 00 00 -> 12; F2 01 83 -> C2; 0F AA 00 55 -> C6; 00 FF 55 11 -> 77;
        // 33 22 55 AA BB CC DD EE FF -> 11; 92 6B 55 -> 33; FF FF FF FF -> 6C.
        let h2f: [([UInt8], UInt32)] = [([0, 0, 0, 0], 0x12), ([0xF2, 0x01, 0x83], 0xC2), ([0x0F, 0xAA, 0x00, 0x55], 0xC6),
                                        ([0x00, 0xFF, 0x55, 0x11], 0x77), ([0x33, 0x22, 0x55, 0xAA, 0xBB, 0xCC, 0xDD, 0xEE, 0xFF], 0x11),
                                        ([0x92, 0x6B, 0x55], 0x33), ([0xFF, 0xFF, 0xFF, 0xFF], 0x6C)]
        for (d, v) in h2f { XCTAssertEqual(CRC.crc8H2F.compute(d), v, hex(d)) }
        // CRC32P4: 00 00 00 00 -> 6FB32240; F2 01 83 -> 4F721A25; FF FF FF FF -> FFFFFFFF.
        XCTAssertEqual(CRC.crc32P4.compute([0, 0, 0, 0]), 0x6FB3_2240)
        XCTAssertEqual(CRC.crc32P4.compute([0xF2, 0x01, 0x83]), 0x4F72_1A25)
        XCTAssertEqual(CRC.crc32P4.compute([0xFF, 0xFF, 0xFF, 0xFF]), 0xFFFF_FFFF)
        // CRC16 (CCITT-FALSE): 00 00 00 00 -> 84C0; F2 01 83 -> D374; FF FF FF FF -> 1D0F.
        XCTAssertEqual(CRC.crc16CCITTFalse.compute([0, 0, 0, 0]), 0x84C0)
        XCTAssertEqual(CRC.crc16CCITTFalse.compute([0xF2, 0x01, 0x83]), 0xD374)
        XCTAssertEqual(CRC.crc16CCITTFalse.compute([0xFF, 0xFF, 0xFF, 0xFF]), 0x1D0F)
    }

    /// Feeding in pieces (and byte by byte) gives the one-shot result, for every catalogue entry;
    /// and "data id, then payload without the CRC field" equals the CRC of the spliced bytes.
    func testIncrementalEqualsOneShot() {
        var rng = SplitMix64(state: 7)
        for line in revengCatalogue.split(separator: "\n") {
            let (p, _, name) = parse(line)
            let crc = CRC(p)
            for _ in 0..<20 {
                let data = (0..<Int.random(in: 0...40, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
                let cut = Int.random(in: 0...data.count, using: &rng)
                let whole = crc.compute(data)
                var r = crc.begin()
                data.withUnsafeBytes { b in
                    r = crc.update(r, bytes: b, from: 0, count: cut)
                    for i in cut..<data.count { r = crc.update(r, byte: b[i]) }
                }
                XCTAssertEqual(crc.finish(r), whole, name)
            }
        }
        let crc = CRC.crc8H2F
        let payload: [UInt8] = [0xAA, 0x11, 0x22, 0x33]
        var r = crc.update(crc.begin(), byte: 0x5C)
        r = payload.withUnsafeBytes { crc.update(r, bytes: $0, from: 1, count: 3) }
        XCTAssertEqual(crc.finish(r), crc.compute([0x5C, 0x11, 0x22, 0x33]))
    }

    func testBitFieldMatchesDBCNumbering() {
        var bytes: [UInt8] = [0, 0, 0, 0, 0, 0, 0, 0]
        // Motorola 12-bit field with MSB at bit 7: byte 0 whole, then the top nibble of byte 1.
        let be = BitField(startBit: 7, size: 12, isLittleEndian: false)
        XCTAssertEqual(be.lsb, 12)
        bytes.withUnsafeMutableBytes { be.write(0xABC, into: $0) }
        XCTAssertEqual(Array(bytes[0...1]), [0xAB, 0xC0])
        XCTAssertEqual(bytes.withUnsafeBytes { be.read($0) }, 0xABC)
        let le = BitField(startBit: 12, size: 12, isLittleEndian: true)
        bytes = [0, 0, 0, 0, 0, 0, 0, 0]
        bytes.withUnsafeMutableBytes { le.write(0xABC, into: $0) }
        XCTAssertEqual(Array(bytes[1...2]), [0xC0, 0xAB])
        XCTAssertEqual(bytes.withUnsafeBytes { le.read($0) }, 0xABC)
        XCTAssertTrue(be.contains(bit: 7) && be.contains(bit: 0) && be.contains(bit: 12) && !be.contains(bit: 11))
    }
}
