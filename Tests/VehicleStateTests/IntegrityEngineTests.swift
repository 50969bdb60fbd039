import XCTest
import Foundation
@testable import VehicleState
import CANBus
import CANLog
import DBC
import Integrity

/// The engine with the mapping's `integrity:` and `plausibility:` sections: what fails is never
/// stored, the message goes invalid after N bad frames and valid again after M good ones.
final class IntegrityEngineTests: XCTestCase {
    static let speedMapping = """
      Vehicle.Speed:
        datatype: float
        unit: km/h
        sources:
          - signal: pt/VehicleSpeed/VehicleSpeed
    integrity:
      pt/VehicleSpeed:
        crc: {algorithm: crc8_sae_j1850, signal: VehicleSpeedChecksum, bytes: [0, 6]}
        counter: {signal: VehicleSpeedCounter, max_delta: 1}
        invalid_after: 3
        window: 6
        valid_after: 4
    plausibility:
      Vehicle.Speed: {max_rate: 50}

    """

    func engine(_ signals: String) throws -> VehicleStateEngine {
        let yaml = "buses:\n  pt:\n    dbc: [\(MappingTests.root)/DBC/demo_vehicle.dbc]\nsignals:\n" + signals
        let (file, errors) = MappingFile.parse(yaml, fileName: "t.yaml")
        XCTAssertEqual(errors, [])
        return VehicleStateEngine(mapping: try CompiledMapping.compile(file))
    }

    /// A VehicleSpeed frame as the demo ECU sends it: speed, counter, CRC-8 J1850 of bytes 0-6 in byte 7.
    func speedFrame(kmh: Double, counter: Int, at t: Double, corruptCRC: Bool = false) -> CANLogRecord {
        var bytes = [UInt8](repeating: 0, count: 8)
        let raw = UInt16((kmh / 0.01).rounded())
        bytes[0] = UInt8(raw & 0xFF)
        bytes[1] = UInt8(raw >> 8)
        bytes[6] = UInt8(counter & 0x0F)
        bytes[7] = UInt8(CRC.crc8SAEJ1850.compute(bytes[0..<7].map { $0 }))
        if corruptCRC { bytes[7] ^= 0x5A }
        return CANLogRecord(timestamp: CANTimestamp(totalNanoseconds: Int64(t * 1e9)), interface: "vcan0",
                            frame: .data(CANDataFrame(id: CANID.standard(0x0D0)!, bytes: bytes)))
    }

    func testCorruptedFramesAreDroppedAndTheMessageGoesInvalidThenRecovers() throws {
        var e = try engine(Self.speedMapping)
        let speed = e.mapping.pathIndex("Vehicle.Speed")!
        var t = 1.0, k = 0
        func send(_ kmh: Double, corrupt: Bool = false, counter: Int? = nil) -> VehicleStateEngine.IngestResult {
            defer { t += 0.02; k += 1 }
            return e.ingest(bus: 0, speedFrame(kmh: kmh, counter: counter ?? k, at: t, corruptCRC: corrupt))
        }
        for _ in 0..<5 { XCTAssertEqual(send(50).outcome, .changed) }
        XCTAssertEqual(e.store.read(speed)?.state(now: Int64(t * 1e9)), .fresh)

        // One bad CRC: dropped (its value never stored), the message still valid.
        let bad = send(99, corrupt: true)
        XCTAssertEqual(bad.outcome, .rejected)
        XCTAssertEqual(bad.fault, .checksum)
        XCTAssertEqual(e.sample(speed)?.value, 50)
        XCTAssertNil(e.store.read(speed)?.invalidReason)

        // Two more within the window of 6: invalid, with the reason, the last good value kept.
        _ = send(99, corrupt: true)
        let third = send(99, corrupt: true)
        XCTAssertEqual(third.outcome, .rejected)
        XCTAssertEqual(third.changedCount, 1, "the path's state changed to invalid")
        XCTAssertEqual(e.store.read(speed)?.invalidReason, .checksum)
        XCTAssertEqual(e.store.read(speed)?.state(now: Int64(t * 1e9)), .invalid)
        XCTAssertEqual(e.store.read(speed)?.value, 50)

        // The first good frame's counter jumped over the three dropped ones: a counter fault
        // (max_delta 1). Good frames while invalid are still withheld until valid_after (4) in a row.
        XCTAssertEqual(send(51).fault, .counter)
        for _ in 0..<3 { XCTAssertEqual(send(51).outcome, .rejected) }
        XCTAssertEqual(e.store.read(speed)?.invalidReason, .checksum)
        XCTAssertEqual(send(51).outcome, .changed)
        XCTAssertNil(e.store.read(speed)?.invalidReason)
        XCTAssertEqual(e.store.read(speed)?.state(now: Int64(t * 1e9)), .fresh)
        XCTAssertEqual(e.sample(speed)?.value, 51)
        let check = e.checks[0]
        XCTAssertEqual(check.dropped.checksum, 3)
        XCTAssertEqual(check.dropped.counter, 1)
    }

