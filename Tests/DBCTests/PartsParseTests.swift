import XCTest
@testable import DBC
import CANBus

/// A large file is parsed in two parts at once; what it gives must be what one parse gives:
/// the same statements in the same order, warnings with the same places, and for a broken file
/// the same error.
final class PartsParseTests: XCTestCase {
    /// About 600 KB: messages with signals, comments (some over several lines), attributes,
    /// value labels, and an unknown section in the second half (a warning with its place).
    func largeFile(breakAt brokenMessage: Int? = nil, stringAcrossTheMiddle: Bool = false) -> String {
        var text = "VERSION \"\"\n\nBU_: ECU GW\n\nBA_DEF_ BO_ \"GenMsgCycleTime\" INT 0 10000;\nBA_DEF_ SG_ \"GenSigStartValue\" FLOAT -1e9 1e9;\n"
        text += "BA_DEF_DEF_ \"GenMsgCycleTime\" 100;\nBA_DEF_DEF_ \"GenSigStartValue\" 0;\n\n"
        let count = 2400
        for m in 0..<count {
            text += "BO_ \(m + 1) Message\(m): 8 ECU\n"
            for s in 0..<4 {
                text += " SG_ Sig\(m)_\(s) : \(s * 16)|16@1\(s % 2 == 0 ? "+" : "-") (0.01,-\(s)) [0|655.35] \"km/h\" GW\n"
            }
            text += "\n"
            if m == brokenMessage { text += "BO_ oops\n" }
        }
        for m in 0..<count {
            text += m % 7 == 0 ? "CM_ BO_ \(m + 1) \"first line\nsecond line of message \(m)\";\n" : "CM_ SG_ \(m + 1) Sig\(m)_0 \"speed \(m)\";\n"
            if stringAcrossTheMiddle, m == count / 2 {
                text += "CM_ \"a network comment\nBA_ \"GenMsgCycleTime\" BO_ 1 20;\nthat looks like statements\";\n"
            }
        }
        for m in 0..<count {
            text += "BA_ \"GenMsgCycleTime\" BO_ \(m + 1) \(10 * (m % 10 + 1));\n"
            text += "BA_ \"GenSigStartValue\" SG_ \(m + 1) Sig\(m)_1 \(m);\n"
            if m == count - 100 { text += "SGTYPE_ Unknown : 8@1+ (1,0) [0|0] \"\" 0 ;\n" }
        }
        for m in 0..<count { text += "VAL_ \(m + 1) Sig\(m)_2 0 \"Off\" 1 \"On\" 2 \"Error in \(m % 13)\" ;\n" }
        return text
    }

    func bothWays(_ text: String) throws -> (parts: DBCFileSyntax?, whole: DBCFileSyntax) {
        let source = SourceText(fileName: "big.dbc", string: text)
        let parts = source.bytes.withUnsafeBufferPointer { DBCParser.parseInParts(source, $0) }
        let whole = try source.bytes.withUnsafeBufferPointer { (bytes) throws(Diagnostic) -> DBCFileSyntax in
            var parser = try DBCParser(source: source, bytes: bytes)
            try parser.parseFile()
            return parser.syntax
        }
        return (parts, whole)
    }

    func testTwoPartsGiveWhatOneParseGives() throws {
        let text = largeFile()
        XCTAssertGreaterThan(text.utf8.count, DBCParser.partsFrom)
        let (parts, whole) = try bothWays(text)
        let p = try XCTUnwrap(parts, "a clean large file is parsed in parts")
        XCTAssertEqual(p.statements.count, whole.statements.count)
        XCTAssertEqual(p.statements.map { "\($0)" }, whole.statements.map { "\($0)" })
        XCTAssertEqual(p.warnings.map(\.description), whole.warnings.map(\.description))
        XCTAssertEqual(whole.warnings.count, 1)
        // And through the public entry point, to the model.
        let db = DatabaseBuilder.build(try DBCParser.parse(SourceText(fileName: "big.dbc", string: text)))
        XCTAssertEqual(db.messages.count, 2400)
        XCTAssertEqual(db.messages[2399].cycleTimeMilliseconds, 100)
        XCTAssertEqual(db.messages[7].signals[2].valueLabels.map(\.label), ["Off", "On", "Error in 7"])
        XCTAssertEqual(db.messages[0].comment, "first line\nsecond line of message 0")
    }

    func testASplitInsideAStringFallsBackToOneParse() throws {
        // A comment whose lines look like BA_ statements; a split at one of them is refused.
        var text = largeFile()
        let fake = (0..<40).map { "BA_ fake \($0)" }.joined(separator: "\n")
        text += "CM_ \"notes\n\(fake)\";\n"
        let source = SourceText(fileName: "big.dbc", string: text)
        let inside = text.utf8.count - fake.utf8.count / 2 + 1
        let split = try XCTUnwrap(source.bytes.withUnsafeBufferPointer { b -> Int? in
            var i = inside
            while b[i - 1] != 0x0A { i += 1 }
            return i
        })
        let parts = source.bytes.withUnsafeBufferPointer { DBCParser.parseInParts(source, $0, at: split) }
        XCTAssertTrue(parts == nil, "a split inside a string is noticed")
        let db = DatabaseBuilder.build(try DBCParser.parse(source))
        XCTAssertEqual(db.comment, "notes\n" + fake)
        XCTAssertEqual(db.messages.count, 2400)
    }

    func testAnErrorInEitherHalfIsReportedAsOneParseReportsIt() throws {
        for broken in [100, 2300] {
            let text = largeFile(breakAt: broken)
            let source = SourceText(fileName: "big.dbc", string: text)
            XCTAssertTrue(source.bytes.withUnsafeBufferPointer { DBCParser.parseInParts(source, $0) } == nil)
            XCTAssertThrowsError(try DBCParser.parse(source)) { error in
                let d = error as! Diagnostic
                XCTAssertTrue(d.description.hasPrefix("big.dbc:"), d.description)
                XCTAssertTrue(d.description.contains("expected"), d.description)
            }
        }
    }
}
