import CANBus
import DBC
import Integrity

/// Checks frames one by one against their message's integrity check, for tools that report a
/// verdict per frame (`decode --check`): the result of checking that frame against the frames of
/// its message before it, not the message's validity state.
public struct FrameChecker {
    var integrity: CompiledIntegrity
    let codec: DatabaseCodec

    /// The checks of a mapping's `integrity:` section (and its DBC families), on its first bus.
    public init(mapping: CompiledMapping) {
        integrity = mapping.integrity
        codec = mapping.buses.first?.codec ?? DatabaseCodec([])
    }

    /// Only what the DBC files' names imply (opendbc's car families, `CHECKSUM`/`COUNTER`).
    public static func forDBCFiles(_ files: [String]) throws(Diagnostics) -> FrameChecker {
        let file = MappingFile(fileName: "--dbc", buses: [MappingFile.Bus(name: "can", dbcFiles: files, interface: nil,
                                                                            place: MappingFile.Place(line: 0, column: 0))])
        return FrameChecker(mapping: try CompiledMapping.compile(file))
    }

    /// How many messages are checked.
    public var checkedMessages: Int { integrity.checks.count }

    /// "ok" or why the frame fails ("checksum", "counter", "repeated"); nil when its message
    /// has no check.
    public mutating func verdict(_ frame: CANFrame) -> StaticString? {
        guard let id = frame.id, let m = codec.index(of: id), !integrity.index.isEmpty else { return nil }
        let c = integrity.check(bus: 0, message: m)
        guard c >= 0 else { return nil }
        switch frame { case .data, .fd: break; default: return nil }
        let fault = frame.withPayload { integrity.checks[c].check($0) }
        switch fault {
        case nil: return "ok"
        case .checksum?: return "checksum"
        case .counter?: return "counter"
        case .repeated?: return "repeated"
        case .implausible?: return "implausible"
        }
    }
}
