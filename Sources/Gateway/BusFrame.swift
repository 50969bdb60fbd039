import CANBus

/// A frame on its way through the gateway: what arrived, on which bus, and when. The bus is
/// resolved once, where the frame enters (a socket or a log line), never looked up again.
public struct BusFrame: Sendable {
    /// Index into the mapping's buses.
    public var bus: Int
    /// Frame time (ns): the kernel's receive time live, the log's time (or it moved to now) in replay.
    public var timestamp: Int64
    /// When the gateway received it (wall clock ns), for latency figures.
    public var arrival: Int64
    public var frame: CANFrame

    @inlinable
    public init(bus: Int, timestamp: Int64, arrival: Int64, frame: CANFrame) {
        self.bus = bus
        self.timestamp = timestamp
        self.arrival = arrival
        self.frame = frame
    }
}
