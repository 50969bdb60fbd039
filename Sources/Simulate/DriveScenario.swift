import Foundation

/// A drive as a speed and turn plan: reverse out of a parking space, legs between traffic
/// lights (some with turns), one tunnel without GNSS, and parking at the end. A city drive's
/// plan comes from its seed, so a seed gives the same drive every time; `scripted` is the
/// fixed 69 s drive the tests check moment by moment.
public struct DriveScenario: Sendable {
    public struct Knot: Sendable { public var t: Double; public var kmh: Double }
    /// A turn: the heading changes by `degrees` (positive = left) between `start` and `end`.
    public struct Turn: Sendable { public var start, end, degrees: Double }
    public struct Window: Sendable {
        public var start, end: Double
        public func contains(_ t: Double) -> Bool { t >= start && t < end }
    }

    public internal(set) var knots: [Knot] = []
    public internal(set) var turns: [Turn] = []
    /// Standing with the brake held (red lights, the end).
    public internal(set) var lightStops: [Window] = []
    public internal(set) var tunnel = Window(start: 0, end: 0)
    public internal(set) var indicatorLeft: [Window] = []
    public internal(set) var indicatorRight: [Window] = []
    /// Raining: the rain sensor sees it from `start`, ramping up over 20 s; the wipers follow.
    public internal(set) var rain = Window(start: 0, end: 0)
    /// A front passenger's seat is occupied from this moment (0: nobody gets in); the door opens
    /// 1.5 s before and closes 1 s after, the belt is buckled 2.5 s after.
    public internal(set) var passengerIn = 0.0
    /// Reversing into the space at the end, with the lever in R (city drives).
    public internal(set) var endReverse = Window(start: 0, end: 0)
    /// The slow search for a parking space at the end, with turns (city drives).
    public internal(set) var parkingSearch = Window(start: 0, end: 0)
    /// Seconds.
    public internal(set) var duration: Double = 0
    // Fixed moments of the start and the end.
    public internal(set) var shiftR = 2.6, parkLockOff = 2.75, shiftN = 10.0, shiftD = 10.3
    public internal(set) var shiftP = 0.0, parkLockOn = 0.0, engineOff = 0.0, doorOpen = 0.0, beltOff = 0.0

    /// The fixed 69 s drive: parked; reverse out (2.6–9.5 s); pull away and cruise at 50 km/h;
    /// stop at a red light (29.5–39.5 s) where a passenger gets in (seat occupied at 32 s); a
    /// right turn at 15 km/h (41–45.8 s); rain from 46 s; a tunnel without GNSS (50.5–58.5 s);
    /// slow to a stop (65.5 s), P (66.5 s), engine off, door opens.
    public static let scripted: DriveScenario = {
        var s = DriveScenario()
        let speeds: [(Double, Double)] = [(0, 0), (3.5, 0), (5.5, -5), (8, -5), (9.5, 0), (11, 0), (21, 50), (23, 50), (29.5, 0),
                                          (39.5, 0), (42, 15), (45, 15), (50, 50), (59.5, 50), (65.5, 0), (69, 0)]
        s.knots = speeds.map { Knot(t: $0.0, kmh: $0.1) }
        s.turns = [Turn(start: 3.6, end: 9.3, degrees: 50), Turn(start: 41.0, end: 45.8, degrees: -92)]
        s.lightStops = [Window(start: 9.2, end: 10.9), Window(start: 29.0, end: 39.3), Window(start: 65.0, end: 69.0)]
        s.tunnel = Window(start: 50.5, end: 58.5)
        s.indicatorLeft = [Window(start: 10.0, end: 14.0)]
        s.indicatorRight = [Window(start: 37.0, end: 45.5)]
        s.passengerIn = 32.0
        s.rain = Window(start: 46.0, end: 69.0)
        (s.shiftP, s.parkLockOn, s.engineOff, s.beltOff, s.doorOpen, s.duration) = (66.5, 66.7, 67.2, 67.8, 68.3, 69.0)
        return s
    }()

    init() {}

