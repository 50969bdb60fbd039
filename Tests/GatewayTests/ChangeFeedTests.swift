import CANBus
import XCTest
@testable import Gateway
import VehicleState

/// The one change feed: consumers get what changed, coalesced, and never lose the last value.
final class ChangeFeedTests: XCTestCase {
    var state: GatewayState!
    var path: FramePath!

    override func setUpWithError() throws {
        state = GatewayState(mapping: try Fixtures.twoBusMapping())
        path = FramePath(state: state)
        path.begin(.newestFrame)
        state.feed.start()
    }

    override func tearDown() { state.feed.stop() }

    func speed(_ kmh: Double, at t: Double, bus: Int = 0) {
        let raw = UInt16((kmh * 100).rounded())
        let frame = CANFrame.data(CANDataFrame(id: CANID(0xD0, extended: false)!, bytes: [UInt8(raw & 0xFF), UInt8(raw >> 8), 1, 0, 0, 0, 0, 0xF0]))
        let ns = Int64(t * 1e9)
        path.deliver(BusFrame(bus: bus, timestamp: ns, arrival: SystemClock.wallNanoseconds(), frame: frame))
    }

    func next(_ s: FeedSubscription, timeout: Double = 10) async -> ChangeBatch? {
        await withTaskGroup(of: ChangeBatch?.self) { group in
            group.addTask { var it = s.makeAsyncIterator(); return await it.next() }
            group.addTask { try? await Task.sleep(for: .seconds(timeout)); return nil }
            let first = await group.next()!
            group.cancelAll()
            return first
        }
    }

    func testEveryConsumerGetsTheSameChangesAndTheLastValue() async throws {
        let a = state.feed.subscribe(.everything), b = state.feed.subscribe(.everything, minimumInterval: .milliseconds(200))
        defer { a.cancel(); b.cancel() }
        speed(10, at: 1)
        speed(20, at: 1.01, bus: 1)
        for s in [a, b] {
            var seen = PathSet(count: 2)
            while !(seen.contains(0) && seen.contains(1)) {
                guard let batch = await next(s) else { return XCTFail("no batch") }
                seen.formUnion(batch.changed)
            }
        }
        XCTAssertEqual(state.store.read(0)?.value, 10)
        XCTAssertEqual(state.store.read(1)?.value, 20)
    }

    func testABurstInsideTheIntervalIsOneMergedBatchAndItsLastValueIsKept() async throws {
        let s = state.feed.subscribe(.everything, minimumInterval: .seconds(1))
        defer { s.cancel() }
        // One consumer for the whole test, as every API has it (one `for await` per subscription).
        let batches = BatchLog()
        let consumer = Task { for await batch in s { batches.append(batch) } }
        defer { consumer.cancel() }
        speed(1, at: 1)
        // The first change after a quiet period goes out at once; the value's state turning
        // fresh may come in the same batch or, when the feed thread scanned between the store
        // write and the change mark, in a batch just before it (then the value follows within
        // the interval).
        guard await batches.wait(timeout: 10, until: { $0.contains { $0.changed.contains(0) } }) else {
            return XCTFail("the first change after a quiet period goes out: \(batches.all.map { Array($0.changed) })")
        }
        let before = batches.all.count
        // Within the interval: many changes to both paths.
        for i in 0..<100 { speed(Double(i), at: 1.1 + Double(i) * 0.001); speed(Double(i) + 50, at: 1.1 + Double(i) * 0.001, bus: 1) }
        guard await batches.wait(timeout: 10, until: { $0.count > before && $0[before...].contains { $0.changed.contains(1) } }) else {
            return XCTFail("the trailing batch must come")
        }
        let second = batches.all[before]
        XCTAssertEqual(Array(second.changed), [0, 1], "coalesced: each path once")
        XCTAssertEqual(state.store.read(0)?.value, 99, "and its value is the last one")
        XCTAssertEqual(state.store.read(1)?.value, 149)
    }

    func testASubscriptionWakesOnlyForWhatItIsInterestedIn() async throws {
        let rearOnly = state.feed.subscribe(FeedInterest(paths: PathSet(count: 2, [1]), states: false, context: false))
        defer { rearOnly.cancel() }
        speed(30, at: 1)          // front: not of interest
        speed(40, at: 1.01, bus: 1)
        guard let batch = await next(rearOnly) else { return XCTFail("no batch") }
        XCTAssertEqual(Array(batch.changed), [1])
        XCTAssertFalse(batch.contextChanged)
    }

    func testValuesTurningStaleAreNewsWithoutAnyNewValue() async throws {
        let s = state.feed.subscribe(FeedInterest(paths: nil, states: true, context: true))
        defer { s.cancel() }
        speed(50, at: 1)
        // The clock follows the newest frame: a rear frame 2 s later leaves the front speed (250 ms timeout) stale.
        speed(1, at: 3, bus: 1)
        var turned = false, contextTurned = false
        while !(turned && contextTurned) {
            guard let batch = await next(s) else { return XCTFail("speed never turned stale; turned \(turned), context \(contextTurned)") }
            if batch.turned.contains(0) { turned = true }
            if batch.contextChanged, state.context().speed.state == .stale { contextTurned = true }
        }
        XCTAssertEqual(state.read(0)?.state, .stale)
    }

    func testStoppingTheFeedEndsEverySubscription() async {
        let s = state.feed.subscribe(.everything)
        state.feed.stop()
        var it = s.makeAsyncIterator()
        let end = await it.next()
        XCTAssertNil(end)
        XCTAssertEqual(state.feed.subscriberCount, 0)
    }
}

/// The batches one consumer took, for a test to wait on.
final class BatchLog: @unchecked Sendable {
    private let lock = NSLock()
    private var batches: [ChangeBatch] = []
    func append(_ b: ChangeBatch) { lock.lock(); batches.append(b); lock.unlock() }
    var all: [ChangeBatch] { lock.lock(); defer { lock.unlock() }; return batches }
    /// Polls until `condition` holds (true) or `timeout` seconds pass (false).
    func wait(timeout: Double, until condition: ([ChangeBatch]) -> Bool) async -> Bool {
        let end = ContinuousClock.now + .seconds(timeout)
        while ContinuousClock.now < end {
            if condition(all) { return true }
            try? await Task.sleep(for: .milliseconds(5))
        }
        return condition(all)
    }
}
