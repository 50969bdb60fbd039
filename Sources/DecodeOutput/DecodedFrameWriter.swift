import CANBus
import DBC

/// Decodes log records and writes them as JSON lines or readable text, straight into an
/// `OutputBuffer`.
///
/// JSON lines, one per input frame, in input order:
///
///     {"t": 1700000000.000001, "id": 208, "extended": false, "message": "VehicleSpeed",
///      "signals": {"VehicleSpeed": 12.34}, "choices": {"SpeedQualifier": "Valid"}}
///
/// `signals` holds the active signals the payload holds (physical values); `choices` the
/// signals whose raw value has a VAL_ label; `missing` (only when non-empty) the active signals
/// a short frame did not hold. An undecodable frame has `"error"` instead of the signal maps.
///
/// Everything that depends only on the database (names escaped for JSON, units, labels) is
/// written once, at start, into `DecodeFormats`; per frame the writer copies those bytes and
/// formats the numbers, touching no String and no reference count.
public struct DecodedFrameWriter {
    public enum Format: String, Sendable, CaseIterable { case text, jsonl }

    public let codec: DatabaseCodec
    public let format: Format
    let formats: DecodeFormats

    /// A writer of its own (each has its scratch space: use one per thread).
    public init(codec: DatabaseCodec, format: Format) {
        self.codec = codec
        self.format = format
        formats = DecodeFormats(codec)
    }

    /// Appends one decoded line (with its newline) for `record`.
    @inline(__always)
    public func append(_ record: CANLogRecord, to out: OutputBuffer) {
        append(timestamp: record.timestamp, interface: record.interface, frame: record.frame, to: out)
    }

    /// The same, for a frame read as plain values (`interface` is only written in text lines).
    @inline(__always)
    /// As `append`, with the result of the frame's integrity check (`"e2e": "ok"` or the
    /// reason in JSON; `e2e=...` at the end of a text line); nil adds nothing.
    public func append(timestamp: CANTimestamp, interface: String, frame: CANFrame, e2e: StaticString?, to out: OutputBuffer) {
        append(timestamp: timestamp, interface: interface, frame: frame, to: out)
        guard let e2e else { return }
        // Re-open the line just written: drop its "}\n" (JSON) or "\n" (text), add the field.
        out.dropLast(format == .jsonl ? 2 : 1)
        var p = out.reserve(32)
        if format == .jsonl {
            TextWriter.text(&p, ", \"e2e\": \"")
            TextWriter.text(&p, e2e)
            TextWriter.text(&p, "\"}\n")
        } else {
            TextWriter.text(&p, " e2e=")
            TextWriter.text(&p, e2e)
            TextWriter.byte(&p, 0x0A)
        }
        out.commit(upTo: p)
    }

    public func append(timestamp: CANTimestamp, interface: String, frame: CANFrame, to out: OutputBuffer) {
        switch format {
        case .jsonl: appendJSON(timestamp, frame, to: out)
        case .text:
            var name = interface
            name.withUTF8 { appendText(timestamp, UnsafeRawBufferPointer($0), frame, to: out) }
        }
    }

    /// The same with the interface's name as bytes (only text lines write it).
    @inline(__always)
    public func append(timestamp: CANTimestamp, interface: UnsafeRawBufferPointer, frame: CANFrame, to out: OutputBuffer) {
        switch format {
        case .jsonl: appendJSON(timestamp, frame, to: out)
        case .text: appendText(timestamp, interface, frame, to: out)
        }
    }

    static func frameError(_ frame: CANFrame) -> StaticString? {
        switch frame {
        case .remote: return "remote frame (no payload)"
        case .error: return "error frame"
        default: return nil
        }
    }

