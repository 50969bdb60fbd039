import AccessControl
import Gateway
import GRPCCore
import GRPCProtobuf
import KuksaProtos
import VehicleState

/// `kuksa.val.v2.VAL` over the gateway's state: reads and subscriptions as KUKSA Databroker
/// documents them, with the frame's time on every datapoint. The gateway is read-only: the
/// write and provider RPCs are refused, and nothing they carry reaches the store or a bus.
final class KuksaVALService: Kuksa_Val_V2_VAL.SimpleServiceProtocol {
    let view: VehicleView
    let configuration: KuksaConfiguration
    let serverVersion: String
    let subscriptions: SubscriptionCount
    /// Metadata per path, built once (names, types and units do not change while running).
    let metadata: [Kuksa_Val_V2_Metadata]
    /// Open subscriptions' feeds, so shutdown can end them (their RPCs then finish with OK).
    let openFeeds = Locked<(feeds: [ObjectIdentifier: FeedSubscription], closed: Bool)>(([:], false))

    /// Who may read what (the HTTP API's verifier: the same tokens work on both).
    let verifier: TokenVerifier

    init(view: VehicleView, verifier: TokenVerifier, configuration: KuksaConfiguration, serverVersion: String, subscriptions: SubscriptionCount) {
        self.view = view
        self.verifier = verifier
        self.configuration = configuration
        self.serverVersion = serverVersion
        self.subscriptions = subscriptions
        let mapping = view.state.mapping
        metadata = mapping.paths.enumerated().map { i, p in
            var m = Kuksa_Val_V2_Metadata()
            m.path = p.name
            m.id = Int32(i)
            m.dataType = KuksaValues.dataType(p.datatype)
            m.entryType = .sensor
            m.unit = p.unit ?? ""
            let from = p.sources.map { s in "\(mapping.buses[mapping.sources[s].bus].name): \(mapping.sources[s].description)" }
            m.description_p = "From CAN \(from.joined(separator: ", then "))."
            if p.minIntervalNanoseconds > 0 {
                m.minSampleInterval = .with { $0.intervalMs = UInt32(clamping: p.minIntervalNanoseconds / 1_000_000) }
            }
            return m
        }
    }

    // MARK: reading

    /// The view a call's token may read (`authorization: Bearer <token>` metadata, as
    /// kuksa-client sends it; UNAUTHENTICATED with the reason when it is refused).
    func view(for metadata: Metadata) async throws -> VehicleView {
        let header = metadata[stringValues: "authorization"].first(where: { _ in true })
        switch await verifier.access(authorization: header) {
        case .success(let access): return view.limited(to: access)
        case .failure(let refusal): throw RPCError(code: .unauthenticated, message: refusal.description + " (metadata 'authorization: Bearer <token>')")
        }
    }

    /// A path or numeric id, resolved; unknown ones are NOT_FOUND naming them, ones the
    /// token does not cover PERMISSION_DENIED.
    func resolve(_ id: Kuksa_Val_V2_SignalID, in view: VehicleView) throws -> Int {
        let i: Int
        switch id.signal {
        case .path(let path):
            try checkLength(path)
            guard let found = view.index(of: path) else { throw RPCError(code: .notFound, message: view.unknownPathMessage(path)) }
            i = found
        case .id(let n):
            guard n >= 0, Int(n) < view.paths.count else { throw RPCError(code: .notFound, message: "unknown signal id \(n) (ListMetadata gives the ids)") }
            i = Int(n)
        case nil:
            throw RPCError(code: .invalidArgument, message: "the request names no signal: set signal_id.path or signal_id.id")
        }
        guard view.isPermitted(i) else { throw RPCError(code: .permissionDenied, message: view.refusal(view.paths[i].name)) }
        return i
    }

    func checkLength(_ path: String) throws {
        if path.utf8.count > configuration.maxPathLength {
            throw RPCError(code: .invalidArgument, message: "path longer than \(configuration.maxPathLength) bytes")
        }
    }

    func datapoint(_ i: Int) -> (Kuksa_Val_V2_Datapoint, String) {
        let r = view.reading(i)
        return (KuksaValues.datapoint(r, view.paths[i].datatype), KuksaValues.stateText(r))
    }

    // The full forms of GetValue/GetValues, so the answer can carry each value's state as metadata.
    func getValue(request: ServerRequest<Kuksa_Val_V2_GetValueRequest>, context: ServerContext) async throws -> ServerResponse<Kuksa_Val_V2_GetValueResponse> {
        let i = try resolve(request.message.signalID, in: try await view(for: request.metadata))
        let (d, state) = datapoint(i)
        var metadata = Metadata()
        metadata.addString(state, forKey: "vg-state")
        return ServerResponse(message: .with { $0.dataPoint = d }, metadata: metadata)
    }

    func getValue(request: Kuksa_Val_V2_GetValueRequest, context: ServerContext) async throws -> Kuksa_Val_V2_GetValueResponse {
        try await getValue(request: ServerRequest(metadata: [:], message: request), context: context).message
    }

