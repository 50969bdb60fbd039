import CANBus
import CANLog
import DBC
#if canImport(Glibc)
import Glibc
#endif

// Usage: CodecFigures DBC LOG [seconds-per-figure]
// Each figure is the best of several timed rounds (like the cantools reference script).

func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

let args = CommandLine.arguments
guard args.count >= 3 else {
    print("usage: CodecFigures DBC LOG [seconds]")
    exit(2)
}
let dbcPath = args[1], logPath = args[2]
let budget = args.count > 3 ? Double(args[3])! : 3.0
/// Optional: only one figure (dbc_load, decode_inmem, log_decode), for profiling.
let only = args.count > 4 ? args[4] : nil
func wanted(_ name: String) -> Bool { only == nil || only == name }

/// Runs `body` repeatedly for about `budget` seconds; returns the fastest round in seconds.
/// What `body` returns is released after the clock stops (loading is measured, not freeing).
func best(_ body: () -> Void) -> Double {
    var fastest = Double.infinity
    let end = now() + budget
    repeat {
        let t0 = now()
        body()
        fastest = min(fastest, now() - t0)
    } while now() < end
    return fastest
}

var sink = 0.0
var loadOnly = Double.infinity

if wanted("dbc_load") {
    var keep: [Database] = []
    let loadTime = best {
        keep.removeAll()  // the previous round's database is freed here, before its clock starts
        let t0 = now()
        let db = try! Database.load(path: dbcPath)
        loadOnly = min(loadOnly, now() - t0)
        keep.append(db)
    }
    _ = loadTime
    print("OURS dbc_load \(String(format3: loadOnly * 1000)) ms")
}

if only == "dbc_load" { exit(sink == 42 ? 1 : 0) }
let codec = DatabaseCodec(try! Database.load(path: dbcPath))
var frames: [CANFrame] = []
do {
    var reader = try! CandumpReader(path: logPath)
    while let r = try! reader.next() { frames.append(r.frame) }
}
// The timed loops are functions with local state: top-level variables of main.swift are
// globals, and every access to one would pay a dynamic exclusivity check.
@inline(never)
func decodeInMemory(_ frames: [CANFrame], _ codec: DatabaseCodec) -> Double {
    var values = [DecodedValue](repeating: DecodedValue(), count: codec.maxSignalCount)
    var sum = 0.0
    values.withUnsafeMutableBufferPointer { out in
        for frame in frames {
            guard let id = frame.id, let index = codec.index(of: id) else { continue }
            frame.withPayload { codec.decode(messageAt: index, $0, into: out) }
            sum += out[0].physical
        }
    }
    return sum
}

@inline(never)
func decodeLog(_ path: String, _ codec: DatabaseCodec) -> (frames: Int, sum: Double) {
    var values = [DecodedValue](repeating: DecodedValue(), count: codec.maxSignalCount)
    var reader = try! CandumpReader(path: path)
    var frames = 0, sum = 0.0
    var r = LogFrame()
    values.withUnsafeMutableBufferPointer { out in
        while try! reader.nextFrame(into: &r) {
            frames += 1
            guard let id = r.frame.id, let index = codec.index(of: id) else { continue }
            r.frame.withPayload { codec.decode(messageAt: index, $0, into: out) }
            sum += out[0].physical
        }
    }
    return (frames, sum)
}

if wanted("decode_inmem") {
    let decodeTime = best { sink += decodeInMemory(frames, codec) }
    print("OURS decode_inmem \(Int(Double(frames.count) / decodeTime)) frames/s")
}

var logFrames = 0
if wanted("log_decode") {
    let logTime = best {
        let (n, sum) = decodeLog(logPath, codec)
        logFrames = n
        sink += sum
    }
    print("OURS log_decode \(Int(Double(logFrames) / logTime)) frames/s")
}
if sink == 42 { print("") }  // keep the work observable

extension String {
    init(format3 v: Double) {
        let scaled = (v * 1000).rounded() / 1000
        self = "\(scaled)"
    }
}
