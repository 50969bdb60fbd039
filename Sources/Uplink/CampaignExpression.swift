/// A campaign's condition over VSS paths, as written in its YAML:
///
///     expression := or
///     or         := and ("or" and)*
///     and        := not ("and" not)*
///     not        := "not" not | comparison
///     comparison := sum (("<" | "<=" | ">" | ">=" | "==" | "!=") sum)?
///     sum        := product (("+" | "-") product)*
///     product    := unary (("*" | "/") unary)*
///     unary      := "-" unary | primary
///     primary    := number | "true" | "false" | path | "(" expression ")"
///                 | ("min" | "max" | "avg") "(" path "," number ")"   the path over the last N seconds (frame time)
///                 | "abs" "(" expression ")"
///                 | "rising_edge" "(" expression ")"                 true when it becomes true
///     path       := name ("." name)*                                  a mapped VSS path, e.g. Vehicle.Speed
///
/// Truth is a number other than 0. A path whose value is not fresh (stale, invalid, never
/// received) has no value, and neither has anything computed from it: a comparison with no
/// value is false, so a condition never fires on a value that is not current.
public indirect enum CampaignExpression: Sendable, Equatable {
    case number(Double)
    case path(String, at: Int)
    case window(Window, path: String, seconds: Double, at: Int)
    case abs(CampaignExpression)
    case risingEdge(CampaignExpression, id: Int)
    case negate(CampaignExpression)
    case not(CampaignExpression)
    case binary(Operator, CampaignExpression, CampaignExpression)

    public enum Window: String, Sendable { case min, max, avg }
    public enum Operator: String, Sendable {
        case or, and, less = "<", lessEqual = "<=", greater = ">", greaterEqual = ">=", equal = "==", notEqual = "!="
        case plus = "+", minus = "-", times = "*", divide = "/"
    }

    /// A parse error: what was expected, at a byte offset into the text.
    public struct Invalid: Error, Sendable, Equatable, CustomStringConvertible {
        public var offset: Int
        public var message: String
        public var description: String { "column \(offset + 1): \(message)" }
    }

    /// Parses `text`; `rising_edge` occurrences are numbered from 0 (each keeps its own memory).
    public static func parse(_ text: String) throws(Invalid) -> CampaignExpression {
        var p = Parser(bytes: Array(text.utf8))
        let e = try p.expression()
        p.skipSpace()
        guard p.i == p.bytes.count else { throw Invalid(offset: p.i, message: "expected an operator or the end of the condition, found '\(p.rest)'") }
        return e
    }

    /// Every path it reads, with where it is written (for "unknown path" errors).
    public var paths: [(name: String, at: Int)] {
        switch self {
        case .number: return []
        case .path(let n, let at), .window(_, let n, _, let at): return [(n, at)]
        case .abs(let e), .risingEdge(let e, _), .negate(let e), .not(let e): return e.paths
        case .binary(_, let a, let b): return a.paths + b.paths
        }
    }

    /// The windows it looks back over: each path with the longest span asked of it.
    public var windows: [String: Double] {
        var out: [String: Double] = [:]
        func walk(_ e: CampaignExpression) {
            switch e {
            case .window(_, let p, let s, _): out[p] = max(out[p] ?? 0, s)
            case .abs(let x), .risingEdge(let x, _), .negate(let x), .not(let x): walk(x)
            case .binary(_, let a, let b): walk(a); walk(b)
            default: break
            }
        }
        walk(self)
        return out
    }

    public var edgeCount: Int {
        switch self {
        case .risingEdge(let e, let id): return max(id + 1, e.edgeCount)
        case .abs(let e), .negate(let e), .not(let e): return e.edgeCount
        case .binary(_, let a, let b): return max(a.edgeCount, b.edgeCount)
        default: return 0
        }
    }

    /// Bounds on what one condition may be: every walk over it recurses, so neither its nesting
    /// nor its length may be unbounded (a condition is a line of YAML, not a program).
    public static let maximumNesting = 32
    public static let maximumTerms = 256

    struct Parser {
        let bytes: [UInt8]
        var i = 0
        var edges = 0
        var nesting = 0
        var terms = 0

        /// Counts one more term or operator, refusing a condition longer than the bound.
        mutating func counted(_ e: CampaignExpression) throws(Invalid) -> CampaignExpression {
            terms += 1
            guard terms <= CampaignExpression.maximumTerms else {
                throw Invalid(offset: i, message: "the condition is too long: at most \(CampaignExpression.maximumTerms) terms and operators")
            }
            return e
        }

        /// Enters one level of parentheses, a function's argument, `not` or a sign.
        mutating func nest() throws(Invalid) {
            nesting += 1
            guard nesting <= CampaignExpression.maximumNesting else {
                throw Invalid(offset: i, message: "the condition nests too deeply: at most \(CampaignExpression.maximumNesting) levels")
            }
        }

        var rest: String { String(decoding: bytes[i...].prefix(20), as: UTF8.self) }

        mutating func skipSpace() { while i < bytes.count, bytes[i] == 0x20 || bytes[i] == 0x09 || bytes[i] == 0x0A || bytes[i] == 0x0D { i += 1 } }

        func isNameByte(_ c: UInt8) -> Bool { (c | 0x20) >= 0x61 && (c | 0x20) <= 0x7A || c == 0x5F || (c >= 0x30 && c <= 0x39) }

        /// The word at the cursor (letters, digits, _), without moving.
        mutating func peekWord() -> String {
            skipSpace()
            var j = i
            while j < bytes.count, isNameByte(bytes[j]) { j += 1 }
            return String(decoding: bytes[i..<j], as: UTF8.self)
        }

        mutating func accept(_ word: String) -> Bool {
            guard peekWord() == word else { return false }
            i += word.utf8.count
            return true
        }

        mutating func accept(symbol: String) -> Bool {
            skipSpace()
            let s = Array(symbol.utf8)
            guard i + s.count <= bytes.count, Array(bytes[i..<i + s.count]) == s else { return false }
            i += s.count
            return true
        }

        mutating func expect(symbol: String, _ what: String) throws(Invalid) {
            guard accept(symbol: symbol) else { throw Invalid(offset: i, message: "expected \(what), found \(found)") }
        }

        var found: String { i < bytes.count ? "'\(rest)'" : "the end of the condition" }

        mutating func expression() throws(Invalid) -> CampaignExpression {
            var e = try and()
            while accept("or") { e = try counted(.binary(.or, e, try and())) }
            return e
        }

        mutating func and() throws(Invalid) -> CampaignExpression {
            var e = try not()
            while accept("and") { e = try counted(.binary(.and, e, try not())) }
            return e
        }

        mutating func not() throws(Invalid) -> CampaignExpression {
            if accept("not") {
                try nest()
                defer { nesting -= 1 }
                return try counted(.not(try not()))
            }
            return try comparison()
        }

        mutating func comparison() throws(Invalid) -> CampaignExpression {
            let a = try sum()
            for op in [Operator.lessEqual, .greaterEqual, .equal, .notEqual, .less, .greater] where accept(symbol: op.rawValue) {
                return try counted(.binary(op, a, try sum()))
            }
            if accept(symbol: "=") { throw Invalid(offset: i - 1, message: "expected '==' to compare (a single '=' is not an operator)") }
            return a
        }

        mutating func sum() throws(Invalid) -> CampaignExpression {
            var e = try product()
            while true {
                if accept(symbol: "+") { e = try counted(.binary(.plus, e, try product())) }
                else if accept(symbol: "-") { e = try counted(.binary(.minus, e, try product())) }
                else { return e }
            }
        }

        mutating func product() throws(Invalid) -> CampaignExpression {
            var e = try unary()
            while true {
                if accept(symbol: "*") { e = try counted(.binary(.times, e, try unary())) }
                else if accept(symbol: "/") { e = try counted(.binary(.divide, e, try unary())) }
                else { return e }
            }
        }

        mutating func unary() throws(Invalid) -> CampaignExpression {
            if accept(symbol: "-") {
                try nest()
                defer { nesting -= 1 }
                return try counted(.negate(try unary()))
            }
            return try primary()
        }

        mutating func number() -> Double? {
            skipSpace()
            var j = i
            while j < bytes.count, (bytes[j] >= 0x30 && bytes[j] <= 0x39) || bytes[j] == 0x2E { j += 1 }
            if j < bytes.count, bytes[j] == 0x65 || bytes[j] == 0x45 {  // exponent
                var k = j + 1
                if k < bytes.count, bytes[k] == 0x2B || bytes[k] == 0x2D { k += 1 }
                if k < bytes.count, bytes[k] >= 0x30, bytes[k] <= 0x39 { j = k; while j < bytes.count, bytes[j] >= 0x30 && bytes[j] <= 0x39 { j += 1 } }
            }
            guard j > i, let v = Double(String(decoding: bytes[i..<j], as: UTF8.self)), v.isFinite else { return nil }
            i = j
            return v
        }

        mutating func path() throws(Invalid) -> (String, Int) {
            skipSpace()
            let start = i
            while true {
                let segment = i
                while i < bytes.count, isNameByte(bytes[i]) { i += 1 }
                guard i > segment else { throw Invalid(offset: i, message: "expected a VSS path (e.g. Vehicle.Speed), found \(found)") }
                guard i < bytes.count, bytes[i] == 0x2E else { break }
                i += 1
            }
            return (String(decoding: bytes[start..<i], as: UTF8.self), start)
        }

        mutating func primary() throws(Invalid) -> CampaignExpression {
            skipSpace()
            guard i < bytes.count else { throw Invalid(offset: i, message: "expected a number, a VSS path, a function or '(', found the end of the condition") }
            let c = bytes[i]
            if (c >= 0x30 && c <= 0x39) || c == 0x2E {
                guard let v = number() else { throw Invalid(offset: i, message: "expected a number, found \(found)") }
                return try counted(.number(v))
            }
            if accept(symbol: "(") {
                try nest()
                defer { nesting -= 1 }
                let e = try expression()
                try expect(symbol: ")", "')'")
                return e
            }
            let start = i
            let word = peekWord()
            switch word {
            case "true": i += 4; return try counted(.number(1))
            case "false": i += 5; return try counted(.number(0))
            case "min" where lookingAtCall(word), "max" where lookingAtCall(word), "avg" where lookingAtCall(word):
                i += word.utf8.count
                try expect(symbol: "(", "'('")
                let (p, at) = try path()
                try expect(symbol: ",", "',' and the window in seconds, as in \(word)(\(p), 5)")
                skipSpace()
                let at2 = i
                guard let seconds = number(), seconds > 0, seconds <= 3600 else {
                    i = at2
                    throw Invalid(offset: at2, message: "expected the window in seconds (above 0, at most 3600), found \(found)")
                }
                try expect(symbol: ")", "')'")
                return try counted(.window(Window(rawValue: word)!, path: p, seconds: seconds, at: at))
            case "abs" where lookingAtCall(word):
                i += 3
                try expect(symbol: "(", "'('")
                try nest()
                defer { nesting -= 1 }
                let e = try expression()
                try expect(symbol: ")", "')'")
                return try counted(.abs(e))
            case "rising_edge" where lookingAtCall(word):
                i += word.utf8.count
                try expect(symbol: "(", "'('")
                try nest()
                defer { nesting -= 1 }
                let e = try expression()
                try expect(symbol: ")", "')'")
                let id = edges
                edges += 1
                return try counted(.risingEdge(e, id: id))
            case "":
                throw Invalid(offset: start, message: "expected a number, a VSS path, a function (min, max, avg, abs, rising_edge) or '(', found \(found)")
            default:
                let (p, at) = try path()
                if p.utf8.firstIndex(of: 0x2E) == nil, accept(symbol: "(") {
                    throw Invalid(offset: at, message: "unknown function '\(p)': expected min, max, avg, abs or rising_edge")
                }
                return try counted(.path(p, at: at))
            }
        }

        /// A function name directly followed by '(' (else it is the start of a path).
        mutating func lookingAtCall(_ word: String) -> Bool {
            var j = i + word.utf8.count
            while j < bytes.count, bytes[j] == 0x20 { j += 1 }
            return j < bytes.count && bytes[j] == 0x28
        }
    }
}

