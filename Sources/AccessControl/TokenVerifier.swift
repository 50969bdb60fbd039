import CANBus
import Foundation
import JWTKit
import Synchronization

/// Decides what a bearer token may read, for every API (HTTP, SSE, VISS, MCP, gRPC): the
/// API's own token (`--token`) reads everything; a JWT signed by one of the configured keys
/// (RS256 or ES256, as KUKSA Databroker accepts them) reads what its `scope` claim covers,
/// until it expires. Verified tokens are remembered (by their text, until they expire), so a
/// signature is checked once per token rather than once per request.
public final class TokenVerifier: Sendable {
    /// A key that signs the tokens to accept, from a PEM file (a public key or a certificate).
    public struct Key: Sendable {
        public let path: String
        let load: @Sendable (JWTKeyCollection, JWKIdentifier) async -> Void
        public let algorithm: String
    }

    public let staticToken: [UInt8]?
    public let keys: [Key]
    /// The `aud` a token must name (KUKSA's tokens name `kuksa.val`); nil: not checked.
    public let audience: String?
    let collection = JWTKeyCollection()
    let loaded = Mutex(false)
    let remembered = Mutex<[String: Access]>([:])
    static let rememberedLimit = 256

    public init(staticToken: String?, keys: [Key], audience: String? = "kuksa.val") {
        self.staticToken = staticToken.map { Array($0.utf8) }
        self.keys = keys
        self.audience = audience
    }

    /// Whether requests need a token at all.
    public var requiresToken: Bool { staticToken != nil || !keys.isEmpty }

    /// Reads a PEM public key (or certificate) for RS256 (RSA, 2048 bits or more) or ES256 (EC P-256).
    public static func key(file path: String) throws(TokenRefusal) -> Key {
        guard let data = FileManager.default.contents(atPath: path), let pem = String(data: data, encoding: .utf8) else {
            throw TokenRefusal("cannot read the JWT key \(path)")
        }
        let isCertificate = pem.contains("BEGIN CERTIFICATE")
        if let ec = try? (isCertificate ? ES256PublicKey(certificate: pem) : ES256PublicKey(pem: pem)) {
            return Key(path: path, load: { c, kid in await c.add(ecdsa: ec, kid: kid) }, algorithm: "ES256")
        }
        if let rsa = try? (isCertificate ? Insecure.RSA.PublicKey(certificatePEM: pem) : Insecure.RSA.PublicKey(pem: pem)) {
            return Key(path: path, load: { c, kid in await c.add(rsa: rsa, digestAlgorithm: .sha256, kid: kid) }, algorithm: "RS256")
        }
        throw TokenRefusal("\(path):1:1: error: expected a PEM public key or certificate, RSA (2048 bits or more) for RS256 or EC P-256 for ES256")
    }

    /// What `authorization` (the header's value, or nil when there is none) may read.
    public func access(authorization: String?) async -> Result<Access, TokenRefusal> {
        guard requiresToken else { return .success(.everything) }
        guard let authorization else {
            return .failure(TokenRefusal("missing bearer token: send Authorization: Bearer <token>"))
        }
        guard authorization.count > 7, authorization.prefix(7).lowercased() == "bearer " else {
            return .failure(TokenRefusal("the authorization is not a bearer token: send Authorization: Bearer <token>"))
        }
        return await access(token: String(authorization.dropFirst(7)))
    }

