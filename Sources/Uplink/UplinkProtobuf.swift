import Foundation
import SwiftProtobuf
import UplinkProtos

/// The compact form of the uplink's messages (`Protos/vehicle_gateway/uplink.proto`): the same
/// fields under the same names as the JSON form, so a context is written once, as JSON, and
/// turned into protobuf through swift-protobuf's JSON mapping (nulls left out), and a consumer
/// turns it back (`json(fromProtobuf:)`).
public enum UplinkProtobuf {
    public enum Kind: Sendable { case context, campaign }

    public static func contentType(_ kind: Kind) -> String {
        "application/x-protobuf; messageType=vehicle_gateway.uplink.v1.\(kind == .context ? "Context" : "Campaign")"
    }

    static func encode(json: [UInt8], _ kind: Kind) -> [UInt8]? {
        switch kind {
        case .context:
            if let m = try? VehicleGateway_Uplink_V1_Context(jsonUTF8Bytes: json) { return try? m.serializedBytes() }
            guard let cleaned = withoutNulls(json), let m = try? VehicleGateway_Uplink_V1_Context(jsonUTF8Bytes: cleaned) else { return nil }
            return try? m.serializedBytes()
        case .campaign:
            return campaign(json: json).flatMap { try? $0.serializedBytes() }
        }
    }

    /// A context message as the JSON a consumer expects (snake_case names; unset members left out).
    public static func contextJSON(fromProtobuf bytes: [UInt8]) -> [UInt8]? {
        guard let m = try? VehicleGateway_Uplink_V1_Context(serializedBytes: bytes) else { return nil }
        var options = JSONEncodingOptions()
        options.preserveProtoFieldNames = true
        guard let json: [UInt8] = try? m.jsonUTF8Bytes(options: options) else { return nil }
        // Proto3's JSON writes 64-bit integers as strings: seq is a number in the car's JSON.
        let parsed = try? JSONSerialization.jsonObject(with: Data(json))
        guard var object = parsed as? [String: Any], let seq = object["seq"] as? String, let n = UInt64(seq) else { return json }
        object["seq"] = NSNumber(value: n)
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) else { return json }
        return [UInt8](data)
    }

    /// The JSON form of a campaign message, its samples as `[[time, value], ...]`, re-packed:
    /// times in µs, the first in full and then each the difference from the one before.
    static func campaign(json: [UInt8]) -> VehicleGateway_Uplink_V1_Campaign? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(json)) as? [String: Any] else { return nil }
        var m = VehicleGateway_Uplink_V1_Campaign()
        if let v = object["vehicle_id"] as? String { m.vehicleID = v }
        if let v = object["campaign"] as? String { m.campaign = v }
        if let v = object["seq"] as? NSNumber { m.seq = v.uint64Value }
        if let v = object["trigger"] as? String { m.trigger = v }
        if let v = object["trigger_time"] as? NSNumber { m.triggerTime = v.doubleValue }
        if let v = object["from"] as? NSNumber { m.from = v.doubleValue }
        if let v = object["to"] as? NSNumber { m.to = v.doubleValue }
        for (name, value) in object["signals"] as? [String: Any] ?? [:] {
            guard let s = value as? [String: Any] else { return nil }
            var out = VehicleGateway_Uplink_V1_SignalSamples()
            if let u = s["unit"] as? String { out.unit = u }
            var last: Int64 = 0
            for pair in s["samples"] as? [[NSNumber]] ?? [] where pair.count == 2 {
                let t = Int64((pair[0].doubleValue * 1e6).rounded())
                out.timeUsDeltas.append(t - last)
                last = t
                out.values.append(pair[1].doubleValue)
            }
            m.signals[name] = out
        }
        return m
    }

    /// The JSON without its null members (they mean "unknown"; protobuf leaves them unset).
    static func withoutNulls(_ json: [UInt8]) -> [UInt8]? {
        func strip(_ v: Any) -> Any? {
            if v is NSNull { return nil }
            if let d = v as? [String: Any] { return d.compactMapValues(strip) }
            if let a = v as? [Any] { return a.compactMap(strip) }
            return v
        }
        guard let object = try? JSONSerialization.jsonObject(with: Data(json)), let cleaned = strip(object),
              let data = try? JSONSerialization.data(withJSONObject: cleaned) else { return nil }
        return Array(data)
    }
}
