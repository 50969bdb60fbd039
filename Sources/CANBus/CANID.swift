/// A CAN identifier: 11-bit (standard) or 29-bit (extended).
///
/// The two spaces are distinct: standard 0x123 and extended 0x00000123 are different ids,
/// which is why the flag is part of the value and of its hash.
public struct CANID: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The identifier bits, without any flag (at most 0x7FF or 0x1FFFFFFF).
    public let value: UInt32
    public let isExtended: Bool

    public static let standardMask: UInt32 = 0x7FF
    public static let extendedMask: UInt32 = 0x1FFF_FFFF

    /// Nil when `value` does not fit the chosen id space.
    public init?(_ value: UInt32, extended: Bool) {
        guard value <= (extended ? Self.extendedMask : Self.standardMask) else { return nil }
        self.value = value
        self.isExtended = extended
    }

    @inlinable
    public init(unchecked value: UInt32, extended: Bool) {
        self.value = value
        self.isExtended = extended
    }

    public static func standard(_ value: UInt32) -> CANID? { CANID(value, extended: false) }
    public static func extended(_ value: UInt32) -> CANID? { CANID(value, extended: true) }

    /// One number for both spaces, as SocketCAN's `can_id` carries it (bit 31 = extended).
    @inlinable

    public static func < (a: CANID, b: CANID) -> Bool {
        (a.isExtended ? 1 : 0, a.value) < (b.isExtended ? 1 : 0, b.value)
    }

    /// candump spelling: 3 hex digits for standard ids, 8 for extended ones.
    public var description: String {
        let hex = String(value, radix: 16, uppercase: true)
        let width = isExtended ? 8 : 3
        return String(repeating: "0", count: max(0, width - hex.count)) + hex
    }
}
