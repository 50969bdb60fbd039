import CANBus
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Parses the whole Vector DBC grammar into a `DBCFileSyntax`.
///
/// Errors stop the parse and carry file:line:column and what was expected; unknown sections
/// are skipped with a warning, as Vector's own tools do.
public struct DBCParser {
    var lexer: Lexer
    var lookahead: Token?
    var current: Token
    var syntax: DBCFileSyntax
    var strings = StringTable()

    public static func parse(_ source: SourceText) throws(Diagnostic) -> DBCFileSyntax {
        try source.bytes.withUnsafeBufferPointer { (bytes) throws(Diagnostic) -> DBCFileSyntax in
            if bytes.count >= Self.partsFrom, let syntax = parseInParts(source, bytes) { return syntax }
            var parser = try DBCParser(source: source, bytes: bytes)
            try parser.parseFile()
            return parser.syntax
        }
    }

    /// Files this large are parsed in two parts at once.
    static let partsFrom = 256 * 1024

    /// A large file in two halves, the second on a thread of its own: the split is a line near
    /// the middle that starts a BA_, CM_, VAL_ or BO_ section (never between a message and its
    /// signals). If the first half does not end cleanly there — the split fell inside a string
    /// that spans lines, or the file has an error — nil: the caller parses the whole file
    /// alone, which also gives any error its place and wording.
    static func parseInParts(_ source: SourceText, _ bytes: UnsafeBufferPointer<UInt8>, at chosen: Int? = nil) -> DBCFileSyntax? {
        guard let split = chosen ?? splitPoint(bytes) else { return nil }
        final class Second: @unchecked Sendable {  // handed to the thread and back after join
            let source: SourceText, bytes: UnsafeBufferPointer<UInt8>, split: Int, line: Int
            var result: DBCFileSyntax?
            init(_ source: SourceText, _ bytes: UnsafeBufferPointer<UInt8>, _ split: Int, _ line: Int) {
                (self.source, self.bytes, self.split, self.line) = (source, bytes, split, line)
            }
            func run() {
                var lexer = Lexer(source: source, bytes: bytes)
                (lexer.index, lexer.line, lexer.lineStart) = (split, line, split)
                guard var parser = try? DBCParser(source: source, lexer: lexer) else { return }
                if (try? parser.parseFile()) != nil { result = parser.syntax }
            }
        }
        let firstLines = Newlines.count(UnsafeRawBufferPointer(start: bytes.baseAddress, count: split))
        let second = Second(source, bytes, split, firstLines + 1)
        var thread = pthread_t()
        let context = Unmanaged.passRetained(second).toOpaque()
        guard pthread_create(&thread, nil, { raw in
            Unmanaged<Second>.fromOpaque(raw!).takeRetainedValue().run()
            return nil
        }, context) == 0 else {
            Unmanaged<Second>.fromOpaque(context).release()
            return nil
        }
        var lexer = Lexer(source: source, bytes: bytes)
        lexer.end = split
        var firstSyntax: DBCFileSyntax?
        if var first = try? DBCParser(source: source, lexer: lexer), (try? first.parseFile()) != nil { firstSyntax = first.syntax }
        pthread_join(thread, nil)
        guard var syntax = firstSyntax, let rest = second.result else { return nil }
        syntax.statements.append(contentsOf: rest.statements)
        syntax.warnings.append(contentsOf: rest.warnings)
        return syntax
    }

    /// A line near the middle that begins a statement no earlier one continues.
    static func splitPoint(_ bytes: UnsafeBufferPointer<UInt8>) -> Int? {
        let n = bytes.count - 1
        var i = n / 2
        let limit = min(n - 8, i + 256 * 1024)
        while i < limit {
            guard let nl = memchr(bytes.baseAddress! + i, 0x0A, limit - i) else { return nil }
            let at = UnsafeRawPointer(nl) - UnsafeRawPointer(bytes.baseAddress!) + 1
            let word = UnsafeRawPointer(bytes.baseAddress! + at).loadUnaligned(as: UInt32.self)
            // "BA_ ", "CM_ ", "BO_ " or "VAL_" (then a space) at the line's start.
            if word == 0x205F_4142 || word == 0x205F_4D43 || word == 0x205F_4F42
                || (word == 0x5F4C_4156 && bytes[at + 4] == 0x20) { return at }
            i = at
        }
        return nil
    }

