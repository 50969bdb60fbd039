import HTTPTypes
import Hummingbird

/// Who may read: every request carries `Authorization: Bearer <token>`, or, for a browser
/// (whose `EventSource` and `WebSocket` cannot send that header), the session cookie that
/// `POST /v1/session` gave in exchange for the token. The dashboard's page and scripts hold no
/// data and are served to anyone; what they fetch is checked here like any other request.
struct AccessMiddleware<Context: RequestContext>: RouterMiddleware {
    let token: [UInt8]
    let sessions: DashboardSessions
    /// False on the WebSocket router, where `/` is VISS, not the page.
    let servesPages: Bool

    init(token: String, sessions: DashboardSessions, servesPages: Bool) {
        self.token = Array(token.utf8)
        self.sessions = sessions
        self.servesPages = servesPages
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let path = request.uri.path
        if servesPages, request.method == .get, DashboardController.isPublic(path) { return try await next(request, context) }
        // Ending a session needs only the session: it is the browser's log-out.
        if servesPages, request.method == .delete, path == "/v1/session" { return try await next(request, context) }
        if let header = request.headers[.authorization] {
            guard header.hasPrefix("Bearer "), Self.equal(Array(header.utf8.dropFirst(7)), token) else {
                return Self.refuse("wrong bearer token")
            }
            return try await next(request, context)
        }
        // The cookie reads only (GET, the WebSocket upgrade included); MCP sessions and the
        // session exchange itself need the token. A request from another origin never counts.
        if request.method == .get, path != "/mcp", let id = DashboardSessions.cookie(in: request.headers), sessions.isValid(id),
           Self.sameOrigin(request) {
            return try await next(request, context)
        }
        return Self.refuse("missing bearer token: send Authorization: Bearer <token> (a browser: POST it to /v1/session for a session cookie)")
    }

    /// True without an `Origin` header (not a browser's cross-origin request) or when it names the
    /// host the request was sent to.
    static func sameOrigin(_ request: Request) -> Bool {
        guard let origin = request.headers[.origin] else { return true }
        guard let host = request.head.authority else { return false }
        return origin == "http://\(host)" || origin == "https://\(host)"
    }

    /// Compares without stopping at the first difference, so timing tells nothing.
    static func equal(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var diff = UInt8(a.count == b.count ? 0 : 1)
        for i in 0..<max(a.count, b.count) { diff |= (i < a.count ? a[i] : 0) ^ (i < b.count ? b[i] : 0) }
        return diff == 0
    }

    static func refuse(_ message: String) -> Response {
        Response(status: .unauthorized,
                 headers: [.wwwAuthenticate: "Bearer realm=\"vehicle-gateway\"", .contentType: "application/json"],
                 body: .init(byteBuffer: ByteBuffer(string: "{\"error\": {\"status\": 401, \"message\": \"\(message)\"}}\n")))
    }
}
