import AccessControl
import GRPCCore

/// Every call carries a token the gateway accepts (`authorization: Bearer <token>`, as
/// kuksa-client sends it), or is refused UNAUTHENTICATED with the reason; what the token may
/// read is the handlers' to check (they see its scopes).
struct TokenInterceptor: ServerInterceptor {
    let verifier: TokenVerifier

    func intercept<Input: Sendable, Output: Sendable>(
        request: StreamingServerRequest<Input>, context: ServerContext,
        next: @Sendable (StreamingServerRequest<Input>, ServerContext) async throws -> StreamingServerResponse<Output>
    ) async throws -> StreamingServerResponse<Output> {
        let header = request.metadata[stringValues: "authorization"].first(where: { _ in true })
        if case .failure(let refusal) = await verifier.access(authorization: header) {
            throw RPCError(code: .unauthenticated, message: refusal.description + " (metadata 'authorization: Bearer <token>')")
        }
        return try await next(request, context)
    }
}
