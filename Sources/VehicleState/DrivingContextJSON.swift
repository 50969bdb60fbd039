import CANBus

/// The driving context's JSON form (stable; units in the field names):
///
///     {"time": 1700000012.345678,
///      "speed": {"speed_kmh": 42.1, "state": "fresh", "age_s": 0.012},
///      "location": {"latitude_deg": 48.1, "longitude_deg": 11.5, "heading_deg": 61.2, "altitude_m": 519.4,
///                   "horizontal_accuracy_m": 2.1, "state": "stale", "age_s": 3.2},
///      "gear": {"current": 3, "selected": 127, "label": "3", "park_lock_engaged": false, "state": "fresh", "age_s": 0.02},
///      "motion": "moving",
///      "acceleration": {"trend": "accelerating", "acceleration_mps2": 0.8},
///      "distance_km": 0.123,
///      "attention": {"level": "medium", "reasons": ["indicator"], "interruptible": false, "state": "fresh", "age_s": 0.012},
///      "energy": {"level_percent": 61.6, "range_km": 530, "range_source": "vehicle", "low": false, "state": "fresh", "age_s": 0.4},
///      "environment": {"outside_temperature_c": 7.5, "dark": false, "raining": true, "raining_source": "wipers",
///                      "state": "fresh", "age_s": 0.4},
///      "cabin": {"open": [], "belted": {"Row1.DriverSide": true, "Row1.PassengerSide": false},
///                "occupied": ["Row1.DriverSide", "Row1.PassengerSide"], "unbelted": ["Row1.PassengerSide"], "state": "fresh", "age_s": 0.1},
///      "trip": {"driving_time_s": 64.2, "distance_km": 0.38, "average_speed_kmh": 21.5, "stops": 2,
///               "time_since_break_s": 64.2, "break_recommended": false, "state": "fresh", "age_s": 0.012},
///      "phase": {"current": "stopped_at_light", "for_s": 4.2, "state": "fresh", "age_s": 0.012}}
///
/// `state` is fresh, stale or unavailable; a stale part keeps its last value and says how old
/// it is (`age_s`); an unavailable part has only `"state": "unavailable"`. Absent values are null.
extension DrivingContext {
    /// The JSON object; parts in `withheld` (what a reader's token does not cover) are left
    /// out and named in a last member, `"withheld": ["location", ...]`.
    public func appendJSON(to out: inout TextBuffer, withholding withheld: Set<Member> = []) {
        out.append("{\"time\": ")
        var t = time
        if t.fractionDigits == 0 { t.fractionDigits = 6 }
        out.appendTimestamp(t, minimumSecondsDigits: 1)
        if !withheld.contains(.speed) {
            out.append(", \"speed\": {")
            if let v = speed.value { out.append("\"speed_kmh\": "); out.appendJSONNumber(Self.clean(v)); out.append(", ") }
            Self.appendState(speed.state, speed.ageSeconds, reason: speed.invalidReason, to: &out)
            out.append("}")
        }
        if !withheld.contains(.location) {
            out.append(", \"location\": {")
            if let l = location.value {
                Self.field("latitude_deg", l.latitude, &out)
                Self.field("longitude_deg", l.longitude, &out)
                Self.field("heading_deg", l.heading, &out)
                Self.field("altitude_m", l.altitude, &out)
                Self.field("horizontal_accuracy_m", l.horizontalAccuracy, &out)
            }
            Self.appendState(location.state, location.ageSeconds, reason: location.invalidReason, to: &out)
            out.append("}")
        }
        if !withheld.contains(.gear) {
            out.append(", \"gear\": {")
            if let g = gear.value {
                out.append("\"current\": "); Self.int(g.current, &out)
                out.append(", \"selected\": "); Self.int(g.selected, &out)
                out.append(", \"label\": ")
                if let l = g.label { out.appendJSONString(l) } else { out.append("null") }
                out.append(", \"park_lock_engaged\": ")
                out.append(g.parkLockEngaged.map { $0 ? "true" : "false" } ?? "null")
                out.append(", ")
            }
            Self.appendState(gear.state, gear.ageSeconds, reason: gear.invalidReason, to: &out)
            out.append("}")
        }
        if !withheld.contains(.motion) {
            out.append(", \"motion\": \"")
            out.append(motion.rawValue)
            out.append("\"")
        }
        if !withheld.contains(.acceleration) {
            out.append(", \"acceleration\": {\"trend\": \"")
            out.append(accelerationTrend.rawValue)
            out.append("\", \"acceleration_mps2\": ")
            if let a = acceleration { out.appendJSONNumber((a * 1000).rounded() / 1000) } else { out.append("null") }
            out.append("}")
        }
        if !withheld.contains(.distance) {
            out.append(", \"distance_km\": ")
            out.appendJSONNumber((distanceKm * 1e6).rounded() / 1e6)
        }
        for part in DerivedPart.allCases where !withheld.contains(part.member) {
            out.append(", ")
            appendPart(part, to: &out)
        }
        if !withheld.isEmpty {
            out.append(", \"withheld\": [")
            for (k, p) in Member.allCases.filter(withheld.contains).enumerated() {
                if k > 0 { out.append(", ") }
                out.append("\"")
                out.append(p.rawValue)
                out.append("\"")
            }
            out.append("]")
        }
        out.append("}\n")
    }

