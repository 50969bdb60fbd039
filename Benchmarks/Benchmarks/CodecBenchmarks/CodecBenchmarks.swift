import Benchmark
import CANBus
import CANLog
import DBC
#if canImport(Glibc)
import Glibc
#endif

/// Inputs come from scripts/bench.sh (a generated ~800 KB DBC and a candump log for it), the
/// same files the cantools reference measures in the same run.
struct Inputs: @unchecked Sendable {
    let dbcPath: String
    let logPath: String
    let codec: DatabaseCodec
    let frames: [CANFrame]

    static let shared: Inputs = {
        let env = { (name: String) -> String in
            guard let v = getenv(name) else { fatalError("set \(name) (scripts/bench.sh does)") }
            return String(cString: v)
        }
        let dbcPath = env("VG_BENCH_DBC"), logPath = env("VG_BENCH_LOG")
        let db = try! Database.load(path: dbcPath)
        var reader = try! CandumpReader(path: logPath)
        var frames: [CANFrame] = []
        while let r = try! reader.next() { frames.append(r.frame) }
        return Inputs(dbcPath: dbcPath, logPath: logPath, codec: DatabaseCodec(db), frames: frames)
    }()
}

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal, .peakMemoryResident],
        warmupIterations: 1,
        maxDuration: .seconds(3)
    )

    Benchmark("DBC load (parse + model)", configuration: .init(maxIterations: 50)) { benchmark in
        let path = Inputs.shared.dbcPath
        benchmark.startMeasurement()
        blackHole(try! Database.load(path: path))
    }

    Benchmark("Decode in-memory frames, all signals (1 op = 1 frame)",
              configuration: .init(scalingFactor: .mega)) { benchmark in
        let inputs = Inputs.shared
        var values = [DecodedValue](repeating: DecodedValue(), count: inputs.codec.maxSignalCount)
        let frames = inputs.frames
        let count = frames.count
        benchmark.startMeasurement()
        var i = 0
        var checksum = 0.0
        values.withUnsafeMutableBufferPointer { out in
            for _ in benchmark.scaledIterations {
                let frame = frames[i]
                i += 1
                if i == count { i = 0 }
                guard let id = frame.id, let index = inputs.codec.index(of: id) else { continue }
                frame.withPayload { inputs.codec.decode(messageAt: index, $0, into: out) }
                checksum += out[0].physical
            }
        }
        blackHole(checksum)
    }

    Benchmark("candump log text to decoded frames (1 op = 1 frame)",
              configuration: .init(scalingFactor: .kilo, maxIterations: 20)) { benchmark in
        // One iteration reads the whole log; scaling by the frame count gives frames/s.
        let inputs = Inputs.shared
        var values = [DecodedValue](repeating: DecodedValue(), count: inputs.codec.maxSignalCount)
        benchmark.startMeasurement()
        var reader = try! CandumpReader(path: inputs.logPath)
        var frames = 0
        values.withUnsafeMutableBufferPointer { out in
            while let r = try! reader.next() {
                frames += 1
                guard let id = r.frame.id, let index = inputs.codec.index(of: id) else { continue }
                r.frame.withPayload { inputs.codec.decode(messageAt: index, $0, into: out) }
            }
        }
        blackHole(frames)
    }
}
