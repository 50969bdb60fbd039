/// Per-message validity with hysteresis, in the spirit of opendbc's parser.
///
/// A message turns invalid when a bad frame leaves `badFramesToInvalidate` (N) bad frames among
/// the last `window` (W) frames it received; it turns valid again after `goodFramesToRecover` (M)
/// consecutive good frames. The window counts frames, not time: per-frame cost is a shift and a
/// popcount, and a silent message is a timeout matter for the caller, not a fault here.
///
/// Defaults N = 5, W = 10, M = 5. opendbc 0.3.1 (`opendbc/can/parser.py`) uses a leaky bucket:
/// each counter failure adds one (saturating at `MAX_BAD_COUNTER` = 5), each good counter takes
/// one away, and the message is invalid while the bucket is at 5 — so five consecutive counter
/// failures invalidate it (here too: 5 of the last 10) and one good frame makes it valid again
/// (here five, so a message failing every other frame does not flicker). opendbc rejects a frame
/// with a bad checksum without counting it towards invalidity; here a checksum failure is a bad
/// frame like the others.
public struct MessageValidity: Sendable {
    /// Why a frame was bad, and so why the message went invalid.
    public enum Reason: UInt8, Sendable, CustomStringConvertible {
        case checksum
        case counter
        case repeated
        case implausible

        public var description: String {
            switch self {
            case .checksum: return "checksum"
            case .counter: return "counter"
            case .repeated: return "repeated"
            case .implausible: return "implausible"
            }
        }
    }

    public enum State: Hashable, Sendable {
        /// No frame yet.
        case unseen
        case valid
        case invalid(Reason)

        public var isValid: Bool { self == .valid }
    }

    public struct Configuration: Hashable, Sendable {
        /// N: bad frames within the window that make the message invalid (1...window).
        public var badFramesToInvalidate: Int
        /// W: the window, in frames (1...64).
        public var window: Int
        /// M: consecutive good frames that make an invalid message valid again (≥ 1).
        public var goodFramesToRecover: Int

        public init(badFramesToInvalidate: Int = 5, window: Int = 10, goodFramesToRecover: Int = 5) {
            precondition((1...64).contains(window), "window must be 1...64 frames")
            precondition((1...window).contains(badFramesToInvalidate), "N must be 1...window")
            precondition(goodFramesToRecover >= 1, "M must be at least 1")
            self.badFramesToInvalidate = badFramesToInvalidate
            self.window = window
            self.goodFramesToRecover = goodFramesToRecover
        }

        public static let `default` = Configuration()
    }

    public let configuration: Configuration
    public private(set) var state: State = .unseen
    /// Bit k set: the frame k frames ago was bad (bit 0 = latest).
    public private(set) var history: UInt64 = 0
    public private(set) var consecutiveGood = 0
    @usableFromInline let windowMask: UInt64

    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
        windowMask = configuration.window == 64 ? .max : (1 << UInt64(configuration.window)) - 1
    }

    /// Bad frames among the last `window` frames.
    public var badFramesInWindow: Int { (history & windowMask).nonzeroBitCount }

    /// Records a good frame.
    @discardableResult
    public mutating func recordGood() -> State {
        history = (history << 1) & windowMask
        consecutiveGood += 1
        switch state {
        case .unseen: state = .valid
        case .invalid: if consecutiveGood >= configuration.goodFramesToRecover { state = .valid }
        case .valid: break
        }
        return state
    }

    /// Records a bad frame.
    @discardableResult
    public mutating func recordBad(_ reason: Reason) -> State {
        history = ((history << 1) | 1) & windowMask
        consecutiveGood = 0
        if badFramesInWindow >= configuration.badFramesToInvalidate {
            state = .invalid(reason)
        } else if state == .unseen {
            state = .valid
        }
        return state
    }

    /// Records an E2E/counter/CRC status: `.ok` is good, `.error` a checksum fault,
    /// `.wrongSequence` a counter fault, `.repeated` a repetition; `.noNewData` changes nothing.
    @discardableResult
    public mutating func record(_ status: E2EStatus) -> State {
        switch status {
        case .ok: return recordGood()
        case .error: return recordBad(.checksum)
        case .wrongSequence: return recordBad(.counter)
        case .repeated: return recordBad(.repeated)
        case .noNewData: return state
        }
    }
}