    public static func parse(path: String) throws(Diagnostic) -> DBCFileSyntax {
        try parse(SourceText.load(path: path))
    }

    init(source: SourceText, bytes: UnsafeBufferPointer<UInt8>) throws(Diagnostic) {
        try self.init(source: source, lexer: Lexer(source: source, bytes: bytes))
    }

    init(source: SourceText, lexer: Lexer) throws(Diagnostic) {
        self.lexer = lexer
        syntax = DBCFileSyntax(fileName: source.fileName, encoding: source.encoding)
        syntax.statements.reserveCapacity((lexer.end - lexer.index) / 48)  // a statement per ~50 bytes in practice
        current = Token(kind: .end, start: 0, end: 0, line: 1, lineStart: 0, startsLine: true)
        current = try self.lexer.next()
    }

    enum Keyword: CaseIterable {
        case version, newSymbols, bitTiming, nodes, valueTable, message, signal, transmitters, environmentVariable
        case environmentVariableData, comment, attributeDefinition, attributeDefault, attribute
        case relationDefinition, relationDefault, relation, valueDescriptions, signalGroup, signalValueType, multiplexedValues

        var spelling: StaticString {
            switch self {
            case .version: "VERSION"
            case .newSymbols: "NS_"
            case .bitTiming: "BS_"
            case .nodes: "BU_"
            case .valueTable: "VAL_TABLE_"
            case .message: "BO_"
            case .signal: "SG_"
            case .transmitters: "BO_TX_BU_"
            case .environmentVariable: "EV_"
            case .environmentVariableData: "ENVVAR_DATA_"
            case .comment: "CM_"
            case .attributeDefinition: "BA_DEF_"
            case .attributeDefault: "BA_DEF_DEF_"
            case .attribute: "BA_"
            case .relationDefinition: "BA_DEF_REL_"
            case .relationDefault: "BA_DEF_DEF_REL_"
            case .relation: "BA_REL_"
            case .valueDescriptions: "VAL_"
            case .signalGroup: "SIG_GROUP_"
            case .signalValueType: "SIG_VALTYPE_"
            case .multiplexedValues: "SG_MUL_VAL_"
            }
        }
    }

    /// Keywords by length, each with its first 8 bytes as one word, for a compare without memcmp.
    static let keywordsByLength: [[(word: UInt64, keyword: Keyword)]] = {
        var table = [[(word: UInt64, keyword: Keyword)]](repeating: [], count: 16)
        for k in Keyword.allCases {
            var word: UInt64 = 0
            k.spelling.withUTF8Buffer { for (i, c) in $0.prefix(8).enumerated() { word |= UInt64(c) << UInt64(8 * i) } }
            table[k.spelling.utf8CodeUnitCount].append((word, k))
        }
        return table
    }()

    /// The section keyword a token spells, compared as words (no String is made). Every
    /// keyword ends in '_' except VERSION, which rejects most other identifiers at once.
    func keyword(_ t: Token) -> Keyword? {
        guard t.kind == .identifier else { return nil }
        let n = t.end - t.start
        let b = lexer.b
        guard n >= 3, n <= 15, b[t.end - 1] == UInt8(ascii: "_") || n == 7 else { return nil }
        var word: UInt64 = 0
        for i in 0..<min(n, 8) { word |= UInt64(b[t.start + i]) << UInt64(8 * i) }
        for entry in Self.keywordsByLength[n] where entry.word == word {
            if n <= 8 { return entry.keyword }
            let same = entry.keyword.spelling.withUTF8Buffer { kw -> Bool in
                for i in 8..<n where kw[i] != b[t.start + i] { return false }
                return true
            }
            if same { return entry.keyword }
        }
        return nil
    }

    // MARK: tokens

    @inline(__always)
    mutating func advance() throws(Diagnostic) {
        if let t = lookahead { current = t; lookahead = nil } else { current = try lexer.next() }
    }

    func text(_ t: Token) -> String {
        String(decoding: UnsafeBufferPointer(rebasing: lexer.b[t.start..<t.end]), as: UTF8.self)
    }

