/// A growable byte buffer for output written at line rate: a writer asks for room for the
/// longest line it could write, writes through a pointer with no check per byte, and says
/// how much it wrote. Steady state allocates nothing and checks capacity once per line.
/// A class, so a sink and a writer share one; its fields live behind a pointer, so writing
/// them costs no exclusivity check.
public final class OutputBuffer: @unchecked Sendable {
    public struct Storage {
        public var base: UnsafeMutablePointer<UInt8>
        public var count: Int
        public var capacity: Int
    }
    @usableFromInline let storage: UnsafeMutablePointer<Storage>

    public init(capacity: Int = 1 << 17) {
        let c = max(capacity, 64)
        storage = .allocate(capacity: 1)
        storage.initialize(to: Storage(base: .allocate(capacity: c), count: 0, capacity: c))
    }

    deinit {
        storage.pointee.base.deallocate()
        storage.deallocate()
    }

    public var count: Int { storage.pointee.count }

    /// Room for `n` more bytes at the end: where to write them. Follow with `commit`.
    @inlinable @inline(__always)
    public func reserve(_ n: Int) -> UnsafeMutablePointer<UInt8> {
        let s = storage
        if s.pointee.count + n > s.pointee.capacity { grow(s.pointee.count + n) }
        return s.pointee.base + s.pointee.count
    }

    /// `end` is one past the last byte written after `reserve`.
    @inlinable @inline(__always)
    public func commit(upTo end: UnsafeMutablePointer<UInt8>) { storage.pointee.count = end - storage.pointee.base }

    @usableFromInline
    func grow(_ needed: Int) {
        var c = storage.pointee.capacity
        while c < needed { c *= 2 }
        let b = UnsafeMutablePointer<UInt8>.allocate(capacity: c)
        b.update(from: storage.pointee.base, count: storage.pointee.count)
        storage.pointee.base.deallocate()
        storage.pointee.base = b
        storage.pointee.capacity = c
    }

    public func append(_ bytes: UnsafeRawBufferPointer) {
        var p = reserve(bytes.count)
        if let src = bytes.baseAddress { TextWriter.bytes(&p, src.assumingMemoryBound(to: UInt8.self), bytes.count) }
        commit(upTo: p)
    }

    public func append(_ text: String) {
        var t = text
        t.withUTF8 { append(UnsafeRawBufferPointer($0)) }
    }

    public func append(_ text: TextBuffer) { text.bytes.withUnsafeBytes { append($0) } }

    public func removeAll() { storage.pointee.count = 0 }
    /// Takes back the last `n` bytes written (to extend a line just ended).
    public func dropLast(_ n: Int) { storage.pointee.count = max(0, storage.pointee.count - n) }

    public var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: storage.pointee.base, count: storage.pointee.count) }
    public var string: String { String(decoding: bytes, as: UTF8.self) }
}

/// Writing text through a raw pointer into room an `OutputBuffer` reserved. The caller
/// reserved enough: these functions do not check.
public enum TextWriter {
    @inlinable @inline(__always)
    public static func byte(_ p: inout UnsafeMutablePointer<UInt8>, _ b: UInt8) { p.pointee = b; p += 1 }

    /// Copies `n` bytes; short runs (names, separators) without a call to memmove.
    @inlinable @inline(__always)
    public static func bytes(_ p: inout UnsafeMutablePointer<UInt8>, _ src: UnsafePointer<UInt8>, _ n: Int) {
        let d = UnsafeMutableRawPointer(p), s = UnsafeRawPointer(src)
        if n <= 16 {
            if n >= 8 {
                d.storeBytes(of: s.loadUnaligned(as: UInt64.self), as: UInt64.self)
                (d + n - 8).storeBytes(of: (s + n - 8).loadUnaligned(as: UInt64.self), as: UInt64.self)
            } else if n >= 4 {
                d.storeBytes(of: s.loadUnaligned(as: UInt32.self), as: UInt32.self)
                (d + n - 4).storeBytes(of: (s + n - 4).loadUnaligned(as: UInt32.self), as: UInt32.self)
            } else {
                for i in 0..<n { p[i] = src[i] }
            }
        } else {
            p.update(from: src, count: n)
        }
        p += n
    }

    @inlinable @inline(__always)
    public static func text(_ p: inout UnsafeMutablePointer<UInt8>, _ s: StaticString) {
        bytes(&p, s.utf8Start, s.utf8CodeUnitCount)
    }

    /// "00" to "99", for writing two digits per division (a constant: no lazy initialisation).
    @usableFromInline static let digitPairs: StaticString =
        "00010203040506070809101112131415161718192021222324252627282930313233343536373839404142434445464748495051525354555657585960616263646566676869707172737475767778798081828384858687888990919293949596979899"

    /// How many decimal digits `v` has.
    @inlinable @inline(__always)
    public static func digitCount(_ v: UInt64) -> Int {
        var n = 1, x = v
        while x >= 10_000 { x /= 10_000; n += 4 }
        if x >= 100 { n += x >= 1000 ? 3 : 2 } else if x >= 10 { n += 1 }
        return n
    }

