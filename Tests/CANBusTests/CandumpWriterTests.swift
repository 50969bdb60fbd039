import XCTest
@testable import CANBus

final class CandumpWriterTests: XCTestCase {
    /// Every form can-utils writes must come back byte for byte.
    func testLogLinesRoundTripExactly() throws {
        let lines = [
            "(1436509052.249713) vcan0 123#DEADBEEF",
            "(1436509052.249713) vcan0 123#",
            "(0000000001.000000) can1 1ABCDEF0#0102030405060708",
            "(1700000000.123456789) vcan0 7FF#00",
            "(1436509052.249713) vcan0 123#R",
            "(1436509052.249713) vcan0 123#R3",
            "(1436509052.249713) vcan0 123#R8_F",
            "(1436509052.249713) vcan0 123#1122334455667788_9",
            "(1436509052.249713) vcan0 123##1" + String(repeating: "5A", count: 64),
            "(1436509052.249713) vcan0 00000123##0",
            "(1436509052.249713) vcan0 123##F0102030405060708090A0B0C",
            "(1436509052.249713) vcan0 20000080#0000000000000000",
        ]
        for line in lines {
            var names = InterfaceNames()
            var copy = line
            let record = try copy.withUTF8 { try CandumpParser.parse(UnsafeRawBufferPointer($0), lineNumber: 1, interfaces: &names) }
            XCTAssertEqual(CandumpWriter.logLine(record), line + "\n")
        }
    }

    func testSecondsArePaddedToTenDigitsAsCandumpDoes() {
        let r = CANLogRecord(timestamp: CANTimestamp(seconds: 12, microseconds: 5), interface: "can0",
                             frame: .data(CANDataFrame(id: CANID(0x1, extended: false)!, bytes: [0xA])))
        XCTAssertEqual(CandumpWriter.logLine(r), "(0000000012.000005) can0 001#0A\n")
    }
}
