import Foundation

/// Reduces the precision of positions given out, for consumers that should not get exact ones
/// (the local API's `--location-decimals`, the uplink's `location: rounded:N`): one rule for both.
public struct LocationPrecision: Sendable {
    public let decimals: Int?
    let scale: Double
    let latitudePath: Int?
    let longitudePath: Int?

    public init(decimals: Int?, mapping: CompiledMapping) {
        self.decimals = decimals
        scale = decimals.map { pow(10, Double($0)) } ?? 1
        latitudePath = mapping.pathIndex("Vehicle.CurrentLocation.Latitude")
        longitudePath = mapping.pathIndex("Vehicle.CurrentLocation.Longitude")
    }

    public func round(_ value: Double) -> Double {
        decimals == nil ? value : (value * scale).rounded() / scale
    }

    public func apply(path: Int, _ value: Double) -> Double {
        path == latitudePath || path == longitudePath ? round(value) : value
    }

    public func apply(_ context: DrivingContext) -> DrivingContext {
        guard decimals != nil, var location = context.location.value else { return context }
        var c = context
        location.latitude = round(location.latitude)
        location.longitude = round(location.longitude)
        c.location.value = location
        return c
    }
}
