import ArgumentParser
import CANBus
import DBC
import Foundation
import Simulate

struct SimulateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Make a demo drive: a plausible drive of the demo car as a candump log, encoded with its DBC.",
        discussion: """
        city: reversing out of a parking space, legs between traffic lights (red ones with a
        stop, some with turns), a passenger getting in at the first red light, rain from 45 %
        of the drive (the wipers follow), a tunnel without GNSS, and at the end a search for a
        parking space around the block and reversing into it, planned from --seed.
        short: the fixed 69 s drive the tests check moment by moment. Every message at its
        GenMsgCycleTime with each ECU's clock drift and jitter, on a simulated 500 kbit/s bus.
        The same seed gives the same log. The bundled drives are
        DBC/demo_city_drive.log.gz = `simulate --seed 7 --minutes 10 | gzip -9 -n` and
        DBC/demo_drive.log = `simulate --scenario short`.
        """)

    enum Scenario: String, ExpressibleByArgument, CaseIterable { case city, short }

    @Option(name: .long, help: "city (planned from the seed) or short (the fixed 69 s drive).") var scenario: Scenario = .city
    @Option(name: .long, help: "The seed: the same seed gives the same drive.") var seed: UInt64 = 7
    @Option(name: .long, help: "About how long a city drive is, in minutes.") var minutes: Double = 10
    @Option(name: .long, help: "The demo car's DBC.") var dbc: String?
    @Option(name: .shortAndLong, help: "Write the log here (default: standard output).") var output: String?
    @Option(name: .long, help: "The interface name in the log.") var interface: String = "vcan0"
    @Option(name: .long, help: ArgumentHelp("Inject faults: KIND:MESSAGE@START+DURATION[,...], KIND one of crc, skip, repeat, stuck, jump; e.g. stuck:VehicleSpeed@30+4.",
                                            discussion: "crc: wrong CRCs; skip: the counter jumps; repeat: the counter repeats; stuck: the ECU repeats its last frame; jump: VehicleSpeed reads 80 km/h too high with a valid CRC (a plausibility fault). Seconds from the start of the drive."))
    var faults: String?

    func validate() throws {
        if !(1...120).contains(minutes) { throw ValidationError("--minutes must be 1 to 120") }
        if let faults { do { _ = try FaultPlan(parsing: faults) } catch { throw ValidationError(error.description) } }
    }

    func run() throws {
        let path = try dbc ?? DemoFiles.locate("demo_vehicle.dbc")
        let database: Database
        do { database = try Database.load(path: path) } catch { throw CLIFailure.exit("\(error)", code: 65) }
        let plan = scenario == .short ? DriveScenario.scripted : DriveScenario(seed: seed, minutes: minutes)
        var simulator: DriveSimulator
        do { simulator = try DriveSimulator(database: database, scenario: plan, seed: seed, interface: interface) } catch {
            throw CLIFailure.exit("\(error)", code: 65)
        }
        if let faults {
            simulator.faults = try FaultPlan(parsing: faults)
            for f in simulator.faults.faults where database.message(named: f.message) == nil {
                throw CLIFailure.exit("--faults: the DBC has no message \(f.message)", code: 65)
            }
        }
        let out = OutputSink(fd: try output.map(OutputSink.create) ?? 1)
        var frames = 0
        var line = TextBuffer(capacity: 128)
        do {
            try simulator.run { record in
                CandumpWriter.appendLogLine(record, to: &line)
                out.write(line)
                line.removeAll()
                frames += 1
            }
        } catch { throw CLIFailure.exit("\(error)", code: 70) }
        out.flush()
        out.close()
        printError("vehicle-gateway: simulated \(String(format: "%.1f", simulator.scenario.duration)) s, \(frames) frames (seed \(seed))")
    }
}
