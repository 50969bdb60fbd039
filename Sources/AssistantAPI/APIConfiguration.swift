/// How the assistant API listens and what it allows.
public struct APIConfiguration: Sendable {
    public var host = "127.0.0.1"
    /// 0 picks a free port (printed at start-up).
    public var port = 8080
    /// Required on every request when set (it reads everything); a token or a JWT key must be
    /// set to listen beyond loopback.
    public var token: String?
    /// Public keys (PEM) whose signed JWTs are accepted with the scopes they carry
    /// (`AccessControl.TokenVerifier`), and the audience those must name.
    public var jwtKeyPaths: [String] = []
    public var jwtAudience: String? = "kuksa.val"
    /// Decimal places of latitude and longitude given out (nil: exact). 3 ≈ 110 m, 2 ≈ 1.1 km.
    public var locationDecimals: Int?
    public var maxRequestBytes = 64 * 1024
    public var maxWebSocketMessageBytes = 16 * 1024
    public var maxConnections = 256
    /// A connection with no request in progress (one that never sends one, or a kept-alive
    /// one between requests) is closed after this long, so idle sockets cannot hold every
    /// connection slot. Streams (SSE, WebSocket) are requests in progress and stay.
    public var idleConnectionSeconds = 5.0
    public var maxSubscriptionsPerConnection = 64
    /// A client whose socket accepts nothing for this long is disconnected.
    public var slowClientSeconds = 5.0
    /// TLS: the certificate chain and its private key (PEM files). Plain HTTP when nil.
    public var tlsCertificatePath: String?
    public var tlsKeyPath: String?
    public var usesTLS: Bool { tlsCertificatePath != nil }
    /// The dashboard's libraries are read from here: Debian's libjs-leaflet and libjs-chart.js
    /// install them under /usr/share/javascript (leaflet/, chart.js/).
    public var webLibraryDirectory = "/usr/share/javascript"
    /// A map tile URL template ({z}/{x}/{y}) the dashboard's browser may fetch; nil: none is
    /// fetched and the track is drawn on a grid.
    public var mapTiles: String?

    public init() {}

    /// Loopback addresses need no token; anything else does.
    public var isLoopback: Bool {
        host == "127.0.0.1" || host == "::1" || host == "localhost" || host.hasPrefix("127.")
    }

    /// Parses `HOST:PORT`, `[V6]:PORT` or `:PORT`.
    public static func parseListen(_ text: String) -> (host: String, port: Int)? {
        let host: Substring, portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else { return nil }
            host = text[text.index(after: text.startIndex)..<close]
            portText = text[text.index(close, offsetBy: 2)...]
        } else {
            guard let colon = text.lastIndex(of: ":") else { return nil }
            host = text[..<colon].isEmpty ? "127.0.0.1" : text[..<colon]
            portText = text[text.index(after: colon)...]
        }
        guard let port = Int(portText), (0...65535).contains(port) else { return nil }
        return (String(host), port)
    }
}
