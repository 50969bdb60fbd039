#if canImport(Glibc)
import Glibc
#endif
import CANBus
import CSocketCAN

/// A kernel acceptance filter: a frame passes when `received & mask == id & mask`.
public struct CANFilter: Sendable, Equatable {
    public var id: UInt32
    public var mask: UInt32

    /// Exactly this id, in its own id space (standard and extended stay apart).
    public static func exact(_ id: CANID) -> CANFilter {
        let eff: UInt32 = 0x8000_0000, rtr: UInt32 = 0x4000_0000
        return id.isExtended
            ? CANFilter(id: id.value | eff, mask: CANID.extendedMask | eff | rtr)
            : CANFilter(id: id.value, mask: CANID.standardMask | eff | rtr)
    }
}

public struct CANSocketOptions: Sendable {
    /// Receive CAN FD frames as well as classic ones (CAN_RAW_FD_FRAMES).
    public var canFD = true
    /// Receive the frames this socket sends (CAN_RAW_RECV_OWN_MSGS).
    public var receiveOwnMessages = false
    /// Kernel receive buffer in bytes (SO_RCVBUF; the kernel doubles it and caps it at rmem_max,
    /// so SO_RCVBUFFORCE is tried first when running as root).
    public var receiveBufferBytes: Int?
    /// Kernel filters; nil receives every frame.
    public var filters: [CANFilter]?
    /// Error classes to receive as error frames (CAN_RAW_ERR_FILTER); 0 for none.
    public var errorMask: UInt32 = 0x1FFF_FFFF
    /// Frames read per recvmmsg call.
    public var batchSize = 64

    public init() {}
}

/// A raw CAN socket bound to one interface, or to all of them with the name `any` (as candump
/// does): batched receive with kernel timestamps and the drop counter, and send. Thin: every
/// failure is a `SystemError` carrying errno.
public final class CANSocket: @unchecked Sendable {
    /// The interface name that binds to every CAN interface.
    public static let anyInterface = "any"
    public let interface: String
    public let options: CANSocketOptions
    public let descriptor: Int32
    let batch: OpaquePointer
    /// The kernel's cumulative drop counter for this socket (SO_RXQ_OVFL).
    public private(set) var kernelDrops: UInt32 = 0
    /// Interface names by index, for sockets bound to all interfaces (filled as frames arrive).
    var namesByIndex: [String?] = []

    @inline(__always)
    func name(ofIndex index: Int32) -> String {
        guard interface == Self.anyInterface else { return interface }
        let i = Int(index)
        if i >= 0, i < namesByIndex.count, let n = namesByIndex[i] { return n }
        let n = CANInterface.name(ofIndex: index) ?? "if\(index)"
        if i >= 0 && i < 4096 {
            if i >= namesByIndex.count { namesByIndex += Array(repeating: nil, count: i + 1 - namesByIndex.count) }
            namesByIndex[i] = n
        }
        return n
    }

    public init(interface: String, options: CANSocketOptions = CANSocketOptions()) throws(SystemError) {
        self.interface = interface
        self.options = options
        let index: Int32
        if interface == Self.anyInterface { index = 0 } else {
            guard let i = CANInterface(interface).index else {
                throw SystemError(errno: ENODEV, operation: "open CAN socket on \(interface)")
            }
            index = i
        }
        let fd = vg_open_raw(index, options.canFD ? 1 : 0)
        guard fd >= 0 else {
            var e = SystemError(errno: -fd, operation: "open CAN socket on \(interface)")
            if e.isCANUnsupported { e.operation += " (this kernel has no SocketCAN: load the can and can_raw modules)" }
            throw e
        }
        descriptor = fd
        func check(_ rc: Int32, _ what: String) throws(SystemError) {
            if rc < 0 { close(fd); throw SystemError(errno: -rc, operation: "\(what) on \(interface)") }
        }
        try check(vg_set_int_option(fd, SOL_SOCKET, SO_TIMESTAMPNS, 1), "enable SO_TIMESTAMPNS")
        try check(vg_set_int_option(fd, SOL_SOCKET, 40 /* SO_RXQ_OVFL */, 1), "enable SO_RXQ_OVFL")
        try check(vg_set_error_mask(fd, options.errorMask), "set CAN_RAW_ERR_FILTER")
        if options.receiveOwnMessages {
            try check(vg_set_int_option(fd, SOL_CAN_RAW, Int32(CAN_RAW_RECV_OWN_MSGS), 1), "enable CAN_RAW_RECV_OWN_MSGS")
        }
        if let filters = options.filters {
            let kernel = filters.map { can_filter(can_id: $0.id, can_mask: $0.mask) }
            try check(kernel.withUnsafeBufferPointer { vg_set_filters(fd, $0.baseAddress, Int32($0.count)) }, "set CAN_RAW_FILTER")
        }
        if let bytes = options.receiveBufferBytes {
            // SO_RCVBUFFORCE ignores rmem_max (needs CAP_NET_ADMIN); fall back to SO_RCVBUF.
            if vg_set_int_option(fd, SOL_SOCKET, SO_RCVBUFFORCE, Int32(bytes)) < 0 {
                try check(vg_set_int_option(fd, SOL_SOCKET, SO_RCVBUF, Int32(bytes)), "set SO_RCVBUF")
            }
        }
        guard let b = vg_rx_batch_create(Int32(max(1, options.batchSize))) else {
            close(fd)
            throw SystemError(errno: ENOMEM, operation: "allocate receive batch")
        }
        batch = b
    }

    deinit {
        vg_rx_batch_destroy(batch)
        close(descriptor)
    }

    /// Waits up to `timeoutMilliseconds` (-1 forever) and hands each received frame to `body`;
    /// returns how many there were (0 on timeout). One recvmmsg call per batch.
    @discardableResult
    public func receive(timeoutMilliseconds: Int32, _ body: (CANLogRecord) -> Void) throws(SystemError) -> Int {
        let n = vg_rx_batch_receive(descriptor, batch, timeoutMilliseconds)
        if n < 0 { throw SystemError(errno: -n, operation: "receive on \(interface)") }
        let slots = vg_rx_batch_slots(batch)!
        for i in 0..<Int(n) {
            let slot = slots[i]
            if slot.has_dropped != 0 { kernelDrops = slot.dropped }
            guard let frame = KernelFrame.frame(from: slot.frame, bytes: slot.bytes) else { continue }
            let timestamp: CANTimestamp
            if slot.ts_nsec >= 0 {
                timestamp = CANTimestamp(seconds: slot.ts_sec, nanoseconds: UInt32(slot.ts_nsec), fractionDigits: 6)
            } else {
                timestamp = SystemClock.wallTimestamp()
            }
            body(CANLogRecord(timestamp: timestamp, interface: name(ofIndex: slot.ifindex), frame: frame))
        }
        return Int(n)
    }

    /// Sends one frame (classic, remote or FD); error frames cannot be sent.
    public func send(_ frame: CANFrame) throws(SystemError) {
        guard let (kernel, bytes) = KernelFrame.kernelFrame(frame) else {
            throw SystemError(errno: EINVAL, operation: "send an error frame on \(interface)")
        }
        var k = kernel
        if bytes == KernelFrame.fdMTU && !options.canFD {
            throw SystemError(errno: EINVAL, operation: "send a CAN FD frame on \(interface) without CAN FD enabled")
        }
        let rc = vg_send(descriptor, &k, bytes)
        if rc < 0 { throw SystemError(errno: -rc, operation: "send on \(interface)") }
    }

}
