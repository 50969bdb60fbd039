import CANBus
import DBC
import Integrity

/// One path's latest value as the writer keeps it, and where it came from.
public struct PathSample: Sendable, Equatable {
    public var value: Double
    /// The time (ns) of the frame it came from (the log's own time during replay).
    public var timestampNanoseconds: Int64
    /// Index into `CompiledMapping.sources` of the source that supplied it.
    public var source: Int
    /// When the gateway received the frame (wall clock ns); differs from the timestamp in replay.
    public var receivedNanoseconds: Int64
}

/// Decoded frames in, VSS path values out: labels, validity, unit conversion, linear math,
/// priority between sources with fallback when the preferred one falls silent, and throttling.
/// It reports what each frame changed, so nothing downstream scans for changes.
///
/// Single writer: one thread calls `ingest`; readers on other threads read `store`, which never
/// makes the writer wait.
public struct VehicleStateEngine {
    public let mapping: CompiledMapping
    /// Where values are published for readers on other threads.
    public let store: VehicleStateStore
    /// The writer's own copy of each path's latest value (reading it needs no atomics).
    var samples: [PathSample?]
    /// Last time (ns, frame time) each source delivered a valid value.
    var sourceLastSeen: [Int64]
    /// Per path: values dropped as "not available" or out of range.
    public private(set) var dropped: [Int]
    /// Per source: its timeout (learned from the message rate where nothing gives one).
    public private(set) var sourceTimeout: [Int64]
    var sourceInterval: [Double]
    var sourceLastFrame: [Int64]
    var values: [DecodedValue]
    /// The paths the last `ingest` changed: the first `IngestResult.changedCount` entries.
    public private(set) var changedPaths: [Int32]
    /// Each bus's codec, apart from the mapping's bus descriptions (reading those per frame
    /// would copy their strings), and the bindings' offsets flattened over all buses.
    let codecs: [DatabaseCodec]
    let bindingBase: [Int]
    let bindingStarts: [Int32], bindingCounts: [Int32]
    /// Per source: its place in its path's priority list (0 = preferred).
    let sourceRank: [Int32]
    /// The protected messages' checks with their state, and per (bus, message) slot the index
    /// of its check or -1.
    public private(set) var checks: [MessageCheck]
    let checkIndex: [Int32]
    /// Per path: plausibility limits, values dropped as implausible, and since when (frame
    /// time) the value has not changed (the frozen check).
    let limits: [CompiledIntegrity.PathLimits]
    public private(set) var implausible: [Int]
    var unchangedSince: [Int64]
    var lastRaw: [Double]
    let speedPath: Int

    /// An engine writing into `store` (a new one if nil), which must have a slot per mapped path.
    public init(mapping: CompiledMapping, store: VehicleStateStore? = nil) {
        precondition(store.map { $0.pathCount == mapping.paths.count } ?? true, "the store must have a slot per mapped path")
        self.mapping = mapping
        samples = Array(repeating: nil, count: mapping.paths.count)
        self.store = store ?? VehicleStateStore(pathCount: mapping.paths.count)
        sourceLastSeen = Array(repeating: Int64.min, count: mapping.sources.count)
        dropped = Array(repeating: 0, count: mapping.paths.count)
        sourceTimeout = mapping.sources.map(\.timeoutNanoseconds)
        sourceInterval = Array(repeating: 0, count: mapping.sources.count)
        sourceLastFrame = Array(repeating: Int64.min, count: mapping.sources.count)
        values = Array(repeating: DecodedValue(), count: max(1, mapping.buses.map(\.codec.maxSignalCount).max() ?? 1))
        changedPaths = Array(repeating: 0, count: max(1, 2 * mapping.maximumBindingsPerMessage))
        codecs = mapping.buses.map(\.codec)
        var base: [Int] = [], starts: [Int32] = [], counts: [Int32] = []
        for b in mapping.buses.indices {
            base.append(starts.count)
            starts += mapping.bindingStart[b]
            counts += mapping.bindingCount[b]
        }
        bindingBase = base
        bindingStarts = starts
        bindingCounts = counts
        var rank = [Int32](repeating: 0, count: mapping.sources.count)
        for p in mapping.paths { for (r, si) in p.sources.enumerated() { rank[si] = Int32(r) } }
        sourceRank = rank
        checks = mapping.integrity.checks
        checkIndex = mapping.integrity.index.flatMap { $0 }
        limits = mapping.integrity.pathLimits.count == mapping.paths.count ? mapping.integrity.pathLimits
            : Array(repeating: .none, count: mapping.paths.count)
        implausible = Array(repeating: 0, count: mapping.paths.count)
        unchangedSince = Array(repeating: 0, count: mapping.paths.count)
        lastRaw = Array(repeating: .nan, count: mapping.paths.count)
        speedPath = mapping.pathIndex("Vehicle.Speed") ?? -1
    }