    /// A city drive of about `minutes`, planned from `seed`: a passenger gets in at the first red
    /// light, rain starts at 45 % of the drive, and it ends searching for a space and reversing in.
    public init(seed: UInt64, minutes: Double) {
        var rng = SplitMix64(seed: seed)
        let end = max(1.5, minutes) * 60
        // Parked, reverse out at 5 km/h with the wheel turned, stop, shift to D.
        knots = [Knot(t: 0, kmh: 0), Knot(t: 3.5, kmh: 0), Knot(t: 5.5, kmh: -5), Knot(t: 8.0, kmh: -5), Knot(t: 9.5, kmh: 0), Knot(t: 11.0, kmh: 0)]
        turns.append(Turn(start: 3.6, end: 9.3, degrees: 50))
        indicatorLeft.append(Window(start: 10.0, end: 14.0))
        var t = 11.0
        var leg = 0
        let tunnelLeg = minutes < 7 ? 1 : 3  // short drives get their tunnel early
        // Legs until about 40 s before the end: accelerate, cruise (maybe turn), and stop at a
        // red light or roll on.
        while t < end - 100 || leg == 0 {
            let cruise = leg == tunnelLeg ? 60.0 : [30.0, 40, 50, 50, 60][Int(rng.next() % 5)]
            let accel = cruise / 5.0  // about 5 km/h per second
            knots.append(Knot(t: t + accel, kmh: cruise))
            t += accel
            var cruiseTime = 15 + Double(rng.next() % 30)
            if leg == tunnelLeg {
                cruiseTime = 40
                tunnel = Window(start: t + 8, end: t + 8 + 22)
            }
            if leg != tunnelLeg, rng.next() % 2 == 0 {
                // A turn at 15 km/h in the middle of the leg.
                let left = rng.next() % 2 == 0
                cruiseTime = max(cruiseTime, 24)  // room for the turn's knots before the leg ends
                let at = t + cruiseTime / 2
                knots.append(Knot(t: at - 4, kmh: cruise))
                knots.append(Knot(t: at, kmh: 15))
                knots.append(Knot(t: at + 5, kmh: 15))
                turns.append(Turn(start: at, end: at + 5, degrees: left ? 90 : -90))
                if left { indicatorLeft.append(Window(start: at - 5, end: at + 5)) } else { indicatorRight.append(Window(start: at - 5, end: at + 5)) }
                knots.append(Knot(t: at + 10, kmh: cruise))
            }
            t += cruiseTime
            knots.append(Knot(t: t, kmh: cruise))
            if rng.next() % 3 != 0 || leg == 0 {
                // Red light: brake to a stop and wait.
                let brake = cruise / 7.0
                knots.append(Knot(t: t + brake, kmh: 0))
                let wait = 12 + Double(rng.next() % 30)
                lightStops.append(Window(start: t + brake - 0.5, end: t + brake + wait))
                if passengerIn == 0 { passengerIn = t + brake + 3 }  // a passenger gets in at the first red light
                knots.append(Knot(t: t + brake + wait, kmh: 0))
                t += brake + wait
            }
            leg += 1
        }
        // Looking for a parking space: down to 12 km/h, around the block (three left turns at
        // 10 km/h, the indicator on before each), then stop beside the space.
        let v = knots.last!.kmh
        let searchStart = t
        knots.append(Knot(t: t + max(3, abs(v - 12) / 5), kmh: 12))
        t += max(3, abs(v - 12) / 5)
        for _ in 0..<3 {
            knots.append(Knot(t: t + 8, kmh: 12))
            t += 8
            knots.append(Knot(t: t + 2, kmh: 10))
            t += 2
            turns.append(Turn(start: t, end: t + 6, degrees: 90))
            indicatorLeft.append(Window(start: t - 3, end: t + 5))
            knots.append(Knot(t: t + 6, kmh: 10))
            t += 6
            knots.append(Knot(t: t + 2, kmh: 12))
            t += 2
        }
        knots.append(Knot(t: t + 6, kmh: 12))
        t += 6
        parkingSearch = Window(start: searchStart, end: t)
        // Into the space: stop, R, reverse in with the wheel turned, stop, P, engine off, door open.
        knots.append(Knot(t: t + 3, kmh: 0))
        t += 3
        lightStops.append(Window(start: t - 0.5, end: t + 1.5))
        endReverse = Window(start: t + 0.5, end: t + 9)
        knots.append(Knot(t: t + 1.5, kmh: 0))
        knots.append(Knot(t: t + 3.5, kmh: -4))
        knots.append(Knot(t: t + 6.5, kmh: -4))
        turns.append(Turn(start: t + 2, end: t + 7, degrees: -25))
        knots.append(Knot(t: t + 8, kmh: 0))
        t += 8
        lightStops.append(Window(start: t - 0.5, end: t + 6))
        shiftP = t + 1
        parkLockOn = shiftP + 0.2
        engineOff = shiftP + 0.7
        beltOff = shiftP + 1.3
        doorOpen = shiftP + 1.8
        duration = shiftP + 2.5
        knots.append(Knot(t: duration, kmh: 0))
        rain = Window(start: (end * 0.45).rounded(), end: duration)
    }

    /// Speed (km/h, negative in reverse) at `t`: smoothstep between the plan's knots.
    public func speed(at t: Double) -> Double { Self.smoothstep(knots.map { ($0.t, $0.kmh) }, t) }

    /// Yaw rate (deg/s, positive = left) at `t`.
    func yawRate(at t: Double) -> Double {
        for turn in turns where t >= turn.start && t < turn.end {
            let x = (t - turn.start) / (turn.end - turn.start)
            return turn.degrees / (turn.end - turn.start) * 6 * x * (1 - x)  // smooth, integrates to `degrees`
        }
        return 0
    }

    static func smoothstep(_ points: [(Double, Double)], _ t: Double) -> Double {
        guard let first = points.first else { return 0 }
        if t <= first.0 { return first.1 }
        for (a, b) in zip(points, points.dropFirst()) where t <= b.0 {
            guard b.0 > a.0 else { return b.1 }
            let x = (t - a.0) / (b.0 - a.0)
            return a.1 + (b.1 - a.1) * x * x * (3 - 2 * x)
        }
        return points.last!.1
    }
}

/// A small, fast, seedable generator (SplitMix64), so a seed gives the same log everywhere.
public struct SplitMix64: Sendable {
    var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    public mutating func uniform() -> Double { Double(next() >> 11) / Double(1 << 53) }
    /// Normal noise (Box–Muller).
    public mutating func gauss(_ sigma: Double) -> Double {
        let u = max(uniform(), 1e-300), v = uniform()
        return sigma * (-2 * log(u)).squareRoot() * cos(2 * .pi * v)
    }
}
