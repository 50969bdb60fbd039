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

    func testVersionsSayWhichValueIsNewToAReader() {
        let store = VehicleStateStore(pathCount: 3)
        XCTAssertNil(store.read(0))
        XCTAssertEqual(store.version(of: 0), 0)
        store.publish(0, value: 1, timestampNanoseconds: 1, source: 0)
        let seen = store.version(of: 0)
        store.publish(1, value: 2, timestampNanoseconds: 2, source: 0)
        XCTAssertEqual(store.version(of: 0), seen, "another path's write leaves it alone")
        store.publish(0, value: 3, timestampNanoseconds: 3, source: 0, notify: false)
        XCTAssertEqual(store.version(of: 0), seen, "a refresh inside the deadband is not a change")
        XCTAssertEqual(store.read(0)?.timestampNanoseconds, 3)
        store.publish(0, value: 4, timestampNanoseconds: 4, source: 0)
        XCTAssertGreaterThan(store.version(of: 0), seen)
    }
}
