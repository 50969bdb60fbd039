import CANBus
import DBC

/// Decodes log records and writes them as JSON lines or readable text into a reused buffer.
///
/// JSON lines, one per input frame, in input order:
///
///     {"t": 1700000000.000001, "id": 208, "extended": false, "message": "VehicleSpeed",
///      "signals": {"VehicleSpeed": 12.34}, "choices": {"SpeedQualifier": "Valid"}}
///
/// `signals` holds the active signals the payload holds (physical values); `choices` the
/// signals whose raw value has a VAL_ label; `missing` (only when non-empty) the active signals
/// a short frame did not hold. An undecodable frame has `"error"` instead of the signal maps.
public struct DecodedFrameWriter {
    public enum Format: String, Sendable, CaseIterable { case text, jsonl }

    public let codec: DatabaseCodec
    public let format: Format
    var values: [DecodedValue]

    public init(codec: DatabaseCodec, format: Format) {
        self.codec = codec
        self.format = format
        values = [DecodedValue](repeating: DecodedValue(), count: max(codec.maxSignalCount, 1))
    }

    /// Appends one decoded line (with its newline) for `record`.
    public mutating func append(_ record: CANLogRecord, to out: inout TextBuffer) {
        switch format {
        case .jsonl: appendJSON(record, to: &out)
        case .text: appendText(record, to: &out)
        }
    }

    mutating func decode(_ index: Int, _ frame: CANFrame) {
        values.withUnsafeMutableBufferPointer { out in
            frame.withPayload { codec.decode(messageAt: index, $0, into: out) }
        }
    }

    func frameError(_ frame: CANFrame) -> StaticString? {
        switch frame {
        case .remote: return "remote frame (no payload)"
        case .error: return "error frame"
        default: return nil
        }
    }

    mutating func appendJSON(_ record: CANLogRecord, to out: inout TextBuffer) {
        out.append("{\"t\": ")
        var t = record.timestamp
        if t.fractionDigits == 0 { t.fractionDigits = 1 }
        out.appendTimestamp(t, minimumSecondsDigits: 1)
        let id = record.frame.id
        out.append(", \"id\": ")
        if case .error(let e) = record.frame { out.appendDecimal(UInt64(e.errorClass)) } else { out.appendDecimal(UInt64(id?.value ?? 0)) }
        out.append(", \"extended\": ")
        out.append(id?.isExtended ?? true ? "true" : "false")
        out.append(", \"message\": ")
        guard let id, let index = codec.index(of: id) else {
            out.append("null, \"error\": ")
            if let e = frameError(record.frame) { out.appendJSONString(String(describing: e)) } else { out.append("\"unknown id\"") }
            out.append("}\n")
            return
        }
        let mc = codec.codecs[index]
        out.appendJSONString(mc.message.name)
        if let e = frameError(record.frame) {
            out.append(", \"error\": ")
            out.appendJSONString(String(describing: e))
            out.append("}\n")
            return
        }
        decode(index, record.frame)
        out.append(", \"signals\": {")
        var first = true
        var anyMissing = false
        var anyChoice = false
        let signals = mc.message.signals
        for i in signals.indices {
            let v = values[i]
            if v.state == .missing { anyMissing = true }
            guard v.state == .present else { continue }
            if !first { out.append(", ") }
            first = false
            out.appendJSONString(signals[i].name)
            out.append(": ")
            appendPhysical(mc, i, v, to: &out)
            if !mc.labels[i].isEmpty { anyChoice = true }
        }
        out.append("}, \"choices\": {")
        if anyChoice {
            first = true
            for i in signals.indices where values[i].state == .present {
                guard let label = mc.label(signal: i, raw: values[i].raw) else { continue }
                if !first { out.append(", ") }
                first = false
                out.appendJSONString(signals[i].name)
                out.append(": ")
                out.appendJSONString(label)
            }
        }
        out.append("}")
        if anyMissing {
            out.append(", \"missing\": [")
            first = true
            for i in signals.indices where values[i].state == .missing {
                if !first { out.append(", ") }
                first = false
                out.appendJSONString(signals[i].name)
            }
            out.append("]")
        }
        out.append("}\n")
    }

    /// Integer signals with identity scaling print their exact integer; others the double.
    @inline(__always)
    func appendPhysical(_ mc: MessageCodec, _ i: Int, _ v: DecodedValue, to out: inout TextBuffer) {
        let s = mc.message.signals[i]
        if s.factor == 1, s.offset == 0, s.valueType == .integer || (s.valueType == .float32 && s.length != 32) || (s.valueType == .float64 && s.length != 64) {
            if s.isSigned { out.appendDecimal(Int64(bitPattern: v.raw)) } else { out.appendDecimal(v.raw) }
        } else {
            out.appendJSONNumber(v.physical)
        }
    }

    mutating func appendText(_ record: CANLogRecord, to out: inout TextBuffer) {
        out.append(UInt8(ascii: "("))
        var t = record.timestamp
        if t.fractionDigits == 0 { t.fractionDigits = 6 }
        out.appendTimestamp(t)
        out.append(") ")
        out.append(record.interface)
        out.append(UInt8(ascii: " "))
        CandumpWriter.appendFrame(record.frame, to: &out)
        out.append(" :: ")
        guard let id = record.frame.id, let index = codec.index(of: id) else {
            if case .error = record.frame { out.append("error frame\n") } else { out.append("unknown id\n") }
            return
        }
        let mc = codec.codecs[index]
        out.append(mc.message.name)
        if let e = frameError(record.frame) {
            out.append(": ")
            out.append(String(describing: e))
            out.append("\n")
            return
        }
        decode(index, record.frame)
        out.append(UInt8(ascii: "("))
        var first = true
        let signals = mc.message.signals
        for i in signals.indices where values[i].state != .inactive {
            if !first { out.append(", ") }
            first = false
            out.append(signals[i].name)
            out.append(": ")
            if values[i].state == .missing { out.append("<missing>"); continue }
            if let label = mc.label(signal: i, raw: values[i].raw) {
                out.append(UInt8(ascii: "'"))
                out.append(label)
                out.append(UInt8(ascii: "'"))
            } else {
                appendPhysical(mc, i, values[i], to: &out)
                if !signals[i].unit.isEmpty {
                    out.append(UInt8(ascii: " "))
                    out.append(signals[i].unit)
                }
            }
        }
        out.append(")\n")
    }
}
