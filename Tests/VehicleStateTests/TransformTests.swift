import XCTest
import Foundation
@testable import VehicleState
import CANBus
import DBC

/// Combinations, throttling and learned timeouts, on a DBC written for these tests.
final class TransformTests: XCTestCase {
    static let dbc = """
    BO_ 256 Motion: 8 X
     SG_ SpeedMagnitude : 0|16@1+ (0.1,0) [0|6553.5] "" X
     SG_ SpeedUnit : 16|1@1+ (1,0) [0|1] "" X
     SG_ Direction : 17|1@1+ (1,0) [0|1] "" X
     SG_ LatHigh : 24|16@1+ (1,0) [0|65535] "" X
     SG_ LatLow : 40|16@1+ (1,0) [0|65535] "" X
    VAL_ 256 SpeedUnit 0 "kmh" 1 "mph" ;
    """

    func engine(_ signals: String) throws -> VehicleStateEngine {
        let path = NSTemporaryDirectory() + "transform-\(UUID().uuidString).dbc"
        try Self.dbc.write(toFile: path, atomically: true, encoding: .utf8)
        let yaml = "buses:\n  b:\n    dbc: [\(path)]\nsignals:\n" + signals
        let (file, errors) = MappingFile.parse(yaml, fileName: "t.yaml")
        XCTAssertEqual(errors, [])
        return VehicleStateEngine(mapping: try CompiledMapping.compile(file))
    }

    func send(_ e: inout VehicleStateEngine, _ bytes: [UInt8], at t: Double) {
        e.ingest(bus: 0, CANLogRecord(timestamp: CANTimestamp(totalNanoseconds: Int64(t * 1e9)), interface: "x",
                                      frame: .data(CANDataFrame(id: CANID(256, extended: false)!, bytes: bytes))))
    }

    func testValueWithAUnitSignalAndSignMagnitude() throws {
        var e = try engine("""
          Vehicle.Speed:
            datatype: float
            unit: km/h
            sources:
              - combine: value_unit
                value: b/Motion/SpeedMagnitude
                unit_signal: b/Motion/SpeedUnit
                units: {kmh: km/h, mph: mph}
          Vehicle.SignedSpeed:
            custom: true
            datatype: float
            sources:
              - combine: sign_magnitude
                magnitude: b/Motion/SpeedMagnitude
                sign: b/Motion/Direction
        """)
        send(&e, [0xE8, 0x03, 0x01, 0, 0, 0, 0, 0], at: 1)  // 100.0 mph, direction 0
        XCTAssertEqual(e.sample(0)!.value, 160.9344, accuracy: 1e-9)
        XCTAssertEqual(e.sample(1)!.value, 100, accuracy: 1e-9)
        send(&e, [0xE8, 0x03, 0x02, 0, 0, 0, 0, 0], at: 2)  // 100.0 km/h, direction 1 (negative)
        XCTAssertEqual(e.sample(0)!.value, 100, accuracy: 1e-9)
        XCTAssertEqual(e.sample(1)!.value, -100, accuracy: 1e-9)
    }

    func testCoordinateSplitIntoHighAndLowParts() throws {
        var e = try engine("""
          Vehicle.CurrentLocation.Latitude:
            datatype: double
            sources:
              - combine: high_low
                high: b/Motion/LatHigh
                low: b/Motion/LatLow
                low_bits: 16
                factor: 1e-7
                offset: -90
        """)
        // high 0x584C, low 0x1B30: raw 0x584C1B30 = 1_481_382_704 -> 148.1382704 - 90
        send(&e, [0, 0, 0, 0x4C, 0x58, 0x30, 0x1B, 0], at: 1)
        XCTAssertEqual(e.sample(0)!.value, 58.1382704, accuracy: 1e-9)
    }

    func testThrottleMinimumIntervalAndDeadband() throws {
        var e = try engine("""
          Vehicle.Speed:
            datatype: float
            timeout_ms: 5000
            throttle: {min_interval_ms: 100, deadband: 1.0}
            sources:
              - signal: b/Motion/SpeedMagnitude
        """)
        let v0 = e.store.version
        send(&e, [100, 0, 0, 0, 0, 0, 0, 0], at: 1.00)   // 10.0: published
        send(&e, [200, 0, 0, 0, 0, 0, 0, 0], at: 1.05)   // 20.0: too soon
        XCTAssertEqual(e.sample(0)!.value, 10)
        send(&e, [105, 0, 0, 0, 0, 0, 0, 0], at: 1.20)   // 10.5: inside the deadband
        XCTAssertEqual(e.sample(0)!.value, 10)
        XCTAssertEqual(e.sample(0)!.timestampNanoseconds, 1_200_000_000, "still fresh")
        send(&e, [200, 0, 0, 0, 0, 0, 0, 0], at: 1.40)   // 20.0: published
        XCTAssertEqual(e.sample(0)!.value, 20)
        XCTAssertEqual(e.store.version - v0, 2, "subscribers saw two changes")
    }

    func testTimeoutIsLearnedFromTheMessageRateWhenNothingGivesOne() throws {
        var e = try engine("""
          Vehicle.Speed:
            datatype: float
            sources:
              - signal: b/Motion/SpeedMagnitude
        """)
        for i in 0..<20 { send(&e, [10, 0, 0, 0, 0, 0, 0, 0], at: 1 + Double(i) * 0.05) }  // 20 Hz
        XCTAssertEqual(Double(e.sourceTimeout[0]) / 1e6, 150, accuracy: 1)
        XCTAssertEqual(e.store.read(0)!.state(now: Int64(1.95e9 + 0.1e9)), .fresh)
        XCTAssertEqual(e.store.read(0)!.state(now: Int64(1.95e9 + 0.2e9)), .stale)
    }

    func testCombinationHalvesMustShareAMessage() {
        let yaml = "buses:\n  b:\n    dbc: [\(MappingTests.root)/DBC/demo_vehicle.dbc]\nsignals:\n  Vehicle.Speed:\n    datatype: float\n    sources:\n      - combine: sign_magnitude\n        magnitude: b/VehicleSpeed/VehicleSpeed\n        sign: b/Transmission/ParkLockEngaged\n"
        let (file, _) = MappingFile.parse(yaml, fileName: "t.yaml")
        XCTAssertThrowsError(try CompiledMapping.compile(file)) { error in
            XCTAssertTrue("\(error)".contains("must be in the same message"), "\(error)")
        }
    }
}
