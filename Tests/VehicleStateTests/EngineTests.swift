import XCTest
import Foundation
@testable import VehicleState
import Integrity
import CANBus
import DBC

final class EngineTests: XCTestCase {
    func engine(_ signals: String) throws -> VehicleStateEngine {
        let yaml = "buses:\n  pt:\n    dbc: [\(MappingTests.root)/DBC/demo_vehicle.dbc]\nsignals:\n" + signals
        let (file, errors) = MappingFile.parse(yaml, fileName: "t.yaml")
        XCTAssertEqual(errors, [])
        return VehicleStateEngine(mapping: try CompiledMapping.compile(file))
    }

    func frame(_ text: String, at t: Double) -> CANLogRecord {
        CANLogRecord(timestamp: CANTimestamp(totalNanoseconds: Int64(t * 1e9)), interface: "vcan0",
                     frame: try! CandumpParser.parseFrameText(text))
    }

    func testUnitConversionInvalidValuesAndFreshness() throws {
        var e = try engine("""
          Vehicle.Private.SpeedMetersPerSecond:
            custom: true
            datatype: float
            unit: m/s
            sources:
              - signal: pt/VehicleSpeed/VehicleSpeed
                invalid: [655.35]
        """)
        let speed = e.mapping.pathIndex("Vehicle.Private.SpeedMetersPerSecond")!
        XCTAssertNil(e.store.read(speed), "unavailable before any frame")
        e.ingest(bus: 0, frame("0D0#10270100000000F0", at: 1.0))  // 100 km/h
        XCTAssertEqual(e.sample(speed)!.value, 100 / 3.6, accuracy: 1e-9)
        XCTAssertEqual(e.store.read(speed)!.state(now: 1_000_000_000), .fresh)
        e.ingest(bus: 0, frame("0D0#FFFF0100000000F0", at: 1.02))  // SNA: dropped, value kept
        XCTAssertEqual(e.dropped[speed], 1)
        XCTAssertEqual(e.sample(speed)!.timestampNanoseconds, 1_000_000_000)
        // 20 ms cycle x 3 = 60 ms: stale 100 ms later, with its age (what any reader sees from the store).
        let entry = e.store.read(speed)!
        XCTAssertEqual(entry.state(now: 1_050_000_000), .fresh)
        XCTAssertEqual(entry.state(now: 1_100_000_000), .stale)
        XCTAssertEqual(entry.ageSeconds(now: 1_100_000_000), 0.1, accuracy: 1e-12)
    }

    func testLabelsMapGearsAndUnknownLabelsAreDropped() throws {
        var e = try engine("""
          Vehicle.Powertrain.Transmission.CurrentGear:
            datatype: int8
            sources:
              - signal: pt/Transmission/CurrentGear
                labels: {Reverse: -1, Neutral: 0, Gear1: 1}
        """)
        let gear = 0
        // Transmission is Motorola: CurrentGear is byte 1.
        e.ingest(bus: 0, frame("1A0#10FF000000000000", at: 1))
        XCTAssertEqual(e.sample(gear)?.value, -1)
        e.ingest(bus: 0, frame("1A0#1001000000000000", at: 2))
        XCTAssertEqual(e.sample(gear)?.value, 1)
        e.ingest(bus: 0, frame("1A0#1005000000000000", at: 3))  // Gear5: not in this mapping
        XCTAssertEqual(e.sample(gear)?.value, 1)
        XCTAssertEqual(e.dropped[gear], 1)
    }

    func testALowerPrioritySourceTakesOverOnlyWhileTheFirstIsSilent() throws {
        var e = try engine("""
          Vehicle.Speed:
            datatype: float
            unit: km/h
            sources:
              - signal: pt/VehicleSpeed/VehicleSpeed
              - signal: pt/WheelSpeeds/WheelSpeedRL
        """)
        e.ingest(bus: 0, frame("0D0#10270100000000F0", at: 1.000))  // 100 from VehicleSpeed
        e.ingest(bus: 0, frame("0C8#00000000204E0000", at: 1.010))  // 200 from a wheel: ignored
        XCTAssertEqual(e.sample(0)?.value, 100)
        e.ingest(bus: 0, frame("0C8#00000000204E0000", at: 1.200))  // VehicleSpeed silent 200 ms > 60 ms
        XCTAssertEqual(e.sample(0)?.value, 200)
        e.ingest(bus: 0, frame("0D0#10270100000000F0", at: 1.210))  // back: it wins again
        XCTAssertEqual(e.sample(0)?.value, 100)
    }
}