    /// What became of one frame.
    public enum IngestOutcome: UInt8, Sendable {
        /// Its id is not in the bus's DBC files.
        case unknownMessage
        /// Known, but no mapped path comes from it (or a remote frame).
        case notMapped
        /// Decoded; no path changed.
        case unchanged
        /// Decoded; `changedCount` paths changed (listed in `changedPaths`).
        case changed
        /// Failed its integrity check, or its message is invalid: nothing of it was stored.
        /// `changedCount` paths changed state (went invalid or valid again).
        case rejected
    }

    /// What became of a frame: whether it was shorter than its message (the signals that did
    /// not fit were not decoded), and how many paths it changed.
    public struct IngestResult: Sendable {
        public var outcome: IngestOutcome
        public var isShort: Bool
        public var changedCount: Int
        /// Why the frame was rejected (`.rejected`), if its own check failed.
        public var fault: MessageValidity.Reason?
        /// The integrity check the frame went through (index into `checks`), or -1.
        public var check: Int32 = -1
        /// Some value of the frame was dropped as implausible (`implausible` counts them per path).
        public var hadImplausible = false
        init(_ outcome: IngestOutcome, isShort: Bool = false, changedCount: Int = 0, fault: MessageValidity.Reason? = nil, check: Int = -1) {
            self.outcome = outcome
            self.isShort = isShort
            self.changedCount = changedCount
            self.fault = fault
            self.check = Int32(check)
        }
    }

