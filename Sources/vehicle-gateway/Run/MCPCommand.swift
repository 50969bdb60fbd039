import AccessControl
import ArgumentParser
import AssistantAPI
import Foundation
import Gateway
import MCP

struct MCPCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mcp",
        abstract: "Serve the MCP tools over stdio, for assistants that launch tools as subprocesses.",
        discussion: """
        Takes the same source options as `run`; with none, it plays the demo drive. Standard
        output carries only MCP messages; diagnostics go to standard error. The assistant that
        starts this process is trusted as its parent is: --scope limits what it may read, in the
        scope syntax of the API's tokens (e.g. "read:Vehicle.Speed read:Vehicle.Powertrain.Transmission").
        """)

    @OptionGroup var sources: SourceOptions
    @Option(name: .long, help: "Give out latitude/longitude rounded to this many decimals.") var locationDecimals: Int?
    @Option(name: .long, help: ArgumentHelp("Read only what these KUKSA scopes cover (default: everything).", valueName: "scopes"))
    var scope: String?

    func validate() throws {
        if let scope { do { _ = try ReadScope(claim: scope) } catch { throw ValidationError("--scope: \(error.description)") } }
    }

    func run() async throws {
        GatewayLogging.bootstrap(format: .text, level: .warning)
        let config = try sources.loadConfig()
        let (mapping, source) = try sources.resolve(config)
        let gateway = Gateway(mapping: mapping, source: source, onMalformedLine: { printError("vehicle-gateway: \($0)") })
        var api = APIConfiguration()
        api.locationDecimals = locationDecimals ?? config?.locationDecimals
        let server = AssistantServer(gateway: gateway, configuration: api)
        gateway.start { failure in
            if let failure { printError("vehicle-gateway: frame source failed: \(failure)") }
        }
        let access = try scope.map { Access(scope: try ReadScope(claim: $0)) } ?? .everything
        let mcp = await server.mcp.limited(to: access).makeServer()
        try await mcp.start(transport: StdioTransport())
        await mcp.waitUntilCompleted()
        await gateway.shutdown()
        await server.shutdown()
    }
}
