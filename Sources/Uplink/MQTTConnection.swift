import CANBus
import CMosquitto
import CSocketCAN
import Foundation
import Gateway
import Glibc
import Logging

/// A message for the broker. QoS 1 always: it leaves the queue only when the broker
/// acknowledges it (PUBACK), is evicted for room (the least important first), or expires.
public struct OutgoingMessage: Sendable {
    public var topic: String
    public var payload: [UInt8]
    public var retain: Bool
    /// 0 (most important) to 9: when the queue is full, the highest number goes first, the
    /// oldest of those first (as FleetWise's campaign priorities).
    public var priority: UInt8
    /// Wall time (ns) after which it is not worth sending; 0: never.
    public var expiresNanoseconds: Int64
    /// MQTT 5's content type (`application/json`, `application/x-protobuf`); nil: none.
    public var contentType: String?

    public init(topic: String, payload: [UInt8], retain: Bool = false, priority: UInt8 = 5, expiresNanoseconds: Int64 = 0,
                contentType: String? = nil) {
        self.topic = topic
        self.payload = payload
        self.retain = retain
        self.priority = priority
        self.expiresNanoseconds = expiresNanoseconds
        self.contentType = contentType
    }
}

/// What the uplink has done, for logs, metrics and /healthz.
public struct UplinkCounters: Sendable {
    public var connected = false
    public var queuedMessages = 0
    public var queuedBytes = 0
    public var inFlight = 0
    public var published: UInt64 = 0
    public var acknowledged: UInt64 = 0
    /// Messages dropped for room (the queue over its bound) and because they expired (TTL).
    public var evicted: UInt64 = 0
    public var expired: UInt64 = 0
    public var reconnects: UInt64 = 0
    public var lastAcknowledgedWallNanoseconds: Int64 = 0
    public var lastError = ""
    /// The queue on disk: bytes not yet acknowledged, torn records found at start, failed writes.
    public var journalBytes: UInt64 = 0
    public var tornRecords = 0
    public var journalWriteFailures: UInt64 = 0
}

/// libmosquitto (Debian's libmosquitto, MQTT 5 falling back to 3.1.1) driven on a thread of its
/// own: every libmosquitto call happens there, so the library needs no locks of ours. Other
/// threads only append to the queue and wake it (an eventfd). It reconnects with capped
/// exponential backoff and jitter; a persistent session (clean start off, a session expiry)
/// lets the broker keep what it acknowledged for us, and libmosquitto resends what was in flight.
public final class MQTTConnection: @unchecked Sendable {
    struct Shared {
        /// Queued, not yet handed to libmosquitto: each message with the offset past its record
        /// in the journal (nil if it could not be written there); dropped ones stay as gaps.
        var queue: [(message: OutgoingMessage, end: UInt64?, dropped: Bool)] = []
        var head = 0
        /// Every journaled record in file order, and whether it is done (acknowledged or evicted):
        /// the journal's acknowledged offset advances over the done ones at the front.
        var order: [(end: UInt64, done: Bool)] = []
        var orderHead = 0
        var journal: UplinkJournal?
        var counters = UplinkCounters()
        var stopping = false
        /// How long `stop` lets the queue drain before disconnecting.
        var stopSeconds = 2.0
        var finalMessage: OutgoingMessage?
        /// The earliest expiry among the queued messages (or sooner): the queue is scanned for
        /// expired messages only once it has passed, not on every enqueue.
        var nextExpiry = Int64.max
        /// The last journal write failed (disk full): logged once when it starts and when it ends.
        var journalFailing = false
    }

    let configuration: UplinkConfiguration
    let will: OutgoingMessage
    let logger: Logger
    private let shared = Locked(Shared())
    private let wakeFD: Int32
    private var thread: Thread?
    private let finished = DispatchSemaphore(value: 0)

