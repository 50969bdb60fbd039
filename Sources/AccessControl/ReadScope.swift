/// What a token lets its holder read, in KUKSA's scope syntax: the `scope` claim is a list of
/// actions separated by spaces, each optionally limited to a VSS path or branch after a colon —
/// `read` (everything), `read:Vehicle.Speed`, `read:Vehicle.Cabin.Door.*.IsOpen`. A path covers
/// its whole branch; `*` stands for one level. `actuate` and `provide` (with `provide:data` and
/// `provide:actuation`) include reading, as in KUKSA; the gateway grants nothing else, since it
/// takes no values from clients. Other actions (`create`, ones to come) grant no reading.
public struct ReadScope: Sendable, Equatable, CustomStringConvertible {
    /// Each pattern's segments; nil: everything.
    public let patterns: [[String]]?

    public static let everything = ReadScope(patterns: nil)
    public static let nothing = ReadScope(patterns: [])

    init(patterns: [[String]]?) { self.patterns = patterns }

    public struct Invalid: Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    /// Parses a `scope` claim (or a `--scope` option).
    public init(claim: String) throws(Invalid) {
        var patterns: [[String]] = []
        var all = false
        for entry in claim.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }) {
            var parts = entry.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            let action = parts.removeFirst()
            var rest = parts.first
            guard ["read", "actuate", "provide"].contains(action) else { continue }
            if action == "provide", let r = rest, r == "data" || r == "actuation" || r.hasPrefix("data:") || r.hasPrefix("actuation:") {
                let sub = r.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
                rest = sub.count > 1 ? String(sub[1]) : nil
            }
            guard let path = rest else { all = true; continue }
            let segments = path.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
            guard !path.isEmpty, !segments.contains(where: \.isEmpty) else {
                throw Invalid(description: "scope '\(entry)': '\(path)' is not a VSS path (segments joined by dots, * for one level)")
            }
            for s in segments where s != "*" && s.contains("*") {
                throw Invalid(description: "scope '\(entry)': '*' must be a whole segment, not part of '\(s)'")
            }
            patterns.append(segments)
        }
        self.patterns = all ? nil : patterns
    }

    public var isEverything: Bool { patterns == nil }

    /// Whether reading `path` is allowed: some pattern matches the path or a branch above it.
    public func covers(_ path: String) -> Bool {
        guard let patterns else { return true }
        if patterns.isEmpty { return false }
        let segments = path.split(separator: ".", omittingEmptySubsequences: false)
        return patterns.contains { p in
            p.count <= segments.count && zip(p, segments).allSatisfy { $0 == "*" || $0 == $1 }
        }
    }

    public var description: String {
        guard let patterns else { return "read" }
        if patterns.isEmpty { return "(nothing to read)" }
        return patterns.map { "read:" + $0.joined(separator: ".") }.joined(separator: " ")
    }
}
