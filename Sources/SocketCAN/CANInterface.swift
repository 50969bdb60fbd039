#if canImport(Glibc)
import Glibc
#endif
import CSocketCAN

/// A network interface by name: its index and whether it is up, as the kernel says now.
public struct CANInterface: Sendable, Hashable, CustomStringConvertible {
    public let name: String

    public init(_ name: String) { self.name = name }

    /// The kernel's interface index, or nil when no such interface exists (now).
    public var index: Int32? {
        let i = if_nametoindex(name)
        return i == 0 ? nil : Int32(i)
    }

    public enum State: Sendable, Equatable { case up, down, absent }

    public var state: State {
        let flags = vg_interface_flags(name)
        if flags < 0 { return .absent }
        return flags & Int32(IFF_UP) != 0 ? .up : .down
    }

    public var description: String { name }

    /// The name of interface `index`, or nil.
    public static func name(ofIndex index: Int32) -> String? {
        var buffer = [CChar](repeating: 0, count: Int(IF_NAMESIZE) + 1)
        guard if_indextoname(UInt32(index), &buffer) != nil else { return nil }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