    // Owned by the connection thread.
    private var mosq: OpaquePointer?
    private var connected = false
    private var connecting = false
    private var protocolVersion = MQTT_PROTOCOL_V5
    private var inFlight: [Int32: UInt64?] = [:]  // message id → its record's end in the journal
    private var lastLoggedError = ""
    private var everConnected = false
    /// Backoff between connection attempts: doubled by each attempt, reset only when the broker
    /// accepts (CONNACK success), so a broker that refuses the CONNECT is not hammered.
    private var reconnectDelay = 0.0
    private var nextAttempt = 0.0
    /// The library's last logged error (OpenSSL's reason for a TLS failure), added to ours.
    private var libraryError: String?
    /// The last TLS failure, until a connection succeeds: libmosquitto's later attempts after a
    /// refused handshake say only "Protocol error".
    private var lastTLSError: String?

    public init(configuration: UplinkConfiguration, will: OutgoingMessage, logger: Logger) {
        self.configuration = configuration
        self.will = will
        self.logger = logger
        wakeFD = vg_eventfd()
    }

    deinit {
        if let mosq { mosquitto_destroy(mosq) }
        close(wakeFD)
    }

    public var counters: UplinkCounters { shared.withLock { $0.counters } }

    /// Sets the client up; a file that cannot be read (TLS, credentials) is an error here, at
    /// start-up, not a silent reconnect loop later.
    public func start() throws(UplinkConfiguration.Problem) {
        var pending: [(OutgoingMessage, UInt64)] = []
        let journal = try UplinkJournal(directory: configuration.stateDirectory, syncEach: configuration.journalSync == .always, pending: &pending)
        shared.withLock { s in
            s.journal = journal
            for (m, end) in pending {
                s.queue.append((m, end, false))
                s.order.append((end, false))
                s.counters.queuedMessages += 1
                s.counters.queuedBytes += m.payload.count
                if m.expiresNanoseconds != 0 { s.nextExpiry = min(s.nextExpiry, m.expiresNanoseconds) }
            }
            s.counters.tornRecords = journal.tornRecords
            s.counters.journalBytes = journal.end - journal.acknowledged
        }
        if !pending.isEmpty || journal.tornRecords > 0 {
            logger.notice("uplink queue from the last run", metadata: ["messages": "\(pending.count)", "torn_records": "\(journal.tornRecords)"])
        }
        mosquitto_lib_init()
        let c = configuration
        guard let m = mosquitto_new(c.clientID, false, Unmanaged.passUnretained(self).toOpaque()) else {
            throw .init(description: "cannot create the MQTT client (out of memory)")
        }
        mosq = m
        mosquitto_int_option(m, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V5)
        if let user = c.username { check(mosquitto_username_pw_set(m, user, c.password), "username") }
        if c.usesTLS {
            for (file, what) in [(c.caFile, "CA file"), (c.certFile, "client certificate"), (c.keyFile, "client key")] {
                if let file, !FileManager.default.isReadableFile(atPath: file) { throw .init(description: "cannot read the uplink's \(what) \(file)") }
            }
            guard c.caFile != nil else { throw .init(description: "mqtts:// needs the CA that signed the broker's certificate (--uplink-ca)") }
            if (c.certFile == nil) != (c.keyFile == nil) { throw .init(description: "mutual TLS needs both --uplink-cert and --uplink-key") }
            let rc = mosquitto_tls_set(m, c.caFile, nil, c.certFile, c.keyFile, nil)
            if rc != MOSQ_ERR_SUCCESS.rawValue {
                throw .init(description: "cannot set up TLS for the uplink: \(String(cString: mosquitto_strerror(rc))) (check that the key matches the certificate)")
            }
        } else if c.caFile != nil || c.certFile != nil {
            throw .init(description: "TLS files were given for a plain mqtt:// uplink: use mqtts://")
        }
        let rc = will.payload.withUnsafeBytes { mosquitto_will_set_v5(m, will.topic, Int32(will.payload.count), $0.baseAddress, 1, true, nil) }
        check(rc, "last will")
        mosquitto_connect_v5_callback_set(m) { _, object, rc, _, _ in
            Unmanaged<MQTTConnection>.fromOpaque(object!).takeUnretainedValue().connected(rc)
        }
        mosquitto_disconnect_v5_callback_set(m) { _, object, rc, _ in
            Unmanaged<MQTTConnection>.fromOpaque(object!).takeUnretainedValue().disconnected(rc)
        }
        // libmosquitto says why TLS failed only in its log (OpenSSL's reason): keep its errors.
        mosquitto_log_callback_set(m) { _, object, level, text in
            guard level & MOSQ_LOG_ERR != 0, let text else { return }
            Unmanaged<MQTTConnection>.fromOpaque(object!).takeUnretainedValue().libraryError = String(cString: text)
        }
        mosquitto_publish_v5_callback_set(m) { _, object, mid, rc, _ in
            Unmanaged<MQTTConnection>.fromOpaque(object!).takeUnretainedValue().acknowledged(mid, rc)
        }
        let t = Thread { [self] in loop(); finished.signal() }
        t.name = "vg-uplink"
        thread = t
        t.start()
    }

