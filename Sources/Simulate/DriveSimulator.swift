import CANBus
import DBC
import Foundation
import Integrity

/// Turns the simulated car into frames: each message of the DBC at its cycle time (an ECU
/// clock drift and a little jitter each), encoded with our encoder, serialized on a 500 kbit/s
/// bus so timestamps are when each frame was completely received.
public struct DriveSimulator {
    public struct Failure: Error, CustomStringConvertible { public var description: String }

    let database: Database
    let codec: DatabaseCodec
    public let scenario: DriveScenario
    var car: CarState
    var rng: SplitMix64
    let interface: String
    /// Faults to inject (none for the bundled drives).
    public var faults = FaultPlan()
    /// Per message: the last frame sent before a `stuck` fault (what the ECU keeps repeating).
    var lastBytes: [Int: [UInt8]] = [:]
    /// Per message: the counter offset a `skip`/`repeat` fault has built up.
    var counterShift: [Int: Int] = [:]
    /// The first frame's time (s since the epoch).
    public static let baseTime = 1_700_000_000.0

    /// The drive `scenario` on the demo car's `database`; `seed` also seeds the sensor noise
    /// and each ECU's clock drift.
    public init(database: Database, scenario: DriveScenario, seed: UInt64, interface: String) throws {
        self.database = database
        codec = DatabaseCodec(database)
        self.scenario = scenario
        car = CarState(scenario: scenario)
        rng = SplitMix64(seed: seed ^ 0x5EED)
        self.interface = interface
        for name in ["VehicleSpeed", "Transmission", "GNSSPosition", "GNSSStatus"] where database.message(named: name) == nil {
            throw Failure(description: "the DBC has no message \(name): simulate needs the demo car's DBC")
        }
    }

    /// (ready time, message index, frame number) for every frame, in time order.
    mutating func schedule() -> [(Double, Int, Int)] {
        var events: [(Double, Int, Int)] = []
        for (m, message) in database.messages.enumerated() {
            guard let cycleMs = message.cycleTimeMilliseconds, cycleMs > 0 else { continue }
            let cycle = Double(cycleMs) / 1000
            let phase = rng.uniform() * cycle
            let drift = 1 + (rng.uniform() - 0.5) * 120e-6
            let sigma = 0.004 * cycle
            var k = 0
            while true {
                let t = max(0, phase + Double(k) * cycle * drift + max(-3 * sigma, min(3 * sigma, rng.gauss(sigma))))
                if t >= scenario.duration { break }
                let gnss = message.name.hasPrefix("GNSS")
                if !(gnss && scenario.tunnel.contains(t)) { events.append((t, m, k)) }
                k += 1
            }
        }
        events.sort { $0.0 < $1.0 }
        return events
    }

