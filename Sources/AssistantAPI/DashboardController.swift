import CANBus
import Foundation
import HTTPTypes
import Hummingbird

/// The dashboard's routes: the page and its own scripts (embedded in the binary), the libraries
/// it uses (Leaflet and Chart.js, read from a directory so an ECU image takes them from Debian's
/// packages), its configuration, and the exchange of the bearer token for a session cookie.
struct DashboardController {
    let configuration: APIConfiguration
    let sessions: DashboardSessions

    /// The libraries the page loads, by the name it asks for → the file under the library
    /// directory (Debian's layout) and the package that installs it.
    static let libraries: [String: (file: String, type: String, package: String)] = [
        "leaflet.js": ("leaflet/leaflet.min.js", "text/javascript; charset=utf-8", "libjs-leaflet"),
        "leaflet.css": ("leaflet/leaflet.css", "text/css; charset=utf-8", "libjs-leaflet"),
        "chart.js": ("chart.js/chart.min.js", "text/javascript; charset=utf-8", "libjs-chart.js"),
    ]

    /// The page and scripts hold no vehicle data: anyone may load them (the data needs the token).
    static func isPublic(_ path: String) -> Bool {
        path == "/" || (path.hasPrefix("/dashboard/") && path != "/dashboard/config.json")
    }

    func addRoutes(to router: Router<GatewayRequestContext>) {
        let configuration = self.configuration, sessions = self.sessions
        router.get("/") { _, _ in Self.page(DashboardFiles.indexHTML, type: "text/html; charset=utf-8") }
        router.get("/dashboard/config.json") { _, _ in
            var out = TextBuffer(capacity: 128)
            out.append("{\"map_tiles\": ")
            if let t = configuration.mapTiles { out.appendJSONString(t) } else { out.append("null") }
            out.append(", \"location_decimals\": ")
            if let d = configuration.locationDecimals { out.appendDecimal(Int64(d)) } else { out.append("null") }
            out.append(", \"token_required\": ")
            out.append(configuration.token == nil ? "false" : "true")
            out.append("}\n")
            return AssistantServer.json(out.string)
        }
        router.get("/dashboard/{file}") { _, context in
            switch context.parameters.get("file") ?? "" {
            case "dashboard.js": return Self.page(DashboardFiles.script, type: "text/javascript; charset=utf-8")
            case "dashboard.css": return Self.page(DashboardFiles.style, type: "text/css; charset=utf-8")
            case let name: return AssistantServer.error(.notFound, "no dashboard file '\(name)': the page is / and its files are dashboard.js and dashboard.css")
            }
        }
        router.get("/dashboard/lib/{file}") { request, context in
            let name = context.parameters.get("file") ?? ""
            guard let lib = Self.libraries[name] else {
                return AssistantServer.error(.notFound, "no dashboard library '\(name)': served are \(Self.libraries.keys.sorted().joined(separator: ", "))")
            }
            let path = configuration.webLibraryDirectory + "/" + lib.file
            // Debian ships Leaflet precompressed too: a browser that takes gzip gets a quarter.
            let gzip = request.headers[.acceptEncoding].map { $0.contains("gzip") } ?? false
            if gzip, let data = FileManager.default.contents(atPath: path + ".gz") {
                return Response(status: .ok, headers: [.contentType: lib.type, .contentEncoding: "gzip", .vary: "Accept-Encoding",
                                                       .cacheControl: "max-age=86400"],
                                body: .init(byteBuffer: ByteBuffer(bytes: data)))
            }
            guard let data = FileManager.default.contents(atPath: path) else {
                return AssistantServer.error(.notFound, "\(name) is not installed: expected \(path) (Debian package \(lib.package), or set --web-lib-dir)")
            }
            return Response(status: .ok, headers: [.contentType: lib.type, .vary: "Accept-Encoding", .cacheControl: "max-age=86400"],
                            body: .init(byteBuffer: ByteBuffer(bytes: data)))
        }
        // The token (checked by AccessMiddleware like on any request) for a session cookie.
        router.post("/v1/session") { _, context in
            let id = sessions.create(access: context.access)
            var response = AssistantServer.json("{\"session\": \"created\", \"expires_in_s\": \(DashboardSessions.lifetimeSeconds)}\n")
            response.headers[.setCookie] = DashboardSessions.setCookie(id, secure: configuration.usesTLS)
            response.headers[.cacheControl] = "no-store"
            return response
        }
        router.delete("/v1/session") { request, _ in
            if let id = DashboardSessions.cookie(in: request.headers) { sessions.remove(id) }
            var response = Response(status: .noContent)
            response.headers[.setCookie] = DashboardSessions.setCookie("", secure: configuration.usesTLS)
            return response
        }
    }

    static func page(_ text: String, type: String) -> Response {
        Response(status: .ok, headers: [.contentType: type, .cacheControl: "no-cache",
                                        HTTPField.Name("X-Content-Type-Options")!: "nosniff",
                                        HTTPField.Name("Content-Security-Policy")!: contentSecurityPolicy],
                 body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    /// Only the gateway's own scripts run; images may come from a configured tile server.
    static let contentSecurityPolicy = "default-src 'self'; img-src 'self' data: https: http:; style-src 'self' 'unsafe-inline'; object-src 'none'; frame-ancestors 'none'"
}
