import Atomics
import Gateway
import NIOCore

/// What every gRPC connection shares: how many are open, and what was refused or timed out.
public final class ConnectionLimits: Sendable {
    let configuration: KuksaConfiguration
    let open = ManagedAtomic<Int>(0)
    let refused = ManagedAtomic<Int>(0)
    let timedOut = ManagedAtomic<Int>(0)
    let evicted = ManagedAtomic<Int>(0)
    /// Connections that have not started an RPC yet, oldest first: when every place is taken,
    /// the oldest of these gives its place to a newcomer, so idle sockets cannot hold them all.
    let waiting = Locked<[ObjectIdentifier: (since: UInt64, channel: any Channel)]>([:])
    let order = ManagedAtomic<UInt64>(0)

    init(configuration: KuksaConfiguration) { self.configuration = configuration }

    /// Closes the oldest connection that never started an RPC; false if there is none.
    func evictOldestWaiting() -> Bool {
        let victim = waiting.withLock { w -> (any Channel)? in
            guard let (key, oldest) = w.min(by: { $0.value.since < $1.value.since }) else { return nil }
            w.removeValue(forKey: key)
            return oldest.channel
        }
        guard let victim else { return false }
        evicted.wrappingIncrement(ordering: .relaxed)
        victim.close(promise: nil)
        return true
    }

    public var openConnections: Int { open.load(ordering: .relaxed) }
    public var refusedConnections: Int { refused.load(ordering: .relaxed) }
    public var timedOutConnections: Int { timedOut.load(ordering: .relaxed) }
}

/// First in each connection's pipeline, so it sees the raw bytes (before TLS and HTTP/2).
/// grpc-swift's transport limits idle time and keep-alives but not how many connections are
/// open, nor how long one may take to start: a socket that never sends the HTTP/2 preface, or
/// sends it a byte a second, would hold a place for ever. This closes a connection beyond the
/// limit (unless one that never started an RPC can make room), one that has not sent 24 bytes
/// within `prefaceSeconds`, and one that has not started an RPC within `firstCallSeconds`.
final class ConnectionGuard: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    static let prefaceBytes = 24

    let limits: ConnectionLimits
    var bytes = 0
    var counted = false
    var sawCall = false
    var timers: [Scheduled<Void>] = []

    init(limits: ConnectionLimits) { self.limits = limits }

    func handlerAdded(context: ChannelHandlerContext) {
        if limits.open.loadThenWrappingIncrement(ordering: .relaxed) >= limits.configuration.maxConnections, !limits.evictOldestWaiting() {
            limits.open.wrappingDecrement(ordering: .relaxed)
            limits.refused.wrappingIncrement(ordering: .relaxed)
            context.close(promise: nil)
            return
        }
        counted = true
        let key = ObjectIdentifier(self), channel = context.channel
        let since = limits.order.loadThenWrappingIncrement(ordering: .relaxed)
        limits.waiting.withLock { $0[key] = (since, channel) }
        let loop = context.eventLoop.assumeIsolated()
        let c = limits.configuration
        timers.append(loop.scheduleTask(in: .nanoseconds(Int64(c.prefaceSeconds * 1e9))) { [self] in
            if bytes < Self.prefaceBytes { timeOut(context) }
        })
        timers.append(loop.scheduleTask(in: .nanoseconds(Int64(c.firstCallSeconds * 1e9))) { [self] in
            if !sawCall { timeOut(context) }
        })
    }

    func timeOut(_ context: ChannelHandlerContext) {
        limits.timedOut.wrappingIncrement(ordering: .relaxed)
        context.close(promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        bytes += unwrapInboundIn(data).readableBytes
        context.fireChannelRead(data)
    }

    /// An HTTP/2 stream (an RPC) started on this connection.
    func callStarted() {
        guard !sawCall else { return }
        sawCall = true
        _ = limits.waiting.withLock { $0.removeValue(forKey: ObjectIdentifier(self)) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        for t in timers { t.cancel() }
        timers.removeAll()
        _ = limits.waiting.withLock { $0.removeValue(forKey: ObjectIdentifier(self)) }
        if counted { limits.open.wrappingDecrement(ordering: .relaxed); counted = false }
    }
}
