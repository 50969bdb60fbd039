import CANBus
import Yams

/// A mapping file as written (YAML), with the line and column of every entry for errors.
///
///     buses:
///       powertrain:
///         dbc: [demo_vehicle.dbc]          # relative to the mapping file
///     signals:
///       Vehicle.Speed:
///         datatype: float                  # float double int8..int64 uint8..uint64 boolean
///         unit: km/h                       # the VSS unit; sources are converted into it
///         timeout_ms: 500                  # optional; else the message cycle time x stale_factor
///         sources:                         # in priority order: the first fresh one wins
///           - signal: powertrain/VehicleSpeed/VehicleSpeed   # bus/message/signal
///             unit: km/h                   # optional; overrides the DBC signal's unit
///             invalid: [655.35]            # physical values meaning "not available"
///             labels: {Reverse: -1}        # optional: VAL_ label -> value
///             factor: 1                    # optional linear math after unit conversion
///             offset: 0
///             min: 0                       # optional validity range (out of range = dropped)
///             max: 400
///     integrity:                           # end-to-end checks per message (bus/message)
///       powertrain/VehicleSpeed:
///         crc: {algorithm: crc8_sae_j1850, signal: VehicleSpeedChecksum, bytes: [0, 6]}
///         counter: {signal: VehicleSpeedCounter, max_delta: 1}
///         # or  e2e: {profile: 1, data_id: 0x123, data_id_mode: both, crc_offset: 0, counter_offset: 8}
///         # or  checksum: toyota           (an opendbc car family; CHECKSUM/COUNTER signals)
///         invalid_after: 5                 # bad frames among the last `window` -> invalid
///         window: 10
///         valid_after: 5                   # consecutive good frames -> valid again
///     plausibility:
///       Vehicle.Speed: {max_rate: 100}     # largest change per second, in the path's unit
///       Vehicle.Chassis.Axle.Row1.Wheel.Left.Speed: {frozen_s: 2, moving_above: 10}
public struct MappingFile: Sendable {
    public struct Place: Sendable, Equatable, CustomStringConvertible {
        public var line: Int
        public var column: Int
        public var description: String { "\(line):\(column)" }
    }

    public struct Bus: Sendable {
        public var name: String
        public var dbcFiles: [String]
        public var interface: String?
        public var place: Place
    }

    public struct Source: Sendable {
        /// How several signals of one message make one value.
        public enum Combine: String, Sendable { case signMagnitude = "sign_magnitude", highLow = "high_low", valueUnit = "value_unit" }
        public var combine: Combine?
        /// The second signal of a combination (sign, low part, or the unit signal).
        public var partner: String?
        public var lowBits: Int = 0
        /// For value_unit: the unit signal's label or raw value -> unit name.
        public var units: [(key: String, unit: String)] = []
        public var signal: String
        public var unit: String?
        public var invalid: [Double] = []
        public var labels: [(label: String, value: Double)] = []
        public var factor: Double = 1
        public var offset: Double = 0
        public var minimum: Double?
        public var maximum: Double?
        public var place: Place
    }

    public struct Path: Sendable {
        public var path: String
        public var datatype: String
        public var unit: String?
        public var timeoutMilliseconds: Double?
        /// Publish at most every this many ms, and only changes above the deadband.
        public var minIntervalMilliseconds: Double?
        public var deadband: Double?
        /// A path outside the VSS catalog (an overlay): not checked against it.
        public var custom = false
        public var sources: [Source]
        public var place: Place
    }

    /// A block of `key: number | string | [numbers]` settings, with each key's place.
    public struct Settings: Sendable {
        public var numbers: [String: Double] = [:]
        public var strings: [String: String] = [:]
        public var lists: [String: [Double]] = [:]
        public var places: [String: Place] = [:]
        public var place: Place
    }

    /// The checks of one message (`integrity:`): one protection, an optional counter, and the
    /// validity hysteresis.
    public struct MessageIntegrity: Sendable {
        public enum Protection: Sendable {
            case e2e(Settings)
            case checksum(family: String, place: Place)
            case crc(Settings)
            /// `none`: no check, even where the DBC's family would give one.
            case disabled
        }
        /// bus/message
        public var message: String
        public var protection: Protection?
        public var counter: Settings?
        public var invalidAfter: Int?
        public var window: Int?
        public var validAfter: Int?
        public var place: Place
    }