    /// Feeds one data frame received on bus `bus` (index into `mapping.buses`) at frame time
    /// `timestamp`; `arrival` is when the gateway received it (wall clock ns).
    @inline(__always)
    public mutating func ingest(bus: Int, timestamp: Int64, arrival: Int64, _ frame: CANFrame) -> IngestResult {
        let codec = codecs[bus]
        guard let id = frame.id, let message = codec.index(of: id) else { return IngestResult(.unknownMessage) }
        let isShort = frame.length < codec.messageLength(at: message)
        let slot = bindingBase[bus] + message
        let start = Int(bindingStarts[slot]), count = Int(bindingCounts[slot])
        guard count > 0 else { return IngestResult(.notMapped, isShort: isShort) }
        switch frame { case .data, .fd: break; default: return IngestResult(.notMapped, isShort: isShort) }
        var changed = 0
        let ci = Int(checkIndex[slot])
        if ci >= 0 {
            let wasValid = checks[ci].isValid
            let fault = frame.withPayload { checks[ci].check($0) }
            let isValid = checks[ci].isValid
            if wasValid != isValid { changed = markPaths(start, count, invalid: checks[ci].invalidReason) }
            if fault != nil || !isValid {
                // The message is there but cannot be trusted: its sources count as heard, so a
                // fallback does not quietly replace them; readers are told `invalid` instead.
                for k in start..<start + count { sourceLastSeen[Int(mapping.bindings[k].source)] = timestamp }
                return IngestResult(.rejected, isShort: isShort, changedCount: changed, fault: fault, check: ci)
            }
        }
        values.withUnsafeMutableBufferPointer { out in
            frame.withPayload { codec.decode(messageAt: message, $0, into: out) }
        }
        let now = timestamp
        var hadImplausible = false
        for k in start..<start + count {
            let b = mapping.bindings[k]
            let si = Int(b.source), pi = Int(b.path)
            let s = mapping.hotSources[si]
            if s.learnsTimeout { learnRate(si, now: now) }
            guard var value = sourceValue(s, pi) else { continue }
            guard value.isFinite, value >= s.minimum, value <= s.maximum else { dropped[pi] += 1; continue }
            let path = mapping.hotPaths[pi]
            if path.isInteger { value = value.rounded() }
            if path.isBoolean { value = value != 0 ? 1 : 0 }
            if limits[pi].isChecked, !isPlausible(value, path: pi, source: si, now: now) {
                implausible[pi] += 1
                hadImplausible = true
                if store.read(pi).map({ $0.invalidReason == nil }) ?? false {
                    store.setInvalid(pi, .implausible)
                    changedPaths[changed] = Int32(pi)
                    changed += 1
                }
                continue
            }
            sourceLastSeen[si] = now
            // Priority: a source replaces the current one if it ranks at least as high, or if
            // the current source has fallen silent for longer than its timeout.
            if let current = samples[pi], current.source != si {
                let currentSilent = now - sourceLastSeen[current.source] > sourceTimeout[current.source]
                if !currentSilent, sourceRank[si] > sourceRank[current.source] { continue }
            }
            // Throttle: within the minimum interval, or a change inside the deadband, the value
            // stands (its time advances, so it stays fresh) but nothing new is published.
            if let current = samples[pi], current.source == si {
                if path.minIntervalNanoseconds > 0, now - current.timestampNanoseconds < path.minIntervalNanoseconds { continue }
                if path.deadband > 0, abs(value - current.value) < path.deadband {
                    samples[pi]!.timestampNanoseconds = now
                    store.publish(pi, value: current.value, timestampNanoseconds: now, source: si,
                                  receivedNanoseconds: current.receivedNanoseconds, timeoutNanoseconds: sourceTimeout[si], notify: false)
                    continue
                }
            }
            samples[pi] = PathSample(value: value, timestampNanoseconds: now, source: si, receivedNanoseconds: arrival)
            store.publish(pi, value: value, timestampNanoseconds: now, source: si, receivedNanoseconds: arrival,
                          timeoutNanoseconds: sourceTimeout[si])
            changedPaths[changed] = Int32(pi)
            changed += 1
        }
        var result = IngestResult(changed > 0 ? .changed : .unchanged, isShort: isShort, changedCount: changed, check: ci)
        result.hadImplausible = hadImplausible
        return result
    }

    /// Marks the paths a message feeds (its bindings `start..<start+count`) invalid, or valid
    /// again, where their current value came from that message. Returns how many it listed in
    /// `changedPaths`.
    mutating func markPaths(_ start: Int, _ count: Int, invalid reason: MessageValidity.Reason?) -> Int {
        var n = 0
        for k in start..<start + count {
            let b = mapping.bindings[k]
            let pi = Int(b.path)
            guard let current = samples[pi], current.source == Int(b.source) else { continue }
            store.setInvalid(pi, reason)
            changedPaths[n] = Int32(pi)
            n += 1
        }
        return n
    }

    /// The plausibility rules beyond min/max: no faster change than `max_rate` since the last
    /// believed value of the same source, and no value frozen while the car moves.
    @inline(__always)
    mutating func isPlausible(_ value: Double, path pi: Int, source si: Int, now: Int64) -> Bool {
        let l = limits[pi]
        if l.maxRatePerNanosecond.isFinite, let current = samples[pi], current.source == si {
            let dt = Double(max(now - current.timestampNanoseconds, 1))
            if abs(value - current.value) > l.maxRatePerNanosecond * dt + 1e-9 { return false }
        }
        if l.frozenNanoseconds > 0 {
            if value != lastRaw[pi] || lastRaw[pi].isNaN { lastRaw[pi] = value; unchangedSince[pi] = now }
            let moving = speedPath >= 0 ? (samples[speedPath]?.value ?? 0) > l.movingAboveKmh : false
            if moving, now - unchangedSince[pi] > l.frozenNanoseconds { return false }
        }
        return true
    }

