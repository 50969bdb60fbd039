#if canImport(Glibc)
import Glibc
#endif
import CLibSocketCAN
import CSocketCAN

/// Controller control and status through libsocketcan (netlink). Virtual interfaces such as
/// vcan have no controller: every call then answers `.unsupported` instead of failing.
public struct CANController: Sendable {
    public let interface: String

    public init(interface: String) { self.interface = interface }

    public enum State: String, Sendable {
        case errorActive = "error-active", errorWarning = "error-warning", errorPassive = "error-passive"
        case busOff = "bus-off", stopped, sleeping
    }

    /// A controller answer, or why there is none.
    public enum Answer<Value: Sendable>: Sendable {
        case value(Value)
        /// The interface has no CAN controller (vcan), or the driver does not offer this.
        case unsupported(String)
    }

    public struct ErrorCounters: Sendable, Equatable { public var tx: UInt16; public var rx: UInt16 }

    public struct DeviceStatistics: Sendable, Equatable {
        public var busErrors, errorWarnings, errorPassives, busOffs, arbitrationLosses, restarts: UInt32
    }

    func unsupported<V>(_ what: String) -> Answer<V> {
        .unsupported("\(interface) does not report \(what) (no CAN controller behind it, e.g. vcan, or the driver lacks it)")
    }

    public var state: Answer<State> {
        var raw: Int32 = 0
        guard can_get_state(interface, &raw) == 0 else { return unsupported("its controller state") }
        switch UInt32(raw) {
        case CAN_STATE_ERROR_ACTIVE.rawValue: return .value(.errorActive)
        case CAN_STATE_ERROR_WARNING.rawValue: return .value(.errorWarning)
        case CAN_STATE_ERROR_PASSIVE.rawValue: return .value(.errorPassive)
        case CAN_STATE_BUS_OFF.rawValue: return .value(.busOff)
        case CAN_STATE_STOPPED.rawValue: return .value(.stopped)
        default: return .value(.sleeping)
        }
    }

    public var errorCounters: Answer<ErrorCounters> {
        var c = can_berr_counter()
        guard can_get_berr_counter(interface, &c) == 0 else { return unsupported("bus error counters") }
        return .value(ErrorCounters(tx: c.txerr, rx: c.rxerr))
    }

    public var statistics: Answer<DeviceStatistics> {
        var s = can_device_stats()
        guard can_get_device_stats(interface, &s) == 0 else { return unsupported("device statistics") }
        return .value(DeviceStatistics(busErrors: s.bus_error, errorWarnings: s.error_warning, errorPassives: s.error_passive,
                                       busOffs: s.bus_off, arbitrationLosses: s.arbitration_lost, restarts: s.restarts))
    }

    public var bitrate: Answer<UInt32> {
        var t = can_bittiming()
        guard can_get_bittiming(interface, &t) == 0, t.bitrate > 0 else { return unsupported("a bit rate") }
        return .value(t.bitrate)
    }

    /// Sets the bit rate (the interface must be down); `.unsupported` on vcan.
    public func setBitrate(_ bitsPerSecond: UInt32) -> Answer<Void> {
        can_set_bitrate(interface, bitsPerSecond) == 0 ? .value(()) : unsupported("a settable bit rate")
    }

    /// Sets the CAN FD data-phase bit rate (the interface must be down). libsocketcan has no call
    /// for it, so this speaks rtnetlink itself.
    public func setDataBitrate(_ bitsPerSecond: UInt32) -> Answer<Void> {
        let rc = vg_set_data_bitrate(interface, bitsPerSecond)
        if rc == 0 { return .value(()) }
        return .unsupported("\(interface) refused a data bit rate: \(String(cString: strerror(-rc))) (errno \(-rc)); it needs a CAN FD controller, set down")
    }

    /// Restarts the controller after bus-off.
    public func restart() -> Answer<Void> {
        can_do_restart(interface) == 0 ? .value(()) : unsupported("a restartable controller")
    }

    /// Automatic restart this many milliseconds after bus-off (0 turns it off).
    public func setAutomaticRestart(milliseconds: UInt32) -> Answer<Void> {
        can_set_restart_ms(interface, milliseconds) == 0 ? .value(()) : unsupported("automatic restart")
    }
}
