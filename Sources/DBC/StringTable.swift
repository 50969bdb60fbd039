#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The parser's names and labels, each distinct spelling made into a `String` once. A DBC
/// repeats the same attribute, signal and node names and value labels thousands of times
/// (opendbc's Ford file: 7,000 BA_ lines, 12,662 labels of which 2,839 differ); a repeat costs
/// a hash of its bytes and a compare instead of an allocation, a copy and a UTF-8 check, and
/// the builder's dictionaries later hash one shared string.
struct StringTable {
    struct Entry {
        var hash: UInt64
        var start: UnsafePointer<UInt8>  // the first spelling's bytes, in the source being parsed
        var count: Int
        var string: String
    }
    var entries: [Entry] = []
    /// Open addressing: entry index + 1, 0 empty; a power of two at most half full.
    var slots = [Int32](repeating: 0, count: 1024)

    /// Only short texts are worth keeping (names, units, labels; not comments).
    static let longest = 64

    /// The string for `bytes` (which must stay valid while the table is used).
    @inline(__always)
    mutating func string(_ bytes: UnsafeBufferPointer<UInt8>) -> String {
        guard bytes.count <= Self.longest, let base = bytes.baseAddress else { return String(decoding: bytes, as: UTF8.self) }
        let h = Self.hash(base, bytes.count)
        var slot = Int(truncatingIfNeeded: h) & (slots.count - 1)
        var probes = 0
        while true {
            let e = slots[slot]
            if e == 0 { break }
            let entry = entries[Int(e) - 1]
            if entry.hash == h, entry.count == bytes.count, memcmp(entry.start, base, bytes.count) == 0 { return entry.string }
            slot = (slot + 1) & (slots.count - 1)
            probes += 1
            // A long run means colliding spellings: make this one without keeping it.
            if probes > 32 { return String(decoding: bytes, as: UTF8.self) }
        }
        let s = String(decoding: bytes, as: UTF8.self)
        entries.append(Entry(hash: h, start: base, count: bytes.count, string: s))
        slots[slot] = Int32(entries.count)
        if entries.count * 2 > slots.count { grow() }
        return s
    }

    mutating func grow() {
        slots = [Int32](repeating: 0, count: slots.count * 2)
        for (i, e) in entries.enumerated() {
            var slot = Int(truncatingIfNeeded: e.hash) & (slots.count - 1)
            while slots[slot] != 0 { slot = (slot + 1) & (slots.count - 1) }
            slots[slot] = Int32(i + 1)
        }
    }

    /// Eight bytes at a time, multiply and fold (not for hostile keys: a file with colliding
    /// names only makes its own parse slower).
    @inline(__always)
    static func hash(_ p: UnsafePointer<UInt8>, _ n: Int) -> UInt64 {
        var h: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(n)
        var i = 0
        while i + 8 <= n {
            h = (h ^ UnsafeRawPointer(p + i).loadUnaligned(as: UInt64.self)) &* 0xBF58_476D_1CE4_E5B9
            h ^= h >> 29
            i += 8
        }
        var tail: UInt64 = 0
        var shift: UInt64 = 0
        while i < n { tail |= UInt64(p[i]) &<< shift; shift += 8; i += 1 }
        h = (h ^ tail) &* 0x94D0_49BB_1331_11EB
        return h ^ (h >> 31)
    }
}
