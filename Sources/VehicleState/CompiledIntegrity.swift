import CANBus
import DBC
import Integrity

/// The mapping's `integrity:` and `plausibility:` sections resolved against the DBC files: one
/// `MessageCheck` per protected message, found by (bus, message) index without hashing, and
/// per-path plausibility limits. Messages of a DBC whose file name names an opendbc car family
/// (toyota_*, honda_*, vw_*, ...) that carry a `CHECKSUM` signal are checked as opendbc checks
/// them unless the mapping says otherwise.
public struct CompiledIntegrity: Sendable {
    /// The checks with their initial state; the engine keeps its own copy and updates it.
    public var checks: [MessageCheck] = []
    /// Per check: "bus/message", and the (bus, message) it guards.
    public var names: [String] = []
    public var places: [(bus: Int, message: Int)] = []
    /// Per bus, per message (codec index): index into `checks`, or -1.
    var index: [[Int32]] = []

    @inline(__always) func check(bus: Int, message: Int) -> Int { Int(index[bus][message]) }

    /// Per path: plausibility limits (`.none` where the mapping gives none).
    public struct PathLimits: Sendable {
        /// Largest change per nanosecond of frame time; infinity when unlimited.
        public var maxRatePerNanosecond: Double = .infinity
        /// A value unchanged this long while moving is frozen; 0 = not checked.
        public var frozenNanoseconds: Int64 = 0
        /// "Moving" for the frozen check: Vehicle.Speed above this (km/h).
        public var movingAboveKmh: Double = 5
        public static let none = PathLimits()
        public var isChecked: Bool { maxRatePerNanosecond.isFinite || frozenNanoseconds > 0 }
    }
    public var pathLimits: [PathLimits] = []
}