    /// Plausibility of one path's values beyond min/max.
    public struct Plausibility: Sendable {
        public var path: String
        /// The largest believable change per second (path unit / s).
        public var maxRate: Double?
        /// A value that must vary while the car moves: frozen for this long above `movingAbove` km/h is implausible.
        public var frozenSeconds: Double?
        public var movingAbove: Double = 5
        public var place: Place
    }

    public var fileName: String
    public var buses: [Bus] = []
    public var integrity: [MessageIntegrity] = []
    /// `context:` thresholds of the derived context.
    public var context = ContextSettings()
    public var plausibility: [Plausibility] = []
    public var paths: [Path] = []
    /// Timeout = cycle time x this, for paths without `timeout_ms`.
    public var staleFactor: Double = 3
    /// No timeout derived from a cycle time or a learned rate is shorter than this: a few
    /// missed 10 ms frames are jitter, not silence, to a reader on a human timescale.
    public var minimumTimeoutMilliseconds: Double = 0

    /// Parses the YAML; problems are collected (not stopped at), each with its place.
    public static func parse(_ text: String, fileName: String) -> (MappingFile, [Diagnostic]) {
        var file = MappingFile(fileName: fileName)
        var errors: [Diagnostic] = []
        func place(_ n: Node?) -> Place { Place(line: (n?.mark?.line ?? 0), column: (n?.mark?.column ?? 0)) }
        func fail(_ n: Node?, _ message: String) {
            let p = place(n)
            errors.append(Diagnostic(file: fileName, line: p.line, column: p.column, message: message))
        }
        let root: Node?
        // The basic resolver: no regular expressions (so no ICU) at start-up; values are read with .int, .float, .bool.
        do { root = try Yams.compose(yaml: text, Resolver.basic) } catch {
            return (file, [Diagnostic(yamlError: error, file: fileName)])
        }
        guard let root, let top = root.mapping else {
            fail(root, "expected a mapping with 'buses' and 'signals'")
            return (file, errors)
        }
        for (key, value) in top {
            switch key.string {
            case "buses":
                guard let buses = value.mapping else { fail(value, "'buses' must map bus names to {dbc: [...]}"); continue }
                for (name, spec) in buses {
                    var bus = Bus(name: name.string ?? "", dbcFiles: [], interface: nil, place: place(name))
                    guard let fields = spec.mapping else { fail(spec, "bus \(bus.name): expected {dbc: [files], interface: name}"); continue }
                    for (k, v) in fields {
                        switch k.string {
                        case "dbc":
                            if let one = v.scalar?.string { bus.dbcFiles = [one] }
                            else if let list = v.sequence { bus.dbcFiles = list.compactMap { $0.string } }
                            else { fail(v, "bus \(bus.name): 'dbc' must be a file or a list of files") }
                        case "interface": bus.interface = v.string
                        default: fail(k, "bus \(bus.name): unknown key '\(k.string ?? "")' (expected dbc, interface)")
                        }
                    }
                    if bus.dbcFiles.isEmpty { fail(spec, "bus \(bus.name): no DBC file ('dbc: [file.dbc]')") }
                    file.buses.append(bus)
                }
            case "context":
                guard let fields = value.mapping else { fail(value, "'context' is a map of thresholds {energy_low_percent, break_after_min, break_min_stop_min, rain_sensor_percent, attention_hold_s, hard_accel_mps2, steering_turn_deg, high_speed_kmh, just_started_s, started_kmh, parking_search_kmh, parking_search_window_s, parking_search_turn_deg}"); continue }
                for (k, v) in fields {
                    guard let f = v.float, f > 0 else { fail(v, "context: '\(k.string ?? "")' must be a number above 0"); continue }
                    switch k.string {
                    case "energy_low_percent": file.context.energyLowPercent = f
                    case "break_after_min": file.context.breakAfterSeconds = f * 60
                    case "break_min_stop_min": file.context.breakMinimumSeconds = f * 60
                    case "attention_hold_s": file.context.attention.holdSeconds = f
                    case "hard_accel_mps2": file.context.attention.hardAccelerationMps2 = f
                    case "steering_turn_deg": file.context.attention.steeringTurnDegrees = f
                    case "high_speed_kmh": file.context.attention.highSpeedKmh = f
                    case "just_started_s": file.context.attention.justStartedSeconds = f
                    case "rain_sensor_percent": file.context.rainSensorPercent = f
                    case "started_kmh": file.context.phase.startedKmh = f
                    case "parking_search_kmh": file.context.phase.parkingSearchKmh = f
                    case "parking_search_window_s":
                        guard f <= Double(PhaseTracker.buckets) else { fail(v, "context: 'parking_search_window_s' must be at most \(PhaseTracker.buckets)"); continue }
                        file.context.phase.parkingSearchWindowSeconds = f
                    case "parking_search_turn_deg": file.context.phase.parkingSearchTurnDegrees = f
                    default: fail(k, "context: unknown key '\(k.string ?? "")' (expected energy_low_percent, break_after_min, break_min_stop_min, rain_sensor_percent, attention_hold_s, hard_accel_mps2, steering_turn_deg, high_speed_kmh, just_started_s, started_kmh, parking_search_kmh, parking_search_window_s, parking_search_turn_deg)")
                    }
                }
            case "stale_factor":
                if let f = value.float, f > 0 { file.staleFactor = f } else { fail(value, "'stale_factor' must be a number above 0") }
            case "min_timeout_ms":
                if let f = value.float, f >= 0 { file.minimumTimeoutMilliseconds = f } else { fail(value, "'min_timeout_ms' must be a number of milliseconds, 0 or more") }
            case "signals":
                guard let paths = value.mapping else { fail(value, "'signals' must map VSS paths to their sources"); continue }
                for (pathNode, spec) in paths {
                    let name = pathNode.string ?? ""
                    var path = Path(path: name, datatype: "", unit: nil, timeoutMilliseconds: nil, sources: [], place: place(pathNode))
                    guard let fields = spec.mapping else { fail(spec, "\(name): expected {datatype, unit, sources}"); continue }
                    for (k, v) in fields {
                        switch k.string {
                        case "datatype": path.datatype = v.string ?? ""
                        case "custom": path.custom = v.bool ?? false
                        case "unit": path.unit = v.string
                        case "throttle":
                            guard let t = v.mapping else { fail(v, "\(name): 'throttle' is {min_interval_ms: N, deadband: X}"); continue }
                            for (tk, tv) in t {
                                switch tk.string {
                                case "min_interval_ms": path.minIntervalMilliseconds = tv.float
                                case "deadband": path.deadband = tv.float
                                default: fail(tk, "\(name): unknown throttle key '\(tk.string ?? "")' (expected min_interval_ms, deadband)")
                                }
                            }
                        case "timeout_ms":
                            if let t = v.float, t > 0 { path.timeoutMilliseconds = t } else { fail(v, "\(name): 'timeout_ms' must be a number above 0") }
                        case "sources":
                            guard let list = v.sequence else { fail(v, "\(name): 'sources' must be a list"); continue }
                            for item in list { if let s = parseSource(item, path: name, fail: fail, place: place) { path.sources.append(s) } }
                        case "source", "signal":
                            if let s = parseSource(v.string != nil ? Node.mapping(["signal": v]) : v, path: name, fail: fail, place: place) {
                                var s = s
                                s.place = place(v)
                                path.sources.append(s)
                            }
                        default: fail(k, "\(name): unknown key '\(k.string ?? "")' (expected datatype, unit, timeout_ms, throttle, custom, sources)")
                        }
                    }
                    if path.datatype.isEmpty { fail(pathNode, "\(name): no 'datatype'") }
                    if path.sources.isEmpty { fail(pathNode, "\(name): no sources") }
                    file.paths.append(path)
                }
            case "integrity":
                guard let messages = value.mapping else { fail(value, "'integrity' must map bus/message to its checks"); continue }
                for (name, spec) in messages {
                    if let m = parseIntegrity(name, spec, fail: fail, place: place) { file.integrity.append(m) }
                }
            case "plausibility":
                guard let paths = value.mapping else { fail(value, "'plausibility' must map VSS paths to {max_rate, frozen_s, moving_above}"); continue }
                for (name, spec) in paths {
                    var rule = Plausibility(path: name.string ?? "", place: place(name))
                    guard let fields = spec.mapping else { fail(spec, "\(rule.path): expected {max_rate: N, frozen_s: N, moving_above: N}"); continue }
                    for (k, v) in fields {
                        guard let f = v.float, f > 0 else { fail(v, "\(rule.path): '\(k.string ?? "")' must be a number above 0"); continue }
                        switch k.string {
                        case "max_rate": rule.maxRate = f
                        case "frozen_s": rule.frozenSeconds = f
                        case "moving_above": rule.movingAbove = f
                        default: fail(k, "\(rule.path): unknown plausibility key '\(k.string ?? "")' (expected max_rate, frozen_s, moving_above)")
                        }
                    }
                    file.plausibility.append(rule)
                }
            default:
                fail(key, "unknown key '\(key.string ?? "")' (expected buses, signals, integrity, plausibility, context, stale_factor, min_timeout_ms)")
            }
        }
        return (file, errors)
    }

