import AccessControl
import CANBus
import Foundation
import Gateway
import MCP
import Synchronization
import VehicleState

/// The MCP server the assistant talks to: read-only tools over the live vehicle state and the
/// `vehicle://context` resource with update notifications. One `Server` per client session.
public struct MCPVehicleServer: Sendable {
    public let view: VehicleView
    public let metrics: GatewayMetrics
    public static let contextURI = "vehicle://context"
    public static let signalsURI = "vehicle://signals"
    public static let eventsURI = "vehicle://events"
    /// Update notifications for one subscriber go out at most this often (coalesced).
    static let minimumNotifyInterval: Duration = .milliseconds(100)

    public init(view: VehicleView, metrics: GatewayMetrics) {
        self.view = view
        self.metrics = metrics
    }

    /// The same tools and resources for a reader whose token reads only some paths.
    public func limited(to access: Access) -> MCPVehicleServer {
        MCPVehicleServer(view: view.limited(to: access), metrics: metrics)
    }

    static let stateNote = "Every value carries its state: fresh (current), stale (its source has gone quiet; the last value is kept with its age_s in seconds), invalid (its frames failed an integrity check — checksum, counter, repeated — or the value was implausible; the reason says which) or unavailable (never received). Never present a stale or invalid value as current."

    public static let tools: [Tool] = [
        Tool(name: "get_driving_context",
             title: "Driving context",
             description: "The car's driving context now: speed (km/h), location (WGS84 latitude/longitude in degrees, heading in degrees clockwise from north, altitude in m), gear (label P/R/N/D or a gear number), motion (parked, stopped, moving, reversing or unknown), acceleration trend and distance driven (km); attention (the driver's workload low/medium/high with reasons such as reversing, turning, indicator, gnss_lost; interruptible: false means keep quiet or be brief until it is true); energy (fuel or charge level %, range km and whether the car estimated it, low: true means prefer stops where the car can refuel or charge), environment (outside temperature °C, dark, raining with its source — wipers or rain_sensor —, null when the car does not say; cold, dark or rain favour indoor options), cabin (open doors, which seats are belted, occupied seats — how many people to plan for — and unbelted ones: an unbelted passenger or an open door while moving is a safety matter first), trip since leaving park (driving time, distance, average speed, stops, time since the last break of 15 min or more; break_recommended: true means suggest a rest stop), and phase (parked, starting, driving, stopped_at_light, parking_search — offer parking help —, parking) with how long it has lasted. " + stateNote,
             inputSchema: .object(["type": "object", "properties": .object([:]), "required": .array([]), "additionalProperties": false]),
             annotations: .init(readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false)),
        Tool(name: "get_trip",
             title: "Trip so far",
             description: "The trip since the car last left park and where the drive is now: driving time (s, stops at lights included), distance (km), average speed (km/h), stops, time since the last break (a stop of 15 min or more), break_recommended (true: the driver has driven long enough that a rest stop should be suggested — prefer places with food and toilets), and phase (parked, starting, driving, stopped_at_light, parking_search — slow driving with turns: offer parking help —, parking) with how long it has lasted (for_s). " + stateNote,
             inputSchema: .object(["type": "object", "properties": .object([:]), "required": .array([]), "additionalProperties": false]),
             annotations: .init(readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false)),
        Tool(name: "get_vehicle_status",
             title: "Energy, weather and cabin",
             description: "What to recommend around: energy (fuel or charge level %, range km, range_source: vehicle = the car's own estimate, estimated = from recent consumption; low: true → prefer stops where the car can refuel or charge, and do not suggest detours the range cannot cover), environment (outside temperature °C; raining with its source, wipers or rain_sensor; dark — rain, cold or dark favour indoor options and short walks), cabin (open doors and trunk, belted seats, occupied seats, unbelted: occupied seats whose belt is open — safety first, mention it before anything else; the number of occupied seats is how many people to plan for). " + stateNote,
             inputSchema: .object(["type": "object", "properties": .object([:]), "required": .array([]), "additionalProperties": false]),
             annotations: .init(readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false)),
        Tool(name: "can_interrupt_driver",
             title: "May I talk to the driver now?",
             description: "Whether the assistant may talk to the driver now (can_interrupt), from the driver's workload (attention low/medium/high and its reasons: reversing, turning, indicator, hard_braking, hard_accelerating, high_speed, gnss_lost, just_started) and the phase of the drive. When false: wait_s says about how long until it likely may, and wait_basis what that rests on (rule: a threshold of the workload rules; usual_length: how long such a manoeuvre usually lasts; null: no estimate, e.g. in a tunnel). Ask before any non-urgent suggestion; a stop at a red light is a good moment for something short.",
             inputSchema: .object(["type": "object", "properties": .object([:]), "required": .array([]), "additionalProperties": false]),
             annotations: .init(readOnlyHint: true, destructiveHint: false, idempotentHint: false, openWorldHint: false)),
        Tool(name: "get_signal",
             title: "One vehicle signal",
             description: "The current value of one COVESA VSS signal, e.g. Vehicle.Speed (km/h) or Vehicle.CurrentLocation.Latitude (degrees), with its unit, timestamp, age in seconds and state. Use list_signals to see which paths exist. " + stateNote,
             inputSchema: .object(["type": "object",
                                   "properties": .object(["path": .object(["type": "string", "description": "A VSS path, dot-separated, e.g. Vehicle.Speed"])]),
                                   "required": .array(["path"]), "additionalProperties": false]),
             annotations: .init(readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false)),
        Tool(name: "recent_events",
             title: "Recent vehicle events",
             description: "The latest moments worth acting on, oldest first, each with its id and time: parked, departed, stopped (at a light or in traffic), tunnel_entered / gnss_restored (no position meanwhile), energy_low (suggest a fuel or charging stop), break_recommended (suggest a rest stop), rain_started (prefer indoor options), door_opened_while_moving (safety first), hard_braking (hold non-urgent talk). Optionally only those after an id you already have.",
             inputSchema: .object(["type": "object",
                                   "properties": .object([
                                       "limit": .object(["type": "integer", "minimum": 1, "maximum": 256, "description": "At most this many (the newest); default 20"]),
                                       "after": .object(["type": "integer", "minimum": 0, "description": "Only events with a larger id"]),
                                   ]),
                                   "required": .array([]), "additionalProperties": false]),
             annotations: .init(readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false)),
        Tool(name: "list_signals",
             title: "List vehicle signals",
             description: "Every VSS signal this car provides, with value, unit, timestamp, age and state; optionally only those under a prefix such as Vehicle.CurrentLocation. " + stateNote,
             inputSchema: .object(["type": "object",
                                   "properties": .object(["prefix": .object(["type": "string", "description": "Only paths equal to or below this VSS branch, e.g. Vehicle.Powertrain"])]),
                                   "required": .array([]), "additionalProperties": false]),
             annotations: .init(readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false)),
        Tool(name: "advise_traffic_light",
             title: "Green-light speed advice",
             description: "Given a traffic light's stop line position and its signal schedule, uses the car's live speed and position to answer: the distance to the stop line (m) and whether it is ahead, the time to arrive at the current speed (s), whether that falls in a green window, and the speed range (km/h, between min_speed_kmh and speed_limit_kmh) that would arrive on green, or advice to stop. Give the schedule either as current_phase (+ next_phases) or as green_windows. The speed advice allows for the seconds it takes to tell the driver (announce_s, default 3), in which the car keeps its speed and the stop line comes closer. When the driver is busy (a manoeuvre) the answer says do_not_disturb. Refuses, with the reason, when speed or position is stale, invalid or unavailable.",
             inputSchema: .object([
                "type": "object",
                "properties": .object([
                    "stop_line": .object(["type": "object", "description": "Where the car must stop for this light (WGS84, degrees).",
                                          "properties": .object(["latitude": .object(["type": "number", "minimum": -90, "maximum": 90]),
                                                                 "longitude": .object(["type": "number", "minimum": -180, "maximum": 180])]),
                                          "required": .array(["latitude", "longitude"]), "additionalProperties": false]),
                    "current_phase": .object(["type": "object", "description": "The light's phase now and the seconds it has left.",
                                              "properties": .object(["color": .object(["type": "string", "enum": .array(["red", "amber", "green"])]),
                                                                     "remaining_s": .object(["type": "number", "minimum": 0, "description": "Seconds until this phase ends"])]),
                                              "required": .array(["color", "remaining_s"]), "additionalProperties": false]),
                    "next_phases": .object(["type": "array", "description": "The phases after the current one, in order.",
                                            "items": .object(["type": "object",
                                                              "properties": .object(["color": .object(["type": "string", "enum": .array(["red", "amber", "green"])]),
                                                                                     "duration_s": .object(["type": "number", "exclusiveMinimum": 0, "description": "Seconds the phase lasts"])]),
                                                              "required": .array(["color", "duration_s"]), "additionalProperties": false])]),
                    "green_windows": .object(["type": "array", "description": "Instead of phases: the upcoming green windows, in seconds from now.",
                                              "items": .object(["type": "object",
                                                                "properties": .object(["start_s": .object(["type": "number", "minimum": 0]),
                                                                                       "end_s": .object(["type": "number", "minimum": 0])]),
                                                                "required": .array(["start_s", "end_s"]), "additionalProperties": false])]),
                    "speed_limit_kmh": .object(["type": "number", "exclusiveMinimum": 0, "description": "Never advise above this speed (km/h)."]),
                    "min_speed_kmh": .object(["type": "number", "minimum": 0, "description": "Never advise below this speed (km/h); default 15."]),
                    "announce_s": .object(["type": "number", "minimum": 0, "maximum": 30, "description": "Seconds it takes to tell the driver and for them to react (default 3): the advice is for the distance left after it."]),
                ]),
                "required": .array(["stop_line"]),
                "additionalProperties": false,
             ]),
             annotations: .init(readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false)),
    ]

