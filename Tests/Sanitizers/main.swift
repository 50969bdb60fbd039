import CANBus
import CANLog
import DBC
import Foundation
import Gateway
import Synchronization
import VehicleState

// The sanitizer driver (scripts/sanitize.sh builds it with --sanitize=thread and =address):
//   vg-sanitize threads MAPPING LOG    the frame path replaying LOG while reader threads and
//                                      change-feed subscribers read everything it writes
//   vg-sanitize parsers FILE...        every parser of outside input over each file and
//                                      seeded mutations of it (truncated, bytes flipped, cut, doubled)
// Exit 0 when done; the sanitizer's report (and a non-zero exit) is the failure.

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data(("vg-sanitize: " + message + "\n").utf8))
    exit(2)
}

/// Readers on every side of the frame path: the context, every path, the events, the integrity
/// table and bus status from threads; two change-feed subscribers as tasks.
func threads(mapping mappingPath: String, log: String) async {
    let mapping: CompiledMapping
    do { mapping = try CompiledMapping.load(path: mappingPath) } catch { fail("\(error)") }
    var options = ReplaySource.Options(logs: [log])
    options.fast = true
    options.passes = 3
    let buses: BusResolver
    do { buses = try BusResolver(mapping: mapping) } catch { fail("\(error)") }
    let gateway = Gateway(mapping: mapping, source: ReplaySource(options, buses: buses))
    let state = gateway.state
    let a = state.feed.subscribe(.everything), b = state.feed.subscribe(.everything, minimumInterval: .milliseconds(20))
    gateway.start()
    let counts = Mutex([0, 0, 0])
    var readers: [Thread] = []
    for k in 0..<3 {
        let t = Thread {
            var n = 0
            while !gateway.control.isFinished {
                let c = state.context()
                n &+= c.json.utf8.count
                for p in 0..<state.store.pathCount { if let r = state.read(p) { n &+= Int(r.entry.version & 1) } }
                n &+= state.tracked.events.events(limit: 16).count
                n &+= state.stalePathCount()
                n &+= state.integrity.snapshot().reduce(0) { $0 &+ Int($1.passed) } &+ state.integrity.implausibleValues().count
                for bus in 0..<state.buses.count { n &+= Int(state.buses.frames(bus)) }
            }
            counts.withLock { $0[k] = n }
        }
        t.start()
        readers.append(t)
    }
    async let batchesA: Int = { var n = 0; for await batch in a { n += batch.changed.count + 1 }; return n }()
    async let batchesB: Int = { var n = 0; for await batch in b { n += batch.changed.count + 1 }; return n }()
    while !gateway.control.isFinished { try? await Task.sleep(for: .milliseconds(20)) }
    await gateway.shutdown()
    let (na, nb) = await (batchesA, batchesB)
    while readers.contains(where: { $0.isExecuting }) { try? await Task.sleep(for: .milliseconds(5)) }
    let frames = (0..<state.buses.count).reduce(UInt64(0)) { $0 + state.buses.frames($1) }
    print("threads: \(frames) frames through the frame path; feed batches \(na), \(nb); readers \(counts.withLock { $0.map { $0 != 0 } })")
    guard frames > 0, na > 0, nb > 0 else { fail("nothing went through the frame path") }
}

/// Seeded mutations of one input: itself, truncated, with bytes flipped, a range cut, a range doubled.
func mutations(of bytes: [UInt8], count: Int, seed: UInt64) -> [[UInt8]] {
    var state = seed | 1
    func next(_ bound: Int) -> Int {
        state ^= state << 13; state ^= state >> 7; state ^= state << 17
        return bound <= 0 ? 0 : Int(state % UInt64(bound))
    }
    var out = [bytes]
    for k in 0..<count {
        var m = bytes
        switch k % 4 {
        case 0: m = Array(m.prefix(next(m.count + 1)))
        case 1: for _ in 0..<(1 + next(8)) where !m.isEmpty { m[next(m.count)] = UInt8(truncatingIfNeeded: next(256)) }
        case 2: if !m.isEmpty { let a = next(m.count), b = min(m.count, a + 1 + next(64)); m.removeSubrange(a..<b) }
        default: if !m.isEmpty { let a = next(m.count), b = min(m.count, a + 1 + next(256)); m.insert(contentsOf: m[a..<b], at: a) }
        }
        out.append(m)
    }
    return out
}

