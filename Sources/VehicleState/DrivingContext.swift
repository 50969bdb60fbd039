import CANBus

/// The snapshot the assistant asks for: speed, location, gear, motion, and whether each is
/// fresh. Units are in the field names of its JSON form (`speed_kmh`, `latitude_deg`, ...).
public struct DrivingContext: Sendable, Equatable {
    public enum State: String, Sendable { case fresh, stale, unavailable }
    public enum Motion: String, Sendable { case parked, stopped, moving, reversing, unknown }
    public enum Trend: String, Sendable { case accelerating, steady, decelerating, unknown }

    public struct Part<Value: Sendable & Equatable>: Sendable, Equatable {
        public var value: Value?
        public var state: State
        /// Seconds since the value's frame (nil when unavailable).
        public var ageSeconds: Double?
        /// Silence after which the value is stale (its source's timeout).
        public var timeoutSeconds: Double? = nil

        public init(value: Value?, state: State, ageSeconds: Double?, timeoutSeconds: Double? = nil) {
            self.value = value
            self.state = state
            self.ageSeconds = ageSeconds
            self.timeoutSeconds = timeoutSeconds
        }
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

    /// The frame time this snapshot is for.
    public var time: CANTimestamp
    public var speed: Part<Double>
    public var location: Part<Location>
    public var gear: Part<Gear>
    public var motion: Motion
    public var accelerationTrend: Trend
    /// m/s², from the speed history over the last two seconds.
    public var acceleration: Double?
    public var distanceKm: Double

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
}

/// Keeps the driving context current as values arrive: motion state with hysteresis, distance
/// travelled, and the acceleration trend from a short speed history.
public struct DrivingContextTracker: Sendable {
    struct Paths: Sendable {
        var speed, latitude, longitude, heading, altitude, accuracy, currentGear, selectedGear, parkLock: Int?
    }
    let paths: Paths
    public private(set) var motion: DrivingContext.Motion = .unknown
    public private(set) var distanceKm = 0.0
    var lastSpeed: (time: Int64, kmh: Double)?

    // Hysteresis thresholds, km/h: enter moving above 2, leave below 0.5.
    static let moveEnter = 2.0, moveLeave = 0.5

    /// The paths the context is made of: when none of them changed, neither did the context.
    public var inputPaths: [Int] {
        [paths.speed, paths.latitude, paths.longitude, paths.heading, paths.altitude, paths.accuracy,
         paths.currentGear, paths.selectedGear, paths.parkLock].compactMap { $0 }
    }

    public init(mapping: CompiledMapping) {
        paths = Paths(speed: mapping.pathIndex("Vehicle.Speed"),
                      latitude: mapping.pathIndex("Vehicle.CurrentLocation.Latitude"),
                      longitude: mapping.pathIndex("Vehicle.CurrentLocation.Longitude"),
                      heading: mapping.pathIndex("Vehicle.CurrentLocation.Heading"),
                      altitude: mapping.pathIndex("Vehicle.CurrentLocation.Altitude"),
                      accuracy: mapping.pathIndex("Vehicle.CurrentLocation.HorizontalAccuracy"),
                      currentGear: mapping.pathIndex("Vehicle.Powertrain.Transmission.CurrentGear"),
                      selectedGear: mapping.pathIndex("Vehicle.Powertrain.Transmission.SelectedGear"),
                      parkLock: mapping.pathIndex("Vehicle.Powertrain.Transmission.IsParkLockEngaged"))
    }

    mutating func update(samples: [PathSample?], timeouts: [Int64], now: CANTimestamp) {
        let t = now.totalNanoseconds
        if let p = paths.speed, let s = samples[p], s.timestamp == now {
            // Distance: trapezoids between consecutive speed samples, skipping gaps over 1 s.
            if let last = lastSpeed, t > last.time, t - last.time <= 1_000_000_000 {
                distanceKm += (last.kmh + s.value) / 2 * Double(t - last.time) / 3.6e12
            }
            lastSpeed = (t, s.value)
        }
        motion = nextMotion(samples: samples, timeouts: timeouts, now: t)
    }

    /// A path's value if it is fresh at `now`.
    func value(_ samples: [PathSample?], _ timeouts: [Int64], _ path: Int?, now: Int64) -> Double? {
        guard let path, let s = samples[path], now - s.timestamp.totalNanoseconds <= timeouts[s.source] else { return nil }
        return s.value
    }

    func nextMotion(samples: [PathSample?], timeouts: [Int64], now: Int64) -> DrivingContext.Motion {
        guard let speed = value(samples, timeouts, paths.speed, now: now) else { return .unknown }
        let selected = value(samples, timeouts, paths.selectedGear, now: now)
        let current = value(samples, timeouts, paths.currentGear, now: now)
        let parkLock = value(samples, timeouts, paths.parkLock, now: now)
        let inReverse = (current.map { $0 < 0 } ?? false) || selected == -1
        let wasMoving = motion == .moving || motion == .reversing
        let moving = wasMoving ? speed > Self.moveLeave : speed > Self.moveEnter
        if moving { return inReverse ? .reversing : .moving }
        if selected == 126 || parkLock == 1 { return .parked }
        return .stopped
    }

