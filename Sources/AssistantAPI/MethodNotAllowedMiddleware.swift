import HTTPTypes
import Hummingbird

/// A known path asked with a method it does not serve is `405 Method Not Allowed` with the
/// `Allow` header (RFC 9110), not the router's 404 for an unknown path.
struct MethodNotAllowedMiddleware<Context: RequestContext>: RouterMiddleware {
    struct Route: Sendable {
        /// The path, or for a path with a parameter at its end the part before it ("/v1/signals/").
        var path: String
        var parameterized: Bool
        var methods: [HTTPRequest.Method]
    }
    let routes: [Route]

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let path = request.uri.path
        let route = routes.first { $0.parameterized ? path.hasPrefix($0.path) && path.count > $0.path.count : path == $0.path }
        guard let route, !route.methods.contains(request.method) else { return try await next(request, context) }
        let allow = route.methods.map(\.rawValue).joined(separator: ", ")
        return Response(status: .methodNotAllowed, headers: [.allow: allow, .contentType: "application/json"],
                        body: .init(byteBuffer: ByteBuffer(string: "{\"error\": {\"status\": 405, \"message\": \"\(request.method.rawValue.filter { $0.isLetter }) is not served at this path; it serves \(allow)\"}}\n")))
    }
}
