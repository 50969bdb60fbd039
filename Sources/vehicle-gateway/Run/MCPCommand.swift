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
        output carries only MCP messages; diagnostics go to standard error.
        """)

    @OptionGroup var sources: SourceOptions
    @Option(name: .long, help: "Give out latitude/longitude rounded to this many decimals.") var locationDecimals: Int?

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
        let mcp = await server.mcp.makeServer()
        try await mcp.start(transport: StdioTransport())
        await mcp.waitUntilCompleted()
        await gateway.shutdown()
        await server.shutdown()
    }
}