    /// A logged record, received now (tests and tools).
    @discardableResult
    public mutating func ingest(bus: Int, _ record: CANLogRecord) -> IngestResult {
        ingest(bus: bus, timestamp: record.timestamp.totalNanoseconds, arrival: SystemClock.wallNanoseconds(), record.frame)
    }


    /// The value a source gives for this frame (decoded into `values`), or nil (dropped).
    @inline(__always)
    mutating func sourceValue(_ s: CompiledMapping.HotSource, _ path: Int) -> Double? {
        let decoded = values[Int(s.signal)]
        guard decoded.state == .present else { return nil }
        let t = mapping.hotTables
        if !s.labels.isEmpty {
            guard let k = Self.find(Self.key(decoded.raw, signed: s.signalSigned), in: t.labelKeys, s.labels) else { dropped[path] += 1; return nil }
            return t.labelValues[k]
        }
        if !s.invalid.isEmpty {
            for k in Int(s.invalid.lowerBound)..<Int(s.invalid.upperBound) {
                let v = t.invalid[k]
                if abs(v - decoded.physical) <= 1e-9 * max(1, abs(v)) { dropped[path] += 1; return nil }
            }
        }
        var physical = decoded.physical
        if s.combine != .none {
            let partner = values[Int(s.partner)]
            guard partner.state == .present else { return nil }
            switch s.combine {
            case .none: break
            case .signMagnitude: physical = partner.physical != 0 ? -abs(physical) : abs(physical)
            case .highLow: physical = physical * s.lowScale + partner.physical
            case .valueUnit:
                guard let k = Self.find(Self.key(partner.raw, signed: s.partnerSigned), in: t.unitKeys, s.units) else { dropped[path] += 1; return nil }
                physical = physical * t.unitScale[k] + t.unitOffset[k]
            }
        }
        return physical * s.scale + s.offset
    }

    /// A raw value as VAL_ keys are written (signed signals sign-extended).
    @inline(__always)
    static func key(_ raw: UInt64, signed: Bool) -> Int128 { signed ? Int128(Int64(bitPattern: raw)) : Int128(raw) }

    /// Where `key` is in the sorted run `range` of `keys`, if it is.
    @inline(__always)
    static func find(_ key: Int128, in keys: [Int128], _ range: Range<Int32>) -> Int? {
        var lo = Int(range.lowerBound), hi = Int(range.upperBound)
        while lo < hi {
            let mid = (lo + hi) >> 1
            if keys[mid] < key { lo = mid + 1 } else { hi = mid }
        }
        return lo < Int(range.upperBound) && keys[lo] == key ? lo : nil
    }

    /// Learns a message's period (moving average of the gaps between its frames); the
    /// timeout becomes 3 periods. Gaps over 5 s are outages, not the rate.
    mutating func learnRate(_ source: Int, now: Int64) {
        defer { sourceLastFrame[source] = now }
        let last = sourceLastFrame[source]
        guard last != Int64.min, now > last, now - last < 5_000_000_000 else { return }
        let gap = Double(now - last)
        sourceInterval[source] = sourceInterval[source] == 0 ? gap : sourceInterval[source] * 0.9 + gap * 0.1
        sourceTimeout[source] = max(Int64(sourceInterval[source] * 3), 1_000_000, mapping.minimumTimeoutNanoseconds)
    }

    /// The latest value of a path (index into `mapping.paths`), if any.
    public func sample(_ path: Int) -> PathSample? { samples[path] }
}
