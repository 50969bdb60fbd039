import CANBus
import Foundation
import Gateway
import Logging
import VehicleState

/// A load generator for the fleet side: N simulated cars, each its own MQTT client with its
/// own session, Last Will, journal and `seq`, publishing through the same uplink code as the
/// gateway (the message, the queue, the connection). They share one drive — the gateway's
/// context — each a little apart on the map, so the broker and the consumers can be measured
/// with N cars but one process.
public final class FleetLoad: Sendable {
    public struct Car: Sendable {
        public var vehicleID: String
        public var published: UInt64
        public var acknowledged: UInt64
        public var lastSeq: UInt64
    }

    let connections: [MQTTConnection]
    let configurations: [UplinkConfiguration]
    let gateway: Gateway
    let rate: Double
    let encoder: [MessageEncoder]
    let logger: Logger

    /// `template`: the broker and its settings; cars are `{prefix}-1` ... `{prefix}-N`, each
    /// publishing its context `rate` times a second (their starts spread over one interval).
    public init(template: UplinkConfiguration, count: Int, prefix: String, rate: Double, stateDirectory: String, gateway: Gateway,
                logger: Logger) throws(UplinkConfiguration.Problem) {
        var configurations: [UplinkConfiguration] = [], connections: [MQTTConnection] = []
        for i in 1...count {
            var c = template
            c.vehicleID = "\(prefix)-\(i)"
            c.clientID = "vehicle-gateway-\(c.vehicleID)"
            c.stateDirectory = stateDirectory + "/" + c.vehicleID
            do { try FileManager.default.createDirectory(atPath: c.stateDirectory, withIntermediateDirectories: true) } catch {
                throw .init(description: "cannot create \(c.stateDirectory): \(error.localizedDescription)")
            }
            configurations.append(c)
            let will = OutgoingMessage(topic: c.statusTopic, payload: Array(Uplink.statusJSON(c.vehicleID, online: false, version: "load",
                                                                                              buses: [], reason: "connection lost").utf8), retain: true, priority: 0)
            connections.append(MQTTConnection(configuration: c, will: will, logger: logger))
        }
        self.configurations = configurations
        self.connections = connections
        self.gateway = gateway
        self.rate = rate
        encoder = configurations.map { MessageEncoder(encoding: $0.encoding, vehicleID: $0.vehicleID) }
        self.logger = logger
    }

    /// Publishes for `seconds`, then lets each car drain and say offline; what each sent.
    public func run(seconds: Double) async throws(UplinkConfiguration.Problem) -> [Car] {
        for c in connections { try c.start() }
        let n = connections.count
        var seq = [UInt64](repeating: 0, count: n)
        let interval = 1 / rate
        let start = SystemClock.monotonicSeconds()
        var next = (0..<n).map { start + interval * Double($0) / Double(n) }
        while SystemClock.monotonicSeconds() - start < seconds {
            let now = SystemClock.monotonicSeconds()
            let context = gateway.state.context()
            for i in 0..<n where next[i] <= now {
                seq[i] += 1
                var shifted = context
                if var l = shifted.location.value {
                    l.latitude += Double(i % 50) * 0.002
                    l.longitude += Double(i / 50) * 0.002
                    shifted.location.value = l
                }
                connections[i].enqueue(Uplink.contextMessage(shifted, seq: seq[i], configuration: configurations[i], encoder: encoder[i]))
                next[i] += interval
            }
            let wake = next.min() ?? now + interval
            try? await Task.sleep(for: .seconds(max(0.001, wake - SystemClock.monotonicSeconds())))
        }
        await withTaskGroup(of: Void.self) { group in
            for (i, c) in connections.enumerated() {
                let final = OutgoingMessage(topic: configurations[i].statusTopic, payload: Array(Uplink.statusJSON(
                    configurations[i].vehicleID, online: false, version: "load", buses: [], reason: "stopped").utf8), retain: true, priority: 0)
                group.addTask { await withCheckedContinuation { done in Thread { c.stop(final: final, seconds: 10); done.resume() }.start() } }
            }
        }
        return connections.enumerated().map { i, c in
            let k = c.counters
            return Car(vehicleID: configurations[i].vehicleID, published: k.published, acknowledged: k.acknowledged, lastSeq: seq[i])
        }
    }
}
