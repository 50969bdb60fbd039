import CANBus
import VehicleState

/// The read-only view every API (HTTP, SSE, VISS, MCP, gRPC) renders from: values with their
/// timestamp and state, the driving context aged to now, precision applied. Nothing here can
/// write to the store or send a frame.
public final class VehicleView: Sendable {
    public let state: GatewayState
    public let precision: LocationPrecision
    let pathIndex: [String: Int]
    /// The paths this view may give out (nil: every path): a reader's token's scopes.
    public let permitted: PathSet?
    /// The parts of the driving context it may not give out: not all their inputs are permitted.
    public let withheldParts: Set<DrivingContext.Member>
    /// What it may read, as the reader's scopes say it (for refusals).
    public let permittedDescription: String
    /// The reader's rule for names that are not mapped paths (`Vehicle.Private.Events`).
    let allowsName: (@Sendable (String) -> Bool)?

    public init(state: GatewayState, locationDecimals: Int?) {
        self.state = state
        precision = LocationPrecision(decimals: locationDecimals, mapping: state.mapping)
        var index: [String: Int] = [:]
        for (i, p) in state.mapping.paths.enumerated() { index[p.name] = i }
        pathIndex = index
        permitted = nil
        withheldParts = []
        permittedDescription = "everything"
        allowsName = nil
    }

    init(_ base: VehicleView, permitted: PathSet, described: String, allows: @escaping @Sendable (String) -> Bool) {
        state = base.state
        precision = base.precision
        pathIndex = base.pathIndex
        self.permitted = permitted
        withheldParts = Set(DrivingContext.Member.allCases.filter { part in
            !base.state.contextPaths.inputs(of: part).allSatisfy(permitted.contains)
        })
        permittedDescription = described
        allowsName = allows
    }

    /// The same view for a reader who may read only the paths `allows` accepts (by name);
    /// `described` says what those are, for refusals.
    public func limited(described: String, _ allows: @escaping @Sendable (String) -> Bool) -> VehicleView {
        VehicleView(self, permitted: PathSet(count: paths.count, paths.indices.filter { allows(paths[$0].name) }), described: described,
                    allows: allows)
    }

    /// Whether this view may give out `path`.
    @inline(__always) public func isPermitted(_ path: Int) -> Bool { permitted?.contains(path) ?? true }

    /// Whether it may give out `name` (a mapped path, or a private one such as the events).
    public func isPermitted(name: String) -> Bool {
        if let i = pathIndex[name] { return isPermitted(i) }
        return allowsName?(name) ?? true
    }

    /// "the token's scopes do not cover 'X' (it may read: ...)".
    public func refusal(_ name: String) -> String {
        "the token's scopes do not cover '\(name)' (it may read: \(permittedDescription))"
    }

    public var paths: [CompiledMapping.Path] { state.mapping.paths }

    public func index(of path: String) -> Int? { pathIndex[path] }

    /// "unknown VSS path 'X'" with the nearest mapped path, for errors.
    public func unknownPathMessage(_ path: String) -> String {
        var m = "unknown VSS path '\(path)'"
        if let near = VSSCatalog.closest(to: path, among: pathIndex.keys) { m += "; did you mean '\(near)'?" }
        return m
    }

    /// Mapped paths equal to `prefix` or below it (all when nil or empty).
    public func paths(under prefix: String?) -> [Int] {
        guard let prefix, !prefix.isEmpty else { return Array(paths.indices) }
        return paths.indices.filter { paths[$0].name == prefix || paths[$0].name.hasPrefix(prefix + ".") }
    }

    /// A path's value (precision applied), its state and timing, as of now.
    public struct Reading: Sendable {
        public var value: Double?
        public var state: ValueState
        public var timestampNanoseconds: Int64?
        public var ageSeconds: Double?
        public var receivedNanoseconds: Int64?
        public var version: UInt64
        /// Why the value is `invalid` (its message failed a check, or the value was implausible).
        public var invalidReason: String? = nil
    }

    public func reading(_ path: Int) -> Reading {
        guard let r = state.read(path) else {
            return Reading(value: nil, state: .unavailable, timestampNanoseconds: nil, ageSeconds: nil, receivedNanoseconds: nil, version: 0)
        }
        return Reading(value: precision.apply(path: path, DrivingContext.clean(r.entry.value)), state: r.state,
                       timestampNanoseconds: r.entry.timestampNanoseconds, ageSeconds: r.ageSeconds,
                       receivedNanoseconds: r.entry.receivedNanoseconds, version: r.entry.version,
                       invalidReason: r.entry.invalidReason?.description)
    }

    /// The driving context now, precision applied (`withheldParts` still in it: JSON and the
    /// tools leave them out).
    public func context() -> DrivingContext { precision.apply(state.context()) }

    /// Paths whose value is stale now (unavailable ones not counted).
    public func stalePathCount() -> Int { state.stalePathCount() }
}
