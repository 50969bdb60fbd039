#if canImport(Glibc)
import Glibc
#endif

/// A failed system call as a value: what was being done, and errno.
public struct SocketCANError: Error, CustomStringConvertible, Sendable, Equatable {
    public var errno: Int32
    public var operation: String

    public init(errno: Int32, operation: String) {
        self.errno = errno
        self.operation = operation
    }

    /// The interface is gone (deleted) or down: a reader waits for it instead of failing.
    public var isInterfaceGone: Bool { errno == ENODEV || errno == ENETDOWN || errno == ENXIO }
    /// The kernel has no CAN support at all (no `can` module).
    public var isCANUnsupported: Bool { errno == EAFNOSUPPORT || errno == EPROTONOSUPPORT }

    public var description: String {
        var text = "\(operation): \(String(cString: strerror(errno))) (errno \(errno))"
        if isCANUnsupported { text += "; this kernel has no SocketCAN (load the can and can_raw modules)" }
        return text
    }
}