    static func parseIntegrity(_ name: Node, _ spec: Node, fail: (Node?, String) -> Void, place: (Node?) -> Place) -> MessageIntegrity? {
        let message = name.string ?? ""
        var m = MessageIntegrity(message: message, place: place(name))
        if spec.string == "none" { m.protection = .disabled; return m }
        guard let fields = spec.mapping else { fail(spec, "\(message): expected {e2e | checksum | crc, counter, invalid_after, window, valid_after} or 'none'"); return nil }
        func settings(_ v: Node, _ what: String, allowed: Set<String>) -> Settings? {
            guard let map = v.mapping else { fail(v, "\(message): '\(what)' must be a mapping of settings"); return nil }
            var s = Settings(place: place(v))
            for (k, x) in map {
                let key = k.string ?? ""
                guard allowed.contains(key) else {
                    fail(k, "\(message): unknown \(what) key '\(key)' (expected \(allowed.sorted().joined(separator: ", ")))"); continue
                }
                s.places[key] = place(x)
                if let list = x.sequence {
                    let numbers = list.compactMap { $0.int.map(Double.init) ?? $0.float }
                    if numbers.count != list.count { fail(x, "\(message): '\(key)' must be a list of numbers") }
                    s.lists[key] = numbers
                } else if let i = x.int { s.numbers[key] = Double(i) }
                else if let f = x.float { s.numbers[key] = f }
                else if let b = x.bool { s.numbers[key] = b ? 1 : 0 }
                else if let str = x.string { s.strings[key] = str }
            }
            return s
        }
        for (k, v) in fields {
            let key = k.string ?? ""
            if ["e2e", "checksum", "crc"].contains(key), m.protection != nil {
                fail(k, "\(message): one protection per message (e2e, checksum or crc)"); continue
            }
            switch key {
            case "e2e":
                if let s = settings(v, key, allowed: ["profile", "data_id", "data_id_mode", "data_id_list", "offset", "crc_offset", "counter_offset",
                                                   "data_id_nibble_offset", "length", "min_length", "max_length", "max_delta_counter"]) {
                    m.protection = .e2e(s)
                }
            case "checksum":
                guard let family = v.string else { fail(v, "\(message): 'checksum' names an opendbc car family (e.g. toyota, honda, volkswagen_mqb)"); continue }
                m.protection = .checksum(family: family, place: place(v))
            case "crc":
                if let s = settings(v, key, allowed: ["algorithm", "width", "poly", "init", "xor_out", "reflect", "reflect_in", "reflect_out",
                                                   "bytes", "signal", "byte", "big_endian", "data_id", "data_id_bytes"]) {
                    m.protection = .crc(s)
                }
            case "counter":
                m.counter = settings(v, key, allowed: ["signal", "bit", "size", "little_endian", "step", "max_delta", "modulus"])
            case "invalid_after", "window", "valid_after":
                guard let n = v.int, n >= 1, n <= 64 else { fail(v, "\(message): '\(key)' must be a whole number of frames, 1 to 64"); continue }
                if key == "invalid_after" { m.invalidAfter = n } else if key == "window" { m.window = n } else { m.validAfter = n }
            default:
                fail(k, "\(message): unknown integrity key '\(key)' (expected e2e, checksum, crc, counter, invalid_after, window, valid_after)")
            }
        }
        if m.protection == nil && m.counter == nil { fail(name, "\(message): no check (give e2e, checksum, crc or counter, or 'none')"); return nil }
        return m
    }