    /// What a bare token may read.
    public func access(token: String) async -> Result<Access, TokenRefusal> {
        if let staticToken, Self.constantTimeEqual(Array(token.utf8), staticToken) { return .success(.everything) }
        guard !keys.isEmpty else { return .failure(TokenRefusal("wrong bearer token")) }
        let now = SystemClock.wallNanoseconds()
        if let known = remembered.withLock({ $0[token] }), (known.expiresNanoseconds ?? .max) > now { return .success(known) }
        guard token.split(separator: ".", omittingEmptySubsequences: false).count == 3 else {
            return .failure(TokenRefusal(staticToken == nil ? "malformed token: a JWT is header.payload.signature"
                                                             : "wrong bearer token (neither the gateway's token nor a JWT)"))
        }
        await loadKeys()
        let claims: Claims
        do {
            claims = try await collection.verify(token, as: Claims.self, iteratingKeys: true)
        } catch let error as JWTError {
            return .failure(Self.refusal(error))
        } catch {
            return .failure(TokenRefusal("the token cannot be read: \(error)"))
        }
        if let exp = claims.exp?.value, exp.timeIntervalSince1970 * 1e9 <= Double(now) {
            return .failure(TokenRefusal("the token expired at \(Self.iso8601(exp))"))
        }
        if let nbf = claims.nbf?.value, nbf.timeIntervalSince1970 * 1e9 > Double(now) {
            return .failure(TokenRefusal("the token is not valid before \(Self.iso8601(nbf))"))
        }
        if let audience, !(claims.aud?.value.contains(audience) ?? false) {
            return .failure(TokenRefusal("the token is not for this gateway: its aud must include '\(audience)'"))
        }
        guard let claim = claims.scope else { return .failure(TokenRefusal("the token has no scope claim (e.g. \"scope\": \"read:Vehicle.Speed\")")) }
        let scope: ReadScope
        do { scope = try ReadScope(claim: claim) } catch { return .failure(TokenRefusal("the token's \(error.description)")) }
        let access = Access(scope: scope, subject: claims.sub?.value,
                            expiresNanoseconds: claims.exp.map { Int64($0.value.timeIntervalSince1970 * 1e9) })
        remembered.withLock { known in
            if known.count >= Self.rememberedLimit { known.removeAll() }  // bounded: a flood of tokens forgets them
            known[token] = access
        }
        return .success(access)
    }

    func loadKeys() async {
        guard !loaded.withLock({ let was = $0; $0 = true; return was }) else { return }
        for (i, key) in keys.enumerated() { await key.load(collection, JWKIdentifier(string: Self.keyID(key.path, i))) }
    }

    /// A key's id: its file name without the extension (a token's `kid` names it; tokens
    /// without one are tried against every key).
    static func keyID(_ path: String, _ index: Int) -> String {
        let name = (path as NSString).lastPathComponent
        let stem = name.split(separator: ".").first.map(String.init) ?? name
        return stem.isEmpty ? "key\(index)" : stem
    }

    static func refusal(_ error: JWTError) -> TokenRefusal {
        switch error.errorType {
        case .signatureVerificationFailed: return TokenRefusal("the token's signature does not verify with the gateway's key")
        case .malformedToken: return TokenRefusal("malformed token: a JWT is header.payload.signature, each base64url")
        case .unsupportedAlgorithm, .signingAlgorithmFailure, .noKeyProvided, .unknownKID:
            return TokenRefusal("the token is not signed with an accepted key and algorithm (RS256 or ES256 with the gateway's public key)")
        default: return TokenRefusal("the token is refused: \(error.reason ?? "\(error.errorType)")")
        }
    }

    static func iso8601(_ date: Date) -> String { ISO8601DateFormatter().string(from: date) }

    /// Compares without stopping at the first difference, so timing tells nothing.
    public static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var diff = UInt8(a.count == b.count ? 0 : 1)
        for i in 0..<max(a.count, b.count) { diff |= (i < a.count ? a[i] : 0) ^ (i < b.count ? b[i] : 0) }
        return diff == 0
    }

    /// The claims a KUKSA token carries; their checks, with reasons, are the verifier's.
    struct Claims: JWTPayload {
        var exp: ExpirationClaim?
        var nbf: NotBeforeClaim?
        var aud: AudienceClaim?
        var sub: SubjectClaim?
        var scope: String?
        func verify(using algorithm: some JWTAlgorithm) async throws {}
    }
}
