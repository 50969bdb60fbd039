import Foundation

/// Where and how the driving context leaves the car: an MQTT broker (`mqtt://HOST:PORT`, or
/// `mqtts://` for TLS), as this vehicle, outbound only.
public struct UplinkConfiguration: Sendable {
    public var host: String
    public var port: Int
    public var usesTLS: Bool
    public var vehicleID: String
    /// The MQTT client id; a persistent session is keyed by it (default `vehicle-gateway-<vehicle id>`).
    public var clientID: String
    public var username: String?
    public var password: String?
    /// TLS: the CA that signed the broker's certificate, and this vehicle's certificate and key
    /// (mutual TLS, as AWS IoT Core and Azure IoT Hub require).
    public var caFile: String?
    public var certFile: String?
    public var keyFile: String?
    public var keepAliveSeconds = 30
    /// How long the broker keeps the session (and QoS 1 messages for it) while the car is offline.
    public var sessionExpirySeconds: UInt32 = 7 * 24 * 3600
    /// Context messages: on change at most this many a second, and at least every `heartbeatSeconds`.
    public var maxRate = 2.0
    public var heartbeatSeconds = 30.0
    public var location: LocationPolicy = .exact
    /// Where the per-topic sequence numbers are kept across restarts.
    public var stateDirectory: String
    /// Messages held while the broker cannot be reached, in bytes of payload; the least
    /// important (then the oldest) go first.
    public var maxQueueBytes = 8 * 1024 * 1024
    /// When the queue's journal reaches the disk: `never` (the page cache: survives a killed
    /// gateway, not a power cut), `interval` (at most a second late; the default), `always`
    /// (each message before it is sent).
    public var journalSync: JournalSync = .interval
    public enum JournalSync: String, Sendable, CaseIterable { case never, interval, always }
    /// The context messages' priority (0 most important, 9 least) and how long they are worth
    /// sending (nil: until sent).
    public var contextPriority: UInt8 = 5
    public var contextTTLSeconds: Double?
    /// How messages are encoded: JSON, or protobuf (`Protos/vehicle_gateway/uplink.proto`).
    public var encoding: Encoding = .json
    public enum Encoding: String, Sendable, CaseIterable { case json, protobuf }
    /// Reconnect delay: doubles from the first to the cap, with ±25 % jitter.
    public var reconnectFirstSeconds = 0.5
    public var reconnectMaxSeconds = 30.0

    /// What the uplink says of the position, independent of the local API's setting.
    public enum LocationPolicy: Sendable, Equatable {
        case exact, rounded(Int), off

        /// `exact`, `rounded:N` (N decimals, 0 to 8) or `off`.
        public init?(_ text: String) {
            switch text {
            case "exact": self = .exact
            case "off": self = .off
            default:
                guard text.hasPrefix("rounded:"), let n = Int(text.dropFirst(8)), (0...8).contains(n) else { return nil }
                self = .rounded(n)
            }
        }
    }

    public struct Problem: Error, CustomStringConvertible {
        public var description: String
        public init(description: String) { self.description = description }
    }

    /// From `mqtt://HOST[:PORT]` or `mqtts://HOST[:PORT]` (1883 and 8883 by default).
    public init(url: String, vehicleID: String, stateDirectory: String) throws(Problem) {
        let scheme: String, rest: Substring
        if url.hasPrefix("mqtt://") { scheme = "mqtt"; rest = url.dropFirst(7) }
        else if url.hasPrefix("mqtts://") { scheme = "mqtts"; rest = url.dropFirst(8) }
        else { throw Problem(description: "the uplink must be mqtt://HOST[:PORT] or mqtts://HOST[:PORT], not '\(url)'") }
        let authority = rest.hasSuffix("/") ? rest.dropLast() : rest
        guard !authority.isEmpty, !authority.contains("/"), !authority.contains("@") else {
            throw Problem(description: "the uplink URL '\(url)' must name only the broker's host and port (credentials go in --uplink-username and --uplink-password-file)")
        }
        var host = String(authority), port = scheme == "mqtts" ? 8883 : 1883
        if authority.hasPrefix("[") {  // [v6]:port
            guard let close = authority.firstIndex(of: "]") else { throw Problem(description: "unclosed '[' in the uplink URL '\(url)'") }
            host = String(authority[authority.index(after: authority.startIndex)..<close])
            let after = authority[authority.index(after: close)...]
            if after.hasPrefix(":") {
                guard let p = Int(after.dropFirst()), (1...65535).contains(p) else { throw Problem(description: "the uplink port in '\(url)' must be 1 to 65535") }
                port = p
            }
        } else if let colon = authority.lastIndex(of: ":") {
            guard let p = Int(authority[authority.index(after: colon)...]), (1...65535).contains(p) else {
                throw Problem(description: "the uplink port in '\(url)' must be 1 to 65535")
            }
            host = String(authority[..<colon])
            port = p
        }
        guard !host.isEmpty else { throw Problem(description: "the uplink URL '\(url)' has no host") }
        guard Self.isTopicSafe(vehicleID) else {
            throw Problem(description: "the vehicle id '\(vehicleID)' must be 1 to 64 letters, digits, '-', '_' or '.' (it is part of every topic)")
        }
        self.host = host
        self.port = port
        usesTLS = scheme == "mqtts"
        self.vehicleID = vehicleID
        clientID = "vehicle-gateway-\(vehicleID)"
        self.stateDirectory = stateDirectory
    }

    /// No MQTT wildcard (`+`, `#`), level separator or control character can enter a topic.
    public static func isTopicSafe(_ id: String) -> Bool {
        !id.isEmpty && id.utf8.count <= 64 && id.utf8.allSatisfy { c in
            (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x2D || c == 0x5F || c == 0x2E
        }
    }

    public var statusTopic: String { "vehicles/\(vehicleID)/status" }
    public var contextTopic: String { "vehicles/\(vehicleID)/context" }
    public var brokerDescription: String { "\(usesTLS ? "mqtts" : "mqtt")://\(host):\(port)" }
}