    /// A name's text, shared with its earlier spellings (`StringTable`).
    @inline(__always)
    mutating func interned(_ t: Token) -> String {
        strings.string(UnsafeBufferPointer(rebasing: lexer.b[t.start..<t.end]))
    }

    func position(_ t: Token) -> SourcePosition {
        SourcePosition(line: t.line, column: lexer.column(of: t.start, lineStart: t.lineStart))
    }

    @inline(__always)
    func isPunct(_ c: Unicode.Scalar) -> Bool {
        current.kind == .punctuation && lexer.b[current.start] == UInt8(truncatingIfNeeded: c.value)
    }

    func isKeyword(_ k: StaticString) -> Bool {
        guard current.kind == .identifier, current.end - current.start == k.utf8CodeUnitCount else { return false }
        return k.withUTF8Buffer { kw in
            for i in 0..<kw.count where lexer.b[current.start + i] != kw[i] { return false }
            return true
        }
    }

    func describe(_ t: Token) -> String {
        switch t.kind {
        case .end: return "end of file"
        case .string: return "a string"
        default:
            let s = text(t)
            return "'" + (s.count > 40 ? String(s.prefix(40)) + "…" : s) + "'"
        }
    }

    // The error paths stay out of line so the inlined expect* helpers are a compare and a branch.
    @inline(never)
    func fail(_ expected: String, at t: Token? = nil) -> Diagnostic {
        let t = t ?? current
        let p = position(t)
        return Diagnostic(file: syntax.fileName, line: p.line, column: p.column,
                        message: "expected \(expected), found \(describe(t))")
    }

    @inline(__always)
    mutating func expectPunct(_ c: Unicode.Scalar, _ context: StaticString = "") throws(Diagnostic) {
        guard isPunct(c) else { throw failPunct(c, context) }
        try advance()
    }

    @inline(never)
    func failPunct(_ c: Unicode.Scalar, _ context: StaticString) -> Diagnostic {
        fail("'\(c)'" + (context.utf8CodeUnitCount == 0 ? "" : " \(context)"))
    }

    @inline(__always)
    mutating func expectIdentifier(_ what: String) throws(Diagnostic) -> String {
        guard current.kind == .identifier else { throw fail(what) }
        let s = interned(current)
        try advance()
        return s
    }

    @inline(__always)
    mutating func expectString(_ what: String) throws(Diagnostic) -> String {
        guard current.kind == .string else { throw fail(what) }
        let s = unescape(current)
        try advance()
        return s
    }

    @inline(__always)
    mutating func expectNumber(_ what: StaticString) throws(Diagnostic) -> DBCNumber {
        guard current.kind == .number else { throw fail("\(what)") }
        let n = number(current)
        try advance()
        return n
    }

    @inline(__always)
    mutating func expectInteger(_ what: StaticString, in range: ClosedRange<Int64>) throws(Diagnostic) -> Int64 {
        let t = current
        let n = try expectNumber(what)
        guard let i = n.int64, range.contains(i) else {
            let p = position(t)
            throw Diagnostic(file: syntax.fileName, line: p.line, column: p.column,
                           message: "expected \(what) (an integer from \(range.lowerBound) to \(range.upperBound)), found \(describe(t))")
        }
        return i
    }

    mutating func expectMessageID() throws(Diagnostic) -> UInt32 {
        UInt32(try expectInteger("a message id", in: 0...0xFFFF_FFFF))
    }

    static let powersOfTen: [Double] = (0...22).map { p in (0..<p).reduce(1.0) { acc, _ in acc * 10 } }

