/// A problem at a place in an input file, printed as compilers print them:
/// `car.dbc:12:5: error: expected ':' (found 'x')`. The one diagnostic type of every layer:
/// DBC files, candump logs, VSS mappings and configuration files.
public struct Diagnostic: Error, CustomStringConvertible, Sendable, Equatable {
    public enum Severity: String, Sendable { case error, warning }

    public var file: String
    /// 1-based; 0 when the problem concerns the whole file (it could not be opened).
    public var line: Int
    public var column: Int
    public var severity: Severity
    public var message: String
    /// The lint check or rule that found it, printed as ` [name]` (lint only).
    public var check: String?

    public init(file: String, line: Int, column: Int, severity: Severity = .error, message: String, check: String? = nil) {
        self.file = file
        self.line = line
        self.column = column
        self.severity = severity
        self.message = message
        self.check = check
    }

    public var isError: Bool { severity == .error }

    public var description: String {
        let place = line > 0 ? "\(file):\(line):\(column)" : file
        return "\(place): \(severity.rawValue): \(message)" + (check.map { " [\($0)]" } ?? "")
    }
}

/// Several diagnostics reported together, in file order.
public struct Diagnostics: Error, CustomStringConvertible, Sendable, Equatable {
    public var items: [Diagnostic]

    public init(_ items: [Diagnostic]) {
        self.items = items.enumerated().sorted { a, b in
            (a.element.file, a.element.line, a.element.column, a.offset) < (b.element.file, b.element.line, b.element.column, b.offset)
        }.map(\.element)
    }

    public var errors: [Diagnostic] { items.filter(\.isError) }
    public var description: String { items.map(\.description).joined(separator: "\n") }
}
