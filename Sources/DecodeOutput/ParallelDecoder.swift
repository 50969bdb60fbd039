#if canImport(Glibc)
import Glibc
#endif
import CANBus
import CANLog
import DBC

/// `decode` on several threads, with exactly the sequential output: the log is read in runs of
/// whole lines (about a megabyte each); each run is parsed, decoded and written as text or JSON
/// by one of the workers into a buffer of its own, and the buffers go out in the runs' order.
/// Every worker has its own writer (scratch space) and interface table; they share only the
/// compiled database, which is read-only.
///
/// Not for `--check`: whether a frame's counter is right depends on the frames before it.
public final class ParallelDecoder {
    /// One run of lines on its way through a worker.
    final class Slot {
        var input: UnsafeMutableRawBufferPointer
        var count = 0
        var firstLine = 0
        /// Room for a run's lines decoded: JSON is about four times the log text.
        let output = OutputBuffer(capacity: 5 * ParallelDecoder.runBytes)
        var diagnostics: [Diagnostic] = []
        /// Strict reading stopped at the last of `diagnostics`.
        var stopped = false
        var quit = false
        /// Main thread only: the slot holds a run that is not written out yet.
        var busy = false
        let ready = UnsafeMutablePointer<sem_t>.allocate(capacity: 1)
        let done = UnsafeMutablePointer<sem_t>.allocate(capacity: 1)

        init(capacity: Int) {
            input = .allocate(byteCount: capacity, alignment: 16)
            sem_init(ready, 0, 0)
            sem_init(done, 0, 0)
        }

        deinit {
            input.deallocate()
            sem_destroy(ready); ready.deallocate()
            sem_destroy(done); done.deallocate()
        }

        func load(_ lines: UnsafeRawBufferPointer, firstLine: Int) {
            if lines.count > input.count {
                input.deallocate()
                input = .allocate(byteCount: lines.count, alignment: 16)
            }
            if let base = lines.baseAddress { input.baseAddress!.copyMemory(from: base, byteCount: lines.count) }
            count = lines.count
            self.firstLine = firstLine
            output.removeAll()
            diagnostics.removeAll(keepingCapacity: true)
            stopped = false
        }
    }

    /// A worker's own state, and the slots it takes in turn.
    final class Worker {
        let writer: DecodedFrameWriter
        var parser: CandumpBlockParser
        let slots: [Slot]
        let strict: Bool
        var thread = pthread_t()

        init(writer: DecodedFrameWriter, fileName: String, slots: [Slot], strict: Bool) {
            self.writer = writer
            parser = CandumpBlockParser(fileName: fileName)
            self.slots = slots
            self.strict = strict
        }

        func run() {
            var turn = 0
            while true {
                let slot = slots[turn % slots.count]
                turn += 1
                sem_wait(slot.ready)
                if slot.quit { return }
                let writer = self.writer, strict = self.strict, text = writer.format == .text
                let out = slot.output
                let lines = UnsafeRawBufferPointer(start: slot.input.baseAddress, count: slot.count)
                _ = parser.parse(lines, firstLine: slot.firstLine, frame: { f, name in
                    writer.append(timestamp: f.timestamp, interface: text ? name : UnsafeRawBufferPointer(start: nil, count: 0),
                                  frame: f.frame, to: out)
                }, malformed: { e in
                    slot.diagnostics.append(e)
                    if strict { slot.stopped = true; return false }
                    return true
                })
                sem_post(slot.done)
            }
        }
    }

    public let codec: DatabaseCodec
    public let format: DecodedFrameWriter.Format
    public let workerCount: Int
    /// A run of lines handed to one worker: small enough that every buffer stays in use (no
    /// fresh pages per run) and that even a few megabytes of log spread over the workers.
    static let runBytes = 256 * 1024

    /// `workers` threads (at least 1).
    public init(codec: DatabaseCodec, format: DecodedFrameWriter.Format, workers: Int) {
        self.codec = codec
        self.format = format
        workerCount = max(1, workers)
    }

    /// The processors this process may run on (at least 1).
    public static var availableProcessors: Int { max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))) }

    /// What reading the log found wrong: the diagnostics in line order, and whether strict
    /// reading stopped at the last one.
    public struct Outcome {
        public var errors = 0
        public var stoppedAt: Diagnostic?
    }

    /// Decodes every frame `reader` gives, handing the output to `write` in order and each
    /// malformed line to `malformed` (lenient), or stopping at the first (strict: it is then
    /// `stoppedAt`, after the output of every line before it). Errors reading the input are
    /// thrown after the output of what was read before them.
    public func run(_ reader: inout CandumpReader, strict: Bool, write: (OutputBuffer) -> Void,
                    malformed: (Diagnostic) -> Void) throws(CANIOError) -> Outcome {
        let slotCount = 2 * workerCount
        let slots = (0..<slotCount).map { _ in Slot(capacity: Self.runBytes) }
        let workers = (0..<workerCount).map { w in
            Worker(writer: DecodedFrameWriter(codec: codec, format: format), fileName: reader.fileName,
                   slots: [slots[w], slots[w + workerCount]], strict: strict)
        }
        for w in workers {
            let context = Unmanaged.passRetained(w).toOpaque()
            pthread_create(&w.thread, nil, { raw in
                let worker = Unmanaged<Worker>.fromOpaque(raw!).takeRetainedValue()
                worker.run()
                return nil
            }, context)
        }
        var outcome = Outcome()
        var stopped = false
        // Waits for a slot's run and writes it out (or only waits, once strict reading stopped).
        func finish(_ slot: Slot) {
            guard slot.busy else { return }
            sem_wait(slot.done)
            slot.busy = false
            guard !stopped else { return }
            write(slot.output)
            for (k, d) in slot.diagnostics.enumerated() {
                outcome.errors += 1
                if slot.stopped, k == slot.diagnostics.count - 1 { outcome.stoppedAt = d } else { malformed(d) }
            }
            if slot.stopped { stopped = true }
        }
        var next = 0
        var failure: CANIOError?
        do {
            while !stopped, let (lines, first) = try reader.nextLines(upTo: Self.runBytes) {
                let slot = slots[next % slotCount]
                finish(slot)
                if stopped { break }
                slot.load(lines, firstLine: first)
                slot.busy = true
                sem_post(slot.ready)
                next += 1
            }
        } catch {
            failure = error
        }
        for k in next..<(next + slotCount) { finish(slots[k % slotCount]) }
        for w in workers {
            // Each worker waits on its slots in turn: tell the next one it waits for to quit.
            for s in w.slots { s.quit = true; sem_post(s.ready) }
        }
        for w in workers { pthread_join(w.thread, nil) }
        if let failure { throw failure }
        return outcome
    }
}
