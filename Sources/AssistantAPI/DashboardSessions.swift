import CANBus
import HTTPTypes
import Synchronization

/// Browser sessions: a random id handed out as an HttpOnly, SameSite=Strict cookie in exchange
/// for the bearer token, so the token never sits in a URL or in the page's script. Bounded: when
/// full, the session closest to expiry makes room.
final class DashboardSessions: Sendable {
    static let cookieName = "vg_session"
    static let lifetimeSeconds: Int64 = 12 * 3600
    let capacity: Int
    private let sessions = Mutex<[String: Int64]>([:])  // id → expiry, monotonic ns

    init(capacity: Int = 64) { self.capacity = capacity }

    /// A new session's id.
    func create() -> String {
        var rng = SystemRandomNumberGenerator()
        let digits = Array("0123456789abcdef".utf8)
        var id = [UInt8]()
        id.reserveCapacity(64)
        for _ in 0..<32 {
            let b = UInt8.random(in: 0...255, using: &rng)
            id.append(digits[Int(b >> 4)]); id.append(digits[Int(b & 15)])
        }
        let text = String(decoding: id, as: UTF8.self)
        let now = SystemClock.monotonicNanoseconds()
        sessions.withLock { s in
            s = s.filter { $0.value > now }
            if s.count >= capacity, let oldest = s.min(by: { $0.value < $1.value }) { s[oldest.key] = nil }
            s[text] = now + Self.lifetimeSeconds * 1_000_000_000
        }
        return text
    }

    func isValid(_ id: Substring) -> Bool {
        let now = SystemClock.monotonicNanoseconds()
        return sessions.withLock { s in
            guard let expiry = s[String(id)] else { return false }
            if expiry <= now { s[String(id)] = nil; return false }
            return true
        }
    }

    func remove(_ id: Substring) { _ = sessions.withLock { $0.removeValue(forKey: String(id)) } }

    var count: Int { sessions.withLock { $0.count } }

    /// The session id from a `Cookie` header, if the request carries one.
    static func cookie(in headers: HTTPFields) -> Substring? {
        for field in headers[values: .cookie] {
            for pair in field.split(separator: ";") {
                let p = pair.drop { $0 == " " }
                if p.hasPrefix(cookieName + "=") { return p.dropFirst(cookieName.count + 1) }
            }
        }
        return nil
    }

    /// The `Set-Cookie` value for a session id (an empty id with age 0 ends it).
    static func setCookie(_ id: String, secure: Bool) -> String {
        "\(cookieName)=\(id); Path=/; HttpOnly; SameSite=Strict; Max-Age=\(id.isEmpty ? 0 : lifetimeSeconds)\(secure ? "; Secure" : "")"
    }
}
