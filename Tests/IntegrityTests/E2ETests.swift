import XCTest
@testable import Integrity

/// Protocol examples of AUTOSAR_PRS_E2EProtocol ("Protocol examples" of profiles 1, 2, 4, 5), as
/// reproduced in the test suite of the autosar-e2e package (github.com/zariiii9003/autosar-e2e,
/// test/test_p0*.py), plus random vectors made with that package (Fixtures/e2e_vectors.txt).
final class E2ETests: XCTestCase {
    func protect1(_ cfg: E2EProfile1Config, counter: UInt8, length: Int = 8) -> [UInt8] {
        var d = [UInt8](repeating: 0, count: length)
        d.withUnsafeMutableBytes { cfg.protect($0, counter: counter) }
        return d
    }

    func testProfile1Examples() {
        // data id 0x123, 8 zero bytes, CRC byte 0, counter low nibble of byte 1, nibble high nibble of byte 1.
        let cases: [(E2EProfile1Config.DataIDMode, [UInt8], [UInt8])] = [
            (.both, [0xCC, 0x00], [0x91, 0x01]),
            (.alternating, [0xCE, 0x00], [0x02, 0x01]),
            (.low, [0xCE, 0x00], [0x93, 0x01]),
            (.nibble, [0x2A, 0x10], [0x77, 0x11]),
        ]
        for (mode, c0, c1) in cases {
            let cfg = E2EProfile1Config(dataID: 0x123, dataIDMode: mode)
            XCTAssertEqual(protect1(cfg, counter: 0), c0 + [0, 0, 0, 0, 0, 0], "\(mode) counter 0")
            XCTAssertEqual(protect1(cfg, counter: 1), c1 + [0, 0, 0, 0, 0, 0], "\(mode) counter 1")
            var state = E2ECheckState()
            XCTAssertEqual((c0 + [0, 0, 0, 0, 0, 0]).withUnsafeBytes { cfg.check($0, state: &state) }, .ok)
            XCTAssertEqual((c1 + [0, 0, 0, 0, 0, 0]).withUnsafeBytes { cfg.check($0, state: &state) }, .ok)
        }
        // Corrupted: counter changed without a new CRC; nibble mode with the wrong nibble.
        var s = E2ECheckState()
        XCTAssertEqual(([0xCC, 0x10, 0, 0, 0, 0, 0, 0] as [UInt8]).withUnsafeBytes { E2EProfile1Config(dataID: 0x123).check($0, state: &s) }, .error)
        XCTAssertEqual(([0x77, 0x21, 0, 0, 0, 0, 0, 0] as [UInt8]).withUnsafeBytes { E2EProfile1Config(dataID: 0x123, dataIDMode: .nibble).check($0, state: &s) }, .error)
    }

    func testProfile1CounterSemantics() {
        let cfg = E2EProfile1Config(dataID: 0x4711 & 0xFF, dataIDMode: .low, maxDeltaCounterInit: 1)
        var state = E2ECheckState()
        func frame(_ c: UInt8) -> E2EStatus { protect1(cfg, counter: c).withUnsafeBytes { cfg.check($0, state: &state) } }
        XCTAssertEqual(frame(5), .ok)           // first frame (PRS INITIAL)
        XCTAssertTrue(state.sawFirstFrame)
        XCTAssertEqual(frame(6), .ok)
        XCTAssertEqual(frame(6), .repeated)
        XCTAssertEqual(frame(8), .ok)           // MaxDeltaCounter grew by one on the repeated call: PRS OKSOMELOST
        XCTAssertEqual(state.lostFrames, 1)
        XCTAssertEqual(frame(13), .wrongSequence)
        XCTAssertEqual(frame(14), .wrongSequence)  // still measured from 8
        XCTAssertEqual(frame(9), .ok)
        XCTAssertEqual(frame(10), .ok)
        for c: UInt8 in [11, 12, 13, 14, 0, 1] { XCTAssertEqual(frame(c), .ok, "wrap 14 -> 0") }
        var bad = protect1(cfg, counter: 2)
        bad[1] |= 0x0F                          // counter 15 is invalid in P01
        XCTAssertEqual(bad.withUnsafeBytes { cfg.check($0, state: &state) }, .error)
        XCTAssertEqual(cfg.checkNoNewData(state: &state), .noNewData)
        XCTAssertEqual(E2EProfile1Config.nextCounter(14), 0)
    }

