/// How the KUKSA-compatible gRPC API (kuksa.val.v2) listens, and the limits it holds its
/// clients to (the same kinds of limits as the HTTP API's).
public struct KuksaConfiguration: Sendable {
    public var host = "127.0.0.1"
    /// KUKSA Databroker's port.
    public var port = 55555
    public var tlsCertificatePath: String?
    public var tlsKeyPath: String?
    public var usesTLS: Bool { tlsCertificatePath != nil }
    /// Open connections at most; the next is closed at once.
    public var maxConnections = 128
    /// A connection must send the HTTP/2 preface (24 bytes; with TLS, its handshake) within this.
    public var prefaceSeconds = 5.0
    /// ...and start a first RPC within this, so idle sockets cannot hold the connection limit.
    public var firstCallSeconds = 30.0
    /// A connection with no RPC open for this long is closed (gRPC clients reconnect by themselves).
    public var idleSeconds = 300.0
    /// The largest request message.
    public var maxRequestBytes = 64 * 1024
    /// Open subscriptions at most, over all connections.
    public var maxSubscriptions = 256
    /// KUKSA's MAX_BUFFER_SIZE and MAX_REQUEST_PATH_LENGTH.
    public var maxBufferSize = 1000
    public var maxPathLength = 1000
    /// Give out latitude/longitude rounded to this many decimals (the API's setting).
    public var locationDecimals: Int?

    public init() {}
}
