import CANBus

/// Why a set of physical values cannot become a payload.
public struct EncodeError: Error, CustomStringConvertible, Sendable, Equatable {
    public var message: String
    public var signal: String?
    public var description: String { signal.map { "\($0): \(message)" } ?? message }
}

extension MessageCodec {
    /// Physical values → payload, with range checks. Signals not selected by the multiplexer
    /// values given are left out; a value for such a signal is an error, as is a missing value
    /// for a selected signal unless `useInitialValues` fills it from GenSigStartValue (or 0).
    /// Signals in `unchecked` skip the range check (a value given as its VAL_ label, say).
    public func encode(_ values: [String: Double], useInitialValues: Bool = false, checkRanges: Bool = true,
                       unchecked: Set<String> = []) throws(EncodeError) -> [UInt8] {
        var payload = [UInt8](repeating: 0, count: max(message.length, 0))
        guard requiredBytes <= payload.count else {
            throw EncodeError(message: "signals need \(requiredBytes) bytes but the message is \(message.length) long")
        }
        var raws = [UInt64](repeating: 0, count: message.signals.count)
        var active = [Bool](repeating: false, count: message.signals.count)
        for p in plan {
            let i = Int(p.signalIndex)
            let s = message.signals[i]
            if p.multiplexer == -2 { continue }
            if p.multiplexer >= 0 {
                let parent = Int(plan[Int(p.multiplexer)].signalIndex)
                let v = Int64(bitPattern: raws[parent])
                guard active[parent], ranges[Int(p.rangeStart)..<Int(p.rangeStart + p.rangeCount)].contains(where: { $0.contains(v) }) else {
                    continue
                }
            }
            active[i] = true
            let physical: Double
            let given = values[s.name]
            if let given { physical = given }
            else if useInitialValues { physical = s.initialPhysicalValue ?? s.offset }
            else { throw EncodeError(message: "no value given for a signal the multiplexer selects", signal: s.name) }
            // Initial values are often "not available" codes outside [min, max]; only given values are checked.
            if checkRanges, given != nil, !unchecked.contains(s.name), s.minimum != 0 || s.maximum != 0, physical < s.minimum || physical > s.maximum {
                throw EncodeError(message: "\(physical) is outside [\(s.minimum), \(s.maximum)]", signal: s.name)
            }
            raws[i] = try rawValue(p, physical, name: s.name, isSigned: s.isSigned)
        }
        for name in values.keys {
            guard let i = message.signals.firstIndex(where: { $0.name == name }) else {
                throw EncodeError(message: "message \(message.name) has no such signal", signal: name)
            }
            if !active[i] { throw EncodeError(message: "not selected by the given multiplexer values", signal: name) }
        }
        payload.withUnsafeMutableBytes { out in
            for p in plan where active[Int(p.signalIndex)] { p.layout.insert(raws[Int(p.signalIndex)], into: out) }
        }
        return payload
    }

    /// physical → raw bits: unscale, round half to even (as cantools does), check the bit width.
    func rawValue(_ p: SignalPlan, _ physical: Double, name: String, isSigned: Bool) throws(EncodeError) -> UInt64 {
        let scaled = (physical - p.offset) / p.factor
        switch p.kind {
        case .float32: return UInt64(Float(scaled).bitPattern)
        case .float64: return scaled.bitPattern
        case .integer, .unsigned64:
            guard scaled.isFinite else { throw EncodeError(message: "\(physical) does not scale to a finite raw value", signal: name) }
            let r = scaled.rounded(.toNearestOrEven)
            let bits = Int(p.layout.length)
            if !isSigned {
                let maxRaw = bits == 64 ? 18446744073709551615.0 : Double((UInt64(1) << UInt64(bits)) - 1)
                guard r >= 0, r <= maxRaw, let v = UInt64(exactly: r) ?? (r >= 18446744073709551615.0 ? UInt64.max : nil) else {
                    throw EncodeError(message: "raw value \(r) does not fit \(bits) unsigned bits", signal: name)
                }
                return v & p.layout.mask
            }
            let limit = bits == 64 ? 9223372036854775808.0 : Double(UInt64(1) << UInt64(bits - 1))
            guard r >= -limit, r < limit, let v = Int64(exactly: r) else {
                throw EncodeError(message: "raw value \(r) does not fit \(bits) signed bits", signal: name)
            }
            return UInt64(bitPattern: v) & p.layout.mask
        }
    }
}