    func testProfile2Examples() {
        let zeros = E2EProfile2Config(dataIDList: [UInt8](repeating: 0, count: 16))
        var d = [UInt8](repeating: 0, count: 8)
        d.withUnsafeMutableBytes { zeros.protect($0, counter: 1) }
        XCTAssertEqual(d, [0x45, 0x01, 0, 0, 0, 0, 0, 0])
        let ramp = E2EProfile2Config(dataIDList: Array(0..<16))
        d = Array(0..<8)
        d.withUnsafeMutableBytes { ramp.protect($0, counter: 2) }
        XCTAssertEqual(d, [0xBC, 0x02, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07])
        d = Array(0..<8)
        d.withUnsafeMutableBytes { ramp.protect($0, counter: 1) }
        XCTAssertEqual(d, [0x61, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07])
        var s = E2ECheckState()
        XCTAssertEqual(([0xBC, 0x02, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07] as [UInt8]).withUnsafeBytes { ramp.check($0, state: &s) }, .ok)
        XCTAssertEqual(([0xBC, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07] as [UInt8]).withUnsafeBytes { ramp.check($0, state: &s) }, .error)
        // 4-bit counter 0...15 wraps 15 -> 0.
        var state = E2ECheckState()
        for c in [UInt8(14), 15, 0, 1] {
            var f = [UInt8](repeating: 0xA5, count: 8)
            f.withUnsafeMutableBytes { ramp.protect($0, counter: c) }
            XCTAssertEqual(f.withUnsafeBytes { ramp.check($0, state: &state) }, .ok)
        }
    }

    func testProfile4Examples() {
        let short = E2EProfile4Config(dataID: 0x0A0B_0C0D)
        var d = [UInt8](repeating: 0, count: 16)
        d.withUnsafeMutableBytes { short.protect($0, counter: 0) }
        XCTAssertEqual(d, [0x00, 0x10, 0x00, 0x00, 0x0A, 0x0B, 0x0C, 0x0D, 0x86, 0x2B, 0x05, 0x56, 0, 0, 0, 0])
        d.withUnsafeMutableBytes { short.protect($0, counter: 1) }
        XCTAssertEqual(d, [0x00, 0x10, 0x00, 0x01, 0x0A, 0x0B, 0x0C, 0x0D, 0xA5, 0x8E, 0x68, 0x07, 0, 0, 0, 0])
        let long = E2EProfile4Config(dataID: 0x0A0B_0C0D, offset: 64, minDataLength: 160)
        d = [UInt8](repeating: 0, count: 24)
        d.withUnsafeMutableBytes { long.protect($0, counter: 0) }
        XCTAssertEqual(Array(d[8..<16]), [0x00, 0x18, 0x00, 0x00, 0x0A, 0x0B, 0x0C, 0x0D])
        XCTAssertEqual(Array(d[16..<20]), [0x69, 0xD7, 0x50, 0x2E])
        d.withUnsafeMutableBytes { long.protect($0, counter: 1) }
        XCTAssertEqual(Array(d[16..<20]), [0x4A, 0x72, 0x3D, 0x7F])

        var s = E2ECheckState()
        let good: [UInt8] = [0x00, 0x10, 0x00, 0x00, 0x0A, 0x0B, 0x0C, 0x0D, 0x86, 0x2B, 0x05, 0x56, 0, 0, 0, 0]
        XCTAssertEqual(good.withUnsafeBytes { short.check($0, state: &s) }, .ok)
        var wrongCounter = good; wrongCounter[3] = 1
        XCTAssertEqual(wrongCounter.withUnsafeBytes { short.check($0, state: &s) }, .error)
        XCTAssertEqual(good.withUnsafeBytes { E2EProfile4Config(dataID: 0x0A0B_0C0E).check($0, state: &s) }, .error, "data id")
        XCTAssertEqual((good + [0]).withUnsafeBytes { short.check($0, state: &s) }, .error, "length field")
        // 16-bit counter: wrap and lost frames.
        var state = E2ECheckState()
        let cfg = E2EProfile4Config(dataID: 7, maxDeltaCounter: 3)
        func frame(_ c: UInt16) -> E2EStatus {
            var f = [UInt8](repeating: 0x5A, count: 20)
            f.withUnsafeMutableBytes { cfg.protect($0, counter: c) }
            return f.withUnsafeBytes { cfg.check($0, state: &state) }
        }
        XCTAssertEqual(frame(0xFFFE), .ok)
        XCTAssertEqual(frame(0xFFFF), .ok)
        XCTAssertEqual(frame(0x0002), .ok)
        XCTAssertEqual(state.lostFrames, 2)
        XCTAssertEqual(frame(0x0002), .repeated)
        XCTAssertEqual(frame(0x0010), .wrongSequence)
        XCTAssertEqual(frame(0x0011), .ok, "P04 takes the counter over after a wrong sequence")
    }

