import CANBus

/// What an error frame says about the bus and the controller (linux/can/error.h).
public struct BusError: Sendable, Equatable, CustomStringConvertible {
    public struct Classes: OptionSet, Sendable {
        public let rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }
        public static let txTimeout = Classes(rawValue: 0x001)
        public static let lostArbitration = Classes(rawValue: 0x002)
        public static let controller = Classes(rawValue: 0x004)
        public static let protocolViolation = Classes(rawValue: 0x008)
        public static let transceiver = Classes(rawValue: 0x010)
        public static let noAck = Classes(rawValue: 0x020)
        public static let busOff = Classes(rawValue: 0x040)
        public static let busError = Classes(rawValue: 0x080)
        public static let restarted = Classes(rawValue: 0x100)
        public static let counters = Classes(rawValue: 0x200)
    }

    /// Controller states from data[1] (CAN_ERR_CRTL_*).
    public struct ControllerStatus: OptionSet, Sendable {
        public let rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue }
        public static let rxOverflow = ControllerStatus(rawValue: 0x01)
        public static let txOverflow = ControllerStatus(rawValue: 0x02)
        public static let rxWarning = ControllerStatus(rawValue: 0x04)
        public static let txWarning = ControllerStatus(rawValue: 0x08)
        public static let rxPassive = ControllerStatus(rawValue: 0x10)
        public static let txPassive = ControllerStatus(rawValue: 0x20)
        public static let active = ControllerStatus(rawValue: 0x40)
    }

    public var classes: Classes
    public var controller: ControllerStatus
    /// Bit of arbitration lost (data[0]), when known.
    public var arbitrationBit: UInt8?
    /// TX and RX error counters (data[6], data[7]) when the frame carries them.
    public var txErrors: UInt8?
    public var rxErrors: UInt8?

    public init(_ frame: CANErrorFrame) {
        classes = Classes(rawValue: frame.errorClass)
        controller = classes.contains(.controller) ? ControllerStatus(rawValue: frame[byte: 1]) : []
        arbitrationBit = classes.contains(.lostArbitration) && frame[byte: 0] != 0 ? frame[byte: 0] : nil
        if classes.contains(.counters) {
            txErrors = frame[byte: 6]
            rxErrors = frame[byte: 7]
        }
    }

    /// The events in words, most severe first: `bus-off`, `error-passive`, `error-warning`, ...
    public var events: [String] {
        var out: [String] = []
        if classes.contains(.busOff) { out.append("bus-off") }
        if controller.contains(.rxPassive) || controller.contains(.txPassive) { out.append("error-passive") }
        if controller.contains(.rxWarning) || controller.contains(.txWarning) { out.append("error-warning") }
        if controller.contains(.active) { out.append("error-active") }
        if controller.contains(.rxOverflow) || controller.contains(.txOverflow) { out.append("controller-overflow") }
        if classes.contains(.lostArbitration) { out.append("lost-arbitration" + (arbitrationBit.map { " at bit \($0)" } ?? "")) }
        if classes.contains(.noAck) { out.append("no-ack") }
        if classes.contains(.txTimeout) { out.append("tx-timeout") }
        if classes.contains(.protocolViolation) { out.append("protocol-violation") }
        if classes.contains(.transceiver) { out.append("transceiver") }
        if classes.contains(.busError) { out.append("bus-error") }
        if classes.contains(.restarted) { out.append("restarted") }
        if let tx = txErrors, let rx = rxErrors { out.append("counters tx=\(tx) rx=\(rx)") }
        return out
    }

    public var description: String { events.isEmpty ? "error frame" : events.joined(separator: ", ") }
}