    /// A new MCP server for one session; `sessionEnded` stops its notifications.
    public func makeServer() async -> Server {
        let server = Server(
            name: "vehicle-gateway", version: "0.3.0", title: "Vehicle gateway",
            instructions: "Live driving context of this car from its CAN buses. Read-only. Check each value's state: only fresh values are current.",
            capabilities: .init(prompts: .init(listChanged: false), resources: .init(subscribe: true, listChanged: false), tools: .init(listChanged: false)))
        let subscribed = Mutex<Set<String>>([])
        let view = self.view
        // One change-feed subscription per session; what it listens to follows the resources
        // the client subscribed to. The heartbeat lets it notice a session that ended.
        let changes = view.state.feed.subscribe(FeedInterest(paths: PathSet(count: 0), states: false, context: false),
                                                minimumInterval: Self.minimumNotifyInterval, heartbeat: .seconds(10))
        @Sendable func listen(to uris: Set<String>) {
            changes.update { interest in
                interest.context = uris.contains(Self.contextURI) || uris.contains(Self.eventsURI)
                interest.paths = uris.contains(Self.signalsURI) ? nil : PathSet(count: 0)
                interest.states = uris.contains(Self.signalsURI)
            }
        }
        await server.withMethodHandler(ListTools.self) { _ in .init(tools: Self.tools) }
        await server.withMethodHandler(CallTool.self) { params in call(params.name, params.arguments ?? [:]) }
        await server.withMethodHandler(ListPrompts.self) { _ in .init(prompts: MCPPrompts.prompts) }
        await server.withMethodHandler(GetPrompt.self) { params in
            switch MCPPrompts.get(params.name, params.arguments ?? [:], context: view.context(), withholding: view.withheldParts) {
            case .success(let result): return result
            case .failure(let e): throw MCPError.invalidParams(e.message)
            }
        }
        await server.withMethodHandler(ListResources.self) { _ in
            .init(resources: [
                Resource(name: "driving_context", uri: Self.contextURI, title: "Driving context",
                         description: "Speed, location, gear and motion now, each with its state and age (JSON). Subscribe for updates.",
                         mimeType: "application/json"),
                Resource(name: "events", uri: Self.eventsURI, title: "Vehicle events",
                         description: "The latest vehicle events (parked, departed, stopped, tunnel_entered, gnss_restored, energy_low, break_recommended, rain_started, door_opened_while_moving, hard_braking) with ids and times (JSON). Subscribe to be told when one happens.",
                         mimeType: "application/json"),
                Resource(name: "signals", uri: Self.signalsURI, title: "All vehicle signals",
                         description: "Every mapped VSS signal with value, unit, timestamp and state (JSON).", mimeType: "application/json"),
            ])
        }
        // Clients (Qwen-Agent among them) list templates beside resources: one branch of the
        // signal tree, e.g. vehicle://signals/Vehicle.Cabin.
        await server.withMethodHandler(ListResourceTemplates.self) { _ in
            .init(templates: [
                Resource.Template(uriTemplate: Self.signalsURI + "/{path}", name: "signals_under",
                                  title: "Vehicle signals under a VSS branch",
                                  description: "The mapped VSS signals equal to or below {path} (e.g. Vehicle.Speed, Vehicle.CurrentLocation), with value, unit, timestamp and state (JSON).",
                                  mimeType: "application/json"),
            ])
        }
        await server.withMethodHandler(ReadResource.self) { params in
            switch params.uri {
            case Self.contextURI: return .init(contents: [.text(view.contextJSON(), uri: Self.contextURI, mimeType: "application/json")])
            case Self.eventsURI:
                guard view.isPermitted(name: VehicleView.eventsPath) else { throw MCPError.invalidRequest(view.refusal(VehicleView.eventsPath)) }
                return .init(contents: [.text(view.eventsJSON(limit: 50), uri: Self.eventsURI, mimeType: "application/json")])
            case Self.signalsURI:
                let all = view.paths(under: nil)
                return .init(contents: [.text(view.signalsJSON(all.filter(view.isPermitted), withheld: all.filter { !view.isPermitted($0) }),
                                              uri: Self.signalsURI, mimeType: "application/json")])
            case let uri where uri.hasPrefix(Self.signalsURI + "/"):
                let branch = String(uri.dropFirst(Self.signalsURI.count + 1))
                let indices = view.paths(under: branch)
                guard !branch.isEmpty, !indices.isEmpty else { throw MCPError.invalidParams(view.unknownPathMessage(branch)) }
                let allowed = indices.filter(view.isPermitted)
                guard !allowed.isEmpty else { throw MCPError.invalidRequest(view.refusal(branch)) }
                return .init(contents: [.text(view.signalsJSON(allowed, withheld: indices.filter { !view.isPermitted($0) }), uri: uri,
                                              mimeType: "application/json")])
            default:
                throw MCPError.invalidParams("unknown resource '\(params.uri)'; resources are \(Self.contextURI), \(Self.eventsURI), \(Self.signalsURI) and \(Self.signalsURI)/{path}")
            }
        }
        await server.withMethodHandler(ResourceSubscribe.self) { params in
            guard params.uri == Self.contextURI || params.uri == Self.signalsURI || params.uri == Self.eventsURI else {
                throw MCPError.invalidParams("unknown resource '\(params.uri)'")
            }
            listen(to: subscribed.withLock { $0.insert(params.uri); return $0 })
            return Empty()
        }
        await server.withMethodHandler(ResourceUnsubscribe.self) { params in
            listen(to: subscribed.withLock { $0.remove(params.uri); return $0 })
            return Empty()
        }
        // Update notifications: the context when it changes, the signals when any does; the
        // change feed coalesces them to at most one per `minimumNotifyInterval`.
        let metrics = self.metrics
        Task { [weak server] in
            metrics.adjust(.mcp, by: 1)
            defer { metrics.adjust(.mcp, by: -1); changes.cancel() }
            var lastEvent = view.state.tracked.events.lastID
            for await batch in changes {
                guard let server else { return }
                let uris = subscribed.withLock { $0 }
                do {
                    let newest = view.state.tracked.events.lastID
                    if newest != lastEvent, uris.contains(Self.eventsURI) {
                        try await server.notify(ResourceUpdatedNotification.message(.init(uri: Self.eventsURI)))
                    }
                    lastEvent = newest
                    if batch.contextChanged, uris.contains(Self.contextURI) {
                        try await server.notify(ResourceUpdatedNotification.message(.init(uri: Self.contextURI)))
                    }
                    if !batch.changed.isEmpty || !batch.turned.isEmpty, uris.contains(Self.signalsURI) {
                        try await server.notify(ResourceUpdatedNotification.message(.init(uri: Self.signalsURI)))
                    }
                } catch { return }  // the session is gone
            }
        }
        return server
    }

