import ArgumentParser
import AssistantAPI
import Foundation
import Logging
import MCP
import VehicleState

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
        let (mapping, sourceSpec) = try sources.resolve(config)
        let pipeline = GatewayPipeline(mapping: mapping, sources: sourceSpec)
        pipeline.onEnd = { failure in
            if let failure { FileHandle.standardError.write(Data("vehicle-gateway: frame source failed: \(failure)\n".utf8)) }
        }
        var api = APIConfiguration()
        api.locationDecimals = locationDecimals ?? config?.locationDecimals
        let server = AssistantServer(live: pipeline.live, configuration: api)
        server.hub.start()
        pipeline.start()
        let mcp = await server.mcp.makeServer()
        try await mcp.start(transport: StdioTransport())
        await mcp.waitUntilCompleted()
        pipeline.stop()
        await server.shutdown()
    }
}
