import CANBus
import Foundation
import Gateway
import Logging
import Metrics
import ServiceLifecycle
import VehicleState

/// The fleet uplink, one more consumer of the gateway's change feed: the driving context to
/// `vehicles/{id}/context` (on change at most `max_rate` a second, at least every `heartbeat_s`),
/// and a retained `vehicles/{id}/status` (online with the software version and the buses; the
/// broker publishes the offline one as our Last Will if the car drops off). Outbound only: it
/// subscribes to nothing, so nothing can reach the bus or the store through it.
public final class Uplink: Service, ConsumerHealth, Sendable {
    public let configuration: UplinkConfiguration
    let gateway: Gateway
    let softwareVersion: String
    let connection: MQTTConnection
    let precision: LocationPrecision
    let logger: Logger
    let encoder: MessageEncoder
    public let campaigns: [CampaignDefinition]
    /// Made by `prepare` (it keeps the history the campaigns need before frames flow); used by `run`.
    let runner = Locked<CampaignRunner?>(nil)
    let campaignCounters = Locked<[(String, CampaignCounters)]>([])

    public init(configuration: UplinkConfiguration, gateway: Gateway, softwareVersion: String, campaigns: [CampaignDefinition] = [],
                logger: Logger = Logger(label: "vehicle-gateway.uplink")) {
        self.configuration = configuration
        self.gateway = gateway
        self.softwareVersion = softwareVersion
        self.campaigns = campaigns
        self.logger = logger
        encoder = MessageEncoder(encoding: configuration.encoding, vehicleID: configuration.vehicleID)
        var decimals: Int? = nil
        if case .rounded(let n) = configuration.location { decimals = n }
        precision = LocationPrecision(decimals: decimals, mapping: gateway.state.mapping)
        connection = MQTTConnection(configuration: configuration,
                                    will: OutgoingMessage(topic: configuration.statusTopic, payload: Array(Self.statusJSON(
                                        configuration.vehicleID, online: false, version: softwareVersion, buses: [], reason: "connection lost").utf8),
                                        retain: true, priority: 0, contentType: "application/json"),
                                    logger: logger)
        metrics = UplinkMetrics()
        gateway.state.consumers.register(self)
    }

    let metrics: UplinkMetrics

    /// Counters for metrics and health.
    public var counters: UplinkCounters { connection.counters }

    /// Checks what can be checked before the car drives (the state directory, the TLS files and
    /// key) and starts the connection's thread: a setting that cannot work stops start-up with
    /// its reason instead of a reconnect loop that can never succeed.
    public func prepare() throws(UplinkConfiguration.Problem) {
        _ = try SequenceStore(directory: configuration.stateDirectory, topic: configuration.contextTopic)
        if !campaigns.isEmpty {
            let made = try CampaignRunner(campaigns, state: gateway.state, configuration: configuration, encoder: encoder)
            runner.withLock { $0 = made }
            campaignCounters.withLock { $0 = made.counters }
        }
        try connection.start()
    }

