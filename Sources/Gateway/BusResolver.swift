import CANBus
import VehicleState

/// Which bus a frame belongs to, by the interface name it came with (a socket's or a log
/// line's): the mapping's `interface:` of each bus, its bus name, and explicit assignments
/// (`--bus can3=powertrain`). An interface that maps to no bus is an error, never bus 0.
public struct BusResolver: Sendable {
    var byInterface: [String: Int]
    /// When set, every interface is a bus of its own, numbered as it first appears (the
    /// `replay` command, where a log's interfaces are the targets).
    let numbering: InterfaceNumbering?
    let described: String

    /// Resolves by the mapping's buses, plus `assignments` (interface → bus name).
    public init(mapping: CompiledMapping, assignments: [String: String] = [:]) throws(Diagnostics) {
        var table: [String: Int] = [:]
        for (i, b) in mapping.buses.enumerated() {
            table[b.name] = i
            if let name = b.interface { table[name] = i }
        }
        var problems: [Diagnostic] = []
        for (interface, bus) in assignments.sorted(by: { $0.key < $1.key }) {
            guard let i = mapping.buses.firstIndex(where: { $0.name == bus }) else {
                problems.append(Diagnostic(file: "--bus", line: 0, column: 0,
                                           message: "\(interface)=\(bus): the mapping has no bus '\(bus)' (buses: \(mapping.buses.map(\.name).joined(separator: ", ")))"))
                continue
            }
            table[interface] = i
        }
        if !problems.isEmpty { throw Diagnostics(problems) }
        byInterface = table
        numbering = nil
        described = mapping.buses.map { b in b.interface.map { "\(b.name) (\($0))" } ?? b.name }.joined(separator: ", ")
    }

    init(numbering: InterfaceNumbering) {
        byInterface = [:]
        self.numbering = numbering
        described = "every interface"
    }

    /// Every interface a bus of its own, numbered as it first appears; `name(of:)` says which.
    public static func everyInterface() -> BusResolver { BusResolver(numbering: InterfaceNumbering()) }

    /// The bus of `interface`, or nil.
    public func bus(of interface: String) -> Int? { numbering?.number(of: interface) ?? byInterface[interface] }

    /// The interface a bus was numbered for (`everyInterface` only).
    public func name(of bus: Int) -> String? { numbering?.name(of: bus) }

    /// Why `interface` has no bus, for the error that stops a source.
    public func unmapped(_ interface: String) -> String {
        "interface '\(interface)' maps to no bus (buses: \(described)); assign it with --bus \(interface)=BUS or the mapping's 'interface:'"
    }
}

/// Numbers interface names as they first appear. Used by one thread (the source's).
final class InterfaceNumbering: @unchecked Sendable {
    var numbers: [String: Int] = [:]
    var names: [String] = []

    func number(of interface: String) -> Int {
        if let n = numbers[interface] { return n }
        numbers[interface] = names.count
        names.append(interface)
        return names.count - 1
    }

    func name(of bus: Int) -> String? { bus < names.count ? names[bus] : nil }
}