    func call(_ name: String, _ arguments: [String: Value]) -> CallTool.Result {
        func ok(_ json: String) -> CallTool.Result {
            let structured = (try? JSONDecoder().decode(Value.self, from: Data(json.utf8)))
            return .init(content: [.text(text: json, annotations: nil, _meta: nil)], structuredContent: structured, isError: false)
        }
        func fail(_ message: String) -> CallTool.Result {
            .init(content: [.text(text: message, annotations: nil, _meta: nil)], isError: true)
        }
        /// The parts the tool answers with, or a refusal when the reader may have none of them.
        func parts(_ list: [DrivingContext.DerivedPart]) -> CallTool.Result {
            let denied = list.filter { view.withheldParts.contains($0.member) }
            guard denied.count < list.count else {
                return fail("the token's scopes do not cover what \(list.map(\.rawValue).joined(separator: " and ")) are made from (it may read: \(view.permittedDescription))")
            }
            return ok(view.context().partsJSON(list, withholding: view.withheldParts))
        }
        /// The context members a tool needs all of.
        func needs(_ members: [DrivingContext.Member]) -> CallTool.Result? {
            let denied = members.filter(view.withheldParts.contains)
            guard !denied.isEmpty else { return nil }
            return fail("the token's scopes do not cover the \(denied.map(\.rawValue).joined(separator: " and ")) this tool needs (it may read: \(view.permittedDescription))")
        }
        switch name {
        case "get_driving_context":
            return ok(view.contextJSON())
        case "get_trip":
            return parts([.trip, .phase])
        case "get_vehicle_status":
            return parts([.energy, .environment, .cabin])
        case "can_interrupt_driver":
            if let refusal = needs([.attention, .phase]) { return refusal }
            return ok(InterruptAdvice.advise(view.context(), settings: view.state.mapping.contextSettings.attention).json)
        case "get_signal":
            guard let v = arguments["path"] else { return fail("missing argument 'path' (a VSS path such as Vehicle.Speed)") }
            guard case .string(let path) = v else { return fail("argument 'path' must be a string") }
            guard let i = view.index(of: path) else { return fail(view.unknownPathMessage(path)) }
            guard view.isPermitted(i) else { return fail(view.refusal(path)) }
            return ok(view.signalJSON(i))
        case "recent_events":
            guard view.isPermitted(name: VehicleView.eventsPath) else { return fail(view.refusal(VehicleView.eventsPath)) }
            var limit = 20, after: UInt64 = 0
            if let v = arguments["limit"] {
                guard case .int(let n) = v, (1...VehicleEventLog.capacity).contains(n) else { return fail("argument 'limit' must be an integer from 1 to \(VehicleEventLog.capacity)") }
                limit = n
            }
            if let v = arguments["after"] {
                guard case .int(let n) = v, n >= 0 else { return fail("argument 'after' must be an event id (an integer, 0 or more)") }
                after = UInt64(n)
            }
            return ok(view.eventsJSON(after: after, limit: limit))
        case "list_signals":
            var prefix: String?
            if let v = arguments["prefix"] {
                guard case .string(let p) = v else { return fail("argument 'prefix' must be a string") }
                prefix = p
            }
            let paths = view.paths(under: prefix)
            if paths.isEmpty, let prefix { return fail("no VSS signal under '\(prefix)'") }
            let allowed = paths.filter(view.isPermitted)
            if allowed.isEmpty { return fail(view.refusal(prefix ?? "Vehicle")) }
            return ok(view.signalsJSON(allowed, withheld: paths.filter { !view.isPermitted($0) }))
        case "advise_traffic_light":
            if let refusal = needs([.speed, .location]) { return refusal }
            switch Self.trafficLightRequest(arguments) {
            case .failure(let e): return fail(e.message)
            case .success(let request):
                switch TrafficLightAdvisor.advise(request, context: view.state.context()) {
                case .failure(.unavailable(let m)), .failure(.invalid(let m)): return fail(m)
                case .success(let a): return ok(Self.json(a))
                }
            }
        default:
            return fail("unknown tool '\(name)'; tools are \(Self.tools.map(\.name).joined(separator: ", "))")
        }
    }

