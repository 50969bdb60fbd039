/// What one request may read, and whom it came from: the API's own token and an open loopback
/// API read everything; a JWT reads what its scopes cover.
public struct Access: Sendable, Equatable {
    public var scope: ReadScope
    /// The token's `sub`, for logs and errors.
    public var subject: String?
    /// Wall time (ns) the token expires, if it does.
    public var expiresNanoseconds: Int64?

    public init(scope: ReadScope, subject: String? = nil, expiresNanoseconds: Int64? = nil) {
        self.scope = scope
        self.subject = subject
        self.expiresNanoseconds = expiresNanoseconds
    }

    public static let everything = Access(scope: .everything)

    /// "token's scopes do not cover 'Vehicle.CurrentLocation.Latitude' (it may read: read:Vehicle.Speed)".
    public func refusal(_ path: String) -> String {
        "the token's scopes do not cover '\(path)' (it may read: \(scope))"
    }
}

/// Why a request's token was refused: said to the client (HTTP 401, gRPC UNAUTHENTICATED, a
/// refused WebSocket upgrade).
public struct TokenRefusal: Error, Sendable, Equatable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

import Gateway

extension VehicleView {
    /// The view a reader with `access` gets: every path when it may read everything, else the
    /// paths its scopes cover (and the context parts made only of those).
    public func limited(to access: Access) -> VehicleView {
        guard !access.scope.isEverything else { return self }
        let scope = access.scope
        return limited(described: scope.description) { scope.covers($0) }
    }
}
