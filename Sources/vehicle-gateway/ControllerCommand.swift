import ArgumentParser
import CANControl
import SocketCAN

struct ControllerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "controller",
        abstract: "Show a CAN controller's state, error counters and statistics (libsocketcan); set its bit rate or restart it.")

    @Argument(help: "The CAN interface.") var interface: String
    @Option(name: .long, help: "Set the bit rate (the interface must be down).") var bitrate: UInt32?
    @Option(name: .long, help: "Set the CAN FD data bit rate (the interface must be down).") var dataBitrate: UInt32?
    @Option(name: .long, help: "Restart automatically this many ms after bus-off (0 = off).") var restartMs: UInt32?
    @Flag(name: .long, help: "Restart the controller now (after bus-off).") var restart = false

    func run() throws {
        let c = CANController(interface: interface)
        guard CANInterface(interface).state != .absent else { throw CLIFailure.exit("\(interface): no such interface", code: 66) }
        func show<T>(_ label: String, _ answer: CANController.Answer<T>, _ text: (T) -> String) {
            switch answer {
            case .value(let v): print("\(label): \(text(v))")
            case .unsupported(let why): print("\(label): not available: \(why)")
            }
        }
        if let bitrate { show("set bit rate", c.setBitrate(bitrate)) { "\(bitrate) bit/s" } }
        if let dataBitrate { show("set data bit rate", c.setDataBitrate(dataBitrate)) { "\(dataBitrate) bit/s" } }
        if let restartMs { show("set automatic restart", c.setAutomaticRestart(milliseconds: restartMs)) { "\(restartMs) ms" } }
        if restart { show("restart", c.restart()) { "done" } }
        show("state", c.state) { $0.rawValue }
        show("bit rate", c.bitrate) { "\($0) bit/s" }
        show("error counters", c.errorCounters) { "tx \($0.tx), rx \($0.rx)" }
        show("statistics", c.statistics) {
            "bus errors \($0.busErrors), warnings \($0.errorWarnings), passive \($0.errorPassives), bus-off \($0.busOffs), arbitration lost \($0.arbitrationLosses), restarts \($0.restarts)"
        }
    }
}