    struct ArgumentError: Error { var message: String }

    static func trafficLightRequest(_ a: [String: Value]) -> Result<TrafficLightAdvisor.Request, ArgumentError> {
        func number(_ v: Value?, _ what: String) -> Result<Double?, ArgumentError> {
            switch v {
            case nil, .null?: return .success(nil)
            case .int(let i)?: return .success(Double(i))
            case .double(let d)?: return d.isFinite ? .success(d) : .failure(.init(message: "\(what) must be a finite number"))
            default: return .failure(.init(message: "\(what) must be a number"))
            }
        }
        func required(_ v: Value?, _ what: String) -> Result<Double, ArgumentError> {
            number(v, what).flatMap { $0.map { .success($0) } ?? .failure(.init(message: "missing \(what)")) }
        }
        func color(_ v: Value?, _ what: String) -> Result<TrafficLightAdvisor.Phase.Color, ArgumentError> {
            guard case .string(let s)? = v else { return .failure(.init(message: "missing \(what) (red, amber or green)")) }
            let normalized = s.lowercased() == "yellow" ? "amber" : s.lowercased()
            guard let c = TrafficLightAdvisor.Phase.Color(rawValue: normalized) else { return .failure(.init(message: "\(what) must be red, amber or green, not '\(s)'")) }
            return .success(c)
        }
        do {
            guard case .object(let stop)? = a["stop_line"] else { throw ArgumentError(message: "missing stop_line {latitude, longitude}") }
            var r = TrafficLightAdvisor.Request(stopLatitude: try required(stop["latitude"], "stop_line.latitude").get(),
                                                stopLongitude: try required(stop["longitude"], "stop_line.longitude").get())
            if case .object(let current)? = a["current_phase"] {
                let remaining = try required(current["remaining_s"], "current_phase.remaining_s").get()
                guard remaining >= 0 else { throw ArgumentError(message: "current_phase.remaining_s must not be negative") }
                r.phases.append(.init(color: try color(current["color"], "current_phase.color").get(), seconds: remaining))
            } else if a["current_phase"] != nil { throw ArgumentError(message: "current_phase must be an object {color, remaining_s}") }
            if case .array(let next)? = a["next_phases"] {
                guard !r.phases.isEmpty else { throw ArgumentError(message: "next_phases needs current_phase") }
                for (i, p) in next.enumerated() {
                    guard case .object(let o) = p else { throw ArgumentError(message: "next_phases[\(i)] must be an object {color, duration_s}") }
                    let d = try required(o["duration_s"], "next_phases[\(i)].duration_s").get()
                    guard d > 0 else { throw ArgumentError(message: "next_phases[\(i)].duration_s must be above 0") }
                    r.phases.append(.init(color: try color(o["color"], "next_phases[\(i)].color").get(), seconds: d))
                }
            } else if a["next_phases"] != nil { throw ArgumentError(message: "next_phases must be an array") }
            if case .array(let windows)? = a["green_windows"] {
                for (i, w) in windows.enumerated() {
                    guard case .object(let o) = w else { throw ArgumentError(message: "green_windows[\(i)] must be an object {start_s, end_s}") }
                    let s = try required(o["start_s"], "green_windows[\(i)].start_s").get(), e = try required(o["end_s"], "green_windows[\(i)].end_s").get()
                    guard s >= 0, e > s else { throw ArgumentError(message: "green_windows[\(i)] needs 0 ≤ start_s < end_s") }
                    r.greenWindows.append(.init(start: s, end: e))
                }
            } else if a["green_windows"] != nil { throw ArgumentError(message: "green_windows must be an array") }
            guard !r.phases.isEmpty || !r.greenWindows.isEmpty else {
                throw ArgumentError(message: "give the light's schedule: current_phase (with next_phases) or green_windows")
            }
            if let limit = try number(a["speed_limit_kmh"], "speed_limit_kmh").get() { r.speedLimitKmh = limit }
            if let minimum = try number(a["min_speed_kmh"], "min_speed_kmh").get() { r.minimumSpeedKmh = minimum }
            if let announce = try number(a["announce_s"], "announce_s").get() {
                guard (0...30).contains(announce) else { throw ArgumentError(message: "announce_s must be from 0 to 30 seconds") }
                r.announceSeconds = announce
            }
            return .success(r)
        } catch let e as ArgumentError {
            return .failure(e)
        } catch {
            return .failure(.init(message: "\(error)"))
        }
    }

