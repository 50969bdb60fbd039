import _CryptoExtras
import Foundation
import JWTKit

/// Makes key pairs and signs tokens the gateway (and KUKSA Databroker) accepts: for tests, for
/// a deployment's provisioning, for an assistant's token.
public enum TokenSigner {
    public enum Algorithm: String, Sendable, CaseIterable { case es256, rs256 }

    /// A new private key and its public key, both PEM.
    public static func makeKeyPair(_ algorithm: Algorithm) throws -> (privateKey: String, publicKey: String) {
        switch algorithm {
        case .es256:
            let key = ES256PrivateKey()
            return (key.pemRepresentation, key.publicKey.pemRepresentation)
        case .rs256:
            let key = try _RSA.Signing.PrivateKey(keySize: .bits2048)
            return (key.pemRepresentation, key.publicKey.pemRepresentation)
        }
    }

    public struct Request: Sendable {
        public var scope: String
        public var audience: String? = "kuksa.val"
        public var subject: String?
        public var issuer: String? = "vehicle-gateway"
        /// Seconds from now; nil: no expiry.
        public var expiresIn: Double? = 3600
        /// The `kid` header: the gateway's key's file name without extension, when it has several.
        public var keyID: String?
        public init(scope: String) { self.scope = scope }
    }

    struct Claims: JWTPayload {
        var scope: String
        var aud: AudienceClaim?
        var sub: SubjectClaim?
        var iss: IssuerClaim?
        var iat: IssuedAtClaim
        var exp: ExpirationClaim?
        func verify(using algorithm: some JWTAlgorithm) async throws {}
    }

    /// A token signed with the PEM private key (RS256 for RSA, ES256 for EC P-256).
    public static func sign(_ request: Request, privateKeyPEM pem: String, now: Date = Date()) async throws -> String {
        _ = try ReadScope(claim: request.scope)  // a scope the gateway would refuse is refused here
        let keys = JWTKeyCollection()
        if let ec = try? ES256PrivateKey(pem: pem) {
            await keys.add(ecdsa: ec)
        } else {
            await keys.add(rsa: try Insecure.RSA.PrivateKey(pem: pem), digestAlgorithm: .sha256)
        }
        let claims = Claims(scope: request.scope, aud: request.audience.map { AudienceClaim(value: [$0]) },
                            sub: request.subject.map { SubjectClaim(value: $0) }, iss: request.issuer.map { IssuerClaim(value: $0) },
                            iat: IssuedAtClaim(value: now), exp: request.expiresIn.map { ExpirationClaim(value: now.addingTimeInterval($0)) })
        var header = JWTHeader()
        if let id = request.keyID { header.kid = JWKIdentifier(string: id).string }
        return try await keys.sign(claims, header: header)
    }
}