    func number(_ t: Token) -> DBCNumber {
        let b = lexer.b
        do {
            var i = t.start
            var negative = false
            if b[i] == UInt8(ascii: "-") { negative = true; i += 1 } else if b[i] == UInt8(ascii: "+") { i += 1 }
            var v: UInt64 = 0
            var overflow = false
            if b[i] == UInt8(ascii: "0") && (b[i + 1] | 0x20) == UInt8(ascii: "x") {
                i += 2
                while i < t.end {
                    let c = b[i]
                    let d = UInt64(isDigit(c) ? c - 48 : (c | 0x20) - 87)
                    if v > UInt64.max >> 4 { overflow = true }
                    v = v &<< 4 | d
                    i += 1
                }
                let d = negative ? -Double(v) : Double(v)
                return DBCNumber(double: d, magnitude: v, isNegative: negative && v != 0, isInteger: !overflow)
            }
            var j = i
            while j < t.end, isDigit(b[j]) {
                let (m, o1) = v.multipliedReportingOverflow(by: 10)
                let (a, o2) = m.addingReportingOverflow(UInt64(b[j] - 48))
                if o1 || o2 { overflow = true }
                v = a
                j += 1
            }
            if j == t.end, !overflow {
                let d = negative ? -Double(v) : Double(v)
                return DBCNumber(double: d, magnitude: v, isNegative: negative && v != 0, isInteger: true)
            }
            // A decimal fraction: with at most 15 significant digits, digits / 10^k is exact
            // (Clinger's fast path: both are exact doubles, one rounding), so no strtod.
            if !overflow, j < t.end, b[j] == UInt8(ascii: "."), v < (1 << 50) {
                var k = j + 1
                var m = v
                var scale = 0
                while k < t.end, isDigit(b[k]), m < (1 << 50) {
                    m = m * 10 + UInt64(b[k] - 48)
                    scale += 1
                    k += 1
                }
                if k == t.end, m < (1 << 53) {
                    let magnitude = Double(m) / Self.powersOfTen[scale]
                    let d = negative ? -magnitude : magnitude
                    if d == d.rounded(.towardZero) {
                        return DBCNumber(double: d, magnitude: UInt64(magnitude), isNegative: negative && magnitude != 0, isInteger: true)
                    }
                    return DBCNumber(double: d, magnitude: 0, isNegative: false, isInteger: false)
                }
            }
            // Exponents and long decimals: strtod on the NUL-terminated source, then see
            // whether the value is integral ("1.0", "2E+3" are integers to Vector's tools).
            let d = strtod(UnsafeRawPointer(b.baseAddress! + t.start).assumingMemoryBound(to: CChar.self), nil)
            if d.isFinite, d == d.rounded(.towardZero), d.magnitude < 18446744073709551616.0 {
                return DBCNumber(double: d, magnitude: UInt64(d.magnitude), isNegative: d < 0, isInteger: true)
            }
            return DBCNumber(double: d, magnitude: 0, isNegative: false, isInteger: false)
        }
    }

    mutating func unescape(_ t: Token) -> String {
        let b = lexer.b
        do {
            let body = b[(t.start + 1)..<(t.end - 1)]
            // Most strings (comments above all) have neither escapes nor CRs: memchr, not a loop.
            let base = UnsafeRawPointer(b.baseAddress! + body.startIndex)
            if body.isEmpty || (memchr(base, 0x5C, body.count) == nil && memchr(base, 0x0D, body.count) == nil) {
                return strings.string(UnsafeBufferPointer(rebasing: body))
            }
            var out: [UInt8] = []
            out.reserveCapacity(body.count)
            var i = body.startIndex
            while i < body.endIndex {
                let c = body[i]
                if c == UInt8(ascii: "\\"), i + 1 < body.endIndex,
                   body[i + 1] == UInt8(ascii: "\"") || body[i + 1] == UInt8(ascii: "\\") {
                    out.append(body[i + 1]); i += 2; continue
                }
                if c == 0x0D, i + 1 < body.endIndex, body[i + 1] == 0x0A { i += 1; continue }  // CRLF inside a string
                out.append(c)
                i += 1
            }
            return String(decoding: out, as: UTF8.self)
        }
    }

    // MARK: file