    static func json(_ a: TrafficLightAdvisor.Answer) -> String {
        var out = TextBuffer(capacity: 512)
        out.append("{\"distance_m\": "); out.appendJSONNumber(a.distanceMeters)
        out.append(", \"bearing_deg\": "); out.appendJSONNumber(a.bearingDegrees)
        out.append(", \"stop_line_ahead\": "); out.append(a.ahead.map { $0 ? "true" : "false" } ?? "null")
        out.append(", \"speed_kmh\": "); out.appendJSONNumber((a.speedKmh * 10).rounded() / 10)
        out.append(", \"arrival_s\": "); if let t = a.arrivalSeconds { out.appendJSONNumber(t) } else { out.append("null") }
        out.append(", \"arrives_on_green\": "); out.append(a.arrivesOnGreen ? "true" : "false")
        out.append(", \"advice\": \""); out.append(a.advice.rawValue); out.append("\"")
        out.append(", \"speed_range_kmh\": ")
        if let r = a.speedRangeKmh {
            out.append("{\"min\": "); out.appendJSONNumber(r.min); out.append(", \"max\": "); out.appendJSONNumber(r.max); out.append("}")
        } else { out.append("null") }
        out.append(", \"green_window\": ")
        if let w = a.window {
            out.append("{\"start_s\": "); out.appendJSONNumber(w.start); out.append(", \"end_s\": "); out.appendJSONNumber(w.end); out.append("}")
        } else { out.append("null") }
        out.append(", \"green_windows\": [")
        for (i, w) in a.windows.enumerated() {
            if i > 0 { out.append(", ") }
            out.append("{\"start_s\": "); out.appendJSONNumber(w.start); out.append(", \"end_s\": "); out.appendJSONNumber(w.end); out.append("}")
        }
        out.append("], \"announce_s\": "); out.appendJSONNumber(a.announceSeconds)
        out.append(", \"do_not_disturb\": "); out.append(a.doNotDisturb ? "true" : "false")
        out.append(", \"attention_reasons\": [")
        for (i, r) in a.attentionReasons.enumerated() { if i > 0 { out.append(", ") }; out.appendJSONString(r) }
        out.append("], \"explanation\": "); out.appendJSONString(a.explanation)
        out.append("}")
        return out.string
    }
}