    /// Every frame of the drive, in time order.
    public mutating func run(_ emit: (CANLogRecord) -> Void) throws {
        var busFree = 0.0
        for (ready, m, k) in schedule() {
            car.advance(to: ready)
            let message = database.messages[m]
            let start = max(ready, busFree)
            busFree = start + (message.id.isExtended ? 296e-6 : 250e-6)
            let active = faults.faults.filter { $0.message == message.name && $0.isActive(at: ready) }
            if active.contains(where: { $0.kind == .stuck }), let frozen = lastBytes[m] {
                let time = Self.baseTime + busFree
                let seconds = Int64(time), micros = UInt32(((time - Double(seconds)) * 1e6).rounded(.down))
                emit(CANLogRecord(timestamp: CANTimestamp(seconds: seconds, microseconds: micros), interface: interface,
                                  frame: .data(CANDataFrame(id: message.id, bytes: frozen))))
                continue
            }
            for f in active where f.kind == .skip { counterShift[m, default: 0] += 2 }
            for f in active where f.kind == .repeat { counterShift[m, default: 0] -= 1 }
            var (values, labels) = signals(of: message.name, k)
            if let shift = counterShift[m], let name = ["VehicleSpeed": "VehicleSpeedCounter", "Transmission": "TransCounter"][message.name] {
                values[name] = Double(((k + shift) % 16 + 16) % 16)
            }
            if active.contains(where: { $0.kind == .jump }), let v = values["VehicleSpeed"] { values["VehicleSpeed"] = min(650, v + 80) }
            var labelled: Set<String> = []
            for (name, label) in labels {
                guard let s = message.signal(named: name), let l = s.valueLabels.first(where: { $0.label == label }) else {
                    throw Failure(description: "\(message.name).\(name) has no label '\(label)'")
                }
                values[name] = Double(l.value) * s.factor + s.offset
                labelled.insert(name)
            }
            guard let index = codec.index(of: message.id) else { continue }
            var bytes: [UInt8]
            do { bytes = try codec.codecs[index].encode(values, useInitialValues: true, unchecked: labelled) } catch {
                throw Failure(description: "t=\(String(format: "%.3f", ready)) \(message.name): \(error)")
            }
            if message.name == "SteeringAngle", bytes.count == 8 {
                // AUTOSAR E2E profile 1: counter 0-14 in the low nibble of byte 6, CRC in byte 7.
                let counter = UInt8(truncatingIfNeeded: ((k + (counterShift[m] ?? 0)) % 15 + 15) % 15)
                bytes.withUnsafeMutableBytes { Self.steeringE2E.protect($0, counter: counter) }
                if active.contains(where: { $0.kind == .crc }) { bytes[7] = ~bytes[7] }
            } else if ["VehicleSpeed", "Transmission"].contains(message.name), bytes.count == 8 {
                bytes[7] = UInt8(CRC.crc8SAEJ1850.compute(Array(bytes[0..<7])))
                if active.contains(where: { $0.kind == .crc }) { bytes[7] = ~bytes[7] }
            }
            if !faults.faults.isEmpty { lastBytes[m] = bytes }
            let time = Self.baseTime + busFree
            let seconds = Int64(time), micros = UInt32(((time - Double(seconds)) * 1e6).rounded(.down))
            emit(CANLogRecord(timestamp: CANTimestamp(seconds: seconds, microseconds: micros), interface: interface,
                              frame: .data(CANDataFrame(id: message.id, bytes: bytes))))
        }
    }

    /// The steering angle sensor's protection: E2E profile 1, data ID 0x0B0 (both bytes), CRC in
    /// byte 7, counter at bit 48 (as `DBC/demo_mapping.yaml` declares it).
    static let steeringE2E = E2EProfile1Config(dataID: 0x0B0, dataIDMode: .both, dataLength: 64, crcOffset: 56, counterOffset: 48)