    /// Queues a message: into the journal on disk first, then the queue in memory. Expired
    /// messages go; over the byte bound, the least important make room, the oldest of them
    /// first (never the last message of all). Each is counted and logged.
    public func enqueue(_ message: OutgoingMessage) {
        let (full, stale, disk) = shared.withLock { s -> (UInt64, UInt64, (failing: Bool, errno: Int32)?) in
            let end = s.journal?.append(message)
            if let end { s.order.append((end, false)) } else { s.counters.journalWriteFailures += 1 }
            var disk: (failing: Bool, errno: Int32)?
            if let j = s.journal, (end == nil) != s.journalFailing {
                s.journalFailing = end == nil
                disk = (end == nil, j.lastWriteError)
            }
            s.queue.append((message, end, false))
            s.counters.queuedMessages += 1
            s.counters.queuedBytes += message.payload.count
            let now = SystemClock.wallNanoseconds()
            var stale: UInt64 = 0, full: UInt64 = 0
            if message.expiresNanoseconds != 0 { s.nextExpiry = min(s.nextExpiry, message.expiresNanoseconds) }
            if now >= s.nextExpiry {
                s.nextExpiry = .max
                for i in s.head..<s.queue.count where !s.queue[i].dropped && s.queue[i].message.expiresNanoseconds != 0 {
                    if s.queue[i].message.expiresNanoseconds <= now {
                        Self.drop(i, in: &s)
                        stale += 1
                    } else {
                        s.nextExpiry = min(s.nextExpiry, s.queue[i].message.expiresNanoseconds)
                    }
                }
            }
            while s.counters.queuedBytes > configuration.maxQueueBytes, s.counters.queuedMessages > 1 {
                // The least important (highest number), the oldest of them.
                var victim = -1
                for i in s.head..<(s.queue.count - 1) where !s.queue[i].dropped {
                    if victim < 0 || s.queue[i].message.priority > s.queue[victim].message.priority { victim = i }
                }
                guard victim >= 0 else { break }
                Self.drop(victim, in: &s)
                full += 1
            }
            s.counters.evicted += full
            s.counters.expired += stale
            s.counters.journalBytes = s.journal.map { $0.end - $0.acknowledged } ?? 0
            return (full, stale, disk)
        }
        if let disk {
            if disk.failing {
                logger.error("uplink queue: cannot write to the journal (\(String(cString: strerror(disk.errno)))): messages are kept in memory only until it can",
                             metadata: ["directory": "\(configuration.stateDirectory)"])
            } else {
                logger.notice("uplink queue: the journal is written again")
            }
        }
        if full > 0 { logger.warning("uplink queue full: the least important oldest messages were dropped", metadata: ["evicted": "\(full)"]) }
        if stale > 0 { logger.notice("uplink messages expired before the broker could be reached", metadata: ["expired": "\(stale)"]) }
        wake()
    }

    /// Takes a queued message out (evicted or expired): its record is done.
    private static func drop(_ i: Int, in s: inout Shared) {
        s.queue[i].dropped = true
        s.counters.queuedMessages -= 1
        s.counters.queuedBytes -= s.queue[i].message.payload.count
        if let end = s.queue[i].end { done(end, in: &s) }
    }

