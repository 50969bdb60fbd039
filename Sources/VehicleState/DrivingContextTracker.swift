import Atomics

/// What the frame path derives for the driving context and readers cannot: motion with
/// hysteresis, distance travelled and the acceleration trend. Written by the tracker, read
/// by anyone (each value on its own: a reader may see a new distance with the previous motion).
public final class TrackedContext: @unchecked Sendable {
    // Unmanaged atomics: the frame path writes them as speed frames arrive.
    let motionWord = UnsafeAtomic<UInt8>.create(0)
    let trendWord = UnsafeAtomic<UInt8>.create(0)
    let distanceBits = UnsafeAtomic<UInt64>.create(0)
    let accelerationBits = UnsafeAtomic<UInt64>.create(Double.nan.bitPattern)
    // The trip (frame times in ns; 0: no trip yet).
    let tripStartWord = UnsafeAtomic<Int64>.create(0)
    let tripDrivingWord = UnsafeAtomic<Int64>.create(0)
    let tripDrivingAtBreakWord = UnsafeAtomic<Int64>.create(0)
    let tripDistanceStartBits = UnsafeAtomic<UInt64>.create(0)
    let tripStopsWord = UnsafeAtomic<Int64>.create(0)
    let estimatedRangeBits = UnsafeAtomic<UInt64>.create(Double.nan.bitPattern)
    /// `Attention.code`; UInt32.max while unknown (no speed yet).
    let attentionWord = UnsafeAtomic<UInt32>.create(.max)
    /// `DrivingPhase.code` (UInt8.max while unknown) and the frame time it began.
    let phaseWord = UnsafeAtomic<UInt8>.create(.max)
    let phaseSinceWord = UnsafeAtomic<Int64>.create(0)
    /// Moments an assistant can act on (parked, departed, tunnel entered, ...).
    public let events = VehicleEventLog()

    public init() {}

    deinit {
        motionWord.destroy()
        trendWord.destroy()
        distanceBits.destroy()
        accelerationBits.destroy()
        tripStartWord.destroy()
        tripDrivingWord.destroy()
        tripDrivingAtBreakWord.destroy()
        tripDistanceStartBits.destroy()
        tripStopsWord.destroy()
        estimatedRangeBits.destroy()
        attentionWord.destroy()
        phaseWord.destroy()
        phaseSinceWord.destroy()
    }

    /// The phase of the drive and the frame time (ns) it began; nil while unknown.
    public var phase: (phase: DrivingPhase, since: Int64)? {
        let since = phaseSinceWord.load(ordering: .relaxed)
        guard let p = DrivingPhase(code: phaseWord.load(ordering: .relaxed)) else { return nil }
        return (p, since)
    }

    /// The driver's workload as the tracker last judged it; nil before it could.
    public var attention: Attention? {
        let code = attentionWord.load(ordering: .relaxed)
        return code == .max ? nil : Attention(code: code)
    }

    /// The trip since the car last left park, as the tracker last saw it; nil before any.
    public var trip: DrivingContext.Trip? {
        let start = tripStartWord.load(ordering: .relaxed)
        guard start != 0 else { return nil }
        let driving = tripDrivingWord.load(ordering: .relaxed)
        return DrivingContext.Trip(startNanoseconds: start, drivingSeconds: Double(driving) / 1e9,
                                   distanceKm: max(0, distanceKm - Double(bitPattern: tripDistanceStartBits.load(ordering: .relaxed))),
                                   stops: Int(tripStopsWord.load(ordering: .relaxed)),
                                   secondsSinceBreak: Double(driving - tripDrivingAtBreakWord.load(ordering: .relaxed)) / 1e9)
    }

    /// Range estimated from the level and the distance driven on it, km; nil while unknown.
    public var estimatedRangeKm: Double? {
        let r = Double(bitPattern: estimatedRangeBits.load(ordering: .relaxed))
        return r.isNaN ? nil : r
    }

    public var motion: DrivingContext.Motion { DrivingContext.Motion(code: motionWord.load(ordering: .relaxed)) }
    public var trend: DrivingContext.Trend { DrivingContext.Trend(code: trendWord.load(ordering: .relaxed)) }
    public var distanceKm: Double { Double(bitPattern: distanceBits.load(ordering: .relaxed)) }
    /// m/s²; nil while unknown.
    public var acceleration: Double? {
        let a = Double(bitPattern: accelerationBits.load(ordering: .relaxed))
        return a.isNaN ? nil : a
    }