    func appendJSON(_ timestamp: CANTimestamp, _ frame: CANFrame, to out: OutputBuffer) {
        let id = frame.id
        let index = id.flatMap { codec.index(of: $0) }
        var p = out.reserve(160 + (index.map { formats.messages[$0].worstJSON } ?? 0))
        TextWriter.text(&p, "{\"t\": ")
        var t = timestamp
        if t.fractionDigits == 0 { t.fractionDigits = 1 }
        TextWriter.timestamp(&p, t)
        TextWriter.text(&p, ", \"id\": ")
        if case .error(let e) = frame { TextWriter.decimal(&p, UInt64(e.errorClass)) } else { TextWriter.decimal(&p, UInt64(id?.value ?? 0)) }
        if id?.isExtended ?? true { TextWriter.text(&p, ", \"extended\": true, \"message\": ") } else { TextWriter.text(&p, ", \"extended\": false, \"message\": ") }
        guard let index else {
            TextWriter.text(&p, "null, \"error\": ")
            if let e = Self.frameError(frame) { TextWriter.byte(&p, 0x22); TextWriter.text(&p, e); TextWriter.byte(&p, 0x22) }
            else { TextWriter.text(&p, "\"unknown id\"") }
            TextWriter.text(&p, "}\n")
            out.commit(upTo: p)
            return
        }
        let m = formats.messages[index]
        formats.copy(&p, m.jsonName)
        if let e = Self.frameError(frame) {
            TextWriter.text(&p, ", \"error\": \"")
            TextWriter.text(&p, e)
            TextWriter.text(&p, "\"}\n")
            out.commit(upTo: p)
            return
        }
        decode(index, frame)
        TextWriter.text(&p, ", \"signals\": {")
        var anyMissing = false, anyChoice = false
        var first = true
        let signals = formats.signals + m.signalStart
        let values = formats.values
        do {
            for i in 0..<m.signalCount {
                let v = values[i]
                if v.state == .missing { anyMissing = true }
                guard v.state == .present else { continue }
                if !first { TextWriter.text(&p, ", ") }
                first = false
                let s = signals[i]
                formats.copy(&p, s.jsonName)
                Self.physical(&p, s, v)
                if s.labelCount > 0 { anyChoice = true }
            }
            TextWriter.text(&p, "}, \"choices\": {")
            if anyChoice {
                first = true
                for i in 0..<m.signalCount where values[i].state == .present && signals[i].labelCount > 0 {
                    guard let label = formats.label(signals[i], values[i].raw) else { continue }
                    if !first { TextWriter.text(&p, ", ") }
                    first = false
                    formats.copy(&p, signals[i].jsonName)
                    formats.copy(&p, label.json)
                }
            }
            TextWriter.byte(&p, UInt8(ascii: "}"))
            if anyMissing {
                TextWriter.text(&p, ", \"missing\": [")
                first = true
                for i in 0..<m.signalCount where values[i].state == .missing {
                    if !first { TextWriter.text(&p, ", ") }
                    first = false
                    formats.copy(&p, signals[i].jsonName.droppingColon)
                }
                TextWriter.byte(&p, UInt8(ascii: "]"))
            }
        }
        TextWriter.text(&p, "}\n")
        out.commit(upTo: p)
    }

    /// Integer signals with identity scaling print their exact integer; others the double.
    @inline(__always)
    static func physical(_ p: inout UnsafeMutablePointer<UInt8>, _ s: SignalFormat, _ v: DecodedValue) {
        if s.exactInteger {
            if s.isSigned { TextWriter.decimal(&p, Int64(bitPattern: v.raw)) } else { TextWriter.decimal(&p, v.raw) }
        } else {
            TextWriter.jsonNumber(&p, v.physical)
        }
    }

    @inline(__always)
    func decode(_ index: Int, _ frame: CANFrame) {
        let out = UnsafeMutableBufferPointer(start: formats.values, count: formats.valueCount)
        frame.withPayload { codec.decode(messageAt: index, $0, into: out) }
    }

    func appendText(_ timestamp: CANTimestamp, _ interface: UnsafeRawBufferPointer, _ frame: CANFrame, to out: OutputBuffer) {
        let index = frame.id.flatMap { codec.index(of: $0) }
        var p = out.reserve(200 + interface.count + (index.map { formats.messages[$0].worstText } ?? 0))
        TextWriter.byte(&p, UInt8(ascii: "("))
        var t = timestamp
        if t.fractionDigits == 0 { t.fractionDigits = 6 }
        TextWriter.timestamp(&p, t, minimumSecondsDigits: 10)
        TextWriter.text(&p, ") ")
        if let name = interface.baseAddress { TextWriter.bytes(&p, name.assumingMemoryBound(to: UInt8.self), interface.count) }
        TextWriter.byte(&p, UInt8(ascii: " "))
        Self.frameText(&p, frame)
        TextWriter.text(&p, " :: ")
        guard let index else {
            if case .error = frame { TextWriter.text(&p, "error frame\n") } else { TextWriter.text(&p, "unknown id\n") }
            out.commit(upTo: p)
            return
        }
        let m = formats.messages[index]
        formats.copy(&p, m.textName)
        if let e = Self.frameError(frame) {
            TextWriter.text(&p, ": ")
            TextWriter.text(&p, e)
            TextWriter.byte(&p, 0x0A)
            out.commit(upTo: p)
            return
        }
        decode(index, frame)
        TextWriter.byte(&p, UInt8(ascii: "("))
        var first = true
        let signals = formats.signals + m.signalStart
        let values = formats.values
        do {
            for i in 0..<m.signalCount where values[i].state != .inactive {
                if !first { TextWriter.text(&p, ", ") }
                first = false
                let s = signals[i]
                formats.copy(&p, s.textName)
                if values[i].state == .missing { TextWriter.text(&p, "<missing>"); continue }
                if s.labelCount > 0, let label = formats.label(s, values[i].raw) {
                    formats.copy(&p, label.text)
                } else {
                    Self.physical(&p, s, values[i])
                    formats.copy(&p, s.unit)
                }
            }
        }
        TextWriter.text(&p, ")\n")
        out.commit(upTo: p)
    }

