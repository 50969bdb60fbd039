/// Where the car is in its drive, for an assistant choosing what to suggest: parked, starting
/// (just left park: reversing out, pulling away), driving, stopped at a light, searching for a
/// parking space, or parking (manoeuvring into one).
///
/// Rules (thresholds in the mapping's `context:`):
/// - parked: the lever in P or the park lock engaged, standing (the motion says `parked`); or
///   standing with the parking brake applied after parking.
/// - starting: from leaving park until the car first drives forward at `started_kmh`
///   (default 15 km/h); stops and reversing meanwhile stay `starting`.
/// - stopped_at_light: standing, not parked, after driving (any stop in traffic).
/// - parking_search: slow driving with turns: over the last `parking_search_window_s` (45 s) of
///   moving, at least 80 % of the time at or below `parking_search_kmh` (20 km/h) and the
///   heading turned by `parking_search_turn_deg` (150°) or more in total (GNSS heading, only
///   turns of 3°/s or more count, so noise does not add up). It ends when the slow share falls
///   below 60 % or the car parks; a stop meanwhile stays `parking_search`.
/// - parking: reversing after the start, or creeping after a search; it ends parked, or
///   `driving` again above `started_kmh`.
/// - driving: moving forward otherwise.
public enum DrivingPhase: String, Sendable, CaseIterable {
    case parked, starting, driving
    case stoppedAtLight = "stopped_at_light", parkingSearch = "parking_search", parking

    var code: UInt8 { UInt8(Self.allCases.firstIndex(of: self)!) }
    init?(code: UInt8) {
        guard Int(code) < Self.allCases.count else { return nil }
        self = Self.allCases[Int(code)]
    }
}

/// The thresholds of the phase rules (see `DrivingPhase`).
public struct PhaseSettings: Sendable, Equatable {
    public var startedKmh: Double = 15
    public var parkingSearchKmh: Double = 20
    public var parkingSearchWindowSeconds: Double = 45
    public var parkingSearchTurnDegrees: Double = 150
    public init() {}
}

/// Keeps the phase on the frame path, at the attention's pace (every 100 ms of frame time):
/// one-second buckets of moving time, slow time and turning, over a fixed ring.
struct PhaseTracker: Sendable {
    let settings: PhaseSettings
    private(set) var current: DrivingPhase?
    private(set) var since: Int64 = 0
    /// One bucket per second of frame time: moving seconds, of them slow, and degrees turned.
    static let buckets = 128
    var moving = [Double](repeating: 0, count: buckets)
    var slow = [Double](repeating: 0, count: buckets)
    var turned = [Double](repeating: 0, count: buckets)
    var bucketSecond: Int64 = .min
    var lastUpdate: Int64 = 0
    var lastHeading: Double?
    var headingAtSecond: Double?

    init(settings: PhaseSettings) { self.settings = settings }

    /// The window's sums: moving seconds, slow seconds, degrees turned.
    func window() -> (moving: Double, slow: Double, turned: Double) {
        let n = min(Self.buckets, Int(settings.parkingSearchWindowSeconds.rounded(.up)))
        var m = 0.0, s = 0.0, d = 0.0
        for k in 0..<n {
            let i = Int(((bucketSecond - Int64(k)) % Int64(Self.buckets) + Int64(Self.buckets)) % Int64(Self.buckets))
            m += moving[i]; s += slow[i]; d += turned[i]
        }
        return (m, s, d)
    }

