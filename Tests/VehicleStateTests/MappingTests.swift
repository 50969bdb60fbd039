import XCTest
import Foundation
@testable import VehicleState
import CANBus
import DBC

final class MappingTests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..").standardized.path

    func testTheDemoMappingCompilesAgainstTheDemoDBC() throws {
        let m = try CompiledMapping.load(path: Self.root + "/DBC/demo_mapping.yaml")
        XCTAssertEqual(m.buses.map(\.name), ["powertrain"])
        XCTAssertNotNil(m.pathIndex("Vehicle.Speed"))
        XCTAssertEqual(m.paths.count, 35)
        // Kernel filters for a live reader: only the messages the mapping reads.
        XCTAssertEqual(m.usedIDs(bus: 0).map(\.description), ["0B0", "0C8", "0D0", "0E0", "1A0", "2A0", "2B0", "2C0", "3C0", "3F0", "18FF1020"])
    }

    func testEveryProblemIsReportedWithItsPlace() {
        let yaml = """
        buses:
          body:
            dbc: [\(Self.root)/DBC/demo_vehicle.dbc]
        signals:
          Vehicle.Speed:
            datatype: float
            unit: km/h
            sources:
              - signal: chassis/VehicleSpeed/VehicleSpeed
          Vehicle.Cabin.Light:
            custom: true
            datatype: flot
            sources:
              - signal: body/Lights/Nope
          Vehicle.Powertrain.Transmission.CurrentGear:
            datatype: int8
            sources:
              - signal: body/Transmission/CurrentGear
                labels: {Backwards: -1}
          Vehicle.Speed2:
            custom: true
            datatype: float
            unit: degC
            sources:
              - signal: body/VehicleSpeed/VehicleSpeed
          Vehicle.Speed3:
            custom: true
            datatype: uint8
            sources:
              - signal: body/VehicleSpeed/VehicleSpeed
        """
        let (file, parseErrors) = MappingFile.parse(yaml, fileName: "m.yaml")
        XCTAssertEqual(parseErrors, [])
        XCTAssertThrowsError(try CompiledMapping.compile(file)) { error in
            let lines = (error as! Diagnostics).items.map(\.description)
            XCTAssertEqual(lines.count, 5, lines.joined(separator: "\n"))
            XCTAssertTrue(lines[4].contains("does not fit uint8"), lines[4])
            XCTAssertTrue(lines[0].hasPrefix("m.yaml:9:9: error: Vehicle.Speed: no bus 'chassis'"), lines[0])
            XCTAssertTrue(lines[1].contains("unknown datatype 'flot'"), lines[1])
            XCTAssertTrue(lines[2].contains("has no VAL_ label 'Backwards'"), lines[2])
            XCTAssertTrue(lines[3].contains("cannot convert VehicleSpeed's unit 'km/h' to 'degC'"), lines[3])
        }
    }

    func testPathsAreCheckedAgainstTheVSSCatalog() {
        let yaml = """
        buses:
          b:
            dbc: [\(Self.root)/DBC/demo_vehicle.dbc]
        signals:
          Vehicle.Sped:
            datatype: float
            sources: [{signal: b/VehicleSpeed/VehicleSpeed}]
          Vehicle.CurrentLocation.Latitude:
            datatype: float
            sources: [{signal: b/GNSSPosition/GNSSLatitude}]
          Vehicle.Speed:
            datatype: float
            unit: mph
            sources: [{signal: b/VehicleSpeed/VehicleSpeed}]
          Vehicle.Private.Thing:
            custom: true
            datatype: float
            sources: [{signal: b/VehicleSpeed/VehicleSpeed}]
        """
        let (file, _) = MappingFile.parse(yaml, fileName: "v.yaml")
        XCTAssertThrowsError(try CompiledMapping.compile(file)) { error in
            XCTAssertEqual((error as! Diagnostics).items.map(\.description), [
                "v.yaml:5:3: error: Vehicle.Sped is not a VSS path this gateway knows (did you mean Vehicle.Speed?); mark it 'custom: true' if it is an overlay",
                "v.yaml:8:3: error: Vehicle.CurrentLocation.Latitude is double in VSS, not float",
                "v.yaml:11:3: error: Vehicle.Speed is in km/h in VSS, not mph",
            ])
        }
    }

    func testYAMLSyntaxAndShapeErrorsHaveLineNumbers() {
        let (_, errors) = MappingFile.parse("signals:\n  Vehicle.Speed: [1, 2\n", fileName: "bad.yaml")
        XCTAssertEqual(errors.count, 1)
        XCTAssertTrue(errors[0].description.hasPrefix("bad.yaml:"), errors[0].description)
        let (_, shape) = MappingFile.parse("signalz: {}\nsignals:\n  Vehicle.Speed:\n    datatype: float\n", fileName: "s.yaml")
        XCTAssertEqual(shape.map(\.description), [
            "s.yaml:1:1: error: unknown key 'signalz' (expected buses, signals, integrity, plausibility, context, stale_factor, min_timeout_ms)",
            "s.yaml:3:3: error: Vehicle.Speed: no sources",
        ])
    }

    func testUnitConversions() {
        XCTAssertEqual(Units.conversion(from: "m/s", to: "km/h")!.scale, 3.6, accuracy: 1e-12)
        let f = Units.conversion(from: "degF", to: "degC")!
        XCTAssertEqual(212 * f.scale + f.offset, 100, accuracy: 1e-9)
        XCTAssertEqual(Units.conversion(from: "mph", to: "km/h")!.scale, 1.609344, accuracy: 1e-12)
        XCTAssertNil(Units.conversion(from: "km/h", to: "m"))
    }
}