    func testAStuckECURepeatingOneFrameIsRepeatedThenInvalid() throws {
        var e = try engine(Self.speedMapping)
        let speed = e.mapping.pathIndex("Vehicle.Speed")!
        for k in 0..<4 { e.ingest(bus: 0, speedFrame(kmh: 30, counter: k, at: 1 + Double(k) * 0.02)) }
        let stuck = speedFrame(kmh: 30, counter: 3, at: 2)
        var results: [VehicleStateEngine.IngestResult] = []
        for k in 0..<3 {
            var r = stuck
            r.timestamp = CANTimestamp(totalNanoseconds: Int64((2 + Double(k) * 0.02) * 1e9))
            results.append(e.ingest(bus: 0, r))
        }
        XCTAssertEqual(results.map(\.fault), [.repeated, .repeated, .repeated])
        XCTAssertEqual(e.store.read(speed)?.invalidReason, .repeated)
    }

    func testAnImplausibleJumpIsDroppedAndMarked() throws {
        var e = try engine(Self.speedMapping)
        let speed = e.mapping.pathIndex("Vehicle.Speed")!
        e.ingest(bus: 0, speedFrame(kmh: 40, counter: 0, at: 1.00))
        e.ingest(bus: 0, speedFrame(kmh: 40.5, counter: 1, at: 1.02))
        // +80 km/h in 20 ms, with a valid CRC and counter: only plausibility sees it.
        let jump = e.ingest(bus: 0, speedFrame(kmh: 120.5, counter: 2, at: 1.04))
        XCTAssertTrue(jump.hadImplausible)
        XCTAssertEqual(e.implausible[speed], 1)
        XCTAssertEqual(e.sample(speed)?.value, 40.5)
        XCTAssertEqual(e.store.read(speed)?.invalidReason, .implausible)
        // The next believable value clears it.
        e.ingest(bus: 0, speedFrame(kmh: 40.8, counter: 3, at: 1.06))
        XCTAssertNil(e.store.read(speed)?.invalidReason)
        XCTAssertEqual(e.sample(speed)!.value, 40.8, accuracy: 1e-9)
    }

    func testAWheelSpeedFrozenWhileTheCarMovesIsImplausible() throws {
        var e = try engine("""
          Vehicle.Speed:
            datatype: float
            unit: km/h
            sources: [{signal: pt/VehicleSpeed/VehicleSpeed}]
          Vehicle.Private.WheelSpeedFL:
            custom: true
            datatype: float
            unit: km/h
            sources: [{signal: pt/WheelSpeeds/WheelSpeedFL}]
        plausibility:
          Vehicle.Private.WheelSpeedFL: {frozen_s: 1, moving_above: 5}

        """)
        let wheel = e.mapping.pathIndex("Vehicle.Private.WheelSpeedFL")!
        func wheelFrame(_ kmh: Double, at t: Double) -> CANLogRecord {
            let raw = UInt16((kmh * 100).rounded())
            let bytes = [UInt8(raw & 0xFF), UInt8(raw >> 8), 0, 0, 0, 0, 0, 0]
            return CANLogRecord(timestamp: CANTimestamp(totalNanoseconds: Int64(t * 1e9)), interface: "vcan0",
                                frame: .data(CANDataFrame(id: CANID.standard(0x0C8)!, bytes: bytes)))
        }
        // Standing still, a constant wheel speed is fine however long it lasts.
        for k in 0..<100 { e.ingest(bus: 0, wheelFrame(0, at: Double(k) * 0.02)) }
        XCTAssertEqual(e.implausible[wheel], 0)
        // Moving at 50 km/h with the wheel stuck at exactly 49.5: implausible after 1 s.
        var t = 2.0
        for k in 0..<100 {
            e.ingest(bus: 0, speedFrame(kmh: 50 + Double(k % 3) * 0.1, counter: k, at: t))
            e.ingest(bus: 0, wheelFrame(49.5, at: t + 0.001))
            t += 0.02
        }
        XCTAssertGreaterThan(e.implausible[wheel], 40)
        XCTAssertEqual(e.store.read(wheel)?.invalidReason, .implausible)
        // It moves again: believed at once.
        e.ingest(bus: 0, wheelFrame(50.1, at: t))
        XCTAssertNil(e.store.read(wheel)?.invalidReason)
    }

