import CANBus
import Gateway
import VehicleState

/// The view as the HTTP API's JSON: events, the context, signals.
extension VehicleView {
    /// `{"events": [{"id": 3, "event": "departed", "time": 1700000004.512, "time_iso": "..."}, ...], "last_id": 3}`:
    /// the events after `after`, oldest first, at most `limit` (the newest).
    public func eventsJSON(after: UInt64 = 0, limit: Int = VehicleEventLog.capacity) -> String {
        let events = state.tracked.events.events(after: after, limit: limit)
        var out = TextBuffer(capacity: 64 + 96 * events.count)
        out.append("{\"events\": [")
        for (k, e) in events.enumerated() {
            if k > 0 { out.append(", ") }
            Self.appendEventJSON(e, to: &out)
        }
        out.append("], \"last_id\": ")
        out.appendDecimal(events.last?.id ?? state.tracked.events.lastID)
        out.append("}\n")
        return out.string
    }

    /// One event: `{"id": 3, "event": "departed", "time": 1700000004.512, "time_iso": "2023-11-14T22:13:24.512Z"}`.
    public static func appendEventJSON(_ e: VehicleEvent, to out: inout TextBuffer) {
        out.append("{\"id\": ")
        out.appendDecimal(e.id)
        out.append(", \"event\": \"")
        out.append(e.kind.name)
        out.append("\", \"time\": ")
        out.appendTimestamp(CANTimestamp(totalNanoseconds: e.timestampNanoseconds, fractionDigits: 3), minimumSecondsDigits: 1)
        out.append(", \"time_iso\": ")
        out.appendJSONString(ValueFormat.iso8601(nanoseconds: e.timestampNanoseconds))
        out.append("}")
    }

    /// The events as a path, outside the VSS catalog (VISS, scopes).
    public static let eventsPath = "Vehicle.Private.Events"

    /// The context as JSON, without the parts this view may not give out.
    public func contextJSON() -> String {
        var out = TextBuffer(capacity: 512)
        context().appendJSON(to: &out, withholding: withheldParts)
        return out.string
    }

    /// `{"path": ..., "value": ..., "unit": ..., "datatype": ..., "timestamp": ..., "age_s": ..., "state": ...}`
    public func appendSignalJSON(_ path: Int, to out: inout TextBuffer) {
        let p = paths[path]
        let r = reading(path)
        out.append("{\"path\": ")
        out.appendJSONString(p.name)
        out.append(", \"value\": ")
        if let v = r.value { ValueFormat.appendJSON(v, p.datatype, to: &out) } else { out.append("null") }
        out.append(", \"unit\": ")
        if let u = p.unit { out.appendJSONString(u) } else { out.append("null") }
        out.append(", \"datatype\": \"")
        out.append(p.datatype.rawValue)
        out.append("\", \"timestamp\": ")
        if let t = r.timestampNanoseconds {
            out.appendTimestamp(CANTimestamp(totalNanoseconds: t, fractionDigits: 6), minimumSecondsDigits: 1)
            out.append(", \"time\": ")
            out.appendJSONString(ValueFormat.iso8601(nanoseconds: t))
        } else { out.append("null") }
        out.append(", \"age_s\": ")
        if let a = r.ageSeconds { out.appendJSONNumber((a * 1000).rounded() / 1000) } else { out.append("null") }
        out.append(", \"state\": \"")
        out.append(r.state.rawValue)
        if let why = r.invalidReason { out.append("\", \"reason\": \""); out.append(why) }
        out.append("\"}")
    }

    /// `{"signals": [...]}`, and `"withheld": [paths]` when the reader's scopes leave some out.
    public func signalsJSON(_ indices: [Int], withheld: [Int] = []) -> String {
        var out = TextBuffer(capacity: 128 * max(1, indices.count))
        out.append("{\"signals\": [")
        for (k, i) in indices.enumerated() {
            if k > 0 { out.append(", ") }
            appendSignalJSON(i, to: &out)
        }
        out.append("]")
        if !withheld.isEmpty {
            out.append(", \"withheld\": [")
            for (k, i) in withheld.enumerated() {
                if k > 0 { out.append(", ") }
                out.appendJSONString(paths[i].name)
            }
            out.append("]")
        }
        out.append("}\n")
        return out.string
    }

    public func signalJSON(_ index: Int) -> String {
        var out = TextBuffer(capacity: 256)
        appendSignalJSON(index, to: &out)
        out.append("\n")
        return out.string
    }
}
