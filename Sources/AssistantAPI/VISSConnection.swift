import CANBus
import Gateway
import HummingbirdWebSocket
import Synchronization
import VehicleState

/// One VISS v2 WebSocket client: get, subscribe and unsubscribe, its subscriptions fed from
/// one change-feed subscription whose interest is the union of theirs. Notifications carry the
/// latest value of each path (coalesced); a client that stops reading is disconnected rather
/// than buffered for. Only the VISS filters and formatting are its own.
actor VISSConnection {
    let view: VehicleView
    let changes: FeedSubscription
    let metrics: GatewayMetrics
    let limits: APIConfiguration
    let outbound: WebSocketOutboundWriter

    struct Subscription {
        var paths: [Int]
        var filters: [VISSFilter]
        var lastSent: [Double?]
        var timer: Task<Void, Never>?
        /// A subscription to `eventsPath`: the last event id sent.
        var eventsAfter: UInt64? = nil
        var hasValueFilter: Bool {
            filters.contains { switch $0 { case .change, .range: return true; default: return false } }
        }
    }
    var subscriptions: [String: Subscription] = [:]
    var nextID = 1
    /// Wall time (ns) a write to the socket has been waiting since; 0 when none is.
    let writeWaitingSince = Atomic<Int64>(0)
    /// Every message goes through one queue and one writer, so the client sees them in the
    /// order they were decided (an unsubscribe reply is never followed by that subscription's
    /// notification). Messages waiting beyond `maxQueued` mean the client is not reading.
    let outbox: AsyncStream<String>
    let outboxInput: AsyncStream<String>.Continuation
    let queued = Atomic<Int>(0)
    static let maxQueued = 1024

    init(view: VehicleView, metrics: GatewayMetrics, limits: APIConfiguration, outbound: WebSocketOutboundWriter) {
        self.view = view
        changes = view.state.feed.subscribe(FeedInterest(paths: PathSet(count: view.paths.count), states: true, context: false))
        self.metrics = metrics
        self.limits = limits
        self.outbound = outbound
        (outbox, outboxInput) = AsyncStream<String>.makeStream()
    }

    /// Serves the connection until the client leaves or stalls.
    func run(inbound: WebSocketInboundStream) async {
        metrics.adjust(.viss, by: 1)
        let changes = self.changes
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                do {
                    for try await message in inbound.messages(maxSize: self.limits.maxWebSocketMessageBytes) {
                        switch message {
                        case .text(let text): await self.handle(text)
                        case .binary: await self.sendError(.badRequest("binary messages are not VISS; send JSON text"), action: nil, requestId: nil)
                        }
                    }
                } catch {}
            }
            group.addTask {
                // Isolated to this connection: a change resumes the loop on the actor itself,
                // not on a pool thread that then hops to the actor (one wake-up less per change).
                await self.followChanges(changes)
            }
            group.addTask {
                // The one writer.
                for await text in self.outbox {
                    self.writeWaitingSince.store(SystemClock.wallNanoseconds(), ordering: .relaxed)
                    do { try await self.outbound.write(.text(text)) } catch { return }
                    self.writeWaitingSince.store(0, ordering: .relaxed)
                    self.queued.subtract(1, ordering: .relaxed)
                }
            }
            group.addTask {
                // A client whose socket takes nothing for `slowClientSeconds` is dropped.
                while !Task.isCancelled {
                    try? await Task.sleep(for: .milliseconds(250))
                    if self.stalled() { return }
                }
            }
            await group.next()
            group.cancelAll()
        }
        outboxInput.finish()
        changes.cancel()
        for s in subscriptions.values { s.timer?.cancel() }
        metrics.adjust(.viss, by: -subscriptions.count - 1)
        subscriptions.removeAll()
    }

    func followChanges(_ changes: FeedSubscription) async {
        for await batch in changes { onChange(batch) }
    }

    nonisolated func stalled() -> Bool {
        let since = writeWaitingSince.load(ordering: .relaxed)
        return (since != 0 && Double(SystemClock.wallNanoseconds() - since) / 1e9 > limits.slowClientSeconds)
            || queued.load(ordering: .relaxed) > Self.maxQueued
    }

    /// Queues a message (in order, without waiting for the socket).
    func send(_ text: String) {
        queued.add(1, ordering: .relaxed)
        outboxInput.yield(text)
    }

    /// The vehicle events (parked, departed, rain_started, ...) as a VISS path: `get` gives the
    /// latest ones, `subscribe` each new one, as data points whose value is the event's name.
    static let eventsPath = VehicleView.eventsPath
    static let eventsPerGet = 10

    func handle(_ text: String) {
        switch VISSRequest.parse(text) {
        case .failure(let f):
            sendError(f.error, action: f.action, requestId: f.requestId)
        case .success(.get(Self.eventsPath, _, let requestId)) where !view.isPermitted(name: Self.eventsPath):
            sendError(.userForbidden(view.refusal(Self.eventsPath)), action: "get", requestId: requestId)
        case .success(.subscribe(Self.eventsPath, _, let requestId)) where !view.isPermitted(name: Self.eventsPath):
            sendError(.userForbidden(view.refusal(Self.eventsPath)), action: "subscribe", requestId: requestId)
        case .success(.get(Self.eventsPath, let filters, let requestId)):
            guard filters.isEmpty else { sendError(.badRequest("\(Self.eventsPath) takes no filters"), action: "get", requestId: requestId); return }
            let events = view.state.tracked.events.events(limit: Self.eventsPerGet)
            guard !events.isEmpty else { sendError(.unavailable("no vehicle event has happened yet"), action: "get", requestId: requestId); return }
            var out = TextBuffer(capacity: 256)
            out.append("{\"action\": \"get\"")
            Self.appendRequestId(requestId, &out)
            out.append(", \"data\": ")
            Self.appendEvents(events, &out)
            Self.appendTs(&out)
            send(out.string)
        case .success(.subscribe(Self.eventsPath, let filters, let requestId)):
            guard filters.isEmpty else { sendError(.badRequest("\(Self.eventsPath) takes no filters"), action: "subscribe", requestId: requestId); return }
            guard subscriptions.count < limits.maxSubscriptionsPerConnection else {
                sendError(.tooMany("at most \(limits.maxSubscriptionsPerConnection) subscriptions per connection"), action: "subscribe", requestId: requestId)
                return
            }
            let id = String(nextID)
            nextID += 1
            subscriptions[id] = Subscription(paths: [], filters: [], lastSent: [], timer: nil, eventsAfter: view.state.tracked.events.lastID)
            updateInterest()
            metrics.adjust(.viss, by: 1)
            send(Self.subscriptionReply("subscribe", id, requestId))
        case .success(.get(let path, let filters, let requestId)):
            switch resolve(path, filters) {
            case .failure(let e): sendError(e, action: "get", requestId: requestId)
            case .success(let paths):
                let single = paths.count == 1 && !filters.contains { if case .paths = $0 { return true } else { return false } }
                let readings = paths.map { ($0, view.reading($0)) }.filter { $0.1.value != nil }
                if readings.isEmpty {
                    sendError(.unavailable("no value has been received for '\(path)' yet"), action: "get", requestId: requestId)
                    return
                }
                var out = TextBuffer(capacity: 256)
                out.append("{\"action\": \"get\"")
                Self.appendRequestId(requestId, &out)
                out.append(", \"data\": ")
                appendData(readings, single: single, &out)
                Self.appendTs(&out)
                send(out.string)
            }
        case .success(.subscribe(let path, let filters, let requestId)):
            guard subscriptions.count < limits.maxSubscriptionsPerConnection else {
                sendError(.tooMany("at most \(limits.maxSubscriptionsPerConnection) subscriptions per connection"),
                                action: "subscribe", requestId: requestId)
                return
            }
            switch resolve(path, filters) {
            case .failure(let e): sendError(e, action: "subscribe", requestId: requestId)
            case .success(let paths):
                let id = String(nextID)
                nextID += 1
                var sub = Subscription(paths: paths, filters: filters, lastSent: Array(repeating: nil, count: paths.count), timer: nil)
                for f in filters {
                    if case .timebased(let period) = f {
                        sub.timer = Task { [weak self] in
                            while !Task.isCancelled {
                                try? await Task.sleep(for: .milliseconds(period))
                                guard let self, !Task.isCancelled else { return }
                                await self.sendPeriodic(id)
                            }
                        }
                    }
                }
                subscriptions[id] = sub
                updateInterest()
                metrics.adjust(.viss, by: 1)
                send(Self.subscriptionReply("subscribe", id, requestId))
                // The current value goes out at once (timebased ones wait for their period).
                if sub.timer == nil { sendCurrent(id) }
            }
        case .success(.unsubscribe(let id, let requestId)):
            guard let sub = subscriptions.removeValue(forKey: id) else {
                sendError(.unavailable("no subscription '\(id)' on this connection"), action: "unsubscribe", requestId: requestId)
                return
            }
            sub.timer?.cancel()
            updateInterest()
            metrics.adjust(.viss, by: -1)
            send(Self.subscriptionReply("unsubscribe", id, requestId))
        }
    }

    /// The mapped leaf paths a request names: the path itself, the leaves below a branch, or
    /// the paths filter's relative paths (with `*`) below it.
    func resolve(_ path: String, _ filters: [VISSFilter]) -> Result<[Int], VISSError> {
        var relative: [String]?
        for f in filters { if case .paths(let p) = f { relative = (relative ?? []) + p } }
        var hits: [Int]
        if let relative {
            let patterns = relative.map { path + "." + $0.replacingOccurrences(of: "/", with: ".") }
            hits = view.paths.indices.filter { i in patterns.contains { VISSFilter.matches(view.paths[i].name, pattern: $0) } }
            if hits.isEmpty { return .failure(.unavailable("no VSS path matches \(patterns.joined(separator: ", "))")) }
        } else if let i = view.index(of: path) {
            hits = [i]
        } else {
            hits = view.paths(under: path)
            if hits.isEmpty { return .failure(.unavailable(view.unknownPathMessage(path))) }
        }
        // A branch gives the leaves the reader's token covers; none at all is refused.
        let allowed = hits.filter(view.isPermitted)
        return allowed.isEmpty ? .failure(.userForbidden(view.refusal(path))) : .success(allowed)
    }

    /// The change feed wakes this connection for the paths its change-driven subscriptions use.
    func updateInterest() {
        var wanted = PathSet(count: view.paths.count)
        for sub in subscriptions.values where sub.timer == nil { for p in sub.paths { wanted.insert(p) } }
        let events = subscriptions.values.contains { $0.eventsAfter != nil }
        changes.update { $0.paths = wanted; $0.context = events }
    }

    /// A batch from the change feed: each change-driven subscription sends its paths that have
    /// a new value and pass its filters; one without change or range filters also hears when a
    /// value's state turns (fresh → stale and back), so a client learns that a value stopped
    /// being current.
    func onChange(_ batch: ChangeBatch) {
        for (id, sub) in subscriptions {
            guard let after = sub.eventsAfter else { continue }
            let events = view.state.tracked.events.events(after: after)
            guard let last = events.last else { continue }
            subscriptions[id]?.eventsAfter = last.id
            var out = TextBuffer(capacity: 256)
            out.append("{\"action\": \"subscription\", \"subscriptionId\": ")
            out.appendJSONString(id)
            out.append(", \"data\": ")
            Self.appendEvents(events, &out)
            Self.appendTs(&out)
            send(out.string)
        }
        for (id, sub) in subscriptions where sub.timer == nil && sub.eventsAfter == nil {
            var readings: [(Int, VehicleView.Reading)] = []
            var updated = sub
            for (k, p) in sub.paths.enumerated() {
                let changed = batch.changed.contains(p)
                guard changed || (batch.turned.contains(p) && !sub.hasValueFilter) else { continue }
                let r = view.reading(p)
                guard let v = r.value else { continue }
                if changed, !VISSFilter.passes(sub.filters, value: v, lastSent: sub.lastSent[k]) { continue }
                updated.lastSent[k] = v
                readings.append((p, r))
            }
            subscriptions[id] = updated
            if !readings.isEmpty { sendNotification(id, readings, single: sub.paths.count == 1, batch: batch) }
        }
    }

    /// The current values of a new subscription.
    func sendCurrent(_ id: String) {
        guard var sub = subscriptions[id] else { return }
        var readings: [(Int, VehicleView.Reading)] = []
        for (k, p) in sub.paths.enumerated() {
            let r = view.reading(p)
            guard let v = r.value, VISSFilter.passes(sub.filters, value: v, lastSent: nil) else { continue }
            sub.lastSent[k] = v
            readings.append((p, r))
        }
        subscriptions[id] = sub
        if !readings.isEmpty { sendNotification(id, readings, single: sub.paths.count == 1) }
    }

    func sendPeriodic(_ id: String) {
        guard let sub = subscriptions[id] else { return }
        let readings = sub.paths.map { ($0, view.reading($0)) }.filter { $0.1.value != nil }
        guard !readings.isEmpty else { return }
        sendNotification(id, readings, single: sub.paths.count == 1)
    }

    func sendNotification(_ id: String, _ readings: [(Int, VehicleView.Reading)], single: Bool, batch: ChangeBatch? = nil) {
        var out = TextBuffer(capacity: 256)
        out.append("{\"action\": \"subscription\", \"subscriptionId\": ")
        out.appendJSONString(id)
        out.append(", \"data\": ")
        appendData(readings, single: single, &out)
        Self.appendTs(&out)
        // Measured before the hand-off: waking the writer may let it run first on this core.
        for (_, r) in readings { metrics.recordPublished(receivedNanoseconds: r.receivedNanoseconds ?? 0, batch: batch) }
        send(out.string)
    }

    /// `{"path": ..., "dp": {"value": "42.5", "ts": "...", "state": "fresh"}}`, or an array of them.
    func appendData(_ readings: [(Int, VehicleView.Reading)], single: Bool, _ out: inout TextBuffer) {
        if !single { out.append("[") }
        for (k, (p, r)) in readings.enumerated() {
            if k > 0 { out.append(", ") }
            out.append("{\"path\": ")
            out.appendJSONString(view.paths[p].name)
            out.append(", \"dp\": {\"value\": ")
            out.appendJSONString(ValueFormat.string(r.value ?? .nan, view.paths[p].datatype))
            out.append(", \"ts\": ")
            out.appendJSONString(ValueFormat.iso8601(nanoseconds: r.timestampNanoseconds ?? 0))
            out.append(", \"state\": \"")
            out.append(r.state.rawValue)
            if let why = r.invalidReason { out.append("\", \"reason\": \""); out.append(why) }
            out.append("\"}}")
        }
        if !single { out.append("]") }
    }

    /// `{"path": "Vehicle.Private.Events", "dp": [{"value": "departed", "ts": "...", "id": "3"}, ...]}`
    static func appendEvents(_ events: [VehicleEvent], _ out: inout TextBuffer) {
        out.append("{\"path\": \"")
        out.append(eventsPath)
        out.append("\", \"dp\": [")
        for (k, e) in events.enumerated() {
            if k > 0 { out.append(", ") }
            out.append("{\"value\": \"")
            out.append(e.kind.name)
            out.append("\", \"ts\": ")
            out.appendJSONString(ValueFormat.iso8601(nanoseconds: e.timestampNanoseconds))
            out.append(", \"id\": \"")
            out.appendDecimal(e.id)
            out.append("\"}")
        }
        out.append("]}")
    }

    func sendError(_ e: VISSError, action: String?, requestId: String?) {
        send(Self.errorMessage(e, action: action, requestId: requestId))
    }

    static func errorMessage(_ e: VISSError, action: String?, requestId: String?) -> String {
        var out = TextBuffer(capacity: 256)
        out.append("{")
        if let action { out.append("\"action\": "); out.appendJSONString(action); out.append(", ") }
        if let requestId { out.append("\"requestId\": "); out.appendJSONString(requestId); out.append(", ") }
        out.append("\"error\": {\"number\": \"")
        out.appendDecimal(Int64(e.number))
        out.append("\", \"reason\": ")
        out.appendJSONString(e.reason)
        out.append(", \"message\": ")
        out.appendJSONString(e.message)
        out.append("}")
        appendTs(&out)
        return out.string
    }

    /// `{"action": "subscribe"|"unsubscribe", "subscriptionId": ..., "requestId": ..., "ts": ...}`
    static func subscriptionReply(_ action: StaticString, _ id: String, _ requestId: String?) -> String {
        var out = TextBuffer(capacity: 128)
        out.append("{\"action\": \"")
        out.append(action)
        out.append("\", \"subscriptionId\": ")
        out.appendJSONString(id)
        appendRequestId(requestId, &out)
        appendTs(&out)
        return out.string
    }

    static func appendRequestId(_ id: String?, _ out: inout TextBuffer) {
        guard let id else { return }
        out.append(", \"requestId\": ")
        out.appendJSONString(id)
    }

    static func appendTs(_ out: inout TextBuffer) {
        out.append(", \"ts\": ")
        out.appendJSONString(ValueFormat.nowISO8601())
        out.append("}")
    }
}
