import CANBus
import VehicleState

/// The uplink's messages as bytes: JSON (the default; the schema is in the README), or the
/// compact protobuf form of the same messages (`UplinkProtobuf`).
struct MessageEncoder: Sendable {
    let encoding: UplinkConfiguration.Encoding
    let vehicleID: String

    struct Encoded {
        var payload: [UInt8]
        var contentType: String
    }

    /// From the JSON form: kept as it is, or re-encoded as protobuf.
    func encode(json: [UInt8], as kind: UplinkProtobuf.Kind) -> Encoded {
        switch encoding {
        case .json: return Encoded(payload: json, contentType: "application/json")
        case .protobuf:
            // A message that does not fit the schema (a bug) still leaves, as JSON, and says so.
            guard let bytes = UplinkProtobuf.encode(json: json, kind) else { return Encoded(payload: json, contentType: "application/json") }
            return Encoded(payload: bytes, contentType: UplinkProtobuf.contentType(kind))
        }
    }

    /// `{"vehicle_id", "campaign", "seq", "trigger", "trigger_time", "from", "to",
    ///   "signals": {"Vehicle.Speed": {"unit": "km/h", "samples": [[time, value], ...]}}}`
    /// Times are frame times in seconds since the epoch.
    func campaign(name: String, seq: UInt64, trigger: String, triggerTime: Int64?, from: Int64, to: Int64,
                  signals: [(name: String, unit: String?, datatype: VSSDatatype, samples: [PathHistory.Sample])]) -> Encoded {
        var out = TextBuffer(capacity: 256 + signals.reduce(0) { $0 + 32 * $1.samples.count })
        func time(_ ns: Int64) { out.appendTimestamp(CANTimestamp(totalNanoseconds: ns, fractionDigits: 6), minimumSecondsDigits: 1) }
        out.append("{\"vehicle_id\": "); out.appendJSONString(vehicleID)
        out.append(", \"campaign\": "); out.appendJSONString(name)
        out.append(", \"seq\": "); out.appendDecimal(seq)
        out.append(", \"trigger\": "); out.appendJSONString(trigger)
        if let triggerTime { out.append(", \"trigger_time\": "); time(triggerTime) }
        out.append(", \"from\": "); time(from)
        out.append(", \"to\": "); time(to)
        out.append(", \"signals\": {")
        for (k, s) in signals.enumerated() {
            if k > 0 { out.append(", ") }
            out.appendJSONString(s.name)
            out.append(": {\"unit\": ")
            if let u = s.unit { out.appendJSONString(u) } else { out.append("null") }
            out.append(", \"samples\": [")
            for (j, sample) in s.samples.enumerated() {
                if j > 0 { out.append(", ") }
                out.append("[")
                time(sample.time)
                out.append(", ")
                if s.datatype.isInteger || s.datatype == .boolean, abs(sample.value) < 9e15 { out.appendDecimal(Int64(sample.value)) }
                else { out.appendJSONNumber(DrivingContext.clean(sample.value)) }
                out.append("]")
            }
            out.append("]}")
        }
        out.append("}}")
        return encode(json: out.bytes, as: .campaign)
    }
}
