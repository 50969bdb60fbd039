import Atomics
import Integrity
import VehicleState

/// Each protected message's integrity as readers see it: whether it is valid (and if not, why)
/// and how many of its frames were dropped, by reason; and per path, values dropped as
/// implausible. The frame path is the only writer (plain atomic stores); the APIs read.
public final class IntegrityStatusTable: @unchecked Sendable {
    /// Per message: state (0 unseen, 1 valid, 2 + reason invalid), passed, then dropped by reason.
    static let wordsPerMessage = 2 + 4
    public let messages: [String]
    public let paths: [String]
    let words: UnsafeMutablePointer<UnsafeAtomic<UInt64>.Storage>
    let pathWords: UnsafeMutablePointer<UnsafeAtomic<UInt64>.Storage>

    public init(mapping: CompiledMapping) {
        messages = mapping.integrity.names
        paths = mapping.paths.map(\.name)
        let n = max(1, messages.count * Self.wordsPerMessage)
        words = .allocate(capacity: n)
        words.initialize(repeating: UnsafeAtomic<UInt64>.Storage(0), count: n)
        pathWords = .allocate(capacity: max(1, paths.count))
        pathWords.initialize(repeating: UnsafeAtomic<UInt64>.Storage(0), count: max(1, paths.count))
    }

    deinit { words.deallocate(); pathWords.deallocate() }

    @inline(__always) func word(_ m: Int, _ k: Int) -> UnsafeAtomic<UInt64> { UnsafeAtomic(at: words + m * Self.wordsPerMessage + k) }

    /// Writer only: the outcome of one checked frame.
    @inline(__always) func record(_ m: Int, fault: MessageValidity.Reason?, state: MessageValidity.State) {
        let k = fault.map { 2 + Int($0.rawValue) } ?? 1
        let w = word(m, k)
        w.store(w.load(ordering: .relaxed) &+ 1, ordering: .relaxed)
        let code: UInt64
        switch state {
        case .unseen: code = 0
        case .valid: code = 1
        case .invalid(let r): code = 2 + UInt64(r.rawValue)
        }
        word(m, 0).store(code, ordering: .relaxed)
    }

    /// Writer only: the implausible-value count of `path`.
    @inline(__always) func setImplausible(_ path: Int, _ n: Int) { UnsafeAtomic<UInt64>(at: pathWords + path).store(UInt64(n), ordering: .relaxed) }

    public struct Message: Sendable {
        public var name: String
        /// nil before its first frame.
        public var valid: Bool?
        public var invalidReason: MessageValidity.Reason?
        public var passed: UInt64
        public var dropped: [(reason: MessageValidity.Reason, frames: UInt64)]
        public var droppedTotal: UInt64 { dropped.reduce(0) { $0 + $1.frames } }
    }

    /// A snapshot of every protected message.
    public func snapshot() -> [Message] {
        messages.indices.map { m in
            let code = word(m, 0).load(ordering: .relaxed)
            let reasons: [MessageValidity.Reason] = [.checksum, .counter, .repeated, .implausible]
            return Message(name: messages[m], valid: code == 0 ? nil : code == 1,
                           invalidReason: code >= 2 ? MessageValidity.Reason(rawValue: UInt8(code - 2)) : nil,
                           passed: word(m, 1).load(ordering: .relaxed),
                           dropped: reasons.map { ($0, word(m, 2 + Int($0.rawValue)).load(ordering: .relaxed)) })
        }
    }

    /// Per path with any: values dropped as implausible.
    public func implausibleValues() -> [(path: String, values: UInt64)] {
        paths.indices.compactMap { p in
            let n = UnsafeAtomic<UInt64>(at: pathWords + p).load(ordering: .relaxed)
            return n > 0 ? (paths[p], n) : nil
        }
    }
}