    func store(motion: DrivingContext.Motion) { motionWord.store(motion.code, ordering: .relaxed) }
    func store(trend: DrivingContext.Trend, acceleration: Double?) {
        trendWord.store(trend.code, ordering: .relaxed)
        accelerationBits.store((acceleration ?? .nan).bitPattern, ordering: .relaxed)
    }
    func store(distanceKm: Double) { distanceBits.store(distanceKm.bitPattern, ordering: .relaxed) }
}

/// The derived values as small numbers, for atomic words.
extension DrivingContext.Motion {
    var code: UInt8 {
        switch self { case .unknown: 0; case .parked: 1; case .stopped: 2; case .moving: 3; case .reversing: 4 }
    }
    init(code: UInt8) {
        switch code { case 1: self = .parked; case 2: self = .stopped; case 3: self = .moving; case 4: self = .reversing; default: self = .unknown }
    }
}

extension DrivingContext.Trend {
    var code: UInt8 {
        switch self { case .unknown: 0; case .accelerating: 1; case .steady: 2; case .decelerating: 3 }
    }
    init(code: UInt8) {
        switch code { case 1: self = .accelerating; case 2: self = .steady; case 3: self = .decelerating; default: self = .unknown }
    }
}

/// Keeps the derived part of the driving context current, on the frame path, after each frame
/// that changed one of the context's inputs: motion state with hysteresis, distance travelled
/// (the speed integrated), and the acceleration trend (the slope of the last two seconds of speed).
/// It reads the inputs from the store; it owns nothing the engine owns.
public struct DrivingContextTracker: Sendable {
    public let paths: ContextPaths
    public let output: TrackedContext
    /// Per mapped path: whether the context is made from it.
    /// Per mapped path: 1 the tracker works from it, 2 only the context's JSON shows it, 0 neither.
    let isInputPath: [UInt8]
    var motion: DrivingContext.Motion = .unknown
    var distanceKm = 0.0
    var lastSpeed: (time: Int64, kmh: Double)?
    /// The speed samples of the trend window, oldest first: a ring, and running least-squares
    /// sums over it (x in seconds from `sumsBase`), kept as samples enter and leave.
    var speedTimes: [Int64]
    var speedValues: [Double]
    var speedFirst = 0, speedCount = 0
    var sums = (n: 0.0, x: 0.0, y: 0.0, xy: 0.0, xx: 0.0)
    var sumsBase: Int64 = 0
    // The trip: see `updateTrip`.
    let settings: ContextSettings
    let status: StatusPaths
    var tripStart: Int64 = 0
    var tripDriving: Int64 = 0, tripDrivingAtBreak: Int64 = 0
    var tripStops = 0
    var lastTripUpdate: Int64 = 0
    var haltedSince: Int64 = 0
    var parkedSinceDeparture = false
    /// Consumption: the level and distance when the estimate's run began.
    var levelMark: (level: Double, distance: Double)?
    var nextLevelCheckKm = 0.0
    var attention: AttentionTracker
    var phase: PhaseTracker
    var lastAttention: Int64 = .min / 2
    /// The trend's acceleration as last computed (per speed sample), for the attention rules.
    var lastAcceleration: Double?
    // Edges the events are made of.
    var announcedPark = true
    var wasRaining: Bool?
    var positionWasLost = false, energyWasLow = false, breakWasDue = false, doorWasOpenMoving = false, wasBrakingHard = false
    let steeringPath: Int?, indicatorLeft: Int?, indicatorRight: Int?

    /// Hysteresis, km/h: moving above 2, stopped again below 0.5, so it does not flicker at 0.
    static let moveEnter = 2.0, moveLeave = 0.5
    /// The trend is the least-squares slope of speed over this window.
    static let trendWindow: Int64 = 2_000_000_000
    /// The sums restart from the window's samples this often, so rounding cannot build up.
    static let rebaseInterval: Int64 = 60_000_000_000
    /// Within ±0.3 m/s² the car holds its speed.
    static let steadyLimit = 0.3
    static let ringCapacity = 1024