    mutating func parseFile() throws(Diagnostic) {
        while current.kind != .end {
            guard current.kind == .identifier else {
                throw fail("a section keyword (VERSION, BU_, BO_, SG_, CM_, BA_, VAL_, ...)")
            }
            let keywordToken = current
            let pos = position(keywordToken)
            let kind = keyword(keywordToken)
            try advance()
            switch kind {
            case .version?:
                syntax.statements.append(.version(try expectString("the version string after VERSION"), pos))
            case .newSymbols?: try parseNewSymbols(pos)
            case .bitTiming?: try parseBitTiming(pos)
            case .nodes?: try parseNodes(pos)
            case .valueTable?: try parseValueTable(pos)
            case .message?: try parseMessage(pos)
            case .signal?: throw fail("BO_ before SG_ (a signal must follow its message)", at: keywordToken)
            case .transmitters?: try parseTransmitters(pos)
            case .environmentVariable?: try parseEnvironmentVariable(pos)
            case .environmentVariableData?:
                let n = try expectIdentifier("an environment variable name")
                try expectPunct(":")
                let size = try expectInteger("a data size", in: 0...Int64(Int32.max))
                try expectPunct(";")
                syntax.statements.append(.environmentVariableData(name: n, size: Int(size), pos))
            case .comment?: try parseComment(pos)
            case .attributeDefinition?: try parseAttributeDefinition(pos, relation: false)
            case .relationDefinition?: try parseAttributeDefinition(pos, relation: true)
            case .attributeDefault?, .relationDefault?:
                let n = try expectString("the attribute name (a string)")
                let v = try parseAttributeValue()
                try expectPunct(";", "ending BA_DEF_DEF_")
                syntax.statements.append(.attributeDefault(name: n, value: v, relation: kind == .relationDefault, pos))
            case .attribute?: try parseAttribute(pos)
            case .relation?: try parseAttributeRelation(pos)
            case .valueDescriptions?: try parseValueDescriptions(pos)
            case .signalGroup?: try parseSignalGroup(pos)
            case .signalValueType?: try parseSignalValueType(pos)
            case .multiplexedValues?: try parseMultiplexedValues(pos)
            case nil:
                try skipUnknown(text(keywordToken), pos)
            }
        }
    }

    mutating func skipUnknown(_ name: String, _ pos: SourcePosition) throws(Diagnostic) {
        syntax.warnings.append(Diagnostic(.warning, file: syntax.fileName, position: pos, check: "unknown-section",
                                             "unknown section '\(name)' skipped"))
        syntax.statements.append(.unknown(keyword: name, pos))
        while current.kind != .end {
            if isPunct(";") { try advance(); return }
            if current.startsLine, keyword(current) != nil { return }
            try advance()
        }
    }

    mutating func parseNewSymbols(_ pos: SourcePosition) throws(Diagnostic) {
        try expectPunct(":", "after NS_")
        var symbols: [String] = []
        // The symbol list is the indented block under NS_; it ends at BS_ or at a line that starts in column 1.
        while current.kind == .identifier, !isKeyword("BS_"), !(current.startsLine && current.start == current.lineStart) {
            symbols.append(interned(current))
            try advance()
        }
        syntax.statements.append(.newSymbols(symbols, pos))
    }

    mutating func parseBitTiming(_ pos: SourcePosition) throws(Diagnostic) {
        try expectPunct(":", "after BS_")
        if current.kind == .number, !current.startsLine {
            _ = try expectNumber("the baud rate")
            if isPunct(":") {
                try advance()
                _ = try expectNumber("BTR1")
                try expectPunct(",")
                _ = try expectNumber("BTR2")
            }
        }
        syntax.statements.append(.bitTiming(pos))
    }

    mutating func parseNodes(_ pos: SourcePosition) throws(Diagnostic) {
        try expectPunct(":", "after BU_")
        var nodes: [(name: String, position: SourcePosition)] = []
        while current.kind == .identifier, !(current.startsLine && keyword(current) != nil) {
            nodes.append((interned(current), position(current)))
            try advance()
        }
        syntax.statements.append(.nodes(nodes, pos))
    }

    mutating func parseValueEntries() throws(Diagnostic) -> [ValueLabel] {
        var entries: [ValueLabel] = []
        while current.kind == .number {
            let t = current
            let n = try expectNumber("a value")
            guard let v = n.integer else { throw fail("an integer value", at: t) }
            // The message names the value, so it is built only when the label is missing.
            guard current.kind == .string else { throw fail("the label (a string) for value \(v)") }
            entries.append(ValueLabel(value: v, label: try expectString("the label")))
        }
        try expectPunct(";", "or another value and label")
        return entries
    }

    mutating func parseValueTable(_ pos: SourcePosition) throws(Diagnostic) {
        let name = try expectIdentifier("the value table name")
        syntax.statements.append(.valueTable(name: name, entries: try parseValueEntries(), pos))
    }

