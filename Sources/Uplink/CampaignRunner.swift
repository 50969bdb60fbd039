import CANBus
import Gateway
import VehicleState

/// The campaigns at work: each wake of the change feed (a change of a path they watch, or a
/// tick every 50 ms) evaluates the conditions, takes the samples due and sends what is
/// complete, all in frame time, so a replayed drive gives what the live one gave. Windows come
/// from the store's history rings (kept for exactly the paths and spans the campaigns need), so
/// `before_s` reaches back before the trigger and `on_change` sees every published value, not
/// only those a coalesced wake-up happens to meet.
/// Used by one task at a time (the uplink's collecting loop, then its stop): not shared.
final class CampaignRunner: @unchecked Sendable {
    struct Running {
        let definition: CampaignDefinition
        var condition: CompiledCondition?
        var upload: CompiledCondition?
        let signals: [Int]
        var sequence: SequenceStore
        var lastTrigger: Int64?
        /// Triggers whose after-window has not closed yet: (trigger time, due).
        var windows: [(trigger: Int64, due: Int64)] = []
        /// Period and on_change: the batch being filled, per signal.
        var batch: [[PathHistory.Sample]]
        var batchStart: Int64?
        var nextSample: Int64?
        var lastSeen: Int64?
        /// on_change: each signal's last value sent.
        var lastValues: [Double?]
        /// Complete messages waiting for the upload condition.
        var held: [OutgoingMessage] = []
        var counters = CampaignCounters()
        var topic: String
    }

    static let heldLimit = 64

    let state: GatewayState
    let configuration: UplinkConfiguration
    let encoder: MessageEncoder
    var campaigns: [Running]

    init(_ definitions: [CampaignDefinition], state: GatewayState, configuration: UplinkConfiguration, encoder: MessageEncoder) throws(UplinkConfiguration.Problem) {
        self.state = state
        self.configuration = configuration
        self.encoder = encoder
        let mapping = state.mapping
        var index: [String: Int] = [:]
        for (i, p) in mapping.paths.enumerated() { index[p.name] = i }
        campaigns = []
        for d in definitions {
            let topic = "vehicles/\(configuration.vehicleID)/campaigns/\(d.name)"
            var condition: CompiledCondition?
            if case .condition(let e) = d.trigger { condition = CompiledCondition(e, index: index) }
            let signals = d.signals.compactMap { index[$0] }
            campaigns.append(Running(definition: d, condition: condition, upload: d.uploadWhen.map { CompiledCondition($0, index: index) },
                                     signals: signals, sequence: try SequenceStore(directory: configuration.stateDirectory, topic: topic),
                                     batch: Array(repeating: [], count: signals.count), lastValues: Array(repeating: nil, count: signals.count),
                                     topic: topic))
            // History rings: the windows the conditions look over, and the span each campaign sends.
            for e in [d.uploadWhen, { if case .condition(let e) = d.trigger { return e }; return nil }()].compactMap({ $0 }) {
                for (name, seconds) in e.windows { if let p = index[name] { Self.keep(p, seconds: seconds + 1, state) } }
            }
            let span: Double
            switch d.trigger {
            case .condition: span = d.beforeSeconds + d.afterSeconds + 2
            case .onChange: span = 5
            case .period: span = 0
            }
            if span > 0 { for p in signals { Self.keep(p, seconds: span, state) } }
        }
    }

    /// Rings big enough for `seconds` of `path` at its messages' rate (the DBC's cycle time;
    /// 100 Hz when none is known), with room to spare.
    static func keep(_ path: Int, seconds: Double, _ state: GatewayState) {
        let mapping = state.mapping
        let cycles = mapping.paths[path].sources.compactMap { s -> Int? in
            let source = mapping.sources[s]
            return mapping.buses[source.bus].codec.codecs[source.message].message.cycleTimeMilliseconds
        }
        let rate = cycles.min().map { 1000 / Double(max(1, $0)) } ?? 100
        state.store.history.keep(path, capacity: min(1 << 17, Int(seconds * rate * 1.5) + 64))
    }

    /// The paths whose changes should wake the runner.
    var watched: PathSet {
        var set = PathSet(count: state.mapping.paths.count)
        for c in campaigns {
            for e in [c.definition.uploadWhen, c.condition?.expression].compactMap({ $0 }) {
                for (name, _) in e.paths { if let p = state.mapping.pathIndex(name) { set.insert(p) } }
            }
            if case .onChange = c.definition.trigger { for p in c.signals { set.insert(p) } }
        }
        return set
    }

    var counters: [(String, CampaignCounters)] { campaigns.map { ($0.definition.name, $0.counters) } }

    func reader(now: Int64) -> CompiledCondition.Reader {
        let store = state.store
        return CompiledCondition.Reader(
            value: { p in
                guard let r = store.read(p), r.state(now: now) == .fresh else { return nil }
                return r.value
            },
            samples: { p, seconds in store.history.samples(p, from: now - Int64(seconds * 1e9), to: now).map(\.value) })
    }

