import Synchronization
import Integrity
import CANBus
import Foundation
@testable import Gateway
import VehicleState

enum Fixtures {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..").standardized.path
    static let demoMapping = root + "/DBC/demo_mapping.yaml"
    static let demoLog = root + "/DBC/demo_drive.log"

    static func mapping(_ yaml: String, name: String = "m.yaml") throws -> CompiledMapping {
        let (file, errors) = MappingFile.parse(yaml, fileName: name)
        return try CompiledMapping.compile(file, parseErrors: errors)
    }

    /// The demo car on two buses (vcan0 and vcan1), each mapping its own speed path.
    static func twoBusMapping() throws -> CompiledMapping {
        try mapping("""
        buses:
          front: {dbc: [\(root)/DBC/demo_vehicle.dbc], interface: vcan0}
          rear: {dbc: [\(root)/DBC/demo_vehicle.dbc], interface: vcan1}
        signals:
          Vehicle.Speed:
            datatype: float
            unit: km/h
            sources: [{signal: front/VehicleSpeed/VehicleSpeed}]
          Vehicle.Private.RearSpeed:
            custom: true
            datatype: float
            unit: km/h
            sources: [{signal: rear/VehicleSpeed/VehicleSpeed}]
        """)
    }

    static func write(_ lines: [String]) -> String {
        let path = NSTemporaryDirectory() + "gw-\(UUID().uuidString).log"
        _ = FileManager.default.createFile(atPath: path, contents: Data((lines.joined(separator: "\n") + "\n").utf8))
        return path
    }

    /// A VehicleSpeed frame line (km/h, little-endian 0.01 km/h) at `t` seconds on `iface`, with
    /// the demo ECU's protection: a rolling counter (one per call) and a CRC-8 J1850 of bytes 0-6.
    static func speedLine(_ kmh: Double, at t: Double, on iface: String = "vcan0") -> String {
        let raw = Int((kmh * 100).rounded())
        var bytes: [UInt8] = [UInt8(raw & 0xFF), UInt8(raw >> 8), 0x01, 0, 0, 0, speedCounter.wrappingAdd(1, ordering: .relaxed).newValue & 0x0F, 0]
        bytes[7] = UInt8(CRC.crc8SAEJ1850.compute(Array(bytes[0..<7])))
        return String(format: "(%.6f) %@ 0D0#", t, iface) + bytes.map { String(format: "%02X", $0) }.joined()
    }

    static let speedCounter = Atomic<UInt8>(0)
}

/// A sink that records what reaches it, then passes each frame to the frame path.
struct RecordingSink: FrameSink {
    var path: FramePath
    var frames: [(bus: Int, timestamp: Int64)] = []
    var events: [(BusEvent, Int)] = []
    var malformed: [Diagnostic] = []
    var onFrame: ((inout RecordingSink, BusFrame) -> Void)?

    init(_ state: GatewayState) { path = FramePath(state: state) }

    mutating func begin(_ timeline: FrameTimeline) { path.begin(timeline) }
    mutating func deliver(_ frame: BusFrame) {
        onFrame?(&self, frame)
        frames.append((frame.bus, frame.timestamp))
        path.deliver(frame)
    }
    mutating func busEvent(_ event: BusEvent, bus: Int) { events.append((event, bus)); path.busEvent(event, bus: bus) }
    mutating func malformedLine(_ diagnostic: Diagnostic) { malformed.append(diagnostic) }
    var shouldStop: Bool { false }
}