    func getValues(request: ServerRequest<Kuksa_Val_V2_GetValuesRequest>, context: ServerContext) async throws -> ServerResponse<Kuksa_Val_V2_GetValuesResponse> {
        guard !request.message.signalIds.isEmpty else { throw RPCError(code: .invalidArgument, message: "signal_ids is empty") }
        let view = try await view(for: request.metadata)
        let indices = try request.message.signalIds.map { try resolve($0, in: view) }
        var metadata = Metadata()
        var out = Kuksa_Val_V2_GetValuesResponse()
        for i in indices {
            let (d, state) = datapoint(i)
            out.dataPoints.append(d)
            metadata.addString(state, forKey: "vg-state")
        }
        return ServerResponse(message: out, metadata: metadata)
    }

    func getValues(request: Kuksa_Val_V2_GetValuesRequest, context: ServerContext) async throws -> Kuksa_Val_V2_GetValuesResponse {
        try await getValues(request: ServerRequest(metadata: [:], message: request), context: context).message
    }

    func listMetadata(request: ServerRequest<Kuksa_Val_V2_ListMetadataRequest>, context: ServerContext) async throws -> ServerResponse<Kuksa_Val_V2_ListMetadataResponse> {
        let root = request.message.root
        try checkLength(root)
        let view = try await view(for: request.metadata)
        let pattern: PathPattern
        do { pattern = try PathPattern(root) } catch let e as PathPattern.Invalid {
            throw RPCError(code: .invalidArgument, message: e.message)
        }
        let matched = view.paths.indices.filter { pattern.matches(view.paths[$0].name) }
        if matched.isEmpty { throw RPCError(code: .notFound, message: "no signal matches '\(root)'") }
        let allowed = matched.filter(view.isPermitted)
        if allowed.isEmpty { throw RPCError(code: .permissionDenied, message: view.refusal(root)) }
        return ServerResponse(message: .with { $0.metadata = allowed.map { metadata[$0] } })
    }

    func listMetadata(request: Kuksa_Val_V2_ListMetadataRequest, context: ServerContext) async throws -> Kuksa_Val_V2_ListMetadataResponse {
        try await listMetadata(request: ServerRequest(metadata: [:], message: request), context: context).message
    }

    func getServerInfo(request: Kuksa_Val_V2_GetServerInfoRequest, context: ServerContext) async throws -> Kuksa_Val_V2_GetServerInfoResponse {
        .with { $0.name = "vehicle-gateway"; $0.version = serverVersion; $0.commitHash = "" }
    }

    // MARK: subscriptions

    // The full forms carry the caller's token (its metadata); the simple forms, which the
    // protocol also asks for, are the same calls without one.
    func subscribe(request: ServerRequest<Kuksa_Val_V2_SubscribeRequest>, context: ServerContext) async throws -> StreamingServerResponse<Kuksa_Val_V2_SubscribeResponse> {
        let view = try await view(for: request.metadata)
        let message = request.message
        guard !message.signalPaths.isEmpty else { throw RPCError(code: .invalidArgument, message: "signal_paths is empty") }
        let indices = try message.signalPaths.map { p in try resolve(.with { $0.path = p }, in: view) }
        return StreamingServerResponse { response in
            try await self.stream(indices, bufferSize: message.bufferSize, filter: message.hasFilter ? message.filter : nil, context: context) { entries in
                try await response.write(.with { $0.entries = Dictionary(entries.map { (view.paths[$0.0].name, $0.1) }, uniquingKeysWith: { $1 }) })
            }
            return [:]
        }
    }

    func subscribeById(request: ServerRequest<Kuksa_Val_V2_SubscribeByIdRequest>, context: ServerContext) async throws -> StreamingServerResponse<Kuksa_Val_V2_SubscribeByIdResponse> {
        let view = try await view(for: request.metadata)
        let message = request.message
        guard !message.signalIds.isEmpty else { throw RPCError(code: .invalidArgument, message: "signal_ids is empty") }
        let indices = try message.signalIds.map { n in try resolve(.with { $0.id = n }, in: view) }
        return StreamingServerResponse { response in
            try await self.stream(indices, bufferSize: message.bufferSize, filter: message.hasFilter ? message.filter : nil, context: context) { entries in
                try await response.write(.with { $0.entries = Dictionary(entries.map { (Int32($0.0), $0.1) }, uniquingKeysWith: { $1 }) })
            }
            return [:]
        }
    }

    func subscribe(request: Kuksa_Val_V2_SubscribeRequest, response: RPCWriter<Kuksa_Val_V2_SubscribeResponse>, context: ServerContext) async throws {
        let view = try await view(for: [:])
        guard !request.signalPaths.isEmpty else { throw RPCError(code: .invalidArgument, message: "signal_paths is empty") }
        let indices = try request.signalPaths.map { p in try resolve(.with { $0.path = p }, in: view) }
        try await stream(indices, bufferSize: request.bufferSize, filter: request.hasFilter ? request.filter : nil, context: context) { entries in
            try await response.write(.with { $0.entries = Dictionary(entries.map { (view.paths[$0.0].name, $0.1) }, uniquingKeysWith: { $1 }) })
        }
    }

