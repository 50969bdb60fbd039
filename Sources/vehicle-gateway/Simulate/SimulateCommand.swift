import ArgumentParser
import CANBus
import DBC
import Foundation

struct SimulateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Make a demo drive: a plausible city drive as a candump log, encoded with the demo DBC.",
        discussion: """
        Reversing out of a parking space, legs between traffic lights (red ones with a stop,
        some with turns), a tunnel without GNSS, parking at the end. Every message at its
        GenMsgCycleTime with each ECU's clock drift and jitter, on a simulated 500 kbit/s bus.
        The same --seed gives the same log. DBC/demo_city_drive.log.gz, the drive `run` plays by default, is
        `simulate --seed 7 --minutes 10 | gzip -9 -n`.
        """)

    @Option(name: .long, help: "The seed: the same seed gives the same drive.") var seed: UInt64 = 7
    @Option(name: .long, help: "About how long the drive is, in minutes.") var minutes: Double = 10
    @Option(name: .long, help: "The demo car's DBC.") var dbc: String?
    @Option(name: .shortAndLong, help: "Write the log here (default: standard output).") var output: String?
    @Option(name: .long, help: "The interface name in the log.") var interface: String = "vcan0"

    func validate() throws {
        if !(1...120).contains(minutes) { throw ValidationError("--minutes must be 1 to 120") }
    }

    func run() throws {
        let path = try dbc ?? DemoFiles.locate("demo_vehicle.dbc")
        let database: Database
        do { database = try Database.load(path: path) } catch { throw CLIFailure.exit("\(error)", code: 65) }
        var simulator: DriveSimulator
        do { simulator = try DriveSimulator(database: database, seed: seed, minutes: minutes, interface: interface) } catch {
            throw CLIFailure.exit("\(error)", code: 65)
        }
        let fd: Int32 = output.map { open($0, O_WRONLY | O_CREAT | O_TRUNC, 0o644) } ?? 1
        guard fd >= 0 else { throw CLIFailure.exit("cannot write \(output!)", code: 73) }
        defer { if fd != 1 { close(fd) } }
        var out = TextBuffer(capacity: 1 << 20)
        var frames = 0
        do {
            try simulator.run { record in
                CandumpWriter.appendLogLine(record, to: &out)
                frames += 1
                if out.count > (1 << 20) - 256 { Self.write(fd, &out) }
            }
        } catch { throw CLIFailure.exit("\(error)", code: 70) }
        Self.write(fd, &out)
        printError("vehicle-gateway: simulated \(String(format: "%.1f", simulator.scenario.duration)) s, \(frames) frames (seed \(seed))")
    }

    static func write(_ fd: Int32, _ out: inout TextBuffer) {
        out.bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset)
                if n <= 0 { break }
                offset += n
            }
        }
        out.removeAll()
    }
}
