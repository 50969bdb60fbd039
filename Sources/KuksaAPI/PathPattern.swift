/// A ListMetadata root as KUKSA reads it: a branch (everything below it), a leaf, or a pattern
/// where `*` is one level and `**` any number of levels (`Vehicle.*.Speed`, `Vehicle.Cabin.**`).
/// Empty means every signal.
struct PathPattern {
    struct Invalid: Error { var message: String }
    let segments: [Substring]
    let hasWildcard: Bool

    init(_ text: String) throws {
        segments = text.isEmpty ? [] : text.split(separator: ".", omittingEmptySubsequences: false)
        for s in segments {
            if s.isEmpty { throw Invalid(message: "'\(text)' has an empty level: paths are names joined by single dots") }
            if s.contains("*"), s != "*", s != "**" { throw Invalid(message: "'\(text)': '*' stands for a whole level ('*' or '**'), not part of a name") }
        }
        hasWildcard = segments.contains { $0 == "*" || $0 == "**" }
    }

    func matches(_ path: String) -> Bool {
        if segments.isEmpty { return true }
        let parts = path.split(separator: ".")
        if !hasWildcard {  // a leaf, or a branch covering what is below it
            return parts.count >= segments.count && zip(parts, segments).allSatisfy { $0 == $1 }
        }
        return Self.match(segments[...], parts[...])
    }

    static func match(_ pattern: ArraySlice<Substring>, _ parts: ArraySlice<Substring>) -> Bool {
        guard let first = pattern.first else { return parts.isEmpty }
        if first == "**" {
            var rest = parts
            while true {
                if match(pattern.dropFirst(), rest) { return true }
                if rest.isEmpty { return false }
                rest = rest.dropFirst()
            }
        }
        guard let part = parts.first, first == "*" || first == part else { return false }
        return match(pattern.dropFirst(), parts.dropFirst())
    }
}