    mutating func parseMessage(_ pos: SourcePosition) throws(Diagnostic) {
        let id = try expectMessageID()
        let name = try expectIdentifier("the message name")
        try expectPunct(":", "after the message name")
        let length = try expectInteger("the message length in bytes", in: 0...64)
        let sender = try expectIdentifier("the sending node (or Vector__XXX)")
        var message = MessageSyntax(rawID: id, name: name, length: Int(length), sender: sender, signals: [], position: pos)
        while isKeyword("SG_") {
            let sp = position(current)
            try advance()
            message.signals.append(try parseSignal(sp))
        }
        syntax.statements.append(.message(message))
    }

    mutating func parseSignal(_ pos: SourcePosition) throws(Diagnostic) -> SignalSyntax {
        let name = try expectIdentifier("the signal name")
        var mux = ""
        if current.kind == .identifier {
            mux = interned(current)
            guard Self.isMultiplexIndicator(mux) else { throw fail("a multiplex indicator (M, m<n> or m<n>M) or ':'") }
            try advance()
        }
        try expectPunct(":", "after the signal name")
        let start = try expectInteger("the start bit", in: 0...511)
        try expectPunct("|", "between start bit and length")
        let length = try expectInteger("the signal length in bits", in: 0...512)
        try expectPunct("@", "before the byte order")
        let order = try expectInteger("the byte order (0 = Motorola, 1 = Intel)", in: 0...1)
        guard isPunct("+") || isPunct("-") else { throw fail("'+' (unsigned) or '-' (signed)") }
        let signed = isPunct("-")
        try advance()
        try expectPunct("(", "before factor and offset")
        let factor = try expectNumber("the factor")
        try expectPunct(",", "between factor and offset")
        let offset = try expectNumber("the offset")
        try expectPunct(")", "after the offset")
        try expectPunct("[", "before minimum and maximum")
        let minimum = try expectNumber("the minimum")
        try expectPunct("|", "between minimum and maximum")
        let maximum = try expectNumber("the maximum")
        try expectPunct("]", "after the maximum")
        let unit = try expectString("the unit (a string, may be empty)")
        var receivers: [String] = []
        while current.kind == .identifier, !current.startsLine {
            receivers.append(interned(current))
            try advance()
            if isPunct(","), !current.startsLine { try advance() }
        }
        return SignalSyntax(name: name, multiplexIndicator: mux, startBit: Int(start), length: Int(length),
                            byteOrder: Int(order), isSigned: signed, factor: factor.double, offset: offset.double,
                            minimum: minimum.double, maximum: maximum.double, unit: unit, receivers: receivers, position: pos)
    }

    static func isMultiplexIndicator(_ s: String) -> Bool {
        if s == "M" || s == "m" { return true }  // a bare "m": a plain signal, as cantools reads it (with a warning)
        var u = Substring(s)
        guard u.first == "m" else { return false }
        u = u.dropFirst()
        if u.last == "M" { u = u.dropLast() }
        return !u.isEmpty && u.allSatisfy(\.isASCII) && u.allSatisfy(\.isNumber)
    }

    mutating func parseTransmitters(_ pos: SourcePosition) throws(Diagnostic) {
        let id = try expectMessageID()
        try expectPunct(":", "after the message id")
        var nodes: [String] = []
        while current.kind == .identifier {
            nodes.append(interned(current))
            try advance()
            if isPunct(",") { try advance() }
        }
        try expectPunct(";", "ending BO_TX_BU_")
        syntax.statements.append(.messageTransmitters(rawID: id, nodes: nodes, pos))
    }

    mutating func parseEnvironmentVariable(_ pos: SourcePosition) throws(Diagnostic) {
        let name = try expectIdentifier("the environment variable name")
        try expectPunct(":", "after the environment variable name")
        let type = try expectInteger("the variable type (0 integer, 1 float, 2 string)", in: 0...2)
        try expectPunct("[")
        let minimum = try expectNumber("the minimum")
        try expectPunct("|")
        let maximum = try expectNumber("the maximum")
        try expectPunct("]")
        let unit = try expectString("the unit")
        let initial = try expectNumber("the initial value")
        let id = try expectNumber("the environment variable id")
        let access = try expectIdentifier("the access type (DUMMY_NODE_VECTOR0..3 or 8000..8003)")
        var nodes: [String] = []
        while current.kind == .identifier {
            nodes.append(interned(current))
            try advance()
            if isPunct(",") { try advance() }
        }
        try expectPunct(";", "ending EV_")
        syntax.statements.append(.environmentVariable(name: name, type: Int(type), minimum: minimum.double, maximum: maximum.double,
                                                      unit: unit, initial: initial.double, id: id.int64 ?? 0,
                                                      accessType: access, nodes: nodes, pos))
    }

