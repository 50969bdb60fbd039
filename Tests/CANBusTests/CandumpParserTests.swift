import XCTest
@testable import CANBus

final class CandumpParserTests: XCTestCase {
    func parse(_ line: String) throws -> CANLogRecord {
        var names = InterfaceNames()
        var copy = line
        return try copy.withUTF8 { utf8 in
            try CandumpParser.parse(UnsafeRawBufferPointer(utf8), lineNumber: 7, interfaces: &names)
        }
    }

    func parseError(_ line: String) -> Diagnostic? {
        do { _ = try parse(line); return nil } catch let e as Diagnostic { return e } catch { return nil }
    }

    func testClassicFrameWithMicrosecondTimestamp() throws {
        let r = try parse("(1436509052.249713) vcan0 123#DEADBEEF")
        XCTAssertEqual(r.timestamp, CANTimestamp(seconds: 1436509052, nanoseconds: 249_713_000))
        XCTAssertEqual(r.timestamp.fractionDigits, 6)
        XCTAssertEqual(r.interface, "vcan0")
        guard case .data(let f) = r.frame else { return XCTFail("expected a data frame") }
        XCTAssertEqual(f.id, CANID(0x123, extended: false))
        XCTAssertEqual(f.bytes, [0xDE, 0xAD, 0xBE, 0xEF])
    }

    func testNanosecondTimestampIsKeptExactly() throws {
        let r = try parse("(1700000000.123456789) can1 7FF#")
        XCTAssertEqual(r.timestamp.seconds, 1_700_000_000)
        XCTAssertEqual(r.timestamp.nanoseconds, 123_456_789)
        XCTAssertEqual(r.timestamp.fractionDigits, 9)
        XCTAssertEqual(r.frame.length, 0)
    }

    /// Every timestamp form candump writes: -t a (as -l), -t A (date and time), -t d and -t z
    /// (seconds since the previous / first frame, three digits).
    func testEveryCandumpTimestampForm() throws {
        let absolute = try parse("(2020-12-19 12:04:45.485261)  vcan0  0C8   [8]  F0 00 00 00 00 00 00 00")
        XCTAssertEqual(absolute.timestamp, CANTimestamp(seconds: 1_608_379_485, nanoseconds: 485_261_000))  // date -u -d '2020-12-19 12:04:45' +%s
        XCTAssertEqual(absolute.interface, "vcan0")
        XCTAssertEqual(absolute.frame.length, 8)
        XCTAssertEqual(try parse("(2020-12-19 12:04:45.485261) vcan0 0C8#F0").timestamp.seconds, 1_608_379_485)
        XCTAssertEqual(try parse("(1970-01-01 00:00:00.000001) vcan0 0C8#F0").timestamp, CANTimestamp(seconds: 0, nanoseconds: 1000))
        XCTAssertEqual(try parse("(2024-02-29 23:59:60.5) vcan0 0C8#F0").timestamp.seconds, 1_709_251_200)  // leap day, leap second
        let delta = try parse("(000.000213)  vcan0  0C8   [2]  F0 01")
        XCTAssertEqual(delta.timestamp, CANTimestamp(seconds: 0, nanoseconds: 213_000))
        XCTAssertEqual(try parse("(012.500000) vcan0 0C8#F0").timestamp.seconds, 12)
        let month = parseError("(2020-13-19 12:04:45.485261) vcan0 0C8#F0")
        XCTAssertEqual(month?.message.hasPrefix("the month 13 is out of range 1-12"), true, "\(String(describing: month))")
        XCTAssertEqual(month?.column, 7)
        XCTAssertEqual(parseError("(2020-12-19T12:04:45.485261) vcan0 0C8#F0")?.message, "expected ' ' before the hour in the date (found 'T')")
        XCTAssertEqual(parseError("(2020-12-19 12:04.485261) vcan0 0C8#F0")?.message, "expected ':' before the second in the date (found '.')")
    }

    func testExtendedIdHasEightDigits() throws {
        let r = try parse("(0.000001) vcan0 18FF1020#0102")
        XCTAssertEqual(r.frame.id, CANID(0x18FF1020, extended: true))
        // 8 digits mean extended even for a small value.
        XCTAssertEqual(try parse("(0.000001) vcan0 00000123#").frame.id, CANID(0x123, extended: true))
    }

