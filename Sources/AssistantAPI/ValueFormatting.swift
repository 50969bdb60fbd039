import CANBus
import Foundation
import VehicleState

/// How values, times and positions are written for clients.
enum ValueFormat {
    /// A VSS value as VISS writes it: a string ("42.5", "3", "true").
    static func string(_ value: Double, _ datatype: VSSDatatype) -> String {
        if datatype == .boolean { return value != 0 ? "true" : "false" }
        if datatype.isInteger, abs(value) < 9.0e15 { return String(Int64(value)) }
        if !value.isFinite { return value.isNaN ? "NaN" : value > 0 ? "Infinity" : "-Infinity" }
        return String(value)
    }

    /// A VSS value as a JSON literal (number, true/false; non-finite numbers as strings).
    static func appendJSON(_ value: Double, _ datatype: VSSDatatype, to out: inout TextBuffer) {
        if datatype == .boolean { out.append(value != 0 ? "true" : "false"); return }
        if datatype.isInteger, abs(value) < 9.0e15 { out.appendDecimal(Int64(value)); return }
        out.appendJSONNumber(value)
    }

    /// ISO 8601 UTC with milliseconds, as VISS timestamps are: 2026-11-25T14:53:33.123Z.
    static func iso8601(nanoseconds: Int64) -> String {
        var seconds = time_t(nanoseconds / 1_000_000_000)
        let millis = Int((nanoseconds % 1_000_000_000) / 1_000_000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func pad(_ v: Int32, _ n: Int) -> String { let s = String(v); return String(repeating: "0", count: max(0, n - s.count)) + s }
        return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T"
            + "\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2)).\(pad(Int32(millis), 3))Z"
    }

    static func nowISO8601() -> String { iso8601(nanoseconds: SystemClock.wallNanoseconds()) }
}