    public func run() async throws {
        let sequence: SequenceStore
        do { sequence = try SequenceStore(directory: configuration.stateDirectory, topic: configuration.contextTopic) } catch {
            logger.error("uplink off: \(error)")
            return
        }
        logger.info("uplink", metadata: ["broker": "\(configuration.brokerDescription)", "vehicle": "\(configuration.vehicleID)",
                                         "next_seq": "\(sequence.last + 1)"])
        let changes = gateway.state.feed.subscribe(.contextOnly, minimumInterval: .nanoseconds(Int64(1e9 / configuration.maxRate)),
                                                   heartbeat: .nanoseconds(Int64(configuration.heartbeatSeconds * 1e9)))
        let runner = self.runner.withLock { $0 }
        let campaignChanges = runner.map { r in
            gateway.state.feed.subscribe(FeedInterest(paths: r.watched, states: false, context: false), minimumInterval: .milliseconds(1),
                                         heartbeat: .milliseconds(50))
        }
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await self.publish(changes, sequence) }
                if let runner, let campaignChanges { group.addTask { await self.collect(runner, campaignChanges) } }
            }
        }
        changes.cancel()
        campaignChanges?.cancel()
        if let runner {
            for m in runner.finish(now: gateway.state.clock.now()) { connection.enqueue(m) }
            campaignCounters.withLock { $0 = runner.counters }
        }
        let final = OutgoingMessage(topic: configuration.statusTopic, payload: Array(Self.statusJSON(
            configuration.vehicleID, online: false, version: softwareVersion, buses: [], reason: "stopped").utf8), retain: true, priority: 0,
            contentType: "application/json")
        let connection = self.connection
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            Thread { connection.stop(final: final, seconds: 2); done.resume() }.start()
        }
        let c = counters
        logger.info("uplink stopped", metadata: ["published": "\(c.published)", "acknowledged": "\(c.acknowledged)",
                                                 "queued": "\(c.queuedMessages)", "evicted": "\(c.evicted)"])
    }

    /// The status whenever a bus changes state, and the context on each change (the feed
    /// coalesces to `max_rate`) and each heartbeat.
    private func publish(_ changes: FeedSubscription, _ start: SequenceStore) async {
        var sequence = start
        var busSignature = ""
        func sendStatus() {
            let buses = gateway.state.buses.all.map { ($0.name, $0.state.name) }
            let signature = buses.map { "\($0.0)=\($0.1)" }.joined(separator: ",")
            guard signature != busSignature else { return }
            busSignature = signature
            connection.enqueue(OutgoingMessage(topic: configuration.statusTopic, payload: Array(Self.statusJSON(
                configuration.vehicleID, online: true, version: softwareVersion, buses: buses, reason: nil).utf8), retain: true, priority: 0,
                contentType: "application/json"))
        }
        sendStatus()
        connection.enqueue(contextMessage(seq: sequence.next()))
        var reported = UplinkCounters()
        for await _ in changes {
            sendStatus()
            connection.enqueue(contextMessage(seq: sequence.next()))
            reported = metrics.update(counters, since: reported)
        }
    }

    /// The campaigns: every wake of the feed (a watched path changed, or 50 ms passed), what
    /// is due at the frame time now.
    private func collect(_ runner: CampaignRunner, _ changes: FeedSubscription) async {
        for await _ in changes {
            let now = gateway.state.clock.now()
            for m in runner.tick(now: now) { connection.enqueue(m) }
            campaignCounters.withLock { $0 = runner.counters }
        }
    }

    public var healthName: String { "uplink" }

    /// `{"broker": ..., "connected": true, "queued_messages": 0, ...}` for /healthz.
    public func appendHealthJSON(to out: inout TextBuffer) {
        let c = counters
        out.append("{\"broker\": "); out.appendJSONString(configuration.brokerDescription)
        out.append(", \"vehicle_id\": "); out.appendJSONString(configuration.vehicleID)
        out.append(", \"connected\": "); out.append(c.connected ? "true" : "false")
        out.append(", \"queued_messages\": "); out.appendDecimal(Int64(c.queuedMessages))
        out.append(", \"queued_bytes\": "); out.appendDecimal(Int64(c.queuedBytes))
        out.append(", \"in_flight\": "); out.appendDecimal(Int64(c.inFlight))
        out.append(", \"published\": "); out.appendDecimal(c.published)
        out.append(", \"acknowledged\": "); out.appendDecimal(c.acknowledged)
        out.append(", \"evicted\": {\"queue_full\": "); out.appendDecimal(c.evicted)
        out.append(", \"ttl\": "); out.appendDecimal(c.expired); out.append("}")
        out.append(", \"reconnects\": "); out.appendDecimal(c.reconnects)
        out.append(", \"journal\": {\"unacknowledged_bytes\": "); out.appendDecimal(c.journalBytes)
        out.append(", \"torn_records\": "); out.appendDecimal(Int64(c.tornRecords))
        out.append(", \"write_failures\": "); out.appendDecimal(c.journalWriteFailures); out.append("}")
        out.append(", \"last_ack_age_s\": ")
        if c.lastAcknowledgedWallNanoseconds > 0 {
            out.appendJSONNumber((Double(SystemClock.wallNanoseconds() - c.lastAcknowledgedWallNanoseconds) / 1e6).rounded() / 1e3)
        } else { out.append("null") }
        out.append(", \"last_error\": ")
        if c.lastError.isEmpty { out.append("null") } else { out.appendJSONString(c.lastError) }
        out.append(", \"encoding\": \""); out.append(configuration.encoding.rawValue)
        out.append("\", \"campaigns\": [")
        for (k, (name, n)) in campaignCounters.withLock({ $0 }).enumerated() {
            if k > 0 { out.append(", ") }
            out.append("{\"name\": "); out.appendJSONString(name)
            out.append(", \"triggered\": "); out.appendDecimal(n.triggered)
            out.append(", \"published\": "); out.appendDecimal(n.published)
            out.append(", \"held\": "); out.appendDecimal(n.held)
            out.append(", \"dropped\": "); out.appendDecimal(n.dropped)
            out.append("}")
        }
        out.append("]}")
    }

    /// `{"vehicle_id": ..., "seq": N, ...the /v1/context object...}`
    func contextMessage(seq: UInt64) -> OutgoingMessage {
        Self.contextMessage(precision.apply(gateway.state.context()), seq: seq, configuration: configuration, encoder: encoder)
    }

    /// The context message of `context` as vehicle `configuration.vehicleID` (also the fleet load's).
    static func contextMessage(_ context: DrivingContext, seq: UInt64, configuration: UplinkConfiguration, encoder: MessageEncoder) -> OutgoingMessage {
        var context = context
        var withheld = false
        if configuration.location == .off {
            context.location = .unavailable
            withheld = true
        }
        var body = TextBuffer(capacity: 1024)
        context.appendJSON(to: &body)
        var out = TextBuffer(capacity: body.bytes.count + 96)
        out.append("{\"vehicle_id\": ")
        out.appendJSONString(configuration.vehicleID)
        out.append(", \"seq\": ")
        out.appendDecimal(seq)
        if withheld { out.append(", \"location_withheld\": true") }
        out.append(", ")
        var bytes = body.bytes
        while bytes.last == 0x0A { bytes.removeLast() }
        out.bytes.append(contentsOf: bytes.dropFirst())  // the context's fields, after its opening brace
        let encoded = encoder.encode(json: out.bytes, as: .context)
        let expires = configuration.contextTTLSeconds.map { SystemClock.wallNanoseconds() + Int64($0 * 1e9) } ?? 0
        return OutgoingMessage(topic: configuration.contextTopic, payload: encoded.payload, priority: configuration.contextPriority,
                               expiresNanoseconds: expires, contentType: encoded.contentType)
    }

    static func statusJSON(_ vehicleID: String, online: Bool, version: String, buses: [(String, String)], reason: String?) -> String {
        var out = TextBuffer(capacity: 256)
        out.append("{\"vehicle_id\": ")
        out.appendJSONString(vehicleID)
        out.append(", \"state\": \"")
        out.append(online ? "online" : "offline")
        out.append("\", \"software\": ")
        out.appendJSONString("vehicle-gateway \(version)")
        if let reason { out.append(", \"reason\": "); out.appendJSONString(reason) }
        out.append(", \"time\": ")
        out.appendJSONNumber((Double(SystemClock.wallNanoseconds()) / 1e6).rounded() / 1e3)
        out.append(", \"buses\": [")
        for (i, b) in buses.enumerated() {
            if i > 0 { out.append(", ") }
            out.append("{\"name\": "); out.appendJSONString(b.0)
            out.append(", \"state\": "); out.appendJSONString(b.1); out.append("}")
        }
        out.append("]}")
        return out.string
    }
}

