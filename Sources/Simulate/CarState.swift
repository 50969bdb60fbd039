import Foundation

/// The simulated car, stepped at 1 ms: motion from the scenario's speed and turn plan, the
/// gear lever and an automatic gearbox, pedals, engine, and the position it drives to.
struct CarState {
    static let step = 0.001
    static let wheelbase = 2.85, steerRatio = 15.5, tyreRadius = 0.317, finalDrive = 3.15
    static let gearRatio: [Int: Double] = [-1: 3.30, 1: 4.70, 2: 3.13, 3: 2.10, 4: 1.67, 5: 1.30]
    static let upshift: [Int: Double] = [1: 14, 2: 25, 3: 36, 4: 52]
    static let downshift: [Int: Double] = [2: 9, 3: 18, 4: 29, 5: 45]
    static let startLatitude = 48.1374, startLongitude = 11.5755, startAltitude = 519.0, startHeading = 20.0

    let scenario: DriveScenario
    var t = 0.0
    var v = 0.0, kmh = 0.0, accel = 0.0, yaw = 0.0  // m/s (signed), km/h, m/s², rad/s
    var heading = startHeading, north = 0.0, east = 0.0, distance = 0.0
    var steering = 0.0, steeringRate = 0.0
    var lever = "P", parkLock = true
    var currentGear = 0, targetGear = 0
    var shiftDone: Double?
    var brake = false, pressure = 0.0, pedal = 0.0, rpm = 720.0, torque = 8.0
    var running = true, locked = false, parkingBrake = true
    var lastMoving = -10.0
    var direction = "Standstill"

    init(scenario: DriveScenario) { self.scenario = scenario }

    var standstill: Bool { t - lastMoving > 0.5 }
    var moving: Bool { abs(kmh) > 1e-6 }
    var latitude: Double { Self.startLatitude + north / 111_132.0 }
    var longitude: Double { Self.startLongitude + east / (111_132.0 * cos(Self.startLatitude * .pi / 180)) }
    var wheelRPM: Double { abs(v) / (2 * .pi * Self.tyreRadius) * 60 }

    mutating func advance(to target: Double) {
        while t + Self.step <= target { stepOnce() }
    }

    mutating func stepOnce() {
        let dt = Self.step
        t += dt
        let s = scenario
        let newKmh = s.speed(at: t)
        let newV = newKmh / 3.6
        let speedChange = (abs(newV) - abs(v)) / dt
        accel = (newV - v) / dt
        v = newV
        kmh = newKmh
        yaw = s.yawRate(at: t) * .pi / 180
        // The steering wheel that gives this yaw rate (bicycle model), plus small corrections.
        let weave = (2.5 * sin(0.45 * t) + 1.2 * sin(1.3 * t + 1.0)) * min(1, max(0, (abs(kmh) - 20) / 10))
        let wheel = abs(v) > 0.3 ? atan(yaw * Self.wheelbase / v) * 180 / .pi * Self.steerRatio : steering * 0.999
        let newSteering = max(-540, min(540, wheel + weave))
        steeringRate = (newSteering - steering) / dt
        steering = newSteering
        // Heading is clockwise from north; a left (positive) yaw lowers it.
        heading = (heading - yaw * 180 / .pi * dt).truncatingRemainder(dividingBy: 360)
        if heading < 0 { heading += 360 }
        let h = heading * .pi / 180
        north += v * cos(h) * dt
        east += v * sin(h) * dt
        distance += abs(v) * dt
        if moving { lastMoving = t; direction = v > 0 ? "Forward" : "Reverse" }

        // Lever and gearbox.
        if t >= s.shiftP && s.shiftP > 0 { lever = "P" }
        else if s.endReverse.contains(t) { lever = "R" }
        else if t >= s.shiftD { lever = "D" }
        else if t >= s.shiftN { lever = "N" }
        else if t >= s.shiftR { lever = "R" }
        parkLock = t < s.parkLockOff || (s.parkLockOn > 0 && t >= s.parkLockOn)
        if let done = shiftDone, t >= done { currentGear = targetGear; shiftDone = nil }
        var want: Int
        switch lever {
        case "P", "N": want = 0
        case "R": want = -1
        default:
            let base = max(targetGear, 1)
            want = base
            if shiftDone == nil, currentGear >= 1 {
                if let up = Self.upshift[base], kmh > up, accel > 0.05 { want = base + 1 }
                else if let down = Self.downshift[base], kmh < down { want = base - 1 }
            }
        }
        if want != targetGear, shiftDone == nil {
            targetGear = want
            shiftDone = t + (want == 0 ? 0.1 : 0.4)
        }

        // Pedals and engine.
        parkingBrake = t < s.parkLockOff || (s.shiftP > 0 && t >= s.shiftP + 0.3)
        brake = speedChange < -0.25 || (!moving && s.lightStops.contains { $0.contains(t) }) || (!moving && t < s.shiftR + 0.9 && t > 2.2)
        let pedalTarget = brake ? 0 : speedChange > 0.05 ? 4 + 12 * speedChange + 0.2 * abs(kmh) : abs(kmh) > 2 ? 8 + 0.15 * abs(kmh) : 0
        pedal += (min(pedalTarget, 60) - pedal) * min(1, dt / 0.15)
        let pressureTarget = brake && speedChange < -0.25 ? 4 + 11 * -speedChange : brake ? 16 : 0
        pressure += (pressureTarget - pressure) * min(1, dt / 0.08)
        running = s.engineOff == 0 || t < s.engineOff
        var rpmTarget = 0.0, torqueTarget = 0.0
        if running {
            if currentGear == 0 { rpmTarget = 720; torqueTarget = 8 }
            else {
                let mech = wheelRPM * (Self.gearRatio[currentGear] ?? 1) * Self.finalDrive
                rpmTarget = max(mech * (pedal > 1 ? 1.04 : 1), pedal > 1 ? 660 + pedal * 22 : 660)
                torqueTarget = pedal > 1 ? 20 + pedal * 2.6 : (moving && speedChange < 0 ? -18 : 18)
            }
        }
        rpm += (rpmTarget - rpm) * min(1, dt / (running ? 0.12 : 0.25))
        if !running && rpm < 60 { rpm = 0 }
        torque += (torqueTarget - torque) * min(1, dt / 0.2)
        if !locked && kmh > 15 { locked = true }
        if !running { locked = false }
    }
}
