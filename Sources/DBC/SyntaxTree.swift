import CANBus
/// The DBC file as written: one node per statement, each with its source position.
/// The descriptor model (`Database`) is built from this and knows nothing of syntax.
public struct DBCFileSyntax: Sendable {
    public var fileName: String
    public var encoding: SourceText.Encoding
    public var statements: [DBCStatement] = []
    /// Problems that did not stop parsing (unknown sections skipped, for example).
    public var warnings: [Diagnostic] = []
}

public enum DBCObjectKind: String, Sendable {
    case network = "", node = "BU_", message = "BO_", signal = "SG_", environmentVariable = "EV_"
    case nodeSignal = "BU_SG_REL_", nodeEnvironmentVariable = "BU_EV_REL_", nodeMessage = "BU_BO_REL_"
}

/// A number as written: integral ones keep their exact integer value as well.
public struct DBCNumber: Sendable, Equatable {
    public var double: Double
    /// For integral values (decimal, hex, or a decimal fraction that is whole) that fit 64 bits:
    /// the magnitude and sign, kept apart so parsing needs no 128-bit arithmetic.
    public var magnitude: UInt64
    public var isNegative: Bool
    public var isInteger: Bool

    public init(double: Double, magnitude: UInt64, isNegative: Bool, isInteger: Bool) {
        self.double = double
        self.magnitude = magnitude
        self.isNegative = isNegative
        self.isInteger = isInteger
    }

    public init(double: Double, integer: Int128?) {
        self.double = double
        if let integer, integer.magnitude <= UInt128(UInt64.max) {
            magnitude = UInt64(integer.magnitude)
            isNegative = integer < 0
            isInteger = true
        } else {
            magnitude = 0
            isNegative = false
            isInteger = false
        }
    }

    /// The exact value when the literal is an integer.
    public var integer: Int128? {
        guard isInteger else { return nil }
        return isNegative ? -Int128(magnitude) : Int128(magnitude)
    }

    /// The value as an Int64, when it is an integer that fits.
    @inline(__always)
    public var int64: Int64? {
        guard isInteger else { return nil }
        if isNegative { return magnitude <= UInt64(Int64.max) + 1 ? Int64(bitPattern: 0 &- magnitude) : nil }
        return magnitude <= UInt64(Int64.max) ? Int64(magnitude) : nil
    }
}

public enum AttributeValueSyntax: Sendable, Equatable {
    case number(DBCNumber)
    case string(String)
}

public struct AttributeTypeSyntax: Sendable, Equatable {
    public enum Kind: String, Sendable { case int = "INT", hex = "HEX", float = "FLOAT", string = "STRING", enumeration = "ENUM" }
    public var kind: Kind
    public var minimum: DBCNumber?
    public var maximum: DBCNumber?
    public var enumValues: [String] = []
}

public struct SignalSyntax: Sendable {
    public var name: String
    /// `M`, `m3`, `m3M`, or empty.
    public var multiplexIndicator: String
    public var startBit: Int
    public var length: Int
    /// 1 = Intel (little-endian), 0 = Motorola (big-endian).
    public var byteOrder: Int
    public var isSigned: Bool
    public var factor: Double
    public var offset: Double
    public var minimum: Double
    public var maximum: Double
    public var unit: String
    public var receivers: [String]
    public var position: SourcePosition
}

public struct MessageSyntax: Sendable {
    public var rawID: UInt32
    public var name: String
    public var length: Int
    public var sender: String
    public var signals: [SignalSyntax]
    public var position: SourcePosition
}

public enum DBCStatement: Sendable {
    case version(String, SourcePosition)
    case newSymbols([String], SourcePosition)
    case bitTiming(SourcePosition)
    case nodes([(name: String, position: SourcePosition)], SourcePosition)
    case valueTable(name: String, entries: [ValueLabel], SourcePosition)
    case message(MessageSyntax)
    case messageTransmitters(rawID: UInt32, nodes: [String], SourcePosition)
    case environmentVariable(name: String, type: Int, minimum: Double, maximum: Double, unit: String,
                             initial: Double, id: Int64, accessType: String, nodes: [String], SourcePosition)
    case environmentVariableData(name: String, size: Int, SourcePosition)
    case comment(object: DBCObjectKind, node: String?, rawID: UInt32?, name: String?, text: String, SourcePosition)
    case attributeDefinition(object: DBCObjectKind, name: String, type: AttributeTypeSyntax, relation: Bool, SourcePosition)
    case attributeDefault(name: String, value: AttributeValueSyntax, relation: Bool, SourcePosition)
    /// `BA_` and `BA_REL_`; `node` is set for relations, `rawID`/`name` name the object.
    case attribute(name: String, object: DBCObjectKind, node: String?, rawID: UInt32?, objectName: String?,
                   value: AttributeValueSyntax, SourcePosition)
    case valueDescriptions(rawID: UInt32?, name: String, entries: [ValueLabel], SourcePosition)
    case signalGroup(rawID: UInt32, name: String, repetitions: Int, signals: [String], SourcePosition)
    case signalValueType(rawID: UInt32, signal: String, type: Int, SourcePosition)
    case multiplexedValues(rawID: UInt32, signal: String, multiplexer: String,
                           ranges: [ClosedRange<Int64>], SourcePosition)
    case unknown(keyword: String, SourcePosition)
}

/// Lint and the parser report `Diagnostic`s; these build them from a DBC source position.
extension Diagnostic {
    public init(_ severity: Severity, file: String, position: SourcePosition, check: String, _ message: String) {
        self.init(file: file, line: position.line, column: position.column, severity: severity, message: message, check: check)
    }

    public var position: SourcePosition { SourcePosition(line: line, column: column) }
}
