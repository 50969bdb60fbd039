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
    /// Per source: its timeout (learned from the message rate where nothing gives one).
    public private(set) var sourceTimeout: [Int64]
    var sourceInterval: [Double]
    var sourceLastFrame: [Int64]
    /// Per path: the last minutes of published values.
    public private(set) var history: [PathHistory]
    var values: [DecodedValue]
    /// The newest frame time seen: "now" for freshness during replay.
    public private(set) var latestTime: CANTimestamp?

    public init(mapping: CompiledMapping) {
        self.mapping = mapping
        samples = Array(repeating: nil, count: mapping.paths.count)
        store = VehicleStateStore(pathCount: mapping.paths.count)
        sourceLastSeen = Array(repeating: Int64.min, count: mapping.sources.count)
        dropped = Array(repeating: 0, count: mapping.paths.count)
        sourceTimeout = mapping.sources.map(\.timeoutNanoseconds)
        sourceInterval = Array(repeating: 0, count: mapping.sources.count)
        sourceLastFrame = Array(repeating: Int64.min, count: mapping.sources.count)
        history = Array(repeating: PathHistory(), count: mapping.paths.count)
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
            let si = Int(b.source), pi = Int(b.path)
            let s = mapping.sources[si]
            if s.learnsTimeout { learnRate(si, now: now) }
            guard var value = sourceValue(s, codec: codec.codecs[message], pi) else { continue }
            guard value.isFinite, value >= s.minimum, value <= s.maximum else { dropped[pi] += 1; continue }
            let path = mapping.paths[pi]
            if path.datatype.isInteger { value = value.rounded() }
            if path.datatype == .boolean { value = value != 0 ? 1 : 0 }
            sourceLastSeen[si] = now
            // Priority: a source replaces the current one if it ranks at least as high, or if
            // the current source has fallen silent for longer than its timeout.
            if let current = samples[pi], current.source != si {
                let currentRank = path.sources.firstIndex(of: current.source) ?? 0
                let rank = path.sources.firstIndex(of: si) ?? 0
                let currentSilent = now - sourceLastSeen[current.source] > sourceTimeout[current.source]
                if rank > currentRank && !currentSilent { continue }
            }
            // Throttle: within the minimum interval, or a change inside the deadband, the value
            // stands (its time advances, so it stays fresh) but nothing new is published.
            if let current = samples[pi], current.source == si {
                let tooSoon = now - current.timestamp.totalNanoseconds < path.minIntervalNanoseconds && path.minIntervalNanoseconds > 0
                if tooSoon { continue }
                if path.deadband > 0, abs(value - current.value) < path.deadband {
                    // Still this value, as of now: fresher, but no change for subscribers.
                    samples[pi]!.timestamp = record.timestamp
                    store.publish(pi, value: current.value, timestampNanoseconds: now, source: si, notify: false)
                    continue
                }
            }
            samples[pi] = PathSample(value: value, timestamp: record.timestamp, source: si)
            store.publish(pi, value: value, timestampNanoseconds: now, source: si)
            history[pi].append(time: now, value: value)
            changed = true
        }
    }

    /// The value a source gives for this frame (decoded into `values`), or nil (dropped).
    mutating func sourceValue(_ s: CompiledMapping.Source, codec: MessageCodec, _ path: Int) -> Double? {
        let decoded = values[s.signal]
        guard decoded.state == .present else { return nil }
        if !s.labels.isEmpty {
            guard let mapped = s.labels[codec.labelKey(signal: s.signal, raw: decoded.raw)] else { dropped[path] += 1; return nil }
            return mapped
        }
        if s.invalid.contains(where: { abs($0 - decoded.physical) <= 1e-9 * max(1, abs($0)) }) {
            dropped[path] += 1
            return nil
        }
        var physical = decoded.physical
        switch s.combine {
        case nil: break
        case .signMagnitude?:
            let sign = values[s.partner]
            guard sign.state == .present else { return nil }
            physical = sign.physical != 0 ? -abs(physical) : abs(physical)
        case .highLow?:
            let low = values[s.partner]
            guard low.state == .present else { return nil }
            physical = physical * s.lowScale + low.physical
        case .valueUnit?:
            let unit = values[s.partner]
            guard unit.state == .present, let conv = s.unitConversions[codec.labelKey(signal: s.partner, raw: unit.raw)] else {
                dropped[path] += 1
                return nil
            }
            physical = physical * conv.scale + conv.offset
        }
        return physical * s.scale + s.offset
    }

    /// Learns a message's period (moving average of the gaps between its frames); the
    /// timeout becomes 3 periods. Gaps over 5 s are outages, not the rate.
    mutating func learnRate(_ source: Int, now: Int64) {
        defer { sourceLastFrame[source] = now }
        let last = sourceLastFrame[source]
        guard last != Int64.min, now > last, now - last < 5_000_000_000 else { return }
        let gap = Double(now - last)
        sourceInterval[source] = sourceInterval[source] == 0 ? gap : sourceInterval[source] * 0.9 + gap * 0.1
        sourceTimeout[source] = max(Int64(sourceInterval[source] * 3), 1_000_000)
    }

    /// Keeps the driving context current when set (see `DrivingContextTracker`).
    public var context: DrivingContextTracker?

    /// The latest value of a path (index into `mapping.paths`), if any.
    public func sample(_ path: Int) -> PathSample? { samples[path] }

    /// Fresh, stale with its age, or unavailable, as of `now` (default: the newest frame seen).
    public func freshness(_ path: Int, now: CANTimestamp? = nil) -> Freshness {
        guard let s = samples[path], let now = now ?? latestTime else { return .unavailable }
        let age = now.totalNanoseconds - s.timestamp.totalNanoseconds
        return age > sourceTimeout[s.source] ? .stale(ageNanoseconds: age) : .fresh
    }
}
