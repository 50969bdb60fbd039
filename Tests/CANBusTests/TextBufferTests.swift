import XCTest
@testable import CANBus

final class TextBufferTests: XCTestCase {
    func testDecimalsAndHex() {
        var b = TextBuffer()
        b.appendDecimal(UInt64.max); b.append(" ")
        b.appendDecimal(Int64.min); b.append(" ")
        b.appendDecimal(UInt64(7), minimumDigits: 3); b.append(" ")
        b.appendHex(0x1ABCDEF0, width: 8); b.append(" ")
        b.appendHex(0x7, width: 3)
        XCTAssertEqual(b.string, "18446744073709551615 -9223372036854775808 007 1ABCDEF0 007")
    }

    func testJSONStringEscapes() {
        var b = TextBuffer()
        b.appendJSONString("a\"b\\c\nd\u{01}é")
        XCTAssertEqual(b.string, #""a\"b\\c\nd\u0001é""#)
    }

    func testJSONNumbersIncludingNonFinite() {
        var b = TextBuffer()
        for v in [1.5, -2.0, .nan, .infinity, -.infinity, 1e-7, 123456789012345678.0] { b.appendJSONNumber(v); b.append(",") }
        XCTAssertEqual(b.string, #"1.5,-2,"NaN","Infinity","-Infinity",1e-07,1.2345678901234568e+17,"#)
    }
}
