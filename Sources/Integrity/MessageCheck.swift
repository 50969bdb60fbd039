/// Everything one protected message is checked with, and its receiver state: the protection
/// (an AUTOSAR E2E profile, an opendbc car family's checksum, or a generic CRC), an optional
/// rolling counter beside it, and the validity state machine. One per message, made at start-up;
/// checking a frame is a switch and a few table lookups — no allocation, no existential.
public struct MessageCheck: Sendable {
    public enum Protection: Sendable {
        case e2eProfile1(E2EProfile1Config)
        case e2eProfile2(E2EProfile2Config)
        case e2eProfile4(E2EProfile4Config)
        case e2eProfile5(E2EProfile5Config)
        /// A car family's checksum as opendbc computes it; `address` is the frame's CAN id.
        case opendbc(OpendbcChecksum, checksum: BitField, address: UInt32)
        case crc(GenericCRCCheck)
        /// A counter only (`counter` must be set).
        case none
    }

    /// The outcome for one frame: why it is dropped, or nil when it passed.
    public typealias Fault = MessageValidity.Reason

    public let protection: Protection
    /// A rolling counter checked beside the protection (the E2E profiles carry their own).
    public let counter: RollingCounter?
    public private(set) var validity: MessageValidity
    var e2eState = E2ECheckState()
    var counterState = RollingCounter.State()
    /// Frames dropped, by reason (indexed by `Fault.rawValue`).
    public private(set) var dropped: (checksum: UInt64, counter: UInt64, repeated: UInt64, implausible: UInt64) = (0, 0, 0, 0)
    /// Frames that passed.
    public private(set) var passed: UInt64 = 0

    public init(protection: Protection, counter: RollingCounter? = nil, validity: MessageValidity.Configuration = .default) {
        precondition(counter != nil || { if case .none = protection { return false }; return true }(), "a check needs a protection or a counter")
        self.protection = protection
        self.counter = counter
        self.validity = MessageValidity(configuration: validity)
    }

    /// Checks one frame against its protection and the frames before it. Returns the fault that
    /// drops it, or nil. The validity state machine is updated either way.
    @inline(__always)
    public mutating func check(_ payload: UnsafeRawBufferPointer) -> Fault? {
        let status = Self.status(of: payload, protection, &e2eState)
        var fault = Self.fault(status)
        if fault == nil, let counter {
            fault = Self.fault(counter.check(payload, state: &counterState))
        }
        if let fault {
            validity.recordBad(fault)
            count(fault)
        } else {
            validity.recordGood()
            passed &+= 1
        }
        return fault
    }

    /// Whether the message's values may be believed now.
    @inline(__always) public var isValid: Bool { if case .invalid = validity.state { return false }; return true }

    /// The reason the message is invalid, or nil.
    public var invalidReason: Fault? { if case .invalid(let r) = validity.state { return r }; return nil }

    @inline(__always)
    mutating func count(_ fault: Fault) {
        switch fault {
        case .checksum: dropped.checksum &+= 1
        case .counter: dropped.counter &+= 1
        case .repeated: dropped.repeated &+= 1
        case .implausible: dropped.implausible &+= 1
        }
    }

    @inline(__always)
    static func fault(_ status: E2EStatus) -> Fault? {
        switch status {
        case .ok, .noNewData: return nil
        case .error: return .checksum
        case .wrongSequence: return .counter
        case .repeated: return .repeated
        }
    }

    @inline(__always)
    static func status(of payload: UnsafeRawBufferPointer, _ protection: Protection, _ state: inout E2ECheckState) -> E2EStatus {
        switch protection {
        case .e2eProfile1(let c): return c.check(payload, state: &state)
        case .e2eProfile2(let c): return c.check(payload, state: &state)
        case .e2eProfile4(let c): return c.check(payload, state: &state)
        case .e2eProfile5(let c): return c.check(payload, state: &state)
        case .opendbc(let family, let field, let address):
            guard payload.count >= field.requiredBytes else { return .error }
            return family.verify(address: address, checksum: field, payload: payload) ? .ok : .error
        case .crc(let c): return c.check(payload)
        case .none: return .ok
        }
    }
}