    public init(mapping: CompiledMapping, output: TrackedContext = TrackedContext()) {
        self.output = output
        paths = ContextPaths(mapping: mapping)
        settings = mapping.contextSettings
        status = StatusPaths(mapping: mapping)
        attention = AttentionTracker(settings: mapping.contextSettings.attention)
        phase = PhaseTracker(settings: mapping.contextSettings.phase)
        steeringPath = mapping.pathIndex("Vehicle.Chassis.SteeringWheel.Angle")
        indicatorLeft = mapping.pathIndex("Vehicle.Body.Lights.DirectionIndicator.Left.IsSignaling")
        indicatorRight = mapping.pathIndex("Vehicle.Body.Lights.DirectionIndicator.Right.IsSignaling")
        // Motion, distance, trend, trip and attention move with the speed, gear and position;
        // steering and indicators are read when they do. Energy, environment and cabin are
        // read by readers: their changes only mark the context changed.
        var inputs = [UInt8](repeating: 0, count: mapping.paths.count)
        for p in status.inputs + [steeringPath, indicatorLeft, indicatorRight].compactMap({ $0 }) { inputs[p] = 2 }
        for p in paths.inputs where !status.inputs.contains(p) { inputs[p] = 1 }
        isInputPath = inputs
        speedTimes = Array(repeating: 0, count: Self.ringCapacity)
        speedValues = Array(repeating: 0, count: Self.ringCapacity)
    }

    /// Whether path `path` (index into the mapping's paths) is one the context is made of.
    @inline(__always) public func isInput(_ path: Int) -> Bool { isInputPath[path] == 1 }

    /// Whether a change of path `path` changes the context without the tracker having to run
    /// (energy, environment, cabin, steering, indicators).
    @inline(__always) public func isShownInput(_ path: Int) -> Bool { isInputPath[path] == 2 }

    /// After a frame at `now` (frame time, ns) changed some of the context's inputs;
    /// `speedChanged` when one of them was the speed.
    public mutating func update(store: VehicleStateStore, speedChanged: Bool, now: Int64) {
        if speedChanged, let p = paths.speed, let e = store.read(p), e.timestampNanoseconds == now {
            // Distance: trapezoids between consecutive speed samples, skipping gaps over 1 s.
            if let last = lastSpeed, now > last.time, now - last.time <= 1_000_000_000 {
                distanceKm += (last.kmh + e.value) / 2 * Double(now - last.time) / 3.6e12
                output.store(distanceKm: distanceKm)
            }
            lastSpeed = (now, e.value)
            appendSpeed(time: now, kmh: e.value)
            let (trend, acceleration) = self.trend()
            lastAcceleration = acceleration
            output.store(trend: trend, acceleration: acceleration)
        }
        let next = nextMotion(store, now: now)
        updateTrip(from: motion, to: next, now: now)
        // Attention: at most every 100 ms of frame time, and whenever the motion changes.
        if next != motion || now - lastAttention >= 100_000_000 {
            lastAttention = now
            updateAttention(store, from: motion, to: next, now: now)
        }
        if distanceKm >= nextLevelCheckKm { estimateRange(store) }
        if next != motion {
            // Parked after moving (not the state the car was found in at start).
            if next == .parked, !announcedPark { announcedPark = true; output.events.append(.parked, at: now) }
            if next == .stopped, motion == .moving || motion == .reversing { output.events.append(.stopped, at: now) }
            motion = next
            output.store(motion: next)
        }
    }

    /// The trip since the car last left park: it starts when the car moves after being parked
    /// (or at the first movement seen); driving time counts while it is not parked (stops at
    /// lights included); a stop of at least `breakMinimumSeconds` is a break; `stops` counts
    /// the moves that came to a stop. Frame time throughout; gaps over a second do not count.
    mutating func updateTrip(from previous: DrivingContext.Motion, to next: DrivingContext.Motion, now: Int64) {
        let moving = next == .moving || next == .reversing
        let wasMoving = previous == .moving || previous == .reversing
        if tripStart != 0, lastTripUpdate != 0, now > lastTripUpdate, now - lastTripUpdate <= 1_000_000_000,
           wasMoving || previous == .stopped {
            tripDriving += now - lastTripUpdate
        }
        lastTripUpdate = now
        if next == .parked { parkedSinceDeparture = true }
        if moving, !wasMoving {
            if tripStart == 0 || parkedSinceDeparture {
                // Departure after park (or the first movement seen): a new trip.
                tripStart = now
                tripDriving = 0
                tripDrivingAtBreak = 0
                tripStops = 0
                output.tripDistanceStartBits.store(distanceKm.bitPattern, ordering: .relaxed)
                output.tripStartWord.store(now, ordering: .relaxed)
                output.events.append(.departed, at: now)
                announcedPark = false
            } else if haltedSince != 0, Double(now - haltedSince) / 1e9 >= settings.breakMinimumSeconds {
                tripDrivingAtBreak = tripDriving
            }
            parkedSinceDeparture = false
            haltedSince = 0
        } else if !moving, wasMoving {
            haltedSince = now
            if next == .stopped { tripStops += 1 }
        }
        guard tripStart != 0 else { return }
        output.tripDrivingWord.store(tripDriving, ordering: .relaxed)
        output.tripDrivingAtBreakWord.store(tripDrivingAtBreak, ordering: .relaxed)
        output.tripStopsWord.store(Int64(tripStops), ordering: .relaxed)
    }

