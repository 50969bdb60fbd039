import XCTest
@testable import AssistantAPI

final class VISSRequestTests: XCTestCase {
    func parse(_ s: String) -> Result<VISSRequest, VISSRequest.Failure> { VISSRequest.parse(s) }

    func testGetWithPathsFilterAcceptsTypeAndVariant() throws {
        for key in ["type", "variant"] {
            let r = try parse(#"{"action":"get","path":"Vehicle","filter":{"\#(key)":"paths","parameter":["Speed","Cabin.*.IsOpen"]},"requestId":"1"}"#).get()
            XCTAssertEqual(r, .get(path: "Vehicle", filters: [.paths(["Speed", "Cabin.*.IsOpen"])], requestId: "1"))
        }
    }

    func testSlashPathsAreDotted() throws {
        XCTAssertEqual(try parse(#"{"action":"get","path":"Vehicle/Speed"}"#).get(), .get(path: "Vehicle.Speed", filters: [], requestId: nil))
    }

    func testTimebasedPeriodAsStringOrNumber() throws {
        for p in [#""100""#, "100", "100.0"] {
            let r = try parse(#"{"action":"subscribe","path":"Vehicle.Speed","filter":{"type":"timebased","parameter":{"period":\#(p)}}}"#).get()
            XCTAssertEqual(r, .subscribe(path: "Vehicle.Speed", filters: [.timebased(periodMilliseconds: 100)], requestId: nil))
        }
    }

    func testRangeWithTwoBoundariesAndOr() throws {
        let r = try parse(#"{"action":"subscribe","path":"Vehicle.Speed","filter":{"type":"range","parameter":[{"boundary-op":"lt","boundary":"10","combination-op":"OR"},{"boundary-op":"gt","boundary":"100"}]}}"#).get()
        XCTAssertEqual(r, .subscribe(path: "Vehicle.Speed", filters: [.range([.init(op: .lt, value: 10), .init(op: .gt, value: 100)], any: true)], requestId: nil))
    }

    func testCombinedFiltersAsAnArray() throws {
        let r = try parse(#"{"action":"subscribe","path":"Vehicle","filter":[{"type":"paths","parameter":"Speed"},{"type":"change","parameter":{"logic-op":"gt","diff":"5"}}]}"#).get()
        XCTAssertEqual(r, .subscribe(path: "Vehicle", filters: [.paths(["Speed"]), .change(op: .gt, diff: 5)], requestId: nil))
    }

    func testErrorsKeepActionAndRequestId() {
        guard case .failure(let f) = parse(#"{"action":"subscribe","path":"Vehicle.Speed","requestId":"7","filter":{"type":"timebased","parameter":{"period":"5"}}}"#) else { return XCTFail() }
        XCTAssertEqual(f.action, "subscribe")
        XCTAssertEqual(f.requestId, "7")
        XCTAssertEqual(f.error.number, 400)
        XCTAssertEqual(f.error.reason, "invalid_data")
    }

    func testBadInputs() {
        let cases: [(String, Int, String)] = [
            ("not json", 400, "bad_request"),
            ("[1,2]", 400, "bad_request"),
            (#"{"path":"Vehicle.Speed"}"#, 400, "bad_request"),
            (#"{"action":"get"}"#, 400, "bad_request"),
            (#"{"action":"get","path":true}"#, 400, "bad_request"),
            (#"{"action":"get","path":"Vehicle.Speed","requestId":true}"#, 400, "bad_request"),
            (#"{"action":"get","path":"Vehicle.Speed","filter":{"type":"timebased","parameter":{"period":"100"}}}"#, 400, "bad_request"),
            (#"{"action":"subscribe","path":"V","filter":{"type":"change","parameter":{"logic-op":"gt","diff":true}}}"#, 400, "invalid_data"),
            (#"{"action":"subscribe","path":"V","filter":{"type":"curvelog","parameter":{}}}"#, 400, "invalid_data"),
            (#"{"action":"set","path":"Vehicle.Speed","value":"1"}"#, 403, "forbidden_request"),
            (#"{"action":"unsubscribe"}"#, 400, "bad_request"),
        ]
        for (text, number, reason) in cases {
            guard case .failure(let f) = parse(text) else { XCTFail(text); continue }
            XCTAssertEqual(f.error.number, number, text)
            XCTAssertEqual(f.error.reason, reason, text)
            XCTAssertFalse(f.error.message.isEmpty)
        }
    }

    func testChangeFilterComparesWithTheLastValueSent() {
        let f: [VISSFilter] = [.change(op: .gt, diff: 2)]
        XCTAssertTrue(VISSFilter.passes(f, value: 10, lastSent: nil))
        XCTAssertFalse(VISSFilter.passes(f, value: 11.5, lastSent: 10))
        XCTAssertTrue(VISSFilter.passes(f, value: 12.5, lastSent: 10))
        XCTAssertFalse(VISSFilter.passes(f, value: 5, lastSent: 10))
    }

    func testRangeAllOrAny() {
        let inside: [VISSFilter] = [.range([.init(op: .gt, value: 10), .init(op: .lte, value: 40)], any: false)]
        XCTAssertTrue(VISSFilter.passes(inside, value: 40, lastSent: nil))
        XCTAssertFalse(VISSFilter.passes(inside, value: 10, lastSent: nil))
        let outside: [VISSFilter] = [.range([.init(op: .lt, value: 10), .init(op: .gt, value: 40)], any: true)]
        XCTAssertTrue(VISSFilter.passes(outside, value: 5, lastSent: nil))
        XCTAssertFalse(VISSFilter.passes(outside, value: 20, lastSent: nil))
    }

    func testWildcardsMatchOneSegment() {
        XCTAssertTrue(VISSFilter.matches("Vehicle.Cabin.Door.Row1.Left.IsOpen", pattern: "Vehicle.Cabin.Door.*.*.IsOpen"))
        XCTAssertFalse(VISSFilter.matches("Vehicle.Cabin.Door.Row1.IsOpen", pattern: "Vehicle.Cabin.Door.*.*.IsOpen"))
    }
}
