import XCTest
@testable import VehicleState
import CANBus

/// The bundled demo drive through DBC -> mapping -> store -> context, checked at the moments
/// the drive was scripted around (scripts/make_demo_log.py documents its timeline).
final class DemoDriveReplayTests: XCTestCase {
    static let start = 1_700_000_000.0
    static let checkpoints: [Double] = [2, 5, 15, 20, 33, 54, 57, 61, 69]
    static let contexts: [Double: DrivingContext] = replay()

    static func replay() -> [Double: DrivingContext] {
        var contexts: [Double: DrivingContext] = [:]
        let mapping = try! CompiledMapping.load(path: MappingTests.root + "/DBC/demo_mapping.yaml")
        var engine = VehicleStateEngine(mapping: mapping)
        engine.context = DrivingContextTracker(mapping: mapping)
        var reader = try! CandumpReader(path: MappingTests.root + "/DBC/demo_drive.log")
        var pending = checkpoints
        while let r = try! reader.next() {
            while let next = pending.first, r.timestamp.timeInterval >= start + next {
                contexts[next] = engine.context!.snapshot(engine, now: CANTimestamp(totalNanoseconds: Int64((start + next) * 1e9)))
                pending.removeFirst()
            }
            engine.ingest(bus: 0, r)
        }
        if let last = pending.first { contexts[last] = engine.context!.snapshot(engine) }
        return contexts
    }

    func at(_ t: Double) -> DrivingContext { Self.contexts[t]! }

    func testParkedAtTheStartThenReversingOutOfTheSpace() {
        XCTAssertEqual(at(2).motion, .parked)
        XCTAssertEqual(at(2).gear.value?.label, "P")
        XCTAssertEqual(at(5).motion, .reversing)
        XCTAssertEqual(at(5).gear.value?.label, "R")
        XCTAssertEqual(at(5).gear.value?.current, -1)
    }

    func testDrivingForwardAndStoppingAtTheTrafficLight() {
        XCTAssertEqual(at(15).motion, .moving)
        XCTAssertEqual(at(20).motion, .moving)
        XCTAssertGreaterThan(at(20).speed.value!, 30)
        XCTAssertEqual(at(33).motion, .stopped)
        XCTAssertEqual(at(33).speed.value, 0)
        XCTAssertEqual(at(33).speed.state, .fresh)
    }

    func testPositionGoesStaleInTheTunnelAndRecovers() {
        XCTAssertEqual(at(54).location.state, .stale)
        XCTAssertGreaterThan(at(54).location.ageSeconds!, 3)
        XCTAssertNotNil(at(54).location.value, "a stale location keeps its last value, marked stale")
        XCTAssertEqual(at(54).speed.state, .fresh, "speed does not depend on GNSS")
        XCTAssertEqual(at(57).location.state, .stale)
        XCTAssertEqual(at(61).location.state, .fresh)
        XCTAssertLessThan(at(61).location.ageSeconds!, 0.5)
    }

    func testParkedAtTheEndWithDistanceTravelled() {
        XCTAssertEqual(at(69).motion, .parked)
        XCTAssertEqual(at(69).gear.value?.label, "P")
        XCTAssertEqual(at(69).gear.value?.parkLockEngaged, true)
        // ~0.39 km by the speed integral; the GNSS track of the same drive is ~0.4 km.
        XCTAssertEqual(at(69).distanceKm, 0.385, accuracy: 0.02)
    }

    func testJSONHasUnitsInFieldNamesAndStates() {
        let json = at(54).json
        for key in ["\"speed_kmh\"", "\"latitude_deg\"", "\"state\": \"stale\"", "\"age_s\"", "\"motion\": \"moving\"", "\"distance_km\""] {
            XCTAssertTrue(json.contains(key), "\(key) missing in \(json)")
        }
    }
}
