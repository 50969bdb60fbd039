import CANBus
import DBC
import Foundation
import Simulate
import XCTest

final class SimulateTests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..").standardized.path

    func log(_ scenario: DriveScenario, seed: UInt64 = 7) throws -> String {
        let db = try Database.load(path: Self.root + "/DBC/demo_vehicle.dbc")
        var sim = try DriveSimulator(database: db, scenario: scenario, seed: seed, interface: "vcan0")
        var out = TextBuffer(capacity: 1 << 22)
        try sim.run { CandumpWriter.appendLogLine($0, to: &out) }
        return out.string
    }

    /// DBC/demo_drive.log, which tests replay, is exactly what `simulate --scenario short` writes.
    func testTheBundledShortDriveIsTheScriptedScenario() throws {
        let bundled = try String(contentsOfFile: Self.root + "/DBC/demo_drive.log", encoding: .utf8)
        XCTAssertTrue(try log(.scripted) == bundled, "regenerate it: vehicle-gateway simulate --scenario short -o DBC/demo_drive.log")
    }

    func testTheSameSeedGivesTheSameDriveAndAnotherSeedAnother() throws {
        let a = try log(DriveScenario(seed: 3, minutes: 1.5), seed: 3)
        XCTAssertEqual(a, try log(DriveScenario(seed: 3, minutes: 1.5), seed: 3))
        XCTAssertNotEqual(a, try log(DriveScenario(seed: 4, minutes: 1.5), seed: 4))
    }

    func testTheScriptedDriveFollowsItsTimeline() {
        let s = DriveScenario.scripted
        XCTAssertEqual(s.duration, 69)
        XCTAssertEqual(s.speed(at: 2), 0)
        XCTAssertLessThan(s.speed(at: 6), 0, "reversing")
        XCTAssertEqual(s.speed(at: 22), 50)
        XCTAssertEqual(s.speed(at: 33), 0, "at the red light")
        XCTAssertTrue(s.tunnel.contains(54) && !s.tunnel.contains(60))
    }
}
