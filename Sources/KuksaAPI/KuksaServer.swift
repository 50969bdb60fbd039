import AccessControl
import Gateway
import Glibc
import GRPCCore
import GRPCNIOTransportHTTP2
import Logging
import NIOCore
import ServiceLifecycle

/// The KUKSA-compatible gRPC API as a service of the gateway's service group. On graceful
/// shutdown it stops accepting, ends every open subscription (each RPC finishes with OK), and
/// returns once the server has drained.
public final class KuksaServer: Service, Sendable {
    public let configuration: KuksaConfiguration
    public let limits: ConnectionLimits
    let service: KuksaVALService
    let logger: Logger
    let onListening: @Sendable (Int) async -> Void

    /// `verifier` decides what each call's token reads (share the HTTP API's: the same tokens work).
    public init(gateway state: GatewayState, configuration: KuksaConfiguration, verifier: TokenVerifier, serverVersion: String, logger: Logger,
                onListening: @escaping @Sendable (Int) async -> Void = { _ in }) {
        self.configuration = configuration
        limits = ConnectionLimits(configuration: configuration)
        service = KuksaVALService(view: VehicleView(state: state, locationDecimals: configuration.locationDecimals), verifier: verifier,
                                  configuration: configuration, serverVersion: serverVersion, subscriptions: SubscriptionCount())
        self.logger = logger
        self.onListening = onListening
    }

    /// Subscriptions open now.
    public var openSubscriptions: Int { service.subscriptions.current }

    /// A problem with the configuration (TLS files), said before starting.
    public struct ConfigurationProblem: CustomStringConvertible, Sendable {
        public var description: String
        /// A file that cannot be read (sysexits' 66) rather than a setting that cannot work.
        public var missingFile: Bool
    }

    public static func validate(_ c: KuksaConfiguration) -> ConfigurationProblem? {
        if (c.tlsCertificatePath == nil) != (c.tlsKeyPath == nil) {
            return ConfigurationProblem(description: "gRPC TLS needs both a certificate and a key", missingFile: false)
        }
        for path in [c.tlsCertificatePath, c.tlsKeyPath].compactMap({ $0 }) where access(path, R_OK) != 0 {
            return ConfigurationProblem(description: "cannot read \(path) (gRPC TLS)", missingFile: true)
        }
        return nil
    }

    func transport() -> HTTP2ServerTransport.Posix {
        let c = configuration, limits = self.limits
        var config = HTTP2ServerTransport.Posix.Config.defaults
        config.rpc.maxRequestPayloadSize = c.maxRequestBytes
        config.connection.maxIdleTime = .nanoseconds(Int64(c.idleSeconds * 1e9))
        config.http2.maxConcurrentStreams = 100
        config.channelDebuggingCallbacks.onAcceptTCPConnection = { channel in
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHandler(ConnectionGuard(limits: limits), position: .first)
            }
        }
        config.channelDebuggingCallbacks.onAcceptHTTP2Stream = { stream in
            stream.eventLoop.makeCompletedFuture {
                if let parent = stream.parent, let guardHandler = try? parent.pipeline.syncOperations.handler(type: ConnectionGuard.self) {
                    guardHandler.callStarted()
                }
            }
        }
        let security: HTTP2ServerTransport.Posix.TransportSecurity
        if let cert = c.tlsCertificatePath, let key = c.tlsKeyPath {
            security = .tls(certificateChain: [.file(path: cert, format: .pem)], privateKey: .file(path: key, format: .pem))
        } else {
            security = .plaintext
        }
        let address: GRPCNIOTransportCore.SocketAddress = c.host.contains(":") ? .ipv6(host: c.host, port: c.port) : .ipv4(host: c.host, port: c.port)
        return HTTP2ServerTransport.Posix(address: address, transportSecurity: security, config: config)
    }

    public func run() async throws {
        let transport = transport()
        let interceptors: [any ServerInterceptor] = service.verifier.requiresToken ? [TokenInterceptor(verifier: service.verifier)] : []
        let server = GRPCServer(transport: transport, services: [service], interceptors: interceptors)
        let service = self.service
        let c = configuration
        try await withGracefulShutdownHandler {
            try await withThrowingDiscardingTaskGroup { group in
                group.addTask {
                    do { try await server.serve() } catch {
                        throw StartFailure(description: "cannot serve gRPC on \(c.host):\(c.port): \(error)")
                    }
                }
                // If binding fails, serve() says why.
                guard let address = try? await transport.listeningAddress else { return }
                await onListening(address.ipv4?.port ?? address.ipv6?.port ?? 0)
            }
        } onGracefulShutdown: {
            server.beginGracefulShutdown()
            service.endStreams()
        }
    }
}

/// Why the gRPC server could not start, said for the person who started the gateway.
public struct StartFailure: Error, CustomStringConvertible {
    public var description: String
}
