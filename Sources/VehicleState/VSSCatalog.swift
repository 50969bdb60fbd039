/// The VSS (4.x) leaves this gateway knows, with their datatype and unit, so a mapping that
/// misspells a path or gives it the wrong type fails at start-up. Paths outside this list need
/// `custom: true` in the mapping (an overlay, in VSS terms).
public enum VSSCatalog {
    public struct Leaf: Sendable { public var datatype: VSSDatatype; public var unit: String? }

    public static let leaves: [String: Leaf] = {
        var t: [String: Leaf] = [:]
        func add(_ path: String, _ type: VSSDatatype, _ unit: String? = nil) { t[path] = Leaf(datatype: type, unit: unit) }
        add("Vehicle.Speed", .float, "km/h")
        add("Vehicle.TraveledDistance", .float, "km")
        add("Vehicle.AverageSpeed", .float, "km/h")
        add("Vehicle.IsMoving", .boolean)
        add("Vehicle.Acceleration.Longitudinal", .float, "m/s^2")
        add("Vehicle.Acceleration.Lateral", .float, "m/s^2")
        add("Vehicle.Acceleration.Vertical", .float, "m/s^2")
        add("Vehicle.AngularVelocity.Yaw", .float, "degrees/s")
        add("Vehicle.AngularVelocity.Roll", .float, "degrees/s")
        add("Vehicle.AngularVelocity.Pitch", .float, "degrees/s")
        add("Vehicle.CurrentLocation.Latitude", .double, "deg")
        add("Vehicle.CurrentLocation.Longitude", .double, "deg")
        add("Vehicle.CurrentLocation.Heading", .double, "deg")
        add("Vehicle.CurrentLocation.Altitude", .double, "m")
        add("Vehicle.CurrentLocation.HorizontalAccuracy", .double, "m")
        add("Vehicle.CurrentLocation.VerticalAccuracy", .double, "m")
        add("Vehicle.CurrentLocation.Timestamp", .uint64, "s")
        add("Vehicle.CurrentLocation.GNSSReceiver.FixType", .uint8)
        add("Vehicle.Powertrain.Transmission.CurrentGear", .int8)
        add("Vehicle.Powertrain.Transmission.SelectedGear", .int8)
        add("Vehicle.Powertrain.Transmission.IsParkLockEngaged", .boolean)
        add("Vehicle.Powertrain.Transmission.DriveType", .uint8)
        add("Vehicle.Powertrain.Transmission.Temperature", .int16, "celsius")
        add("Vehicle.Powertrain.CombustionEngine.Speed", .uint16, "rpm")
        add("Vehicle.Powertrain.CombustionEngine.ECT", .int16, "celsius")
        add("Vehicle.Powertrain.FuelSystem.RelativeLevel", .uint8, "percent")
        add("Vehicle.Powertrain.Range", .uint32, "m")
        add("Vehicle.Chassis.SteeringWheel.Angle", .int16, "degrees")
        add("Vehicle.Chassis.Accelerator.PedalPosition", .uint8, "percent")
        add("Vehicle.Chassis.Brake.PedalPosition", .uint8, "percent")
        add("Vehicle.Chassis.Brake.IsDriverEmergencyBrakingDetected", .boolean)
        add("Vehicle.ADAS.ABS.IsEngaged", .boolean)
        add("Vehicle.ADAS.ESC.IsEngaged", .boolean)
        add("Vehicle.ADAS.CruiseControl.SpeedSet", .float, "km/h")
        add("Vehicle.ADAS.CruiseControl.IsActive", .boolean)
        add("Vehicle.Exterior.AirTemperature", .float, "celsius")
        add("Vehicle.Exterior.LightIntensity", .float, "percent")
        add("Vehicle.Body.Lights.Beam.Low.IsOn", .boolean)
        add("Vehicle.Body.Lights.Beam.High.IsOn", .boolean)
        add("Vehicle.Body.Lights.DirectionIndicator.Left.IsSignaling", .boolean)
        add("Vehicle.Body.Lights.DirectionIndicator.Right.IsSignaling", .boolean)
        add("Vehicle.Body.Lights.Hazard.IsSignaling", .boolean)
        add("Vehicle.Body.Lights.Fog.Front.IsOn", .boolean)
        add("Vehicle.Body.Lights.Fog.Rear.IsOn", .boolean)
        add("Vehicle.Body.Lights.Parking.IsOn", .boolean)
        add("Vehicle.Body.Lights.Running.IsOn", .boolean)
        add("Vehicle.Body.Trunk.Rear.IsOpen", .boolean)
        add("Vehicle.Body.Hood.IsOpen", .boolean)
        add("Vehicle.Body.Windshield.Front.Wiping.System.IsWiping", .boolean)
        add("Vehicle.Body.Raindetection.Intensity", .uint8, "percent")
        add("Vehicle.Chassis.ParkingBrake.IsEngaged", .boolean)
        for row in ["Row1", "Row2"] {
            for side in ["DriverSide", "PassengerSide"] {
                add("Vehicle.Cabin.Door.\(row).\(side).IsOpen", .boolean)
                add("Vehicle.Cabin.Door.\(row).\(side).IsLocked", .boolean)
                add("Vehicle.Cabin.Seat.\(row).\(side).IsBelted", .boolean)
                add("Vehicle.Cabin.Seat.\(row).\(side).IsOccupied", .boolean)
            }
        }
        return t
    }()

    /// The catalog path nearest to a misspelt one (edit distance at most 3), for the error.
    public static func closest(to path: String) -> String? { closest(to: path, among: leaves.keys) }

    /// The candidate nearest to `path` (edit distance at most 3).
    public static func closest(to path: String, among candidates: some Sequence<String>) -> String? {
        let a = Array(path.utf8)
        var best: (String, Int)?
        for key in candidates {
            let b = Array(key.utf8)
            guard abs(a.count - b.count) <= 3 else { continue }
            var row = Array(0...b.count)
            for i in 1...max(a.count, 1) where !a.isEmpty {
                var previous = row[0]
                row[0] = i
                for j in stride(from: 1, through: b.count, by: 1) {
                    let current = row[j]
                    row[j] = min(row[j] + 1, row[j - 1] + 1, previous + (a[i - 1] == b[j - 1] ? 0 : 1))
                    previous = current
                }
            }
            let d = row[b.count]
            if d <= 3, d < (best?.1 ?? Int.max) { best = (key, d) }
        }
        return best?.0
    }

    /// Units the catalog spells differently from the DBC convention we accept.
    static func sameUnit(_ a: String, _ b: String) -> Bool {
        let alias = ["degrees": "deg", "celsius": "degC", "percent": "%", "degrees/s": "deg/s"]
        return (alias[a] ?? a) == (alias[b] ?? b)
    }
}
