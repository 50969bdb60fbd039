import GRPCCore

/// The API's bearer token on gRPC: every call carries `authorization: Bearer <token>` (as
/// kuksa-client sends its token), or is refused UNAUTHENTICATED with the reason.
struct BearerTokenInterceptor: ServerInterceptor {
    let token: [UInt8]

    func intercept<Input: Sendable, Output: Sendable>(
        request: StreamingServerRequest<Input>, context: ServerContext,
        next: @Sendable (StreamingServerRequest<Input>, ServerContext) async throws -> StreamingServerResponse<Output>
    ) async throws -> StreamingServerResponse<Output> {
        guard let header = request.metadata[stringValues: "authorization"].first(where: { _ in true }) else {
            throw RPCError(code: .unauthenticated, message: "a token is required: send the metadata 'authorization: Bearer <token>'")
        }
        let prefix = "bearer "
        guard header.lowercased().hasPrefix(prefix), Self.same(Array(header.utf8.dropFirst(prefix.utf8.count)), token) else {
            throw RPCError(code: .unauthenticated, message: "the token is not the gateway's (metadata 'authorization: Bearer <token>')")
        }
        return try await next(request, context)
    }

    /// Constant time, so the comparison does not tell how much of a guess was right.
    static func same(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var diff: UInt8 = 0
        for i in a.indices { diff |= a[i] ^ b[i] }
        return diff == 0
    }
}