    /// `v` as exactly `digits` decimal digits (zero-padded; `digits` at least its digit count).
    @inlinable @inline(__always)
    public static func digits(_ p: inout UnsafeMutablePointer<UInt8>, _ value: UInt64, _ digits: Int) {
        var v = value
        var q = p + digits
        let pairs = digitPairs.utf8Start
        while q - p >= 2 {
            let r = Int(v % 100)
            v /= 100
            q -= 2
            q[0] = pairs[2 * r]
            q[1] = pairs[2 * r + 1]
        }
        if q > p { q -= 1; q.pointee = UInt8(truncatingIfNeeded: 48 &+ v % 10) }
        p += digits
    }

    /// A decimal integer.
    @inlinable @inline(__always)
    public static func decimal(_ p: inout UnsafeMutablePointer<UInt8>, _ value: UInt64) {
        digits(&p, value, digitCount(value))
    }

    @inlinable @inline(__always)
    public static func decimal(_ p: inout UnsafeMutablePointer<UInt8>, _ value: Int64) {
        if value < 0 { byte(&p, UInt8(ascii: "-")) }
        decimal(&p, value.magnitude)
    }

    /// Upper-case hex, two digits.
    @inlinable @inline(__always)
    public static func hexByte(_ p: inout UnsafeMutablePointer<UInt8>, _ b: UInt8) {
        p[0] = TextBuffer.hexDigit(b >> 4)
        p[1] = TextBuffer.hexDigit(b & 0xF)
        p += 2
    }

    /// `value` in upper-case hex, zero-padded to `width` digits.
    @inlinable @inline(__always)
    public static func hex(_ p: inout UnsafeMutablePointer<UInt8>, _ value: UInt32, width: Int) {
        for k in 0..<width { p[k] = TextBuffer.hexDigit(UInt8((value >> UInt32((width - 1 - k) * 4)) & 0xF)) }
        p += width
    }

    /// `seconds.fraction` with the timestamp's own number of fractional digits, the seconds
    /// zero-padded to `minimumSecondsDigits`.
    @inlinable @inline(__always)
    public static func timestamp(_ p: inout UnsafeMutablePointer<UInt8>, _ t: CANTimestamp, minimumSecondsDigits: Int = 1) {
        if t.seconds < 0 { byte(&p, UInt8(ascii: "-")) }
        let s = t.seconds.magnitude
        digits(&p, s, max(digitCount(s), minimumSecondsDigits))
        let fraction = Int(min(t.fractionDigits, 9))
        guard fraction > 0 else { return }
        byte(&p, UInt8(ascii: "."))
        var divisor: UInt32 = 1
        for _ in fraction..<9 { divisor &*= 10 }
        digits(&p, UInt64(t.nanoseconds / divisor), fraction)
    }

    /// The longest text `double` writes.
    public static let maxDoubleBytes = 32

    /// A double as Swift's `description` spells it (the shortest digits that read back the same
    /// value), written straight into the buffer: the runtime's own formatter, without a String.
    /// It expects its buffer filled with "0" (as the standard library's is) and writes only the
    /// other digits; a test holds it to `description` on many values.
    @inlinable @inline(__always)
    public static func double(_ p: inout UnsafeMutablePointer<UInt8>, _ value: Double) {
        if shortDecimal(&p, value) { return }
        let zeros: UInt64 = 0x3030_3030_3030_3030
        let r = UnsafeMutableRawPointer(p)
        for k in 0..<4 { r.storeBytes(of: zeros, toByteOffset: 8 * k, as: UInt64.self) }
        let n = swiftFloat64ToString(p, 32, value, false)
        p += Int(n)
    }

    /// Most scaled signal values (a raw integer times 0.1, 0.01, 0.25 ...) have a short decimal
    /// form: the fewest fraction digits k (1 to 6) whose k-digit decimal reads back as `value`
    /// is what `description` writes, so it is written from two integers without the general
    /// formatter. False (nothing written) for every other value.
    @inlinable @inline(__always)
    static func shortDecimal(_ p: inout UnsafeMutablePointer<UInt8>, _ value: Double) -> Bool {
        let a = value.magnitude
        guard a >= 1e-3, a < 1e9 else { return false }
        var scale = 1.0
        for k in 1...6 {
            scale *= 10
            let n = (a * scale).rounded()
            guard n / scale == a else { continue }
            let whole = UInt64(n), unit = UInt64(scale)
            if value < 0 { byte(&p, UInt8(ascii: "-")) }
            decimal(&p, whole / unit)
            byte(&p, UInt8(ascii: "."))
            digits(&p, whole % unit, k)
            return true
        }
        return false
    }

    /// A JSON number: integral values below 1e15 as integers, others as `double` writes them;
    /// NaN and the infinities as the strings "NaN", "Infinity", "-Infinity".
    @inlinable @inline(__always)
    public static func jsonNumber(_ p: inout UnsafeMutablePointer<UInt8>, _ value: Double) {
        if value.isNaN { text(&p, "\"NaN\"") }
        else if value == .infinity { text(&p, "\"Infinity\"") }
        else if value == -.infinity { text(&p, "\"-Infinity\"") }
        else if value == value.rounded(), value.magnitude < 1e15 { decimal(&p, Int64(value)) }
        else { double(&p, value) }
    }
}

/// The Swift runtime's double formatter, which `Double.description` calls (exported by
/// libswiftCore under this name): writes at most `length` bytes, returns how many.
@usableFromInline @_silgen_name("swift_float64ToString")
func swiftFloat64ToString(_ buffer: UnsafeMutablePointer<UInt8>, _ length: UInt, _ value: Double, _ debug: Bool) -> UInt64
