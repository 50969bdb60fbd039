import CANBus
import Foundation
import Hummingbird
import Logging
import ServiceLifecycle
import Uplink

/// The fleet consumer (`vehicle-gateway fleet`): one member of a shared subscription to every
/// vehicle's context and status, serving what it has seen in the in-car API's shape:
///
///     GET /v1/vehicles                         every vehicle: seq, messages, duplicates, gaps, status
///     GET /v1/vehicles/{id}/context            its latest context, as the car sent it
///     GET /v1/vehicles/{id}/context/stream     Server-Sent Events (event: context) as it changes
///     GET /healthz                             the broker connection and the counts
public final class FleetServer: Sendable {
    public struct Configuration: Sendable {
        public var broker: UplinkConfiguration
        public var group = "fleet"
        public var host = "127.0.0.1"
        public var port = 8090
        public var token: String?
        /// How long the broker keeps this consumer's session (and its share of the group's
        /// messages) after it disconnects. A member that is gone still gets its share of a shared
        /// subscription while its session lives: 0 unless the consumer has a stable client id.
        public var sessionExpirySeconds: UInt32 = 0
        public init(broker: UplinkConfiguration) { self.broker = broker }
    }

    public let configuration: Configuration
    public let state = FleetState()
    let subscriber: FleetSubscriber
    let logger: Logger

    public init(configuration: Configuration, logger: Logger = Logger(label: "vehicle-gateway.fleet")) {
        self.configuration = configuration
        self.logger = logger
        let state = self.state
        subscriber = FleetSubscriber(broker: configuration.broker, group: configuration.group,
                                     sessionExpirySeconds: configuration.sessionExpirySeconds, logger: logger) { topic, payload, type in
            state.receive(topic: topic, payload: payload, contentType: type)
        }
    }

    static func json(_ body: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: body)))
    }

    static func error(_ status: HTTPResponse.Status, _ message: String) -> Response {
        var out = TextBuffer(capacity: 128)
        out.append("{\"error\": {\"status\": ")
        out.appendDecimal(Int64(status.code))
        out.append(", \"message\": ")
        out.appendJSONString(message)
        out.append("}}\n")
        return json(out.string, status: status)
    }

    func vehiclesJSON() -> String {
        let now = SystemClock.wallNanoseconds()
        var out = TextBuffer(capacity: 256)
        out.append("{\"vehicles\": [")
        for (k, v) in state.vehicles.enumerated() {
            if k > 0 { out.append(", ") }
            out.append("{\"vehicle_id\": "); out.appendJSONString(v.id)
            out.append(", \"seq\": "); out.appendDecimal(v.seq)
            out.append(", \"received\": "); out.appendDecimal(v.received)
            out.append(", \"duplicates\": "); out.appendDecimal(v.duplicates)
            out.append(", \"gaps\": "); out.appendDecimal(v.gaps)
            out.append(", \"status\": ")
            out.append(v.online.map { $0 ? "\"online\"" : "\"offline\"" } ?? "null")
            out.append(", \"last_seen_age_s\": ")
            out.appendJSONNumber((Double(now - v.lastSeenWallNanoseconds) / 1e6).rounded() / 1e3)
            out.append("}")
        }
        out.append("]}\n")
        return out.string
    }

    func healthJSON() -> String {
        let (messages, malformed, contexts, duplicates, gaps) = state.counts
        var out = TextBuffer(capacity: 256)
        out.append("{\"broker\": "); out.appendJSONString(configuration.broker.brokerDescription)
        out.append(", \"connected\": "); out.append(subscriber.connected ? "true" : "false")
        out.append(", \"group\": "); out.appendJSONString(configuration.group)
        out.append(", \"subscriptions\": [")
        for (k, t) in subscriber.topics.enumerated() { if k > 0 { out.append(", ") }; out.appendJSONString(t) }
        out.append("], \"vehicles\": "); out.appendDecimal(Int64(state.vehicles.count))
        out.append(", \"messages\": "); out.appendDecimal(messages)
        out.append(", \"malformed\": "); out.appendDecimal(malformed)
        out.append(", \"contexts\": "); out.appendDecimal(contexts)
        out.append(", \"duplicates\": "); out.appendDecimal(duplicates)
        out.append(", \"gaps\": "); out.appendDecimal(gaps)
        out.append(", \"last_error\": ")
        if subscriber.error.isEmpty { out.append("null") } else { out.appendJSONString(subscriber.error) }
        out.append("}\n")
        return out.string
    }

    func router() -> Router<BasicRequestContext> {
        let router = Router()
        if let token = configuration.token {
            router.add(middleware: FleetTokenMiddleware(token: Array(token.utf8)))
        }
        router.get("/healthz") { _, _ in Self.json(self.healthJSON(), status: self.subscriber.connected ? .ok : .serviceUnavailable) }
        router.get("/v1/vehicles") { _, _ in Self.json(self.vehiclesJSON()) }
        router.get("/v1/vehicles/{id}/context") { _, context in
            let id = context.parameters.get("id") ?? ""
            guard let v = self.state.vehicle(id), let c = v.context else { return Self.error(.notFound, "no context from vehicle '\(id)' yet") }
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: c)))
        }
        router.get("/v1/vehicles/{id}/context/stream") { _, context in
            let id = context.parameters.get("id") ?? ""
            let state = self.state
            return Response(status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"], body: ResponseBody { writer in
                let (changes, cancel) = state.changes(of: id)
                defer { cancel() }
                var sent: UInt64 = 0
                func send(_ writer: inout any ResponseBodyWriter) async throws {
                    guard let v = state.vehicle(id), let c = v.context, v.version != sent else { return }
                    sent = v.version
                    var out = Array("event: context\nid: \(v.seq)\ndata: ".utf8)
                    out += c
                    out += Array("\n\n".utf8)
                    try await writer.write(ByteBuffer(bytes: out))
                }
                try await send(&writer)
                for await _ in changes { try await send(&writer) }
                try await writer.finish(nil)
            })
        }
        return router
    }

    /// The consumer and its HTTP API as a service; `onListening` gets the port.
    public func makeService(onListening: @escaping @Sendable (Int) async -> Void = { _ in }) throws(UplinkConfiguration.Problem) -> some Service {
        try subscriber.start()
        return FleetService(app: Application(router: router(), configuration: .init(address: .hostname(configuration.host, port: configuration.port),
                                                                                    serverName: "vehicle-gateway-fleet"),
                                             onServerRunning: { await onListening($0.localAddress?.port ?? 0) }, logger: logger),
                            server: self)
    }

    func stop() {
        state.finishAll()
        subscriber.stop()
    }
}

struct FleetService<App: ApplicationProtocol>: Service {
    let app: App
    let server: FleetServer
    func run() async throws {
        try await withGracefulShutdownHandler { try await app.run() } onGracefulShutdown: { server.state.finishAll() }
        server.stop()
    }
}

struct FleetTokenMiddleware<Context: RequestContext>: RouterMiddleware {
    let token: [UInt8]
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let h = request.headers[.authorization], h.hasPrefix("Bearer "), Array(h.utf8.dropFirst(7)) == token else {
            return FleetServer.error(.unauthorized, "missing or wrong bearer token: send Authorization: Bearer <token>")
        }
        return try await next(request, context)
    }
}