func parseDBC(_ bytes: [UInt8]) -> Int {
    guard let syntax = try? DBCParser.parse(SourceText(fileName: "input.dbc", data: bytes)) else { return 0 }
    let db = DatabaseBuilder.build(syntax)
    let codec = DatabaseCodec(db)
    var out = [DecodedValue](repeating: DecodedValue(), count: max(codec.maxSignalCount, 1))
    let payload = [UInt8]((0..<64).map { UInt8(truncatingIfNeeded: $0 &* 37) })
    for i in codec.codecs.indices {
        for length in [0, 3, 8, 64] {
            payload.withUnsafeBytes { p in
                out.withUnsafeMutableBufferPointer { codec.decode(messageAt: i, UnsafeRawBufferPointer(rebasing: p.prefix(length)), into: $0) }
            }
        }
    }
    return Lint.run(db).count + codec.codecs.count
}

func parseCandump(_ bytes: [UInt8], scratch: String, gzip: Bool) -> Int {
    let path = scratch + (gzip ? "/input.log.gz" : "/input.log")
    _ = FileManager.default.createFile(atPath: path, contents: Data(bytes))
    var n = 0
    for mode in [CandumpReader.Mode.strict, .lenient] {
        guard var reader = try? CandumpReader(path: path, mode: mode, chunkSize: 4096) else { continue }
        while (try? reader.nextFrame()) != nil { n &+= 1 }
    }
    return n
}

func parseYAML(_ bytes: [UInt8], directory: String) -> Int {
    let text = String(decoding: bytes, as: UTF8.self)
    let (mapping, errors) = MappingFile.parse(text, fileName: "input.yaml")
    var n = errors.count
    if errors.isEmpty, let compiled = try? CompiledMapping.compile(mapping, resolve: { $0.hasPrefix("/") ? $0 : directory + "/" + $0 }) {
        n += compiled.paths.count
    }
    let (_, configErrors) = GatewayConfigFile.parse(text, fileName: "input.yaml")
    return n + configErrors.count
}

func parsers(_ files: [String]) {
    let scratch = NSTemporaryDirectory() + "vg-sanitize-\(getpid())"
    try? FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: scratch) }
    var inputs = 0
    for (k, file) in files.enumerated() {
        guard let data = FileManager.default.contents(atPath: file) else { fail("cannot read \(file)") }
        var bytes = [UInt8](data)
        let gzip = file.hasSuffix(".gz")
        // Large logs: the first 256 KiB as text (the reader's chunking is what matters).
        if !gzip, bytes.count > 262_144 { bytes = Array(bytes.prefix(262_144)) }
        let count = gzip ? 40 : 300
        let directory = (file as NSString).deletingLastPathComponent
        for m in mutations(of: bytes, count: count, seed: UInt64(k + 1) &* 0x9E37_79B9) {
            if file.hasSuffix(".dbc") { _ = parseDBC(m) }
            else if file.hasSuffix(".yaml") || file.hasSuffix(".yml") { _ = parseYAML(m, directory: directory) }
            else { _ = parseCandump(m, scratch: scratch, gzip: gzip) }
            inputs += 1
        }
    }
    print("parsers: \(inputs) inputs from \(files.count) files")
}

let args = CommandLine.arguments
switch args.count > 1 ? args[1] : "" {
case "threads" where args.count == 4: await threads(mapping: args[2], log: args[3])
case "parsers" where args.count > 2: parsers(Array(args.dropFirst(2)))
default: fail("usage: vg-sanitize threads MAPPING LOG | parsers FILE...")
}