    func subscribeById(request: Kuksa_Val_V2_SubscribeByIdRequest, response: RPCWriter<Kuksa_Val_V2_SubscribeByIdResponse>, context: ServerContext) async throws {
        let view = try await view(for: [:])
        guard !request.signalIds.isEmpty else { throw RPCError(code: .invalidArgument, message: "signal_ids is empty") }
        let indices = try request.signalIds.map { n in try resolve(.with { $0.id = n }, in: view) }
        try await stream(indices, bufferSize: request.bufferSize, filter: request.hasFilter ? request.filter : nil, context: context) { entries in
            try await response.write(.with { $0.entries = Dictionary(entries.map { (Int32($0.0), $0.1) }, uniquingKeysWith: { $1 }) })
        }
    }

    /// The current values first (never-received ones without a value), then each change (a
    /// value, or a value turning stale, invalid or fresh again) no more often than the filter's
    /// minimum sample interval. Messages wait in a buffer of `buffer_size` (KUKSA: 0 keeps only
    /// the latest); when it is full the two oldest are merged rather than one dropped, so a slow
    /// client never loses a signal's last value.
    func stream(_ indices: [Int], bufferSize: UInt32, filter: Kuksa_Val_V2_Filter?, context: ServerContext,
                write: @escaping @Sendable ([(Int, Kuksa_Val_V2_Datapoint)]) async throws -> Void) async throws {
        guard bufferSize <= configuration.maxBufferSize else {
            throw RPCError(code: .invalidArgument, message: "buffer_size \(bufferSize) is above the maximum, \(configuration.maxBufferSize)")
        }
        guard subscriptions.acquire(limit: configuration.maxSubscriptions) else {
            throw RPCError(code: .resourceExhausted, message: "too many subscriptions (at most \(configuration.maxSubscriptions))")
        }
        defer { subscriptions.release() }
        let wanted = PathSet(count: view.paths.count, indices)
        let interval = Duration.milliseconds(Int64(filter?.minSampleInterval.intervalMs ?? 0))
        let changes = view.state.feed.subscribe(FeedInterest(paths: wanted, states: true, context: false),
                                                minimumInterval: max(interval, .milliseconds(1)))
        let key = ObjectIdentifier(changes)
        guard openFeeds.withLock({ s in s.closed ? false : { s.feeds[key] = changes; return true }() }) else {
            changes.cancel()
            throw RPCError(code: .unavailable, message: "the gateway is shutting down")
        }
        defer { _ = openFeeds.withLock { $0.feeds.removeValue(forKey: key) } }
        let buffer = MergingBuffer(capacity: max(1, Int(bufferSize)))
        buffer.push(Array(Set(indices)).sorted().map { ($0, datapoint($0).0) })
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                for await batch in changes {
                    var touched = batch.changed
                    touched.formUnion(batch.turned)
                    let paths = touched.intersection(wanted)
                    if paths.isEmpty { continue }
                    buffer.push(paths.map { ($0, self.datapoint($0).0) })
                }
                buffer.finish()
            }
            group.addTask {
                while let entries = await buffer.pop() { try await write(entries) }
            }
            defer { changes.cancel(); buffer.finish() }
            try await group.next()
            group.cancelAll()
        }
    }

    /// Ends every open subscription and refuses new ones.
    func endStreams() {
        let feeds = openFeeds.withLock { s in s.closed = true; return Array(s.feeds.values) }
        for f in feeds { f.cancel() }
    }

    // MARK: the gateway is read-only

    static func readOnly(_ what: String) -> RPCError {
        RPCError(code: .permissionDenied, message: "\(what): vehicle-gateway is read-only; it decodes CAN and never writes to a bus or takes values from clients")
    }

    func actuate(request: Kuksa_Val_V2_ActuateRequest, context: ServerContext) async throws -> Kuksa_Val_V2_ActuateResponse {
        throw Self.readOnly("Actuate")
    }

    func actuateStream(request: RPCAsyncSequence<Kuksa_Val_V2_ActuateRequest, any Error>, context: ServerContext) async throws -> Kuksa_Val_V2_ActuateResponse {
        throw Self.readOnly("ActuateStream")
    }

    func batchActuate(request: Kuksa_Val_V2_BatchActuateRequest, context: ServerContext) async throws -> Kuksa_Val_V2_BatchActuateResponse {
        throw Self.readOnly("BatchActuate")
    }

    func publishValue(request: Kuksa_Val_V2_PublishValueRequest, context: ServerContext) async throws -> Kuksa_Val_V2_PublishValueResponse {
        throw Self.readOnly("PublishValue")
    }

    func openProviderStream(request: RPCAsyncSequence<Kuksa_Val_V2_OpenProviderStreamRequest, any Error>,
                            response: RPCWriter<Kuksa_Val_V2_OpenProviderStreamResponse>, context: ServerContext) async throws {
        throw Self.readOnly("OpenProviderStream")
    }
}