    func testTheBundledDriveIsCleanUnderTheDemoMapping() throws {
        let mapping = try CompiledMapping.load(path: MappingTests.root + "/DBC/demo_mapping.yaml")
        XCTAssertEqual(mapping.integrity.names, ["powertrain/SteeringAngle", "powertrain/VehicleSpeed", "powertrain/Transmission"])
        var e = VehicleStateEngine(mapping: mapping)
        var reader = try CandumpReader(path: MappingTests.root + "/DBC/demo_drive.log", mode: .strict)
        var rejected = 0, frames = 0
        while let f = try reader.nextFrame() {
            frames += 1
            if e.ingest(bus: 0, timestamp: f.timestamp.totalNanoseconds, arrival: 0, f.frame).outcome == .rejected { rejected += 1 }
        }
        XCTAssertGreaterThan(frames, 10_000)
        XCTAssertEqual(rejected, 0)
        XCTAssertEqual(e.implausible.reduce(0, +), 0)
        XCTAssertTrue(e.checks.allSatisfy { $0.passed > 1000 }, "\(e.checks.map(\.passed))")
    }

    func testIntegrityMistakesSayWhere() {
        let yaml = """
        buses:
          pt:
            dbc: [\(MappingTests.root)/DBC/demo_vehicle.dbc]
        signals:
          Vehicle.Speed:
            datatype: float
            unit: km/h
            sources: [{signal: pt/VehicleSpeed/VehicleSpeed}]
        integrity:
          pt/VehicleSpeed:
            crc: {algorithm: crc9000, signal: VehicleSpeedChecksum}
          pt/NoSuchMessage:
            counter: {signal: X}
          pt/Transmission:
            e2e: {profile: 3}
            window: 200
        plausibility:
          Vehicle.Nope: {max_rate: 1}
        """
        let (file, parseErrors) = MappingFile.parse(yaml, fileName: "m.yaml")
        XCTAssertEqual(parseErrors.map(\.description), ["m.yaml:16:13: error: pt/Transmission: 'window' must be a whole number of frames, 1 to 64"])
        XCTAssertThrowsError(try CompiledMapping.compile(file)) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("m.yaml:11:10: error: integrity: pt/VehicleSpeed: unknown CRC algorithm 'crc9000'"), text)
            XCTAssertTrue(text.contains("m.yaml:12:3: error: integrity: bus pt has no message 'NoSuchMessage'"), text)
            XCTAssertTrue(text.contains("m.yaml:15:10: error: integrity: pt/Transmission: e2e needs profile: 1, 2, 4 or 5"), text)
            XCTAssertTrue(text.contains("m.yaml:18:3: error: plausibility: Vehicle.Nope is not a mapped path"), text)
        }
    }
}

/// opendbc's rule where the mapping is silent: a DBC named toyota_* has its messages with a
/// CHECKSUM signal checked with Toyota's checksum and COUNTER, as opendbc's parser checks them.
final class OpendbcFamilyInMappingTests: XCTestCase {
    static let dbc = """
    VERSION ""
    BU_: EPS GW
    BO_ 608 STEER_TORQUE_SENSOR: 8 EPS
     SG_ STEER_ANGLE : 3|16@0- (1,0) [-32768|32767] "deg" GW
     SG_ COUNTER : 43|4@0+ (1,0) [0|15] "" GW
     SG_ CHECKSUM : 63|8@0+ (1,0) [0|255] "" GW

    """

