import CANBus
import SocketCAN
import VehicleState

/// Live SocketCAN interfaces, each resolved to its bus once at start-up, with kernel filters
/// set to the ids the mapping actually uses on that bus (the kernel drops the rest before they
/// cost a system call). Interfaces that go down or disappear are waited for and read again.
public struct LiveSource: FrameSource {
    public let interfaces: [String]
    /// Per interface: its bus.
    public let busOfInterface: [Int]
    public let socketOptions: [CANSocketOptions]

    /// The interfaces and their buses; an interface that maps to no bus is an error here.
    public init(interfaces: [String], mapping: CompiledMapping, buses: BusResolver, receiveBufferBytes: Int = 4 << 20) throws(Diagnostics) {
        var problems: [Diagnostic] = []
        var busOf: [Int] = []
        for name in interfaces {
            if name == CANSocket.anyInterface {
                problems.append(Diagnostic(file: "--interface", line: 0, column: 0,
                                           message: "'any' cannot be mapped to buses: name each interface the mapping's buses read"))
            } else if let b = buses.bus(of: name) {
                busOf.append(b)
            } else {
                problems.append(Diagnostic(file: "--interface", line: 0, column: 0, message: buses.unmapped(name)))
            }
        }
        if !problems.isEmpty { throw Diagnostics(problems) }
        self.interfaces = interfaces
        busOfInterface = busOf
        socketOptions = busOf.map { bus in
            var o = CANSocketOptions()
            o.receiveBufferBytes = receiveBufferBytes
            let ids = mapping.usedIDs(bus: bus)
            // The kernel takes at most 512 filters (CAN_RAW_FILTER_MAX); beyond that, read all.
            if ids.count <= 512 { o.filters = ids.map(CANFilter.exact) }
            return o
        }
    }

    public var summary: String { "socketcan " + interfaces.joined(separator: ", ") }

    public func run<Sink: FrameSink>(into sink: inout Sink) throws {
        sink.begin(.live)
        let reader = CANReader(interfaces: interfaces, options: socketOptions)
        for (i, name) in interfaces.enumerated() { sink.busEvent(.up(source: "socketcan " + name), bus: busOfInterface[i]) }
        let busOf = busOfInterface
        try reader.run(shouldStop: { sink.pause(); return sink.shouldStop }, emit: { i, event in
                let bus = busOf[i]
                switch event {
                case .frame(let record):
                    let t = record.timestamp.totalNanoseconds
                    // The kernel's receive time is the arrival time: no clock read per frame.
                    sink.deliver(BusFrame(bus: bus, timestamp: t, arrival: t, frame: record.frame))
                case .busError(_, let error):
                    sink.busEvent(.errorFrame, bus: bus)
                    if error.classes.contains(.busOff) { sink.busEvent(.busOff(reason: "\(error)"), bus: bus) }
                    else if error.classes.contains(.restarted) { sink.busEvent(.up(source: "socketcan " + interfaces[i]), bus: bus) }
                    else if error.controller.contains(.rxPassive) || error.controller.contains(.txPassive) {
                        sink.busEvent(.errorPassive(reason: "\(error)"), bus: bus)
                    }
                case .interfaceDown(_, let reason):
                    sink.busEvent(.down(reason: reason), bus: bus)
                case .interfaceUp(let name):
                    sink.busEvent(.up(source: "socketcan " + name), bus: bus)
                case .kernelDrops(_, let newDrops, _):
                    sink.busEvent(.kernelDrops(UInt64(newDrops)), bus: bus)
                }
        })
    }
}