    /// The driver's workload from the motion, speed, acceleration, steering, indicators and
    /// whether the position is current (see `Attention`).
    mutating func updateAttention(_ store: VehicleStateStore, from previous: DrivingContext.Motion, to next: DrivingContext.Motion, now: Int64) {
        // Without a current speed neither can be judged: both keep their last value, which
        // readers show with the speed's state (stale or invalid), as every other part.
        guard next != .unknown else { return }
        let speed = freshValue(store, paths.speed, now: now)
        if phase.update(motion: next, speedKmh: speed, heading: freshValue(store, paths.heading, now: now),
                        parkingBrake: freshValue(store, status.parkingBrake, now: now).map { $0 != 0 },
                        gearKnown: [paths.selectedGear, paths.parkLock].contains { freshValue(store, $0, now: now) != nil }, now: now) {
            output.phaseSinceWord.store(phase.since, ordering: .relaxed)
            output.phaseWord.store(phase.current?.code ?? .max, ordering: .relaxed)
        }
        let indicator = (freshValue(store, indicatorLeft, now: now) ?? 0) != 0 || (freshValue(store, indicatorRight, now: now) ?? 0) != 0
        let positionLost = paths.latitude.map { store.read($0)?.state(now: now) != .fresh } ?? false
        let acceleration = lastAcceleration
        noteEvents(store, motion: next, positionLost: positionLost, acceleration: acceleration, now: now)
        if attention.update(motion: next, previous: previous, speedKmh: speed,
                            acceleration: acceleration, steeringDegrees: freshValue(store, steeringPath, now: now),
                            indicator: indicator, positionLost: positionLost, now: now) || output.attention == nil {
            output.attentionWord.store(attention.current.code, ordering: .relaxed)
        }
    }

    /// Events from edges seen at the attention's pace (every 100 ms of frame time): the position
    /// lost while moving and found again, energy falling below its threshold, a break falling
    /// due, rain starting (after it was known dry), a door opened while moving, hard braking beginning.
    mutating func noteEvents(_ store: VehicleStateStore, motion: DrivingContext.Motion, positionLost: Bool, acceleration: Double?, now: Int64) {
        let moving = motion == .moving || motion == .reversing
        if positionLost, moving, !positionWasLost { positionWasLost = true; output.events.append(.tunnelEntered, at: now) }
        if !positionLost, positionWasLost { positionWasLost = false; output.events.append(.gnssRestored, at: now) }
        if let p = status.fuelLevel, let level = store.read(p)?.value {
            let low = level < settings.energyLowPercent
            if low, !energyWasLow { output.events.append(.energyLow, at: now) }
            energyWasLow = low
        }
        let due = tripStart != 0 && Double(tripDriving - tripDrivingAtBreak) / 1e9 >= settings.breakAfterSeconds
        if due, !breakWasDue { output.events.append(.breakRecommended, at: now) }
        breakWasDue = due
        let rain = VehicleStatus.raining(wiping: freshValue(store, status.wiping, now: now).map { $0 != 0 },
                                         rainIntensity: freshValue(store, status.rainIntensity, now: now),
                                         sensorPercent: settings.rainSensorPercent)?.raining
        if rain == true, wasRaining == false { output.events.append(.rainStarted, at: now) }
        if let rain { wasRaining = rain }
        let doorOpen = moving && status.doors.contains { (store.read($0.path)?.value ?? 0) != 0 }
        if doorOpen, !doorWasOpenMoving { output.events.append(.doorOpenedWhileMoving, at: now) }
        doorWasOpenMoving = doorOpen
        let braking = (acceleration ?? 0) <= -settings.attention.hardAccelerationMps2 && (moving || motion == .stopped)
        if braking, !wasBrakingHard { output.events.append(.hardBraking, at: now) }
        wasBrakingHard = braking
    }

