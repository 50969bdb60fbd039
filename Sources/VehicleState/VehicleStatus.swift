/// What a recommending assistant needs besides where the car is: energy (is a fuel or charging
/// stop due?), the environment outside (cold, dark) and the cabin (doors, belts). Each part is
/// read from the store at the reader's "now", with the state and age of the value it rests on.
public struct VehicleStatus: Sendable, Equatable {
    public struct Energy: Sendable, Equatable {
        /// Fuel level or battery state of charge, %.
        public var levelPercent: Double?
        /// Range, km.
        public var rangeKm: Double?
        /// "vehicle": the car's own estimate; "estimated": from the level and recent consumption.
        public var rangeSource: String?
        /// Below `context.energy_low_percent` of the mapping (default 15 %).
        public var low: Bool
    }

    public struct Environment: Sendable, Equatable {
        public var outsideTemperatureC: Double?
        /// Low beam on (the car's light sensor or the driver decided it is dark).
        public var dark: Bool?
        /// Nil: the car tells nothing about rain (no wiper or rain-sensor signal is mapped).
        public var raining: Bool?
    }

    public struct Cabin: Sendable, Equatable {
        /// VSS names of open doors ("Row1.DriverSide"), and "Trunk".
        public var open: [String]
        /// Seat → belted, for the seats whose belt is mapped ("Row1.DriverSide": true).
        public var belted: [Belt]

        public struct Belt: Sendable, Equatable {
            public var seat: String
            public var belted: Bool
        }
    }

    public var energy: DrivingContext.Part<Energy> = .unavailable
    public var environment: DrivingContext.Part<Environment> = .unavailable
    public var cabin: DrivingContext.Part<Cabin> = .unavailable
}

/// Where the status parts' inputs are in the mapping (nil or empty: not mapped).
public struct StatusPaths: Sendable {
    public var fuelLevel, range, airTemperature, lowBeam, trunk: Int?
    public var doors: [(name: String, path: Int)] = []
    public var belts: [(seat: String, path: Int)] = []

    public init(mapping: CompiledMapping) {
        fuelLevel = mapping.pathIndex("Vehicle.Powertrain.FuelSystem.RelativeLevel")
            ?? mapping.pathIndex("Vehicle.Powertrain.TractionBattery.StateOfCharge.Displayed")
        range = mapping.pathIndex("Vehicle.Powertrain.Range")
        airTemperature = mapping.pathIndex("Vehicle.Exterior.AirTemperature")
        lowBeam = mapping.pathIndex("Vehicle.Body.Lights.Beam.Low.IsOn")
        trunk = mapping.pathIndex("Vehicle.Body.Trunk.Rear.IsOpen")
        for row in ["Row1", "Row2"] {
            for side in ["DriverSide", "PassengerSide"] {
                if let p = mapping.pathIndex("Vehicle.Cabin.Door.\(row).\(side).IsOpen") { doors.append(("\(row).\(side)", p)) }
                if let p = mapping.pathIndex("Vehicle.Cabin.Seat.\(row).\(side).IsBelted") { belts.append(("\(row).\(side)", p)) }
            }
        }
    }

    public var inputs: [Int] {
        [fuelLevel, range, airTemperature, lowBeam, trunk].compactMap { $0 } + doors.map(\.path) + belts.map(\.path)
    }
}

/// The mapping's `context:` settings: thresholds of the derived context.
public struct ContextSettings: Sendable, Equatable {
    /// Energy is `low` below this level, %.
    public var energyLowPercent: Double = 15
    /// `break_recommended` after this much driving without a break, seconds.
    public var breakAfterSeconds: Double = 2 * 3600
    /// A stop at least this long is a break, seconds.
    public var breakMinimumSeconds: Double = 15 * 60
    /// The attention rules' thresholds.
    public var attention = AttentionSettings()
    public init() {}
}

extension VehicleStatus {
    /// The status as of `now` (frame time, ns). `estimatedRangeKm` is the tracker's estimate,
    /// used when the car gives no range.
    static func read(_ store: VehicleStateStore, _ paths: StatusPaths, settings: ContextSettings, estimatedRangeKm: Double?,
                     now: Int64) -> VehicleStatus {
        var status = VehicleStatus()
        /// The part's state and age: from the first of `anchors` that has a value.
        func part<V>(_ value: V, anchors: [Int?]) -> DrivingContext.Part<V> {
            for a in anchors {
                guard let a, let e = store.read(a) else { continue }
                var p = DrivingContext.Part(value: value, state: e.state(now: now), ageSeconds: e.ageSeconds(now: now),
                                            timeoutSeconds: Double(e.timeoutNanoseconds) / 1e9)
                p.invalidReason = e.invalidReason?.description
                return p
            }
            return .unavailable
        }
        func value(_ path: Int?) -> Double? { path.flatMap { store.read($0)?.value } }

        let level = value(paths.fuelLevel)
        let carRange = value(paths.range).map { $0 / 1000 }  // VSS Range is in m
        let range = carRange ?? estimatedRangeKm
        if level != nil || range != nil {
            let energy = Energy(levelPercent: level, rangeKm: range.map { ($0 * 10).rounded() / 10 },
                                rangeSource: carRange != nil ? "vehicle" : range != nil ? "estimated" : nil,
                                low: (level ?? 100) < settings.energyLowPercent)
            status.energy = part(energy, anchors: [paths.fuelLevel, paths.range])
        }
        let temperature = value(paths.airTemperature)
        let dark = value(paths.lowBeam).map { $0 != 0 }
        if temperature != nil || dark != nil {
            status.environment = part(Environment(outsideTemperatureC: temperature, dark: dark, raining: nil),
                                      anchors: [paths.airTemperature, paths.lowBeam])
        }
        var open: [String] = []
        for d in paths.doors where value(d.path) == 1 { open.append(d.name) }
        if value(paths.trunk) == 1 { open.append("Trunk") }
        let belted = paths.belts.compactMap { b in value(b.path).map { Cabin.Belt(seat: b.seat, belted: $0 != 0) } }
        if !paths.doors.isEmpty || !paths.belts.isEmpty, paths.doors.contains(where: { store.read($0.path) != nil })
            || paths.belts.contains(where: { store.read($0.path) != nil }) {
            status.cabin = part(Cabin(open: open, belted: belted), anchors: paths.doors.map(\.path) + paths.belts.map(\.path))
        }
        return status
    }
}
