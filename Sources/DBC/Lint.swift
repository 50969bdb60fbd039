import CANBus

/// Checks on a built database. Each check is a small independent pass; `Lint.run` runs them all.
public enum Lint {
    public typealias Check = @Sendable (Database) -> [Diagnostic]

    public static let checks: [(name: String, run: Check)] = [
        ("signal-length", signalLength),
        ("outside-message", outsideMessage),
        ("overlap", overlap),
        ("duplicate-name", duplicateNames),
        ("float-length", floatLength),
        ("multiplexer", multiplexer),
        ("frame-length", frameLength),
        ("scaling", scaling),
    ]

    /// All diagnostics, the model builder's warnings included, in file order.
    public static func run(_ db: Database) -> [Diagnostic] {
        (db.warnings + checks.flatMap { $0.run(db) }).sorted { ($0.position, $0.message) < ($1.position, $1.message) }
    }

    static func error(_ db: Database, _ pos: SourcePosition, _ check: String, _ text: String) -> Diagnostic {
        Diagnostic(.error, file: db.fileName, position: pos, check: check, text)
    }
    static func warning(_ db: Database, _ pos: SourcePosition, _ check: String, _ text: String) -> Diagnostic {
        Diagnostic(.warning, file: db.fileName, position: pos, check: check, text)
    }

    static let signalLength: Check = { db in
        db.messages.flatMap { m in
            m.signals.filter { $0.length < 1 || $0.length > 64 }.map {
                error(db, $0.position, "signal-length", "signal \(m.name).\($0.name) is \($0.length) bits long; lengths are 1 to 64")
            }
        }
    }

    static let outsideMessage: Check = { db in
        db.messages.flatMap { m in
            m.signals.filter { (1...64).contains($0.length) }.compactMap { s in
                let layout = SignalLayout(startBit: s.startBit, length: s.length, byteOrder: s.byteOrder)
                let bigEndianOverflow = s.byteOrder == .bigEndian && (s.startBit / 8) * 8 + (7 - s.startBit % 8) + s.length > 512
                guard Int(layout.requiredBytes) > m.length || bigEndianOverflow else { return nil }
                return error(db, s.position, "outside-message",
                             "signal \(m.name).\(s.name) (start bit \(s.startBit), \(s.length) bits, \(s.byteOrder == .bigEndian ? "Motorola" : "Intel")) needs \(layout.requiredBytes) bytes but the message is \(m.length) bytes long")
            }
        }
    }

    /// The multiplexer conditions that must all hold for a signal to be present, innermost first.
    static func conditions(of s: Signal, in m: Message) -> [MultiplexCondition] {
        var chain: [MultiplexCondition] = []
        var current = s
        var seen: Set<String> = [s.name]
        while let c = current.multiplexCondition, let parent = m.signal(named: c.multiplexer), !seen.contains(parent.name) {
            chain.append(c)
            seen.insert(parent.name)
            current = parent
        }
        return chain
    }

    static func exclusive(_ a: [MultiplexCondition], _ b: [MultiplexCondition]) -> Bool {
        for ca in a {
            for cb in b where ca.multiplexer == cb.multiplexer {
                let overlaps = ca.ranges.contains { ra in cb.ranges.contains { rb in ra.overlaps(rb) } }
                if !overlaps { return true }
            }
        }
        return false
    }

    static let overlap: Check = { db in
        var out: [Diagnostic] = []
        for m in db.messages {
            let valid = m.signals.filter { (1...64).contains($0.length) }
            let bits: [Set<Int>] = valid.map { s in
                let l = SignalLayout(startBit: s.startBit, length: s.length, byteOrder: s.byteOrder)
                return Set((0..<s.length).map { j in let (byte, bit) = l.position(ofBit: j); return byte * 8 + Int(bit) })
            }
            let chains = valid.map { conditions(of: $0, in: m) }
            for i in valid.indices {
                for j in valid.indices where j > i && !bits[i].isDisjoint(with: bits[j]) && !exclusive(chains[i], chains[j]) {
                    out.append(error(db, valid[j].position, "overlap",
                                     "signal \(m.name).\(valid[j].name) overlaps \(valid[i].name) (line \(valid[i].position.line)) in the same multiplexer branch"))
                }
            }
        }
        return out
    }

