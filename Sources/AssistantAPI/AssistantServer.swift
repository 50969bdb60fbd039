import AccessControl
import CANBus
import Foundation
import Gateway
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import HummingbirdWebSocket
import HTTPTypes
import Logging
import NIOCore
import Prometheus
import ServiceLifecycle
import VehicleState

/// The one port the assistant connects to: HTTP JSON, Server-Sent Events, the VISS v2
/// WebSocket and MCP over Streamable HTTP, all read-only.
public final class AssistantServer: Sendable {
    public let configuration: APIConfiguration
    public let view: VehicleView
    public let gateway: Gateway
    public let metrics: GatewayMetrics
    public let mcp: MCPVehicleServer
    let sessions: MCPHTTPSessions
    let browserSessions = DashboardSessions()
    /// Who may read what, on every request (the gRPC API shares it).
    public let verifier: TokenVerifier
    let logger: Logger

    /// The API over a gateway's state; its streams are consumers of the gateway's change feed.
    /// `verifier` decides what each token reads (by default: the configuration's token, if any).
    public init(gateway: Gateway, configuration: APIConfiguration, verifier: TokenVerifier? = nil,
                registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry(), logger: Logger = Logger(label: "vehicle-gateway.api")) {
        self.configuration = configuration
        self.verifier = verifier ?? TokenVerifier(staticToken: configuration.token, keys: [], audience: configuration.jwtAudience)
        self.gateway = gateway
        view = VehicleView(state: gateway.state, locationDecimals: configuration.locationDecimals)
        metrics = GatewayMetrics(view: view, gateway: gateway, registry: registry)
        mcp = MCPVehicleServer(view: view, metrics: metrics)
        sessions = MCPHTTPSessions(factory: mcp, loopbackOnly: configuration.isLoopback)
        self.logger = logger
    }

