import XCTest
import Foundation
@testable import VehicleState

final class StoreTests: XCTestCase {
    func testReadsSeeWholeEntriesWhileAWriterRuns() {
        let store = VehicleStateStore(pathCount: 4)
        let writes = 200_000
        let done = expectation(description: "writer")
        Thread.detachNewThread {
            for i in 1...writes { store.publish(i % 4, value: Double(i), timestampNanoseconds: Int64(i), source: i % 4) }
            done.fulfill()
        }
        var torn = 0, reads = 0
        while store.version < UInt64(writes) {
            for p in 0..<4 {
                guard let e = store.read(p) else { continue }
                reads += 1
                // Each write stores value == time and source == path: a torn read would mix them.
                if Int64(e.value) != e.timestampNanoseconds || e.source != p { torn += 1 }
            }
        }
        wait(for: [done], timeout: 30)
        XCTAssertEqual(torn, 0)
        XCTAssertGreaterThan(reads, 0)
    }

    func testChangesAreCoalescedPerPath() {
        let store = VehicleStateStore(pathCount: 3)
        store.publish(0, value: 1, timestampNanoseconds: 1, source: 0)
        let seen = store.version
        store.publish(1, value: 2, timestampNanoseconds: 2, source: 0)
        store.publish(1, value: 3, timestampNanoseconds: 3, source: 0)
        store.publish(2, value: 4, timestampNanoseconds: 4, source: 0)
        let changes = store.changes(since: seen)
        XCTAssertEqual(changes.map(\.path), [1, 2])
        XCTAssertEqual(changes.first?.entry.value, 3, "a slow reader gets the latest value only")
        XCTAssertNil(VehicleStateStore(pathCount: 1).read(0))
    }
}

extension StoreTests {
    func testASlowSubscriberGetsTheLatestValueOfEveryChangedPath() async throws {
        let store = VehicleStateStore(pathCount: 3)
        let subscriber = store.subscribe()
        for i in 1...1000 { store.publish(i % 2, value: Double(i), timestampNanoseconds: Int64(i), source: 0) }
        let batch = try await subscriber.next()
        XCTAssertEqual(batch.map(\.path).sorted(), [0, 1])
        XCTAssertEqual(batch.first { $0.path == 0 }?.entry.value, 1000)
        XCTAssertEqual(batch.first { $0.path == 1 }?.entry.value, 999)
        store.publish(2, value: 7, timestampNanoseconds: 1001, source: 0)
        let next = try await subscriber.next()
        XCTAssertEqual(next.map(\.path), [2])
    }
}
