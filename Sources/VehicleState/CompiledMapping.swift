import CANBus
import DBC
#if canImport(Glibc)
import Glibc
#endif

/// VSS data types a path can have.
public enum VSSDatatype: String, Sendable, CaseIterable {
    case float, double, boolean
    case int8, int16, int32, int64, uint8, uint16, uint32, uint64

    var range: ClosedRange<Double>? {
        switch self {
        case .int8: return -128...127
        case .int16: return -32768...32767
        case .int32: return -2147483648...2147483647
        case .uint8: return 0...255
        case .uint16: return 0...65535
        case .uint32: return 0...4294967295
        case .int64, .uint64, .float, .double, .boolean: return nil
        }
    }
    public var isInteger: Bool { self != .float && self != .double && self != .boolean }
}

/// The mapping resolved against the buses' DBC files: every source bound to a message and
/// signal by index, its conversions folded into one scale and offset. Built once at start-up;
/// every problem is reported, each with its place in the mapping file.
public struct CompiledMapping: Sendable {
    public struct Bus: Sendable {
        public var name: String
        public var interface: String?
        public var codec: DatabaseCodec
    }

    public struct Source: Sendable {
        public var bus: Int
        public var message: Int
        public var signal: Int
        public var description: String
        /// value = physical * scale + offset (unit conversion, then the mapping's linear math)
        public var scale: Double
        public var offset: Double
        public var invalid: [Double]
        /// VAL_ raw key -> value, when the source maps labels.
        public var labels: [Int128: Double]
        public var minimum: Double
        public var maximum: Double
        /// Silence after which this source counts as stale (ns of log time).
        public var timeoutNanoseconds: Int64
        /// True when neither the mapping nor the DBC gives a cycle time: the timeout is then
        /// learned from the observed message rate.
        public var learnsTimeout: Bool
        public var combine: MappingFile.Source.Combine?
        /// The combination's second signal (in the same message).
        public var partner: Int
        /// high_low: the low part's weight; value = high * lowScale + low.
        public var lowScale: Double
        /// value_unit: the unit signal's raw value -> conversion into the path's unit.
        public var unitConversions: [Int128: (scale: Double, offset: Double)]
    }

    public struct Path: Sendable {
        public var name: String
        public var datatype: VSSDatatype
        public var unit: String?
        public var sources: [Int]
        public var minIntervalNanoseconds: Int64
        public var deadband: Double
    }

    /// For each bus and message (codec index): which (path, source) pairs a frame feeds.
    public struct Binding: Sendable { public var path: Int32; public var source: Int32 }

    public var buses: [Bus]
    public var paths: [Path]
    public var sources: [Source]
    /// The floor under timeouts from cycle times and learned rates (`min_timeout_ms`).
    public var minimumTimeoutNanoseconds: Int64 = 0
    /// What the frame path needs of each source and path, without references, so reading it
    /// costs no reference counting.
    public struct HotSource: Sendable {
        public var signal: Int32
        public var partner: Int32
        public var scale, offset, minimum, maximum: Double
        public var learnsTimeout: Bool
        /// Whether the signal and its partner are signed: how their raw values key VAL_ labels.
        public var signalSigned, partnerSigned: Bool
        public var combine: Combination
        public var lowScale: Double
        /// This source's runs in `HotTables`: labels, "not available" values, unit conversions.
        public var labels: Range<Int32>
        public var invalid: Range<Int32>
        public var units: Range<Int32>
    }
    /// The sources' lookups as flat sorted runs, searched without hashing: VAL_ label keys and
    /// the values they map to; physical values meaning "not available"; the unit signal's
    /// keys and their conversions (value_unit).
    public struct HotTables: Sendable {
        public var labelKeys: [Int128] = [], labelValues: [Double] = []
        public var invalid: [Double] = []
        public var unitKeys: [Int128] = [], unitScale: [Double] = [], unitOffset: [Double] = []
    }
    public var hotTables = HotTables()
    /// How a source's second signal takes part (`MappingFile.Source.Combine`, without a String).
    public enum Combination: UInt8, Sendable { case none, signMagnitude, highLow, valueUnit }
    public struct HotPath: Sendable {
        public var isInteger, isBoolean: Bool
        public var minIntervalNanoseconds: Int64
        public var deadband: Double
    }
    public var hotSources: [HotSource] = []
    public var hotPaths: [HotPath] = []
    /// End-to-end checks per message and plausibility limits per path.
    public var integrity = CompiledIntegrity()
    /// Thresholds of the derived context (the mapping's `context:`).
    public var contextSettings = ContextSettings()
    var bindingStart: [[Int32]]
    var bindingCount: [[Int32]]
    var bindings: [Binding]
    /// The most paths one frame can change (sizes the engine's change list once).
    public var maximumBindingsPerMessage: Int { bindingCount.lazy.flatMap { $0 }.map { Int($0) }.max() ?? 0 }