    /// Refuses a configuration that would expose the API without a token.
    public static func validate(_ c: APIConfiguration) -> String? {
        if !c.isLoopback, c.token == nil, c.jwtKeyPaths.isEmpty {
            return "listening on \(c.host) (beyond loopback) requires a bearer token: pass --token or set api.token (or --jwt-key)"
        }
        if (c.tlsCertificatePath == nil) != (c.tlsKeyPath == nil) {
            return "TLS needs both a certificate chain (--tls-cert / api.tls_cert) and its key (--tls-key / api.tls_key)"
        }
        return nil
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

    func buildRouter() -> Router<GatewayRequestContext> {
        let router = Router(context: GatewayRequestContext.self)
        if verifier.requiresToken { router.add(middleware: AccessMiddleware(verifier: verifier, sessions: browserSessions, servesPages: true)) }
        router.add(middleware: MetricsMiddleware())
        let get: [HTTPRequest.Method] = [.get]
        router.add(middleware: MethodNotAllowedMiddleware(routes: [
            "/", "/viss", "/healthz", "/metrics", "/openapi.json", "/v1/context", "/v1/context/stream", "/v1/events", "/v1/events/stream", "/v1/signals",
            "/dashboard/config.json",
        ].map { .init(path: $0, parameterized: false, methods: get) } + [
            .init(path: "/v1/signals/", parameterized: true, methods: get),
            .init(path: "/dashboard/lib/", parameterized: true, methods: get),
            .init(path: "/dashboard/", parameterized: true, methods: get),
            .init(path: "/mcp", parameterized: false, methods: [.post, .get, .delete]),
            .init(path: "/v1/session", parameterized: false, methods: [.post, .delete]),
        ]))
        let view = self.view, metrics = self.metrics, sessions = self.sessions, limits = configuration
        DashboardController(configuration: configuration, sessions: browserSessions).addRoutes(to: router)
        router.get("/viss") { _, _ in
            Self.error(.upgradeRequired, "VISS is served over WebSocket here and at /: send Upgrade: websocket (subprotocol VISSv2)")
        }

        router.get("/healthz") { _, _ in
            let (healthy, body) = metrics.healthJSON()
            return Self.json(body, status: healthy ? .ok : .serviceUnavailable)
        }
        router.get("/metrics") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                     body: .init(byteBuffer: ByteBuffer(bytes: metrics.render())))
        }
        router.get("/v1/context") { _, context in Self.json(view.limited(to: context.access).contextJSON()) }
        router.get("/openapi.json") { _, _ in Self.json(OpenAPIDocument.json + "\n") }
        router.get("/v1/events") { request, context in
            let view = view.limited(to: context.access)
            guard view.isPermitted(name: VehicleView.eventsPath) else { return Self.error(.forbidden, view.refusal(VehicleView.eventsPath)) }
            let afterText = request.uri.queryParameters["after"].map(String.init)
            let limitText = request.uri.queryParameters["limit"].map(String.init)
            guard let after = afterText == nil ? 0 : UInt64(afterText!) else {
                return Self.error(.badRequest, "after must be an event id (a whole number), not '\(afterText ?? "")'")
            }
            guard let limit = limitText == nil ? VehicleEventLog.capacity : Int(limitText!), (1...VehicleEventLog.capacity).contains(limit) else {
                return Self.error(.badRequest, "limit must be 1 to \(VehicleEventLog.capacity), not '\(limitText ?? "")'")
            }
            return Self.json(view.eventsJSON(after: after, limit: limit))
        }
        router.get("/v1/events/stream") { request, context in
            let view = view.limited(to: context.access)
            guard view.isPermitted(name: VehicleView.eventsPath) else { return Self.error(.forbidden, view.refusal(VehicleView.eventsPath)) }
            // Resumes after Last-Event-ID (or ?after=ID); otherwise only events from now on.
            let resume = request.headers[HTTPField.Name("Last-Event-ID")!].flatMap { UInt64($0) }
                ?? request.uri.queryParameters["after"].flatMap { UInt64(String($0)) }
            return Response(status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"],
                            body: ResponseBody { writer in
                                try await Self.streamEvents(view: view, metrics: metrics, after: resume, writer: &writer)
                            })
        }
        router.get("/v1/signals") { request, context in
            let view = view.limited(to: context.access)
            let prefix = request.uri.queryParameters["prefix"].map(String.init)
            let paths = view.paths(under: prefix)
            if paths.isEmpty, let prefix { return Self.error(.notFound, "no VSS signal under '\(prefix)'") }
            let allowed = paths.filter(view.isPermitted)
            if allowed.isEmpty { return Self.error(.forbidden, view.refusal(prefix ?? "Vehicle")) }
            return Self.json(view.signalsJSON(allowed, withheld: paths.filter { !view.isPermitted($0) }))
        }
        router.get("/v1/signals/{path}") { _, context in
            let view = view.limited(to: context.access)
            let path = context.parameters.get("path") ?? ""
            guard let i = view.index(of: path) else { return Self.error(.notFound, view.unknownPathMessage(path)) }
            guard view.isPermitted(i) else { return Self.error(.forbidden, view.refusal(path)) }
            return Self.json(view.signalJSON(i))
        }
        router.get("/v1/context/stream") { request, context in
            let view = view.limited(to: context.access)
            let rateText = request.uri.queryParameters["max_rate"].map(String.init)
            guard let rate = rateText == nil ? 10 : Double(rateText!), rate > 0, rate <= 100, rate.isFinite else {
                return Self.error(.badRequest, "max_rate must be a number of events per second above 0 and at most 100, not '\(rateText ?? "")'")
            }
            return Response(status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"],
                            body: ResponseBody { writer in
                                try await Self.streamContext(view: view, metrics: metrics, interval: .seconds(1 / rate), writer: &writer)
                            })
        }
        for method in [HTTPRequest.Method.post, .get, .delete] {
            router.on("/mcp", method: method) { request, context in
                let mcpRequest: MCPRequestBox
                do { mcpRequest = MCPRequestBox(try await MCPHTTPBridge.request(request, maxBytes: limits.maxRequestBytes)) } catch {
                    return Self.error(.contentTooLarge, "request body over \(limits.maxRequestBytes) bytes")
                }
                return MCPHTTPBridge.response(await sessions.handle(mcpRequest.request, access: context.access))
            }
        }
        return router
    }

    /// The routes a WebSocket upgrade is offered to: VISS at `/` and `/viss`. A plain GET of `/`
    /// is the dashboard, served by the HTTP router.
    func buildWebSocketRouter() -> Router<GatewayRequestContext> {
        let router = Router(context: GatewayRequestContext.self)
        if verifier.requiresToken { router.add(middleware: AccessMiddleware(verifier: verifier, sessions: browserSessions, servesPages: false)) }
        let view = self.view, metrics = self.metrics, limits = configuration
        let ws: @Sendable (Request, GatewayRequestContext) async throws -> RouterShouldUpgrade = { request, _ in
            // Speak VISSv2 when offered; a client that offers only other subprotocols is refused.
            let offered = request.headers[values: .secWebSocketProtocol].flatMap { $0.split(separator: ",") }
                .map { $0.trimmingCharacters(in: .whitespaces) }
            if offered.isEmpty { return .upgrade([:]) }
            if offered.contains("VISSv2") { return .upgrade([.secWebSocketProtocol: "VISSv2"]) }
            return .dontUpgrade
        }
        for path in ["/", "/viss"] {
            router.ws(RouterPath(path), shouldUpgrade: ws) { inbound, outbound, context in
                let connection = VISSConnection(view: view.limited(to: context.requestContext.access), metrics: metrics, limits: limits,
                                                outbound: outbound)
                await connection.run(inbound: inbound)
            }
        }
        return router
    }

    /// Server-Sent Events: the context at once, then whenever it (or a part's state) changes,
    /// at most once per `interval` (the change feed coalesces); a comment line every 15 s
    /// without changes keeps proxies from closing it.
    static func streamContext(view: VehicleView, metrics: GatewayMetrics, interval: Duration,
                              writer: inout any ResponseBodyWriter) async throws {
        metrics.adjust(.sse, by: 1)
        defer { metrics.adjust(.sse, by: -1) }
        let changes = view.state.feed.subscribe(.contextOnly, minimumInterval: interval, heartbeat: .seconds(15))
        defer { changes.cancel() }
        var event: UInt64 = 0
        func send(_ writer: inout any ResponseBodyWriter) async throws {
            event += 1
            var out = TextBuffer(capacity: 512)
            out.append("event: context\nid: ")
            out.appendDecimal(event)
            out.append("\ndata: ")
            view.context().appendJSON(to: &out, withholding: view.withheldParts)  // ends with its newline
            out.append("\n")
            try await writer.write(ByteBuffer(bytes: out.bytes))
        }
        try await send(&writer)
        for await batch in changes {
            if batch.contextChanged { try await send(&writer) }
            else if batch.isHeartbeat { try await writer.write(ByteBuffer(string: ": keep-alive\n\n")) }
        }
        try await writer.finish(nil)
    }

    /// Server-Sent Events of the vehicle events (`event: vehicle-event`, `id:` the event id), as
    /// they happen; a comment line every 15 s keeps proxies from closing it.
    static func streamEvents(view: VehicleView, metrics: GatewayMetrics, after: UInt64?, writer: inout any ResponseBodyWriter) async throws {
        metrics.adjust(.sse, by: 1)
        defer { metrics.adjust(.sse, by: -1) }
        let log = view.state.tracked.events
        let changes = view.state.feed.subscribe(.contextOnly, minimumInterval: .milliseconds(20), heartbeat: .seconds(15))
        defer { changes.cancel() }
        var last = after ?? log.lastID
        func send(_ writer: inout any ResponseBodyWriter) async throws {
            let events = log.events(after: last)
            guard !events.isEmpty else { return }
            var out = TextBuffer(capacity: 128 * events.count)
            for e in events {
                out.append("event: vehicle-event\nid: ")
                out.appendDecimal(e.id)
                out.append("\ndata: ")
                VehicleView.appendEventJSON(e, to: &out)
                out.append("\n\n")
            }
            last = events.last!.id
            try await writer.write(ByteBuffer(bytes: out.bytes))
        }
        try await writer.write(ByteBuffer(string: ": vehicle events\n\n"))
        try await send(&writer)
        for await batch in changes {
            if batch.isHeartbeat { try await writer.write(ByteBuffer(string: ": keep-alive\n\n")) } else { try await send(&writer) }
        }
        try await writer.finish(nil)
    }

    public struct TLSSetupError: Error, CustomStringConvertible { public var description: String }

    /// The server TLS configuration from the PEM files, or nil for plain HTTP.
    func tlsConfiguration() throws(TLSSetupError) -> TLSConfiguration? {
        guard let certPath = configuration.tlsCertificatePath, let keyPath = configuration.tlsKeyPath else { return nil }
        do {
            let chain = try NIOSSLCertificate.fromPEMFile(certPath)
            guard !chain.isEmpty else { throw TLSSetupError(description: "no certificate in \(certPath)") }
            let key = try NIOSSLPrivateKey(file: keyPath, format: .pem)
            return TLSConfiguration.makeServerConfiguration(certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        } catch let e as TLSSetupError {
            throw e
        } catch {
            throw TLSSetupError(description: "cannot load the TLS certificate \(certPath) or key \(keyPath): \(error)")
        }
    }

    /// The HTTP server as a service (run it in a ServiceGroup); `onListening` gets the port.
    /// Throws when TLS is asked for and its files cannot be loaded.
    public func makeService(onListening: @escaping @Sendable (Int) async -> Void = { _ in }) throws(TLSSetupError) -> some Service {
        let router = buildRouter()
        // HTTP/1 with the WebSocket upgrade (VISS), behind TLS when configured, with a deadline
        // for the first bytes and Hummingbird's idle timeout between requests.
        let webSocketResponder = buildWebSocketRouter().buildResponder()
        let idle = TimeAmount.nanoseconds(Int64(configuration.idleConnectionSeconds * 1e9))
        let channelConfiguration = HTTP1WebSocketUpgradeChannel.Configuration(
            http1: .init(idleTimeout: idle),
            ws: .init(maxFrameSize: configuration.maxWebSocketMessageBytes, closeTimeout: .seconds(2)))
        let tls = try tlsConfiguration()
        if let tls {
            // Checked here so a bad certificate stops start-up with its reason.
            do { _ = try TLSChannel(FirstRequestDeadline(inner: Self.plainChannel({ _, _, _ in }, webSocketResponder, channelConfiguration), timeout: idle), tlsConfiguration: tls) } catch {
                throw TLSSetupError(description: "cannot set up TLS: \(error)")
            }
        }
        let server = HTTPServerBuilder { responder in
            let deadline = FirstRequestDeadline(inner: Self.plainChannel(responder, webSocketResponder, channelConfiguration), timeout: idle)
            if let tls { return try TLSChannel(deadline, tlsConfiguration: tls) }
            return deadline
        }
        return Application(
            router: router,
            server: server,
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "vehicle-gateway",
                                 availableConnectionsDelegate: MaximumAvailableConnections(configuration.maxConnections)),
            onServerRunning: { channel in await onListening(channel.localAddress?.port ?? 0) },
            logger: logger)
    }

    static func plainChannel<R: HTTPResponder>(
        _ responder: @escaping HTTPChannelHandler.Responder, _ webSocketResponder: R, _ configuration: HTTP1WebSocketUpgradeChannel.Configuration
    ) -> HTTP1WebSocketUpgradeChannel where R.Context: WebSocketRequestContext {
        HTTP1WebSocketUpgradeChannel(responder: responder, webSocketResponder: webSocketResponder, configuration: configuration)
    }

    /// Ends every stream (they are change-feed subscriptions) and MCP session.
    public func shutdown() async {
        gateway.state.feed.stop()
        await sessions.closeAll()
    }
}

/// Lets an MCP request cross into the sessions actor.
struct MCPRequestBox: Sendable {
    let request: MCPHTTPRequest
    init(_ r: MCPHTTPRequest) { request = r }
}
