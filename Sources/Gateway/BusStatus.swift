import Atomics
import CANBus

/// How each bus is doing: its state and counters. The frame path writes them with plain atomic
/// stores (it is the only writer); readers take a `BusStatus` snapshot.
public final class BusStatusTable: @unchecked Sendable {
    public enum State: UInt64, Sendable, CaseIterable {
        case unknown, up, down, busOff, errorPassive, ended

        /// As `/healthz` and the status line say it.
        public var name: String {
            switch self {
            case .unknown: return "unknown"
            case .up: return "up"
            case .down: return "down"
            case .busOff: return "bus-off"
            case .errorPassive: return "error-passive"
            case .ended: return "ended"
            }
        }
    }

    /// The counters of one bus, one atomic word each.
    enum Word: Int, CaseIterable {
        case frames, unknownFrames, shortFrames, errorFrames, kernelDrops, lastFrameWall, state
    }

    public let names: [String]
    public let interfaces: [String?]
    let words: UnsafeMutablePointer<UnsafeAtomic<UInt64>.Storage>
    let texts: [ManagedAtomic<TextBox>]  // per bus: reason, source

    final class TextBox: AtomicReference, Sendable { let text: String; init(_ t: String) { text = t } }

    public init(mapping names: [String], interfaces: [String?]) {
        self.names = names
        self.interfaces = interfaces
        let n = max(1, names.count * Word.allCases.count)
        words = .allocate(capacity: n)
        words.initialize(repeating: UnsafeAtomic<UInt64>.Storage(0), count: n)
        texts = (0..<names.count * 2).map { _ in ManagedAtomic(TextBox("")) }
    }

    deinit { words.deallocate() }

    public var count: Int { names.count }

    @inline(__always) func word(_ bus: Int, _ w: Word) -> UnsafeAtomic<UInt64> {
        UnsafeAtomic(at: words + bus * Word.allCases.count + w.rawValue)
    }

    /// Writer only: adds to a counter (a load and a store: there is one writer).
    @inline(__always) func add(_ bus: Int, _ w: Word, _ n: UInt64 = 1) {
        let a = word(bus, w)
        a.store(a.load(ordering: .relaxed) &+ n, ordering: .relaxed)
    }

    @inline(__always) func set(_ bus: Int, _ w: Word, _ value: UInt64) { word(bus, w).store(value, ordering: .relaxed) }

    /// Writer only: the bus's state and, when it is not up, why.
    public func set(_ bus: Int, _ state: State, reason: String = "") {
        texts[bus * 2].store(TextBox(reason), ordering: .releasing)
        set(bus, .state, state.rawValue)
    }

    /// What feeds the bus: "socketcan vcan0", "replay drive.log at 1x".
    public func describeSource(_ bus: Int, _ text: String) { texts[bus * 2 + 1].store(TextBox(text), ordering: .releasing) }

    public func state(_ bus: Int) -> State { State(rawValue: word(bus, .state).load(ordering: .relaxed)) ?? .unknown }
    public func frames(_ bus: Int) -> UInt64 { word(bus, .frames).load(ordering: .relaxed) }

    /// One bus as it is now.
    public func status(_ bus: Int) -> BusStatus {
        func load(_ w: Word) -> UInt64 { word(bus, w).load(ordering: .relaxed) }
        return BusStatus(name: names[bus], interface: interfaces[bus], source: texts[bus * 2 + 1].load(ordering: .acquiring).text,
                         state: state(bus), reason: texts[bus * 2].load(ordering: .acquiring).text,
                         frames: load(.frames), unknownFrames: load(.unknownFrames), shortFrames: load(.shortFrames),
                         errorFrames: load(.errorFrames), kernelDrops: load(.kernelDrops),
                         lastFrameWallNanoseconds: Int64(bitPattern: load(.lastFrameWall)))
    }

    public var all: [BusStatus] { (0..<count).map(status) }
}

/// A snapshot of one bus.
public struct BusStatus: Sendable {
    public var name: String
    public var interface: String?
    public var source: String
    public var state: BusStatusTable.State
    /// Why it is not up (empty while up).
    public var reason: String
    public var frames: UInt64
    /// Frames whose id is not in the bus's DBC files.
    public var unknownFrames: UInt64
    /// Frames shorter than their message, so some signals could not be decoded.
    public var shortFrames: UInt64
    public var errorFrames: UInt64
    public var kernelDrops: UInt64
    /// Wall time (ns) of the last frame; 0 before any.
    public var lastFrameWallNanoseconds: Int64
}