    /// Range from consumption, for cars that give a level but no range: the level used over the
    /// distance driven since the estimate began (at least 1 % over at least 1 km). Looked at
    /// every 100 m.
    mutating func estimateRange(_ store: VehicleStateStore) {
        nextLevelCheckKm = distanceKm + 0.1
        guard let p = status.fuelLevel, let level = store.read(p)?.value else { return }
        guard let mark = levelMark, level <= mark.level else { levelMark = (level, distanceKm); return }
        let used = mark.level - level, driven = distanceKm - mark.distance
        guard used >= 1, driven >= 1 else { return }
        output.estimatedRangeBits.store((level / used * driven).bitPattern, ordering: .relaxed)
    }

    /// A path's value if it is fresh at `now`.
    func freshValue(_ store: VehicleStateStore, _ path: Int?, now: Int64) -> Double? {
        guard let path, let e = store.read(path), e.state(now: now) == .fresh else { return nil }
        return e.value
    }

    func nextMotion(_ store: VehicleStateStore, now: Int64) -> DrivingContext.Motion {
        guard let speed = freshValue(store, paths.speed, now: now) else { return .unknown }
        let selected = freshValue(store, paths.selectedGear, now: now).map { Int($0) }
        let current = freshValue(store, paths.currentGear, now: now)
        let parkLock = freshValue(store, paths.parkLock, now: now)
        let inReverse = (current.map { $0 < 0 } ?? false) || (selected.map { $0 < 0 } ?? false)
        let wasMoving = motion == .moving || motion == .reversing
        let moving = wasMoving ? speed > Self.moveLeave : speed > Self.moveEnter
        if moving { return inReverse ? .reversing : .moving }
        if selected == VSSSelectedGear.park || parkLock == 1 { return .parked }
        return .stopped
    }

    /// Adds a speed sample and drops those older than the window, keeping the sums current.
    mutating func appendSpeed(time: Int64, kmh: Double) {
        if speedCount == Self.ringCapacity { removeOldestSpeed() }
        if time - sumsBase > Self.rebaseInterval { rebase(time) }
        let i = (speedFirst + speedCount) % Self.ringCapacity
        speedTimes[i] = time
        speedValues[i] = kmh
        speedCount += 1
        add(time, kmh, 1)
        while speedCount > 0, speedTimes[speedFirst] < time - Self.trendWindow { removeOldestSpeed() }
    }

    mutating func removeOldestSpeed() {
        add(speedTimes[speedFirst], speedValues[speedFirst], -1)
        speedFirst = (speedFirst + 1) % Self.ringCapacity
        speedCount -= 1
    }

    mutating func add(_ time: Int64, _ kmh: Double, _ sign: Double) {
        let x = Double(time - sumsBase) / 1e9, y = kmh / 3.6
        sums.n += sign; sums.x += sign * x; sums.y += sign * y; sums.xy += sign * x * y; sums.xx += sign * x * x
    }

    /// The sums recomputed from the window's samples, x counted from `base`.
    mutating func rebase(_ base: Int64) {
        sumsBase = base
        sums = (0, 0, 0, 0, 0)
        for k in 0..<speedCount {
            let i = (speedFirst + k) % Self.ringCapacity
            add(speedTimes[i], speedValues[i], 1)
        }
    }

    /// The least-squares slope of speed (m/s²) over the window: at least three samples
    /// spanning half a second.
    func trend() -> (DrivingContext.Trend, Double?) {
        guard speedCount >= 3 else { return (.unknown, nil) }
        let first = speedTimes[speedFirst], last = speedTimes[(speedFirst + speedCount - 1) % Self.ringCapacity]
        guard last - first >= 500_000_000 else { return (.unknown, nil) }
        let denominator = sums.n * sums.xx - sums.x * sums.x
        guard denominator > 1e-12 else { return (.unknown, nil) }
        let a = (sums.n * sums.xy - sums.x * sums.y) / denominator
        return (a > Self.steadyLimit ? .accelerating : a < -Self.steadyLimit ? .decelerating : .steady, a)
    }
}
