import CANBus

/// The snapshot the assistant asks for: speed, location, gear, motion, and whether each is
/// fresh. Units are in the field names of its JSON form (`speed_kmh`, `latitude_deg`, ...).
public struct DrivingContext: Sendable, Equatable {
    public enum Motion: String, Sendable, CaseIterable { case parked, stopped, moving, reversing, unknown }
    public enum Trend: String, Sendable, CaseIterable { case accelerating, steady, decelerating, unknown }

    public struct Part<Value: Sendable & Equatable>: Sendable, Equatable {
        public var value: Value?
        public var state: ValueState
        /// Seconds since the value's frame (nil when unavailable).
        public var ageSeconds: Double?
        /// Silence after which the value is stale (its source's timeout).
        public var timeoutSeconds: Double? = nil
        /// Why it is `invalid`: checksum, counter, repeated or implausible.
        public var invalidReason: String? = nil

        public init(value: Value?, state: ValueState, ageSeconds: Double?, timeoutSeconds: Double? = nil) {
            self.value = value
            self.state = state
            self.ageSeconds = ageSeconds
            self.timeoutSeconds = timeoutSeconds
        }

        public static var unavailable: Part { Part(value: nil, state: .unavailable, ageSeconds: nil) }
    }

    public struct Location: Sendable, Equatable {
        public var latitude: Double
        public var longitude: Double
        public var heading: Double?
        public var altitude: Double?
        public var horizontalAccuracy: Double?

        public init(latitude: Double, longitude: Double, heading: Double? = nil, altitude: Double? = nil, horizontalAccuracy: Double? = nil) {
            self.latitude = latitude
            self.longitude = longitude
            self.heading = heading
            self.altitude = altitude
            self.horizontalAccuracy = horizontalAccuracy
        }
    }

    public struct Gear: Sendable, Equatable {
        public var current: Int?
        public var selected: Int?
        /// P, R, N, D, or the forward gear number.
        public var label: String?
        public var parkLockEngaged: Bool?
    }

    /// The trip since the car last left park.
    public struct Trip: Sendable, Equatable {
        /// Frame time (ns) the car left park.
        public var startNanoseconds: Int64
        /// Time not parked since (stops at lights included), s.
        public var drivingSeconds: Double
        public var distanceKm: Double
        /// Moves that came to a stop.
        public var stops: Int
        /// Driving time since the last break (a stop of 15 min or more) or the start, s.
        public var secondsSinceBreak: Double
        /// `secondsSinceBreak` reached the mapping's `context.break_after_min` (default 120).
        public var breakRecommended = false
        public var averageSpeedKmh: Double? { drivingSeconds >= 1 ? distanceKm / (drivingSeconds / 3600) : nil }
    }

    /// The frame time this snapshot is for.
    public var time: CANTimestamp
    public var speed: Part<Double>
    public var location: Part<Location>
    public var gear: Part<Gear>
    public var motion: Motion
    public var accelerationTrend: Trend
    /// m/s², from the speed over the last two seconds.
    public var acceleration: Double?
    public var distanceKm: Double
    /// Energy, environment and cabin.
    public var status = VehicleStatus()
    /// Since the car last left park; its state is the speed's.
    public var trip: Part<Trip> = .unavailable
    /// The driver's workload now; its state is the speed's.
    public var attention: Part<Attention> = .unavailable
    /// Where the car is in its drive, and for how long (s); its state is the speed's.
    public var phase: Part<PhaseNow> = .unavailable

    public struct PhaseNow: Sendable, Equatable {
        public var phase: DrivingPhase
        /// Seconds since this phase began (frame time).
        public var seconds: Double
    }

    public init(time: CANTimestamp, speed: Part<Double>, location: Part<Location>, gear: Part<Gear>, motion: Motion,
                accelerationTrend: Trend, acceleration: Double?, distanceKm: Double) {
        self.time = time
        self.speed = speed
        self.location = location
        self.gear = gear
        self.motion = motion
        self.accelerationTrend = accelerationTrend
        self.acceleration = acceleration
        self.distanceKm = distanceKm
    }

