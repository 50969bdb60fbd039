import CANBus
import Foundation
import VehicleState
import Yams

/// `run --config FILE`: sources, mapping, API and logging in one YAML file. Every problem is
/// collected and reported together, each as `file:line:column: error: ...`; paths in it are
/// relative to the file. Command-line flags override what it says.
///
///     mapping: car.yaml
///     sources:
///       interfaces: [can0, can1]       # live SocketCAN, or:
///       replay: [drive.log]            # candump logs
///       speed: 1.0                     # replay speed factor
///       loop: 0                        # replay passes, 0 = forever
///       fast: false                    # replay as fast as possible
///       buses: {can3: powertrain}      # interfaces the mapping does not name, assigned to buses
///     api:
///       listen: 127.0.0.1:8080
///       token_file: /etc/vehicle-gateway/token   # or token: ...
///       jwt_keys: [/etc/vehicle-gateway/assistant.pub.pem]   # scoped JWTs (RS256, ES256)
///       jwt_audience: kuksa.val                  # the aud they must name (none: not checked)
///       location_decimals: 3
///       tls_cert: /etc/vehicle-gateway/cert.pem   # with tls_key: HTTPS and WSS
///       web_lib_dir: /usr/share/javascript        # the dashboard's Leaflet and Chart.js
///       map_tiles: https://tile.openstreetmap.org/{z}/{x}/{y}.png   # none by default
///     grpc:                            # the KUKSA-compatible gRPC API (kuksa.val.v2)
///       listen: 127.0.0.1:55555        # or none
///       tls_cert: /etc/vehicle-gateway/cert.pem   # with tls_key (default: the API's)
///     uplink:                          # the fleet uplink (MQTT); see the README
///       url: mqtts://broker.example:8883
///       vehicle_id: car-1
///       ca_file: /etc/vehicle-gateway/broker-ca.pem   # cert_file, key_file: mutual TLS
///       max_rate: 2                    # context messages a second at most; heartbeat_s: 30
///       location: rounded:3            # exact, rounded:N or off
///     log:
///       level: info                    # trace debug info notice warning error critical
///       format: json                   # text or json
///     status: false                    # the live status line
public struct GatewayConfigFile: Sendable {
    public var mapping: String?
    public var interfaces: [String] = []
    public var replay: [String] = []
    public var speed: Double?
    public var loop: Int?
    public var fast: Bool?
    /// Interface → bus name, for interfaces the mapping does not name.
    public var busAssignments: [String: String] = [:]
    public var listen: String?
    public var token: String?
    public var tokenFile: String?
    /// `api.jwt_keys`: public keys (PEM) of scoped JWTs; `api.jwt_audience`.
    public var jwtKeys: [String] = []
    public var jwtAudience: String?
    public var locationDecimals: Int?
    public var tlsCert: String?
    public var tlsKey: String?
    /// Where the dashboard's libraries (Leaflet, Chart.js) are read from.
    public var webLibraryDirectory: String?
    /// A map tile URL template for the dashboard ({z}/{x}/{y}); none: the track on a grid.
    public var mapTiles: String?
    /// The fleet uplink (`uplink:`); the executable checks the values it cannot check here.
    public var uplink = Uplink()
    /// `grpc:`: where the kuksa.val.v2 API listens ("none": off), and its TLS files.
    public var grpcListen: String?
    public var grpcTLSCert: String?
    public var grpcTLSKey: String?
    public var logLevel: String?
    public var logFormat: String?
    public var status: Bool?

    public init() {}

    /// `uplink:`: the broker, this vehicle, credentials and TLS files, rates, privacy.
    public struct Uplink: Sendable {
        public var url: String?
        public var vehicleID: String?
        public var clientID: String?
        public var username: String?
        public var passwordFile: String?
        public var caFile: String?
        public var certFile: String?
        public var keyFile: String?
        public var keepAliveSeconds: Int?
        public var maxRate: Double?
        public var heartbeatSeconds: Double?
        public var location: String?
        public var stateDirectory: String?
        public var maxQueueMiB: Double?
        public var campaignsFile: String?
        public var fsync: String?
        public var encoding: String?
        public var contextPriority: Int?
        public var contextTTLSeconds: Double?
        public init() {}
    }