    public func bindings(bus: Int, message: Int) -> ArraySlice<Binding> {
        let start = Int(bindingStart[bus][message])
        return bindings[start..<start + Int(bindingCount[bus][message])]
    }

    public func pathIndex(_ name: String) -> Int? { paths.firstIndex { $0.name == name } }

    /// The CAN ids of the messages some path uses on `bus`: what a live reader's kernel filters
    /// need (frames of other messages would only be decoded and dropped).
    public func usedIDs(bus: Int) -> [CANID] {
        var ids = Set<CANID>()
        for s in sources where s.bus == bus { ids.insert(buses[bus].codec.codecs[s.message].message.id) }
        return ids.sorted()
    }

    /// Loads a mapping file and its DBC files (relative to the mapping file).
    public static func load(path: String) throws(Diagnostics) -> CompiledMapping {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw Diagnostics([Diagnostic(file: path, line: 0, column: 0, message: "cannot open: \(String(cString: strerror(errno)))")])
        }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            bytes += chunk[0..<n]
        }
        close(fd)
        let (file, errors) = MappingFile.parse(String(decoding: bytes, as: UTF8.self), fileName: path)
        let directory = path.contains("/") ? String(path[..<path.lastIndex(of: "/")!]) + "/" : ""
        return try compile(file, parseErrors: errors, resolve: { $0.hasPrefix("/") ? $0 : directory + $0 })
    }

    /// Resolves a parsed mapping; `resolve` turns DBC file names into paths.
    public static func compile(_ file: MappingFile, parseErrors: [Diagnostic] = [],
                               resolve: (String) -> String = { $0 }) throws(Diagnostics) -> CompiledMapping {
        var errors = parseErrors
        func fail(_ place: MappingFile.Place, _ message: String) { errors.append(file.diagnostic(place, message)) }
        var buses: [Bus] = []
        var busIndex: [String: Int] = [:]
        for b in file.buses {
            var dbs: [Database] = []
            for f in b.dbcFiles {
                do { dbs.append(try Database.load(path: resolve(f))) } catch { fail(b.place, "bus \(b.name): DBC \(f): \(error)") }
            }
            busIndex[b.name] = buses.count
            buses.append(Bus(name: b.name, interface: b.interface, codec: DatabaseCodec(dbs)))
        }
        var paths: [Path] = []
        var sources: [Source] = []
        var seenPaths: Set<String> = []
        for p in file.paths {
            if !seenPaths.insert(p.path).inserted { fail(p.place, "\(p.path) is mapped twice") }
            if !p.path.hasPrefix("Vehicle.") || p.path.contains("..") || p.path.hasSuffix(".") {
                fail(p.place, "\(p.path): not a VSS path (expected Vehicle.Branch.Leaf)")
            }
            guard let type = VSSDatatype(rawValue: p.datatype) else {
                if !p.datatype.isEmpty {
                    fail(p.place, "\(p.path): unknown datatype '\(p.datatype)' (expected \(VSSDatatype.allCases.map(\.rawValue).joined(separator: ", ")))")
                }
                continue
            }
            if !p.custom {
                if let leaf = VSSCatalog.leaves[p.path] {
                    if leaf.datatype != type {
                        fail(p.place, "\(p.path) is \(leaf.datatype.rawValue) in VSS, not \(type.rawValue)")
                    }
                    if let want = leaf.unit, let unit = p.unit, !VSSCatalog.sameUnit(want, unit) {
                        fail(p.place, "\(p.path) is in \(want) in VSS, not \(unit)")
                    }
                } else {
                    let near = VSSCatalog.closest(to: p.path)
                    fail(p.place, "\(p.path) is not a VSS path this gateway knows\(near.map { " (did you mean \($0)?)" } ?? ""); mark it 'custom: true' if it is an overlay")
                }
            }
            var path = Path(name: p.path, datatype: type, unit: p.unit, sources: [],
                            minIntervalNanoseconds: Int64((p.minIntervalMilliseconds ?? 0) * 1e6), deadband: p.deadband ?? 0)
            /// bus/message/signal -> indices, or an error at the source's place.
            func resolve(_ ref: String, _ place: MappingFile.Place) -> (bus: Int, message: Int, signal: Int)? {
                let parts = ref.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
                guard parts.count == 3 else { fail(place, "\(p.path): signal '\(ref)' must be bus/message/signal"); return nil }
                guard let bi = busIndex[parts[0]] else {
                    fail(place, "\(p.path): no bus '\(parts[0])' (buses: \(file.buses.map(\.name).joined(separator: ", ")))"); return nil
                }
                let codec = buses[bi].codec
                guard let mi = codec.codecs.firstIndex(where: { $0.message.name == parts[1] }) else {
                    fail(place, "\(p.path): bus \(parts[0]) has no message '\(parts[1])'"); return nil
                }
                guard let si = codec.codecs[mi].message.signals.firstIndex(where: { $0.name == parts[2] }) else {
                    fail(place, "\(p.path): message \(parts[1]) has no signal '\(parts[2])'"); return nil
                }
                return (bi, mi, si)
            }
            for s in p.sources {
                guard let (bi, mi, si) = resolve(s.signal, s.place) else { continue }
                let parts = s.signal.split(separator: "/").map(String.init)
                let message = buses[bi].codec.codecs[mi].message
                let signal = message.signals[si]
                var partner = -1
                if let ref = s.partner {
                    guard let second = resolve(ref, s.place) else { continue }
                    guard second.bus == bi, second.message == mi else {
                        fail(s.place, "\(p.path): \(ref) must be in the same message as \(s.signal), so both halves come from one frame"); continue
                    }
                    partner = second.signal
                }
                var unitConversions: [Int128: (scale: Double, offset: Double)] = [:]
                if s.combine == .valueUnit {
                    let unitSignal = message.signals[partner]
                    for (key, unit) in s.units {
                        let raw = unitSignal.valueLabels.first(where: { $0.label == key })?.value ?? Int64(key).map { Int128($0) }
                        guard let raw else { fail(s.place, "\(p.path): '\(key)' is neither a label of \(unitSignal.name) nor a number"); continue }
                        guard let conv = Units.conversion(from: unit, to: p.unit ?? unit) else {
                            fail(s.place, "\(p.path): cannot convert '\(unit)' to '\(p.unit ?? unit)'"); continue
                        }
                        unitConversions[raw] = conv
                    }
                }
                var scale = 1.0, offset = 0.0
                let fromUnit = s.combine == .valueUnit ? "" : s.unit ?? signal.unit
                if let to = p.unit, !fromUnit.isEmpty {
                    guard let c = Units.conversion(from: fromUnit, to: to) else {
                        fail(s.place, "\(p.path): cannot convert \(parts[2])'s unit '\(fromUnit)' to '\(to)'"); continue
                    }
                    (scale, offset) = c
                }
                scale *= s.factor
                offset = offset * s.factor + s.offset
                var labels: [Int128: Double] = [:]
                for (label, value) in s.labels {
                    guard let key = signal.valueLabels.first(where: { $0.label == label })?.value else {
                        fail(s.place, "\(p.path): signal \(parts[2]) has no VAL_ label '\(label)'"); continue
                    }
                    labels[key] = value
                }
                if type == .boolean || type.isInteger, signal.valueType != .integer, labels.isEmpty {
                    fail(s.place, "\(p.path): \(type.rawValue) path fed by float signal \(parts[2])")
                }
                // An integer path must hold what its source can say (the DBC's [min|max], scaled).
                if let range = type.range, labels.isEmpty, s.minimum == nil, s.maximum == nil,
                   signal.minimum != 0 || signal.maximum != 0 {
                    let a = signal.minimum * scale + offset, b = signal.maximum * scale + offset
                    if min(a, b) < range.lowerBound || max(a, b) > range.upperBound {
                        fail(s.place, "\(p.path): \(parts[2]) ranges over [\(min(a, b)), \(max(a, b))], which does not fit \(type.rawValue); narrow it with min/max or choose a wider datatype")
                    }
                }
                let cycle = message.cycleTimeMilliseconds.map { max(Double($0) * file.staleFactor, file.minimumTimeoutMilliseconds) }
                let timeout = p.timeoutMilliseconds ?? cycle ?? 1000
                if let interval = p.minIntervalMilliseconds, interval >= timeout {
                    fail(p.place, "\(p.path): throttle min_interval_ms \(interval) is not below its timeout \(timeout) ms: it would always look stale")
                }
                var minimum = s.minimum ?? -Double.infinity, maximum = s.maximum ?? Double.infinity
                if let r = type.range { minimum = max(minimum, r.lowerBound); maximum = min(maximum, r.upperBound) }
                path.sources.append(sources.count)
                sources.append(Source(bus: bi, message: mi, signal: si, description: s.signal, scale: scale, offset: offset,
                                      invalid: s.invalid, labels: labels, minimum: minimum, maximum: maximum,
                                      timeoutNanoseconds: Int64(timeout * 1_000_000),
                                      learnsTimeout: p.timeoutMilliseconds == nil && cycle == nil,
                                      combine: s.combine, partner: partner, lowScale: Double(UInt64(1) << UInt64(min(max(s.lowBits, 0), 63))),
                                      unitConversions: unitConversions))
            }
            paths.append(path)
        }
        let integrity = compileIntegrity(file, buses: buses, busFiles: file.buses.map(\.dbcFiles), paths: paths, fail: fail)
        guard errors.isEmpty else { throw Diagnostics(errors) }

        // Flat bindings grouped by (bus, message), so a frame finds its work without hashing.
        var bindingStart = buses.map { [Int32](repeating: 0, count: $0.codec.codecs.count) }
        var bindingCount = bindingStart
        var grouped: [[[Binding]]] = buses.map { [[Binding]](repeating: [], count: $0.codec.codecs.count) }
        for (pi, p) in paths.enumerated() {
            for si in p.sources { grouped[sources[si].bus][sources[si].message].append(Binding(path: Int32(pi), source: Int32(si))) }
        }
        var bindings: [Binding] = []
        for b in grouped.indices {
            for m in grouped[b].indices {
                bindingStart[b][m] = Int32(bindings.count)
                bindingCount[b][m] = Int32(grouped[b][m].count)
                bindings += grouped[b][m]
            }
        }
        var compiled = CompiledMapping(buses: buses, paths: paths, sources: sources,
                                       bindingStart: bindingStart, bindingCount: bindingCount, bindings: bindings)
        compiled.minimumTimeoutNanoseconds = Int64(file.minimumTimeoutMilliseconds * 1_000_000)
        compiled.integrity = integrity
        compiled.contextSettings = file.context
        var tables = HotTables()
        compiled.hotSources = sources.map { s in
            let signals = buses[s.bus].codec.codecs[s.message].message.signals
            let labels = s.labels.sorted { $0.key < $1.key }
            let l0 = Int32(tables.labelKeys.count)
            tables.labelKeys += labels.map(\.key)
            tables.labelValues += labels.map(\.value)
            let i0 = Int32(tables.invalid.count)
            tables.invalid += s.invalid
            let units = s.unitConversions.sorted { $0.key < $1.key }
            let u0 = Int32(tables.unitKeys.count)
            tables.unitKeys += units.map(\.key)
            tables.unitScale += units.map(\.value.scale)
            tables.unitOffset += units.map(\.value.offset)
            return HotSource(signal: Int32(s.signal), partner: Int32(s.partner), scale: s.scale, offset: s.offset, minimum: s.minimum,
                             maximum: s.maximum, learnsTimeout: s.learnsTimeout, signalSigned: signals[s.signal].isSigned,
                             partnerSigned: s.partner >= 0 && signals[s.partner].isSigned, combine: Combination(s.combine), lowScale: s.lowScale,
                             labels: l0..<Int32(tables.labelKeys.count), invalid: i0..<Int32(tables.invalid.count),
                             units: u0..<Int32(tables.unitKeys.count))
        }
        compiled.hotTables = tables
        compiled.hotPaths = paths.map { p in
            HotPath(isInteger: p.datatype.isInteger, isBoolean: p.datatype == .boolean,
                    minIntervalNanoseconds: p.minIntervalNanoseconds, deadband: p.deadband)
        }
        return compiled
    }
}

extension CompiledMapping.Combination {
    init(_ combine: MappingFile.Source.Combine?) {
        switch combine {
        case nil: self = .none
        case .signMagnitude?: self = .signMagnitude
        case .highLow?: self = .highLow
        case .valueUnit?: self = .valueUnit
        }
    }
}
