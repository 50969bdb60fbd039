/// A timestamp as candump writes it: whole seconds and a decimal fraction, kept exactly.
///
/// Logs carry 6 (µs) or 9 (ns) fractional digits; converting them to `Double` would lose the
/// last digits of a 2020s epoch time, so the value is kept as integers with its digit count.
public struct CANTimestamp: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var seconds: Int64
    public var nanoseconds: UInt32
    /// How many fractional digits the source had (and a writer reproduces); 0–9.
    public var fractionDigits: UInt8

    public init(seconds: Int64, nanoseconds: UInt32, fractionDigits: UInt8 = 6) {
        self.seconds = seconds
        self.nanoseconds = nanoseconds
        self.fractionDigits = fractionDigits
    }

    public init(seconds: Int64, microseconds: UInt32) {
        self.init(seconds: seconds, nanoseconds: microseconds * 1000, fractionDigits: 6)
    }

    public init(totalNanoseconds: Int64, fractionDigits: UInt8 = 6) {
        var s = totalNanoseconds / 1_000_000_000
        var n = totalNanoseconds % 1_000_000_000
        if n < 0 { n += 1_000_000_000; s -= 1 }
        self.init(seconds: s, nanoseconds: UInt32(n), fractionDigits: fractionDigits)
    }

    public var totalNanoseconds: Int64 { seconds &* 1_000_000_000 &+ Int64(nanoseconds) }
    /// Approximate; for arithmetic and display, never for writing logs back.
    public var timeInterval: Double { Double(seconds) + Double(nanoseconds) / 1e9 }

    public static func < (a: CANTimestamp, b: CANTimestamp) -> Bool {
        (a.seconds, a.nanoseconds) < (b.seconds, b.nanoseconds)
    }

    public static func == (a: CANTimestamp, b: CANTimestamp) -> Bool {
        a.seconds == b.seconds && a.nanoseconds == b.nanoseconds
    }

    public func hash(into h: inout Hasher) {
        h.combine(seconds)
        h.combine(nanoseconds)
    }

    /// `1436509052.249713`: the seconds, a dot and `fractionDigits` digits.
    public var description: String {
        var buffer = TextBuffer()
        buffer.appendTimestamp(self, minimumSecondsDigits: 1)
        return buffer.string
    }
}
