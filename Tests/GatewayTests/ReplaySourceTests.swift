import CANBus
import XCTest
@testable import Gateway
import VehicleState

final class ReplaySourceTests: XCTestCase {
    func run(_ options: ReplaySource.Options, _ mapping: CompiledMapping, assignments: [String: String] = [:]) throws -> (RecordingSink, GatewayState) {
        let state = GatewayState(mapping: mapping)
        var sink = RecordingSink(state)
        try ReplaySource(options, buses: try BusResolver(mapping: mapping, assignments: assignments)).run(into: &sink)
        return (sink, state)
    }

    func testTwoLogsOnTwoBusesAreMergedByTimeEachFrameOnItsBus() throws {
        let front = Fixtures.write((0..<50).map { Fixtures.speedLine(Double($0), at: 1 + Double($0) * 0.02, on: "vcan0") })
        let rear = Fixtures.write((0..<40).map { Fixtures.speedLine(100 + Double($0), at: 1.005 + Double($0) * 0.025, on: "vcan1") })
        var options = ReplaySource.Options(logs: [front, rear])
        options.fast = true
        let (sink, state) = try run(options, try Fixtures.twoBusMapping())
        XCTAssertEqual(sink.frames.count, 90)
        XCTAssertEqual(sink.frames.map(\.timestamp), sink.frames.map(\.timestamp).sorted(), "merged in time order")
        XCTAssertEqual(sink.frames.filter { $0.bus == 0 }.count, 50)
        XCTAssertEqual(sink.frames.filter { $0.bus == 1 }.count, 40)
        XCTAssertEqual(state.buses.frames(0), 50)
        XCTAssertEqual(state.buses.frames(1), 40)
        XCTAssertEqual(state.store.read(0)?.value, 49, "front speed from vcan0 only")
        XCTAssertEqual(state.store.read(1)?.value, 139, "rear speed from vcan1 only")
        XCTAssertEqual(state.buses.state(0), .ended)
        XCTAssertEqual(state.buses.status(1).source, "replay \(front), \(rear) (fast)")
    }

    func testAnInterfaceThatMapsToNoBusStopsTheReplayWithItsPlace() throws {
        let log = Fixtures.write([Fixtures.speedLine(10, at: 1), Fixtures.speedLine(10, at: 1.02, on: "can7")])
        var options = ReplaySource.Options(logs: [log])
        options.fast = true
        XCTAssertThrowsError(try run(options, try Fixtures.twoBusMapping())) { error in
            XCTAssertEqual("\(error)", "\(log):2:1: error: interface 'can7' maps to no bus (buses: front (vcan0), rear (vcan1)); assign it with --bus can7=BUS or the mapping's 'interface:'")
        }
        // Assigned explicitly, it is read.
        let (sink, _) = try run(options, try Fixtures.twoBusMapping(), assignments: ["can7": "rear"])
        XCTAssertEqual(sink.frames.map(\.bus), [0, 1])
        XCTAssertThrowsError(try BusResolver(mapping: try Fixtures.twoBusMapping(), assignments: ["can7": "middle"]))
    }

    func testPassesContinueTheTimelineAndOffsetsCutTheLog() throws {
        let log = Fixtures.write((0..<10).map { Fixtures.speedLine(Double($0), at: 1 + Double($0) * 0.1) })
        var options = ReplaySource.Options(logs: [log])
        options.fast = true
        options.passes = 3
        let (sink, _) = try run(options, try Fixtures.twoBusMapping())
        XCTAssertEqual(sink.frames.count, 30)
        let t = sink.frames.map(\.timestamp)
        XCTAssertEqual(t, t.sorted(), "each pass continues after the previous one")
        XCTAssertEqual(t[10] - t[9], 10_000_000, "10 ms after the previous pass's last frame")
        options.passes = 1
        options.startOffset = 0.25
        options.stopOffset = 0.65
        let (cut, _) = try run(options, try Fixtures.twoBusMapping())
        XCTAssertEqual(cut.frames.map(\.timestamp), [1_300_000_000, 1_400_000_000, 1_500_000_000, 1_600_000_000])
    }

    func testPacedReplayMovesFrameTimesToNowKeepingTheirSpacing() throws {
        let log = Fixtures.write((0..<5).map { Fixtures.speedLine(Double($0), at: 1 + Double($0) * 0.01) })
        var options = ReplaySource.Options(logs: [log])
        options.speed = 10
        let before = SystemClock.wallNanoseconds()
        let (sink, state) = try run(options, try Fixtures.twoBusMapping())
        let t = sink.frames.map(\.timestamp)
        XCTAssertGreaterThanOrEqual(t[0], before)
        XCTAssertEqual(zip(t.dropFirst(), t).map { $0 - $1 }, [10_000_000, 10_000_000, 10_000_000, 10_000_000], "the log's spacing, in frame time")
        XCTAssertEqual(state.clock.now() - SystemClock.wallNanoseconds(), 0, accuracy: 2_000_000_000, "frame time runs beside the wall clock")
    }

    func testMalformedLinesAreReportedWithTheirPlaceAndSkipped() throws {
        let log = Fixtures.write([Fixtures.speedLine(1, at: 1), "(1.01) vcan0 0D0#XYZ", Fixtures.speedLine(2, at: 1.02)])
        var options = ReplaySource.Options(logs: [log])
        options.fast = true
        let (sink, state) = try run(options, try Fixtures.twoBusMapping())
        XCTAssertEqual(sink.frames.count, 2)
        XCTAssertEqual(sink.malformed.map { "\($0.file):\($0.line)" }, ["\(log):2"])
        XCTAssertEqual(state.store.read(0)?.value, 2)
    }

    func testAFrameChangesOnlyWhatItCarriesAndCountsWhatCannotBeDecoded() throws {
        let log = Fixtures.write([Fixtures.speedLine(5, at: 1), "(1.010000) vcan0 7FF#00", "(1.020000) vcan0 0D0#01"])
        var options = ReplaySource.Options(logs: [log])
        options.fast = true
        let (_, state) = try run(options, try Fixtures.twoBusMapping())
        let bus = state.buses.status(0)
        XCTAssertEqual(bus.frames, 3)
        XCTAssertEqual(bus.unknownFrames, 1)
        XCTAssertEqual(bus.shortFrames, 1)
        XCTAssertEqual(state.store.read(0)?.value, 5, "a frame too short for VehicleSpeed leaves it alone")
        XCTAssertNil(state.store.read(1))
    }
}
