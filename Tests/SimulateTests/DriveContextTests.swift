import CANBus
import DBC
import Foundation
import Simulate
import VehicleState
import XCTest

/// The derived context on simulated drives, against the scenario's own timeline: the phases,
/// rain, the passenger, energy and the events, each at the moment the plan puts it.
final class DriveContextTests: XCTestCase {
    struct Observed {
        var phases: [(DrivingPhase?, Double)] = []
        var events: [(String, Double)] = []
        var contexts: [(Double, DrivingContext)] = []
    }

    /// Replays a drive through the engine and the tracker as the frame path does, reading the
    /// context every `every` seconds of drive time.
    /// `silence`: message ids that fall silent from `silentFrom` s (their ECU stops sending).
    func observe(_ scenario: DriveScenario, seed: UInt64, mapping: CompiledMapping? = nil, every: Double = 1,
                 silence: Set<UInt32> = [], silentFrom: Double = .infinity) throws -> Observed {
        let db = try Database.load(path: SimulateTests.root + "/DBC/demo_vehicle.dbc")
        let mapping = try mapping ?? CompiledMapping.load(path: SimulateTests.root + "/DBC/demo_mapping.yaml")
        var sim = try DriveSimulator(database: db, scenario: scenario, seed: seed, interface: "vcan0")
        var engine = VehicleStateEngine(mapping: mapping)
        var tracker = DrivingContextTracker(mapping: mapping)
        let base = Int64(DriveSimulator.baseTime) * 1_000_000_000
        var seen = Observed()
        var nextRead = 0.0
        try sim.run { record in
            let t = record.timestamp.totalNanoseconds
            if Double(t - base) / 1e9 >= silentFrom, case .data(let f) = record.frame, silence.contains(f.id.value) {
                // Not received; the context is still read on time.
                let s = Double(t - base) / 1e9
                if s >= nextRead {
                    nextRead += every
                    seen.contexts.append((s, DrivingContext.read(store: engine.store, tracked: tracker.output, paths: tracker.paths, now: t)))
                }
                return
            }
            let result = engine.ingest(bus: 0, timestamp: t, arrival: 0, record.frame)
            let changed = (0..<result.changedCount).map { Int(engine.changedPaths[$0]) }
            if changed.contains(where: tracker.isInput) {
                tracker.update(store: engine.store, speedChanged: changed.contains(tracker.paths.speed!), now: t)
            }
            let s = Double(t - base) / 1e9
            let phase = tracker.output.phase?.phase
            if seen.phases.last?.0 != phase || seen.phases.isEmpty { seen.phases.append((phase, s)) }
            if s >= nextRead {
                nextRead += every
                seen.contexts.append((s, DrivingContext.read(store: engine.store, tracked: tracker.output, paths: tracker.paths, now: t)))
            }
        }
        seen.events = tracker.output.events.events().map { ($0.kind.name, Double($0.timestampNanoseconds - base) / 1e9) }
        return seen
    }

    func testTheCityDrivesPhasesFollowTheirScenarios() throws {
        for (seed, minutes): (UInt64, Double) in [(7, 10), (3, 6)] {
            let plan = DriveScenario(seed: seed, minutes: minutes)
            let seen = try observe(plan, seed: seed, every: 5)
            let names = seen.phases.compactMap { $0.0?.rawValue }
            let description = seen.phases.map { "\($0.0?.rawValue ?? "-")@\(Int($0.1))" }.joined(separator: " ")
            // parked → starting → driving, then driving and lights, then the search, parking, parked.
            XCTAssertEqual(Array(names.prefix(3)), ["parked", "starting", "driving"], description)
            XCTAssertEqual(Array(names.suffix(3)), ["parking_search", "parking", "parked"], description)
            XCTAssertEqual(Set(names.dropFirst(3).dropLast(3)), ["driving", "stopped_at_light"], description)
            XCTAssertEqual(names.filter { $0 == "parking_search" }.count, 1, "the search is found once, at the end: \(description)")
            func start(of phase: DrivingPhase) -> Double { seen.phases.first { $0.0 == phase }!.1 }
            XCTAssertTrue(plan.parkingSearch.contains(start(of: .parkingSearch)), "search found at \(start(of: .parkingSearch)), plan \(plan.parkingSearch)")
            // Reversing begins 2 s after R is selected (over 2 km/h, the motion's threshold).
            XCTAssertEqual(start(of: .parking), plan.endReverse.start + 2.0, accuracy: 0.5, "parking when it reverses into the space")
            XCTAssertEqual(start(of: .starting), plan.parkLockOff, accuracy: 0.5, "starting when the park lock releases")
            XCTAssertEqual(seen.phases.last!.1, plan.shiftP, accuracy: 0.6, "parked when the lever goes to P")
            // Every red light is a stop at a light while it lasts.
            for stop in plan.lightStops.dropLast(2) where stop.end - stop.start > 3 {
                let mid = (stop.start + stop.end) / 2
                let phase = seen.phases.last { $0.1 <= mid }?.0
                XCTAssertTrue(phase == .stoppedAtLight || phase == .starting, "at \(mid) s: \(String(describing: phase))")
            }
            // Rain: the event when the wipers start (2.7 s after the sensor first sees it).
            // Fuel falls with the distance driven (0.14 % a km: under a whole percent, VSS's
            // resolution of the level, in a 10-minute drive), and the cluster's range with it.
            let early = seen.contexts.first { $0.0 >= 30 }!.1.status.energy.value!
            let late = seen.contexts.last!.1.status.energy.value!
            XCTAssertLessThanOrEqual(late.levelPercent!, early.levelPercent!)
            XCTAssertLessThan(late.rangeKm!, early.rangeKm! - 1)
            XCTAssertEqual(late.rangeSource, "vehicle")
            let rain = seen.events.filter { $0.0 == "rain_started" }
            XCTAssertEqual(rain.count, 1, "\(seen.events)")
            XCTAssertEqual(rain.first?.1 ?? 0, plan.rain.start + 2.7, accuracy: 0.5)
        }
    }