    /// The frame as `cansend` takes it (upper-case hex, no separators), as CandumpWriter writes it.
    @inline(__always)
    static func frameText(_ p: inout UnsafeMutablePointer<UInt8>, _ frame: CANFrame) {
        func id(_ p: inout UnsafeMutablePointer<UInt8>, _ id: CANID) {
            TextWriter.hex(&p, id.value, width: id.isExtended ? 8 : 3)
            TextWriter.byte(&p, UInt8(ascii: "#"))
        }
        switch frame {
        case .data(let f):
            id(&p, f.id)
            withUnsafeBytes(of: f.data) { for i in 0..<Int(f.length) { TextWriter.hexByte(&p, $0[i]) } }
            if f.length == 8, f.len8DLC > 8 {
                TextWriter.byte(&p, UInt8(ascii: "_"))
                TextWriter.byte(&p, TextBuffer.hexDigit(f.len8DLC & 0xF))
            }
        case .fd(let f):
            id(&p, f.id)
            TextWriter.byte(&p, UInt8(ascii: "#"))
            TextWriter.byte(&p, TextBuffer.hexDigit(f.flags & 0xF))
            withUnsafeBytes(of: f.payload) { for i in 0..<Int(f.length) { TextWriter.hexByte(&p, $0[i]) } }
        case .remote, .error:
            // Rare: through the general writer.
            var text = TextBuffer(capacity: 32)
            CandumpWriter.appendFrame(frame, to: &text)
            text.bytes.withUnsafeBufferPointer { TextWriter.bytes(&p, $0.baseAddress!, $0.count) }
        }
    }
}

/// A range of bytes in `DecodeFormats.pool`.
struct PoolRange {
    var start: Int32
    var count: Int32
    /// The same bytes without their last two (`"name": ` → `"name"`).
    var droppingColon: PoolRange { PoolRange(start: start, count: count - 2) }
}

struct MessageFormat {
    var jsonName: PoolRange  // "Name" (escaped)
    var textName: PoolRange  // Name
    var signalStart: Int
    var signalCount: Int
    /// The most bytes a decoded line of this message can take beyond a fixed head.
    var worstJSON: Int
    var worstText: Int
}

struct SignalFormat {
    var jsonName: PoolRange   // "Name": (escaped)
    var textName: PoolRange   // Name: (followed by the value)
    var unit: PoolRange       // " km/h", or empty
    var exactInteger: Bool
    var isSigned: Bool
    var labelStart: Int32
    var labelCount: Int32
}

struct LabelFormat {
    var json: PoolRange  // "Label" (escaped)
    var text: PoolRange  // 'Label'
}

/// The database's text, laid out once for writing: every name, unit and label in one pool of
/// bytes, and flat tables of plain structs pointing into it.
final class DecodeFormats: @unchecked Sendable {
    let pool: UnsafeMutablePointer<UInt8>
    let messages: UnsafeMutablePointer<MessageFormat>
    let signals: UnsafeMutablePointer<SignalFormat>
    let labels: UnsafeMutablePointer<LabelFormat>
    /// Per label: its raw key (sorted within each signal's run), for a binary search.
    let labelKeys: UnsafeMutablePointer<Int128>
    let counts: (messages: Int, signals: Int, labels: Int)
    /// Scratch for one decoded frame: a value per signal of the largest message.
    let values: UnsafeMutablePointer<DecodedValue>
    let valueCount: Int

