/// A set of mapped paths (indices into the mapping's paths) as bits: merging two is a few ORs.
public struct PathSet: Sendable, Equatable, Sequence {
    var words: [UInt64]

    public init(count: Int) { words = Array(repeating: 0, count: (count + 63) / 64) }

    public init<S: Sequence<Int>>(count: Int, _ paths: S) {
        self.init(count: count)
        for p in paths { insert(p) }
    }

    /// Every path of `count`.
    public static func all(count: Int) -> PathSet {
        var s = PathSet(count: count)
        for p in 0..<count { s.insert(p) }
        return s
    }

    public var isEmpty: Bool { words.allSatisfy { $0 == 0 } }
    public var count: Int { words.reduce(0) { $0 + $1.nonzeroBitCount } }

    @inline(__always) public func contains(_ path: Int) -> Bool {
        path >> 6 < words.count && words[path >> 6] & (1 << UInt64(path & 63)) != 0
    }
    @inline(__always) public mutating func insert(_ path: Int) {
        if path >> 6 >= words.count { words += Array(repeating: 0, count: path >> 6 + 1 - words.count) }
        words[path >> 6] |= 1 << UInt64(path & 63)
    }
    public mutating func remove(_ path: Int) { if path >> 6 < words.count { words[path >> 6] &= ~(1 << UInt64(path & 63)) } }
    public mutating func removeAll() { for i in words.indices { words[i] = 0 } }

    // Sets of different sizes combine as if the shorter one had zero words at its end.
    public mutating func formUnion(_ other: PathSet) {
        if other.words.count > words.count { words += Array(repeating: 0, count: other.words.count - words.count) }
        for i in other.words.indices { words[i] |= other.words[i] }
    }
    public func intersection(_ other: PathSet) -> PathSet {
        var s = self
        for i in s.words.indices { s.words[i] &= i < other.words.count ? other.words[i] : 0 }
        return s
    }
    public func intersects(_ other: PathSet) -> Bool {
        for i in 0..<Swift.min(words.count, other.words.count) where words[i] & other.words[i] != 0 { return true }
        return false
    }

    /// The paths in ascending order.
    public func makeIterator() -> AnyIterator<Int> {
        var w = 0
        var bits = words.first ?? 0
        let words = self.words
        return AnyIterator {
            while bits == 0 {
                w += 1
                guard w < words.count else { return nil }
                bits = words[w]
            }
            let b = bits.trailingZeroBitCount
            bits &= bits - 1
            return w * 64 + b
        }
    }
}
