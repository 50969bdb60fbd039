import Foundation

/// A W3C VISS v2 error: `{"number": "404", "reason": "unavailable_data", "message": ...}`.
public struct VISSError: Error, Sendable, Equatable {
    public var number: Int
    public var reason: String
    public var message: String

    static func badRequest(_ m: String) -> VISSError { .init(number: 400, reason: "bad_request", message: m) }
    static func invalidData(_ m: String) -> VISSError { .init(number: 400, reason: "invalid_data", message: m) }
    static func unavailable(_ m: String) -> VISSError { .init(number: 404, reason: "unavailable_data", message: m) }
    static func forbidden(_ m: String) -> VISSError { .init(number: 403, reason: "forbidden_request", message: m) }
    /// The reader's token does not cover the path (VISS v2: user_forbidden).
    static func userForbidden(_ m: String) -> VISSError { .init(number: 403, reason: "user_forbidden", message: m) }
    static func tooMany(_ m: String) -> VISSError { .init(number: 429, reason: "too_many_requests", message: m) }
}

/// A comparison as VISS filters spell it.
public enum VISSLogicOp: String, Sendable {
    case eq, ne, gt, gte, lt, lte

    func holds(_ a: Double, _ b: Double) -> Bool {
        switch self {
        case .eq: return a == b
        case .ne: return a != b
        case .gt: return a > b
        case .gte: return a >= b
        case .lt: return a < b
        case .lte: return a <= b
        }
    }
}

/// One VISS v2 filter expression.
public enum VISSFilter: Sendable, Equatable {
    /// Relative paths (with `*` wildcards) below the request path.
    case paths([String])
    /// Notify every `periodMilliseconds`, whether or not the value changed.
    case timebased(periodMilliseconds: Int)
    /// Notify when (new − last notified) `op` `diff`.
    case change(op: VISSLogicOp, diff: Double)
    /// Notify while the value meets the boundaries (all of them, or any with `any`).
    case range([Boundary], any: Bool)

    public struct Boundary: Sendable, Equatable {
        public var op: VISSLogicOp
        public var value: Double
    }
}

/// A parsed client message.
public enum VISSRequest: Sendable, Equatable {
    case get(path: String, filters: [VISSFilter], requestId: String?)
    case subscribe(path: String, filters: [VISSFilter], requestId: String?)
    case unsubscribe(subscriptionId: String, requestId: String?)