    /// The signal values of frame `k` of a message: numbers, and labels for enumerations.
    mutating func signals(of name: String, _ k: Int) -> ([String: Double], [String: String]) {
        let c = car, s = scenario, t = c.t
        func on(_ b: Bool) -> String { b ? "On" : "Off" }
        switch name {
        case "SteeringAngle":
            return (["SteeringWheelAngle": c.steering + rng.gauss(0.05), "SteeringWheelAngleRate": max(-2000, min(2000, c.steeringRate + rng.gauss(0.3))),
                     "SteeringDriverTorque": max(-20, min(20, 0.004 * max(-300, min(300, c.steering)) + rng.gauss(0.05))),
                     "SteeringAngleCounter": Double(k % 15)],
                    ["SteeringAngleValid": "Valid", "SteeringAngleCalibrated": "Calibrated"])
        case "WheelSpeeds":
            let base = abs(c.kmh), spread = c.yaw * 1.58 / 2 * 3.6 * (c.v >= 0 ? 1 : -1)
            func w(_ d: Double) -> Double { max(0, base + d + (base > 0.5 ? rng.gauss(0.03) : 0)) }
            return (["WheelSpeedFL": w(-spread), "WheelSpeedFR": w(spread), "WheelSpeedRL": w(-spread * 0.95), "WheelSpeedRR": w(spread * 0.95)], [:])
        case "VehicleSpeed":
            return (["VehicleSpeed": abs(c.kmh), "VehicleSpeedCounter": Double(k % 16)],
                    ["VehicleSpeedQualifier": "Valid", "StandstillDetected": c.standstill ? "Standstill" : "Moving",
                     "DrivingDirection": c.standstill ? "Standstill" : c.direction])
        case "BrakeDynamics":
            let noise = c.standstill ? 0.003 : 0.02
            return (["BrakePressure": min(409, max(0, c.pressure)), "LongitudinalAccel": max(-15, min(15, c.accel + rng.gauss(noise))),
                     "LateralAccel": c.v * c.yaw + rng.gauss(noise), "YawRate": c.yaw * 180 / .pi + rng.gauss(noise)],
                    ["BrakePedalPressed": c.brake ? "Pressed" : "Released", "AbsActive": "Inactive", "EscActive": "Inactive"])
        case "EngineData":
            return (["EngineSpeed": max(0, c.rpm + (c.rpm > 0 ? rng.gauss(4) : 0)), "AcceleratorPedalPosition": max(0, min(100, c.pedal)),
                     "EngineCoolantTemp": min(90, 70 + t / 10), "EngineTorqueActual": c.running ? c.torque : 0],
                    ["EngineRunning": c.running ? "Running" : "Off", "CruiseControlActive": "Off"])
        case "Transmission":
            func gear(_ g: Int) -> String { g == -1 ? "Reverse" : g == 0 ? "Neutral" : "Gear\(g)" }
            return (["TransOilTemp": min(95, 60 + t / 20), "TransOutputSpeed": c.wheelRPM * CarState.finalDrive, "TransCounter": Double(k % 16)],
                    ["GearLever": c.lever, "TransManualModeActive": "Off", "ParkLockEngaged": c.parkLock ? "Engaged" : "Released",
                     "CurrentGear": gear(c.currentGear), "TargetGear": gear(c.targetGear)])
        case "Lights":
            let low = t >= s.tunnel.start + 0.4 && t < s.tunnel.end + 2
            let dark = min(1, max(0, (t - s.tunnel.start + 0.6) / 1.2)) - min(1, max(0, (t - s.tunnel.end + 0.6) / 1.2))
            return (["AmbientLightLevel": (9500 * (1 - dark) + 120 * dark) * (1 + (rng.uniform() - 0.5) * 0.06)],
                    ["LowBeam": on(low), "HighBeam": "Off", "TurnIndicatorLeft": on(s.indicatorLeft.contains { $0.contains(t) }),
                     "TurnIndicatorRight": on(s.indicatorRight.contains { $0.contains(t) }), "HazardLights": "Off",
                     "FogLightFront": "Off", "FogLightRear": "Off", "ParkingLights": on(low),
                     "DaytimeRunningLights": on(c.running && !low), "AutoLightMode": "On"])
        case "Doors":
            let open = t < 0.8 || (s.doorOpen > 0 && t >= s.doorOpen)
            let passengerDoor = s.passengerIn > 0 && t >= s.passengerIn - 1.5 && t < s.passengerIn + 1
            let passengerBelt = s.passengerIn > 0 && t >= s.passengerIn + 2.5 && (s.beltOff == 0 || t < s.beltOff)
            let belt = t >= 1.8 && (s.beltOff == 0 || t < s.beltOff)
            return ([:], ["DoorFrontLeftOpen": open ? "Open" : "Closed", "DoorFrontRightOpen": passengerDoor ? "Open" : "Closed", "DoorRearLeftOpen": "Closed",
                          "DoorRearRightOpen": "Closed", "TrunkOpen": "Closed", "HoodOpen": "Closed",
                          "DriverSeatbeltBuckled": belt ? "Buckled" : "Unbuckled", "PassengerSeatbeltBuckled": passengerBelt ? "Buckled" : "Unbuckled",
                          "CentralLockState": c.locked ? "Locked" : "Unlocked"])
        case "BodyStatus":
            // The rain sensor ramps up over 20 s of rain; the wipers follow its reading.
            let level = s.rain.contains(t) ? min(45, 45 * (t - s.rain.start) / 20) : 0
            let rain = level > 0 ? level + (rng.uniform() - 0.5) * 2 : 0
            let wiper = level >= 30 ? "Low" : level >= 6 ? "Interval" : "Off"
            let passenger = s.passengerIn > 0 && t >= s.passengerIn
            return (["RainIntensity": max(0, rain)],
                    ["WiperFrontMode": wiper, "ParkingBrakeEngaged": c.parkingBrake ? "Engaged" : "Released",
                     "SeatOccupiedDriver": t >= 0.9 ? "Occupied" : "Empty", "SeatOccupiedPassenger": passenger ? "Occupied" : "Empty",
                     "SeatOccupiedRearLeft": "Empty", "SeatOccupiedRearRight": "Empty",
                     "RearLeftSeatbeltBuckled": "Unbuckled", "RearRightSeatbeltBuckled": "Unbuckled"])
        case "ClusterInfo":
            // About 7 l/100 km from a 50 l tank: 0.14 % of the tank per km; the cluster's range follows.
            let level = 62.4 - 0.14 * c.distance / 1000
            return (["Odometer": 12345.6 + c.distance / 1000, "AmbientTemperature": 7.5, "FuelLevel": level,
                     "RemainingRange": max(0, level / 0.14)], ["DisplayUnitsImperial": "Metric"])
        case "GNSSPosition":
            let (en, ee) = gnssError(t)
            return (["GNSSLatitude": c.latitude + en / 111_132.0,
                     "GNSSLongitude": c.longitude + ee / (111_132.0 * cos(CarState.startLatitude * .pi / 180))], [:])
        case "GNSSStatus":
            let since = t - s.tunnel.end  // reacquiring after the tunnel
            let (fix, sats, hdop, accuracy): (String, Double, Double, Double) =
                since >= 0 && since < 1 ? ("2D", 5, 2.4, 12) : since >= 0 && since < 4 ? ("3D", 7 + (since - 1), 1.6 - 0.2 * (since - 1), 6 - 1.3 * (since - 1)) : ("3D", 12, 0.9, 1.8)
            if k % 2 == 0 {
                let course = abs(c.kmh) > 0.5 ? (c.v > 0 ? c.heading : (c.heading + 180).truncatingRemainder(dividingBy: 360)) : lastCourse
                lastCourse = course
                return (["GNSSSatellites": sats, "GNSSHeading": (course * 100).rounded() / 100 == 360 ? 0 : course,
                         "GNSSSpeedOverGround": abs(c.kmh) > 0.5 ? max(0, abs(c.kmh) + rng.gauss(0.08)) : rng.uniform() * 0.06,
                         "GNSSHdop": hdop + (rng.uniform() - 0.5) * 0.1],
                        ["GNSSPageIndex": "Motion", "GNSSFixType": fix])
            }
            return (["GNSSHorizontalAccuracy": accuracy + (rng.uniform() - 0.5) * 0.4, "GNSSAltitude": CarState.startAltitude + 0.004 * c.distance,
                     "GNSSUtcTime": (Self.baseTime + t).rounded(.down)], ["GNSSPageIndex": "PositionQuality"])
        case "GatewayStatus":
            return (["GwUptime": 95 + t.rounded(.down), "GwBusLoad": 32 + rng.uniform() * 4, "GwRxErrorCount": 0, "GwTxErrorCount": 0], ["GwState": "Normal"])
        default:
            return ([:], [:])
        }
    }

    var lastCourse = CarState.startHeading
    var errorNorth = 0.0, errorEast = 0.0, errorTime = -1.0

    /// The receiver's slowly wandering position error (m), larger just after the tunnel.
    mutating func gnssError(_ t: Double) -> (Double, Double) {
        if t - errorTime >= 0.1 {
            errorNorth = 0.97 * errorNorth + rng.gauss(0.08)
            errorEast = 0.97 * errorEast + rng.gauss(0.08)
            errorTime = t
        }
        let since = t - scenario.tunnel.end
        let scale = since >= 0 && since < 1 ? 4.0 : since >= 0 && since < 4 ? 2.0 : 1.0
        return (errorNorth * scale, errorEast * scale)
    }
}