    mutating func parseComment(_ pos: SourcePosition) throws(Diagnostic) {
        var object = DBCObjectKind.network
        var node: String?, rawID: UInt32?, name: String?
        if current.kind == .identifier {
            switch text(current) {
            case "BU_": try advance(); object = .node; node = try expectIdentifier("the node name")
            case "BO_": try advance(); object = .message; rawID = try expectMessageID()
            case "SG_":
                try advance(); object = .signal
                rawID = try expectMessageID()
                name = try expectIdentifier("the signal name")
            case "EV_": try advance(); object = .environmentVariable; name = try expectIdentifier("the environment variable name")
            default: throw fail("BU_, BO_, SG_, EV_ or the comment string")
            }
        }
        let text = try expectString("the comment (a string)")
        try expectPunct(";", "ending CM_")
        syntax.statements.append(.comment(object: object, node: node, rawID: rawID, name: name, text: text, pos))
    }

    mutating func parseObjectKind(relation: Bool) throws(Diagnostic) -> DBCObjectKind {
        guard current.kind == .identifier else { return .network }
        // Compared as bytes: this runs for every BA_ line, thousands in a large file.
        let k: DBCObjectKind?
        if relation {
            k = isKeyword("BU_SG_REL_") ? .nodeSignal : isKeyword("BU_EV_REL_") ? .nodeEnvironmentVariable
                : isKeyword("BU_BO_REL_") ? .nodeMessage : nil
        } else {
            k = isKeyword("SG_") ? .signal : isKeyword("BO_") ? .message : isKeyword("BU_") ? .node
                : isKeyword("EV_") ? .environmentVariable : nil
        }
        guard let k else {
            throw fail(relation ? "BU_SG_REL_, BU_EV_REL_ or BU_BO_REL_" : "BU_, BO_, SG_, EV_ or the attribute name")
        }
        try advance()
        return k
    }

    mutating func parseAttributeDefinition(_ pos: SourcePosition, relation: Bool) throws(Diagnostic) {
        let object = try parseObjectKind(relation: relation)
        let name = try expectString("the attribute name (a string)")
        let kindText = try expectIdentifier("the attribute type (INT, HEX, FLOAT, STRING or ENUM)")
        guard let kind = AttributeTypeSyntax.Kind(rawValue: kindText) else {
            throw Diagnostic(file: syntax.fileName, line: pos.line, column: pos.column,
                           message: "expected the attribute type INT, HEX, FLOAT, STRING or ENUM, found '\(kindText)'")
        }
        var type = AttributeTypeSyntax(kind: kind)
        switch kind {
        case .int, .hex, .float:
            type.minimum = try expectNumber("the minimum")
            type.maximum = try expectNumber("the maximum")
        case .string: break
        case .enumeration:
            while current.kind == .string {
                type.enumValues.append(try expectString("an enum value"))
                if isPunct(",") { try advance() }
            }
        }
        try expectPunct(";", "ending the attribute definition")
        syntax.statements.append(.attributeDefinition(object: object, name: name, type: type, relation: relation, pos))
    }

    mutating func parseAttributeValue() throws(Diagnostic) -> AttributeValueSyntax {
        if current.kind == .string { return .string(try expectString("a value")) }
        if current.kind == .number { return .number(try expectNumber("a value")) }
        throw fail("the attribute value (a number or a string)")
    }

    mutating func parseAttribute(_ pos: SourcePosition) throws(Diagnostic) {
        let name = try expectString("the attribute name (a string)")
        let object = try parseObjectKind(relation: false)
        var rawID: UInt32?, objectName: String?, node: String?
        switch object {
        case .node: node = try expectIdentifier("the node name")
        case .message: rawID = try expectMessageID()
        case .signal: rawID = try expectMessageID(); objectName = try expectIdentifier("the signal name")
        case .environmentVariable: objectName = try expectIdentifier("the environment variable name")
        default: break
        }
        let value = try parseAttributeValue()
        try expectPunct(";", "ending BA_")
        syntax.statements.append(.attribute(name: name, object: object, node: node, rawID: rawID, objectName: objectName, value: value, pos))
    }