    func testRemoteFramesWithAndWithoutDLC() throws {
        XCTAssertEqual(try parse("(1.000000) vcan0 123#R").frame, .remote(CANRemoteFrame(id: CANID(0x123, extended: false)!, dlc: 0)))
        XCTAssertEqual(try parse("(1.000000) vcan0 123#R4").frame, .remote(CANRemoteFrame(id: CANID(0x123, extended: false)!, dlc: 4)))
        XCTAssertEqual(try parse("(1.000000) vcan0 123#r8_E").frame,
                       .remote(CANRemoteFrame(id: CANID(0x123, extended: false)!, dlc: 8, len8DLC: 0xE)))
    }

    func testFDFrameWithFlagsNibble() throws {
        let r = try parse("(1.000000) vcan0 123##5" + String(repeating: "AB", count: 12))
        guard case .fd(let f) = r.frame else { return XCTFail("expected an FD frame") }
        XCTAssertEqual(f.length, 12)
        XCTAssertEqual(f.flags, 5)
        XCTAssertTrue(f.bitRateSwitch)
        XCTAssertFalse(f.errorStateIndicator)
        XCTAssertEqual(f.bytes, [UInt8](repeating: 0xAB, count: 12))
    }

    func testFDFrameOfInvalidLengthIsRejected() {
        let e = parseError("(1.000000) vcan0 123##1" + String(repeating: "00", count: 9))
        XCTAssertNotNil(e)
        XCTAssertTrue(e!.message.contains("valid lengths"), e!.message)
    }

    func testClassicRawDLCSuffix() throws {
        guard case .data(let f) = try parse("(1.000000) vcan0 123#1122334455667788_C").frame else { return XCTFail() }
        XCTAssertEqual(f.len8DLC, 0xC)
        XCTAssertEqual(f.length, 8)
    }

    func testErrorFrameHasErrorFlagInId() throws {
        guard case .error(let e) = try parse("(1.000000) vcan0 20000004#0004000000000000").frame else { return XCTFail() }
        XCTAssertEqual(e.errorClass, 0x4)
        XCTAssertEqual(e[byte: 1], 0x04)
    }

    func testDotSeparatedDataAsCansendAccepts() throws {
        XCTAssertEqual(try parse("(1.000000) vcan0 123#DE.AD.BE.EF").frame.bytes, [0xDE, 0xAD, 0xBE, 0xEF])
    }

    func testDirectionMarkerAndCRLFAreAccepted() throws {
        XCTAssertEqual(try parse("(1.000000) vcan0 123#01 R").frame.bytes, [1])
        XCTAssertEqual(try parse("(1.000000) vcan0 123#01\r").frame.bytes, [1])
    }

    func testConsoleFormat() throws {
        let r = try parse("  vcan0  123   [4]  DE AD BE EF")
        XCTAssertEqual(r.frame, .data(CANDataFrame(id: CANID(0x123, extended: false)!, bytes: [0xDE, 0xAD, 0xBE, 0xEF])))
        let t = try parse("(1436509052.249713)  vcan0  1ABCDEF0   [2]  01 02")
        XCTAssertEqual(t.timestamp.nanoseconds, 249_713_000)
        XCTAssertEqual(t.frame.id, CANID(0x1ABCDEF0, extended: true))
        guard case .fd(let fd) = try parse("  can1  123  [12]  00 01 02 03 04 05 06 07 08 09 0A 0B").frame else { return XCTFail() }
        XCTAssertEqual(fd.length, 12)
        XCTAssertEqual(fd.payload[11], 0x0B)
        XCTAssertEqual(try parse("  vcan0  123   [3]  remote request").frame,
                       .remote(CANRemoteFrame(id: CANID(0x123, extended: false)!, dlc: 3)))
        XCTAssertEqual(try parse("  vcan0  123   [2]  41 42   'AB'").frame.bytes, [0x41, 0x42])
    }

    func testMalformedLinesSayWhereAndWhat() {
        let cases: [(String, Int, String)] = [
            ("(1436509052.249713) vcan0 12#00", 27, "3 (standard) or 8 (extended)"),
            ("(1436509052.249713) vcan0 123#0", 32, "second hex digit"),
            ("(1436509052.249713 vcan0 123#00", 19, "')'"),
            ("(1436509052.249713) vcan0 800#00", 27, "above 7FF"),
            ("(1436509052.249713) vcan0 123#001122334455667788", 47, "more than 8"),
            ("(1436509052.249713) vcan0 123#00 junk", 34, "end of the line"),
            ("(x) vcan0 123#00", 2, "seconds"),
            ("(1436509052.249713) vcan0 123##G00", 32, "flags nibble"),
        ]
        for (line, column, expected) in cases {
            guard let e = parseError(line) else { XCTFail("accepted: \(line)"); continue }
            XCTAssertEqual(e.line, 7, line)
            XCTAssertEqual(e.column, column, "\(line): \(e)")
            XCTAssertTrue(e.message.contains(expected), "\(line): \(e.message)")
            XCTAssertTrue(e.description.hasPrefix("<input>:7:\(column): error:"), e.description)
        }
    }