    /// A journaled record is done (acknowledged or evicted): advance the journal's
    /// acknowledged offset over the done records at the front.
    private static func done(_ end: UInt64, in s: inout Shared) {
        guard let i = (s.orderHead..<s.order.count).first(where: { s.order[$0].end == end }) else { return }
        s.order[i].done = true
        var frontier: UInt64?
        while s.orderHead < s.order.count, s.order[s.orderHead].done {
            frontier = s.order[s.orderHead].end
            s.orderHead += 1
        }
        if s.orderHead > 1024, s.orderHead * 2 > s.order.count { s.order.removeFirst(s.orderHead); s.orderHead = 0 }
        if let frontier, let journal = s.journal {
            journal.acknowledge(upTo: frontier)
            if journal.end == 0 { s.order.removeAll(); s.orderHead = 0 }  // emptied: offsets start again
            s.counters.journalBytes = journal.end - journal.acknowledged
        }
    }

    /// Sends `final` (the offline status), waits up to `seconds` for what is queued to be
    /// acknowledged, and disconnects cleanly (so the broker does not publish the will).
    public func stop(final: OutgoingMessage, seconds: Double) {
        shared.withLock { s in s.finalMessage = final; s.stopping = true; s.stopSeconds = seconds }
        wake()
        if finished.wait(timeout: .now() + seconds + 1) == .timedOut {
            logger.warning("the uplink did not finish in time")
        }
    }

    private func wake() {
        var one: UInt64 = 1
        _ = write(wakeFD, &one, 8)
    }

    // MARK: the connection thread

    private func loop() {
        guard let m = mosq else { return }
        reconnectDelay = configuration.reconnectFirstSeconds
        var stopDeadline: Double?
        var sentFinal = false
        while true {
            let now = Self.seconds()
            let (stopping, final, stopSeconds) = shared.withLock { ($0.stopping, $0.finalMessage, $0.stopSeconds) }
            if stopping, stopDeadline == nil { stopDeadline = now + stopSeconds }
            if let stopDeadline {
                let drained = shared.withLock { $0.head == $0.queue.count } && inFlight.isEmpty
                if (sentFinal && inFlight.isEmpty) || now > stopDeadline || (!connected && !connecting) {
                    if connected { mosquitto_disconnect_v5(m, 0, nil); _ = mosquitto_loop_write(m, 1) }
                    return
                }
                if drained, !sentFinal, connected, let final {
                    publish(m, final)
                    sentFinal = true
                }
            }
            if !connected, !connecting, stopDeadline == nil, now >= nextAttempt {
                // Every attempt, whether the TCP connect fails or the broker then refuses the
                // CONNECT, waits longer before the next; ±25 % jitter, so a fleet coming out of
                // one tunnel does not reconnect in step.
                nextAttempt = now + reconnectDelay * Double.random(in: 0.75...1.25)
                reconnectDelay = min(reconnectDelay * 2, configuration.reconnectMaxSeconds)
                connect(m)
            }
            if connected { sendQueued(m) }
            syncJournalIfDue()
            var fds = [pollfd(fd: wakeFD, events: Int16(POLLIN), revents: 0)]
            let socket = mosquitto_socket(m)
            if socket >= 0 {
                fds.append(pollfd(fd: socket, events: Int16(POLLIN) | (mosquitto_want_write(m) ? Int16(POLLOUT) : 0), revents: 0))
            }
            let wait = connected || connecting ? 1.0 : max(0.01, min(1.0, nextAttempt - Self.seconds()))
            _ = poll(&fds, nfds_t(fds.count), Int32(wait * 1000))
            if fds[0].revents & Int16(POLLIN) != 0 {
                var drain: UInt64 = 0
                _ = read(wakeFD, &drain, 8)
            }
            if fds.count > 1 {
                var rc = MOSQ_ERR_SUCCESS.rawValue
                if fds[1].revents & Int16(POLLIN | POLLHUP | POLLERR) != 0 { rc = mosquitto_loop_read(m, 1) }
                if rc == MOSQ_ERR_SUCCESS.rawValue, mosquitto_want_write(m) { rc = mosquitto_loop_write(m, 1) }
                if rc == MOSQ_ERR_SUCCESS.rawValue { rc = mosquitto_loop_misc(m) }
                if rc != MOSQ_ERR_SUCCESS.rawValue { lost(rc) }
            }
        }
    }

