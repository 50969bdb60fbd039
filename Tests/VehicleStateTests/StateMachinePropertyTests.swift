@testable import VehicleState
import XCTest

/// Properties of the workload and phase state machines under jittered input: every state is
/// reachable, and noise does not make them flicker.
final class StateMachinePropertyTests: XCTestCase {
    struct Sample { var t: Double; var speed: Double; var reversing: Bool; var heading: Double; var parked: Bool }

    /// A drive at 10 Hz covering every phase: parked, reversing out, pulling away, cruising, a
    /// red light, cruising, a slow search with three left turns, reversing into a space, parked.
    static func drive(jitter: Double, seed: UInt64) -> [Sample] {
        var rng = seed | 1
        func noise() -> Double {
            rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17
            return (Double(rng % 10_000) / 10_000 - 0.5) * 2 * jitter
        }
        var out: [Sample] = []
        var t = 0.0, heading = 20.0
        func run(_ seconds: Double, speed: (Double) -> Double, reversing: Bool = false, turn: Double = 0, parked: Bool = false) {
            var s = 0.0
            while s < seconds {
                let v = speed(s)
                heading = (heading - turn * 0.1 + 360).truncatingRemainder(dividingBy: 360)
                // Speed noise only where the car moves; the time step jitters by up to ±10 ms.
                out.append(Sample(t: t, speed: max(0, v + (v > 0 ? noise() * 0.5 : 0)), reversing: reversing,
                                  heading: (heading + noise() * 1.5 + 360).truncatingRemainder(dividingBy: 360), parked: parked))
                let dt = 0.1 + noise() * 0.01
                s += dt; t += dt
            }
        }
        run(5, speed: { _ in 0 }, parked: true)
        run(2, speed: { _ in 0 })
        run(6, speed: { min(4, $0 * 2) }, reversing: true)
        run(2, speed: { _ in 0 })
        run(10, speed: { $0 * 5 })
        run(60, speed: { _ in 50 })
        run(8, speed: { max(0, 50 - $0 * 7) })
        run(20, speed: { _ in 0 })
        run(10, speed: { $0 * 5 })
        run(30, speed: { _ in 50 })
        run(8, speed: { max(12, 50 - $0 * 6) })
        for _ in 0..<3 {
            run(10, speed: { _ in 12 })
            run(6, speed: { _ in 10 }, turn: -15)
        }
        run(8, speed: { _ in 12 })
        run(3, speed: { max(0, 12 - $0 * 5) })
        run(2, speed: { _ in 0 })
        run(6, speed: { min(4, $0 * 2) }, reversing: true)
        run(2, speed: { _ in 0 })
        run(5, speed: { _ in 0 }, parked: true)
        return out
    }

    /// The phases the tracker goes through, with the motion's hysteresis as the frame path has it.
    static func phases(_ samples: [Sample]) -> [(DrivingPhase, Double)] {
        var tracker = PhaseTracker(settings: PhaseSettings())
        var moving = false
        var out: [(DrivingPhase, Double)] = []
        for s in samples {
            moving = moving ? s.speed > DrivingContextTracker.moveLeave : s.speed > DrivingContextTracker.moveEnter
            let motion: DrivingContext.Motion = moving ? (s.reversing ? .reversing : .moving) : s.parked ? .parked : .stopped
            if tracker.update(motion: motion, speedKmh: s.speed, heading: s.heading, parkingBrake: s.parked, gearKnown: true,
                              now: Int64(s.t * 1e9) + 1_700_000_000_000_000_000), let p = tracker.current {
                out.append((p, s.t))
            }
        }
        return out
    }

    func testEveryPhaseIsReachedInOrder() {
        let seen = Self.phases(Self.drive(jitter: 0, seed: 1)).map(\.0)
        XCTAssertEqual(seen, [.parked, .starting, .driving, .stoppedAtLight, .driving, .parkingSearch, .parking, .parked])
        XCTAssertEqual(Set(seen), Set(DrivingPhase.allCases))
    }

    func testJitteredInputGivesTheSamePhasesWithoutFlicker() {
        let clean = Self.phases(Self.drive(jitter: 0, seed: 1))
        for seed: UInt64 in 1...40 {
            let jittered = Self.phases(Self.drive(jitter: 1, seed: seed &* 7919))
            XCTAssertEqual(jittered.map(\.0), clean.map(\.0), "seed \(seed)")
            // Every phase holds at least a second; each change is within 3 s of the clean one.
            for (a, b) in zip(jittered, jittered.dropFirst()) { XCTAssertGreaterThanOrEqual(b.1 - a.1, 1, "seed \(seed): \(a.0) → \(b.0)") }
            for (j, c) in zip(jittered, clean) { XCTAssertEqual(j.1, c.1, accuracy: 3, "seed \(seed): \(j.0)") }
        }
    }

    func testTheWorkloadFallsOnlyAfterItHeldAndReachesEveryLevel() {
        let settings = AttentionSettings()
        for seed: UInt64 in 1...40 {
            var rng = seed &* 0x9E37_79B9_7F4A_7C15 | 1
            func uniform() -> Double {
                rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17
                return Double(rng % 1_000_000) / 1_000_000
            }
            var tracker = AttentionTracker(settings: settings)
            var levels: [(Attention.Level, Double)] = []
            var previous = DrivingContext.Motion.stopped
            var t = 0.0
            // 10 minutes of inputs hovering around every threshold, changing every 100 ms.
            while t < 600 {
                let phase = Int(t / 20) % 5
                let motion: DrivingContext.Motion = phase == 0 ? .stopped : phase == 4 && uniform() < 0.7 ? .reversing : .moving
                let speed = phase == 3 ? 100 + (uniform() - 0.5) * 6 : 40 + (uniform() - 0.5) * 4
                let steering = phase == 2 ? 90 + (uniform() - 0.5) * 20 : (uniform() - 0.5) * 10
                let acceleration = (uniform() - 0.5) * 6.5
                let indicator = phase == 1 && uniform() < 0.5
                if tracker.update(motion: motion, previous: previous, speedKmh: speed, acceleration: acceleration, steeringDegrees: steering,
                                  indicator: indicator, positionLost: false, now: Int64(t * 1e9) + 1),
                   tracker.current.level != levels.last?.0 {
                    levels.append((tracker.current.level, t))
                }
                previous = motion
                t += 0.1
            }
            XCTAssertEqual(Set(levels.map(\.0)), Set(Attention.Level.allCases), "seed \(seed)")
            for (a, b) in zip(levels, levels.dropFirst()) where b.0 < a.0 {
                XCTAssertGreaterThanOrEqual(b.1 - a.1, settings.holdSeconds - 1e-6, "seed \(seed): \(a.0) → \(b.0) after \(b.1 - a.1) s")
            }
        }
    }
}