extension CompiledMapping {
    /// Resolves the integrity and plausibility sections; problems go to `fail` with their place.
    static func compileIntegrity(_ file: MappingFile, buses: [Bus], busFiles: [[String]], paths: [Path],
                                 fail: (MappingFile.Place, String) -> Void) -> CompiledIntegrity {
        var out = CompiledIntegrity()
        out.index = buses.map { [Int32](repeating: -1, count: $0.codec.codecs.count) }
        var declared = Set<String>()

        func add(_ check: MessageCheck, bus: Int, message: Int) {
            out.index[bus][message] = Int32(out.checks.count)
            out.checks.append(check)
            out.names.append("\(buses[bus].name)/\(buses[bus].codec.codecs[message].message.name)")
            out.places.append((bus, message))
        }

        for m in file.integrity {
            let parts = m.message.split(separator: "/").map(String.init)
            guard parts.count == 2 else { fail(m.place, "integrity: '\(m.message)' must be bus/message"); continue }
            guard let bi = buses.firstIndex(where: { $0.name == parts[0] }) else {
                fail(m.place, "integrity: no bus '\(parts[0])' (buses: \(buses.map(\.name).joined(separator: ", ")))"); continue
            }
            guard let mi = buses[bi].codec.codecs.firstIndex(where: { $0.message.name == parts[1] }) else {
                fail(m.place, "integrity: bus \(parts[0]) has no message '\(parts[1])'"); continue
            }
            if !declared.insert(m.message).inserted { fail(m.place, "integrity: \(m.message) is declared twice"); continue }
            if case .disabled? = m.protection { out.index[bi][mi] = -2; continue }
            let message = buses[bi].codec.codecs[mi].message
            var where_ = m.place
            func problem(_ text: String) { fail(where_, "integrity: \(m.message): \(text)") }
            func field(_ signalName: String) -> BitField? {
                guard let s = message.signals.first(where: { $0.name == signalName }) else {
                    problem("message \(message.name) has no signal '\(signalName)'"); return nil
                }
                return BitField(startBit: s.startBit, size: s.length, isLittleEndian: s.byteOrder == .littleEndian)
            }
            var protection = MessageCheck.Protection.none
            switch m.protection {
            case .e2e(let s)?:
                where_ = s.place
                guard let p = e2eProtection(s, messageLength: message.length, problem) else { continue }
                protection = p
            case .checksum(let name, let place)?:
                where_ = place
                guard let family = ChecksumFamily.named(name) else {
                    problem("unknown checksum family '\(name)' (expected \(ChecksumFamily.allCases.map(\.mappingName).joined(separator: ", ")))"); continue
                }
                guard let s = message.signals.first(where: { family.isChecksumSignal($0.name) }) else {
                    problem("\(family.mappingName) needs a CHECKSUM signal in \(message.name)"); continue
                }
                protection = .opendbc(OpendbcChecksum(family: family),
                                      checksum: BitField(startBit: s.startBit, size: s.length, isLittleEndian: s.byteOrder == .littleEndian),
                                      address: message.id.value)
            case .crc(let s)?:
                where_ = s.place
                guard let p = crcProtection(s, message: message, field: field, problem) else { continue }
                protection = p
            case .disabled?, nil: break
            }
            var counter: RollingCounter?
            if let c = m.counter {
                where_ = c.place
                let f: BitField?
                if let name = c.strings["signal"] { f = field(name) }
                else if let bit = c.numbers["bit"], let size = c.numbers["size"], size >= 1, size < 64 {
                    f = BitField(startBit: Int(bit), size: Int(size), isLittleEndian: (c.numbers["little_endian"] ?? 1) != 0)
                } else { problem("a counter is {signal: NAME} or {bit: N, size: N}"); f = nil }
                guard let f else { continue }
                let step = UInt64(max(1, c.numbers["step"] ?? 1)), maxDelta = UInt64(max(1, c.numbers["max_delta"] ?? 1))
                counter = RollingCounter(field: f, step: step, maxDelta: maxDelta, modulus: c.numbers["modulus"].map { UInt64(max(2, $0)) })
            } else if case .opendbc(let family, _, _) = protection,
                      let s = message.signals.first(where: { family.family.isCounterSignal($0.name) }) {
                counter = RollingCounter(field: BitField(startBit: s.startBit, size: s.length, isLittleEndian: s.byteOrder == .littleEndian))
            }
            let window = m.window ?? 10, bad = m.invalidAfter ?? min(5, window)
            guard bad <= window else { fail(m.place, "integrity: \(m.message): invalid_after \(bad) is more than the window of \(window) frames"); continue }
            let validity = MessageValidity.Configuration(badFramesToInvalidate: bad, window: window, goodFramesToRecover: m.validAfter ?? 5)
            add(MessageCheck(protection: protection, counter: counter, validity: validity), bus: bi, message: mi)
        }

        // opendbc's own rule where the mapping is silent: the DBC file's name gives the family.
        for bi in buses.indices {
            let families = busFiles[bi].compactMap { ChecksumFamily.forDBCFileName(($0 as String).split(separator: "/").last.map(String.init) ?? $0) }
            guard families.count == 1, let family = families.first else { continue }
            for (mi, codec) in buses[bi].codec.codecs.enumerated() where out.index[bi][mi] == -1 {
                let message = codec.message
                guard let s = message.signals.first(where: { family.isChecksumSignal($0.name) }) else { continue }
                let counter = message.signals.first(where: { family.isCounterSignal($0.name) }).map {
                    RollingCounter(field: BitField(startBit: $0.startBit, size: $0.length, isLittleEndian: $0.byteOrder == .littleEndian))
                }
                add(MessageCheck(protection: .opendbc(OpendbcChecksum(family: family),
                                                      checksum: BitField(startBit: s.startBit, size: s.length, isLittleEndian: s.byteOrder == .littleEndian),
                                                      address: message.id.value), counter: counter), bus: bi, message: mi)
            }
        }
        for bi in out.index.indices { for mi in out.index[bi].indices where out.index[bi][mi] < 0 { out.index[bi][mi] = -1 } }

        out.pathLimits = Array(repeating: .none, count: paths.count)
        for rule in file.plausibility {
            guard let pi = paths.firstIndex(where: { $0.name == rule.path }) else {
                fail(rule.place, "plausibility: \(rule.path) is not a mapped path"); continue
            }
            var limits = CompiledIntegrity.PathLimits()
            if let r = rule.maxRate { limits.maxRatePerNanosecond = r / 1e9 }
            if let f = rule.frozenSeconds { limits.frozenNanoseconds = Int64(f * 1e9) }
            limits.movingAboveKmh = rule.movingAbove
            out.pathLimits[pi] = limits
        }
        return out
    }