    private func connect(_ m: OpaquePointer) {
        var properties: OpaquePointer? = nil
        if protocolVersion == MQTT_PROTOCOL_V5 {
            mosquitto_property_add_int32(&properties, Int32(MQTT_PROP_SESSION_EXPIRY_INTERVAL.rawValue), configuration.sessionExpirySeconds)
        }
        libraryError = nil
        let rc = mosquitto_connect_bind_v5(m, configuration.host, Int32(configuration.port), Int32(configuration.keepAliveSeconds), nil, properties)
        mosquitto_property_free_all(&properties)
        if rc == MOSQ_ERR_SUCCESS.rawValue {
            connecting = true
        } else {
            report("cannot connect to \(configuration.brokerDescription): \(describe(rc))")
        }
    }

    private func sendQueued(_ m: OpaquePointer) {
        // Up to 64 unacknowledged at once; the rest wait in our queue, in order.
        while inFlight.count < 64 {
            let next = shared.withLock { s -> (OutgoingMessage, UInt64?)? in
                let now = SystemClock.wallNanoseconds()
                while s.head < s.queue.count {
                    let q = s.queue[s.head]
                    if q.dropped { s.head += 1; continue }
                    if q.message.expiresNanoseconds != 0, q.message.expiresNanoseconds <= now {
                        Self.drop(s.head, in: &s)
                        s.counters.expired += 1
                        s.head += 1
                        continue
                    }
                    return (q.message, q.end)
                }
                return nil
            }
            guard let (message, end) = next else { break }
            guard publish(m, message, end: end) else { break }
            shared.withLock { s in
                s.head += 1
                s.counters.queuedMessages -= 1
                s.counters.queuedBytes -= message.payload.count
                if s.head > 1024, s.head * 2 > s.queue.count { s.queue.removeFirst(s.head); s.head = 0 }
            }
        }
    }

    private var lastSync = 0.0

    /// `fsync: interval`: the journal's new records reach the disk at most a second late.
    private func syncJournalIfDue() {
        guard configuration.journalSync == .interval else { return }
        let now = Self.seconds()
        guard now - lastSync >= 1 else { return }
        lastSync = now
        shared.withLock { $0.journal }?.sync()
    }

    @discardableResult
    private func publish(_ m: OpaquePointer, _ message: OutgoingMessage, end: UInt64? = nil) -> Bool {
        var mid: Int32 = 0
        var properties: OpaquePointer? = nil
        if protocolVersion == MQTT_PROTOCOL_V5, let type = message.contentType {
            mosquitto_property_add_string(&properties, Int32(MQTT_PROP_CONTENT_TYPE.rawValue), type)
        }
        let rc = message.payload.withUnsafeBytes {
            mosquitto_publish_v5(m, &mid, message.topic, Int32(message.payload.count), $0.baseAddress, 1, message.retain, properties)
        }
        mosquitto_property_free_all(&properties)
        guard rc == MOSQ_ERR_SUCCESS.rawValue else {
            report("cannot publish to \(message.topic): \(Self.describe(rc))")
            return false
        }
        inFlight[mid] = .some(end)
        shared.withLock { s in s.counters.published += 1; s.counters.inFlight = inFlight.count }
        return true
    }