    /// Accounts the time since the last update into the buckets (gaps over a second do not count).
    mutating func account(motion: DrivingContext.Motion, speedKmh: Double?, heading: Double?, now: Int64) {
        let second = now / 1_000_000_000
        if bucketSecond == .min || second < bucketSecond {
            // The first update, or time went back (another log): start the window afresh.
            for i in 0..<Self.buckets { moving[i] = 0; slow[i] = 0; turned[i] = 0 }
            bucketSecond = second
            lastUpdate = 0
            headingAtSecond = nil
        }
        if second != bucketSecond {
            // Whole seconds passed: clear the buckets they skip; the turn of the second just ended.
            if let h = heading, let h0 = headingAtSecond {
                var d = abs(h - h0).truncatingRemainder(dividingBy: 360)
                if d > 180 { d = 360 - d }
                let seconds = Double(max(1, second - bucketSecond))
                if d / seconds >= 3 { turned[index(bucketSecond)] += d }
            }
            for s in (bucketSecond + 1)...min(second, bucketSecond + Int64(Self.buckets)) {
                let i = index(s)
                moving[i] = 0; slow[i] = 0; turned[i] = 0
            }
            bucketSecond = second
            headingAtSecond = heading
        }
        if headingAtSecond == nil { headingAtSecond = heading }
        if heading == nil { headingAtSecond = nil }
        let dt = lastUpdate == 0 ? 0 : Double(now - lastUpdate) / 1e9
        lastUpdate = now
        guard dt > 0, dt <= 1, motion == .moving, let v = speedKmh else { return }
        moving[index(second)] += dt
        if v <= settings.parkingSearchKmh { slow[index(second)] += dt }
    }

    @inline(__always) func index(_ second: Int64) -> Int {
        Int((second % Int64(Self.buckets) + Int64(Self.buckets)) % Int64(Self.buckets))
    }

    /// The next phase; returns whether it changed. `motion` as the tracker judged it (with its
    /// hysteresis), heading only when fresh.
    /// `gearKnown`: whether the lever or park lock has been heard (standing, the car cannot
    /// tell parked from stopped before).
    mutating func update(motion: DrivingContext.Motion, speedKmh: Double?, heading: Double?, parkingBrake: Bool?, gearKnown: Bool,
                         now: Int64) -> Bool {
        account(motion: motion, speedKmh: speedKmh, heading: motion == .moving && (speedKmh ?? 0) >= 3 ? heading : nil, now: now)
        var next = nextPhase(motion: motion, speedKmh: speedKmh, parkingBrake: parkingBrake)
        if current == nil, motion == .stopped, !gearKnown, parkingBrake == nil { next = nil }
        guard next != current else { return false }
        current = next
        since = now
        return true
    }

    func searching() -> Bool? {
        let w = window()
        let enough = w.moving >= settings.parkingSearchWindowSeconds * 0.5
        guard enough else { return nil }
        let share = w.slow / w.moving
        if share >= 0.8, w.turned >= settings.parkingSearchTurnDegrees { return true }
        if share < 0.6 { return false }
        return nil  // between: keep what it was
    }

    func nextPhase(motion: DrivingContext.Motion, speedKmh: Double?, parkingBrake: Bool?) -> DrivingPhase? {
        let v = speedKmh ?? 0
        switch motion {
        case .unknown:
            return nil
        case .parked:
            return .parked
        case .stopped:
            switch current {
            case nil: return parkingBrake == true ? .parked : .stoppedAtLight
            case .parked?: return parkingBrake == true ? .parked : .starting
            case .starting?, .parkingSearch?, .stoppedAtLight?: return current
            case .parking?: return parkingBrake == true ? .parked : .parking
            case .driving?: return .stoppedAtLight
            }
        case .reversing:
            switch current {
            case nil, .parked?, .starting?: return .starting
            default: return .parking
            }
        case .moving:
            switch current {
            case nil: return .driving
            case .parked?: return v >= settings.startedKmh ? .driving : .starting
            case .starting?: return v >= settings.startedKmh ? .driving : .starting
            case .parking?: return v >= settings.startedKmh ? .driving : .parking
            case .parkingSearch?: return searching() == false ? .driving : .parkingSearch
            case .driving?, .stoppedAtLight?: return searching() == true ? .parkingSearch : .driving
            }
        }
    }
}
