import CANBus
import Foundation
import VehicleState

/// A running gateway's frame path: a source feeding the one `FramePath` on a thread of its own
/// (so blocking reads and replay sleeps never occupy a Swift concurrency thread), the state it
/// writes, and the change feed consumers subscribe to.
public final class Gateway: @unchecked Sendable {
    public let state: GatewayState
    public let source: any FrameSource
    public let control: FramePathControl

    public init(mapping: CompiledMapping, source: any FrameSource, onMalformedLine: @escaping @Sendable (Diagnostic) -> Void = { _ in }) {
        state = GatewayState(mapping: mapping)
        self.source = source
        control = FramePathControl(onMalformedLine: onMalformedLine)
    }

    /// Starts the change feed and the frame-path thread; `onEnd` is called from that thread
    /// when the source ends on its own (nil) or fails (the error). A source that fails leaves
    /// its buses down, and the state readable.
    public func start(onEnd: @escaping @Sendable (Error?) -> Void = { _ in }) {
        state.feed.start()
        let t = Thread { [self] in
            var failure: Error?
            let start = SystemClock.monotonicNanoseconds(), cpu = SystemClock.threadCPUNanoseconds()
            do { try run(source) } catch {
                failure = error
                for b in 0..<state.buses.count { state.buses.set(b, .down, reason: "source failed: \(error)") }
            }
            control.recordRun(frames: (0..<state.buses.count).reduce(0) { $0 + state.buses.frames($1) },
                              seconds: Double(SystemClock.monotonicNanoseconds() - start) / 1e9,
                              cpuSeconds: Double(SystemClock.threadCPUNanoseconds() - cpu) / 1e9)
            control.markFinished()
            onEnd(failure)
        }
        t.name = "frame-path"
        t.stackSize = 8 << 20
        t.start()
    }

    func run(_ source: any FrameSource) throws {
        var path = FramePath(state: state, control: control)
        // The concrete sources by name, so each loop is compiled for the frame path itself
        // (every frame a direct, inlinable call).
        if let replay = source as? ReplaySource { try replay.run(into: &path) }
        else if let live = source as? LiveSource { try live.run(into: &path) }
        else { try source.run(into: &path) }
    }

    /// Asks the frame path to stop; it notices within 100 ms.
    public func stop() { control.requestStop() }

    /// Stops the frame path and the change feed (every subscription ends), waiting up to
    /// `timeout` for the frame path to finish.
    public func shutdown(timeout: Duration = .milliseconds(500)) async {
        stop()
        let deadline = ContinuousClock.now + timeout
        while !control.isFinished, ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(5)) }
        state.feed.stop()
    }

    /// Alive for a watchdog: finished on its own, waiting for a piped log's next line, or
    /// showing a sign of life within the last 2 s.
    public var isResponsive: Bool {
        control.isFinished || (source as? ReplaySource)?.readsStandardInput == true || control.silenceNanoseconds < 2_000_000_000
    }
}
