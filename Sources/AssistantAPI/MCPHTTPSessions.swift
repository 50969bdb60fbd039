import AccessControl
import Foundation
import Logging
import MCP

/// MCP over Streamable HTTP at `/mcp`: one `StatefulHTTPServerTransport` and `Server` per
/// session (the `Mcp-Session-Id` header), created by an `initialize` request, ended by DELETE
/// or after sitting idle. The number of sessions is bounded, and a full table never locks a
/// client out: a new session evicts a half-open one (initialize never followed up) first, else
/// the least recently used. Half-open sessions also expire after `halfOpenTimeout`.
actor MCPHTTPSessions {
    struct Session {
        var server: Server
        var transport: StatefulHTTPServerTransport
        var lastUsed: ContinuousClock.Instant
        /// A request came after `initialize`: the client finished the handshake.
        var initialized = false
        /// What the token that opened it may read: every later request must read the same.
        var access: Access
    }

    let factory: MCPVehicleServer
    let validation: any HTTPRequestValidationPipeline
    let maxSessions: Int
    let idleTimeout: Duration
    let halfOpenTimeout: Duration
    var sessions: [String: Session] = [:]
    /// Sessions ended to make room for new ones (for /metrics and the log).
    private(set) var evicted = 0

    init(factory: MCPVehicleServer, loopbackOnly: Bool, maxSessions: Int = 32, idleTimeout: Duration = .seconds(600),
         halfOpenTimeout: Duration = .seconds(10)) {
        self.factory = factory
        // DNS-rebinding protection where it matters (a browser on this machine); beyond
        // loopback the bearer token guards every request instead.
        validation = StandardValidationPipeline(validators: [
            loopbackOnly ? OriginValidator.localhost() : OriginValidator.disabled,
            AcceptHeaderValidator(mode: .sseRequired),
            ContentTypeValidator(),
            ProtocolVersionValidator(),
            SessionValidator(),
        ])
        self.maxSessions = maxSessions
        self.idleTimeout = idleTimeout
        self.halfOpenTimeout = halfOpenTimeout
    }

    struct FixedSessionID: SessionIDGenerator {
        let id: String
        func generateSessionID() -> String { id }
    }

    func handle(_ request: MCPHTTPRequest, access: Access = .everything) async -> MCPHTTPResponse {
        expireIdle()
        let sessionID = request.header(HTTPHeaderName.sessionID)
        if let sessionID, let session = sessions[sessionID] {
            // A session reads what its opener's token reads; another token cannot borrow it.
            guard session.access == access else {
                return .error(statusCode: 403, .invalidRequest("this MCP session was opened with a token of other scopes"))
            }
            sessions[sessionID]?.lastUsed = .now
            sessions[sessionID]?.initialized = true
            let response = await session.transport.handleRequest(request)
            if request.method.uppercased() == "DELETE", response.statusCode == 200 {
                sessions.removeValue(forKey: sessionID)
                await session.server.stop()
            }
            return response
        }
        if request.method.uppercased() == "POST", let body = request.body, Self.isInitialize(body) {
            if sessions.count >= maxSessions { evictOne() }
            let id = UUID().uuidString
            let transport = StatefulHTTPServerTransport(sessionIDGenerator: FixedSessionID(id: id), validationPipeline: validation)
            let server = await factory.limited(to: access).makeServer()
            do { try await server.start(transport: transport) } catch {
                return .error(statusCode: 500, .internalError("could not start the MCP session: \(error)"))
            }
            sessions[id] = Session(server: server, transport: transport, lastUsed: .now, access: access)
            let response = await transport.handleRequest(request)
            if case .error = response {
                sessions.removeValue(forKey: id)
                await server.stop()
            }
            return response
        }
        if sessionID != nil {
            return .error(statusCode: 404, .invalidRequest("Not Found: unknown or expired MCP session; initialize a new one"))
        }
        return .error(statusCode: 400, .invalidRequest("Bad Request: missing \(HTTPHeaderName.sessionID) header (send initialize first)"))
    }

    static func isInitialize(_ body: Data) -> Bool {
        guard let object = try? JSONSerialization.jsonObject(with: body) as? [String: Any] else { return false }
        return object["method"] as? String == "initialize" && object["id"] != nil
    }

    func expireIdle() {
        let now = ContinuousClock.now
        for (id, s) in sessions where now - s.lastUsed > (s.initialized ? idleTimeout : halfOpenTimeout) {
            end(id)
        }
    }

    /// Makes room: the oldest half-open session, else the least recently used one.
    func evictOne() {
        let victim = sessions.min { a, b in
            if a.value.initialized != b.value.initialized { return !a.value.initialized }
            return a.value.lastUsed < b.value.lastUsed
        }
        if let victim {
            evicted += 1
            end(victim.key)
        }
    }

    func end(_ id: String) {
        guard let s = sessions.removeValue(forKey: id) else { return }
        Task { await s.server.stop() }
    }

    func closeAll() async {
        for s in sessions.values { await s.server.stop() }
        sessions.removeAll()
    }
}
