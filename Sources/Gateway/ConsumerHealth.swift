import CANBus

/// A consumer of the change feed that has its own health to report beside the buses (the
/// uplink: connected, queued, acknowledged). The API's /healthz shows each under its name, so
/// the API needs no knowledge of the consumers (and no import of them).
public protocol ConsumerHealth: Sendable {
    /// The key in /healthz, e.g. "uplink".
    var healthName: String { get }
    /// A JSON object.
    func appendHealthJSON(to out: inout TextBuffer)
}

/// The consumers that report health; registered at start-up, read by /healthz.
public final class ConsumerHealthRegistry: Sendable {
    private let reporters = Locked<[any ConsumerHealth]>([])

    public init() {}

    public func register(_ reporter: any ConsumerHealth) { reporters.withLock { $0.append(reporter) } }

    public var all: [any ConsumerHealth] { reporters.withLock { $0 } }
}
