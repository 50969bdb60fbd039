import CANBus
@testable import VehicleState
import XCTest

final class TrafficLightAdvisorTests: XCTestCase {
    // 0.001° of latitude north ≈ 111.2 m.
    let here = (lat: 48.0, lon: 11.0)
    /// Without announcement time unless asked, so the arithmetic stays that of the windows alone.
    func request(_ phases: [TrafficLightAdvisor.Phase] = [], windows: [TrafficLightAdvisor.Window] = [], limit: Double? = 50,
                 announce: Double = 0) -> TrafficLightAdvisor.Request {
        var r = TrafficLightAdvisor.Request(stopLatitude: here.lat + 0.001, stopLongitude: here.lon, phases: phases, greenWindows: windows,
                                            minimumSpeedKmh: 15, speedLimitKmh: limit)
        r.announceSeconds = announce
        return r
    }

    func advise(_ r: TrafficLightAdvisor.Request, speed: Double, heading: Double? = 0) -> TrafficLightAdvisor.Answer {
        let w = r.greenWindows.isEmpty ? TrafficLightAdvisor.windows(from: r.phases) : r.greenWindows
        return TrafficLightAdvisor.advise(r, windows: w, speedKmh: speed, latitude: here.lat, longitude: here.lon, heading: heading)
    }

    func testWindowsFromPhasesMergeAdjacentGreens() {
        let w = TrafficLightAdvisor.windows(from: [.init(color: .green, seconds: 4), .init(color: .amber, seconds: 3), .init(color: .red, seconds: 20),
                                                    .init(color: .green, seconds: 10), .init(color: .green, seconds: 5)])
        XCTAssertEqual(w, [.init(start: 0, end: 4), .init(start: 27, end: 42)])
    }

    func testDistanceAndBearing() {
        let (d, b) = TrafficLightAdvisor.distanceAndBearing(fromLatitude: 48, longitude: 11, toLatitude: 48.001, longitude: 11)
        XCTAssertEqual(d, 111.2, accuracy: 0.2)
        XCTAssertEqual(b, 0, accuracy: 0.01)
    }

    func testKeepSpeedWhenArrivingOnGreen() {
        // 111 m at 40 km/h (11.1 m/s) = 10 s; green from 5 to 25 s.
        let a = advise(request([.init(color: .red, seconds: 5), .init(color: .green, seconds: 20)]), speed: 40)
        XCTAssertEqual(a.advice, .keepSpeed)
        XCTAssertTrue(a.arrivesOnGreen)
        XCTAssertEqual(a.arrivalSeconds!, 10, accuracy: 0.1)
        XCTAssertEqual(a.ahead, true)
    }

    func testAdjustSpeedIntoTheWindowWithinTheLimit() {
        // Red for 20 s more, then green for 10: arrive between 20 and 30 s → 13.3–20 km/h, but at least 15.
        let a = advise(request([.init(color: .red, seconds: 20), .init(color: .green, seconds: 10)]), speed: 50)
        XCTAssertEqual(a.advice, .adjustSpeed)
        XCTAssertFalse(a.arrivesOnGreen)
        XCTAssertEqual(a.speedRangeKmh!.min, 15, accuracy: 0.1)
        XCTAssertEqual(a.speedRangeKmh!.max, 20, accuracy: 0.1)
    }

