/// The driver's current workload, for an assistant deciding whether now is a good moment to
/// talk: `low`, `medium` or `high`, with the reasons, and whether the driver may be interrupted.
///
/// Rules (thresholds in the mapping's `context:`):
/// - high: reversing; hard braking or accelerating (|a| ≥ `hard_accel_mps2`, default 3 m/s²);
///   turning (steering wheel beyond `steering_turn_deg`, default 90°, while moving).
/// - medium: an indicator on while moving; high speed (≥ `high_speed_kmh`, default 100 km/h);
///   the position lost while moving (GNSS stale: a tunnel); just started moving (within
///   `just_started_s`, default 5 s, of moving off).
/// - low: none of these — cruising calmly, or standing (a stop at a light is a good moment).
/// A higher level applies at once; a lower one only after it held for `attention_hold_s`
/// (default 3 s), so it does not flicker between manoeuvres. Interruptible: the level is low.
public struct Attention: Sendable, Equatable {
    public enum Level: String, Sendable, CaseIterable, Comparable {
        case low, medium, high
        var rank: Int { self == .low ? 0 : self == .medium ? 1 : 2 }
        public static func < (a: Level, b: Level) -> Bool { a.rank < b.rank }
    }

    public enum Reason: String, Sendable, CaseIterable {
        case reversing, hardBraking = "hard_braking", hardAccelerating = "hard_accelerating", turning
        case indicator, highSpeed = "high_speed", gnssLost = "gnss_lost", justStarted = "just_started"

        var level: Level {
            switch self {
            case .reversing, .hardBraking, .hardAccelerating, .turning: return .high
            case .indicator, .highSpeed, .gnssLost, .justStarted: return .medium
            }
        }
        var bit: UInt16 { 1 << UInt16(Reason.allCases.firstIndex(of: self)!) }
    }

    public var level: Level
    public var reasons: [Reason]
    public var interruptible: Bool { level == .low }

    /// The level the reasons make.
    static func level(of reasons: [Reason]) -> Level { reasons.map(\.level).max() ?? .low }

    /// Packs into a word for an atomic: level in the low byte, reasons above it.
    var code: UInt32 {
        UInt32(level.rank) | UInt32(reasons.reduce(UInt16(0)) { $0 | $1.bit }) << 8
    }

    init(code: UInt32) {
        let rank = Int(code & 0xFF)
        level = rank == 2 ? .high : rank == 1 ? .medium : .low
        let bits = UInt16(truncatingIfNeeded: code >> 8)
        reasons = Reason.allCases.filter { bits & $0.bit != 0 }
    }

    init(level: Level, reasons: [Reason]) {
        self.level = level
        self.reasons = reasons
    }
}

/// The thresholds of the attention rules (see `Attention`).
public struct AttentionSettings: Sendable, Equatable {
    public var holdSeconds: Double = 3
    public var hardAccelerationMps2: Double = 3
    public var steeringTurnDegrees: Double = 90
    public var highSpeedKmh: Double = 100
    public var justStartedSeconds: Double = 5
    public init() {}
}

/// Keeps `Attention` on the frame path: the raw level from the rules each update, and the
/// hysteresis that lets it fall only after it held.
struct AttentionTracker: Sendable {
    let settings: AttentionSettings
    var current = Attention(level: .low, reasons: [])
    /// Since when (frame time) the rules have given a level below the current one; 0: they do not.
    var lowerSince: Int64 = 0
    var movingSince: Int64 = 0

    init(settings: AttentionSettings) { self.settings = settings }

    /// The rules' reasons at `now`.
    func reasons(motion: DrivingContext.Motion, speedKmh: Double?, acceleration: Double?, steeringDegrees: Double?,
                 indicator: Bool, positionLost: Bool, now: Int64) -> [Attention.Reason] {
        var r: [Attention.Reason] = []
        let moving = motion == .moving || motion == .reversing
        if motion == .reversing { r.append(.reversing) }
        if let a = acceleration, moving || motion == .stopped {
            if a <= -settings.hardAccelerationMps2 { r.append(.hardBraking) }
            if a >= settings.hardAccelerationMps2 { r.append(.hardAccelerating) }
        }
        if moving, let s = steeringDegrees, abs(s) >= settings.steeringTurnDegrees { r.append(.turning) }
        if moving, indicator { r.append(.indicator) }
        if let v = speedKmh, v >= settings.highSpeedKmh { r.append(.highSpeed) }
        if moving, positionLost { r.append(.gnssLost) }
        if moving, movingSince != 0, Double(now - movingSince) / 1e9 < settings.justStartedSeconds { r.append(.justStarted) }
        return r
    }

    /// Applies the rules' result with the hysteresis; returns whether the attention changed.
    mutating func update(motion: DrivingContext.Motion, previous: DrivingContext.Motion, speedKmh: Double?, acceleration: Double?,
                         steeringDegrees: Double?, indicator: Bool, positionLost: Bool, now: Int64) -> Bool {
        let moving = motion == .moving || motion == .reversing
        let wasMoving = previous == .moving || previous == .reversing
        if moving, !wasMoving { movingSince = now }
        if !moving { movingSince = 0 }
        let reasons = self.reasons(motion: motion, speedKmh: speedKmh, acceleration: acceleration, steeringDegrees: steeringDegrees,
                                   indicator: indicator, positionLost: positionLost, now: now)
        let level = Attention.level(of: reasons)
        let next: Attention
        if level >= current.level {
            next = Attention(level: level, reasons: reasons)
            lowerSince = 0
        } else {
            if lowerSince == 0 { lowerSince = now }
            if Double(now - lowerSince) / 1e9 >= settings.holdSeconds {
                next = Attention(level: level, reasons: reasons)
                lowerSince = 0
            } else {
                // Holding the higher level; its reasons are those still present, or the last ones.
                next = current
            }
        }
        guard next != current else { return false }
        current = next
        return true
    }
}
