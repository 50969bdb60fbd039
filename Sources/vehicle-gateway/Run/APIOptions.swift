import AccessControl
import ArgumentParser
import AssistantAPI
import Gateway
import Foundation

/// How the assistant API listens.
struct APIOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Listen on HOST:PORT (port 0: any free port).", valueName: "host:port"))
    var listen: String?
    @Option(name: .long, help: "Bearer token required on every request (generated when listening beyond loopback without one).")
    var token: String?
    @Option(name: .long, help: "Read the bearer token from this file.") var tokenFile: String?
    @Option(name: .long, help: ArgumentHelp("Also accept JWTs signed by this public key (PEM; RS256 or ES256), reading what their KUKSA scopes cover; repeat for several.", valueName: "pem"))
    var jwtKey: [String] = []
    @Option(name: .long, help: ArgumentHelp("The aud a JWT must name (default kuksa.val, as KUKSA's tokens do; none: not checked).", valueName: "aud"))
    var jwtAudience: String?
    @Option(name: .long, help: "Give out latitude/longitude rounded to this many decimals (3 ≈ 110 m).") var locationDecimals: Int?
    @Option(name: .long, help: "Serve HTTPS/WSS with this certificate chain (PEM).") var tlsCert: String?
    @Option(name: .long, help: "The TLS certificate's private key (PEM).") var tlsKey: String?
    @Option(name: .long, help: ArgumentHelp("Serve the dashboard's Leaflet and Chart.js from this directory (Debian's libjs-leaflet, libjs-chart.js; default /usr/share/javascript).", valueName: "dir"))
    var webLibDir: String?
    @Option(name: .long, help: ArgumentHelp("Map tiles for the dashboard, e.g. https://tile.openstreetmap.org/{z}/{x}/{y}.png (none by default: the track on a grid).", valueName: "url"))
    var mapTiles: String?

    func validate() throws {
        if let listen, APIConfiguration.parseListen(listen) == nil { throw ValidationError("--listen takes HOST:PORT, not '\(listen)'") }
        if let d = locationDecimals, !(0...8).contains(d) { throw ValidationError("--location-decimals must be 0 to 8") }
        if let t = mapTiles, !(t.hasPrefix("https://") || t.hasPrefix("http://")) || !t.contains("{z}") || !t.contains("{x}") || !t.contains("{y}") {
            throw ValidationError("--map-tiles takes an http(s) URL template with {z}, {x} and {y}, not '\(t)'")
        }
    }

    func configuration(_ config: GatewayConfigFile? = nil) throws -> APIConfiguration {
        var c = APIConfiguration()
        let listenText = listen ?? config?.listen ?? "127.0.0.1:8080"
        guard let (host, port) = APIConfiguration.parseListen(listenText) else { throw CLIFailure.exit("api.listen takes HOST:PORT, not '\(listenText)'", code: 64) }
        c.host = host
        c.port = port
        c.token = token ?? config?.token
        if let tokenFile = tokenFile ?? (token == nil ? config?.tokenFile : nil) {
            guard let text = try? String(contentsOfFile: tokenFile, encoding: .utf8) else { throw CLIFailure.exit("cannot read --token-file \(tokenFile)", code: 66) }
            c.token = text.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        c.jwtKeyPaths = jwtKey.isEmpty ? config?.jwtKeys ?? [] : jwtKey
        if let aud = jwtAudience ?? config?.jwtAudience { c.jwtAudience = aud == "none" ? nil : aud }
        c.locationDecimals = locationDecimals ?? config?.locationDecimals
        c.tlsCertificatePath = tlsCert ?? config?.tlsCert
        c.tlsKeyPath = tlsKey ?? config?.tlsKey
        if let dir = webLibDir ?? config?.webLibraryDirectory { c.webLibraryDirectory = dir }
        c.mapTiles = mapTiles ?? config?.mapTiles
        if !c.isLoopback, c.token == nil, c.jwtKeyPaths.isEmpty {
            var bytes = [UInt8](repeating: 0, count: 24)
            for i in bytes.indices { bytes[i] = UInt8.random(in: 0...255) }
            c.token = bytes.map { String(format: "%02x", $0) }.joined()
            printError("vehicle-gateway: listening beyond loopback; generated API token (send it as 'Authorization: Bearer <token>'): \(c.token!)")
        }
        if let problem = AssistantServer.validate(c) { throw CLIFailure.exit(problem, code: 64) }
        return c
    }

    /// What each token may read, on every API.
    static func verifier(_ c: APIConfiguration) throws -> TokenVerifier {
        let keys: [TokenVerifier.Key]
        do { keys = try c.jwtKeyPaths.map(TokenVerifier.key(file:)) } catch {
            throw CLIFailure.exit(error.description, code: error.description.hasPrefix("cannot read") ? 66 : 65)
        }
        return TokenVerifier(staticToken: c.token, keys: keys, audience: c.jwtAudience)
    }
}
