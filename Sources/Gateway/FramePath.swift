import Atomics
import CANBus
import VehicleState

/// The one frame path: each frame from a source goes through the engine (decode → mapping →
/// store), the bus counters and the driving-context tracker, and its changes are marked on
/// the change feed. It alone writes the gateway's state. Per frame it neither allocates nor
/// takes a lock.
public struct FramePath: FrameSink {
    public let state: GatewayState
    public private(set) var engine: VehicleStateEngine
    public private(set) var tracker: DrivingContextTracker
    let buses: BusStatusTable
    let feed: ChangeFeed
    let clock: FrameClock
    let store: VehicleStateStore
    let control: FramePathControl
    let speedPath: Int
    let integrity: IntegrityStatusTable

    public init(state: GatewayState, control: FramePathControl = FramePathControl()) {
        self.state = state
        engine = VehicleStateEngine(mapping: state.mapping, store: state.store)
        tracker = DrivingContextTracker(mapping: state.mapping, output: state.tracked)
        buses = state.buses
        feed = state.feed
        clock = state.clock
        store = state.store
        self.control = control
        speedPath = state.contextPaths.speed ?? -1
        integrity = state.integrity
    }

    public mutating func begin(_ timeline: FrameTimeline) { clock.start(timeline) }

    @inline(__always)
    public mutating func deliver(_ f: BusFrame) {
        let bus = f.bus
        buses.add(bus, .frames)
        buses.set(bus, .lastFrameWall, UInt64(bitPattern: f.arrival))
        clock.noteFrame(f.timestamp)
        if case .error = f.frame { buses.add(bus, .errorFrames); return }
        let result = engine.ingest(bus: bus, timestamp: f.timestamp, arrival: f.arrival, f.frame)
        if result.isShort { buses.add(bus, .shortFrames) }
        if result.hadImplausible {
            for p in engine.implausible.indices where engine.implausible[p] > 0 { integrity.setImplausible(p, engine.implausible[p]) }
        }
        if result.check >= 0 {
            let c = Int(result.check)
            integrity.record(c, fault: result.fault, state: engine.checks[c].validity.state)
        }
        switch result.outcome {
        case .unknownMessage: buses.add(bus, .unknownFrames)
        case .notMapped, .unchanged: break
        case .rejected:
            guard result.changedCount > 0 else { break }
            for i in 0..<result.changedCount { feed.markChanged(Int(engine.changedPaths[i])) }
            tracker.update(store: store, speedChanged: true, now: f.timestamp)
            feed.markContextChanged()
            feed.signal()
        case .changed:
            var contextInput = false, speedChanged = false, shown = false
            for i in 0..<result.changedCount {
                let p = Int(engine.changedPaths[i])
                feed.markChanged(p)
                if tracker.isInput(p) { contextInput = true; if p == speedPath { speedChanged = true } }
                else if tracker.isShownInput(p) { shown = true }
            }
            if contextInput { tracker.update(store: store, speedChanged: speedChanged, now: f.timestamp) }
            if contextInput || shown { feed.markContextChanged() }
            feed.signal()
        }
    }

    public mutating func busEvent(_ event: BusEvent, bus: Int) {
        switch event {
        case .up(let source): buses.describeSource(bus, source); buses.set(bus, .up)
        case .down(let reason): buses.set(bus, .down, reason: reason)
        case .ended(let reason): buses.set(bus, .ended, reason: reason)
        case .busOff(let reason): buses.set(bus, .busOff, reason: reason)
        case .errorPassive(let reason): buses.set(bus, .errorPassive, reason: reason)
        case .errorFrame: buses.add(bus, .errorFrames)
        case .kernelDrops(let n): buses.add(bus, .kernelDrops, n)
        }
    }

    public mutating func malformedLine(_ diagnostic: Diagnostic) { control.report(diagnostic) }

    public mutating func pause() { control.beat() }

    public var shouldStop: Bool { control.isStopping }
}

/// What the world outside the frame-path thread uses to steer and watch it: the stop flag, the
/// heartbeat a watchdog checks, and where malformed log lines are reported.
public final class FramePathControl: @unchecked Sendable {
    /// Unmanaged: the frame path reads it between frames.
    let stop = UnsafeAtomic<Bool>.create(false)
    let finishedFlag = ManagedAtomic<Bool>(false)
    /// Monotonic ns of the frame path's last sign of life.
    let heartbeat = ManagedAtomic<Int64>(SystemClock.monotonicNanoseconds())
    let malformed = ManagedAtomic<UInt64>(0)
    let onMalformedLine: @Sendable (Diagnostic) -> Void

    public init(onMalformedLine: @escaping @Sendable (Diagnostic) -> Void = { _ in }) {
        self.onMalformedLine = onMalformedLine
    }

    deinit { stop.destroy() }

    public func requestStop() { stop.store(true, ordering: .relaxed) }
    public var isStopping: Bool { stop.load(ordering: .relaxed) }
    public var isFinished: Bool { finishedFlag.load(ordering: .acquiring) }
    func markFinished() { finishedFlag.store(true, ordering: .releasing) }
    func beat() { heartbeat.store(SystemClock.monotonicNanoseconds(), ordering: .relaxed) }
    func report(_ d: Diagnostic) {
        malformed.wrappingIncrement(ordering: .relaxed)
        onMalformedLine(d)
    }

    /// Replayed log lines that could not be read.
    public var malformedLines: UInt64 { malformed.load(ordering: .relaxed) }

    /// What the finished frame path did: frames, wall seconds, and CPU seconds of its thread.
    public struct RunFigures: Sendable {
        public var frames: UInt64
        public var seconds: Double
        public var cpuSeconds: Double
        public var description: String {
            "\(frames) frames in \((seconds * 1000).rounded() / 1000) s (\(Int(Double(frames) / max(seconds, 1e-9))) frames/s; "
                + "the frame-path thread used \((cpuSeconds * 1000).rounded() / 1000) s of CPU: \(Int(Double(frames) / max(cpuSeconds, 1e-9))) frames/s on one core)"
        }
    }
    let figures = Locked<RunFigures?>(nil)
    func recordRun(frames: UInt64, seconds: Double, cpuSeconds: Double) {
        figures.withLock { $0 = RunFigures(frames: frames, seconds: seconds, cpuSeconds: cpuSeconds) }
    }
    /// Set once the frame path finished.
    public var runFigures: RunFigures? { figures.withLock { $0 } }

    /// Nanoseconds since the frame path last showed it is alive.
    public var silenceNanoseconds: Int64 { SystemClock.monotonicNanoseconds() - heartbeat.load(ordering: .relaxed) }
}