    func testTheShortDrivesCabinEnvironmentAndEnergy() throws {
        let plan = DriveScenario.scripted
        let seen = try observe(plan, seed: 7, every: 0.5)
        func context(at t: Double) -> DrivingContext { seen.contexts.last { $0.0 <= t }!.1 }
        // The passenger: seat taken at 32 s, belted 2.5 s later; the door open only meanwhile.
        XCTAssertEqual(context(at: 31.5).status.cabin.value?.occupied, ["Row1.DriverSide"])
        XCTAssertEqual(context(at: 31.5).status.cabin.value?.open, ["Row1.PassengerSide"])
        XCTAssertEqual(context(at: 33.5).status.cabin.value?.unbelted, ["Row1.PassengerSide"])
        XCTAssertEqual(context(at: 36).status.cabin.value?.occupied, ["Row1.DriverSide", "Row1.PassengerSide"])
        XCTAssertEqual(context(at: 36).status.cabin.value?.unbelted, [])
        XCTAssertEqual(context(at: 36).status.cabin.value?.open, [])
        // Rain from 46 s: dry before, the wipers by 49 s.
        XCTAssertEqual(context(at: 45).status.environment.value?.raining, false)
        XCTAssertEqual(context(at: 50).status.environment.value?.raining, true)
        XCTAssertEqual(context(at: 50).status.environment.value?.rainingSource, "wipers")
        // The passenger door opened at a standstill: not a door opened while moving.
        XCTAssertFalse(seen.events.contains { $0.0 == "door_opened_while_moving" }, "\(seen.events)")
    }

    /// Each part goes stale when the messages it rests on stop, and only then.
    func testEachPartGoesStaleWhenItsSourceStops() throws {
        let plan = DriveScenario.scripted
        func at(_ t: Double, silence: Set<UInt32>) throws -> DrivingContext {
            let seen = try observe(plan, seed: 7, every: 0.5, silence: silence, silentFrom: 40)
            return seen.contexts.last { $0.0 <= t }!.1
        }
        let normal = try at(47, silence: [])
        for part in [normal.status.energy.state, normal.status.environment.state, normal.status.cabin.state,
                     normal.attention.state, normal.trip.state, normal.phase.state] {
            XCTAssertEqual(part, .fresh)
        }
        // The cluster (1 s cycle: stale after 3 s): energy and environment.
        let cluster = try at(47, silence: [0x3C0])
        XCTAssertEqual(cluster.status.energy.state, .stale)
        XCTAssertEqual(cluster.status.environment.state, .stale)
        XCTAssertEqual(cluster.status.cabin.state, .fresh)
        XCTAssertEqual(cluster.speed.state, .fresh)
        // The doors (and belts): the cabin.
        let doors = try at(47, silence: [0x2B0])
        XCTAssertEqual(doors.status.cabin.state, .stale)
        XCTAssertEqual(doors.status.energy.state, .fresh)
        // Both speed sources: the speed, and attention, trip and phase with it.
        let speed = try at(47, silence: [0x0D0, 0x0C8])
        XCTAssertEqual(speed.speed.state, .stale)
        XCTAssertEqual(speed.attention.state, .stale)
        XCTAssertEqual(speed.trip.state, .stale)
        XCTAssertEqual(speed.phase.state, .stale)
        XCTAssertEqual(speed.status.energy.state, .fresh)
    }

    /// A long drive with a short break threshold: `break_recommended` once the driving time
    /// since the start reaches it (stops at lights count as driving; only long stops are breaks).
    func testBreakRecommendedAfterTheConfiguredDrivingTime() throws {
        var text = try String(contentsOfFile: SimulateTests.root + "/DBC/demo_mapping.yaml", encoding: .utf8)
        text = text.replacingOccurrences(of: "break_after_min: 120", with: "break_after_min: 3")
        let (file, errors) = MappingFile.parse(text, fileName: "break.yaml")
        let mapping = try CompiledMapping.compile(file, parseErrors: errors, resolve: { SimulateTests.root + "/DBC/" + $0 })
        let plan = DriveScenario(seed: 5, minutes: 6)
        let seen = try observe(plan, seed: 5, mapping: mapping, every: 1)
        let breaks = seen.events.filter { $0.0 == "break_recommended" }
        XCTAssertEqual(breaks.count, 1, "\(seen.events)")
        let departed = seen.events.first { $0.0 == "departed" }!.1
        // 180 s of driving after departure (the trip counts from moving off).
        XCTAssertEqual(breaks[0].1 - departed, 180, accuracy: 1.5)
        let after = seen.contexts.first { $0.0 > breaks[0].1 + 1 }!.1
        XCTAssertEqual(after.trip.value?.breakRecommended, true)
    }
}
