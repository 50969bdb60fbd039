import CANBus
import CMosquitto
import Foundation
import Glibc
import Logging
import Synchronization
import Uplink

/// The fleet side's MQTT client (libmosquitto, MQTT 5): one member of a shared subscription
/// (`$share/{group}/vehicles/+/context` and `.../status`), so several consumer processes split
/// the fleet's messages between them, each message to one. QoS 1 and a persistent session (the
/// broker keeps what arrives while a consumer restarts). It runs its own thread; every message
/// goes to `handle`, on that thread.
final class FleetSubscriber: @unchecked Sendable {
    let broker: UplinkConfiguration
    let group: String
    let sessionExpirySeconds: UInt32
    let handle: @Sendable (_ topic: String, _ payload: [UInt8], _ contentType: String?) -> Void
    let logger: Logger
    private var mosq: OpaquePointer?
    private let stopping = Mutex(false)
    private let connectedFlag = Mutex(false)
    private let finished = DispatchSemaphore(value: 0)
    private let lastError = Mutex("")

    init(broker: UplinkConfiguration, group: String, sessionExpirySeconds: UInt32, logger: Logger,
         handle: @escaping @Sendable (String, [UInt8], String?) -> Void) {
        self.broker = broker
        self.group = group
        self.sessionExpirySeconds = sessionExpirySeconds
        self.logger = logger
        self.handle = handle
    }

    deinit { if let mosq { mosquitto_destroy(mosq) } }

    var connected: Bool { connectedFlag.withLock { $0 } }
    var error: String { lastError.withLock { $0 } }

    /// The topics it subscribes to (shared among the group).
    var topics: [String] { ["$share/\(group)/vehicles/+/context", "$share/\(group)/vehicles/+/status"] }

    func start() throws(UplinkConfiguration.Problem) {
        mosquitto_lib_init()
        let c = broker
        guard let m = mosquitto_new(c.clientID, sessionExpirySeconds == 0, Unmanaged.passUnretained(self).toOpaque()) else {
            throw .init(description: "cannot create the MQTT client (out of memory)")
        }
        mosq = m
        mosquitto_int_option(m, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V5)
        if let user = c.username { mosquitto_username_pw_set(m, user, c.password) }
        if c.usesTLS {
            guard let ca = c.caFile else { throw .init(description: "mqtts:// needs the CA that signed the broker's certificate (--ca)") }
            let rc = mosquitto_tls_set(m, ca, nil, c.certFile, c.keyFile, nil)
            if rc != MOSQ_ERR_SUCCESS.rawValue { throw .init(description: "cannot set up TLS: \(String(cString: mosquitto_strerror(rc)))") }
        }
        mosquitto_connect_v5_callback_set(m) { m, object, rc, _, _ in
            let me = Unmanaged<FleetSubscriber>.fromOpaque(object!).takeUnretainedValue()
            guard rc == 0 else {
                me.report("the broker refused the connection: \(String(cString: mosquitto_reason_string(rc)))")
                return
            }
            me.connectedFlag.withLock { $0 = true }
            for t in me.topics { mosquitto_subscribe_v5(m, nil, t, 1, 0, nil) }
            me.logger.info("fleet consumer connected", metadata: ["broker": "\(me.broker.brokerDescription)", "group": "\(me.group)"])
        }
        mosquitto_disconnect_v5_callback_set(m) { _, object, _, _ in
            Unmanaged<FleetSubscriber>.fromOpaque(object!).takeUnretainedValue().connectedFlag.withLock { $0 = false }
        }
        mosquitto_message_v5_callback_set(m) { _, object, message, properties in
            guard let message else { return }
            let me = Unmanaged<FleetSubscriber>.fromOpaque(object!).takeUnretainedValue()
            let topic = String(cString: message.pointee.topic)
            let payload = message.pointee.payload.map { Array(UnsafeRawBufferPointer(start: $0, count: Int(message.pointee.payloadlen))) } ?? []
            var type: UnsafeMutablePointer<CChar>?
            var contentType: String?
            if mosquitto_property_read_string(properties, Int32(MQTT_PROP_CONTENT_TYPE.rawValue), &type, false) != nil, let type {
                contentType = String(cString: type)
                free(type)
            }
            me.handle(topic, payload, contentType)
        }
        let t = Thread { [self] in loop(); finished.signal() }
        t.name = "vg-fleet-mqtt"
        t.start()
    }

    func stop() {
        stopping.withLock { $0 = true }
        _ = finished.wait(timeout: .now() + 3)
    }

    private func report(_ text: String) {
        let changed = lastError.withLock { old -> Bool in defer { old = text }; return old != text }
        if changed { logger.warning("\(text)") }
    }

    private func loop() {
        guard let m = mosq else { return }
        var delay = 0.5
        var properties: OpaquePointer? = nil
        mosquitto_property_add_int32(&properties, Int32(MQTT_PROP_SESSION_EXPIRY_INTERVAL.rawValue), sessionExpirySeconds)
        var rc = mosquitto_connect_bind_v5(m, broker.host, Int32(broker.port), Int32(broker.keepAliveSeconds), nil, properties)
        while !stopping.withLock({ $0 }) {
            if rc == MOSQ_ERR_SUCCESS.rawValue {
                rc = mosquitto_loop(m, 200, 1)
                if rc == MOSQ_ERR_SUCCESS.rawValue { delay = 0.5 }
                continue
            }
            connectedFlag.withLock { $0 = false }
            report("fleet consumer: cannot reach \(broker.brokerDescription): \(rc == MOSQ_ERR_ERRNO.rawValue ? String(cString: strerror(errno)) : String(cString: mosquitto_strerror(rc)))")
            Thread.sleep(forTimeInterval: delay * Double.random(in: 0.75...1.25))
            delay = min(delay * 2, 10)
            rc = mosquitto_reconnect(m)
        }
        mosquitto_property_free_all(&properties)
        mosquitto_disconnect_v5(m, 0, nil)
        _ = mosquitto_loop(m, 100, 1)
    }
}
