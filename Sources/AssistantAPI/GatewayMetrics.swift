import CANBus
import Foundation
import Prometheus
import Synchronization
import VehicleState

/// Prometheus metrics of the gateway, read from the live counters when scraped (the frame
/// path only bumps plain atomics), plus the API's own: subscribers and publish latency.
public final class GatewayMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    let view: VehicleView
    let hub: ChangeHub
    struct BusMetrics {
        let frames, unknown, short, errorFrames, drops: Counter
        let rate, up: Gauge
    }
    struct State {
        var reported: [[UInt64]]  // per bus: frames, unknown, short, error frames, drops
        var rateSample: [(time: Double, frames: UInt64)]
        var rates: [Double]
        var malformedReported: UInt64 = 0
    }
    let buses: [BusMetrics]
    let state: Mutex<State>
    let malformed: Counter
    let stalePaths, paths, contextAge: Gauge
    let vissSubscribers, sseSubscribers, mcpSessions, hubSubscribers: Gauge
    /// Frame received by the gateway → notification handed to a subscriber's socket.
    let publishLatency: DurationHistogram
    let vissCount = Atomic<Int>(0), sseCount = Atomic<Int>(0), mcpCount = Atomic<Int>(0)

    public init(view: VehicleView, hub: ChangeHub, registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        self.view = view
        self.hub = hub
        buses = view.live.buses.map { b in
            let l = [("bus", b.name)]
            return BusMetrics(
                frames: registry.makeCounter(name: "vehicle_gateway_frames_total", labels: l, help: "CAN frames received"),
                unknown: registry.makeCounter(name: "vehicle_gateway_decode_errors_total", labels: l + [("kind", "unknown_id")],
                                              help: "Frames that could not be decoded, by reason"),
                short: registry.makeCounter(name: "vehicle_gateway_decode_errors_total", labels: l + [("kind", "short_frame")],
                                            help: "Frames that could not be decoded, by reason"),
                errorFrames: registry.makeCounter(name: "vehicle_gateway_error_frames_total", labels: l, help: "CAN error frames"),
                drops: registry.makeCounter(name: "vehicle_gateway_kernel_drops_total", labels: l,
                                            help: "Frames the kernel dropped for want of socket buffer"),
                rate: registry.makeGauge(name: "vehicle_gateway_frames_per_second", labels: l, help: "Frame rate over the last seconds"),
                up: registry.makeGauge(name: "vehicle_gateway_bus_up", labels: l, help: "1 while the bus or replay delivers, else 0"))
        }
        malformed = registry.makeCounter(name: "vehicle_gateway_malformed_log_lines_total", help: "Replayed log lines that could not be parsed")
        stalePaths = registry.makeGauge(name: "vehicle_gateway_stale_paths", help: "VSS paths whose value is older than its timeout")
        paths = registry.makeGauge(name: "vehicle_gateway_paths", help: "Mapped VSS paths")
        contextAge = registry.makeGauge(name: "vehicle_gateway_speed_age_seconds", help: "Age of the speed in the driving context")
        vissSubscribers = registry.makeGauge(name: "vehicle_gateway_subscribers", labels: [("api", "viss")], help: "Open subscriptions and streams")
        sseSubscribers = registry.makeGauge(name: "vehicle_gateway_subscribers", labels: [("api", "sse")], help: "Open subscriptions and streams")
        mcpSessions = registry.makeGauge(name: "vehicle_gateway_subscribers", labels: [("api", "mcp")], help: "Open subscriptions and streams")
        hubSubscribers = registry.makeGauge(name: "vehicle_gateway_change_feed_listeners", help: "Listeners on the change feed")
        publishLatency = registry.makeDurationHistogram(
            name: "vehicle_gateway_publish_latency_seconds",
            buckets: [.microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2),
                      .milliseconds(5), .milliseconds(10), .milliseconds(50), .milliseconds(250), .seconds(1)],
            help: "From a frame decoded by the gateway to its change handed to a subscriber")
        let n = view.live.buses.count
        state = Mutex(State(reported: Array(repeating: [0, 0, 0, 0, 0], count: n), rateSample: Array(repeating: (0, 0), count: n),
                            rates: Array(repeating: 0, count: n)))
    }

    /// Records the delay since `receivedNanoseconds` (wall clock) for a value just sent.
    func recordPublished(receivedNanoseconds: Int64) {
        guard receivedNanoseconds > 0 else { return }
        let d = FrameClock.wallNanoseconds() - receivedNanoseconds
        if d >= 0 { publishLatency.record(.nanoseconds(d)) }
    }

    enum API { case viss, sse, mcp }
    func adjust(_ api: API, by delta: Int) {
        switch api {
        case .viss: vissCount.add(delta, ordering: .relaxed)
        case .sse: sseCount.add(delta, ordering: .relaxed)
        case .mcp: mcpCount.add(delta, ordering: .relaxed)
        }
    }

    /// Frames per second of each bus, over at least the last second.
    public func frameRates() -> [Double] {
        let now = Date().timeIntervalSince1970
        return state.withLock { s in
            for (i, b) in view.live.buses.enumerated() {
                let frames = b.frames.load(ordering: .relaxed)
                let last = s.rateSample[i]
                if last.time == 0 { s.rateSample[i] = (now, frames); continue }
                if now - last.time >= 1 {
                    s.rates[i] = Double(frames &- last.frames) / (now - last.time)
                    s.rateSample[i] = (now, frames)
                }
            }
            return s.rates
        }
    }

    /// The Prometheus text exposition, brought up to date.
    public func render() -> [UInt8] {
        let rates = frameRates()
        state.withLock { s in
            for (i, b) in view.live.buses.enumerated() {
                let m = buses[i]
                let now = [b.frames, b.unknownFrames, b.shortFrames, b.errorFrames, b.kernelDrops].map { $0.load(ordering: .relaxed) }
                let counters = [m.frames, m.unknown, m.short, m.errorFrames, m.drops]
                for k in 0..<5 where now[k] > s.reported[i][k] {
                    counters[k].increment(by: Int64(now[k] - s.reported[i][k]))
                }
                s.reported[i] = now
                m.rate.set(to: rates[i])
                m.up.set(to: b.state == .up ? 1.0 : 0.0)
            }
            let bad = view.live.malformedLines.load(ordering: .relaxed)
            if bad > s.malformedReported { malformed.increment(by: Int64(bad - s.malformedReported)); s.malformedReported = bad }
        }
        stalePaths.set(to: Double(view.stalePathCount()))
        paths.set(to: Double(view.paths.count))
        contextAge.set(to: view.context().speed.ageSeconds ?? -1)
        vissSubscribers.set(to: Double(vissCount.load(ordering: .relaxed)))
        sseSubscribers.set(to: Double(sseCount.load(ordering: .relaxed)))
        mcpSessions.set(to: Double(mcpCount.load(ordering: .relaxed)))
        hubSubscribers.set(to: Double(hub.subscriberCount))
        return registry.emitToBuffer()
    }

    /// `/healthz`: the buses and sources with their state, and whether the context is live.
    public func healthJSON() -> (healthy: Bool, body: String) {
        let rates = frameRates()
        let now = FrameClock.wallNanoseconds()
        var out = TextBuffer(capacity: 512)
        var anyUp = false
        out.append("{\"buses\": [")
        for (i, b) in view.live.buses.enumerated() {
            if i > 0 { out.append(", ") }
            let state = b.state
            if state == .up { anyUp = true }
            out.append("{\"name\": "); out.appendJSONString(b.name)
            out.append(", \"interface\": ")
            if let f = b.interface { out.appendJSONString(f) } else { out.append("null") }
            out.append(", \"source\": "); out.appendJSONString(b.source)
            out.append(", \"state\": \""); out.append(Self.name(of: state)); out.append("\"")
            if !b.reason.isEmpty { out.append(", \"reason\": "); out.appendJSONString(b.reason) }
            out.append(", \"frames\": "); out.appendDecimal(b.frames.load(ordering: .relaxed))
            out.append(", \"frames_per_s\": "); out.appendJSONNumber((rates[i] * 10).rounded() / 10)
            out.append(", \"decode_errors\": "); out.appendDecimal(b.unknownFrames.load(ordering: .relaxed) &+ b.shortFrames.load(ordering: .relaxed))
            out.append(", \"kernel_drops\": "); out.appendDecimal(b.kernelDrops.load(ordering: .relaxed))
            out.append(", \"last_frame_age_s\": ")
            let last = b.lastFrameWall.load(ordering: .relaxed)
            if last > 0 { out.appendJSONNumber((Double(now - last) / 1e6).rounded() / 1e3) } else { out.append("null") }
            out.append("}")
        }
        let context = view.context()
        out.append("], \"context\": {\"speed\": \""); out.append(context.speed.state.rawValue)
        out.append("\", \"location\": \""); out.append(context.location.state.rawValue)
        out.append("\", \"gear\": \""); out.append(context.gear.state.rawValue)
        out.append("\"}, \"stale_paths\": "); out.appendDecimal(Int64(view.stalePathCount()))
        out.append(", \"subscribers\": "); out.appendDecimal(Int64(hub.subscriberCount))
        out.append(", \"uptime_s\": "); out.appendJSONNumber((Double(now - view.startedWall) / 1e6).rounded() / 1e3)
        out.append(", \"status\": \""); out.append(anyUp ? "ok" : "degraded"); out.append("\"}\n")
        return (anyUp, out.string)
    }

    static func name(of state: BusCounters.State) -> StaticString {
        switch state {
        case .unknown: return "unknown"
        case .up: return "up"
        case .down: return "down"
        case .busOff: return "bus-off"
        case .errorPassive: return "error-passive"
        case .ended: return "ended"
        }
    }
}