    /// The context's members, each made from some of the mapped paths (`ContextPaths.inputs(of:)`):
    /// what a scoped token may be denied.
    public enum Member: String, CaseIterable, Sendable {
        case speed, location, gear, motion, acceleration, distance = "distance_km", attention, energy, environment, cabin, trip, phase
    }

    /// The context's derived parts (after the original fields: readers of those see no change),
    /// each one JSON member.
    public enum DerivedPart: String, CaseIterable, Sendable {
        case attention, energy, environment, cabin, trip, phase
        public var member: Member { Member(rawValue: rawValue)! }
    }

    /// `"name": {...}` for one part.
    public func appendPart(_ part: DerivedPart, to out: inout TextBuffer) {
        func number(_ v: Double?, _ scale: Double = 10) {
            if let v { out.appendJSONNumber((v * scale).rounded() / scale) } else { out.append("null") }
        }
        func bool(_ v: Bool?) { out.append(v.map { $0 ? "true" : "false" } ?? "null") }
        func strings(_ list: [String]) {
            out.append("[")
            for (k, s) in list.enumerated() { if k > 0 { out.append(", ") }; out.appendJSONString(s) }
            out.append("]")
        }
        out.append("\"")
        out.append(part.rawValue)
        out.append("\": {")
        switch part {
        case .attention:
            if let a = attention.value {
                out.append("\"level\": \""); out.append(a.level.rawValue)
                out.append("\", \"reasons\": ")
                strings(a.reasons.map(\.rawValue))
                out.append(", \"interruptible\": "); bool(a.interruptible)
                out.append(", ")
            }
            Self.appendState(attention.state, attention.ageSeconds, reason: nil, to: &out)
        case .energy:
            if let e = status.energy.value {
                out.append("\"level_percent\": "); number(e.levelPercent)
                out.append(", \"range_km\": "); number(e.rangeKm)
                out.append(", \"range_source\": ")
                if let r = e.rangeSource { out.appendJSONString(r) } else { out.append("null") }
                out.append(", \"low\": "); bool(e.low)
                out.append(", ")
            }
            Self.appendState(status.energy.state, status.energy.ageSeconds, reason: status.energy.invalidReason, to: &out)
        case .environment:
            if let e = status.environment.value {
                out.append("\"outside_temperature_c\": "); number(e.outsideTemperatureC)
                out.append(", \"dark\": "); bool(e.dark)
                out.append(", \"raining\": "); bool(e.raining)
                out.append(", \"raining_source\": ")
                if let r = e.rainingSource { out.appendJSONString(r) } else { out.append("null") }
                out.append(", ")
            }
            Self.appendState(status.environment.state, status.environment.ageSeconds, reason: status.environment.invalidReason, to: &out)
        case .cabin:
            if let c = status.cabin.value {
                out.append("\"open\": ")
                strings(c.open)
                out.append(", \"belted\": {")
                for (k, b) in c.belted.enumerated() {
                    if k > 0 { out.append(", ") }
                    out.appendJSONString(b.seat); out.append(": "); bool(b.belted)
                }
                out.append("}, \"occupied\": ")
                strings(c.occupied)
                out.append(", \"unbelted\": ")
                strings(c.unbelted)
                out.append(", ")
            }
            Self.appendState(status.cabin.state, status.cabin.ageSeconds, reason: status.cabin.invalidReason, to: &out)
        case .trip:
            if let t = trip.value {
                out.append("\"driving_time_s\": "); number(t.drivingSeconds)
                out.append(", \"distance_km\": "); number(t.distanceKm, 1000)
                out.append(", \"average_speed_kmh\": "); number(t.averageSpeedKmh)
                out.append(", \"stops\": "); out.appendDecimal(Int64(t.stops))
                out.append(", \"time_since_break_s\": "); number(t.secondsSinceBreak)
                out.append(", \"break_recommended\": "); bool(t.breakRecommended)
                out.append(", ")
            }
            Self.appendState(trip.state, trip.ageSeconds, reason: nil, to: &out)
        case .phase:
            if let p = phase.value {
                out.append("\"current\": \""); out.append(p.phase.rawValue)
                out.append("\", \"for_s\": "); number(p.seconds)
                out.append(", ")
            }
            Self.appendState(phase.state, phase.ageSeconds, reason: nil, to: &out)
        }
        out.append("}")
    }

