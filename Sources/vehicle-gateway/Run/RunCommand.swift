import ArgumentParser
import AssistantAPI
import Foundation
import Gateway
import KuksaAPI
import Logging
import Metrics
import Prometheus
import ServiceLifecycle
import Uplink

struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the gateway: CAN (live or replayed) → VSS state → the assistant API.",
        discussion: """
        With no source, replays the bundled demo drive in a loop and serves the API on
        127.0.0.1:8080: HTTP (/v1/context, /v1/signals, /healthz, /metrics), SSE
        (/v1/context/stream), VISS v2 (WebSocket on /), MCP (/mcp). Ctrl-C stops it.
        """)

    @OptionGroup var sources: SourceOptions
    @OptionGroup var api: APIOptions
    @OptionGroup(title: "KUKSA-compatible gRPC API") var grpc: KuksaOptions
    @OptionGroup(title: "Fleet uplink (MQTT)") var uplink: UplinkOptions
    @Option(name: .long, help: "Log level: trace, debug, info, notice, warning, error, critical (default info).") var logLevel: String?
    @Option(name: .long, help: "Log format: text or json (one object per line, for journald; default text).") var logFormat: String?
    @Flag(name: .long, help: "No live status display.") var quiet = false

    func validate() throws {
        if let logLevel, Logger.Level(rawValue: logLevel) == nil { throw ValidationError("--log-level must be one of trace, debug, info, notice, warning, error, critical") }
        if let logFormat, GatewayLogging.Format(rawValue: logFormat) == nil { throw ValidationError("--log-format must be text or json") }
    }

    func run() async throws {
        let config = try sources.loadConfig()
        GatewayLogging.bootstrap(format: GatewayLogging.Format(rawValue: logFormat ?? config?.logFormat ?? "text")!,
                                 level: Logger.Level(rawValue: logLevel ?? config?.logLevel ?? "info")!)
        let logger = Logger(label: "vehicle-gateway")
        let (mapping, source) = try sources.resolve(config)
        let configuration = try api.configuration(config)
        let uplinkConfiguration = try uplink.configuration(config)
        let grpcConfiguration = try grpc.configuration(config, api: configuration)
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))

        let gateway = Gateway(mapping: mapping, source: source, onMalformedLine: { printError("vehicle-gateway: \($0)") })
        let verifier = try APIOptions.verifier(configuration)
        let server = AssistantServer(gateway: gateway, configuration: configuration, verifier: verifier, registry: registry,
                                     logger: Logger(label: "vehicle-gateway.api"))
        let ready = ReadySignal()
        let apiService: any Service
        do {
            apiService = try server.makeService { port in
                await ready.set()
                // Start-up is over once the API listens and the first frames went through.
                Task.detached(priority: .background) {
                    try? await Task.sleep(for: .seconds(2))
                    let bytes = StartupPages.release()
                    if bytes > 0 { logger.debug("start-up pages handed back", metadata: ["bytes": "\(bytes)"]) }
                }
                let (scheme, ws) = configuration.usesTLS ? ("https", "wss") : ("http", "ws")
                logger.info("API listening", metadata: ["url": "\(scheme)://\(configuration.host):\(port)"])
                printError("vehicle-gateway: API on \(scheme)://\(configuration.host):\(port) (context: /v1/context, VISS: \(ws)://\(configuration.host):\(port)/, MCP: /mcp)")
            }
        } catch {
            throw CLIFailure.exit("\(error)", code: 66)
        }
        // Shut down in reverse order: first the consumers after the stream closer (the gRPC API
        // ends its streams, the uplink says offline) while the feed still runs, then the open
        // streams (SSE, VISS, MCP) and the feed are ended so the HTTP server has nothing left to
        // wait for, then the server, then the frame path.
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: FramePathService(gateway: gateway, logger: logger)), .init(service: apiService),
            .init(service: StreamCloser(server: server)),
            .init(service: WatchdogService(notifier: SystemdNotifier(), gateway: gateway, ready: ready, logger: logger)),
        ]
        if let grpcConfiguration {
            let scheme = grpcConfiguration.usesTLS ? "grpcs" : "grpc"
            services.insert(.init(service: KuksaServer(gateway: gateway.state, configuration: grpcConfiguration, verifier: verifier,
                                                       serverVersion: VehicleGateway.configuration.version,
                                                       logger: Logger(label: "vehicle-gateway.grpc")) { port in
                logger.info("gRPC listening", metadata: ["url": "\(scheme)://\(grpcConfiguration.host):\(port)"])
                printError("vehicle-gateway: gRPC (kuksa.val.v2) on \(scheme)://\(grpcConfiguration.host):\(port)")
            }), at: 3)
        }
        if let uplinkConfiguration {
            let service = Uplink(configuration: uplinkConfiguration, gateway: gateway, softwareVersion: VehicleGateway.configuration.version,
                                 campaigns: try uplink.campaigns(config, mapping: mapping), logger: Logger(label: "vehicle-gateway.uplink"))
            do { try service.prepare() } catch { throw CLIFailure.exit(error.description, code: 64) }
            // After the stream closer, so it is told to stop (and says offline) while the feed still runs.
            services.insert(.init(service: service), at: 3)
            printError("vehicle-gateway: uplink to \(uplinkConfiguration.brokerDescription) as vehicles/\(uplinkConfiguration.vehicleID)")
        }
        if !quiet, config?.status ?? true { services.append(.init(service: StatusService(view: server.view, metrics: server.metrics))) }
        let group = ServiceGroup(configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}

/// Ends every open stream when shutdown begins, so that it takes milliseconds, not a timeout.
struct StreamCloser: Service {
    let server: AssistantServer
    func run() async throws {
        try? await gracefulShutdown()
        await server.shutdown()
    }
}

/// Runs the frame path for the service group; a source that fails is logged, and the API
/// stays up (its values go stale, which the API reports).
struct FramePathService: Service {
    let gateway: Gateway
    let logger: Logger

    func run() async throws {
        let logger = self.logger, control = gateway.control
        gateway.start { failure in
            if let failure { logger.error("frame source failed; the API keeps serving what it has", metadata: ["error": "\(failure)"]) }
            else if !control.isStopping {
                logger.info("replay finished; values will go stale", metadata: ["figures": "\(control.runFigures?.description ?? "")"])
            }
        }
        try? await gracefulShutdown()
        await gateway.shutdown()
    }
}