/// The uplink's Prometheus series (through swift-metrics, into the gateway's registry).
struct UplinkMetrics: Sendable {
    let connected = Gauge(label: "vehicle_gateway_uplink_connected")
    let queuedMessages = Gauge(label: "vehicle_gateway_uplink_queued_messages")
    let queuedBytes = Gauge(label: "vehicle_gateway_uplink_queued_bytes")
    let published = Counter(label: "vehicle_gateway_uplink_published_total")
    let acknowledged = Counter(label: "vehicle_gateway_uplink_acknowledged_total")
    let evicted = Counter(label: "vehicle_gateway_uplink_evicted_total", dimensions: [("reason", "queue_full")])
    let expired = Counter(label: "vehicle_gateway_uplink_evicted_total", dimensions: [("reason", "ttl")])
    let reconnects = Counter(label: "vehicle_gateway_uplink_reconnects_total")

    /// Brings the series to `now`; returns it as the next call's `since`.
    func update(_ now: UplinkCounters, since last: UplinkCounters) -> UplinkCounters {
        connected.record(now.connected ? 1 : 0)
        queuedMessages.record(now.queuedMessages)
        queuedBytes.record(now.queuedBytes)
        published.increment(by: Int64(now.published - last.published))
        acknowledged.increment(by: Int64(now.acknowledged - last.acknowledged))
        evicted.increment(by: Int64(now.evicted - last.evicted))
        expired.increment(by: Int64(now.expired - last.expired))
        reconnects.increment(by: Int64(now.reconnects - last.reconnects))
        return now
    }
}
