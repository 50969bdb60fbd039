import AccessControl
import Hummingbird
import HummingbirdWebSocket

/// A request as the API sees it: Hummingbird's own context and what the request's token may
/// read (set by `AccessMiddleware`; everything when the API needs no token).
public struct GatewayRequestContext: RequestContext, WebSocketRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let webSocket: WebSocketHandlerReference<Self>
    public var access: Access = .everything

    public init(source: Source) {
        coreContext = .init(source: source)
        webSocket = .init()
    }
}
