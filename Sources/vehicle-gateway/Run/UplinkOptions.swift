import ArgumentParser
import Foundation
import Gateway
import Uplink

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

    func validate() throws {
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
        if let k = file.keepAliveSeconds { c.keepAliveSeconds = k }
        if let r = uplinkMaxRate ?? file.maxRate { c.maxRate = r }
        if let h = uplinkHeartbeat ?? file.heartbeatSeconds { c.heartbeatSeconds = h }
        if let l = uplinkLocation ?? file.location { c.location = UplinkConfiguration.LocationPolicy(l)! }
        if let q = file.maxQueueMiB { c.maxQueueBytes = Int(q * 1024 * 1024) }
        return c
    }

    static func defaultStateDirectory() -> String {
        let env = ProcessInfo.processInfo.environment
        if let d = env["STATE_DIRECTORY"], !d.isEmpty { return d.split(separator: ":").first.map(String.init) ?? d }
        if getuid() == 0 { return "/var/lib/vehicle-gateway" }
        return (env["HOME"] ?? ".") + "/.local/state/vehicle-gateway"
    }
}