/// A condition bound to the mapping's paths, evaluated over the store's current values and the
/// history rings; it remembers what its `rising_edge`s saw last.
public struct CompiledCondition: Sendable {
    public let expression: CampaignExpression
    let index: [String: Int]
    var edges: [Bool]

    /// Reads a path's value if it is fresh (nil otherwise), and a path's samples over a window.
    public struct Reader {
        public var value: (Int) -> Double?
        public var samples: (Int, Double) -> [Double]
        public init(value: @escaping (Int) -> Double?, samples: @escaping (Int, Double) -> [Double]) {
            self.value = value
            self.samples = samples
        }
    }

    /// `index`: the mapped paths by name (every path the expression names must be in it).
    public init(_ expression: CampaignExpression, index: [String: Int]) {
        self.expression = expression
        self.index = index
        edges = Array(repeating: false, count: expression.edgeCount)
    }

    /// True when the condition holds now.
    public mutating func holds(_ reader: Reader) -> Bool {
        guard let v = evaluate(expression, reader) else { return false }
        return v != 0
    }

    mutating func evaluate(_ e: CampaignExpression, _ r: Reader) -> Double? {
        switch e {
        case .number(let v): return v
        case .path(let name, _): return index[name].flatMap(r.value)
        case .window(let kind, let name, let seconds, _):
            guard let p = index[name] else { return nil }
            let values = r.samples(p, seconds)
            guard !values.isEmpty else { return nil }
            switch kind {
            case .min: return values.min()
            case .max: return values.max()
            case .avg: return values.reduce(0, +) / Double(values.count)
            }
        case .abs(let x): return evaluate(x, r).map { Swift.abs($0) }
        case .negate(let x): return evaluate(x, r).map { -$0 }
        case .not(let x): return evaluate(x, r).map { $0 == 0 ? 1 : 0 }
        case .risingEdge(let x, let id):
            let now = (evaluate(x, r) ?? 0) != 0
            defer { edges[id] = now }
            return now && !edges[id] ? 1 : 0
        case .binary(let op, let a, let b):
            switch op {
            // Short-circuit only on a known value; an unknown side leaves the result unknown.
            case .and:
                guard let x = evaluate(a, r) else { _ = evaluate(b, r); return nil }
                guard let y = evaluate(b, r) else { return x == 0 ? 0 : nil }
                return x != 0 && y != 0 ? 1 : 0
            case .or:
                let x = evaluate(a, r), y = evaluate(b, r)
                if x.map({ $0 != 0 }) == true || y.map({ $0 != 0 }) == true { return 1 }
                return x == nil || y == nil ? nil : 0
            default:
                guard let x = evaluate(a, r), let y = evaluate(b, r) else { return nil }
                switch op {
                case .less: return x < y ? 1 : 0
                case .lessEqual: return x <= y ? 1 : 0
                case .greater: return x > y ? 1 : 0
                case .greaterEqual: return x >= y ? 1 : 0
                case .equal: return x == y ? 1 : 0
                case .notEqual: return x != y ? 1 : 0
                case .plus: return x + y
                case .minus: return x - y
                case .times: return x * y
                case .divide: return y == 0 ? nil : x / y
                case .and, .or: return nil
                }
            }
        }
    }
}