    /// Every part unavailable: the context before any frame.
    public static func unavailable(at time: CANTimestamp) -> DrivingContext {
        DrivingContext(time: time, speed: .unavailable, location: .unavailable, gear: .unavailable, motion: .unknown,
                       accelerationTrend: .unknown, acceleration: nil, distanceKm: 0)
    }
}

/// VSS's encoding of `Vehicle.Powertrain.Transmission.SelectedGear` beyond gear numbers
/// (negative: reverse gears, 0: neutral).
public enum VSSSelectedGear {
    public static let park = 126
    public static let drive = 127
}

/// Where the context's inputs are in the mapping (nil: not mapped).
public struct ContextPaths: Sendable {
    public var speed, latitude, longitude, heading, altitude, accuracy, currentGear, selectedGear, parkLock: Int?

    public init(mapping: CompiledMapping) {
        speed = mapping.pathIndex("Vehicle.Speed")
        latitude = mapping.pathIndex("Vehicle.CurrentLocation.Latitude")
        longitude = mapping.pathIndex("Vehicle.CurrentLocation.Longitude")
        heading = mapping.pathIndex("Vehicle.CurrentLocation.Heading")
        altitude = mapping.pathIndex("Vehicle.CurrentLocation.Altitude")
        accuracy = mapping.pathIndex("Vehicle.CurrentLocation.HorizontalAccuracy")
        currentGear = mapping.pathIndex("Vehicle.Powertrain.Transmission.CurrentGear")
        selectedGear = mapping.pathIndex("Vehicle.Powertrain.Transmission.SelectedGear")
        parkLock = mapping.pathIndex("Vehicle.Powertrain.Transmission.IsParkLockEngaged")
        status = StatusPaths(mapping: mapping)
        settings = mapping.contextSettings
        steering = mapping.pathIndex("Vehicle.Chassis.SteeringWheel.Angle")
        indicatorLeft = mapping.pathIndex("Vehicle.Body.Lights.DirectionIndicator.Left.IsSignaling")
        indicatorRight = mapping.pathIndex("Vehicle.Body.Lights.DirectionIndicator.Right.IsSignaling")
    }

    /// Energy, environment and cabin inputs.
    public var status: StatusPaths
    public var settings: ContextSettings
    /// What the attention and the phase also read.
    public var steering, indicatorLeft, indicatorRight: Int?

    /// The mapped paths a part of the context is made from: a reader that may not read all of
    /// them may not have the part (the trip, say, tells where the car went by its speed, gear and
    /// time; the attention says when the position was lost).
    public func inputs(of part: DrivingContext.Member) -> [Int] {
        let location = [latitude, longitude, heading, altitude, accuracy].compactMap { $0 }
        let gear = [currentGear, selectedGear, parkLock].compactMap { $0 }
        let speed = [self.speed].compactMap { $0 }
        switch part {
        case .speed, .acceleration, .distance: return speed
        case .location: return location
        case .gear: return gear
        case .motion, .trip: return speed + gear
        case .attention: return speed + gear + location + [steering, indicatorLeft, indicatorRight].compactMap { $0 }
        case .phase: return speed + gear + location + [status.parkingBrake].compactMap { $0 }
        case .energy: return speed + [status.fuelLevel, status.range].compactMap { $0 }
        case .environment: return [status.airTemperature, status.lowBeam, status.wiping, status.rainIntensity].compactMap { $0 }
        case .cabin: return [status.trunk].compactMap { $0 } + status.doors.map(\.path) + status.belts.map(\.path) + status.seats.map(\.path)
        }
    }

    /// The paths the context is made of: when none of them changed, neither did the context
    /// (`status.inputs` too, for energy, environment and cabin).
    public var inputs: [Int] {
        [speed, latitude, longitude, heading, altitude, accuracy, currentGear, selectedGear, parkLock].compactMap { $0 }
    }
}

extension DrivingContext {
    /// The context as of `now` (frame time, ns): the values in the store, each with its state
    /// and age at that moment, and what the tracker derived. Readers on any thread call this;
    /// a reading that overlapped a write to an input is read again, so latitude and longitude
    /// come from the same frame.
    public static func read(store: VehicleStateStore, tracked: TrackedContext, paths: ContextPaths, now: Int64) -> DrivingContext {
        var context = readOnce(store, tracked, paths, now)
        for _ in 0..<3 {
            let version = store.version
            context = readOnce(store, tracked, paths, now)
            if store.version == version { break }
        }
        return context
    }

