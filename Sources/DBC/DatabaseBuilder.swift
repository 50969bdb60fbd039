import CANBus

/// Builds the descriptor model from the syntax tree: resolves ids, attaches comments,
/// attributes, value labels and multiplexing to the objects they name.
public enum DatabaseBuilder {
    /// The pseudo-message Vector tools use for signals not in any frame.
    static let independentSignalsMessageName = "VECTOR__INDEPENDENT_SIG_MSG"

    public static func build(_ syntax: DBCFileSyntax) -> Database {
        var builder = Builder(syntax: syntax)
        builder.run()
        return builder.db
    }

    /// The build's state as a struct, so `db` is mutated in place (closures capturing a local
    /// `var db` would box it and copy signals on every nested read).
    struct Builder {
        let syntax: DBCFileSyntax
        var db: Database
        var messageIndex: [UInt32: Int] = [:]
        // Signal names by message, so the thousands of CM_/BA_/VAL_ lines that name a signal
        // find it without copying signals: a message has a handful, and comparing short names
        // costs less than hashing them.
        var signalNames: [[String]] = []
        var nodeIndex: [String: Int] = [:]
        var envIndex: [String: Int] = [:]
        var definitions: [String: Int] = [:]

        init(syntax: DBCFileSyntax) {
            self.syntax = syntax
            db = Database(fileName: syntax.fileName)
            db.warnings = syntax.warnings
        }

        mutating func warn(_ pos: SourcePosition, _ check: String, _ text: String) {
            db.warnings.append(Diagnostic(.warning, file: syntax.fileName, position: pos, check: check, text))
        }

        mutating func messageSlot(_ raw: UInt32?, _ pos: SourcePosition, _ what: String) -> Int? {
            guard let raw else { return nil }
            if let i = messageIndex[raw] { return i }
            warn(pos, "unknown-message", "\(what) names message id \(raw), which is not defined; ignored")
            return nil
        }
        /// CM_, BA_ and VAL_ lines name a message's signals in the order SG_ lines gave them, so
        /// the signal after the last one found is tried first (one compare, not a search).
        var lastSignal = (raw: UInt32(0), message: -1, signal: -1)
        mutating func signalSlot(_ raw: UInt32?, _ name: String?, _ pos: SourcePosition, _ what: String) -> (Int, Int)? {
            guard let raw, let name else { return nil }
            if lastSignal.message >= 0, lastSignal.raw == raw {
                let names = signalNames[lastSignal.message]
                let next = lastSignal.signal + 1
                if next < names.count, names[next] == name { lastSignal.signal = next; return (lastSignal.message, next) }
                if names[lastSignal.signal] == name { return (lastSignal.message, lastSignal.signal) }
            }
            guard let mi = messageSlot(raw, pos, what) else { return nil }
            if let si = signalNames[mi].firstIndex(of: name) { lastSignal = (raw, mi, si); return (mi, si) }
            warn(pos, "unknown-signal", "\(what) names signal '\(name)', which message \(db.messages[mi].name) does not have; ignored")
            return nil
        }
        /// BA_ lines come in runs of one attribute: remember the last lookup instead of hashing
        /// the same name thousands of times.
        var lastDefinition: (name: String, index: Int?) = ("", nil)
        mutating func definition(_ name: String) -> Int? {
            if name == lastDefinition.name { return lastDefinition.index }
            let index = definitions[name]
            lastDefinition = (name, index)
            return index
        }

        mutating func value(_ syntax: AttributeValueSyntax, for name: String) -> AttributeValue {
            let type = definition(name).map { db.attributeDefinitions[$0].type }
            switch (type?.kind, syntax) {
            case (.enumeration?, .number(let n)):
                let i = Int(n.integer ?? 0)
                let labels = type!.enumValues
                return .enumeration(i, labels.indices.contains(i) ? labels[i] : String(i))
            case (.enumeration?, .string(let s)):
                return .enumeration(type!.enumValues.firstIndex(of: s) ?? -1, s)
            case (.float?, .number(let n)): return .float(n.double)
            case (_, .number(let n)):
                if let i = n.integer, let v = Int64(exactly: i) { return .integer(v) }
                return .float(n.double)
            case (_, .string(let s)): return .string(s)
            }
        }

