import CANBus
import XCTest
@testable import Gateway
import VehicleState

/// The bundled short drive (`simulate --scenario short`) replayed through the one frame path,
/// checked at the moments the scenario was scripted around.
final class DemoDriveTests: XCTestCase {
    static let start: Int64 = 1_700_000_000_000_000_000
    static let checkpoints: [Int64] = [2, 5, 15, 20, 33, 54, 57, 61, 69]
    static let contexts: [Int64: DrivingContext] = replay()

    static func replay() -> [Int64: DrivingContext] {
        let mapping = try! CompiledMapping.load(path: Fixtures.demoMapping)
        let state = GatewayState(mapping: mapping)
        var sink = RecordingSink(state)
        var pending = checkpoints
        var contexts: [Int64: DrivingContext] = [:]
        sink.onFrame = { sink, frame in
            while let next = pending.first, frame.timestamp >= start + next * 1_000_000_000 {
                let s = sink.path.state
                contexts[next] = DrivingContext.read(store: s.store, tracked: s.tracked, paths: s.contextPaths, now: start + next * 1_000_000_000)
                pending.removeFirst()
            }
        }
        var options = ReplaySource.Options(logs: [Fixtures.demoLog])
        options.fast = true
        try! ReplaySource(options, buses: try! BusResolver(mapping: mapping)).run(into: &sink)
        if let last = pending.first { contexts[last] = state.context() }
        return contexts
    }

    func at(_ t: Int64) -> DrivingContext { Self.contexts[t]! }

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
        XCTAssertEqual(at(20).accelerationTrend, .accelerating)
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
        // ~0.385 km by the speed integral, as the scenario's speed plan integrates.
        XCTAssertEqual(at(69).distanceKm, 0.385, accuracy: 0.02)
    }

    func testJSONHasUnitsInFieldNamesAndStates() {
        let json = at(54).json
        for key in ["\"speed_kmh\"", "\"latitude_deg\"", "\"state\": \"stale\"", "\"age_s\"", "\"motion\": \"moving\"", "\"distance_km\""] {
            XCTAssertTrue(json.contains(key), "\(key) missing in \(json)")
        }
    }
}