    init(_ codec: DatabaseCodec) {
        var pool: [UInt8] = []
        func add(_ bytes: some Sequence<UInt8>) -> PoolRange {
            let start = pool.count
            pool.append(contentsOf: bytes)
            return PoolRange(start: Int32(start), count: Int32(pool.count - start))
        }
        func json(_ s: String, _ suffix: String = "") -> [UInt8] {
            var t = TextBuffer(capacity: s.utf8.count + 8)
            t.appendJSONString(s)
            t.append(suffix)
            return t.bytes
        }
        var messages: [MessageFormat] = [], signals: [SignalFormat] = [], labels: [LabelFormat] = [], keys: [Int128] = []
        for mc in codec.codecs {
            let m = mc.message
            var format = MessageFormat(jsonName: add(json(m.name)), textName: add(m.name.utf8), signalStart: signals.count,
                                       signalCount: m.signals.count, worstJSON: 0, worstText: 0)
            for (si, s) in m.signals.enumerated() {
                let exact = s.factor == 1 && s.offset == 0
                    && (s.valueType == .integer || (s.valueType == .float32 && s.length != 32) || (s.valueType == .float64 && s.length != 64))
                let sorted = mc.labels[si].sorted { $0.key < $1.key }
                var worstLabel = 0
                let labelStart = labels.count
                for (key, text) in sorted {
                    let l = LabelFormat(json: add(json(text)), text: add(Array("'\(text)'".utf8)))
                    worstLabel = max(worstLabel, Int(l.json.count) + Int(l.text.count))
                    labels.append(l)
                    keys.append(key)
                }
                let f = SignalFormat(jsonName: add(json(s.name, ": ")), textName: add(Array("\(s.name): ".utf8)),
                                     unit: add(s.unit.isEmpty ? [] : Array(" \(s.unit)".utf8)), exactInteger: exact, isSigned: s.isSigned,
                                     labelStart: Int32(labelStart), labelCount: Int32(sorted.count))
                // Per signal in the worst case: the name in signals, choices and missing, a number, a label, separators.
                format.worstJSON += 3 * Int(f.jsonName.count) + TextWriter.maxDoubleBytes + worstLabel + 8
                format.worstText += Int(f.textName.count) + TextWriter.maxDoubleBytes + Int(f.unit.count) + worstLabel + 12
                signals.append(f)
            }
            format.worstJSON += Int(format.jsonName.count)
            format.worstText += Int(format.textName.count)
            messages.append(format)
        }
        func copy<T>(_ a: [T]) -> UnsafeMutablePointer<T> {
            let p = UnsafeMutablePointer<T>.allocate(capacity: max(a.count, 1))
            p.initialize(from: a, count: a.count)
            return p
        }
        self.pool = copy(pool)
        self.messages = copy(messages)
        self.signals = copy(signals)
        self.labels = copy(labels)
        labelKeys = copy(keys)
        counts = (messages.count, signals.count, labels.count)
        valueCount = max(codec.maxSignalCount, 1)
        values = copy([DecodedValue](repeating: DecodedValue(), count: valueCount))
    }

    deinit {
        pool.deallocate()
        messages.deinitialize(count: counts.messages).deallocate()
        signals.deinitialize(count: counts.signals).deallocate()
        labels.deinitialize(count: counts.labels).deallocate()
        labelKeys.deinitialize(count: counts.labels).deallocate()
        values.deinitialize(count: valueCount).deallocate()
    }

    @inline(__always)
    func copy(_ p: inout UnsafeMutablePointer<UInt8>, _ r: PoolRange) {
        TextWriter.bytes(&p, pool + Int(r.start), Int(r.count))
    }

    /// The label of a signal's raw value, if it has one (binary search in the signal's run).
    @inline(__always)
    func label(_ s: SignalFormat, _ raw: UInt64) -> LabelFormat? {
        let key = s.isSigned ? Int128(Int64(bitPattern: raw)) : Int128(raw)
        var lo = Int(s.labelStart), hi = lo + Int(s.labelCount)
        while lo < hi {
            let mid = (lo + hi) >> 1
            if labelKeys[mid] < key { lo = mid + 1 } else { hi = mid }
        }
        return lo < Int(s.labelStart + s.labelCount) && labelKeys[lo] == key ? labels[lo] : nil
    }
}
