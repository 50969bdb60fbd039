/// A reusable byte buffer for writing text (candump lines, JSON) without a `String` per item.
///
/// Call `removeAll()` between items: the capacity is kept, so steady-state writing allocates
/// nothing.
public struct TextBuffer: Sendable {
    public var bytes: [UInt8]

    public init(capacity: Int = 256) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    @inlinable public var count: Int { bytes.count }
    @inlinable public var isEmpty: Bool { bytes.isEmpty }
    @inlinable public mutating func removeAll() { bytes.removeAll(keepingCapacity: true) }
    public var string: String { String(decoding: bytes, as: UTF8.self) }

    @inlinable public mutating func append(_ byte: UInt8) { bytes.append(byte) }
    @inlinable public mutating func append(_ text: StaticString) {
        text.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }
    @inlinable public mutating func append(_ text: String) {
        var text = text
        text.withUTF8 { bytes.append(contentsOf: $0) }
    }
    @inlinable public mutating func append(contentsOf raw: UnsafeRawBufferPointer) {
        bytes.append(contentsOf: raw)
    }

    @inlinable @inline(__always) public static func hexDigit(_ nibble: UInt8) -> UInt8 {
        nibble < 10 ? 48 + nibble : 55 + nibble
    }

    /// One upper-case hex digit for the low nibble.
    @inlinable public mutating func appendHexNibble(_ value: UInt8) {
        bytes.append(Self.hexDigit(value & 0xF))
    }

    /// Two upper-case hex digits.
    @inlinable public mutating func appendHexByte(_ value: UInt8) {
        bytes.append(Self.hexDigit(value >> 4))
        bytes.append(Self.hexDigit(value & 0xF))
    }

    /// `value` in upper-case hex, zero-padded to `width` digits.
    @inlinable public mutating func appendHex(_ value: UInt32, width: Int) {
        var shift = (width - 1) * 4
        while shift >= 0 {
            bytes.append(Self.hexDigit(UInt8((value >> UInt32(shift)) & 0xF)))
            shift -= 4
        }
    }

    /// A decimal integer, zero-padded to at least `minimumDigits`.
    @inlinable public mutating func appendDecimal(_ value: UInt64, minimumDigits: Int = 1) {
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes of scratch: UInt64.max has 20 digits
        withUnsafeMutableBytes(of: &digits) { raw in
            var v = value
            var i = raw.count
            repeat {
                i -= 1
                raw[i] = UInt8(truncatingIfNeeded: 48 + v % 10)
                v /= 10
            } while v != 0
            while raw.count - i < minimumDigits && i > 0 {
                i -= 1
                raw[i] = 48
            }
            bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: raw[i...]))
        }
    }

    @inlinable public mutating func appendDecimal(_ value: Int64) {
        if value < 0 {
            bytes.append(UInt8(ascii: "-"))
            appendDecimal(value.magnitude)
        } else {
            appendDecimal(UInt64(value))
        }
    }

    /// `seconds.fraction` with the timestamp's own number of fractional digits; candump pads
    /// the seconds to 10 digits.
    @inlinable public mutating func appendTimestamp(_ t: CANTimestamp, minimumSecondsDigits: Int = 10) {
        if t.seconds < 0 { bytes.append(UInt8(ascii: "-")) }
        appendDecimal(t.seconds.magnitude, minimumDigits: minimumSecondsDigits)
        let digits = Int(t.fractionDigits)
        guard digits > 0 else { return }
        bytes.append(UInt8(ascii: "."))
        var divisor: UInt32 = 100_000_000
        for _ in 0..<digits {
            bytes.append(UInt8(48 + (t.nanoseconds / divisor) % 10))
            divisor /= 10
        }
    }

    /// A JSON string literal with the escapes RFC 8259 requires.
    public mutating func appendJSONString(_ text: String) {
        bytes.append(UInt8(ascii: "\""))
        for b in text.utf8 {
            switch b {
            case UInt8(ascii: "\""): append("\\\"")
            case UInt8(ascii: "\\"): append("\\\\")
            case 0x0A: append("\\n")
            case 0x0D: append("\\r")
            case 0x09: append("\\t")
            case 0..<0x20:
                append("\\u00")
                appendHexByte(b)
            default: bytes.append(b)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    /// A JSON number; NaN and the infinities as the strings "NaN", "Infinity", "-Infinity".
    public mutating func appendJSONNumber(_ value: Double) {
        if value.isNaN { append("\"NaN\"") }
        else if value == .infinity { append("\"Infinity\"") }
        else if value == -.infinity { append("\"-Infinity\"") }
        else if value == value.rounded(), value.magnitude < 1e15 { appendDecimal(Int64(value)) }
        else {
            // Swift prints exponents as "1e-07"; JSON accepts that form.
            append(value.description)
        }
    }
}