    static func readOnce(_ store: VehicleStateStore, _ tracked: TrackedContext, _ paths: ContextPaths, _ now: Int64) -> DrivingContext {
        func part<V>(_ path: Int?, _ make: (Double) -> V?) -> Part<V> {
            guard let path, let e = store.read(path), let v = make(e.value) else { return .unavailable }
            var p = Part(value: v, state: e.state(now: now), ageSeconds: e.ageSeconds(now: now),
                         timeoutSeconds: Double(e.timeoutNanoseconds) / 1e9)
            p.invalidReason = e.invalidReason?.description
            return p
        }
        func value(_ path: Int?) -> Double? { path.flatMap { store.read($0)?.value } }
        func state(_ path: Int?) -> ValueState? { path.flatMap { store.read($0)?.state(now: now) } }

        let speed = part(paths.speed) { $0 }
        var location = part(paths.latitude) { lat -> Location? in
            guard let lon = value(paths.longitude) else { return nil }
            return Location(latitude: lat, longitude: lon, heading: value(paths.heading), altitude: value(paths.altitude),
                            horizontalAccuracy: value(paths.accuracy))
        }
        if location.state == .fresh, let s = state(paths.longitude), s != .fresh {
            location.state = s
            location.invalidReason = paths.longitude.flatMap { store.read($0)?.invalidReason?.description }
        }
        let current = value(paths.currentGear).map { Int($0) }
        let selected = value(paths.selectedGear).map { Int($0) }
        let parkLock = value(paths.parkLock).map { $0 != 0 }
        var gear = part(paths.currentGear ?? paths.selectedGear) { _ in
            Gear(current: current, selected: selected, label: gearLabel(current: current, selected: selected, parkLock: parkLock),
                 parkLockEngaged: parkLock)
        }
        if gear.state == .fresh, let s = state(paths.selectedGear), s != .fresh {
            gear.state = s
            gear.invalidReason = paths.selectedGear.flatMap { store.read($0)?.invalidReason?.description }
        }
        var context = DrivingContext(time: CANTimestamp(totalNanoseconds: now, fractionDigits: 6), speed: speed, location: location,
                                     gear: gear, motion: tracked.motion, accelerationTrend: tracked.trend,
                                     acceleration: tracked.acceleration, distanceKm: tracked.distanceKm)
        context.status = VehicleStatus.read(store, paths.status, settings: paths.settings, estimatedRangeKm: tracked.estimatedRangeKm, now: now)
        if let attention = tracked.attention {
            context.attention = Part(value: attention, state: speed.state, ageSeconds: speed.ageSeconds)
        }
        if let (phase, since) = tracked.phase {
            context.phase = Part(value: PhaseNow(phase: phase, seconds: max(0, Double(now - since) / 1e9)),
                                 state: speed.state, ageSeconds: speed.ageSeconds)
        }
        if var trip = tracked.trip {
            trip.breakRecommended = trip.secondsSinceBreak >= paths.settings.breakAfterSeconds
            context.trip = Part(value: trip, state: speed.state, ageSeconds: speed.ageSeconds)
        }
        // Motion and the trend need a current speed.
        if speed.state != .fresh {
            context.motion = .unknown
            context.accelerationTrend = .unknown
            context.acceleration = nil
        }
        return context
    }

    /// P, R, N, D or the forward gear, from the lever, the gear engaged and the park lock.
    static func gearLabel(current: Int?, selected: Int?, parkLock: Bool?) -> String? {
        guard let selected else {
            if parkLock == true { return "P" }
            return current.map { $0 < 0 ? "R" : $0 == 0 ? "N" : String($0) }
        }
        switch selected {
        case VSSSelectedGear.park: return "P"
        case VSSSelectedGear.drive: return current.map { $0 > 0 ? String($0) : $0 < 0 ? "R" : "D" } ?? "D"
        case 0: return current.map { $0 < 0 ? "R" : $0 == 0 ? "N" : "D" } ?? "N"
        case ..<0: return "R"
        default: return String(selected)
        }
    }
}