    /// The context as of `now` (the newest frame time by default).
    public func snapshot(_ engine: VehicleStateEngine, now: CANTimestamp? = nil) -> DrivingContext {
        let now = now ?? engine.latestTime ?? CANTimestamp(seconds: 0, nanoseconds: 0)
        func part<V>(_ path: Int?, _ make: (Double) -> V?) -> DrivingContext.Part<V> {
            guard let path, let s = engine.sample(path), let v = make(s.value) else { return .init(value: nil, state: .unavailable, ageSeconds: nil) }
            let age = Double(now.totalNanoseconds - s.timestamp.totalNanoseconds) / 1e9
            let state: DrivingContext.State = engine.freshness(path, now: now) == .fresh ? .fresh : .stale
            return .init(value: v, state: state, ageSeconds: age, timeoutSeconds: Double(engine.sourceTimeout[s.source]) / 1e9)
        }
        let speed = part(paths.speed) { $0 }
        var location = part(paths.latitude) { lat -> DrivingContext.Location? in
            guard let lonPath = paths.longitude, let lon = engine.sample(lonPath)?.value else { return nil }
            return DrivingContext.Location(latitude: lat, longitude: lon,
                                           heading: paths.heading.flatMap { engine.sample($0)?.value },
                                           altitude: paths.altitude.flatMap { engine.sample($0)?.value },
                                           horizontalAccuracy: paths.accuracy.flatMap { engine.sample($0)?.value })
        }
        if let lon = paths.longitude, location.state == .fresh, engine.freshness(lon, now: now) != .fresh { location.state = .stale }
        let current = paths.currentGear.flatMap { engine.sample($0)?.value }.map { Int($0) }
        let selected = paths.selectedGear.flatMap { engine.sample($0)?.value }.map { Int($0) }
        let parkLock = paths.parkLock.flatMap { engine.sample($0)?.value }.map { $0 != 0 }
        var gear = part(paths.currentGear ?? paths.selectedGear) { _ in
            DrivingContext.Gear(current: current, selected: selected, label: Self.label(current: current, selected: selected, parkLock: parkLock),
                                parkLockEngaged: parkLock)
        }
        if let s = paths.selectedGear, gear.state == .fresh, engine.freshness(s, now: now) != .fresh { gear.state = .stale }
        let (trend, acceleration) = self.trend(engine.history[paths.speed ?? 0].samples(since: now.totalNanoseconds - 2_000_000_000), now: now)
        return DrivingContext(time: now, speed: speed, location: location, gear: gear, motion: motion,
                              accelerationTrend: trend, acceleration: acceleration, distanceKm: distanceKm)
    }

    static func label(current: Int?, selected: Int?, parkLock: Bool?) -> String? {
        guard let selected else {
            if parkLock == true { return "P" }
            return current.map { $0 < 0 ? "R" : $0 == 0 ? "N" : String($0) }
        }
        switch selected {
        case 126: return "P"
        case -1: return "R"
        case 0: return current.map { $0 < 0 ? "R" : $0 == 0 ? "N" : "D" } ?? "N"
        case 127: return current.map { $0 > 0 ? String($0) : $0 < 0 ? "R" : "D" } ?? "D"
        default: return String(selected)
        }
    }

    /// Slope of speed over the last two seconds of history (least squares), in m/s².
    func trend(_ recent: [(time: Int64, value: Double)], now: CANTimestamp) -> (DrivingContext.Trend, Double?) {
        guard paths.speed != nil else { return (.unknown, nil) }
        let window = recent.filter { $0.time <= now.totalNanoseconds }.map { ($0.time, $0.value) }
        guard window.count >= 3, let first = window.first, let last = window.last, last.0 - first.0 >= 500_000_000 else { return (.unknown, nil) }
        let n = Double(window.count)
        let xs = window.map { Double($0.0 - first.0) / 1e9 }, ys = window.map { $0.1 / 3.6 }
        let mx = xs.reduce(0, +) / n, my = ys.reduce(0, +) / n
        var sxy = 0.0, sxx = 0.0
        for (x, y) in zip(xs, ys) { sxy += (x - mx) * (y - my); sxx += (x - mx) * (x - mx) }
        guard sxx > 0 else { return (.unknown, nil) }
        let a = sxy / sxx
        return (a > 0.3 ? .accelerating : a < -0.3 ? .decelerating : .steady, a)
    }
}

extension DrivingContext {
    /// This context as of a later `now`: ages grow, and a part whose age passes its timeout
    /// turns stale (and motion, which needs fresh speed, unknown). For readers between updates.
    public func aged(to now: CANTimestamp) -> DrivingContext {
        let dt = Double(now.totalNanoseconds - time.totalNanoseconds) / 1e9
        guard dt > 0 else { return self }
        var c = self
        c.time = now
        func age<V>(_ p: inout Part<V>) {
            guard p.state != .unavailable, let a = p.ageSeconds else { return }
            p.ageSeconds = a + dt
            if let t = p.timeoutSeconds, a + dt > t { p.state = .stale }
        }
        age(&c.speed)
        age(&c.location)
        age(&c.gear)
        if c.speed.state != .fresh {
            c.motion = .unknown
            c.accelerationTrend = .unknown
            c.acceleration = nil
        }
        return c
    }
}