    /// `{"time": ..., "a": {...}, "b": {...}}`: some of the derived parts (the MCP tools' answers).
    /// Parts in `withheld` are left out and named in `"withheld": [...]`.
    public func partsJSON(_ parts: [DerivedPart], withholding withheld: Set<Member> = []) -> String {
        var out = TextBuffer(capacity: 512)
        out.append("{\"time\": ")
        var t = time
        if t.fractionDigits == 0 { t.fractionDigits = 6 }
        out.appendTimestamp(t, minimumSecondsDigits: 1)
        for p in parts where !withheld.contains(p.member) {
            out.append(", ")
            appendPart(p, to: &out)
        }
        let left = parts.filter { withheld.contains($0.member) }
        if !left.isEmpty {
            out.append(", \"withheld\": [")
            for (k, p) in left.enumerated() {
                if k > 0 { out.append(", ") }
                out.append("\"")
                out.append(p.rawValue)
                out.append("\"")
            }
            out.append("]")
        }
        out.append("}\n")
        return out.string
    }

    static func field(_ name: StaticString, _ value: Double?, _ out: inout TextBuffer) {
        out.append("\"")
        out.append(name)
        out.append("\": ")
        if let value { out.appendJSONNumber(clean(value)) } else { out.append("null") }
        out.append(", ")
    }

    /// Seven decimals (1 cm of latitude) and no more: scaled signals carry binary noise
    /// (519.1000000000001) that means nothing to a reader.
    public static func clean(_ v: Double) -> Double {
        abs(v) < 1e9 ? (v * 1e7).rounded() / 1e7 : v
    }

    static func int(_ value: Int?, _ out: inout TextBuffer) {
        if let value { out.appendDecimal(Int64(value)) } else { out.append("null") }
    }

    static func appendState(_ state: ValueState, _ age: Double?, reason: String?, to out: inout TextBuffer) {
        out.append("\"state\": \"")
        out.append(state.rawValue)
        out.append("\"")
        if state == .invalid, let reason {
            out.append(", \"reason\": \"")
            out.append(reason)
            out.append("\"")
        }
        if let age, state != .unavailable {
            out.append(", \"age_s\": ")
            out.appendJSONNumber((age * 1000).rounded() / 1000)
        }
    }

    public var json: String {
        var out = TextBuffer()
        appendJSON(to: &out)
        return out.string
    }
}
