import ArgumentParser
import CANBus
import SocketCAN

struct SendCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "send",
        abstract: "Send one frame, in cansend syntax (123#DEADBEEF, 12345678#00, 123#R, 123##1AABBCC).")

    @Argument(help: "The CAN interface.") var interface: String
    @Argument(help: "The frame.") var frame: String

    func run() throws {
        let parsed: CANFrame
        do { parsed = try CandumpParser.parseFrameText(frame) } catch {
            throw CLIFailure.exit("'\(frame)': column \(error.column): \(error.message)", code: 64)
        }
        do {
            var options = CANSocketOptions()
            options.errorMask = 0
            try CANSocket(interface: interface, options: options).send(parsed)
        } catch {
            throw CLIFailure.exit("\(error)", code: 74)
        }
    }
}
