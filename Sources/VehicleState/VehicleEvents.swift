import Atomics

/// Moments an assistant can act on, derived on the frame path from the context as it changes:
/// the car parked, departed or stopped; the position lost in a tunnel and found again; energy
/// low; a break due; rain starting; a door opened while moving; hard braking. Each has the frame time it
/// happened and a number (its id, counting from 1).
public struct VehicleEvent: Sendable, Equatable {
    public enum Kind: UInt8, Sendable, CaseIterable {
        case parked = 1, departed, stopped, tunnelEntered, gnssRestored, energyLow, breakRecommended,
             doorOpenedWhileMoving, hardBraking, rainStarted

        /// As the APIs name it.
        public var name: String {
            switch self {
            case .parked: return "parked"
            case .departed: return "departed"
            case .stopped: return "stopped"
            case .tunnelEntered: return "tunnel_entered"
            case .gnssRestored: return "gnss_restored"
            case .energyLow: return "energy_low"
            case .breakRecommended: return "break_recommended"
            case .doorOpenedWhileMoving: return "door_opened_while_moving"
            case .hardBraking: return "hard_braking"
            case .rainStarted: return "rain_started"
            }
        }
    }

    public var id: UInt64
    public var kind: Kind
    /// Frame time, ns.
    public var timestampNanoseconds: Int64
}

/// The last `capacity` events, written by the frame path and read by anyone without locks: each
/// slot is two atomic words (time, id << 8 | kind) guarded as a seqlock by its tag, and the
/// count of events written is published after the slot. Memory is fixed: old events fall off.
public final class VehicleEventLog: @unchecked Sendable {
    public static let capacity = 256
    let words: UnsafeMutablePointer<UnsafeAtomic<UInt64>.Storage>
    let written = ManagedAtomic<UInt64>(0)

    public init() {
        words = .allocate(capacity: 2 * Self.capacity)
        words.initialize(repeating: UnsafeAtomic<UInt64>.Storage(0), count: 2 * Self.capacity)
    }

    deinit { words.deallocate() }

    @inline(__always) func word(_ k: Int) -> UnsafeAtomic<UInt64> { UnsafeAtomic(at: words + k) }

    /// Writer only.
    func append(_ kind: VehicleEvent.Kind, at time: Int64) {
        let id = written.load(ordering: .relaxed) &+ 1
        let slot = Int((id - 1) % UInt64(Self.capacity))
        // A per-slot seqlock: the tag is cleared before the time changes and set after it,
        // so a reader that saw the same tag before and after read a whole slot.
        word(2 * slot + 1).store(0, ordering: .relaxed)
        atomicMemoryFence(ordering: .releasing)
        word(2 * slot).store(UInt64(bitPattern: time), ordering: .relaxed)
        word(2 * slot + 1).store(id << 8 | UInt64(kind.rawValue), ordering: .releasing)
        written.store(id, ordering: .releasing)
    }

    /// The newest event's id (0 before any).
    public var lastID: UInt64 { written.load(ordering: .acquiring) }

    /// The events with an id above `after`, oldest first, at most `limit` (the newest ones).
    public func events(after: UInt64 = 0, limit: Int = capacity) -> [VehicleEvent] {
        guard after < UInt64.max, limit > 0 else { return [] }  // (after + 1 must not overflow: found by schemathesis)
        var out: [VehicleEvent] = []
        for _ in 0..<4 {
            let last = written.load(ordering: .acquiring)
            let first = max(after + 1, last >= UInt64(Self.capacity) ? last - UInt64(Self.capacity) + 1 : 1,
                            last >= UInt64(limit) ? last - UInt64(limit) + 1 : 1)
            guard first <= last else { return [] }
            out = []
            out.reserveCapacity(Int(last - first + 1))
            var torn = false
            for id in first...last {
                let slot = Int((id - 1) % UInt64(Self.capacity))
                let tag = word(2 * slot + 1).load(ordering: .acquiring)
                let time = Int64(bitPattern: word(2 * slot).load(ordering: .relaxed))
                atomicMemoryFence(ordering: .acquiring)
                guard tag >> 8 == id, word(2 * slot + 1).load(ordering: .relaxed) == tag, let kind = VehicleEvent.Kind(rawValue: UInt8(truncatingIfNeeded: tag)) else { torn = true; break }
                out.append(VehicleEvent(id: id, kind: kind, timestampNanoseconds: time))
            }
            atomicMemoryFence(ordering: .acquiring)
            // A writer that lapped the oldest slots while we read: read again.
            if !torn, written.load(ordering: .relaxed) - first < UInt64(Self.capacity) { return out }
        }
        return out
    }
}