    static func e2eProtection(_ s: MappingFile.Settings, messageLength: Int, _ problem: (String) -> Void) -> MessageCheck.Protection? {
        /// A whole-number setting in `range`, a multiple of `step`; a problem (and nil) otherwise.
        /// Every bound the profiles assume is checked here, so no configuration can trap them.
        func whole(_ key: String, _ fallback: Double, _ range: ClosedRange<Int>, step: Int = 1) -> Int? {
            let v = s.numbers[key] ?? fallback
            guard v.isFinite, v == v.rounded(), v >= Double(range.lowerBound), v <= Double(range.upperBound), Int(v) % step == 0 else {
                problem("\(key) must be a whole number from \(range.lowerBound) to \(range.upperBound)" + (step > 1 ? ", a multiple of \(step)" : ""))
                return nil
            }
            return Int(v)
        }
        let bits = max(8, messageLength * 8)
        guard let profile = whole("profile", 0, 0...5) else { return nil }
        switch profile {
        case 1:
            guard let length = whole("length", Double(bits), 16...max(16, bits), step: 8) else { return nil }
            guard let dataID = whole("data_id", -1, 0...0xFFFF) else { problem("profile 1 needs data_id (16 bits)"); return nil }
            let modes: [String: E2EProfile1Config.DataIDMode] = ["both": .both, "alt": .alternating, "alternating": .alternating, "low": .low, "nibble": .nibble]
            guard let mode = modes[s.strings["data_id_mode"] ?? "both"] else { problem("data_id_mode is both, alt, low or nibble"); return nil }
            guard let crc = whole("crc_offset", 0, 0...(length - 8), step: 8), let counter = whole("counter_offset", 8, 0...(length - 4), step: 4),
                  let nibble = whole("data_id_nibble_offset", 12, 0...(length - 4), step: 4) else { return nil }
            return .e2eProfile1(E2EProfile1Config(dataID: UInt16(dataID), dataIDMode: mode, dataLength: length, crcOffset: crc, counterOffset: counter,
                                                  dataIDNibbleOffset: nibble,
                                                  maxDeltaCounterInit: UInt8(max(1, min(14, whole("max_delta_counter", 1, 1...14) ?? 1)))))
        case 2:
            guard let length = whole("length", Double(bits), 16...max(16, bits), step: 8) else { return nil }
            guard let list = s.lists["data_id_list"], list.count == 16, list.allSatisfy({ $0 >= 0 && $0 <= 255 && $0 == $0.rounded() }) else {
                problem("profile 2 needs data_id_list: 16 numbers 0-255"); return nil
            }
            return .e2eProfile2(E2EProfile2Config(dataIDList: list.map { UInt8($0) }, dataLength: length,
                                                  maxDeltaCounterInit: UInt8(whole("max_delta_counter", 1, 1...15) ?? 1)))
        case 4:
            guard let dataID = whole("data_id", -1, 0...Int(UInt32.max)) else { problem("profile 4 needs data_id (32 bits)"); return nil }
            guard let length = whole("length", Double(bits), 96...max(96, bits), step: 8), let offset = whole("offset", 0, 0...(length - 96), step: 8),
                  let minimum = whole("min_length", Double(min(length, 96)), (offset + 96)...length, step: 8),
                  let maximum = whole("max_length", Double(length), minimum...max(minimum, 4096 * 8), step: 8) else { return nil }
            return .e2eProfile4(E2EProfile4Config(dataID: UInt32(dataID), offset: offset, minDataLength: minimum, maxDataLength: maximum,
                                                  maxDeltaCounter: UInt16(whole("max_delta_counter", 1, 1...65535) ?? 1)))
        case 5:
            guard let dataID = whole("data_id", -1, 0...0xFFFF) else { problem("profile 5 needs data_id (16 bits)"); return nil }
            guard let length = whole("length", Double(bits), 24...max(24, bits), step: 8), let offset = whole("offset", 0, 0...(length - 24), step: 8) else {
                return nil
            }
            return .e2eProfile5(E2EProfile5Config(dataID: UInt16(dataID), offset: offset, dataLength: length,
                                                  maxDeltaCounter: UInt8(whole("max_delta_counter", 1, 1...255) ?? 1)))
        default:
            problem("e2e needs profile: 1, 2, 4 or 5"); return nil
        }
    }

