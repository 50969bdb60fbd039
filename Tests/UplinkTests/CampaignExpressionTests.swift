import XCTest
@testable import Uplink
import VehicleState

final class CampaignExpressionTests: XCTestCase {
    let index = ["Vehicle.Speed": 0, "Vehicle.Gear": 1]

    func holds(_ text: String, speed: Double?, gear: Double? = 3, window: [Double] = [], edges: inout CompiledCondition?) -> Bool {
        if edges == nil { edges = CompiledCondition(try! CampaignExpression.parse(text), index: index) }
        let values = [speed, gear]
        return edges!.holds(CompiledCondition.Reader(value: { values[$0] }, samples: { _, _ in window }))
    }

    func holds(_ text: String, speed: Double?, gear: Double? = 3, window: [Double] = []) -> Bool {
        var c: CompiledCondition?
        return holds(text, speed: speed, gear: gear, window: window, edges: &c)
    }

    func testPrecedenceArithmeticAndLogic() {
        XCTAssertTrue(holds("Vehicle.Speed > 10 and Vehicle.Gear == 3", speed: 20))
        XCTAssertTrue(holds("Vehicle.Speed > 100 or not Vehicle.Gear == 4", speed: 20))
        XCTAssertTrue(holds("Vehicle.Speed * 2 + 1 == 41", speed: 20))
        XCTAssertTrue(holds("-(Vehicle.Speed - 30) / 2 == 5", speed: 20))
        XCTAssertTrue(holds("abs(Vehicle.Speed - 30) >= 10 and true", speed: 20))
        XCTAssertFalse(holds("Vehicle.Speed / 0 > 1", speed: 20), "no value from a division by zero")
    }

    func testAValueThatIsNotFreshMakesNothingTrue() {
        XCTAssertFalse(holds("Vehicle.Speed < 5", speed: nil))
        XCTAssertFalse(holds("not Vehicle.Speed > 5", speed: nil))
        XCTAssertTrue(holds("Vehicle.Speed < 5 or Vehicle.Gear == 3", speed: nil), "the other side decides")
        XCTAssertFalse(holds("Vehicle.Speed < 5 and Vehicle.Gear == 3", speed: nil))
    }

    func testWindowsAndRisingEdges() {
        XCTAssertTrue(holds("max(Vehicle.Speed, 1) - Vehicle.Speed > 8", speed: 40, window: [50, 45, 40]))
        XCTAssertTrue(holds("avg(Vehicle.Speed, 2) == 45", speed: 40, window: [50, 45, 40]))
        XCTAssertFalse(holds("min(Vehicle.Speed, 2) < 1", speed: 40, window: []), "no samples: no value")
        var c: CompiledCondition?
        let rule = "rising_edge(Vehicle.Speed > 50)"
        XCTAssertFalse(holds(rule, speed: 40, edges: &c))
        XCTAssertTrue(holds(rule, speed: 60, edges: &c), "becomes true")
        XCTAssertFalse(holds(rule, speed: 70, edges: &c), "stays true: no edge")
        XCTAssertFalse(holds(rule, speed: 40, edges: &c))
        XCTAssertTrue(holds(rule, speed: 55, edges: &c))
    }

    func testErrorsSayWhereAndWhat() {
        func error(_ text: String) -> CampaignExpression.Invalid? {
            do { _ = try CampaignExpression.parse(text); return nil } catch { return error }
        }
        XCTAssertEqual(error("Vehicle.Speed >")?.offset, 15)
        XCTAssertEqual(error("Vehicle.Speed = 3")?.message, "expected '==' to compare (a single '=' is not an operator)")
        XCTAssertEqual(error("avg(Vehicle.Speed) > 1")?.offset, 17)
        XCTAssertEqual(error("avg(Vehicle.Speed, 0) > 1")?.message, "expected the window in seconds (above 0, at most 3600), found '0) > 1'")
        XCTAssertTrue(error("speed(3)")?.message.contains("unknown function 'speed'") == true)
        XCTAssertTrue(error("(Vehicle.Speed > 1")?.message.contains("expected ')'") == true)
        XCTAssertTrue(error("Vehicle.Speed > 1 Vehicle.Gear")?.message.contains("expected an operator or the end") == true)
        XCTAssertEqual(try CampaignExpression.parse("rising_edge(a.b > 1) and rising_edge(c.d)").edgeCount, 2)
        XCTAssertEqual(try CampaignExpression.parse("max(Vehicle.Speed, 1) > avg(Vehicle.Speed, 5)").windows, ["Vehicle.Speed": 5])
    }

    /// Every walk over a condition recurses: nesting and length are bounded, refused with a
    /// message, not a stack overflow.
    func testNestingAndLengthAreBounded() {
        func error(_ text: String) -> String? {
            do { _ = try CampaignExpression.parse(text); return nil } catch { return error.message }
        }
        let deep = CampaignExpression.maximumNesting
        XCTAssertNil(error(String(repeating: "(", count: deep) + "Vehicle.Speed" + String(repeating: ")", count: deep)))
        XCTAssertEqual(error(String(repeating: "(", count: 100_000)), "the condition nests too deeply: at most \(deep) levels")
        XCTAssertEqual(error(String(repeating: "not ", count: 100_000) + "true"), "the condition nests too deeply: at most \(deep) levels")
        XCTAssertEqual(error(String(repeating: "- ", count: 100_000) + "1"), "the condition nests too deeply: at most \(deep) levels")
        XCTAssertEqual(error(String(repeating: "abs(", count: 100_000)), "the condition nests too deeply: at most \(deep) levels")
        XCTAssertNil(error(Array(repeating: "1", count: 100).joined(separator: " + ")))
        XCTAssertEqual(error(Array(repeating: "Vehicle.Speed", count: 100_000).joined(separator: " + ")),
                       "the condition is too long: at most \(CampaignExpression.maximumTerms) terms and operators")
    }

    func testHistoryKeepsTheLastValuesAndReadersSeeWholeEntries() {
        let store = VehicleStateStore(pathCount: 2)
        store.history.keep(0, capacity: 16)
        for i in 0..<40 { store.publish(0, value: Double(i), timestampNanoseconds: Int64(i) * 1_000_000, source: 0) }
        store.publish(1, value: 1, timestampNanoseconds: 1, source: 0)
        let kept = store.history.samples(0, from: 0, to: .max)
        XCTAssertEqual(kept.map(\.value), (24..<40).map(Double.init), "the newest 16, oldest first")
        XCTAssertEqual(store.history.samples(0, from: 30_000_000, to: 32_000_000).map(\.value), [30, 31, 32])
        XCTAssertTrue(store.history.samples(1, from: 0, to: .max).isEmpty, "a path without a ring keeps nothing")
        // A reader racing the writer never sees a torn entry (time and value always match).
        let done = ManagedFlag()
        let writer = Thread {
            for i in 40..<200_000 { store.publish(0, value: Double(i), timestampNanoseconds: Int64(i) * 1_000_000, source: 0) }
            done.set()
        }
        writer.start()
        while !done.isSet {
            for s in store.history.samples(0, from: 0, to: .max) { XCTAssertEqual(Double(s.time / 1_000_000), s.value) }
        }
    }
}

final class ManagedFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    func set() { lock.lock(); value = true; lock.unlock() }
    var isSet: Bool { lock.lock(); defer { lock.unlock() }; return value }
}
