// The uplink's queue and connection against a real broker, as `OURS <name> <value> <unit>` lines
// for Benchmarks/api/uplink_bench.py (which starts the broker and measures the references):
//   live:  M messages enqueued with the connection up -> all acknowledged (QoS 1), messages/s;
//   per fsync policy (never, interval, always): M messages written to the on-disk queue while
//   the broker is unreachable (messages/s written), then a fresh connection on the same state
//   directory loads them and drains them to the broker (messages/s drained, load included).
// Usage: UplinkFigures BROKER_PORT DEAD_PORT PAYLOAD_FILE MESSAGES STATE_DIR
import Foundation
import Logging
import Uplink

let args = CommandLine.arguments
guard args.count == 6, let port = Int(args[1]), let deadPort = Int(args[2]), let payload = FileManager.default.contents(atPath: args[3]),
      let count = Int(args[4]) else {
    FileHandle.standardError.write(Data("usage: UplinkFigures BROKER_PORT DEAD_PORT PAYLOAD_FILE MESSAGES STATE_DIR\n".utf8))
    exit(2)
}
let root = args[5]
let logger: Logger = {
    var l = Logger(label: "uplink-figures")
    l.logLevel = .critical
    return l
}()

func now() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_MONOTONIC, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
}

func connection(_ name: String, port: Int, sync: UplinkConfiguration.JournalSync) -> MQTTConnection {
    let dir = root + "/" + name
    try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    var c = try! UplinkConfiguration(url: "mqtt://127.0.0.1:\(port)", vehicleID: "bench-\(name)", stateDirectory: dir)
    c.maxQueueBytes = 4 << 30
    c.journalSync = sync
    c.reconnectFirstSeconds = 0.05
    c.reconnectMaxSeconds = 0.2
    let will = OutgoingMessage(topic: c.statusTopic, payload: Array("{\"state\":\"offline\"}".utf8), retain: true, priority: 0)
    return MQTTConnection(configuration: c, will: will, logger: logger)
}

func message(_ i: Int, _ name: String) -> OutgoingMessage {
    OutgoingMessage(topic: "bench/\(name)/context", payload: [UInt8](payload), contentType: "application/json")
}

func waitAcknowledged(_ c: MQTTConnection, _ n: Int, timeout: Double = 600) -> Bool {
    let end = now() + timeout
    while c.counters.acknowledged < UInt64(n) {
        if now() > end { return false }
        usleep(200)
    }
    return true
}

let final = OutgoingMessage(topic: "bench/final", payload: [])
func report(_ name: String, _ value: Double, _ unit: String) {
    FileHandle.standardOutput.write(Data("OURS \(name) \(String(format: "%.1f", value)) \(unit)\n".utf8))
}

// Live: the connection up, then M messages as fast as they can be enqueued.
do {
    let c = connection("live", port: port, sync: .interval)
    try! c.start()
    let wait = now() + 20
    while !c.counters.connected, now() < wait { usleep(1000) }
    let t0 = now()
    for i in 0..<count { c.enqueue(message(i, "live")) }
    let enqueued = now()
    guard waitAcknowledged(c, count) else { fatalError("live: not all acknowledged: \(c.counters)") }
    let t1 = now()
    report("live_acknowledged", Double(count) / (t1 - t0), "msg/s")
    report("live_enqueue", Double(count) / (enqueued - t0), "msg/s")
    c.stop(final: final, seconds: 5)
}

for sync in UplinkConfiguration.JournalSync.allCases {
    let n = sync == .always ? min(count, 5_000) : count
    let name = "fsync-\(sync.rawValue)"
    let offline = connection(name, port: deadPort, sync: sync)
    try! offline.start()
    let t0 = now()
    for i in 0..<n { offline.enqueue(message(i, name)) }
    let t1 = now()
    let queued = offline.counters
    offline.stop(final: final, seconds: 0)
    guard queued.journalWriteFailures == 0, queued.queuedMessages == n else { fatalError("\(name): \(queued)") }
    report("write_\(sync.rawValue)", Double(n) / (t1 - t0), "msg/s")
    report("write_\(sync.rawValue)_mib", Double(queued.journalBytes) / (t1 - t0) / 1_048_576, "MiB/s")

    let online = connection(name, port: port, sync: sync)
    let t2 = now()
    try! online.start()
    guard waitAcknowledged(online, n) else { fatalError("\(name) drain: \(online.counters)") }
    let t3 = now()
    report("drain_\(sync.rawValue)", Double(n) / (t3 - t2), "msg/s")
    online.stop(final: final, seconds: 5)
}
