import AccessControl
import HTTPTypes
import Hummingbird

/// Who may read what: every request carries `Authorization: Bearer <token>` — the API's own
/// token (everything) or a JWT whose scopes say what it may read (`TokenVerifier`) — or, for a
/// browser (whose `EventSource` and `WebSocket` cannot send that header), the session cookie
/// that `POST /v1/session` gave in exchange for a token, with that token's access. The
/// dashboard's page and scripts hold no data and are served to anyone; what they fetch is
/// checked here like any other request.
struct AccessMiddleware: RouterMiddleware {
    typealias Context = GatewayRequestContext
    let verifier: TokenVerifier
    let sessions: DashboardSessions
    /// False on the WebSocket router, where `/` is VISS, not the page.
    let servesPages: Bool

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let path = request.uri.path
        if servesPages, request.method == .get, DashboardController.isPublic(path) { return try await next(request, context) }
        // Ending a session needs only the session: it is the browser's log-out.
        if servesPages, request.method == .delete, path == "/v1/session" { return try await next(request, context) }
        if let header = request.headers[.authorization] {
            switch await verifier.access(authorization: header) {
            case .success(let access):
                var c = context
                c.access = access
                return try await next(request, c)
            case .failure(let refusal):
                return Self.refuse(refusal.description, invalidToken: true)
            }
        }
        // The cookie reads only (GET, the WebSocket upgrade included); MCP sessions and the
        // session exchange itself need the token. A request from another origin never counts.
        if request.method == .get, path != "/mcp", let id = DashboardSessions.cookie(in: request.headers),
           let access = sessions.access(id), Self.sameOrigin(request) {
            var c = context
            c.access = access
            return try await next(request, c)
        }
        return Self.refuse("missing bearer token: send Authorization: Bearer <token> (a browser: POST it to /v1/session for a session cookie)",
                           invalidToken: false)
    }

    /// True without an `Origin` header (not a browser's cross-origin request) or when it names the
    /// host the request was sent to.
    static func sameOrigin(_ request: Request) -> Bool {
        guard let origin = request.headers[.origin] else { return true }
        guard let host = request.head.authority else { return false }
        return origin == "http://\(host)" || origin == "https://\(host)"
    }

    /// 401 with the reason, in the body and (RFC 6750) in `WWW-Authenticate`.
    static func refuse(_ message: String, invalidToken: Bool) -> Response {
        var challenge = "Bearer realm=\"vehicle-gateway\""
        if invalidToken { challenge += ", error=\"invalid_token\", error_description=\"\(message.replacingOccurrences(of: "\"", with: "'"))\"" }
        var response = AssistantServer.error(.unauthorized, message)
        response.headers[.wwwAuthenticate] = challenge
        return response
    }
}
