import ArgumentParser
import AssistantAPI
import Gateway
import KuksaAPI

/// How the KUKSA-compatible gRPC API listens.
struct KuksaOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Serve kuksa.val.v2 (gRPC) on HOST:PORT, or none (default 127.0.0.1:55555; port 0: any free port).", valueName: "host:port"))
    var grpcListen: String?
    @Option(name: .long, help: "gRPC over TLS with this certificate chain (PEM; default: --tls-cert).") var grpcTlsCert: String?
    @Option(name: .long, help: "The gRPC certificate's private key (PEM; default: --tls-key).") var grpcTlsKey: String?

    func validate() throws {
        if let l = grpcListen, l != "none", APIConfiguration.parseListen(l) == nil { throw ValidationError("--grpc-listen takes HOST:PORT or none, not '\(l)'") }
    }

    /// nil when turned off.
    func configuration(_ config: GatewayConfigFile?, api: APIConfiguration) throws -> KuksaConfiguration? {
        let text = grpcListen ?? config?.grpcListen ?? "127.0.0.1:55555"
        if text == "none" { return nil }
        guard let (host, port) = APIConfiguration.parseListen(text) else { throw CLIFailure.exit("grpc.listen takes HOST:PORT or none, not '\(text)'", code: 64) }
        var c = KuksaConfiguration()
        c.host = host
        c.port = port
        let ownCert = grpcTlsCert ?? config?.grpcTLSCert, ownKey = grpcTlsKey ?? config?.grpcTLSKey
        c.tlsCertificatePath = ownCert ?? api.tlsCertificatePath
        c.tlsKeyPath = ownKey ?? api.tlsKeyPath
        c.locationDecimals = api.locationDecimals
        let loopback = host == "localhost" || host.hasPrefix("127.") || host == "::1"
        if !loopback, api.token == nil, api.jwtKeyPaths.isEmpty {
            throw CLIFailure.exit("gRPC listening beyond loopback (\(text)) needs a token: give --token or --token-file (or grpc.listen: none)", code: 64)
        }
        // Files of gRPC's own are checked here; the API's are checked (and reported) by the API.
        if ownCert != nil || ownKey != nil, let problem = KuksaServer.validate(c) {
            throw CLIFailure.exit(problem.description, code: problem.missingFile ? 66 : 64)
        }
        return c
    }
}