extension EngineTests {
    /// Around zero the motion state must not flicker: moving starts above 2 km/h and ends
    /// below 0.5 km/h; park wins when stopped with P selected.
    func testMotionHysteresisAroundZeroAndPark() throws {
        let mapping = try CompiledMapping.load(path: MappingTests.root + "/DBC/demo_mapping.yaml")
        var engine = VehicleStateEngine(mapping: mapping)
        var tracker = DrivingContextTracker(mapping: mapping)
        var t = 1.0
        func ingest(_ text: String) {
            let r = frame(text, at: t)
            let result = engine.ingest(bus: 0, r)
            let changed = (0..<result.changedCount).map { Int(engine.changedPaths[$0]) }
            if changed.contains(where: tracker.isInput) {
                tracker.update(store: engine.store, speedChanged: changed.contains(tracker.paths.speed!), now: r.timestamp.totalNanoseconds)
            }
        }
        // The demo mapping checks VehicleSpeed and Transmission: each frame carries a rolling
        // counter (low nibble of byte 6) and a CRC-8 J1850 of bytes 0-6 (byte 7).
        var counters: [String: UInt8] = [:]
        func sealed(_ id: String, _ bytes: [UInt8]) -> String {
            var b = bytes
            b[6] = counters[id, default: 0] & 0x0F
            counters[id, default: 0] &+= 1
            b[7] = UInt8(CRC.crc8SAEJ1850.compute(Array(b[0..<7])))
            return id + "#" + b.map { String(format: "%02X", $0) }.joined()
        }
        func speed(_ kmh: Double) {
            let raw = UInt16(kmh * 100)
            ingest(sealed("0D0", [UInt8(raw & 0xFF), UInt8(raw >> 8), 0x01, 0, 0, 0, 0, 0]))
            t += 0.1  // within the mapping's plausible rate (50 km/h per second)
        }
        func gear(_ lever: UInt8) {  // GearLever is Motorola bits 7..4 of byte 0; CurrentGear byte 1 = 1
            ingest(sealed("1A0", [lever << 4, 0x01, 0, 0, 0, 0, 0, 0]))
        }
        gear(3)  // D
        var states: [DrivingContext.Motion] = []
        for v in [0.0, 1.0, 1.9, 2.5, 1.0, 0.6, 0.4, 1.5] { speed(v); states.append(tracker.output.motion) }
        XCTAssertEqual(states, [.stopped, .stopped, .stopped, .moving, .moving, .moving, .stopped, .stopped])
        gear(0)  // P
        speed(0)
        XCTAssertEqual(tracker.output.motion, .parked)
        XCTAssertGreaterThan(engine.sample(0)!.receivedNanoseconds, 1_700_000_000_000_000_000, "received time is the wall clock")
    }
}

final class DrivingContextAgingTests: XCTestCase {
    /// A reader computes the context at its own "now": ages grow and parts turn stale past
    /// their timeout without any new frame, and motion (which needs a fresh speed) turns unknown.
    func testAgesGrowAndPartsTurnStalePastTheirTimeout() throws {
        let mapping = try CompiledMapping.load(path: MappingTests.root + "/DBC/demo_mapping.yaml")
        let store = VehicleStateStore(pathCount: mapping.paths.count)
        let paths = ContextPaths(mapping: mapping)
        let tracked = TrackedContext()
        store.publish(paths.speed!, value: 50, timestampNanoseconds: 990_000_000, source: 0, timeoutNanoseconds: 100_000_000)
        store.publish(paths.latitude!, value: 1, timestampNanoseconds: 800_000_000, source: 0, timeoutNanoseconds: 3_000_000_000)
        store.publish(paths.longitude!, value: 2, timestampNanoseconds: 800_000_000, source: 0, timeoutNanoseconds: 3_000_000_000)
        tracked.store(motion: .moving)
        let now = DrivingContext.read(store: store, tracked: tracked, paths: paths, now: 1_000_000_000)
        XCTAssertEqual(now.speed.state, .fresh)
        XCTAssertEqual(now.motion, .moving)
        let later = DrivingContext.read(store: store, tracked: tracked, paths: paths, now: 1_500_000_000)
        XCTAssertEqual(later.speed.state, .stale)
        XCTAssertEqual(later.speed.ageSeconds!, 0.51, accuracy: 1e-9)
        XCTAssertEqual(later.location.state, .fresh)
        XCTAssertEqual(later.location.ageSeconds!, 0.7, accuracy: 1e-9)
        XCTAssertEqual(later.gear.state, .unavailable)
        XCTAssertEqual(later.motion, .unknown, "motion needs a fresh speed")
    }
}