    /// The parse of one text message; on failure, the error with what could be read of the
    /// action and requestId, so the reply can still name them.
    public static func parse(_ text: String) -> Result<VISSRequest, Failure> {
        guard let data = text.data(using: .utf8),
              let any = try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]) else {
            return .failure(Failure(error: .badRequest("malformed JSON: expected one JSON object per message"), action: nil, requestId: nil))
        }
        guard let object = any as? [String: Any] else {
            return .failure(Failure(error: .badRequest("expected a JSON object with an \"action\""), action: nil, requestId: nil))
        }
        let requestId = object["requestId"].flatMap { scalarString($0) }
        let action = object["action"] as? String
        func fail(_ e: VISSError) -> Result<VISSRequest, Failure> { .failure(Failure(error: e, action: action, requestId: requestId)) }
        if let r = object["requestId"], scalarString(r) == nil { return fail(.badRequest("\"requestId\" must be a string")) }
        guard let action else {
            return fail(.badRequest(object["action"] == nil ? "missing \"action\"; expected get, subscribe or unsubscribe"
                                                              : "\"action\" must be a string"))
        }
        switch action {
        case "get", "subscribe":
            guard let pathAny = object["path"] else { return fail(.badRequest("missing \"path\" (a VSS path such as \"Vehicle.Speed\")")) }
            guard let path = pathAny as? String, !path.isEmpty else { return fail(.badRequest("\"path\" must be a non-empty string")) }
            let filters: [VISSFilter]
            do { filters = try parseFilters(object["filter"]) } catch { return fail(error) }
            if action == "get", filters.contains(where: { if case .paths = $0 { return false } else { return true } }) {
                return fail(.badRequest("get takes only a \"paths\" filter"))
            }
            let normalized = path.replacingOccurrences(of: "/", with: ".")
            return .success(action == "get" ? .get(path: normalized, filters: filters, requestId: requestId)
                                            : .subscribe(path: normalized, filters: filters, requestId: requestId))
        case "unsubscribe":
            guard let idAny = object["subscriptionId"] else { return fail(.badRequest("missing \"subscriptionId\"")) }
            guard let id = scalarString(idAny) else { return fail(.badRequest("\"subscriptionId\" must be a string")) }
            return .success(.unsubscribe(subscriptionId: id, requestId: requestId))
        case "set":
            return fail(.forbidden("this gateway is read-only: set is not allowed"))
        default:
            return fail(.badRequest("unknown action '\(action)'; expected get, subscribe or unsubscribe"))
        }
    }

    public struct Failure: Error, Sendable, Equatable {
        public var error: VISSError
        public var action: String?
        public var requestId: String?
    }

    /// Strings, and numbers for clients that send them (KUKSA accepts both).
    static func scalarString(_ v: Any) -> String? {
        if let s = v as? String { return s }
        if let n = v as? NSNumber, !isBool(n) { return n.stringValue }
        return nil
    }

    /// JSON true/false arrive as NSNumbers of type char; no JSON number does.
    static func isBool(_ n: NSNumber) -> Bool { String(cString: n.objCType) == "c" }

    static func number(_ v: Any?, _ what: String) throws(VISSError) -> Double {
        guard let v else { throw .badRequest("missing \"\(what)\"") }
        if let s = v as? String {
            guard let d = Double(s.trimmingCharacters(in: .whitespaces)), d.isFinite else { throw .invalidData("\"\(what)\" must be a number, not '\(s)'") }
            return d
        }
        if let n = v as? NSNumber, !isBool(n) { return n.doubleValue }
        throw .invalidData("\"\(what)\" must be a number (as a string)")
    }

    static func op(_ v: Any?, _ what: String) throws(VISSError) -> VISSLogicOp {
        guard let s = v as? String else { throw .badRequest("missing \"\(what)\" (eq, ne, gt, gte, lt or lte)") }
        guard let op = VISSLogicOp(rawValue: s) else { throw .invalidData("unknown \(what) '\(s)'; expected eq, ne, gt, gte, lt or lte") }
        return op
    }

    static func parseFilters(_ any: Any?) throws(VISSError) -> [VISSFilter] {
        guard let any else { return [] }
        let list: [Any]
        if let a = any as? [Any] { list = a } else { list = [any] }
        var filters: [VISSFilter] = []
        for item in list {
            guard let f = item as? [String: Any] else { throw .badRequest("a filter must be an object with \"type\" and \"parameter\"") }
            guard let type = (f["type"] ?? f["variant"]) as? String else {
                throw .badRequest("filter without \"type\"; expected paths, timebased, change or range")
            }
            let p = f["parameter"]
            switch type {
            case "paths":
                if let s = p as? String { filters.append(.paths([s])) }
                else if let a = p as? [Any], !a.isEmpty, let s = a as? [String] { filters.append(.paths(s)) }
                else { throw .badRequest("paths filter: \"parameter\" must be a relative path or a list of them") }
            case "timebased":
                guard let o = p as? [String: Any] else { throw .badRequest("timebased filter: \"parameter\" must be {\"period\": \"<ms>\"}") }
                let period = try number(o["period"], "period")
                guard period >= 10, period <= 86_400_000, period == period.rounded() else {
                    throw .invalidData("timebased filter: period must be a whole number of milliseconds from 10 to 86400000")
                }
                filters.append(.timebased(periodMilliseconds: Int(period)))
            case "change":
                guard let o = p as? [String: Any] else { throw .badRequest("change filter: \"parameter\" must be {\"logic-op\": ..., \"diff\": ...}") }
                filters.append(.change(op: try op(o["logic-op"], "logic-op"), diff: try number(o["diff"], "diff")))
            case "range":
                let items: [Any]
                if let a = p as? [Any] { items = a } else if let o = p as? [String: Any] { items = [o] } else {
                    throw .badRequest("range filter: \"parameter\" must be [{\"boundary-op\": ..., \"boundary\": ...}]")
                }
                guard (1...2).contains(items.count) else { throw .invalidData("range filter takes one or two boundaries") }
                var bounds: [VISSFilter.Boundary] = []
                var any = false
                for item in items {
                    guard let o = item as? [String: Any] else { throw .badRequest("range filter: each boundary must be an object") }
                    bounds.append(.init(op: try op(o["boundary-op"] ?? o["logic-op"], "boundary-op"), value: try number(o["boundary"], "boundary")))
                    if let c = o["combination-op"] as? String {
                        guard c == "AND" || c == "OR" else { throw .invalidData("combination-op must be AND or OR, not '\(c)'") }
                        any = c == "OR"
                    }
                }
                filters.append(.range(bounds, any: any))
            case "curvelog", "history", "static-metadata", "dynamic-metadata", "metadata":
                throw .invalidData("filter type '\(type)' is not supported by this server; expected paths, timebased, change or range")
            default:
                throw .badRequest("unknown filter type '\(type)'; expected paths, timebased, change or range")
            }
        }
        return filters
    }
}

extension VISSFilter {
    /// Whether a value passes the range filters, and the change filter against the last value sent.
    static func passes(_ filters: [VISSFilter], value: Double, lastSent: Double?) -> Bool {
        for f in filters {
            switch f {
            case .change(let op, let diff):
                guard let last = lastSent else { continue }  // the first value always goes out
                if !op.holds(value - last, diff) { return false }
            case .range(let bounds, let any):
                let results = bounds.map { $0.op.holds(value, $0.value) }
                if any ? !results.contains(true) : results.contains(false) { return false }
            case .paths, .timebased:
                continue
            }
        }
        return true
    }

    /// Whether `path` matches `pattern`, segment by segment, `*` matching any one segment.
    static func matches(_ path: String, pattern: String) -> Bool {
        let a = path.split(separator: "."), b = pattern.split(separator: ".")
        guard a.count == b.count else { return false }
        return zip(a, b).allSatisfy { $1 == "*" || $0 == $1 }
    }
}
