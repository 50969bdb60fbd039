import XCTest
@testable import Integrity

/// Frames packed by opendbc 0.3.1's own CANPacker (Fixtures/opendbc_vectors.txt, made by
/// Tests/integrity/gen_opendbc_vectors.py): the checksum recomputed here equals the packed one.
final class OpendbcTests: XCTestCase {
    struct Vector {
        var family: ChecksumFamily
        var dbc: String
        var address: UInt32
        var checksum: BitField
        var counter: BitField?
        var payload: [UInt8]
    }

    func vectors() throws -> [Vector] {
        try fixtureRows("opendbc_vectors.txt").map { r in
            Vector(family: ChecksumFamily(rawValue: String(r[0]))!, dbc: String(r[1]), address: UInt32(r[2])!,
                   checksum: BitField(startBit: Int(r[3])!, size: Int(r[4])!, isLittleEndian: r[5] == "LE"),
                   counter: r[6] == "-" ? nil : BitField(startBit: Int(r[6])!, size: Int(r[7])!, isLittleEndian: r[8] == "LE"),
                   payload: hexBytes(r[9]))
        }
    }

    func testChecksumsEqualOpendbcPacker() throws {
        let vs = try vectors()
        XCTAssertGreaterThanOrEqual(vs.count, 800)
        var perFamily: [ChecksumFamily: Int] = [:]
        for v in vs {
            let engine = OpendbcChecksum(family: v.family)
            let expected = v.payload.withUnsafeBytes { v.checksum.read($0) }
            // The packer computes over the frame with the CHECKSUM field still zero.
            var zeroed = v.payload
            zeroed.withUnsafeMutableBytes { v.checksum.write(0, into: $0) }
            let packed = zeroed.withUnsafeBytes { engine.compute(address: v.address, checksum: v.checksum, payload: $0) }
            XCTAssertEqual(UInt64(packed), expected, "\(v.family) \(v.dbc) 0x\(String(v.address, radix: 16)) \(hex(v.payload))")
            // The parser computes over the frame as received. They agree except where opendbc's function
            // covers the CHECKSUM byte itself: fca_giorgio NEW_MSG_120 (0x120, checksum in byte 3 of 6),
            // whose packed frames opendbc 0.3.1's own CANParser rejects too.
            let parserAccepts = v.payload.withUnsafeBytes { engine.verify(address: v.address, checksum: v.checksum, payload: $0) }
            XCTAssertEqual(parserAccepts, !(v.family == .fcaGiorgio && v.address == 0x120), "\(v.family) 0x\(String(v.address, radix: 16))")
            perFamily[v.family, default: 0] += 1
        }
        for f in [ChecksumFamily.toyota, .honda, .volkswagenMQB] { XCTAssertGreaterThanOrEqual(perFamily[f] ?? 0, 150, "\(f)") }
        XCTAssertEqual(Set(perFamily.keys).count, 11, "every family but Subaru (no subaru_global_ DBC ships) is covered")
    }

    /// Every single-bit flip inside what the family covers (its checksum field included) is detected.
    func testSingleBitFlipsAreDetected() throws {
        var flips = 0
        for v in try vectors() where !(v.family == .fcaGiorgio && v.address == 0x120) {
            let engine = OpendbcChecksum(family: v.family)
            for bit in 0..<(v.payload.count * 8) where covered(v, bit: bit) {
                var p = v.payload
                p[bit / 8] ^= 1 << UInt8(bit % 8)
                XCTAssertFalse(p.withUnsafeBytes { engine.verify(address: v.address, checksum: v.checksum, payload: $0) },
                               "\(v.family) 0x\(String(v.address, radix: 16)) \(hex(v.payload)) bit \(bit)")
                flips += 1
            }
        }
        XCTAssertGreaterThan(flips, 40_000)
    }

    /// Bits opendbc's function reads (or the checksum field itself).
    func covered(_ v: Vector, bit: Int) -> Bool {
        if v.checksum.contains(bit: bit) { return true }
        let byte = bit / 8, n = v.payload.count
        switch v.family {
        case .honda, .toyota, .chrysler, .fcaGiorgio, .body: return byte < n - 1 || v.family == .honda
        case .volkswagenMQB, .subaru: return byte >= 1
        case .hkgCANFD: return byte >= 2
        default: return true
        }
    }

    func testFamilyFromDBCFileNameMirrorsOpendbc() throws {
        for v in try vectors() { XCTAssertEqual(ChecksumFamily.forDBCFileName(v.dbc), v.family, v.dbc) }
        let cases: [(String, ChecksumFamily?)] = [
            ("toyota_nodsu_pt_generated.dbc", .toyota), ("lexus_is_2018_pt.dbc", .toyota),
            ("/opt/dbc/honda_civic_touring_2016_can_generated.dbc", .honda), ("acura_ilx_2016_nidec.dbc", .honda),
            ("vw_mqb.dbc", .volkswagenMQB), ("vw_mqbevo.dbc", .volkswagenMQB), ("vw_meb.dbc", .volkswagenMQB),
            ("vw_mlb.dbc", .volkswagenMLB), ("vw_pq.dbc", .volkswagenPQ), ("subaru_global_2017_generated", .subaru),
            ("subaru_outback_2015_generated.dbc", nil), ("chrysler_cusw.dbc", .chrysler), ("fca_giorgio.dbc", .fcaGiorgio),
            ("comma_body.dbc", .body), ("tesla_model3_party.dbc", .tesla), ("tesla_can.dbc", nil), ("psa_aee2010_r3.dbc", .psa),
            ("hyundai_canfd_generated.dbc", .hkgCANFD), ("hyundai_kia_generic.dbc", nil),
            ("volkswagen_golf.dbc", nil), ("Toyota_prius.dbc", nil), ("demo_car.dbc", nil),
        ]
        for (name, family) in cases { XCTAssertEqual(ChecksumFamily.forDBCFileName(name), family, name) }
        XCTAssertTrue(ChecksumFamily.tesla.isChecksumSignal("DAS_steeringControlChecksum"))
        XCTAssertFalse(ChecksumFamily.toyota.isChecksumSignal("DAS_steeringControlChecksum"))
        XCTAssertTrue(ChecksumFamily.honda.isCounterSignal("COUNTER"))
    }

    /// opendbc's parser: 5 net counter failures invalidate, each good counter removes one.
    func testOpendbcCounterCheckMirrorsParser() {
        var c = OpendbcCounterCheck()
        XCTAssertTrue(c.update(1, size: 2))
        XCTAssertTrue(c.update(2, size: 2))
        XCTAssertTrue(c.update(3, size: 2))
        XCTAssertTrue(c.update(0, size: 2), "2-bit Honda counter wraps 3 -> 0")
        for k in 1...4 { XCTAssertTrue(c.update(0, size: 2), "failure \(k)") }
        XCTAssertFalse(c.update(0, size: 2))
        XCTAssertFalse(c.isValid)
        XCTAssertEqual(c.counterFail, 5)
        XCTAssertTrue(c.update(1, size: 2), "one good counter brings it back under the limit")
        XCTAssertEqual(c.counterFail, 4)
        var first = OpendbcCounterCheck()
        XCTAssertTrue(first.update(9, size: 4))
        XCTAssertEqual(first.counterFail, 1, "first frame is compared against 0")
    }
}
