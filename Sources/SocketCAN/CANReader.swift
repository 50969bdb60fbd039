#if canImport(Glibc)
import Glibc
#endif
import CANBus
import CSocketCAN
import Synchronization

/// Reads several interfaces at once and keeps reading through interfaces that go down or
/// disappear: it reports the loss, waits for the interface to return, and opens it again.
public final class CANReader: @unchecked Sendable {
    public enum Event: Sendable {
        case frame(CANLogRecord)
        /// An error frame, with what it says decoded.
        case busError(CANLogRecord, BusError)
        case interfaceDown(String, reason: String)
        case interfaceUp(String)
        /// The kernel dropped frames for want of buffer space (`newDrops` since the last report).
        case kernelDrops(interface: String, newDrops: UInt32, total: UInt32)
    }

    public let interfaces: [String]
    /// Per interface: its socket's options (filters may differ per bus).
    public let options: [CANSocketOptions]
    /// How often an interface that is gone is looked for again.
    public var retryMilliseconds: Int32 = 200
    var sockets: [CANSocket?]
    var reportedDrops: [UInt32]
    var lastRetry: [Double]

    /// Opens every interface now; one that is missing or down is reported by `run` and waited for.
    public convenience init(interfaces: [String], options: CANSocketOptions = CANSocketOptions()) {
        self.init(interfaces: interfaces, options: Array(repeating: options, count: interfaces.count))
    }

    /// Each interface with options of its own.
    public init(interfaces: [String], options: [CANSocketOptions]) {
        precondition(options.count == interfaces.count, "one CANSocketOptions per interface")
        self.interfaces = interfaces
        self.options = options
        sockets = Array(repeating: nil, count: interfaces.count)
        reportedDrops = Array(repeating: 0, count: interfaces.count)
        lastRetry = Array(repeating: -1, count: interfaces.count)
    }

    /// Opens the socket of interface `i` now; throws when CAN itself is unsupported.
    func open(_ i: Int, emit: (Int, Event) -> Void, announce: Bool) throws(SystemError) {
        let name = interfaces[i]
        guard name == CANSocket.anyInterface || CANInterface(name).state == .up else { return }
        do {
            sockets[i] = try CANSocket(interface: name, options: options[i])
            reportedDrops[i] = 0
            if announce { emit(i, .interfaceUp(name)) }
        } catch {
            if error.isCANUnsupported { throw error }
            sockets[i] = nil
        }
    }

    /// Reads until `shouldStop` returns true (checked at least every `tickMilliseconds`), handing
    /// each event to `emit` with the position of its interface in `interfaces`, so a caller
    /// resolves what an interface means once, not per frame. Throws only for problems no
    /// waiting can fix (no CAN in the kernel, a bad option).
    public func run(tickMilliseconds: Int32 = 100, shouldStop: () -> Bool, emit: (Int, Event) -> Void,
                    ready: () -> Void = {}) throws(SystemError) {
        for i in interfaces.indices {
            try open(i, emit: emit, announce: false)
            if sockets[i] == nil {
                emit(i, .interfaceDown(interfaces[i], reason: CANInterface(interfaces[i]).state == .absent ? "no such interface" : "interface is down"))
            }
        }
        ready()
        var fds = [Int32](repeating: -1, count: interfaces.count)
        var revents = [Int16](repeating: 0, count: interfaces.count)
        while !shouldStop() {
            let now = SystemClock.monotonicSeconds()
            for i in interfaces.indices where sockets[i] == nil && now - lastRetry[i] >= Double(retryMilliseconds) / 1000 {
                lastRetry[i] = now
                try open(i, emit: emit, announce: true)
            }
            var open = 0
            for i in interfaces.indices { fds[i] = sockets[i]?.descriptor ?? -1; if fds[i] >= 0 { open += 1 } }
            if open == 0 {
                usleep(UInt32(min(tickMilliseconds, retryMilliseconds)) * 1000)
                continue
            }
            let ready = vg_poll_many(fds, &revents, Int32(fds.count), tickMilliseconds)
            if ready < 0 { throw SystemError(errno: -ready, operation: "poll CAN sockets") }
            if ready == 0 {
                // Quiet bus: notice an interface set down (vcan delivers no error for that).
                for i in interfaces.indices where sockets[i] != nil && interfaces[i] != CANSocket.anyInterface
                    && CANInterface(interfaces[i]).state != .up {
                    lost(i, reason: "interface went down", emit: emit)
                }
                continue
            }
            for i in interfaces.indices where revents[i] != 0 {
                guard let socket = sockets[i] else { continue }
                do {
                    // Drain what is there now, a batch at a time.
                    while try socket.receive(timeoutMilliseconds: 0, { record in
                        if case .error(let e) = record.frame {
                            emit(i, .busError(record, BusError(e)))
                        } else {
                            emit(i, .frame(record))
                        }
                    }) == options[i].batchSize {}
                    if socket.kernelDrops != reportedDrops[i] {
                        emit(i, .kernelDrops(interface: interfaces[i], newDrops: socket.kernelDrops &- reportedDrops[i], total: socket.kernelDrops))
                        reportedDrops[i] = socket.kernelDrops
                    }
                } catch {
                    if error.isInterfaceGone || error.errno == EBADF {
                        lost(i, reason: error.description, emit: emit)
                    } else {
                        throw error
                    }
                }
            }
        }
    }

    func lost(_ i: Int, reason: String, emit: (Int, Event) -> Void) {
        sockets[i] = nil
        lastRetry[i] = SystemClock.monotonicSeconds()
        emit(i, .interfaceDown(interfaces[i], reason: reason))
    }


    /// The same reading on a thread of its own, as an AsyncSequence. The buffer keeps the newest
    /// `bufferSize` events, so a slow consumer costs memory only up to that bound.
    public func events(bufferSize: Int = 65536) -> AsyncThrowingStream<Event, Error> {
        let (stream, continuation) = AsyncThrowingStream<Event, Error>.makeStream(bufferingPolicy: .bufferingNewest(bufferSize))
        let stop = StopFlag()
        continuation.onTermination = { _ in stop.set() }
        let thread = ReaderThread {
            do {
                try self.run(shouldStop: { stop.isSet }, emit: { _, event in continuation.yield(event) })
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
        }
        thread.start()
        return stream
    }
}

/// A flag one thread sets and another polls.
final class StopFlag: Sendable {
    private let value = Atomic<Bool>(false)
    var isSet: Bool { value.load(ordering: .acquiring) }
    func set() { value.store(true, ordering: .releasing) }
}

/// A plain pthread, so blocking reads never occupy a Swift concurrency thread.
final class ReaderThread: @unchecked Sendable {
    let body: () -> Void
    init(_ body: @escaping () -> Void) { self.body = body }
    func start() {
        var thread = pthread_t()
        let box = Unmanaged.passRetained(self)
        pthread_create(&thread, nil, { raw in
            let me = Unmanaged<ReaderThread>.fromOpaque(raw!).takeRetainedValue()
            me.body()
            return nil
        }, box.toOpaque())
        pthread_detach(thread)
    }
}
