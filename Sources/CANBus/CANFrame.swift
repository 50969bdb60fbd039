/// Frame value types. Every frame is a plain struct with inline payload storage, so reading,
/// copying and passing frames never touches the heap.

/// The valid CAN FD payload lengths (DLC 0–15 mapped to bytes).
public enum CANFDLength {
    public static let byDLC: [Int] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 12, 16, 20, 24, 32, 48, 64]

    @inlinable
    public static func isValid(_ length: Int) -> Bool {
        switch length {
        case 0...8, 12, 16, 20, 24, 32, 48, 64: return true
        default: return false
        }
    }

    /// The smallest valid FD length that holds `length` bytes (what a controller pads to).
    public static func padded(_ length: Int) -> Int? {
        byDLC.first { $0 >= length }
    }
}

/// A classic CAN data frame: 0–8 bytes, 16 bytes in memory.
public struct CANDataFrame: Hashable, Sendable {
    /// Payload bytes in wire order: byte 0 of the frame is the first byte in memory.
    /// (Declared first so the frame packs into 16 bytes.)
    public var data: UInt64
    public var id: CANID
    /// Number of payload bytes, 0–8.
    public var length: UInt8
    /// The raw DLC 9–15 that a classic frame with 8 bytes may carry (candump's `_<dlc>`), else 0.
    public var len8DLC: UInt8

    @inlinable
    public init(id: CANID, data: UInt64 = 0, length: UInt8, len8DLC: UInt8 = 0) {
        self.id = id
        self.data = data
        self.length = length
        self.len8DLC = len8DLC
    }

    public init(id: CANID, bytes: some Collection<UInt8>, len8DLC: UInt8 = 0) {
        precondition(bytes.count <= 8, "a classic CAN frame carries at most 8 bytes")
        var word: UInt64 = 0
        withUnsafeMutableBytes(of: &word) { raw in
            for (i, b) in bytes.enumerated() { raw[i] = b }
        }
        self.init(id: id, data: word, length: UInt8(bytes.count), len8DLC: len8DLC)
    }

    @inlinable
    public subscript(byte index: Int) -> UInt8 {
        get { withUnsafeBytes(of: data) { $0[index] } }
        set { withUnsafeMutableBytes(of: &data) { $0[index] = newValue } }
    }

    public var bytes: [UInt8] { withUnsafeBytes(of: data) { Array($0.prefix(Int(length))) } }
}

/// A CAN FD frame: up to 64 bytes stored inline.
public struct CANFDFrame: Sendable {
    /// Bit rate switch: the data phase ran at the data bit rate.
    public static let bitRateSwitch: UInt8 = 0x01
    /// Error state indicator: the sender was error-passive.
    public static let errorStateIndicator: UInt8 = 0x02
    /// FD format marker, set by newer kernels on every FD frame.
    public static let fdFormat: UInt8 = 0x04

    public var id: CANID
    /// Number of payload bytes: 0–8, 12, 16, 20, 24, 32, 48 or 64.
    public var length: UInt8
    /// The flags nibble as candump writes it (BRS 0x1, ESI 0x2, FDF 0x4).
    public var flags: UInt8
    public var payload: InlineArray<64, UInt8>

    @inlinable
    public init(id: CANID, length: UInt8, flags: UInt8 = 0) {
        self.id = id
        self.length = length
        self.flags = flags
        self.payload = .init(repeating: 0)
    }

    public init(id: CANID, bytes: some Collection<UInt8>, flags: UInt8 = 0) {
        precondition(bytes.count <= 64, "a CAN FD frame carries at most 64 bytes")
        self.init(id: id, length: UInt8(bytes.count), flags: flags)
        for (i, b) in bytes.enumerated() { payload[i] = b }
    }

    public var bitRateSwitch: Bool { flags & Self.bitRateSwitch != 0 }
    public var errorStateIndicator: Bool { flags & Self.errorStateIndicator != 0 }
    public var bytes: [UInt8] { (0..<Int(length)).map { payload[$0] } }
}

/// A classic remote transmission request: an id and a requested DLC, no payload.
public struct CANRemoteFrame: Hashable, Sendable {
    public var id: CANID
    public var dlc: UInt8
    public var len8DLC: UInt8

    public init(id: CANID, dlc: UInt8 = 0, len8DLC: UInt8 = 0) {
        self.id = id
        self.dlc = dlc
        self.len8DLC = len8DLC
    }
}

/// An error frame as SocketCAN reports it: class bits in the id, details in the 8 data bytes.
public struct CANErrorFrame: Hashable, Sendable {
    /// The error class bits (`can_id & CAN_ERR_MASK`).
    public var errorClass: UInt32
    public var data: UInt64
    public var length: UInt8

    public init(errorClass: UInt32, data: UInt64 = 0, length: UInt8 = 8) {
        self.errorClass = errorClass & CANID.extendedMask
        self.data = data
        self.length = length
    }

    @inlinable
    public subscript(byte index: Int) -> UInt8 { withUnsafeBytes(of: data) { $0[index] } }
    public var bytes: [UInt8] { withUnsafeBytes(of: data) { Array($0.prefix(Int(length))) } }
}

/// Any frame SocketCAN can deliver.
public enum CANFrame: Sendable {
    case data(CANDataFrame)
    case fd(CANFDFrame)
    case remote(CANRemoteFrame)
    case error(CANErrorFrame)

    /// The id for data, FD and remote frames; nil for error frames.
    @inlinable
    public var id: CANID? {
        switch self {
        case .data(let f): return f.id
        case .fd(let f): return f.id
        case .remote(let f): return f.id
        case .error: return nil
        }
    }

    /// Payload length in bytes (0 for remote frames).
    @inlinable
    public var length: Int {
        switch self {
        case .data(let f): return Int(f.length)
        case .fd(let f): return Int(f.length)
        case .remote: return 0
        case .error(let f): return Int(f.length)
        }
    }

    /// Calls `body` with the payload bytes, without copying them to the heap.
    @inlinable
    public func withPayload<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        switch self {
        case .data(let f):
            return try withUnsafeBytes(of: f.data) { try body(UnsafeRawBufferPointer(rebasing: $0.prefix(Int(f.length)))) }
        case .fd(let f):
            return try withUnsafeBytes(of: f.payload) { try body(UnsafeRawBufferPointer(rebasing: $0.prefix(Int(f.length)))) }
        case .remote:
            return try body(UnsafeRawBufferPointer(start: nil, count: 0))
        case .error(let f):
            return try withUnsafeBytes(of: f.data) { try body(UnsafeRawBufferPointer(rebasing: $0.prefix(Int(f.length)))) }
        }
    }

    public var bytes: [UInt8] { withPayload { Array($0) } }
}

extension CANFDFrame: Equatable {
    public static func == (a: CANFDFrame, b: CANFDFrame) -> Bool {
        guard a.id == b.id, a.length == b.length, a.flags == b.flags else { return false }
        for i in 0..<Int(a.length) where a.payload[i] != b.payload[i] { return false }
        return true
    }
}

extension CANFrame: Equatable {}
