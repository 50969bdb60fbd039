import Foundation

/// Green-light speed advice from live speed and position: where the stop line is, when the car
/// would reach it, whether that is in a green window, and which speeds would make it.
public enum TrafficLightAdvisor {
    public struct Phase: Sendable, Equatable {
        public enum Color: String, Sendable { case red, amber, green }
        public var color: Color
        public var seconds: Double
        public init(color: Color, seconds: Double) { self.color = color; self.seconds = seconds }
    }

    /// Seconds from now.
    public struct Window: Sendable, Equatable {
        public var start: Double
        public var end: Double
        public init(start: Double, end: Double) { self.start = start; self.end = end }
    }

    public struct Request: Sendable {
        public var stopLatitude: Double
        public var stopLongitude: Double
        /// Current phase (its seconds are those left) followed by the next phases.
        public var phases: [Phase]
        /// Or the green windows directly.
        public var greenWindows: [Window]
        public var minimumSpeedKmh: Double
        public var speedLimitKmh: Double?
        /// Seconds to tell the driver and for them to react: the car keeps its speed meanwhile,
        /// so advice is for the distance left after it, and the windows as they will be then.
        public var announceSeconds: Double = 3
        public init(stopLatitude: Double, stopLongitude: Double, phases: [Phase] = [], greenWindows: [Window] = [],
                    minimumSpeedKmh: Double = 15, speedLimitKmh: Double? = nil) {
            self.stopLatitude = stopLatitude
            self.stopLongitude = stopLongitude
            self.phases = phases
            self.greenWindows = greenWindows
            self.minimumSpeedKmh = minimumSpeedKmh
            self.speedLimitKmh = speedLimitKmh
        }
    }

    public enum Advice: String, Sendable { case keepSpeed = "keep_speed", adjustSpeed = "adjust_speed", stop, passed }

    public struct Answer: Sendable {
        public var distanceMeters: Double
        public var bearingDegrees: Double
        /// nil when the heading is unknown.
        public var ahead: Bool?
        public var speedKmh: Double
        public var arrivalSeconds: Double?
        public var arrivesOnGreen: Bool
        public var windows: [Window]
        public var advice: Advice
        public var speedRangeKmh: (min: Double, max: Double)?
        public var window: Window?
        public var explanation: String
        /// The announcement time the advice allowed for, s.
        public var announceSeconds: Double = 0
        /// The driver's workload is high (a manoeuvre): say nothing now, or one short sentence.
        public var doNotDisturb = false
        /// Why (the attention reasons), when `doNotDisturb`.
        public var attentionReasons: [String] = []
    }

    public enum Refusal: Error, Equatable {
        case unavailable(String)
        case invalid(String)
    }

    /// The green windows a phase schedule implies (adjacent greens merged).
    public static func windows(from phases: [Phase]) -> [Window] {
        var t = 0.0
        var out: [Window] = []
        for p in phases {
            if p.color == .green {
                if let last = out.last, abs(last.end - t) < 1e-9 { out[out.count - 1].end = t + p.seconds } else { out.append(Window(start: t, end: t + p.seconds)) }
            }
            t += p.seconds
        }
        return out
    }

    /// Great-circle distance (m) and initial bearing (degrees) from one point to another.
    public static func distanceAndBearing(fromLatitude lat1: Double, longitude lon1: Double,
                                          toLatitude lat2: Double, longitude lon2: Double) -> (Double, Double) {
        let r = 6_371_008.8, rad = Double.pi / 180
        let φ1 = lat1 * rad, φ2 = lat2 * rad, dφ = (lat2 - lat1) * rad, dλ = (lon2 - lon1) * rad
        let a = sin(dφ / 2) * sin(dφ / 2) + cos(φ1) * cos(φ2) * sin(dλ / 2) * sin(dλ / 2)
        let distance = 2 * r * atan2(sqrt(a), sqrt(1 - a))
        let y = sin(dλ) * cos(φ2), x = cos(φ1) * sin(φ2) - sin(φ1) * cos(φ2) * cos(dλ)
        let bearing = (atan2(y, x) / rad + 360).truncatingRemainder(dividingBy: 360)
        return (distance, bearing)
    }

    /// Advice from a context; refuses when speed or position is not fresh.
    public static func advise(_ request: Request, context: DrivingContext) -> Result<Answer, Refusal> {
        guard context.speed.state == .fresh, let speed = context.speed.value else {
            return .failure(.unavailable("speed is \(describe(context.speed.state, context.speed.ageSeconds, context.speed.invalidReason)): cannot advise without live speed"))
        }
        guard context.location.state == .fresh, let location = context.location.value else {
            return .failure(.unavailable("position is \(describe(context.location.state, context.location.ageSeconds, context.location.invalidReason)): cannot advise without a live position (GNSS outage?)"))
        }
        guard (-90...90).contains(request.stopLatitude), (-180...180).contains(request.stopLongitude) else {
            return .failure(.invalid("stop line position out of range: latitude must be within ±90, longitude within ±180"))
        }
        let windows = request.greenWindows.isEmpty ? windows(from: request.phases) : request.greenWindows
        guard request.minimumSpeedKmh >= 0, request.speedLimitKmh.map({ $0 > request.minimumSpeedKmh }) ?? true else {
            return .failure(.invalid("speed_limit_kmh must be above min_speed_kmh"))
        }
        var answer = advise(request, windows: windows, speedKmh: speed, latitude: location.latitude,
                            longitude: location.longitude, heading: location.heading)
        if let attention = context.attention.value, attention.level == .high {
            answer.doNotDisturb = true
            answer.attentionReasons = attention.reasons.map(\.rawValue)
            answer.explanation = "Do not disturb: the driver is busy (\(answer.attentionReasons.joined(separator: ", "))); "
                + "give this advice only when attention allows, or in one short sentence. " + answer.explanation
        }
        return .success(answer)
    }

