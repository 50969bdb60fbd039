import Foundation

/// A city drive as a speed and turn plan: reverse out of a parking space, legs between
/// traffic lights (some with turns), one tunnel without GNSS, and parking at the end. The
/// plan comes from the seed, so a seed gives the same drive every time.
struct DriveScenario {
    struct Knot { var t: Double; var kmh: Double }
    /// A turn: the heading changes by `degrees` (positive = left) between `start` and `end`.
    struct Turn { var start, end, degrees: Double }
    struct Window { var start, end: Double; func contains(_ t: Double) -> Bool { t >= start && t < end } }

    var knots: [Knot] = []
    var turns: [Turn] = []
    var lightStops: [Window] = []
    var tunnel = Window(start: 0, end: 0)
    var indicatorLeft: [Window] = []
    var indicatorRight: [Window] = []
    var duration: Double = 0
    // Fixed moments of the start and the end.
    var shiftR = 2.6, parkLockOff = 2.75, shiftN = 10.0, shiftD = 10.3
    var shiftP = 0.0, parkLockOn = 0.0, engineOff = 0.0, doorOpen = 0.0, beltOff = 0.0

    init(seed: UInt64, minutes: Double) {
        var rng = SplitMix64(seed: seed)
        let end = max(1.5, minutes) * 60
        // Parked, reverse out at 5 km/h with the wheel turned, stop, shift to D.
        knots = [Knot(t: 0, kmh: 0), Knot(t: 3.5, kmh: 0), Knot(t: 5.5, kmh: -5), Knot(t: 8.0, kmh: -5), Knot(t: 9.5, kmh: 0), Knot(t: 11.0, kmh: 0)]
        turns.append(Turn(start: 3.6, end: 9.3, degrees: 50))
        indicatorLeft.append(Window(start: 10.0, end: 14.0))
        var t = 11.0
        var leg = 0
        let tunnelLeg = 3
        // Legs until about 40 s before the end: accelerate, cruise (maybe turn), and stop at a
        // red light or roll on.
        while t < end - 40 {
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
                knots.append(Knot(t: t + brake + wait, kmh: 0))
                t += brake + wait
            }
            leg += 1
        }
        // Into a parking space: slow down, stop, P, engine off, door open.
        let last = knots.last!.kmh
        knots.append(Knot(t: t + max(3, last / 6), kmh: 0))
        t += max(3, last / 6)
        lightStops.append(Window(start: t - 0.5, end: t + 6))
        shiftP = t + 1
        parkLockOn = shiftP + 0.2
        engineOff = shiftP + 0.7
        beltOff = shiftP + 1.3
        doorOpen = shiftP + 1.8
        duration = shiftP + 2.5
        knots.append(Knot(t: duration, kmh: 0))
    }

    /// Speed (km/h, negative in reverse) at `t`: smoothstep between the plan's knots.
    func speed(at t: Double) -> Double { Self.smoothstep(knots.map { ($0.t, $0.kmh) }, t) }

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
struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func uniform() -> Double { Double(next() >> 11) / Double(1 << 53) }
    /// Normal noise (Box–Muller).
    mutating func gauss(_ sigma: Double) -> Double {
        let u = max(uniform(), 1e-300), v = uniform()
        return sigma * (-2 * log(u)).squareRoot() * cos(2 * .pi * v)
    }
}
