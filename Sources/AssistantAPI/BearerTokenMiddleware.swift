import Hummingbird

/// Every request (HTTP, the WebSocket upgrade, MCP) must carry `Authorization: Bearer <token>`.
struct BearerTokenMiddleware<Context: RequestContext>: RouterMiddleware {
    let token: [UInt8]

    init(token: String) { self.token = Array(token.utf8) }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let header = request.headers[.authorization]
        guard let header else { return Self.refuse("missing bearer token: send Authorization: Bearer <token>") }
        guard header.hasPrefix("Bearer "), Self.equal(Array(header.utf8.dropFirst(7)), token) else {
            return Self.refuse("wrong bearer token")
        }
        return try await next(request, context)
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