    /// The file's configuration; every problem in it at once, in file order.
    public static func load(path: String) throws(Diagnostics) -> GatewayConfigFile {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw Diagnostics([Diagnostic(file: path, line: 0, column: 0, message: "cannot read the configuration file")])
        }
        let (config, errors) = parse(text, fileName: path)
        if !errors.isEmpty { throw Diagnostics(errors) }
        return config
    }

    static let sections: [String: [String]] = [
        "": ["mapping", "sources", "api", "grpc", "uplink", "log", "status"],
        "grpc": ["listen", "tls_cert", "tls_key"],
        "uplink": ["url", "vehicle_id", "client_id", "username", "password_file", "ca_file", "cert_file", "key_file", "keepalive_s",
                   "max_rate", "heartbeat_s", "location", "state_dir", "max_queue_mb", "campaigns", "fsync", "encoding",
                   "context_priority", "context_ttl_s"],
        "sources": ["interfaces", "replay", "speed", "loop", "fast", "buses"],
        "api": ["listen", "token", "token_file", "jwt_keys", "jwt_audience", "location_decimals", "tls_cert", "tls_key", "web_lib_dir", "map_tiles"],
        "log": ["level", "format"],
    ]

    /// The configuration, and its problems.
    public static func parse(_ text: String, fileName: String) -> (GatewayConfigFile, [Diagnostic]) {
        var c = GatewayConfigFile()
        var errors: [Diagnostic] = []
        let base = URL(fileURLWithPath: fileName).deletingLastPathComponent()
        func fail(_ n: Node?, _ m: String) {
            errors.append(Diagnostic(file: fileName, line: n?.mark?.line ?? 1, column: n?.mark?.column ?? 1, message: m))
        }
        func file(_ n: Node, _ what: String, mustExist: Bool = true) -> String? {
            guard let s = n.string, !s.isEmpty else { fail(n, "\(what) must be a file path"); return nil }
            let p = s.hasPrefix("/") || s == "-" ? s : base.appendingPathComponent(s).path
            if mustExist, p != "-", !FileManager.default.isReadableFile(atPath: p) { fail(n, "\(what): cannot read '\(s)' (looked for \(p))") }
            return p
        }
        func strings(_ n: Node, _ what: String) -> [String] {
            if let s = n.scalar?.string { return [s] }
            if let list = n.sequence { return list.compactMap { item in item.string ?? { fail(item, "\(what): expected a name"); return nil }() } }
            fail(n, "\(what) must be a name or a list of names")
            return []
        }
        func section(_ n: Node, _ name: String) -> [(Node, Node)] {
            guard let m = n.mapping else { fail(n, "'\(name)' must be a mapping of \(sections[name]!.joined(separator: ", "))"); return [] }
            return m.map { ($0.key, $0.value) }.filter { key, _ in
                guard let k = key.string, sections[name]!.contains(k) else {
                    let k = key.string ?? "?"
                    let near = VSSCatalog.closest(to: k, among: sections[name]!)
                    fail(key, "unknown key '\(k)' in \(name.isEmpty ? "the configuration" : "'\(name)'")" + (near.map { "; did you mean '\($0)'?" } ?? "; expected \(sections[name]!.joined(separator: ", "))"))
                    return false
                }
                return true
            }
        }
        let root: Node?
        // The basic resolver: no regular expressions (so no ICU) at start-up; values are read with .int, .float, .bool.
        do { root = try Yams.compose(yaml: text, Resolver.basic) } catch {
            return (c, [Diagnostic(yamlError: error, file: fileName)])
        }
        guard let root else { return (c, []) }  // an empty file: all defaults
        for (key, value) in section(root, "") {
            switch key.string! {
            case "mapping": c.mapping = file(value, "mapping")
            case "status":
                if let b = value.bool { c.status = b } else { fail(value, "'status' must be true or false") }
            case "sources":
                for (k, v) in section(value, "sources") {
                    switch k.string! {
                    case "interfaces": c.interfaces = strings(v, "sources.interfaces")
                    case "replay":
                        let nodes = v.sequence.map { Array($0) } ?? [v]
                        c.replay = nodes.compactMap { file($0, "sources.replay") }
                    case "speed":
                        if let f = v.float, f > 0, f.isFinite { c.speed = f } else { fail(v, "sources.speed must be a number above 0") }
                    case "loop":
                        if let i = v.int, i >= 0 { c.loop = i } else { fail(v, "sources.loop must be 0 (forever) or a positive count") }
                    case "buses":
                        guard let m = v.mapping else { fail(v, "sources.buses maps interfaces to bus names, e.g. {can3: powertrain}"); continue }
                        for (iface, bus) in m {
                            guard let i = iface.string, let b = bus.string else { fail(bus, "sources.buses: expected interface: bus"); continue }
                            c.busAssignments[i] = b
                        }
                    default:
                        if let b = v.bool { c.fast = b } else { fail(v, "sources.fast must be true or false") }
                    }
                }
                if !c.interfaces.isEmpty, !c.replay.isEmpty { fail(key, "sources: give either interfaces (live) or replay logs, not both") }
            case "api":
                for (k, v) in section(value, "api") {
                    switch k.string! {
                    case "listen":
                        if let s = v.string, s.contains(":") { c.listen = s } else { fail(v, "api.listen must be HOST:PORT, e.g. 127.0.0.1:8080") }
                    case "token":
                        if let s = v.string, s.count >= 16 { c.token = s } else { fail(v, "api.token must be a string of at least 16 characters") }
                    case "token_file": c.tokenFile = file(v, "api.token_file")
                    case "jwt_keys":
                        let items = v.sequence.map(Array.init) ?? [v]
                        for item in items { if let f = file(item, "api.jwt_keys") { c.jwtKeys.append(f) } }
                    case "jwt_audience":
                        if let s = v.string, !s.isEmpty { c.jwtAudience = s } else { fail(v, "api.jwt_audience must be a string (none: not checked)") }
                    case "tls_cert": c.tlsCert = file(v, "api.tls_cert")
                    case "tls_key": c.tlsKey = file(v, "api.tls_key")
                    case "web_lib_dir": c.webLibraryDirectory = file(v, "api.web_lib_dir")
                    case "map_tiles":
                        if let s = v.string, s.hasPrefix("https://") || s.hasPrefix("http://"), s.contains("{z}"), s.contains("{x}"), s.contains("{y}") {
                            c.mapTiles = s
                        } else { fail(v, "api.map_tiles must be an http(s) URL template with {z}, {x} and {y}") }
                    default:
                        if let i = v.int, (0...8).contains(i) { c.locationDecimals = i } else { fail(v, "api.location_decimals must be 0 to 8") }
                    }
                }
            case "grpc":
                for (k, v) in section(value, "grpc") {
                    switch k.string! {
                    case "listen":
                        if let s = v.string, s == "none" || s.contains(":") { c.grpcListen = s } else { fail(v, "grpc.listen must be HOST:PORT (e.g. 127.0.0.1:55555) or none") }
                    case "tls_cert": c.grpcTLSCert = file(v, "grpc.tls_cert")
                    default: c.grpcTLSKey = file(v, "grpc.tls_key")
                    }
                }
            case "uplink":
                for (k, v) in section(value, "uplink") {
                    func text() -> String? { if let s = v.string, !s.isEmpty { return s }; fail(v, "uplink.\(k.string!) must be a string"); return nil }
                    func number(_ range: ClosedRange<Double>) -> Double? {
                        if let f = v.float, range.contains(f) { return f }
                        fail(v, "uplink.\(k.string!) must be a number from \(range.lowerBound) to \(range.upperBound)"); return nil
                    }
                    switch k.string! {
                    case "url":
                        if let s = v.string, s.hasPrefix("mqtt://") || s.hasPrefix("mqtts://") { c.uplink.url = s } else { fail(v, "uplink.url must be mqtt://HOST:PORT or mqtts://HOST:PORT") }
                    case "vehicle_id": c.uplink.vehicleID = text()
                    case "client_id": c.uplink.clientID = text()
                    case "username": c.uplink.username = text()
                    case "password_file": c.uplink.passwordFile = file(v, "uplink.password_file")
                    case "ca_file": c.uplink.caFile = file(v, "uplink.ca_file")
                    case "cert_file": c.uplink.certFile = file(v, "uplink.cert_file")
                    case "key_file": c.uplink.keyFile = file(v, "uplink.key_file")
                    case "keepalive_s": c.uplink.keepAliveSeconds = number(5...65535).map { Int($0) }
                    case "max_rate": c.uplink.maxRate = number(0.01...100)
                    case "heartbeat_s": c.uplink.heartbeatSeconds = number(1...86400)
                    case "location":
                        if let s = v.string, s == "exact" || s == "off" || (s.hasPrefix("rounded:") && Int(s.dropFirst(8)).map { (0...8).contains($0) } == true) {
                            c.uplink.location = s
                        } else { fail(v, "uplink.location must be exact, rounded:N (N decimals, 0 to 8) or off") }
                    case "state_dir": c.uplink.stateDirectory = file(v, "uplink.state_dir", mustExist: false)
                    case "campaigns": c.uplink.campaignsFile = file(v, "uplink.campaigns")
                    case "fsync":
                        if let t = v.string, ["never", "interval", "always"].contains(t) { c.uplink.fsync = t } else { fail(v, "uplink.fsync must be never, interval or always") }
                    case "encoding":
                        if let t = v.string, ["json", "protobuf"].contains(t) { c.uplink.encoding = t } else { fail(v, "uplink.encoding must be json or protobuf") }
                    case "context_priority": c.uplink.contextPriority = number(0...9).map { Int($0) }
                    case "context_ttl_s": c.uplink.contextTTLSeconds = number(1...31_536_000)
                    default: c.uplink.maxQueueMiB = number(0.01...65536)
                    }
                }
            default:  // log
                for (k, v) in section(value, "log") {
                    let levels = ["trace", "debug", "info", "notice", "warning", "error", "critical"]
                    if k.string == "level" {
                        if let s = v.string, levels.contains(s) { c.logLevel = s } else { fail(v, "log.level must be one of \(levels.joined(separator: ", "))") }
                    } else {
                        if let s = v.string, ["text", "json"].contains(s) { c.logFormat = s } else { fail(v, "log.format must be text or json") }
                    }
                }
            }
        }
        return (c, Diagnostics(errors).items)
    }
}
