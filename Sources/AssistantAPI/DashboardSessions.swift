import AccessControl
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
    /// id → (expiry, monotonic ns; what the token it was made with may read).
    private let sessions = Mutex<[String: (expiry: Int64, access: Access)]>([:])

    init(capacity: Int = 64) { self.capacity = capacity }

    /// A new session's id, reading what `access` reads, until it or its token expires.
    func create(access: Access) -> String {
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
        var expiry = now + Self.lifetimeSeconds * 1_000_000_000
        if let tokenExpiry = access.expiresNanoseconds {
            expiry = min(expiry, now + max(0, tokenExpiry - SystemClock.wallNanoseconds()))
        }
        sessions.withLock { s in
            s = s.filter { $0.value.expiry > now }
            if s.count >= capacity, let oldest = s.min(by: { $0.value.expiry < $1.value.expiry }) { s[oldest.key] = nil }
            s[text] = (expiry, access)
        }
        return text
    }

    /// What a live session may read; nil for an unknown or expired one.
    func access(_ id: Substring) -> Access? {
        let now = SystemClock.monotonicNanoseconds()
        return sessions.withLock { s in
            guard let session = s[String(id)] else { return nil }
            if session.expiry <= now { s[String(id)] = nil; return nil }
            return session.access
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
