import CANBus

/// The descriptor model: what a DBC file means, apart from how it was written.

public enum ByteOrder: String, Sendable { case littleEndian = "little_endian", bigEndian = "big_endian" }

public enum SignalValueType: String, Sendable { case integer, float32, float64 }

public struct ValueLabel: Sendable, Equatable {
    public var value: Int128
    public var label: String
    public init(value: Int128, label: String) { self.value = value; self.label = label }
}

/// When a multiplexed signal is present: its multiplexer has a raw value in one of `ranges`.
public struct MultiplexCondition: Sendable, Equatable {
    public var multiplexer: String
    public var ranges: [ClosedRange<Int64>]

    public func contains(_ value: Int64) -> Bool { ranges.contains { $0.contains(value) } }
}

public enum AttributeValue: Sendable, Equatable, CustomStringConvertible {
    case integer(Int64)
    case float(Double)
    case string(String)
    /// An ENUM value: its index and label.
    case enumeration(Int, String)

    public var integerValue: Int64? {
        switch self {
        case .integer(let v): return v
        case .float(let v): return v.isFinite && v == v.rounded() ? Int64(exactly: v) : nil
        case .enumeration(let i, _): return Int64(i)
        case .string(let s): return Int64(s)
        }
    }

    public var doubleValue: Double? {
        switch self {
        case .integer(let v): return Double(v)
        case .float(let v): return v
        case .enumeration(let i, _): return Double(i)
        case .string(let s): return Double(s)
        }
    }

    public var description: String {
        switch self {
        case .integer(let v): return String(v)
        case .float(let v): return String(v)
        case .string(let s): return "\"\(s)\""
        case .enumeration(_, let s): return s
        }
    }
}

public struct AttributeDefinition: Sendable {
    public var name: String
    public var object: DBCObjectKind
    public var type: AttributeTypeSyntax
    public var defaultValue: AttributeValue?
    public var position: SourcePosition
}

public struct Node: Sendable {
    public var name: String
    public var comment: String?
    public var attributes = Attributes()
    public var position: SourcePosition
}

public struct Signal: Sendable {
    public var name: String
    public var startBit: Int
    public var length: Int
    public var byteOrder: ByteOrder
    public var isSigned: Bool
    public var valueType: SignalValueType
    public var factor: Double
    public var offset: Double
    public var minimum: Double
    public var maximum: Double
    public var unit: String
    public var receivers: [String]
    public var valueLabels: [ValueLabel] = []
    public var comment: String?
    public var attributes = Attributes()
    /// The raw initial value from `GenSigStartValue`, if given.
    public var initialRawValue: Double?
    /// True for `M` and `m<n>M`.
    public var isMultiplexer: Bool
    /// Present for `m<n>` and for signals named by `SG_MUL_VAL_`.
    public var multiplexCondition: MultiplexCondition?
    public var position: SourcePosition

    public var initialPhysicalValue: Double? { initialRawValue.map { $0 * factor + offset } }

    public func label(forRaw raw: Int128) -> String? { valueLabels.first { $0.value == raw }?.label }
}

public struct Message: Sendable {
    public var id: CANID
    public var name: String
    public var length: Int
    public var isFD: Bool
    public var senders: [String]
    /// GenMsgCycleTime in milliseconds; nil when absent or 0 (event-driven).
    public var cycleTimeMilliseconds: Int?
    public var comment: String?
    public var signals: [Signal]
    public var attributes = Attributes()
    public var signalGroups: [SignalGroup] = []
    public var position: SourcePosition

    public func signal(named name: String) -> Signal? { signals.first { $0.name == name } }
}

public struct SignalGroup: Sendable {
    public var name: String
    public var repetitions: Int
    public var signals: [String]
}

public struct EnvironmentVariable: Sendable {
    public var name: String
    public var type: Int
    public var minimum: Double
    public var maximum: Double
    public var unit: String
    public var initialValue: Double
    public var id: Int64
    public var accessType: String
    public var accessNodes: [String]
    public var dataSize: Int?
    public var valueLabels: [ValueLabel] = []
    public var comment: String?
    public var attributes = Attributes()
}

/// A loaded DBC database.
public struct Database: Sendable {
    public var fileName: String
    public var version: String = ""
    public var comment: String?
    public var nodes: [Node] = []
    public var messages: [Message] = []
    public var valueTables: [(name: String, labels: [ValueLabel])] = []
    public var environmentVariables: [EnvironmentVariable] = []
    public var attributeDefinitions: [AttributeDefinition] = []
    public var networkAttributes = Attributes()
    /// Relation attributes (BA_REL_): (object kind, node, message id, signal or env var, name) → value.
    public var relationAttributes: [(object: DBCObjectKind, node: String, id: CANID?, name: String?, attribute: String, value: AttributeValue)] = []
    /// What building the model noticed (a comment for a missing message, say).
    public var warnings: [Diagnostic] = []

    public func message(named name: String) -> Message? { messages.first { $0.name == name } }
    public func message(id: CANID) -> Message? { messages.first { $0.id == id } }

    /// Parses and builds a database from a file.
    public static func load(path: String) throws(Diagnostic) -> Database {
        try DatabaseBuilder.build(DBCParser.parse(path: path))
    }

    public static func parse(_ text: String, fileName: String = "<string>") throws(Diagnostic) -> Database {
        try DatabaseBuilder.build(DBCParser.parse(SourceText(fileName: fileName, string: text)))
    }
}

/// An object's attributes (BA_ lines), by name. A list rather than a hash table: an object has
/// a handful, a name is found by comparing a few (shared) strings, and building one per object
/// costs no hashing — a 7,000-line attribute section loads in a fraction of the time.
public struct Attributes: Sendable, Sequence, ExpressibleByDictionaryLiteral {
    public private(set) var entries: [(name: String, value: AttributeValue)] = []

    public init() {}
    public init(dictionaryLiteral elements: (String, AttributeValue)...) {
        for (k, v) in elements { self[k] = v }
    }

    /// The value named `name`; setting one that is there replaces it (a later BA_ line wins).
    public subscript(name: String) -> AttributeValue? {
        get {
            for e in entries where e.name == name { return e.value }
            return nil
        }
        set {
            if let i = entries.firstIndex(where: { $0.name == name }) {
                if let newValue { entries[i].value = newValue } else { entries.remove(at: i) }
            } else if let newValue {
                entries.append((name, newValue))
            }
        }
    }

    public var isEmpty: Bool { entries.isEmpty }
    public var count: Int { entries.count }
    public var names: [String] { entries.map(\.name) }

    public func makeIterator() -> IndexingIterator<[(name: String, value: AttributeValue)]> { entries.makeIterator() }
}
