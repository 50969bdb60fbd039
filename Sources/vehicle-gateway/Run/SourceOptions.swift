import ArgumentParser
import CANBus
import Foundation
import Gateway
import VehicleState

/// Where frames come from and how they map to VSS, shared by `run` and `mcp`. With no source
/// given, the bundled demo drive (DBC/demo_city_drive.log.gz, ten minutes made by `simulate`)
/// is replayed in a loop.
struct SourceOptions: ParsableArguments {
    @Option(name: .long, help: "A configuration file (YAML: sources, mapping, api, log); flags override it.") var config: String?
    @Option(name: .long, help: "The VSS mapping (YAML). Default: DBC/demo_mapping.yaml.") var mapping: String?
    @Option(name: .long, help: ArgumentHelp("Replay this candump log ('-': standard input); repeatable.", valueName: "log"))
    var replay: [String] = []
    @Option(name: .long, help: ArgumentHelp("Read this SocketCAN interface live; repeatable.", valueName: "iface"))
    var interface: [String] = []
    @Option(name: .long, help: ArgumentHelp("Frames of this interface belong to this bus of the mapping: can3=powertrain; repeatable.", valueName: "iface=bus"))
    var bus: [String] = []
    @Option(name: .long, help: "Replay speed factor (2 = twice as fast; default 1).") var speed: Double?
    @Option(name: .long, help: "Replay the logs this many times; 0 = forever (the demo default).") var loop: Int?
    @Flag(name: .long, help: "Replay as fast as possible, with the log's own timestamps.") var fast = false

    func validate() throws {
        if let speed, speed <= 0 || !speed.isFinite { throw ValidationError("--speed must be above 0") }
        if let loop, loop < 0 { throw ValidationError("--loop must be 0 (forever) or more") }
        if !replay.isEmpty && !interface.isEmpty { throw ValidationError("give either --replay logs or live --interface names, not both") }
        for b in bus where b.split(separator: "=").count != 2 { throw ValidationError("--bus takes IFACE=BUS, not '\(b)'") }
    }

    /// The configuration file, if one was given; all its errors at once.
    func loadConfig() throws -> GatewayConfigFile? {
        guard let config else { return nil }
        do { return try GatewayConfigFile.load(path: config) } catch {
            throw CLIFailure.exit("configuration has errors:\n\(error)", code: 65)
        }
    }

    /// The mapping and the frame source: flags, else the configuration, else the demo.
    func resolve(_ config: GatewayConfigFile? = nil) throws -> (CompiledMapping, any FrameSource) {
        let replay = self.replay.isEmpty && interface.isEmpty ? (config?.replay ?? []) : self.replay
        let interfaces = self.replay.isEmpty && self.interface.isEmpty ? (config?.interfaces ?? []) : self.interface
        let usesDemo = replay.isEmpty && interfaces.isEmpty
        let mappingPath = try mapping ?? config?.mapping ?? DemoFiles.locate("demo_mapping.yaml")
        let compiled: CompiledMapping
        do { compiled = try CompiledMapping.load(path: mappingPath) } catch {
            throw CLIFailure.exit("mapping has errors:\n\(error)", code: 65)
        }
        var assignments = config?.busAssignments ?? [:]
        for b in bus { let p = b.split(separator: "="); assignments[String(p[0])] = String(p[1]) }
        do {
            let buses = try BusResolver(mapping: compiled, assignments: assignments)
            if !interfaces.isEmpty { return (compiled, try LiveSource(interfaces: interfaces, mapping: compiled, buses: buses)) }
            var options = ReplaySource.Options(logs: usesDemo ? [try DemoFiles.locate("demo_city_drive.log.gz")] : replay)
            options.speed = speed ?? config?.speed ?? 1
            options.fast = fast || (config?.fast ?? false)
            options.passes = loop ?? config?.loop ?? (usesDemo ? 0 : 1)
            for r in options.logs where r != "-" && !FileManager.default.isReadableFile(atPath: r) {
                throw CLIFailure.exit("cannot read the log '\(r)'", code: 66)
            }
            return (compiled, ReplaySource(options, buses: buses))
        } catch let e as Diagnostics {
            throw CLIFailure.exit("\(e)", code: 64)
        }
    }
}

/// The demo's files: in ./DBC, or in the DBC folder of the checkout the binary was built in.
enum DemoFiles {
    static func locate(_ name: String) throws -> String {
        var candidates = ["DBC/" + name]
        let exe = URL(fileURLWithPath: ProcessArguments.executable).resolvingSymlinksInPath()
        var dir = exe.deletingLastPathComponent()
        for _ in 0..<5 {
            candidates.append(dir.appendingPathComponent("DBC/" + name).path)
            dir = dir.deletingLastPathComponent()
        }
        if let found = candidates.first(where: { FileManager.default.isReadableFile(atPath: $0) }) { return found }
        throw CLIFailure.exit("cannot find the demo file \(name) (looked in ./DBC and beside the binary); pass --mapping and --replay", code: 66)
    }
}