    private func connected(_ rc: Int32) {
        connecting = false
        if rc == 0 {
            connected = true
            reconnectDelay = configuration.reconnectFirstSeconds
            let again = everConnected
            everConnected = true
            shared.withLock { s in s.counters.connected = true; if again { s.counters.reconnects += 1 } }
            logger.info("uplink connected", metadata: ["broker": "\(configuration.brokerDescription)", "mqtt": "\(protocolVersion == MQTT_PROTOCOL_V5 ? "5" : "3.1.1")"])
            lastLoggedError = ""
            lastTLSError = nil
            return
        }
        // A 3.1.1 broker answers a version-5 CONNECT with "unacceptable protocol version" (1),
        // a 5 broker that refuses 5 with 132: try 3.1.1.
        if protocolVersion == MQTT_PROTOCOL_V5, rc == 1 || rc == 132 {
            protocolVersion = MQTT_PROTOCOL_V311
            mosquitto_int_option(mosq, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311)
            report("the broker refused MQTT 5; using MQTT 3.1.1")
            nextAttempt = 0
            return
        }
        let reason = protocolVersion == MQTT_PROTOCOL_V5 ? String(cString: mosquitto_reason_string(rc)) : String(cString: mosquitto_connack_string(rc))
        report("the broker \(configuration.brokerDescription) refused the connection: \(reason)")
    }

    private func disconnected(_ rc: Int32) {
        if connected || connecting, rc != 0 { report("uplink disconnected: \(describe(rc))") }
        connected = false
        connecting = false
        shared.withLock { $0.counters.connected = false }
    }

    private func lost(_ rc: Int32) {
        if connected || connecting { report("uplink connection lost: \(describe(rc))") }
        connected = false
        connecting = false
        shared.withLock { $0.counters.connected = false }
    }

    private func acknowledged(_ mid: Int32, _ rc: Int32) {
        guard let end = inFlight.removeValue(forKey: mid) else { return }
        shared.withLock { s in
            s.counters.inFlight = inFlight.count
            if let end { Self.done(end, in: &s) }
            if rc < 128 {
                s.counters.acknowledged += 1
                s.counters.lastAcknowledgedWallNanoseconds = SystemClock.wallNanoseconds()
            }
        }
        if rc >= 128 { report("the broker refused a message: \(String(cString: mosquitto_reason_string(rc)))") }
    }

    /// Logs a problem once until it changes (a broker down for an hour is one line, not 120).
    private func report(_ text: String) {
        shared.withLock { $0.counters.lastError = text }
        guard text != lastLoggedError else { return }
        lastLoggedError = text
        logger.warning("\(text)")
    }

    /// The library's reason for `rc`, with what it logged (OpenSSL's words on a TLS failure).
    private func describe(_ rc: Int32) -> String {
        let text = Self.describe(rc)
        defer { libraryError = nil }
        if let detail = libraryError {
            if detail.contains("SSL") || detail.contains("TLS") || detail.contains("certificate") { lastTLSError = detail }
            return "\(text) (\(detail))"
        }
        // (EPROTO arrives as MOSQ_ERR_ERRNO.)
        if let tls = lastTLSError, rc == MOSQ_ERR_PROTOCOL.rawValue || rc == MOSQ_ERR_TLS.rawValue || rc == MOSQ_ERR_ERRNO.rawValue {
            return "\(text) (after the TLS failure: \(tls))"
        }
        // A handshake the broker refuses can fail inside the connect call with no word from
        // OpenSSL but EPROTO: say what it means.
        if configuration.usesTLS, rc == MOSQ_ERR_PROTOCOL.rawValue || rc == MOSQ_ERR_TLS.rawValue || (rc == MOSQ_ERR_ERRNO.rawValue && errno == EPROTO) {
            return "\(text): the TLS handshake failed (does the broker trust this car's certificate, and is --uplink-ca the broker's CA?)"
        }
        return text
    }

    static func describe(_ rc: Int32) -> String {
        if rc == MOSQ_ERR_ERRNO.rawValue { return String(cString: strerror(errno)) }
        return String(cString: mosquitto_strerror(rc))
    }

    static func seconds() -> Double { Double(SystemClock.monotonicNanoseconds()) / 1e9 }

    private func check(_ rc: Int32, _ what: String) {
        if rc != MOSQ_ERR_SUCCESS.rawValue { logger.error("uplink \(what): \(Self.describe(rc))") }
    }
}