    func testToyotaDBCIsCheckedAsOpendbcChecksItUnlessTheMappingSaysNone() throws {
        let dir = NSTemporaryDirectory() + "vg-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try Self.dbc.write(toFile: dir + "/toyota_mini_pt.dbc", atomically: true, encoding: .utf8)
        func mapping(_ extra: String) throws -> CompiledMapping {
            let yaml = """
            buses:
              pt:
                dbc: [\(dir)/toyota_mini_pt.dbc]
            signals:
              Vehicle.Chassis.SteeringWheel.Angle:
                datatype: int16
                unit: degrees
                sources: [{signal: pt/STEER_TORQUE_SENSOR/STEER_ANGLE}]
            \(extra)
            """
            let (file, errors) = MappingFile.parse(yaml, fileName: "t.yaml")
            XCTAssertEqual(errors, [])
            return try CompiledMapping.compile(file)
        }
        let checked = try mapping("")
        XCTAssertEqual(checked.integrity.names, ["pt/STEER_TORQUE_SENSOR"])
        var e = VehicleStateEngine(mapping: checked)
        let toyota = OpendbcChecksum(family: .toyota)
        let checksum = BitField(startBit: 63, size: 8, isLittleEndian: false)
        func frame(angle: Int16, counter: UInt8, at t: Double, corrupt: Bool = false) -> CANLogRecord {
            var b = [UInt8](repeating: 0, count: 8)
            b[0] = UInt8(truncatingIfNeeded: UInt16(bitPattern: angle) >> 12) & 0x0F
            b[1] = UInt8(truncatingIfNeeded: UInt16(bitPattern: angle) >> 4)
            b[2] = UInt8(truncatingIfNeeded: UInt16(bitPattern: angle) << 4)
            b[5] = counter & 0x0F
            b[7] = b.withUnsafeBytes { UInt8(toyota.compute(address: 608, checksum: checksum, payload: $0)) }
            if corrupt { b[3] ^= 0x40 }
            return CANLogRecord(timestamp: CANTimestamp(totalNanoseconds: Int64(t * 1e9)), interface: "can0",
                                frame: .data(CANDataFrame(id: CANID.standard(608)!, bytes: b)))
        }
        let angle = checked.pathIndex("Vehicle.Chassis.SteeringWheel.Angle")!
        XCTAssertEqual(e.ingest(bus: 0, frame(angle: 90, counter: 1, at: 1.00)).outcome, .changed)
        XCTAssertEqual(e.sample(angle)?.value, 90)
        XCTAssertEqual(e.ingest(bus: 0, frame(angle: 91, counter: 2, at: 1.01)).outcome, .changed)
        let bad = e.ingest(bus: 0, frame(angle: 500, counter: 3, at: 1.02, corrupt: true))
        XCTAssertEqual(bad.fault, .checksum)
        XCTAssertEqual(e.sample(angle)?.value, 91)

        // "none" turns it off.
        let unchecked = try mapping("integrity:\n  pt/STEER_TORQUE_SENSOR: none\n")
        XCTAssertEqual(unchecked.integrity.names, [])
        var u = VehicleStateEngine(mapping: unchecked)
        XCTAssertEqual(u.ingest(bus: 0, frame(angle: 500, counter: 3, at: 1.02, corrupt: true)).outcome, .changed)
    }

    /// Found by the mapping fuzzer: an E2E offset that is not on a byte (crc_offset: 28) trapped
    /// in the profile's precondition while compiling; now every offset and length is checked
    /// and reported with its place.
    func testBadE2EOffsetsAreDiagnosticsNotATrap() throws {
        let root = MappingTests.root
        let text = try String(contentsOfFile: root + "/Tests/Fixtures/fuzz-regressions/mapping-e2e-offsets.yaml", encoding: .utf8)
        let (file, errors) = MappingFile.parse(text, fileName: "regression.yaml")
        XCTAssertEqual(errors.count, 0)
        XCTAssertThrowsError(try CompiledMapping.compile(file, resolve: { root + "/DBC/" + $0 })) { error in
            XCTAssertTrue("\(error)".contains("crc_offset must be a whole number from 0 to 56, a multiple of 8"), "\(error)")
        }
        let fields = "data_id: 0x0B0, data_id_mode: both, crc_offset: 28, counter_offset: 48"
        XCTAssertTrue(text.contains(fields))
        for bad in ["data_id: 0x0B0, crc_offset: 1e300", "data_id: 0x0B0, crc_offset: 56, counter_offset: -4",
                    "data_id: 0x0B0, length: 7", "data_id: 70000, crc_offset: 56", "data_id: 0x0B0, crc_offset: 56, max_delta_counter: .nan"] {
            let variant = text.replacingOccurrences(of: fields, with: bad)
            let (f, _) = MappingFile.parse(variant, fileName: "regression.yaml")
            XCTAssertThrowsError(try CompiledMapping.compile(f, resolve: { root + "/DBC/" + $0 }), bad)
        }
    }
}