    static let duplicateNames: Check = { db in
        var out: [Diagnostic] = []
        var messages: [String: Message] = [:]
        for m in db.messages {
            if let first = messages[m.name] {
                out.append(error(db, m.position, "duplicate-name", "message name \(m.name) is already used (line \(first.position.line))"))
            } else { messages[m.name] = m }
            var signals: [String: Signal] = [:]
            for s in m.signals {
                if let first = signals[s.name] {
                    out.append(error(db, s.position, "duplicate-name", "signal name \(m.name).\(s.name) is already used (line \(first.position.line))"))
                } else { signals[s.name] = s }
            }
        }
        var nodes: Set<String> = []
        for n in db.nodes where !nodes.insert(n.name).inserted {
            out.append(error(db, n.position, "duplicate-name", "node name \(n.name) is used twice"))
        }
        return out
    }

    static let floatLength: Check = { db in
        db.messages.flatMap { m in
            m.signals.compactMap { s in
                switch s.valueType {
                case .float32 where s.length != 32:
                    return error(db, s.position, "float-length", "float32 signal \(m.name).\(s.name) is \(s.length) bits long; it must be 32")
                case .float64 where s.length != 64:
                    return error(db, s.position, "float-length", "float64 signal \(m.name).\(s.name) is \(s.length) bits long; it must be 64")
                default: return nil
                }
            }
        }
    }

    static let multiplexer: Check = { db in
        var out: [Diagnostic] = []
        for m in db.messages {
            for s in m.signals {
                guard let c = s.multiplexCondition else { continue }
                guard let mux = m.signal(named: c.multiplexer) else {
                    out.append(error(db, s.position, "multiplexer",
                                     c.multiplexer.isEmpty ? "multiplexed signal \(m.name).\(s.name) has no multiplexer: the message has no 'M' signal"
                                                           : "multiplexed signal \(m.name).\(s.name) names multiplexer \(c.multiplexer), which does not exist"))
                    continue
                }
                if !mux.isMultiplexer {
                    out.append(error(db, s.position, "multiplexer", "signal \(m.name).\(s.name) is multiplexed by \(mux.name), which is not marked as a multiplexer (M)"))
                }
                if mux.valueType != .integer {
                    out.append(error(db, mux.position, "multiplexer", "multiplexer \(m.name).\(mux.name) is a float signal"))
                }
            }
            if m.signals.filter({ $0.isMultiplexer && $0.multiplexCondition == nil }).count > 1,
               !m.signals.contains(where: { $0.multiplexCondition != nil && $0.multiplexCondition!.ranges.count > 1 }),
               m.signals.contains(where: { s in s.multiplexCondition != nil }) {
                out.append(warning(db, m.position, "multiplexer", "message \(m.name) has several top-level multiplexers; use SG_MUL_VAL_ to say which one selects each signal"))
            }
        }
        return out
    }

    static let frameLength: Check = { db in
        var out: [Diagnostic] = []
        for m in db.messages {
            if !m.id.isExtended, m.id.value > CANID.standardMask {
                out.append(error(db, m.position, "frame-length", "message \(m.name) has standard id 0x\(String(m.id.value, radix: 16, uppercase: true)) above 0x7FF; set bit 31 for a 29-bit id"))
            }
            if m.isFD {
                if !CANFDLength.isValid(m.length) {
                    out.append(error(db, m.position, "frame-length", "CAN FD message \(m.name) is \(m.length) bytes long; FD lengths are 0-8, 12, 16, 20, 24, 32, 48, 64"))
                }
            } else if m.length > 8 {
                out.append(error(db, m.position, "frame-length", "message \(m.name) is \(m.length) bytes long but not CAN FD (VFrameFormat); classic frames carry at most 8 bytes"))
            }
        }
        return out
    }

    static let scaling: Check = { db in
        db.messages.flatMap { m in
            m.signals.flatMap { s -> [Diagnostic] in
                var out: [Diagnostic] = []
                if s.factor == 0 { out.append(error(db, s.position, "scaling", "signal \(m.name).\(s.name) has factor 0")) }
                if s.minimum > s.maximum {
                    out.append(warning(db, s.position, "scaling", "signal \(m.name).\(s.name) has minimum \(s.minimum) above maximum \(s.maximum)"))
                }
                return out
            }
        }
    }
}