    func testStandardAndExtendedIdsAreDistinct() {
        XCTAssertNotEqual(CANID(0x123, extended: false), CANID(0x123, extended: true))
        XCTAssertNil(CANID(0x800, extended: false))
        XCTAssertNil(CANID(0x2000_0000, extended: true))
    }

    func testClassicFrameIsSixteenBytes() {
        XCTAssertEqual(MemoryLayout<CANDataFrame>.stride, 16)
    }
}

/// Inputs the fuzzers found; each once broke a round trip or crashed.
final class CandumpFuzzRegressionTests: XCTestCase {
    func testInterfaceNameWithNonASCIIBytesIsRejectedNotMangled() {
        var names = InterfaceNames()
        let line: [UInt8] = Array("(1.000000) ".utf8) + [0xFF, 0xFE] + Array("vcan0 123#01".utf8)
        XCTAssertThrowsError(try line.withUnsafeBytes { try CandumpParser.parse($0, lineNumber: 1, interfaces: &names) }) { error in
            XCTAssertEqual((error as? Diagnostic)?.column, 12)
        }
    }
}

/// The fast path for plain `candump -l` lines must read exactly what the general parser reads,
/// and leave every other line to it.
final class FastLogFrameTests: XCTestCase {
    func general(_ line: String, _ names: inout InterfaceNames) -> LogFrame? {
        var l = line
        return l.withUTF8 { try? CandumpParser.generalLogFrame(UnsafeRawBufferPointer($0), lineNumber: 1, interfaces: &names) }
    }

    func fast(_ line: String, _ names: inout InterfaceNames) -> LogFrame? {
        var l = line
        var f = LogFrame()
        return l.withUTF8 { CandumpParser.fastLogFrame(UnsafeRawBufferPointer($0), interfaces: &names, into: &f) } ? f : nil
    }

    func testAgreesWithTheGeneralParserOnRandomAndMangledLines() {
        var rng = SystemRandomNumberGenerator()
        let pieces = ["(", ")", ".", "#", "##", " ", "R", "_", "1", "F", "x", "\r", "vcan0", "123", "1ABCDEF0", "20000080", "800"]
        var fastHits = 0
        for n in 0..<30_000 {
            var line: String
            let bytes = (0..<Int.random(in: 0...8, using: &rng)).map { _ in String(format: "%02X", UInt8.random(in: 0...255, using: &rng)) }.joined()
            let id = Bool.random(using: &rng) ? String(format: "%03X", UInt32.random(in: 0...0x7FF, using: &rng)) : String(format: "%08X", UInt32.random(in: 0...0x1FFF_FFFF, using: &rng))
            line = "(\(UInt64.random(in: 0...2_000_000_000, using: &rng)).\(String(format: "%06d", Int.random(in: 0...999_999, using: &rng)))) can\(n % 3) \(id)#\(bytes)"
            if n % 5 == 1 { line = line.lowercased() }
            if n % 3 == 0 {
                // Mangle: insert, drop or replace a piece.
                var chars = Array(line)
                let at = Int.random(in: 0...chars.count, using: &rng)
                switch Int.random(in: 0..<3, using: &rng) {
                case 0: chars.insert(contentsOf: pieces.randomElement(using: &rng)!, at: at)
                case 1: if at < chars.count { chars.remove(at: at) }
                default: if at < chars.count { chars[at] = Character(pieces.randomElement(using: &rng)!.prefix(1).description.isEmpty ? "x" : pieces.randomElement(using: &rng)!.prefix(1).description) }
                }
                line = String(chars)
            }
            var a = InterfaceNames(), b = InterfaceNames()
            guard let f = fast(line, &a) else { continue }
            fastHits += 1
            guard let g = general(line, &b) else { return XCTFail("the fast path read what the general parser refuses: \(line)") }
            XCTAssertEqual(f.frame, g.frame, line)
            XCTAssertEqual(f.timestamp, g.timestamp, line)
            XCTAssertEqual(f.timestamp.fractionDigits, g.timestamp.fractionDigits, line)
            XCTAssertEqual(a.names[Int(f.interface)], b.names[Int(g.interface)], line)
        }
        XCTAssertGreaterThan(fastHits, 15_000, "the fast path takes the plain lines")
    }
}
