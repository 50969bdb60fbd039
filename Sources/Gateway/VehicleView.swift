import CANBus
import VehicleState

/// The read-only view every API (HTTP, SSE, VISS, MCP, gRPC) renders from: values with their
/// timestamp and state, the driving context aged to now, precision applied. Nothing here can
/// write to the store or send a frame.
public final class VehicleView: Sendable {
    public let state: GatewayState
    public let precision: LocationPrecision
    let pathIndex: [String: Int]

    public init(state: GatewayState, locationDecimals: Int?) {
        self.state = state
        precision = LocationPrecision(decimals: locationDecimals, mapping: state.mapping)
        var index: [String: Int] = [:]
        for (i, p) in state.mapping.paths.enumerated() { index[p.name] = i }
        pathIndex = index
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

    /// The driving context now, precision applied.
    public func context() -> DrivingContext { precision.apply(state.context()) }

    /// Paths whose value is stale now (unavailable ones not counted).
    public func stalePathCount() -> Int { state.stalePathCount() }
}
