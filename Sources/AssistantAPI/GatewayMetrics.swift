import CANBus
import Gateway
import Prometheus
import Synchronization
import VehicleState

/// Prometheus metrics of the gateway, read from the frame path's counters when scraped (the
/// frame path only bumps plain atomics), plus the API's own: subscribers and publish latency.
public final class GatewayMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    let view: VehicleView
    let gateway: Gateway
    struct BusMetrics {
        let frames, unknown, short, errorFrames, drops: Counter
        let rate, up: Gauge
    }
    struct Scrape {
        var reported: [[UInt64]]  // per bus: frames, unknown, short, error frames, drops
        var rateSample: [(time: Int64, frames: UInt64)]
        var rates: [Double]
        var malformedReported: UInt64 = 0
        /// Per protected message: frames dropped by reason (checksum, counter, repeated, implausible).
        var droppedReported: [[UInt64]] = []
        var implausibleReported: [String: UInt64] = [:]
    }
    struct IntegrityMetrics {
        let dropped: [Counter]  // by reason
        let valid: Gauge
    }
    let integrity: [IntegrityMetrics]
    /// Per path with plausibility limits: values dropped as implausible.
    let implausible: [String: Counter]
    let buses: [BusMetrics]
    let scrape: Mutex<Scrape>
    let malformed: Counter
    let stalePaths, paths, contextAge: Gauge
    let vissSubscribers, sseSubscribers, mcpSessions, feedSubscribers: Gauge
    /// Frame received by the gateway → change handed to a subscriber's socket.
    let publishLatency: DurationHistogram
    /// Its parts: received → collected by the feed thread → taken by the consumer → handed to the socket.
    let publishPhases: (feed: DurationHistogram, consumer: DurationHistogram, render: DurationHistogram)
    let vissCount = Atomic<Int>(0), sseCount = Atomic<Int>(0), mcpCount = Atomic<Int>(0)

    static func name(_ base: String, _ unit: String = "", _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "vehicle_gateway", metricName: base, unitName: unit, helpText: help)
    }

    public init(view: VehicleView, gateway: Gateway, registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
        self.registry = registry
        self.view = view
        self.gateway = gateway
        let decodeErrors = Self.name("decode_errors", "total", "Frames that could not be decoded, by reason")
        buses = gateway.state.buses.names.map { name in
            let l = [("bus", name)]
            return BusMetrics(
                frames: registry.makeCounter(descriptor: Self.name("frames", "total", "CAN frames received"), labels: l),
                unknown: registry.makeCounter(descriptor: decodeErrors, labels: l + [("kind", "unknown_id")]),
                short: registry.makeCounter(descriptor: decodeErrors, labels: l + [("kind", "short_frame")]),
                errorFrames: registry.makeCounter(descriptor: Self.name("error_frames", "total", "CAN error frames"), labels: l),
                drops: registry.makeCounter(descriptor: Self.name("kernel_drops", "total", "Frames the kernel dropped for want of socket buffer"), labels: l),
                rate: registry.makeGauge(descriptor: Self.name("frames_per_second", "", "Frame rate over the last seconds"), labels: l),
                up: registry.makeGauge(descriptor: Self.name("bus_up", "", "1 while the bus or replay delivers, else 0"), labels: l))
        }
        malformed = registry.makeCounter(descriptor: Self.name("malformed_log_lines", "total", "Replayed log lines that could not be parsed"))
        stalePaths = registry.makeGauge(descriptor: Self.name("stale_paths", "", "VSS paths whose value is older than its timeout"))
        paths = registry.makeGauge(descriptor: Self.name("paths", "", "Mapped VSS paths"))
        contextAge = registry.makeGauge(descriptor: Self.name("speed_age_seconds", "", "Age of the speed in the driving context"))
        let subscribers = Self.name("subscribers", "", "Open subscriptions and streams")
        vissSubscribers = registry.makeGauge(descriptor: subscribers, labels: [("api", "viss")])
        sseSubscribers = registry.makeGauge(descriptor: subscribers, labels: [("api", "sse")])
        mcpSessions = registry.makeGauge(descriptor: subscribers, labels: [("api", "mcp")])
        feedSubscribers = registry.makeGauge(descriptor: Self.name("change_feed_listeners", "", "Subscriptions to the change feed"))
        publishLatency = registry.makeDurationHistogram(
            descriptor: Self.name("publish_latency", "seconds", "From a frame received by the gateway to its change handed to a subscriber"),
            buckets: [.microseconds(50), .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2),
                      .milliseconds(5), .milliseconds(10), .milliseconds(50), .milliseconds(250), .seconds(1)])
        let phase = Self.name("publish_phase", "seconds", "The publish step's parts: frame received to the feed thread (feed), to the consumer (consumer), to its socket (render)")
        let phaseBuckets: [Duration] = [.microseconds(10), .microseconds(25), .microseconds(50), .microseconds(100), .microseconds(250),
                                        .microseconds(500), .milliseconds(1), .milliseconds(5), .milliseconds(50)]
        publishPhases = (registry.makeDurationHistogram(descriptor: phase, labels: [("phase", "feed")], buckets: phaseBuckets),
                         registry.makeDurationHistogram(descriptor: phase, labels: [("phase", "consumer")], buckets: phaseBuckets),
                         registry.makeDurationHistogram(descriptor: phase, labels: [("phase", "render")], buckets: phaseBuckets))
        let dropped = Self.name("integrity_dropped_frames", "total", "Frames dropped by their message's integrity check, by reason")
        let valid = Self.name("message_valid", "", "1 while a protected message passes its checks, 0 while invalid, -1 before its first frame")
        integrity = gateway.state.integrity.messages.map { message in
            IntegrityMetrics(dropped: ["checksum", "counter", "repeated", "implausible"].map {
                registry.makeCounter(descriptor: dropped, labels: [("message", message), ("reason", $0)])
            }, valid: registry.makeGauge(descriptor: valid, labels: [("message", message)]))
        }
        let implausibleName = Self.name("implausible_values", "total", "Values dropped as implausible (rate of change, frozen), by path")
        var perPath: [String: Counter] = [:]
        for (p, limits) in gateway.state.mapping.integrity.pathLimits.enumerated() where limits.isChecked {
            let name = gateway.state.mapping.paths[p].name
            perPath[name] = registry.makeCounter(descriptor: implausibleName, labels: [("path", name)])
        }
        implausible = perPath
        let n = gateway.state.buses.count
        var first = Scrape(reported: Array(repeating: [0, 0, 0, 0, 0], count: n), rateSample: Array(repeating: (0, 0), count: n),
                           rates: Array(repeating: 0, count: n))
        first.droppedReported = Array(repeating: [0, 0, 0, 0], count: integrity.count)
        scrape = Mutex(first)
    }

    /// Records the delay since `receivedNanoseconds` (wall clock) for a value just sent, and,
    /// given the batch it came in, the parts of that delay.
    func recordPublished(receivedNanoseconds: Int64, batch: ChangeBatch? = nil) {
        guard receivedNanoseconds > 0 else { return }
        let now = SystemClock.wallNanoseconds()
        let d = now - receivedNanoseconds
        if d >= 0 { publishLatency.record(.nanoseconds(d)) }
        guard let batch, batch.collectedNanoseconds >= receivedNanoseconds, batch.takenNanoseconds >= batch.collectedNanoseconds else { return }
        publishPhases.feed.record(.nanoseconds(batch.collectedNanoseconds - receivedNanoseconds))
        publishPhases.consumer.record(.nanoseconds(batch.takenNanoseconds - batch.collectedNanoseconds))
        publishPhases.render.record(.nanoseconds(max(0, now - batch.takenNanoseconds)))
    }

    enum API { case viss, sse, mcp }
    func adjust(_ api: API, by delta: Int) {
        switch api {
        case .viss: vissCount.add(delta, ordering: .relaxed)
        case .sse: sseCount.add(delta, ordering: .relaxed)
        case .mcp: mcpCount.add(delta, ordering: .relaxed)
        }
    }

    /// Frames per second of each bus, over at least the last second (monotonic clock).
    public func frameRates() -> [Double] {
        let now = SystemClock.monotonicNanoseconds()
        let table = gateway.state.buses
        return scrape.withLock { s in
            for i in 0..<table.count {
                let frames = table.frames(i)
                let last = s.rateSample[i]
                if last.time == 0 { s.rateSample[i] = (now, frames); continue }
                if now - last.time >= 1_000_000_000 {
                    s.rates[i] = Double(frames &- last.frames) / (Double(now - last.time) / 1e9)
                    s.rateSample[i] = (now, frames)
                }
            }
            return s.rates
        }
    }

    /// The Prometheus text exposition, brought up to date.
    public func render() -> [UInt8] {
        let rates = frameRates()
        let statuses = gateway.state.buses.all
        scrape.withLock { s in
            for (i, b) in statuses.enumerated() {
                let m = buses[i]
                let now = [b.frames, b.unknownFrames, b.shortFrames, b.errorFrames, b.kernelDrops]
                let counters = [m.frames, m.unknown, m.short, m.errorFrames, m.drops]
                for k in 0..<5 where now[k] > s.reported[i][k] {
                    counters[k].increment(by: Int64(now[k] - s.reported[i][k]))
                }
                s.reported[i] = now
                m.rate.set(to: rates[i])
                m.up.set(to: b.state == .up ? 1.0 : 0.0)
            }
            for (m, message) in gateway.state.integrity.snapshot().enumerated() {
                for (k, d) in message.dropped.enumerated() where d.frames > s.droppedReported[m][k] {
                    integrity[m].dropped[k].increment(by: Int64(d.frames - s.droppedReported[m][k]))
                    s.droppedReported[m][k] = d.frames
                }
                integrity[m].valid.set(to: message.valid.map { $0 ? 1.0 : 0.0 } ?? -1)
            }
            for (path, n) in gateway.state.integrity.implausibleValues() where n > s.implausibleReported[path, default: 0] {
                implausible[path]?.increment(by: Int64(n - s.implausibleReported[path, default: 0]))
                s.implausibleReported[path] = n
            }
            let bad = gateway.control.malformedLines
            if bad > s.malformedReported { malformed.increment(by: Int64(bad - s.malformedReported)); s.malformedReported = bad }
        }
        stalePaths.set(to: Double(view.stalePathCount()))
        paths.set(to: Double(view.paths.count))
        contextAge.set(to: view.context().speed.ageSeconds ?? -1)
        vissSubscribers.set(to: Double(vissCount.load(ordering: .relaxed)))
        sseSubscribers.set(to: Double(sseCount.load(ordering: .relaxed)))
        mcpSessions.set(to: Double(mcpCount.load(ordering: .relaxed)))
        feedSubscribers.set(to: Double(gateway.state.feed.subscriberCount))
        return registry.emitToBuffer()
    }

    /// `/healthz`: the buses and sources with their state, and whether the context is live.
    public func healthJSON() -> (healthy: Bool, body: String) {
        let rates = frameRates()
        let now = SystemClock.wallNanoseconds()
        var out = TextBuffer(capacity: 512)
        var anyUp = false
        out.append("{\"buses\": [")
        for (i, b) in gateway.state.buses.all.enumerated() {
            if i > 0 { out.append(", ") }
            if b.state == .up { anyUp = true }
            out.append("{\"name\": "); out.appendJSONString(b.name)
            out.append(", \"interface\": ")
            if let f = b.interface { out.appendJSONString(f) } else { out.append("null") }
            out.append(", \"source\": "); out.appendJSONString(b.source)
            out.append(", \"state\": \""); out.append(b.state.name); out.append("\"")
            if !b.reason.isEmpty { out.append(", \"reason\": "); out.appendJSONString(b.reason) }
            out.append(", \"frames\": "); out.appendDecimal(b.frames)
            out.append(", \"frames_per_s\": "); out.appendJSONNumber((rates[i] * 10).rounded() / 10)
            out.append(", \"decode_errors\": "); out.appendDecimal(b.unknownFrames &+ b.shortFrames)
            out.append(", \"kernel_drops\": "); out.appendDecimal(b.kernelDrops)
            out.append(", \"last_frame_age_s\": ")
            if b.lastFrameWallNanoseconds > 0 { out.appendJSONNumber((Double(now - b.lastFrameWallNanoseconds) / 1e6).rounded() / 1e3) } else { out.append("null") }
            out.append("}")
        }
        let context = view.context()
        out.append("], \"context\": {\"speed\": \""); out.append(context.speed.state.rawValue)
        out.append("\", \"location\": \""); out.append(context.location.state.rawValue)
        out.append("\", \"gear\": \""); out.append(context.gear.state.rawValue)
        out.append("\"}, \"stale_paths\": "); out.appendDecimal(Int64(view.stalePathCount()))
        out.append(", \"integrity\": [")
        for (k, m) in gateway.state.integrity.snapshot().enumerated() {
            if k > 0 { out.append(", ") }
            out.append("{\"message\": "); out.appendJSONString(m.name)
            out.append(", \"state\": \""); out.append(m.valid == nil ? "unseen" : m.valid! ? "valid" : "invalid"); out.append("\"")
            if let r = m.invalidReason { out.append(", \"reason\": \""); out.append(r.description); out.append("\"") }
            out.append(", \"frames_ok\": "); out.appendDecimal(m.passed)
            out.append(", \"dropped\": {")
            for (j, d) in m.dropped.enumerated() {
                if j > 0 { out.append(", ") }
                out.append("\""); out.append(d.reason.description); out.append("\": "); out.appendDecimal(d.frames)
            }
            out.append("}}")
        }
        out.append("]")
        out.append(", \"subscribers\": "); out.appendDecimal(Int64(gateway.state.feed.subscriberCount))
        out.append(", \"clients\": {\"sse\": "); out.appendDecimal(Int64(sseCount.load(ordering: .relaxed)))
        out.append(", \"viss\": "); out.appendDecimal(Int64(vissCount.load(ordering: .relaxed)))
        out.append(", \"mcp\": "); out.appendDecimal(Int64(mcpCount.load(ordering: .relaxed)))
        out.append("}")
        for consumer in gateway.state.consumers.all {
            out.append(", ")
            out.appendJSONString(consumer.healthName)
            out.append(": ")
            consumer.appendHealthJSON(to: &out)
        }
        out.append(", \"uptime_s\": "); out.appendJSONNumber((Double(now - gateway.state.startedWall) / 1e6).rounded() / 1e3)
        out.append(", \"status\": \""); out.append(anyUp ? "ok" : "degraded"); out.append("\"}\n")
        return (anyUp, out.string)
    }
}
