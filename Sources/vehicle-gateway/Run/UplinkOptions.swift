import ArgumentParser
import Foundation
import Gateway
import Uplink
import VehicleState

/// The fleet uplink's options (`run --uplink mqtt://HOST:PORT --vehicle-id ID`); each also has a
/// key in the configuration file's `uplink:` section, which the option overrides.
struct UplinkOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Publish the context and status to this MQTT broker (mqtts:// for TLS).", valueName: "mqtt://host:port"))
    var uplink: String?
    @Option(name: .long, help: "This vehicle's id in the uplink's topics (vehicles/ID/...).") var vehicleId: String?
    @Option(name: .long, help: "The MQTT client id (default vehicle-gateway-ID).") var uplinkClientId: String?
    @Option(name: .long, help: "The broker's user name.") var uplinkUsername: String?
    @Option(name: .long, help: "Read the broker password from this file.") var uplinkPasswordFile: String?
    @Option(name: .long, help: "mqtts: the CA that signed the broker's certificate (PEM).") var uplinkCa: String?
    @Option(name: .long, help: "mqtts: this vehicle's certificate (PEM), for mutual TLS.") var uplinkCert: String?
    @Option(name: .long, help: "mqtts: this vehicle's private key (PEM).") var uplinkKey: String?
    @Option(name: .long, help: "Context messages a second at most, on change (default 2).") var uplinkMaxRate: Double?
    @Option(name: .long, help: "A context message at least every this many seconds (default 30).") var uplinkHeartbeat: Double?
    @Option(name: .long, help: ArgumentHelp("What the uplink says of the position: exact, rounded:N or off.", valueName: "policy"))
    var uplinkLocation: String?
    @Option(name: .long, help: ArgumentHelp("Where sequence numbers persist (default $STATE_DIRECTORY, /var/lib/vehicle-gateway or ~/.local/state/vehicle-gateway).", valueName: "dir"))
    var uplinkStateDir: String?
    @Option(name: .long, help: ArgumentHelp("Collection campaigns (YAML): signals to send on a period, on change or when a condition holds, with windows before and after.", valueName: "file"))
    var uplinkCampaigns: String?
    @Option(name: .long, help: "json (default) or protobuf (Protos/vehicle_gateway/uplink.proto): the messages' encoding.")
    var uplinkEncoding: UplinkConfiguration.Encoding?
    @Option(name: .long, help: "When the queue reaches the disk: never, interval (at most 1 s late; default) or always.")
    var uplinkFsync: UplinkConfiguration.JournalSync?
    @Option(name: .long, help: "MQTT keep-alive in seconds (default 30): a silent broker is noticed after 1.5 times this.")
    var uplinkKeepalive: Int?
    @Option(name: .long, help: "Bound of the queue kept while the broker is away, MiB (default 8); the least important, oldest messages go first.")
    var uplinkMaxQueueMb: Double?
    @Option(name: .long, help: "The context messages' priority, 0 (most important) to 9 (default 5).") var uplinkContextPriority: Int?

    func validate() throws {
        if let k = uplinkKeepalive, !(5...65535).contains(k) { throw ValidationError("--uplink-keepalive must be 5 to 65535 seconds") }
        if let q = uplinkMaxQueueMb, !(q >= 0.01 && q <= 65536) { throw ValidationError("--uplink-max-queue-mb must be 0.01 to 65536") }
        if let p = uplinkContextPriority, !(0...9).contains(p) { throw ValidationError("--uplink-context-priority must be 0 to 9") }
        if let r = uplinkMaxRate, !(r > 0 && r <= 100) { throw ValidationError("--uplink-max-rate must be above 0 and at most 100") }
        if let h = uplinkHeartbeat, !(h >= 1 && h <= 86400) { throw ValidationError("--uplink-heartbeat must be 1 to 86400 seconds") }
        if let l = uplinkLocation, UplinkConfiguration.LocationPolicy(l) == nil { throw ValidationError("--uplink-location must be exact, rounded:N (0 to 8) or off") }
    }

    /// The uplink's configuration, or nil when none is asked for.
    func configuration(_ config: GatewayConfigFile?) throws -> UplinkConfiguration? {
        let file = config?.uplink ?? GatewayConfigFile.Uplink()
        guard let url = uplink ?? file.url else {
            if vehicleId != nil { throw CLIFailure.exit("--vehicle-id is for the uplink: give --uplink mqtt://HOST:PORT too", code: 64) }
            return nil
        }
        guard let vehicle = vehicleId ?? file.vehicleID else { throw CLIFailure.exit("the uplink needs --vehicle-id (or uplink.vehicle_id): it names every topic", code: 64) }
        var c: UplinkConfiguration
        do { c = try UplinkConfiguration(url: url, vehicleID: vehicle, stateDirectory: uplinkStateDir ?? file.stateDirectory ?? Self.defaultStateDirectory()) } catch {
            throw CLIFailure.exit(error.description, code: 64)
        }
        if let id = uplinkClientId ?? file.clientID { c.clientID = id }
        c.username = uplinkUsername ?? file.username
        if let path = uplinkPasswordFile ?? file.passwordFile {
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { throw CLIFailure.exit("cannot read the uplink password file \(path)", code: 66) }
            c.password = text.trimmingCharacters(in: .whitespacesAndNewlines)
            if c.username == nil { throw CLIFailure.exit("an uplink password needs a user name (--uplink-username)", code: 64) }
        }
        c.caFile = uplinkCa ?? file.caFile
        c.certFile = uplinkCert ?? file.certFile
        c.keyFile = uplinkKey ?? file.keyFile
        if let k = uplinkKeepalive ?? file.keepAliveSeconds { c.keepAliveSeconds = k }
        if let e = uplinkEncoding ?? file.encoding.flatMap(UplinkConfiguration.Encoding.init(rawValue:)) { c.encoding = e }
        if let f = uplinkFsync ?? file.fsync.flatMap(UplinkConfiguration.JournalSync.init(rawValue:)) { c.journalSync = f }
        if let p = uplinkContextPriority ?? file.contextPriority { c.contextPriority = UInt8(p) }
        c.contextTTLSeconds = file.contextTTLSeconds
        if let r = uplinkMaxRate ?? file.maxRate { c.maxRate = r }
        if let h = uplinkHeartbeat ?? file.heartbeatSeconds { c.heartbeatSeconds = h }
        if let l = uplinkLocation ?? file.location { c.location = UplinkConfiguration.LocationPolicy(l)! }
        if let q = uplinkMaxQueueMb ?? file.maxQueueMiB { c.maxQueueBytes = Int(q * 1024 * 1024) }
        return c
    }

    /// The campaigns file, checked against the mapping (every problem with its place).
    func campaigns(_ config: GatewayConfigFile?, mapping: CompiledMapping) throws -> [CampaignDefinition] {
        guard let path = uplinkCampaigns ?? config?.uplink.campaignsFile else { return [] }
        do { return try CampaignFile.load(path: path, mapping: mapping) } catch {
            throw CLIFailure.exit(error.description.replacingOccurrences(of: "\n", with: "\nvehicle-gateway: "), code: 65)
        }
    }

    static func defaultStateDirectory() -> String {
        let env = ProcessInfo.processInfo.environment
        if let d = env["STATE_DIRECTORY"], !d.isEmpty { return d.split(separator: ":").first.map(String.init) ?? d }
        if getuid() == 0 { return "/var/lib/vehicle-gateway" }
        return (env["HOME"] ?? ".") + "/.local/state/vehicle-gateway"
    }
}

extension UplinkConfiguration.Encoding: ExpressibleByArgument {}
extension UplinkConfiguration.JournalSync: ExpressibleByArgument {}
