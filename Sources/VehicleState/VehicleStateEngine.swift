import CANBus
import DBC

/// Whether a path's value may be presented as current.
public enum Freshness: Sendable, Equatable {
    case fresh
    /// Last updated `ageNanoseconds` ago, longer than its timeout.
    case stale(ageNanoseconds: Int64)
    /// Never received (or only invalid values so far).
    case unavailable
}

/// One path's latest value and where it came from.
public struct PathSample: Sendable, Equatable {
    public var value: Double
    /// The timestamp of the frame it came from (the log's own time during replay).
    public var timestamp: CANTimestamp
    /// Index into `CompiledMapping.sources` of the source that supplied it.
    public var source: Int
}

/// Decoded frames in, VSS path values out: labels, validity, unit conversion, linear math,
/// priority between sources with fallback when the preferred one falls silent, and freshness.
///
/// Single writer: one thread calls `ingest`. (Concurrent readers and the change feed are the
/// next step; see the README.)
public struct VehicleStateEngine {
    public let mapping: CompiledMapping
    /// Where values are published for readers on other threads.
    public let store: VehicleStateStore
    /// Called after each frame that changed a path (the driving context hooks in here).
    var samples: [PathSample?]
    /// Last time (ns, frame time) each source delivered a valid value.
    var sourceLastSeen: [Int64]
    /// Per path: values dropped as "not available" or out of range.
    public private(set) var dropped: [Int]
    var values: [DecodedValue]
    /// The newest frame time seen: "now" for freshness during replay.
    public private(set) var latestTime: CANTimestamp?

    public init(mapping: CompiledMapping) {
        self.mapping = mapping
        samples = Array(repeating: nil, count: mapping.paths.count)
        store = VehicleStateStore(pathCount: mapping.paths.count)
        sourceLastSeen = Array(repeating: Int64.min, count: mapping.sources.count)
        dropped = Array(repeating: 0, count: mapping.paths.count)
        values = Array(repeating: DecodedValue(), count: max(1, mapping.buses.map(\.codec.maxSignalCount).max() ?? 1))
    }

    /// Feeds one frame received on bus `bus` (index into `mapping.buses`).
    public mutating func ingest(bus: Int, _ record: CANLogRecord) {
        if latestTime.map({ record.timestamp > $0 }) ?? true { latestTime = record.timestamp }
        let codec = mapping.buses[bus].codec
        guard let id = record.frame.id, let message = codec.index(of: id) else { return }
        let bindings = mapping.bindings(bus: bus, message: message)
        guard !bindings.isEmpty else { return }
        switch record.frame { case .data, .fd: break; default: return }
        values.withUnsafeMutableBufferPointer { out in
            record.frame.withPayload { codec.decode(messageAt: message, $0, into: out) }
        }
        let now = record.timestamp.totalNanoseconds
        var changed = false
        defer {
            if changed, var tracker = context {
                context = nil  // no overlapping access: take it out, update, put it back
                tracker.update(self, now: record.timestamp)
                context = tracker
            }
        }
        for b in bindings {
            let s = mapping.sources[Int(b.source)]
            let decoded = values[s.signal]
            guard decoded.state == .present else { continue }
            var value: Double
            if !s.labels.isEmpty {
                let key = codec.codecs[message].labelKey(signal: s.signal, raw: decoded.raw)
                guard let mapped = s.labels[key] else { dropped[Int(b.path)] += 1; continue }
                value = mapped
            } else {
                if s.invalid.contains(where: { abs($0 - decoded.physical) <= 1e-9 * max(1, abs($0)) }) {
                    dropped[Int(b.path)] += 1
                    continue
                }
                value = decoded.physical * s.scale + s.offset
            }
            guard value.isFinite, value >= s.minimum, value <= s.maximum else { dropped[Int(b.path)] += 1; continue }
            let path = mapping.paths[Int(b.path)]
            if path.datatype.isInteger { value = value.rounded() }
            if path.datatype == .boolean { value = value != 0 ? 1 : 0 }
            sourceLastSeen[Int(b.source)] = now
            // Priority: a source replaces the current one if it ranks at least as high, or if
            // the current source has fallen silent for longer than its timeout.
            if let current = samples[Int(b.path)], current.source != Int(b.source) {
                let currentRank = path.sources.firstIndex(of: current.source) ?? 0
                let rank = path.sources.firstIndex(of: Int(b.source)) ?? 0
                let currentSilent = now - sourceLastSeen[current.source] > mapping.sources[current.source].timeoutNanoseconds
                if rank > currentRank && !currentSilent { continue }
            }
            samples[Int(b.path)] = PathSample(value: value, timestamp: record.timestamp, source: Int(b.source))
            store.publish(Int(b.path), value: value, timestampNanoseconds: now, source: Int(b.source))
            changed = true
        }
    }

    /// Keeps the driving context current when set (see `DrivingContextTracker`).
    public var context: DrivingContextTracker?

    /// The latest value of a path (index into `mapping.paths`), if any.
    public func sample(_ path: Int) -> PathSample? { samples[path] }

    /// Fresh, stale with its age, or unavailable, as of `now` (default: the newest frame seen).
    public func freshness(_ path: Int, now: CANTimestamp? = nil) -> Freshness {
        guard let s = samples[path], let now = now ?? latestTime else { return .unavailable }
        let age = now.totalNanoseconds - s.timestamp.totalNanoseconds
        return age > mapping.sources[s.source].timeoutNanoseconds ? .stale(ageNanoseconds: age) : .fresh
    }
}
