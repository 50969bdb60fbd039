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
        /// What says so: "wipers", "rain_sensor" (both: "wipers"), nil when nothing does.
        public var rainingSource: String?
    }

    public struct Cabin: Sendable, Equatable {
        /// VSS names of open doors ("Row1.DriverSide"), and "Trunk".
        public var open: [String]
        /// Seat → belted, for the seats whose belt is mapped ("Row1.DriverSide": true).
        public var belted: [Belt]
        /// Seats the occupancy mats say are taken ("Row1.PassengerSide"), for the seats mapped.
        public var occupied: [String] = []
        /// Occupied seats whose belt is not buckled: safety first.
        public var unbelted: [String] = []

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
    public var fuelLevel, range, airTemperature, lowBeam, trunk, wiping, rainIntensity, parkingBrake: Int?
    public var doors: [(name: String, path: Int)] = []
    public var belts: [(seat: String, path: Int)] = []
    public var seats: [(seat: String, path: Int)] = []

    public init(mapping: CompiledMapping) {
        fuelLevel = mapping.pathIndex("Vehicle.Powertrain.FuelSystem.RelativeLevel")
            ?? mapping.pathIndex("Vehicle.Powertrain.TractionBattery.StateOfCharge.Displayed")
        range = mapping.pathIndex("Vehicle.Powertrain.Range")
        airTemperature = mapping.pathIndex("Vehicle.Exterior.AirTemperature")
        lowBeam = mapping.pathIndex("Vehicle.Body.Lights.Beam.Low.IsOn")
        trunk = mapping.pathIndex("Vehicle.Body.Trunk.Rear.IsOpen")
        wiping = mapping.pathIndex("Vehicle.Body.Windshield.Front.Wiping.System.IsWiping")
        rainIntensity = mapping.pathIndex("Vehicle.Body.Raindetection.Intensity")
        parkingBrake = mapping.pathIndex("Vehicle.Chassis.ParkingBrake.IsEngaged")
        for row in ["Row1", "Row2"] {
            for side in ["DriverSide", "PassengerSide"] {
                if let p = mapping.pathIndex("Vehicle.Cabin.Door.\(row).\(side).IsOpen") { doors.append(("\(row).\(side)", p)) }
                if let p = mapping.pathIndex("Vehicle.Cabin.Seat.\(row).\(side).IsBelted") { belts.append(("\(row).\(side)", p)) }
                if let p = mapping.pathIndex("Vehicle.Cabin.Seat.\(row).\(side).IsOccupied") { seats.append(("\(row).\(side)", p)) }
            }
        }
    }

    public var inputs: [Int] {
        [fuelLevel, range, airTemperature, lowBeam, trunk, wiping, rainIntensity, parkingBrake].compactMap { $0 }
            + doors.map(\.path) + belts.map(\.path) + seats.map(\.path)
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
    /// The rain sensor says it rains from this intensity, %.
    public var rainSensorPercent: Double = 10
    /// The attention rules' thresholds.
    public var attention = AttentionSettings()
    /// The phase rules' thresholds.
    public var phase = PhaseSettings()
    public init() {}
}

extension VehicleStatus {
    /// Whether it rains, and what says so: the wipers wiping, or the rain sensor at or above
    /// `sensorPercent`. Nil when neither is known. The one rule for the context and its events.
    public static func raining(wiping: Bool?, rainIntensity: Double?, sensorPercent: Double) -> (raining: Bool, source: String)? {
        if wiping == true { return (true, "wipers") }
        if let r = rainIntensity, r >= sensorPercent { return (true, "rain_sensor") }
        if wiping != nil { return (false, "wipers") }
        if rainIntensity != nil { return (false, "rain_sensor") }
        return nil
    }
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
        let rain = raining(wiping: value(paths.wiping).map { $0 != 0 }, rainIntensity: value(paths.rainIntensity),
                           sensorPercent: settings.rainSensorPercent)
        if temperature != nil || dark != nil || rain != nil {
            status.environment = part(Environment(outsideTemperatureC: temperature, dark: dark, raining: rain?.raining, rainingSource: rain?.source),
                                      anchors: [paths.airTemperature, paths.lowBeam, paths.wiping, paths.rainIntensity])
        }
        var open: [String] = []
        for d in paths.doors where value(d.path) == 1 { open.append(d.name) }
        if value(paths.trunk) == 1 { open.append("Trunk") }
        let belted = paths.belts.compactMap { b in value(b.path).map { Cabin.Belt(seat: b.seat, belted: $0 != 0) } }
        let occupied = paths.seats.compactMap { s in value(s.path) == 1 ? s.seat : nil }
        let unbelted = occupied.filter { seat in belted.contains { $0.seat == seat && !$0.belted } }
        let anchors = paths.doors.map(\.path) + paths.belts.map(\.path) + paths.seats.map(\.path)
        if anchors.contains(where: { store.read($0) != nil }) {
            var cabin = Cabin(open: open, belted: belted)
            cabin.occupied = occupied
            cabin.unbelted = unbelted
            status.cabin = part(cabin, anchors: anchors)
        }
        return status
    }
}
