import CANBus
import Foundation
import Synchronization
import Uplink

/// What a fleet consumer knows of each vehicle: its latest context (as the car sent it), its
/// status (online/offline, software, buses), and how its messages arrived — deduplicated by
/// `seq` (QoS 1 may deliver a message twice) with the gaps counted (seq numbers never seen).
public final class FleetState: Sendable {
    public struct Vehicle: Sendable {
        public var id: String
        public var context: [UInt8]?
        public var seq: UInt64 = 0
        public var received: UInt64 = 0
        public var duplicates: UInt64 = 0
        public var gaps: UInt64 = 0
        public var lastSeenWallNanoseconds: Int64 = 0
        public var status: [UInt8]?
        public var online: Bool?
        /// One more each time the context changes, for streams.
        public var version: UInt64 = 0
    }

    struct Table {
        var vehicles: [String: Vehicle] = [:]
        var messages: UInt64 = 0
        var malformed: UInt64 = 0
        /// Context messages, the repeated ones among them, and seq numbers never seen, fleet-wide.
        var contexts: UInt64 = 0
        var duplicates: UInt64 = 0
        var gaps: UInt64 = 0
        var waiters: [UInt64: (vehicle: String, continuation: AsyncStream<Void>.Continuation)] = [:]
        var nextWaiter: UInt64 = 0
    }

    let table = Mutex(Table())
    /// Vehicles kept at most (a broker full of strangers cannot grow it without bound).
    public let maxVehicles: Int

    public init(maxVehicles: Int = 100_000) { self.maxVehicles = maxVehicles }

    /// A message from the broker: `vehicles/{id}/context` or `vehicles/{id}/status`.
    public func receive(topic: String, payload: [UInt8], contentType: String?) {
        let parts = topic.split(separator: "/")
        guard parts.count == 3, parts[0] == "vehicles" else { return }
        let id = String(parts[1])
        var json = payload
        if parts[2] == "context", contentType?.hasPrefix("application/x-protobuf") == true {
            guard let decoded = UplinkProtobuf.contextJSON(fromProtobuf: payload) else { table.withLock { $0.malformed += 1 }; return }
            json = decoded
        }
        guard let object = try? JSONSerialization.jsonObject(with: Data(json)) as? [String: Any] else {
            table.withLock { $0.malformed += 1 }
            return
        }
        let now = SystemClock.wallNanoseconds()
        let wake: [AsyncStream<Void>.Continuation] = table.withLock { t in
            t.messages += 1
            if t.vehicles[id] == nil {
                guard t.vehicles.count < maxVehicles else { return [] }
                t.vehicles[id] = Vehicle(id: id)
            }
            t.vehicles[id]!.lastSeenWallNanoseconds = now
            if parts[2] == "status" {
                t.vehicles[id]!.status = json
                t.vehicles[id]!.online = (object["state"] as? String) == "online"
                return []
            }
            guard parts[2] == "context", let seq = (object["seq"] as? NSNumber)?.uint64Value else { t.malformed += 1; return [] }
            var v = t.vehicles[id]!
            v.received += 1
            t.contexts += 1
            if seq <= v.seq {
                v.duplicates += 1  // QoS 1 delivered it again, or an older one came late: the newest stands
                t.duplicates += 1
            } else {
                if v.seq > 0, seq > v.seq + 1 { v.gaps += seq - v.seq - 1; t.gaps += seq - v.seq - 1 }
                v.seq = seq
                v.context = json
                v.version += 1
            }
            t.vehicles[id] = v
            return t.waiters.values.filter { $0.vehicle == id }.map(\.continuation)
        }
        for w in wake { w.yield(()) }
    }

    public var vehicles: [Vehicle] { table.withLock { $0.vehicles.values.sorted { $0.id < $1.id } } }
    public func vehicle(_ id: String) -> Vehicle? { table.withLock { $0.vehicles[id] } }
    public var counts: (messages: UInt64, malformed: UInt64, contexts: UInt64, duplicates: UInt64, gaps: UInt64) {
        table.withLock { ($0.messages, $0.malformed, $0.contexts, $0.duplicates, $0.gaps) }
    }

    /// Wakes (coalesced: at most one pending) whenever `vehicle`'s context changes.
    public func changes(of vehicle: String) -> (AsyncStream<Void>, cancel: @Sendable () -> Void) {
        let (stream, continuation) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        let key = table.withLock { t -> UInt64 in
            t.nextWaiter += 1
            t.waiters[t.nextWaiter] = (vehicle, continuation)
            return t.nextWaiter
        }
        let cancel: @Sendable () -> Void = { [weak self] in
            _ = self?.table.withLock { $0.waiters.removeValue(forKey: key) }
            continuation.finish()
        }
        continuation.onTermination = { _ in cancel() }
        return (stream, cancel)
    }

    /// Ends every stream.
    public func finishAll() {
        let all = table.withLock { t in defer { t.waiters.removeAll() }; return t.waiters.values.map(\.continuation) }
        for c in all { c.finish() }
    }
}
