import ArgumentParser
import Fleet
import Foundation
import Gateway
import Logging
import ServiceLifecycle
import Uplink

/// The fleet side: `fleet serve` consumes every vehicle's uplink (a shared subscription) and
/// serves it; `fleet simulate` publishes as N cars through the uplink's code, for load.
struct FleetCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fleet",
        abstract: "The fleet side of the uplink: consume every vehicle's messages (serve), or publish as N simulated cars (simulate).",
        subcommands: [Serve.self, SimulateCars.self], defaultSubcommand: Serve.self)

    struct BrokerOptions: ParsableArguments {
        @Option(name: .long, help: ArgumentHelp("The MQTT broker (mqtts:// for TLS).", valueName: "mqtt://host:port")) var broker: String
        @Option(name: .long, help: "The broker's user name.") var username: String?
        @Option(name: .long, help: "Read the broker password from this file.") var passwordFile: String?
        @Option(name: .long, help: "mqtts: the CA that signed the broker's certificate (PEM).") var ca: String?
        @Option(name: .long, help: "mqtts: this client's certificate (PEM), for mutual TLS.") var cert: String?
        @Option(name: .long, help: "mqtts: this client's private key (PEM).") var key: String?

        func configuration(name: String) throws -> UplinkConfiguration {
            var c: UplinkConfiguration
            do { c = try UplinkConfiguration(url: broker, vehicleID: name, stateDirectory: FileManager.default.temporaryDirectory.path) } catch {
                throw CLIFailure.exit(error.description, code: 64)
            }
            c.clientID = name
            c.username = username
            if let passwordFile {
                guard let text = try? String(contentsOfFile: passwordFile, encoding: .utf8) else { throw CLIFailure.exit("cannot read \(passwordFile)", code: 66) }
                c.password = text.trimmingCharacters(in: .whitespacesAndNewlines)
            }
            (c.caFile, c.certFile, c.keyFile) = (ca, cert, key)
            return c
        }
    }

    struct Serve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Consume every vehicle's context and status (an MQTT 5 shared subscription) and serve them over HTTP.",
            discussion: """
            Subscribes to $share/GROUP/vehicles/+/context and .../status: every consumer of one group gets a share of
            the fleet's messages (each message goes to one of them), so more consumers can be started under load.
            Keeps each vehicle's latest context (JSON or protobuf), dedupes by seq and counts gaps. Serves
            GET /v1/vehicles, /v1/vehicles/ID/context, /v1/vehicles/ID/context/stream (SSE) and /healthz.
            """)
        @OptionGroup var broker: BrokerOptions
        @Option(name: .long, help: "The shared subscription's group: consumers of one group split the fleet.") var group = "fleet"
        @Option(name: .long, help: "This consumer's MQTT client id (default fleet-GROUP-<pid>).") var clientId: String?
        @Option(name: .long, help: ArgumentHelp("Serve HTTP on HOST:PORT (port 0: any free port).", valueName: "host:port")) var listen = "127.0.0.1:8090"
        @Option(name: .long, help: "Bearer token required on every HTTP request.") var token: String?
        @Option(name: .long, help: ArgumentHelp("""
            How long the broker keeps this consumer's session after it leaves (default 3600 with --client-id, else 0). \
            A member that is gone keeps receiving its share of the group's messages while its session lives.
            """, valueName: "seconds")) var sessionExpiry: UInt32?

        func run() async throws {
            GatewayLogging.bootstrap(format: .text, level: .info)
            guard let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]) else {
                throw CLIFailure.exit("--listen takes HOST:PORT, not '\(listen)'", code: 64)
            }
            var c = FleetServer.Configuration(broker: try broker.configuration(name: clientId ?? "fleet-\(group)-\(getpid())"))
            c.group = group
            c.host = String(listen[..<colon])
            c.port = port
            c.token = token
            c.sessionExpirySeconds = sessionExpiry ?? (clientId == nil ? 0 : 3600)
            let logger = Logger(label: "vehicle-gateway.fleet")
            let server = FleetServer(configuration: c, logger: logger)
            let settings = c
            let service: any Service
            do {
                service = try server.makeService { port in
                    printError("vehicle-gateway: fleet consumer on http://\(settings.host):\(port) (group \(settings.group), broker \(settings.broker.brokerDescription))")
                }
            } catch { throw CLIFailure.exit(error.description, code: 64) }
            let group = ServiceGroup(configuration: .init(services: [.init(service: service)], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
            try await group.run()
        }
    }

    struct SimulateCars: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "simulate",
            abstract: "Publish as N simulated cars through the uplink's own code (each its own MQTT client, session, Last Will and seq).",
            discussion: "The cars share one drive (the demo drive, or --replay ...), each a little apart on the map. Prints per car what it sent.")
        @OptionGroup var broker: BrokerOptions
        @OptionGroup var sources: SourceOptions
        @Option(name: .long, help: "How many cars.") var cars = 10
        @Option(name: .long, help: "How long to publish, in seconds.") var seconds = 10.0
        @Option(name: .long, help: "Context messages a second per car.") var rate = 1.0
        @Option(name: .long, help: "Vehicle ids are PREFIX-1 ... PREFIX-N.") var prefix = "sim"
        @Option(name: .long, help: "json or protobuf.") var encoding: UplinkConfiguration.Encoding = .json
        @Option(name: .long, help: "Where the cars keep their queues (default: a new temporary directory).") var stateDir: String?

        func validate() throws {
            if !(1...10_000).contains(cars) { throw ValidationError("--cars must be 1 to 10000") }
            if !(rate > 0 && rate <= 100) { throw ValidationError("--rate must be above 0 and at most 100") }
        }

        func run() async throws {
            GatewayLogging.bootstrap(format: .text, level: .warning)
            let (mapping, source) = try sources.resolve(nil)
            let gateway = Gateway(mapping: mapping, source: source, onMalformedLine: { printError("vehicle-gateway: \($0)") })
            gateway.start { _ in }
            var template = try broker.configuration(name: "sim")
            template.encoding = encoding
            template.journalSync = .never
            let dir = stateDir ?? FileManager.default.temporaryDirectory.appendingPathComponent("vg-fleet-\(getpid())").path
            let load: FleetLoad
            do {
                load = try FleetLoad(template: template, count: cars, prefix: prefix, rate: rate, stateDirectory: dir, gateway: gateway,
                                     logger: Logger(label: "vehicle-gateway.fleet-load"))
            } catch { throw CLIFailure.exit(error.description, code: 64) }
            try? await Task.sleep(for: .milliseconds(500))  // the drive's first frames
            let report: [FleetLoad.Car]
            do { report = try await load.run(seconds: seconds) } catch { throw CLIFailure.exit(error.description, code: 64) }
            await gateway.shutdown()
            var contexts: UInt64 = 0
            for car in report {
                print("\(car.vehicleID) contexts \(car.lastSeq) published \(car.published) acknowledged \(car.acknowledged)")
                contexts += car.lastSeq
            }
            printError("vehicle-gateway: \(cars) cars sent \(contexts) context messages in \(seconds) s")
        }
    }
}
