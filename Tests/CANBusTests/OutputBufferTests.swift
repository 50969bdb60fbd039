import XCTest
@testable import CANBus

final class OutputBufferTests: XCTestCase {
    func written(_ body: (inout UnsafeMutablePointer<UInt8>) -> Void) -> String {
        let out = OutputBuffer(capacity: 64)
        var p = out.reserve(64)
        body(&p)
        out.commit(upTo: p)
        return out.string
    }

    /// The formatter writes exactly what `Double.description` says, on random bit patterns
    /// (every exponent, subnormals) and on the values scaled signals produce.
    func testDoublesAreWrittenAsDescriptionSpellsThem() {
        var rng = SystemRandomNumberGenerator()
        var values: [Double] = [0.1, -0.7000000000000001, 1789322835525632.0, 519.1000000000001, 1e-7, .leastNonzeroMagnitude, .greatestFiniteMagnitude, -0.0, 1e15, 123456.789]
        for _ in 0..<20_000 { values.append(Double(bitPattern: rng.next())) }
        let factors = [0.1, 0.01, 0.001, 1e-7, 0.25, 0.4, 0.05, 0.5, 0.03125, 0.0625, 0.005, 1.0 / 3, 0.0001, 0.00390625, 1e-5, 0.3, 2.5]
        for _ in 0..<40_000 {
            values.append(Double(Int64.random(in: -10_000_000...10_000_000)) * factors.randomElement()! + [0, 0, -40, 0.5, -1000].randomElement()!)
        }
        values += [0.001, 0.0009999, 0.00100001, 999_999_999.9, 1e9, 123456789.123456, 0.0015, 99.99999, 1e-4, 12.3456785]
        for v in values where v.isFinite {
            XCTAssertEqual(written { TextWriter.double(&$0, v) }, v.description)
        }
    }

    func testJSONNumbersIntegersAndTimestamps() {
        XCTAssertEqual(written { TextWriter.jsonNumber(&$0, 42) }, "42")
        XCTAssertEqual(written { TextWriter.jsonNumber(&$0, -3.5) }, "-3.5")
        XCTAssertEqual(written { TextWriter.jsonNumber(&$0, .nan) }, "\"NaN\"")
        XCTAssertEqual(written { TextWriter.jsonNumber(&$0, -.infinity) }, "\"-Infinity\"")
        XCTAssertEqual(written { TextWriter.decimal(&$0, Int64.min) }, "-9223372036854775808")
        XCTAssertEqual(written { TextWriter.decimal(&$0, UInt64.max) }, "18446744073709551615")
        XCTAssertEqual(written { TextWriter.timestamp(&$0, CANTimestamp(seconds: 12, nanoseconds: 5_000, fractionDigits: 6), minimumSecondsDigits: 10) }, "0000000012.000005")
        XCTAssertEqual(written { TextWriter.hex(&$0, 0x1ABCDEF0, width: 8); TextWriter.hexByte(&$0, 0x0F) }, "1ABCDEF00F")
    }

    func testGrowsKeepingWhatWasWritten() {
        let out = OutputBuffer(capacity: 64)
        for i in 0..<1000 { out.append("line \(i)\n") }
        XCTAssertTrue(out.string.hasPrefix("line 0\nline 1\n"))
        XCTAssertTrue(out.string.hasSuffix("line 999\n"))
    }
}
