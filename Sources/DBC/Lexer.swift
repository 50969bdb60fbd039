import CANBus
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A DBC token: its kind and where its bytes are. Text is taken from the source only on demand.
struct Token {
    enum Kind: UInt8 { case identifier, number, string, punctuation, end }
    var kind: Kind
    var start: Int
    var end: Int
    var line: Int
    var lineStart: Int
    /// True when a line break separates this token from the previous one.
    var startsLine: Bool
}

/// Splits DBC text into identifiers, numbers, strings and punctuation, tracking lines.
///
/// A '-' directly after a number is punctuation (`@1-`, the range `3-5`); elsewhere a sign
/// followed by a digit starts a number (`(0.1,-40)`).
struct Lexer {
    let source: SourceText
    /// The source bytes (NUL-terminated), valid while the parser's `withUnsafeBufferPointer` runs.
    let b: UnsafeBufferPointer<UInt8>
    var index = 0
    var line = 1
    var lineStart = 0
    var previousKind: Token.Kind = .end
    var previousEnd = -1
    /// Where the text ends for this lexer: the trailing NUL, or where a part of the file ends
    /// when parts are parsed at once (`DBCParser.parseInParts`).
    var end: Int

    /// Character classes by byte, so the scanning loops test one table entry per byte.
    let classes: UnsafePointer<UInt8> = characterClasses

    init(source: SourceText, bytes: UnsafeBufferPointer<UInt8>) {
        self.source = source
        self.b = bytes
        end = bytes.count - 1  // the trailing NUL
    }

    mutating func next() throws(Diagnostic) -> Token {
            let n = end
            // At the start of the text or of a part (a token never ends where a line begins).
            var sawNewline = index == lineStart
            // Skip whitespace and // comments.
            while index < n {
                let c = b[index]
                if c == 0x0A {
                    index += 1; line += 1; lineStart = index; sawNewline = true
                } else if classes[Int(c)] & CharacterClass.space != 0 {
                    index += 1
                } else if c == UInt8(ascii: "/") && b[index + 1] == UInt8(ascii: "/") {
                    while index < n && b[index] != 0x0A { index += 1 }
                } else {
                    break
                }
            }
            var token = Token(kind: .end, start: index, end: index, line: line, lineStart: lineStart, startsLine: sawNewline)
            guard index < n else { return token }
            let c = b[index]
            if classes[Int(c)] & CharacterClass.identStart != 0 {
                var i = index + 1
                while classes[Int(b[i])] & CharacterClass.identContinue != 0 { i += 1 }
                token.kind = .identifier
                token.end = i
            } else if isDigit(c) || ((c == UInt8(ascii: "-") || c == UInt8(ascii: "+"))
                        && (isDigit(b[index + 1]) || (b[index + 1] == UInt8(ascii: ".") && isDigit(b[index + 2])))
                        && !(previousKind == .number && previousEnd == index))
                        || (c == UInt8(ascii: ".") && isDigit(b[index + 1])) {
                var i = index
                if c == UInt8(ascii: "-") || c == UInt8(ascii: "+") { i += 1 }
                if b[i] == UInt8(ascii: "0") && (b[i + 1] == UInt8(ascii: "x") || b[i + 1] == UInt8(ascii: "X")) {
                    i += 2
                    while isHexDigit(b[i]) { i += 1 }
                } else {
                    while isDigit(b[i]) { i += 1 }
                    if b[i] == UInt8(ascii: ".") { i += 1; while isDigit(b[i]) { i += 1 } }
                    if b[i] == UInt8(ascii: "e") || b[i] == UInt8(ascii: "E") {
                        var j = i + 1
                        if b[j] == UInt8(ascii: "+") || b[j] == UInt8(ascii: "-") { j += 1 }
                        if isDigit(b[j]) { i = j; while isDigit(b[i]) { i += 1 } }
                    }
                }
                token.kind = .number
                token.end = i
            } else if c == UInt8(ascii: "\"") {
                // Strings are most of a DBC's bytes (comments): find the closing quote with memchr
                // and only walk byte by byte when the string holds a backslash.
                var i = index + 1
                let base = UnsafeRawPointer(b.baseAddress!)
                while true {
                    guard i < n, let q = memchr(base + i, Int32(UInt8(ascii: "\"")), n - i) else {
                        throw Diagnostic(file: source.fileName, line: token.line,
                                       column: column(of: token.start, lineStart: token.lineStart),
                                       message: "unterminated string: expected a closing '\"'")
                    }
                    let quote = UnsafeRawPointer(q) - base
                    let backslash = memchr(base + i, Int32(UInt8(ascii: "\\")), quote - i).map { UnsafeRawPointer($0) - base }
                    let segmentEnd = backslash.map { min($0 + 2, n) } ?? quote
                    var from = i
                    while from < segmentEnd, let nl = memchr(base + from, 0x0A, segmentEnd - from) {
                        let at = UnsafeRawPointer(nl) - base
                        line += 1
                        lineStart = at + 1
                        from = at + 1
                    }
                    if backslash == nil { i = quote; break }
                    i = segmentEnd  // skip the escaped character and look again
                }
                token.kind = .string
                token.end = i + 1
            } else {
                token.kind = .punctuation
                token.end = index + 1
            }
            index = token.end
            previousKind = token.kind
            previousEnd = token.end
            return token
    }

    /// 1-based column in characters (UTF-8 continuation bytes are not counted).
    func column(of offset: Int, lineStart: Int) -> Int {
        var col = 1
        var i = lineStart
        while i < offset && i < b.count {
            if b[i] & 0xC0 != 0x80 { col += 1 }
            i += 1
        }
        return col
    }
}

@inline(__always) func isDigit(_ c: UInt8) -> Bool { c &- 48 < 10 }
@inline(__always) func isHexDigit(_ c: UInt8) -> Bool { isDigit(c) || (c | 0x20) &- 97 < 6 }
@inline(__always) func isIdentStart(_ c: UInt8) -> Bool { (c | 0x20) &- 97 < 26 || c == UInt8(ascii: "_") }

enum CharacterClass {
    static let space: UInt8 = 1, identStart: UInt8 = 2, identContinue: UInt8 = 4
}

/// Built once: whitespace (not newline), identifier start and continue bytes.
nonisolated(unsafe) let characterClasses: UnsafePointer<UInt8> = {  // immutable after init
    let table = UnsafeMutablePointer<UInt8>.allocate(capacity: 256)
    for i in 0..<256 {
        let c = UInt8(i)
        var k: UInt8 = 0
        if c == 0x20 || c == 0x09 || c == 0x0D || c == 0x0C || c == 0x0B { k |= CharacterClass.space }
        if isIdentStart(c) { k |= CharacterClass.identStart | CharacterClass.identContinue }
        if isDigit(c) { k |= CharacterClass.identContinue }
        table[i] = k
    }
    return UnsafePointer(table)
}()