    func testTheAdviceAllowsForTheCarMovingOnWhileItIsSpoken() {
        // 111 m at 30 km/h: 3 s of telling covers 25 m, leaving 86 m to arrive 17-27 s after it:
        // 11.5-18.3 km/h, at least 15 (without the 3 s it would be 15-20).
        let phases: [TrafficLightAdvisor.Phase] = [.init(color: .red, seconds: 20), .init(color: .green, seconds: 10)]
        let a = advise(request(phases, announce: 3), speed: 30)
        XCTAssertEqual(a.advice, .adjustSpeed)
        XCTAssertEqual(a.speedRangeKmh!.min, 15, accuracy: 0.1)
        XCTAssertEqual(a.speedRangeKmh!.max, 18.3, accuracy: 0.1)
        XCTAssertEqual(a.announceSeconds, 3)
        XCTAssertTrue(a.explanation.contains("allowing 3 s"), a.explanation)
        // At 50 km/h the 3 s cover 42 m: the rest can only make the window below 15 km/h.
        XCTAssertEqual(advise(request(phases, announce: 3), speed: 50).advice, .stop)
        XCTAssertEqual(advise(request(phases, announce: 0), speed: 50).advice, .adjustSpeed)
        // The default request allows 3 s.
        XCTAssertEqual(TrafficLightAdvisor.Request(stopLatitude: 0, stopLongitude: 0).announceSeconds, 3)
    }

    func testStopWhenNoWindowIsReachable() {
        // Green only for the next 2 s: 111 m in 2 s needs 200 km/h, over the 50 limit.
        let a = advise(request([.init(color: .green, seconds: 2), .init(color: .red, seconds: 60)]), speed: 30)
        XCTAssertEqual(a.advice, .stop)
        XCTAssertNil(a.speedRangeKmh)
    }

    func testStopLineBehind() {
        let a = advise(request(windows: [.init(start: 0, end: 30)]), speed: 30, heading: 180)
        XCTAssertEqual(a.advice, .passed)
        XCTAssertEqual(a.ahead, false)
    }

    func testRefusesStaleSpeedOrPosition() {
        let fresh = DrivingContext.Part<Double>(value: 30, state: .fresh, ageSeconds: 0.01)
        let staleLocation = DrivingContext.Part<DrivingContext.Location>(value: .init(latitude: 48, longitude: 11), state: .stale, ageSeconds: 4.2)
        let c = DrivingContext(time: CANTimestamp(totalNanoseconds: 0), speed: fresh, location: staleLocation,
                               gear: .init(value: nil, state: .unavailable, ageSeconds: nil), motion: .moving,
                               accelerationTrend: .steady, acceleration: 0, distanceKm: 0)
        guard case .failure(.unavailable(let m)) = TrafficLightAdvisor.advise(request(windows: [.init(start: 0, end: 9)]), context: c) else { return XCTFail() }
        XCTAssertTrue(m.contains("position is stale"), m)
        XCTAssertTrue(m.contains("4.2"), m)
    }

    func testAdviceDuringAManoeuvreSaysDoNotDisturb() {
        let speed = DrivingContext.Part<Double>(value: 20, state: .fresh, ageSeconds: 0.01)
        let location = DrivingContext.Part<DrivingContext.Location>(value: .init(latitude: here.lat, longitude: here.lon, heading: 0),
                                                                    state: .fresh, ageSeconds: 0.05)
        var c = DrivingContext(time: CANTimestamp(totalNanoseconds: 0), speed: speed, location: location,
                               gear: .init(value: nil, state: .unavailable, ageSeconds: nil), motion: .moving,
                               accelerationTrend: .steady, acceleration: 0, distanceKm: 0)
        guard case .success(let calm) = TrafficLightAdvisor.advise(request(windows: [.init(start: 0, end: 60)]), context: c) else { return XCTFail() }
        XCTAssertFalse(calm.doNotDisturb)
        c.attention = .init(value: Attention(level: .high, reasons: [.turning]), state: .fresh, ageSeconds: 0.01)
        guard case .success(let busy) = TrafficLightAdvisor.advise(request(windows: [.init(start: 0, end: 60)]), context: c) else { return XCTFail() }
        XCTAssertTrue(busy.doNotDisturb)
        XCTAssertEqual(busy.attentionReasons, ["turning"])
        XCTAssertTrue(busy.explanation.hasPrefix("Do not disturb"), busy.explanation)
        XCTAssertEqual(busy.advice, calm.advice, "the advice itself is the same; only when to give it changes")
    }
}