    mutating func parseAttributeRelation(_ pos: SourcePosition) throws(Diagnostic) {
        let name = try expectString("the attribute name (a string)")
        let object = try parseObjectKind(relation: true)
        guard object != .network else { throw fail("BU_SG_REL_, BU_EV_REL_ or BU_BO_REL_") }
        let node = try expectIdentifier("the node name")
        var rawID: UInt32?, objectName: String?
        switch object {
        case .nodeSignal:
            guard isKeyword("SG_") else { throw fail("SG_") }
            try advance()
            rawID = try expectMessageID()
            objectName = try expectIdentifier("the signal name")
        case .nodeEnvironmentVariable: objectName = try expectIdentifier("the environment variable name")
        default: rawID = try expectMessageID()
        }
        let value = try parseAttributeValue()
        try expectPunct(";", "ending BA_REL_")
        syntax.statements.append(.attribute(name: name, object: object, node: node, rawID: rawID, objectName: objectName, value: value, pos))
    }

    mutating func parseValueDescriptions(_ pos: SourcePosition) throws(Diagnostic) {
        if current.kind == .number {
            let id = try expectMessageID()
            let signal = try expectIdentifier("the signal name")
            syntax.statements.append(.valueDescriptions(rawID: id, name: signal, entries: try parseValueEntries(), pos))
        } else {
            let env = try expectIdentifier("a message id or an environment variable name")
            syntax.statements.append(.valueDescriptions(rawID: nil, name: env, entries: try parseValueEntries(), pos))
        }
    }

    mutating func parseSignalGroup(_ pos: SourcePosition) throws(Diagnostic) {
        let id = try expectMessageID()
        let name = try expectIdentifier("the signal group name")
        let reps = try expectInteger("the repetitions", in: 0...Int64(Int32.max))
        try expectPunct(":", "before the signal list")
        var signals: [String] = []
        while current.kind == .identifier {
            signals.append(interned(current))
            try advance()
            if isPunct(",") { try advance() }
        }
        try expectPunct(";", "ending SIG_GROUP_")
        syntax.statements.append(.signalGroup(rawID: id, name: name, repetitions: Int(reps), signals: signals, pos))
    }

    mutating func parseSignalValueType(_ pos: SourcePosition) throws(Diagnostic) {
        let id = try expectMessageID()
        let signal = try expectIdentifier("the signal name")
        if isPunct(":") { try advance() }
        let type = try expectInteger("the value type (0 integer, 1 float32, 2 float64)", in: 0...3)
        try expectPunct(";", "ending SIG_VALTYPE_")
        syntax.statements.append(.signalValueType(rawID: id, signal: signal, type: Int(type), pos))
    }

    mutating func parseMultiplexedValues(_ pos: SourcePosition) throws(Diagnostic) {
        let id = try expectMessageID()
        let signal = try expectIdentifier("the multiplexed signal name")
        let mux = try expectIdentifier("the multiplexer signal name")
        var ranges: [ClosedRange<Int64>] = []
        while current.kind == .number {
            let lowToken = current
            let low = try expectNumber("the range start")
            var high: DBCNumber
            if isPunct("-") {
                try advance()
                high = try expectNumber("the range end")
            } else if current.kind == .number, lexer.b[current.start] == UInt8(ascii: "-") {
                high = try expectNumber("the range end")  // "3 -5" lexes the end as a negative number
                high.isNegative = false
            } else {
                throw fail("'-' and the range end (ranges are written low-high)")
            }
            guard let l = low.int64, let h = high.int64, l >= 0, h >= l else {
                throw fail("a range low-high of non-negative integers with low <= high", at: lowToken)
            }
            ranges.append(l...h)
            if isPunct(",") { try advance() }
        }
        try expectPunct(";", "ending SG_MUL_VAL_")
        syntax.statements.append(.multiplexedValues(rawID: id, signal: signal, multiplexer: mux, ranges: ranges, pos))
    }
}
