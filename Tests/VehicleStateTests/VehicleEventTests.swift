import XCTest
import Foundation
@testable import VehicleState
import CANBus
import CANLog

/// The events of the bundled 69 s drive, each at the moment the scenario puts it.
final class VehicleEventTests: XCTestCase {
    func testTheDemoDriveEventsHappenWhenTheScenarioSays() throws {
        let mapping = try CompiledMapping.load(path: MappingTests.root + "/DBC/demo_mapping.yaml")
        var engine = VehicleStateEngine(mapping: mapping)
        var tracker = DrivingContextTracker(mapping: mapping)
        var reader = try CandumpReader(path: MappingTests.root + "/DBC/demo_drive.log", mode: .strict)
        var first: Int64?
        while let f = try reader.nextFrame() {
            let t = f.timestamp.totalNanoseconds
            if first == nil { first = t }
            let result = engine.ingest(bus: 0, timestamp: t, arrival: 0, f.frame)
            let changed = (0..<result.changedCount).map { Int(engine.changedPaths[$0]) }
            if changed.contains(where: tracker.isInput) {
                tracker.update(store: engine.store, speedChanged: changed.contains(tracker.paths.speed!), now: t)
            }
        }
        let events = tracker.output.events.events()
        let seen = events.map { ($0.kind.name, Double($0.timestampNanoseconds - first!) / 1e9) }
        // (event, earliest, latest) in scenario seconds, in order.
        let expected: [(String, Double, Double)] = [
            ("departed", 3.5, 5.5),            // reversing out of the space
            ("stopped", 9.0, 10.5),            // stopped to shift into D
            ("stopped", 28.5, 30.5),           // the red light
            ("rain_started", 48.2, 49.5),      // rain from 46 s, the wipers from 48.7 s
            ("tunnel_entered", 50.5, 52.0),    // GNSS silent from 50.5 s
            ("gnss_restored", 58.5, 60.0),
            ("stopped", 64.5, 66.5),
            ("parked", 66.0, 67.5),
        ]
        let kinds = seen.map(\.0).filter { $0 != "hard_braking" }
        XCTAssertEqual(kinds, expected.map(\.0), "\(seen)")
        var k = 0
        for (name, t) in seen where name != "hard_braking" && k < expected.count {
            XCTAssertTrue(t >= expected[k].1 && t <= expected[k].2, "\(name) at \(t) s, expected \(expected[k].1)-\(expected[k].2)")
            k += 1
        }
        // Braking into the red light and at the end is hard enough to say so.
        XCTAssertTrue(seen.contains { $0.0 == "hard_braking" && $0.1 > 24 && $0.1 < 30 }, "\(seen)")
        XCTAssertEqual(Set(events.map(\.id)).count, events.count)
        XCTAssertEqual(events.map(\.id), Array(1...UInt64(events.count)))
    }

    func testTheLogKeepsTheNewestAndReadersNeverSeeATornEvent() {
        let log = VehicleEventLog()
        XCTAssertEqual(log.events(), [])
        for k in 0..<1000 { log.append(k % 2 == 0 ? .stopped : .departed, at: Int64(k)) }
        let all = log.events()
        XCTAssertEqual(all.count, VehicleEventLog.capacity)
        XCTAssertEqual(all.first?.id, UInt64(1000 - VehicleEventLog.capacity + 1))
        XCTAssertEqual(all.last?.id, 1000)
        XCTAssertTrue(all.allSatisfy { $0.timestampNanoseconds == Int64($0.id) - 1 && $0.kind == ($0.id % 2 == 1 ? .stopped : .departed) })
        XCTAssertEqual(log.events(after: 995).map(\.id), [996, 997, 998, 999, 1000])
        XCTAssertEqual(log.events(limit: 3).map(\.id), [998, 999, 1000])
        // A reader racing a writer: every event it returns is whole and in order.
        let done = ManagedAtomicFlag()
        let writer = Thread {
            for k in 1000..<200_000 { log.append(.hardBraking, at: Int64(k)) }
            done.set()
        }
        writer.start()
        while !done.isSet {
            let got = log.events(limit: 64)
            XCTAssertTrue(zip(got, got.dropFirst()).allSatisfy { $0.id + 1 == $1.id }, "ids out of order")
            XCTAssertTrue(got.allSatisfy { $0.timestampNanoseconds == Int64($0.id) - 1 }, "a torn event")
        }
    }
}

/// A flag one thread sets and another polls.
final class ManagedAtomicFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    func set() { lock.lock(); value = true; lock.unlock() }
    var isSet: Bool { lock.lock(); defer { lock.unlock() }; return value }
}