    func testProfile5Examples() {
        let short = E2EProfile5Config(dataID: 0x1234)
        var d = [UInt8](repeating: 0, count: 8)
        d.withUnsafeMutableBytes { short.protect($0, counter: 0) }
        XCTAssertEqual(d, [0x1C, 0xCA, 0, 0, 0, 0, 0, 0])
        d.withUnsafeMutableBytes { short.protect($0, counter: 1) }
        XCTAssertEqual(d, [0xCF, 0x8D, 0x01, 0, 0, 0, 0, 0])
        let long = E2EProfile5Config(dataID: 0x1234, offset: 64, dataLength: 128)
        d = [UInt8](repeating: 0, count: 16)
        d.withUnsafeMutableBytes { long.protect($0, counter: 0) }
        XCTAssertEqual(d, [0, 0, 0, 0, 0, 0, 0, 0, 0x28, 0x91, 0, 0, 0, 0, 0, 0])
        d.withUnsafeMutableBytes { long.protect($0, counter: 1) }
        XCTAssertEqual(d, [0, 0, 0, 0, 0, 0, 0, 0, 0xFB, 0xD6, 0x01, 0, 0, 0, 0, 0])
        var s = E2ECheckState()
        XCTAssertEqual(([0x1C, 0xCA, 0, 0, 0, 0, 0, 0] as [UInt8]).withUnsafeBytes { short.check($0, state: &s) }, .ok)
        XCTAssertEqual(([0x1C, 0xCA, 1, 0, 0, 0, 0, 0] as [UInt8]).withUnsafeBytes { short.check($0, state: &s) }, .error)
        XCTAssertEqual(([0x1C, 0xCA, 0, 0, 0, 0, 0] as [UInt8]).withUnsafeBytes { short.check($0, state: &s) }, .error, "length")
        // 8-bit counter wraps 255 -> 0.
        var state = E2ECheckState()
        for c: UInt8 in [254, 255, 0, 1] {
            var f = [UInt8](repeating: 3, count: 8)
            f.withUnsafeMutableBytes { short.protect($0, counter: c) }
            XCTAssertEqual(f.withUnsafeBytes { short.check($0, state: &state) }, .ok)
        }
    }

    /// Random frames protected by the autosar-e2e package check `.ok` here, and a flipped bit is an error.
    func testAgainstAutosarE2EPackageVectors() throws {
        let rows = try fixtureRows("e2e_vectors.txt")
        XCTAssertGreaterThan(rows.count, 250)
        var checked = 0
        for row in rows {
            let data = hexBytes(row.last!)
            let status: (([UInt8]) -> E2EStatus)
            switch row[0] {
            case "p01":
                let mode = [E2EProfile1Config.DataIDMode.both, .alternating, .low, .nibble][Int(row[1])!]
                let cfg = E2EProfile1Config(dataID: UInt16(row[2])!, dataIDMode: mode, dataLength: data.count * 8)
                status = { d in var s = E2ECheckState(); return d.withUnsafeBytes { cfg.check($0, state: &s) } }
            case "p02":
                let cfg = E2EProfile2Config(dataIDList: hexBytes(row[1]), dataLength: data.count * 8)
                status = { d in var s = E2ECheckState(); return d.withUnsafeBytes { cfg.check($0, state: &s) } }
            case "p04":
                let off = Int(row[2])! * 8
                let cfg = E2EProfile4Config(dataID: UInt32(row[1])!, offset: off, minDataLength: off + 96)
                status = { d in var s = E2ECheckState(); return d.withUnsafeBytes { cfg.check($0, state: &s) } }
            default:
                let off = Int(row[2])! * 8
                let cfg = E2EProfile5Config(dataID: UInt16(row[1])!, offset: off, dataLength: data.count * 8)
                status = { d in var s = E2ECheckState(); return d.withUnsafeBytes { cfg.check($0, state: &s) } }
            }
            XCTAssertEqual(status(data), .ok, row.joined(separator: " "))
            for bit in 0..<(data.count * 8) {
                // A flipped counter bit also swaps the data id fed to the CRC (P02's list entry, P01
                // alternating mode's low/high byte): two changes at once, which an 8-bit CRC need not catch.
                if row[0] == "p02" && (8..<12).contains(bit) { continue }
                if row[0] == "p01" && row[1] == "1" && bit == 8 { continue }
                var flipped = data
                flipped[bit / 8] ^= 1 << UInt8(bit % 8)
                XCTAssertEqual(status(flipped), .error, "\(row.joined(separator: " ")) bit \(bit)")
            }
            checked += 1
        }
        XCTAssertEqual(checked, rows.count)
    }
}
