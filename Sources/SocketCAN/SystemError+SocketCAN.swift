#if canImport(Glibc)
import Glibc
#endif
import CANBus

/// What a SocketCAN failure means for a reader: wait for the interface, or give up.
extension SystemError {
    /// The interface is gone (deleted) or down: a reader waits for it instead of failing.
    public var isInterfaceGone: Bool { errno == ENODEV || errno == ENETDOWN || errno == ENXIO }
    /// The kernel has no CAN support at all (no `can` module).
    public var isCANUnsupported: Bool { errno == EAFNOSUPPORT || errno == EPROTONOSUPPORT }
}