    static func describe(_ state: ValueState, _ age: Double?, _ reason: String? = nil) -> String {
        switch state {
        case .fresh: return "fresh"
        case .unavailable: return "unavailable"
        case .stale: return "stale (last update \(String(format: "%.1f", age ?? 0)) s ago)"
        case .invalid: return "invalid (\(reason.map { "its frames failed the \($0) check" } ?? "it failed its integrity or plausibility checks"); it cannot be trusted)"
        }
    }

    public static func advise(_ request: Request, windows: [Window], speedKmh: Double, latitude: Double, longitude: Double,
                              heading: Double?) -> Answer {
        let (distance, bearing) = distanceAndBearing(fromLatitude: latitude, longitude: longitude,
                                                     toLatitude: request.stopLatitude, longitude: request.stopLongitude)
        var ahead: Bool?
        if let heading {
            let diff = abs((bearing - heading + 540).truncatingRemainder(dividingBy: 360) - 180)
            ahead = diff <= 90 || distance < 3
        }
        let v = speedKmh / 3.6
        let eta = v > 0.5 ? distance / v : nil
        let future = windows.filter { $0.end > 0 }.sorted { $0.start < $1.start }
        let onGreen = eta.map { t in future.contains { t >= $0.start && t <= $0.end } } ?? false
        func kmh(_ x: Double) -> Double { (x * 3.6 * 10).rounded() / 10 }
        var answer = Answer(distanceMeters: (distance * 10).rounded() / 10, bearingDegrees: (bearing * 10).rounded() / 10, ahead: ahead,
                            speedKmh: speedKmh, arrivalSeconds: eta.map { ($0 * 10).rounded() / 10 }, arrivesOnGreen: onGreen,
                            windows: future, advice: .stop, speedRangeKmh: nil, window: nil, explanation: "")
        if ahead == false {
            answer.advice = .passed
            answer.explanation = "The stop line is behind the car (bearing \(Int(bearing))°, heading \(Int(heading ?? 0))°)."
            return answer
        }
        let limit = request.speedLimitKmh.map { $0 / 3.6 } ?? .infinity
        let minimum = request.minimumSpeedKmh / 3.6
        // While the advice is spoken the car goes on at its speed: a new speed can only apply to
        // the distance left after that, within the windows as they will be by then.
        let lead = max(0, request.announceSeconds)
        answer.announceSeconds = lead
        let remaining = max(0, distance - v * lead)
        if onGreen, v <= limit + 1e-9, v >= minimum {
            let w = future.first { eta! >= $0.start && eta! <= $0.end }!
            answer.advice = .keepSpeed
            answer.window = w
            let lo = max(minimum, remaining / max(w.end - lead, 1e-3)), hi = min(limit, w.start > lead ? remaining / (w.start - lead) : .infinity)
            answer.speedRangeKmh = (kmh(lo), hi.isFinite ? kmh(hi) : kmh(max(v, lo)))
            answer.explanation = "At \(Int(speedKmh.rounded())) km/h the car reaches the stop line in \(Int(eta!.rounded())) s, inside the green window \(Int(w.start))–\(Int(w.end)) s: keep the speed."
            return answer
        }
        for w in future where w.end > lead {
            let lo = max(minimum, remaining / (w.end - lead))
            let hi = min(limit, w.start > lead ? remaining / (w.start - lead) : .infinity)
            guard lo <= hi else { continue }
            answer.advice = .adjustSpeed
            answer.window = w
            let top = hi.isFinite ? hi : max(lo, min(v, limit.isFinite ? limit : v))
            answer.speedRangeKmh = (kmh(lo), kmh(max(top, lo)))
            answer.explanation = "Drive between \(kmh(lo)) and \(kmh(max(top, lo))) km/h to reach the stop line \(Int(distance.rounded())) m ahead during the green window \(Int(w.start))–\(Int(w.end)) s from now"
                + (lead > 0 ? " (allowing \(Int(lead.rounded())) s to say it, in which the car covers \(Int((v * lead).rounded())) m)." : ".")
            return answer
        }
        answer.advice = .stop
        answer.explanation = future.isEmpty
            ? "No green window is known ahead: prepare to stop at the stop line \(Int(distance.rounded())) m ahead."
            : "No speed between \(Int(request.minimumSpeedKmh)) km/h and the limit reaches the stop line during a green window: prepare to stop."
        return answer
    }
}
