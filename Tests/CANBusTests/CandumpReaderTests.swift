import XCTest
import Foundation
@testable import CANBus
@testable import CANLog
#if canImport(Glibc)
import Glibc
#endif

final class CandumpReaderTests: XCTestCase {
    func write(_ text: String) -> String {
        let path = NSTemporaryDirectory() + "reader-\(UUID().uuidString).log"
        _ = FileManager.default.createFile(atPath: path, contents: Data(text.utf8))
        return path
    }

    func testLinesAcrossChunkBoundariesAreReadWhole() throws {
        var text = ""
        for i in 0..<500 { text += "(1700000000.\(String(format: "%06d", i))) vcan0 123#\(String(format: "%04X", i))\n" }
        let path = write(text)
        var reader = try CandumpReader(path: path, chunkSize: 64)  // smaller than two lines
        var n = 0
        while let r = try reader.next() {
            XCTAssertEqual(r.timestamp.nanoseconds, UInt32(n) * 1000)
            XCTAssertEqual(r.frame.bytes, [UInt8(n >> 8), UInt8(n & 0xFF)])
            n += 1
        }
        XCTAssertEqual(n, 500)
    }

    func testLenientModeReportsAndGoesOn() throws {
        let path = write("(1.000000) vcan0 123#00\r\nbroken line\n\n# a comment\n(2.000000) vcan0 124#01\n(3.000000) vcan0 125#0")
        var reader = try CandumpReader(path: path, mode: .lenient)
        var ids: [UInt32] = []
        while let r = try reader.next() { ids.append(r.frame.id!.value) }
        XCTAssertEqual(ids, [0x123, 0x124])
        XCTAssertEqual(reader.errorCount, 2)
        XCTAssertEqual(reader.firstErrors.map(\.line), [2, 6])
        XCTAssertEqual(reader.firstErrors.first?.file, path)
    }

    func testStrictModeStopsAtTheFirstMalformedLine() throws {
        let path = write("(1.000000) vcan0 123#00\n(2.000000) vcan0 XYZ#00\n(3.000000) vcan0 124#00\n")
        var reader = try CandumpReader(path: path, mode: .strict)
        XCTAssertNotNil(try reader.next())
        XCTAssertThrowsError(try reader.next()) { error in
            guard case .malformed(let e) = error as? CANIOError else { return XCTFail("\(error)") }
            XCTAssertEqual(e.line, 2)
            XCTAssertEqual(e.column, 18)
        }
    }

    func testAnOverlongLineIsSkippedWithBoundedMemory() throws {
        let path = write("(1.000000) vcan0 123#00\n" + String(repeating: "A", count: 50_000) + "\n(2.000000) vcan0 124#01\n")
        var reader = try CandumpReader(path: path, mode: .lenient, chunkSize: 8192)
        var ids: [UInt32] = []
        while let r = try reader.next() { ids.append(r.frame.id!.value) }
        XCTAssertEqual(ids, [0x123, 0x124])
        XCTAssertEqual(reader.errorCount, 1)
    }

    func testMissingFileIsAnErrnoValue() {
        do {
            _ = try CandumpReader(path: "/nonexistent/x.log")
            XCTFail("opened a missing file")
        } catch {
            guard case .system(let e) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(e.errno, ENOENT)
            XCTAssertTrue(e.operation.contains("/nonexistent/x.log"))
        }
    }
}