    static func crcProtection(_ s: MappingFile.Settings, message: Message, field: (String) -> BitField?,
                              _ problem: (String) -> Void) -> MessageCheck.Protection? {
        let presets: [String: CRCParameters] = [
            "crc8_sae_j1850": .crc8SAEJ1850, "crc8_autosar": .crc8H2F, "crc8_h2f": .crc8H2F, "crc16_ccitt_false": .crc16CCITTFalse,
            "crc16_xmodem": .crc16XMODEM, "crc32": .crc32, "crc32_p4": .crc32P4, "crc32_autosar": .crc32P4, "crc8_smbus": .crc8SMBus,
        ]
        var parameters: CRCParameters
        if let name = s.strings["algorithm"] {
            guard let p = presets[name] else { problem("unknown CRC algorithm '\(name)' (expected \(presets.keys.sorted().joined(separator: ", ")), or width/poly/init/xor_out/reflect)"); return nil }
            parameters = p
        } else {
            guard let w = s.numbers["width"], (1...32).contains(w), let poly = s.numbers["poly"] else {
                problem("a crc needs 'algorithm' or 'width' (1-32) and 'poly'"); return nil
            }
            let reflect = (s.numbers["reflect"] ?? 0) != 0
            parameters = CRCParameters(width: Int(w), poly: UInt32(poly), initial: UInt32(s.numbers["init"] ?? 0), xorOut: UInt32(s.numbers["xor_out"] ?? 0),
                                       reflectIn: s.numbers["reflect_in"].map { $0 != 0 } ?? reflect,
                                       reflectOut: s.numbers["reflect_out"].map { $0 != 0 } ?? reflect)
        }
        let location: GenericCRCCheck.Location
        if let name = s.strings["signal"] {
            guard let f = field(name) else { return nil }
            location = .bits(f)
        } else if let byte = s.numbers["byte"], byte >= 0, Int(byte) < message.length {
            location = .bytes(byteOffset: Int(byte), bigEndian: (s.numbers["big_endian"] ?? 1) != 0)
        } else { problem("say where the CRC sits: 'signal: NAME' or 'byte: N'"); return nil }
        var start = 0, count: Int? = nil
        if let range = s.lists["bytes"] {
            guard range.count == 2, range[0] >= 0, range[1] >= range[0], Int(range[1]) < message.length else {
                problem("'bytes' is [first, last] within the message's \(message.length) bytes"); return nil
            }
            start = Int(range[0]); count = Int(range[1] - range[0]) + 1
        }
        var dataID = GenericCRCCheck.DataIDInclusion.none
        if let id = s.numbers["data_id"] { dataID = .prepended(id: UInt32(id), byteCount: Int(s.numbers["data_id_bytes"] ?? 2), bigEndian: true) }
        return .crc(GenericCRCCheck(parameters: parameters, coveredStart: start, coveredCount: count, location: location, dataID: dataID))
    }
}

extension ChecksumFamily {
    /// How the mapping file spells it: toyota, honda, volkswagen_mqb, hkg_can_fd, ...
    public var mappingName: String {
        var out = ""
        for c in rawValue {
            if c.isUppercase, !out.isEmpty, !(out.last!.isUppercase) { out.append("_") }
            out.append(c)
        }
        return out.lowercased()
    }

    /// A family by its mapping name, its Swift name, or either without underscores.
    public static func named(_ name: String) -> ChecksumFamily? {
        let key = name.lowercased().filter { $0 != "_" && $0 != "-" }
        return allCases.first { $0.rawValue.lowercased() == key }
    }
}
