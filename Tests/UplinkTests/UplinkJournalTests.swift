import Foundation
import XCTest

@testable import Uplink

/// The on-disk queue: what was appended and not acknowledged comes back after a reopen, in
/// order; the acknowledged offset survives; a torn ack line means "from the start" (duplicates,
/// never loss); a torn last record is cut and counted.
final class UplinkJournalTests: XCTestCase {
    func directory() -> String {
        let d = NSTemporaryDirectory() + "journal-\(UUID().uuidString)"
        try! FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        return d
    }

    func message(_ i: Int) -> OutgoingMessage {
        OutgoingMessage(topic: "vehicles/t/context", payload: Array("{\"seq\":\(i)}".utf8), priority: UInt8(i % 10),
                        expiresNanoseconds: Int64(i), contentType: i % 2 == 0 ? "application/json" : nil)
    }

    func testUnacknowledgedMessagesComeBackInOrderAfterAReopen() throws {
        let d = directory()
        var pending: [(OutgoingMessage, UInt64)] = []
        var ends: [UInt64] = []
        do {
            let j = try UplinkJournal(directory: d, pending: &pending)
            for i in 0..<10 { ends.append(try XCTUnwrap(j.append(message(i)))) }
            j.acknowledge(upTo: ends[3])
        }
        let again = try UplinkJournal(directory: d, pending: &pending)
        XCTAssertEqual(pending.map { String(decoding: $0.0.payload, as: UTF8.self) }, (4..<10).map { "{\"seq\":\($0)}" })
        XCTAssertEqual(pending.map(\.1), Array(ends[4...]))
        XCTAssertEqual(pending.map(\.0.priority), (4..<10).map { UInt8($0 % 10) })
        XCTAssertEqual(pending.first?.0.contentType, "application/json")
        XCTAssertEqual(again.tornRecords, 0)
    }

    func testTheAckLineIsCheckedAndATornOneMeansFromTheStart() {
        let line = UplinkJournal.acknowledgedLine(123_456)
        XCTAssertEqual(line.count, 30)
        XCTAssertEqual(UplinkJournal.parseAcknowledged(line), 123_456)
        var torn = line
        torn[19] = UInt8(ascii: "7")
        XCTAssertNil(UplinkJournal.parseAcknowledged(torn))
        XCTAssertNil(UplinkJournal.parseAcknowledged(Array(line.prefix(24))))
        XCTAssertEqual(UplinkJournal.parseAcknowledged(Array("789\n".utf8)), 789)  // the first format
    }

    func testATornAckFileResendsEverythingRatherThanLosingAnything() throws {
        let d = directory()
        var pending: [(OutgoingMessage, UInt64)] = []
        do {
            let j = try UplinkJournal(directory: d, pending: &pending)
            var last: UInt64 = 0
            for i in 0..<5 { last = try XCTUnwrap(j.append(message(i))) }
            j.acknowledge(upTo: last - 1)
        }
        let ack = d + "/uplink-queue.ack"
        var bytes = try XCTUnwrap(FileManager.default.contents(atPath: ack))
        bytes[5] ^= 0x01
        try bytes.write(to: URL(fileURLWithPath: ack))
        _ = try UplinkJournal(directory: d, pending: &pending)
        XCTAssertEqual(pending.count, 5)
    }

    func testATornLastRecordIsCutAndCounted() throws {
        let d = directory()
        var pending: [(OutgoingMessage, UInt64)] = []
        do {
            let j = try UplinkJournal(directory: d, pending: &pending)
            for i in 0..<3 { _ = j.append(message(i)) }
        }
        let path = d + "/uplink-queue.log"
        let data = try XCTUnwrap(FileManager.default.contents(atPath: path))
        try data.prefix(data.count - 3).write(to: URL(fileURLWithPath: path))
        let j = try UplinkJournal(directory: d, pending: &pending)
        XCTAssertEqual(pending.count, 2)
        XCTAssertEqual(j.tornRecords, 1)
        XCTAssertEqual(j.end, pending.last?.1)
    }
}
