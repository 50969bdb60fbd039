import Foundation
import Gateway
import KuksaProtos
import SwiftProtobuf
import VehicleState

/// Our readings as kuksa.val.v2 messages: the one place that says how a value, its frame time
/// and its state become a `Datapoint`.
///
/// A fresh value is the value with its frame's time. A stale or invalid one has no value (what
/// KUKSA documents as "exists but has no valid value") and keeps its last frame's time, so an
/// unmodified client sees there is no current value and since when; the state itself is in the
/// `vg-state` response metadata of GetValue/GetValues. A path never received has neither.
enum KuksaValues {
    static func datapoint(_ r: VehicleView.Reading, _ datatype: VSSDatatype) -> Kuksa_Val_V2_Datapoint {
        var d = Kuksa_Val_V2_Datapoint()
        if let t = r.timestampNanoseconds { d.timestamp = timestamp(t) }
        if r.state == .fresh, let v = r.value { d.value = value(v, datatype) }
        return d
    }

    /// The state as `vg-state` metadata says it: fresh, stale, unavailable, or `invalid: reason`.
    static func stateText(_ r: VehicleView.Reading) -> String {
        if r.state == .invalid, let why = r.invalidReason { return "invalid: \(why)" }
        return r.state.rawValue
    }

    static func timestamp(_ nanoseconds: Int64) -> Google_Protobuf_Timestamp {
        var s = nanoseconds / 1_000_000_000, n = nanoseconds % 1_000_000_000
        if n < 0 { s -= 1; n += 1_000_000_000 }
        return Google_Protobuf_Timestamp(seconds: s, nanos: Int32(n))
    }

    /// The VSS datatype decides the wire type: a `float` path is a float, never a string.
    static func value(_ v: Double, _ datatype: VSSDatatype) -> Kuksa_Val_V2_Value {
        var out = Kuksa_Val_V2_Value()
        switch datatype {
        case .float: out.float = Float(v)
        case .double: out.double = v
        case .boolean: out.bool = v != 0
        case .int8, .int16, .int32: out.int32 = Int32(clamping: int64(v))
        case .int64: out.int64 = int64(v)
        case .uint8, .uint16, .uint32: out.uint32 = UInt32(clamping: int64(v))
        case .uint64: out.uint64 = v >= 1.8446744073709552e19 ? .max : UInt64(clamping: int64(v))
        }
        return out
    }

    /// Rounded and clamped, never a trap (NaN is 0).
    static func int64(_ v: Double) -> Int64 {
        guard !v.isNaN else { return 0 }
        let r = v.rounded()
        if r >= 9.2233720368547758e18 { return .max }
        if r <= -9.2233720368547758e18 { return .min }
        return Int64(r)
    }

    static func dataType(_ datatype: VSSDatatype) -> Kuksa_Val_V2_DataType {
        switch datatype {
        case .float: .float
        case .double: .double
        case .boolean: .boolean
        case .int8: .int8
        case .int16: .int16
        case .int32: .int32
        case .int64: .int64
        case .uint8: .uint8
        case .uint16: .uint16
        case .uint32: .uint32
        case .uint64: .uint64
        }
    }
}