        /// The receivers without Vector's "no node" placeholder (copied only when it is there).
        static func receivers(_ names: [String]) -> [String] {
            names.contains("Vector__XXX") ? names.filter { $0 != "Vector__XXX" } : names
        }

        func defaultValue(_ name: String) -> AttributeValue? { definitions[name].flatMap { db.attributeDefinitions[$0].defaultValue } }

        mutating func run() {
            // Pass 1: the objects themselves.
            for statement in syntax.statements {
                switch statement {
                case .version(let v, _): db.version = v
                case .nodes(let nodes, _):
                    for n in nodes where nodeIndex[n.name] == nil {
                        nodeIndex[n.name] = db.nodes.count
                        db.nodes.append(Node(name: n.name, position: n.position))
                    }
                case .valueTable(let name, let entries, _):
                    db.valueTables.append((name, entries))
                case .message(let m):
                    if m.name == independentSignalsMessageName { continue }
                    let extended = m.rawID & 0x8000_0000 != 0
                    let id = CANID(unchecked: extended ? m.rawID & CANID.extendedMask : m.rawID, extended: extended)
                    let signals = m.signals.map { s in
                        Signal(name: s.name, startBit: s.startBit, length: s.length,
                               byteOrder: s.byteOrder == 1 ? .littleEndian : .bigEndian, isSigned: s.isSigned,
                               valueType: .integer, factor: s.factor, offset: s.offset, minimum: s.minimum, maximum: s.maximum,
                               unit: s.unit, receivers: Self.receivers(s.receivers),
                               isMultiplexer: s.multiplexIndicator.hasSuffix("M"),
                               multiplexCondition: nil, position: s.position)
                    }
                    for s in m.signals where s.multiplexIndicator == "m" {
                        warn(s.position, "bare-multiplexer",
                             "signal '\(s.name)' has a bare 'm' multiplex indicator (no multiplexer value); read as a plain signal, as cantools reads it")
                    }
                    if messageIndex[m.rawID] != nil {
                        warn(m.position, "duplicate-id", "message id \(id) is defined again; the later definition wins")
                    }
                    messageIndex[m.rawID] = db.messages.count
                    signalNames.append(m.signals.map(\.name))
                    db.messages.append(Message(id: id, name: m.name, length: m.length, isFD: false,
                                               senders: m.sender == "Vector__XXX" ? [] : [m.sender], cycleTimeMilliseconds: nil,
                                               comment: nil, signals: signals, position: m.position))
                    // Simple multiplexing: m<n> signals hang off the message's one plain `M` signal.
                    let mi = db.messages.count - 1
                    // Only multiplexed messages need the walk (most have no indicator at all).
                    var top: String?
                    var multiplexed = false
                    for si in m.signals.indices where !m.signals[si].multiplexIndicator.isEmpty {
                        if m.signals[si].multiplexIndicator == "M" { top = m.signals[si].name }
                        if m.signals[si].multiplexIndicator != "m" { multiplexed = true }
                    }
                    if multiplexed {
                        for si in m.signals.indices where m.signals[si].multiplexIndicator.hasPrefix("m") && m.signals[si].multiplexIndicator != "m" {
                            let digits = m.signals[si].multiplexIndicator.dropFirst().prefix { $0.isNumber }
                            let value = Int64(digits) ?? 0
                            db.messages[mi].signals[si].multiplexCondition = MultiplexCondition(multiplexer: top ?? "", ranges: [value...value])
                        }
                    }
                case .environmentVariable(let name, let type, let minimum, let maximum, let unit, let initial, let id, let access, let nodes, _):
                    envIndex[name] = db.environmentVariables.count
                    db.environmentVariables.append(EnvironmentVariable(name: name, type: type, minimum: minimum, maximum: maximum, unit: unit,
                                                                       initialValue: initial, id: id, accessType: access, accessNodes: nodes))
                case .attributeDefinition(let object, let name, let type, _, let pos):
                    definitions[name] = db.attributeDefinitions.count
                    db.attributeDefinitions.append(AttributeDefinition(name: name, object: object, type: type, defaultValue: nil, position: pos))
                default: break
                }
            }

            // Pass 2: everything that refers to those objects.
            for statement in syntax.statements {
                switch statement {
                case .messageTransmitters(let raw, let nodes, let pos):
                    if let mi = messageSlot(raw, pos, "BO_TX_BU_") {
                        for n in nodes where !db.messages[mi].senders.contains(n) { db.messages[mi].senders.append(n) }
                    }
                case .environmentVariableData(let name, let size, let pos):
                    if let i = envIndex[name] { db.environmentVariables[i].dataSize = size }
                    else { warn(pos, "unknown-env-var", "ENVVAR_DATA_ names '\(name)', which is not defined; ignored") }
                case .comment(let object, let node, let raw, let name, let text, let pos):
                    switch object {
                    case .network: db.comment = text
                    case .node:
                        if let i = nodeIndex[node ?? ""] { db.nodes[i].comment = text }
                        else { warn(pos, "unknown-node", "CM_ names node '\(node ?? "")', which is not defined; ignored") }
                    case .message: if let mi = messageSlot(raw, pos, "CM_") { db.messages[mi].comment = text }
                    case .signal: if let (mi, si) = signalSlot(raw, name, pos, "CM_") { db.messages[mi].signals[si].comment = text }
                    case .environmentVariable:
                        if let i = envIndex[name ?? ""] { db.environmentVariables[i].comment = text }
                        else { warn(pos, "unknown-env-var", "CM_ names environment variable '\(name ?? "")', which is not defined; ignored") }
                    default: break
                    }
                case .attributeDefault(let name, let v, _, let pos):
                    if let i = definitions[name] { db.attributeDefinitions[i].defaultValue = value(v, for: name) }
                    else { warn(pos, "unknown-attribute", "BA_DEF_DEF_ for attribute \"\(name)\", which has no BA_DEF_; ignored") }
                case .attribute(let name, let object, let node, let raw, let objectName, let v, let pos):
                    if definition(name) == nil {
                        warn(pos, "unknown-attribute", "attribute \"\(name)\" has no BA_DEF_ definition")
                    }
                    let av = value(v, for: name)
                    switch object {
                    case .network: db.networkAttributes[name] = av
                    case .node:
                        if let i = nodeIndex[node ?? ""] { db.nodes[i].attributes[name] = av }
                        else { warn(pos, "unknown-node", "BA_ names node '\(node ?? "")', which is not defined; ignored") }
                    case .message: if let mi = messageSlot(raw, pos, "BA_") { db.messages[mi].attributes[name] = av }
                    case .signal: if let (mi, si) = signalSlot(raw, objectName, pos, "BA_") { db.messages[mi].signals[si].attributes[name] = av }
                    case .environmentVariable:
                        if let i = envIndex[objectName ?? ""] { db.environmentVariables[i].attributes[name] = av }
                    case .nodeSignal, .nodeMessage, .nodeEnvironmentVariable:
                        let id = raw.flatMap { messageIndex[$0] }.map { db.messages[$0].id }
                        db.relationAttributes.append((object, node ?? "", id, objectName, name, av))
                    }
                case .valueDescriptions(let raw, let name, let entries, let pos):
                    let labels = entries
                    if raw == nil {
                        if let i = envIndex[name] { db.environmentVariables[i].valueLabels = labels }
                        else { warn(pos, "unknown-env-var", "VAL_ names environment variable '\(name)', which is not defined; ignored") }
                    } else if let (mi, si) = signalSlot(raw, name, pos, "VAL_") {
                        db.messages[mi].signals[si].valueLabels = labels
                    }
                case .signalGroup(let raw, let name, let reps, let signals, let pos):
                    if let mi = messageSlot(raw, pos, "SIG_GROUP_") {
                        db.messages[mi].signalGroups.append(SignalGroup(name: name, repetitions: reps, signals: signals))
                    }
                case .signalValueType(let raw, let signal, let type, let pos):
                    if let (mi, si) = signalSlot(raw, signal, pos, "SIG_VALTYPE_") {
                        db.messages[mi].signals[si].valueType = type == 1 ? .float32 : type == 2 ? .float64 : .integer
                    }
                case .multiplexedValues(let raw, let signal, let mux, let ranges, let pos):
                    if let (mi, si) = signalSlot(raw, signal, pos, "SG_MUL_VAL_") {
                        if !signalNames[mi].contains(mux) {
                            warn(pos, "unknown-signal", "SG_MUL_VAL_ names multiplexer '\(mux)', which message \(db.messages[mi].name) does not have")
                        }
                        db.messages[mi].signals[si].multiplexCondition = MultiplexCondition(multiplexer: mux, ranges: ranges)
                    }
                default: break
                }
            }

            // Vector tools cut names to 32 characters and keep the full name in a string attribute.
            let hasLongSymbols = definitions["SystemSignalLongSymbol"] != nil || definitions["SystemMessageLongSymbol"] != nil
            for i in db.nodes.indices { if case .string(let long)? = db.nodes[i].attributes["SystemNodeLongSymbol"], !long.isEmpty { db.nodes[i].name = long } }
            for i in db.environmentVariables.indices {
                if case .string(let long)? = db.environmentVariables[i].attributes["SystemEnvVarLongSymbol"], !long.isEmpty { db.environmentVariables[i].name = long }
            }
            for mi in db.messages.indices where hasLongSymbols {
                if case .string(let long)? = db.messages[mi].attributes["SystemMessageLongSymbol"], !long.isEmpty { db.messages[mi].name = long }
                var renamed: [String: String] = [:]
                for si in db.messages[mi].signals.indices where !db.messages[mi].signals[si].attributes.isEmpty {
                    if case .string(let long)? = db.messages[mi].signals[si].attributes["SystemSignalLongSymbol"], !long.isEmpty {
                        renamed[db.messages[mi].signals[si].name] = long
                        db.messages[mi].signals[si].name = long
                    }
                }
                if !renamed.isEmpty {
                    for si in db.messages[mi].signals.indices {
                        if let c = db.messages[mi].signals[si].multiplexCondition, let long = renamed[c.multiplexer] {
                            db.messages[mi].signals[si].multiplexCondition?.multiplexer = long
                        }
                    }
                    for g in db.messages[mi].signalGroups.indices {
                        db.messages[mi].signalGroups[g].signals = db.messages[mi].signalGroups[g].signals.map { renamed[$0] ?? $0 }
                    }
                }
            }

            // Derived properties, with BA_DEF_DEF_ defaults where the object has no BA_ of its own.
            let formatDefault = defaultValue("VFrameFormat")
            let cycleDefault = defaultValue("GenMsgCycleTime")?.integerValue
            let startDefault = defaultValue("GenSigStartValue")?.doubleValue
            for mi in db.messages.indices {
                let attributes = db.messages[mi].attributes
                let format = attributes.isEmpty ? formatDefault : attributes["VFrameFormat"] ?? formatDefault
                if case .enumeration(_, let label)? = format { db.messages[mi].isFD = label.hasSuffix("_FD") }
                let cycle = attributes.isEmpty ? cycleDefault : attributes["GenMsgCycleTime"]?.integerValue ?? cycleDefault
                if let cycle, cycle > 0 { db.messages[mi].cycleTimeMilliseconds = Int(cycle) }
                for si in db.messages[mi].signals.indices {
                    let own = db.messages[mi].signals[si].attributes
                    let start = own.isEmpty ? startDefault : own["GenSigStartValue"]?.doubleValue ?? startDefault
                    if let start { db.messages[mi].signals[si].initialRawValue = start }
                }
            }
        }
    }
}