    /// Does what is due at frame time `now`; returns the messages to send.
    func tick(now: Int64) -> [OutgoingMessage] {
        var out: [OutgoingMessage] = []
        let reader = self.reader(now: now)
        for k in campaigns.indices {
            let d = campaigns[k].definition
            switch d.trigger {
            case .condition:
                if campaigns[k].condition!.holds(reader) {
                    let gap = Int64(d.minimumIntervalSeconds * 1e9)
                    if campaigns[k].lastTrigger.map({ now - $0 >= gap }) ?? true {
                        campaigns[k].lastTrigger = now
                        campaigns[k].counters.triggered += 1
                        campaigns[k].windows.append((now, now + Int64(d.afterSeconds * 1e9)))
                    }
                }
                while let w = campaigns[k].windows.first, w.due <= now {
                    campaigns[k].windows.removeFirst()
                    let from = w.trigger - Int64(d.beforeSeconds * 1e9), to = w.due
                    let samples = campaigns[k].signals.map { state.store.history.samples($0, from: from, to: to) }
                    out += emit(k, samples: samples, from: from, to: to, trigger: w.trigger, now: now)
                }
            case .period(let ms):
                let step = Int64(ms * 1e6)
                var next = campaigns[k].nextSample ?? now
                if now - next > 10 * step { next = now }  // a jump in frame time (a new replay pass): start again
                while next <= now {
                    for (i, p) in campaigns[k].signals.enumerated() {
                        if let r = state.store.read(p), r.state(now: now) == .fresh {
                            campaigns[k].batch[i].append(PathHistory.Sample(time: next, value: r.value))
                        }
                    }
                    if campaigns[k].batchStart == nil { campaigns[k].batchStart = next }
                    next += step
                }
                campaigns[k].nextSample = next
                out += flushIfDue(k, now: now)
            case .onChange:
                let since = campaigns[k].lastSeen ?? (now - 1)
                for (i, p) in campaigns[k].signals.enumerated() {
                    // Every value published since, kept when it moved beyond the path's deadband.
                    let deadband = state.mapping.paths[p].deadband
                    for sample in state.store.history.samples(p, from: since + 1, to: now) {
                        if let last = campaigns[k].lastValues[i], deadband > 0 ? abs(sample.value - last) < deadband : sample.value == last { continue }
                        campaigns[k].lastValues[i] = sample.value
                        if campaigns[k].batchStart == nil { campaigns[k].batchStart = sample.time }
                        campaigns[k].batch[i].append(sample)
                    }
                }
                campaigns[k].lastSeen = now
                out += flushIfDue(k, now: now)
            }
            out += releaseHeld(k, reader)
        }
        return out
    }

    /// What is left in the batches, at a clean stop.
    func finish(now: Int64) -> [OutgoingMessage] {
        var out: [OutgoingMessage] = []
        for k in campaigns.indices where campaigns[k].batchStart != nil { out += flush(k, now: now) }
        for k in campaigns.indices { out += releaseHeld(k, reader(now: now)) }
        return out
    }

    func flushIfDue(_ k: Int, now: Int64) -> [OutgoingMessage] {
        guard let start = campaigns[k].batchStart, now - start >= Int64(campaigns[k].definition.batchSeconds * 1e9) else { return [] }
        return flush(k, now: now)
    }

    func flush(_ k: Int, now: Int64) -> [OutgoingMessage] {
        let batch = campaigns[k].batch
        let from = campaigns[k].batchStart ?? now
        campaigns[k].batch = Array(repeating: [], count: batch.count)
        campaigns[k].batchStart = nil
        guard batch.contains(where: { !$0.isEmpty }) else { return [] }
        return emit(k, samples: batch, from: from, to: now, trigger: nil, now: now)
    }

    /// A complete message: sent, or held while its upload condition does not hold.
    func emit(_ k: Int, samples: [[PathHistory.Sample]], from: Int64, to: Int64, trigger: Int64?, now: Int64) -> [OutgoingMessage] {
        let d = campaigns[k].definition
        let seq = campaigns[k].sequence.next()
        let names = campaigns[k].signals.map { state.mapping.paths[$0] }
        let message = encoder.campaign(name: d.name, seq: seq, trigger: d.triggerName, triggerTime: trigger, from: from, to: to,
                                       signals: zip(names, samples).map { ($0.name, $0.unit, $0.datatype, $1) })
        let expires = d.ttlSeconds.map { SystemClock.wallNanoseconds() + Int64($0 * 1e9) } ?? 0
        let outgoing = OutgoingMessage(topic: campaigns[k].topic, payload: message.payload, priority: d.priority, expiresNanoseconds: expires,
                                       contentType: message.contentType)
        if campaigns[k].upload != nil {
            campaigns[k].held.append(outgoing)
            campaigns[k].counters.held += 1
            if campaigns[k].held.count > Self.heldLimit {
                campaigns[k].held.removeFirst()
                campaigns[k].counters.dropped += 1
            }
            return []
        }
        campaigns[k].counters.published += 1
        return [outgoing]
    }

    func releaseHeld(_ k: Int, _ reader: CompiledCondition.Reader) -> [OutgoingMessage] {
        guard campaigns[k].upload != nil else { return [] }
        // Evaluated every tick (its rising_edges need every look), released when it holds.
        guard campaigns[k].upload!.holds(reader), !campaigns[k].held.isEmpty else { return [] }
        let out = campaigns[k].held
        campaigns[k].held = []
        campaigns[k].counters.published += UInt64(out.count)
        return out
    }
}

/// One campaign's figures, for /healthz.
public struct CampaignCounters: Sendable {
    public var triggered: UInt64 = 0
    public var published: UInt64 = 0
    public var held: UInt64 = 0
    public var dropped: UInt64 = 0
}

extension CampaignDefinition {
    var triggerName: String {
        switch trigger {
        case .period: return "period"
        case .onChange: return "on_change"
        case .condition: return "condition"
        }
    }
}
