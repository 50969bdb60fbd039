import ArgumentParser
import Foundation
import VehicleState

/// Where frames come from and how they map to VSS, shared by `run` and `mcp`. With no source
/// given, the bundled demo drive is replayed in a loop.
struct SourceOptions: ParsableArguments {
    @Option(name: .long, help: "The VSS mapping (YAML). Default: DBC/demo_mapping.yaml.") var mapping: String?
    @Option(name: .long, help: ArgumentHelp("Replay this candump log ('-': standard input); repeatable.", valueName: "log"))
    var replay: [String] = []
    @Option(name: .long, help: ArgumentHelp("Read this SocketCAN interface live; repeatable.", valueName: "iface"))
    var interface: [String] = []
    @Option(name: .long, help: "Replay speed factor (2 = twice as fast).") var speed: Double = 1
    @Option(name: .long, help: "Replay the logs this many times; 0 = forever (the demo default).") var loop: Int?
    @Flag(name: .long, help: "Replay as fast as possible, with the log's own timestamps.") var fast = false

    func validate() throws {
        if speed <= 0 || !speed.isFinite { throw ValidationError("--speed must be above 0") }
        if let loop, loop < 0 { throw ValidationError("--loop must be 0 (forever) or more") }
        if !replay.isEmpty && !interface.isEmpty { throw ValidationError("give either --replay logs or live --interface names, not both") }
    }

    var usesDemo: Bool { replay.isEmpty && interface.isEmpty }

    /// The mapping and the pipeline's sources, the demo's files filled in.
    func resolve() throws -> (CompiledMapping, GatewayPipeline.Sources) {
        let mappingPath = try mapping ?? DemoFiles.locate("demo_mapping.yaml")
        let compiled: CompiledMapping
        do { compiled = try CompiledMapping.load(path: mappingPath) } catch {
            throw CLIFailure.exit("mapping has errors:\n\(error)", code: 65)
        }
        var s = GatewayPipeline.Sources()
        s.replays = usesDemo ? [try DemoFiles.locate("demo_drive.log")] : replay
        s.interfaces = interface
        s.speed = speed
        s.fast = fast
        s.loop = loop ?? (usesDemo ? 0 : 1)
        for r in s.replays where r != "-" && !FileManager.default.isReadableFile(atPath: r) {
            throw CLIFailure.exit("cannot read the log '\(r)'", code: 66)
        }
        return (compiled, s)
    }
}

/// The demo's files: in ./DBC, or in the DBC folder of the checkout the binary was built in.
enum DemoFiles {
    static func locate(_ name: String) throws -> String {
        var candidates = ["DBC/" + name]
        let exe = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var dir = exe.deletingLastPathComponent()
        for _ in 0..<5 {
            candidates.append(dir.appendingPathComponent("DBC/" + name).path)
            dir = dir.deletingLastPathComponent()
        }
        if let found = candidates.first(where: { FileManager.default.isReadableFile(atPath: $0) }) { return found }
        throw CLIFailure.exit("cannot find the demo file \(name) (looked in ./DBC and beside the binary); pass --mapping and --replay", code: 66)
    }
}
