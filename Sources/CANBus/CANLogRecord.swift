/// One frame as a log or a socket delivers it: when, on which interface, and what.
public struct CANLogRecord: Sendable, Equatable {
    public var timestamp: CANTimestamp
    /// The interface name (`vcan0`); names are at most 15 bytes, which Swift stores inline.
    public var interface: String
    public var frame: CANFrame

    public init(timestamp: CANTimestamp, interface: String, frame: CANFrame) {
        self.timestamp = timestamp
        self.interface = interface
        self.frame = frame
    }
}