    static func parseSource(_ node: Node, path: String, fail: (Node?, String) -> Void, place: (Node?) -> Place) -> Source? {
        guard let fields = node.mapping else { fail(node, "\(path): a source is {signal: bus/message/signal, ...}"); return nil }
        var source = Source(signal: "", place: place(node))
        for (k, v) in fields {
            switch k.string {
            case "combine":
                guard let c = v.string.flatMap(Source.Combine.init(rawValue:)) else {
                    fail(v, "\(path): 'combine' is sign_magnitude, high_low or value_unit"); continue
                }
                source.combine = c
            case "magnitude", "high", "value": source.signal = v.string ?? ""
            case "sign", "low", "unit_signal": source.partner = v.string
            case "low_bits": source.lowBits = v.int ?? 0
            case "units":
                guard let map = v.mapping else { fail(v, "\(path): 'units' maps the unit signal's labels or values to units"); continue }
                for (uk, uv) in map { source.units.append((uk.string ?? "", uv.string ?? "")) }
            case "signal": source.signal = v.string ?? ""
            case "unit": source.unit = v.string
            case "invalid":
                if let list = v.sequence { source.invalid = list.compactMap { $0.float } } else if let f = v.float { source.invalid = [f] }
                else { fail(v, "\(path): 'invalid' must be a number or a list of numbers") }
            case "labels":
                guard let map = v.mapping else { fail(v, "\(path): 'labels' must map VAL_ labels to values"); continue }
                for (l, x) in map {
                    guard let label = l.string, let value = x.float else { fail(x, "\(path): label values must be numbers"); continue }
                    source.labels.append((label, value))
                }
            case "factor": if let f = v.float { source.factor = f } else { fail(v, "\(path): 'factor' must be a number") }
            case "offset": if let f = v.float { source.offset = f } else { fail(v, "\(path): 'offset' must be a number") }
            case "min": source.minimum = v.float
            case "max": source.maximum = v.float
            default: fail(k, "\(path): unknown source key '\(k.string ?? "")' (expected signal, unit, invalid, labels, factor, offset, min, max, combine)")
            }
        }
        if source.signal.isEmpty { fail(node, "\(path): a source needs 'signal: bus/message/signal'"); return nil }
        if let c = source.combine, source.partner == nil {
            let second = c == .signMagnitude ? "sign" : c == .highLow ? "low" : "unit_signal"
            fail(node, "\(path): combine \(c.rawValue) needs '\(second): bus/message/signal'")
            return nil
        }
        return source
    }
}

extension MappingFile {
    /// A problem at a place in this file.
    func diagnostic(_ place: Place, _ message: String) -> Diagnostic {
        Diagnostic(file: fileName, line: place.line, column: place.column, message: message)
    }
}

extension Diagnostic {
    /// A YAML syntax error at the place Yams found it ("not valid YAML: ...").
    public init(yamlError error: any Error, file: String) {
        var line = 0, column = 0
        if let y = error as? YamlError {
            switch y {
            case .scanner(_, _, let mark, _), .parser(_, _, let mark, _): (line, column) = (mark.line, mark.column)
            default: break
            }
        }
        self.init(file: file, line: line, column: column, message: "not valid YAML: \(error)")
    }
}
