#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CANBus
import CZlib

/// Reads a candump log from a file descriptor in large chunks and hands out one parsed record
/// at a time. The chunk buffer is reused, so memory stays bounded whatever the log's size.
/// A gzip-compressed file (`drive.log.gz`) is decompressed as it is read.
public struct CandumpReader: ~Copyable {
    public enum Mode: Sendable {
        /// Stop at the first malformed line.
        case strict
        /// Report malformed lines and go on with the next one.
        case lenient
    }

    public let fileName: String
    public let mode: Mode
    let fd: Int32
    let ownsDescriptor: Bool
    /// Set when the file is gzip-compressed: reads go through zlib.
    let gzip: gzFile?
    var buffer: UnsafeMutableRawBufferPointer
    var start = 0
    var end = 0
    var eof = false
    public private(set) var lineNumber = 0
    var interfaces = InterfaceNames()
    /// Malformed lines seen so far in lenient mode (the first ones are kept for reporting).
    public private(set) var errorCount = 0
    public private(set) var firstErrors: [Diagnostic] = []
    static let keptErrors = 100
    /// The longest line accepted: a 64-byte FD frame with separators and a long prefix fits many times over.
    public static let maxLineLength = 4096

    /// Opens `path`, or standard input for "-".
    public init(path: String, mode: Mode = .strict, chunkSize: Int = 1 << 20) throws(CANIOError) {
        if path == "-" {
            self.init(descriptor: 0, name: "<stdin>", mode: mode, ownsDescriptor: false, chunkSize: chunkSize)
        } else {
            let fd = open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { throw .system(.last("open \(path)")) }
            var magic: (UInt8, UInt8) = (0, 0)
            var gz: gzFile?
            if pread(fd, &magic, 2, 0) == 2 && magic == (0x1F, 0x8B) {
                // zlib owns the descriptor from here and closes it.
                gz = gzdopen(fd, "rb")
                guard let gz else { close(fd); throw .system(SystemError(errno: ENOMEM, operation: "gzip \(path)")) }
                gzbuffer(gz, 1 << 17)
            }
            self.init(descriptor: fd, name: path, mode: mode, ownsDescriptor: gz == nil, chunkSize: chunkSize, gzip: gz)
        }
    }

    public init(descriptor: Int32, name: String, mode: Mode = .strict, ownsDescriptor: Bool = false, chunkSize: Int = 1 << 20) {
        self.init(descriptor: descriptor, name: name, mode: mode, ownsDescriptor: ownsDescriptor, chunkSize: chunkSize, gzip: nil)
    }

    init(descriptor: Int32, name: String, mode: Mode, ownsDescriptor: Bool, chunkSize: Int, gzip: gzFile?) {
        self.gzip = gzip
        self.fd = descriptor
        self.fileName = name
        self.mode = mode
        self.ownsDescriptor = ownsDescriptor
        buffer = .allocate(byteCount: max(chunkSize, Self.maxLineLength * 2), alignment: 16)
    }

    deinit {
        if let gzip { gzclose(gzip) }
        buffer.deallocate()
        if ownsDescriptor { close(fd) }
    }

    /// The next well-formed record, nil at the end of the input. In strict mode a malformed line
    /// throws; in lenient mode it is counted, kept in `firstErrors` and skipped. Blank lines and
    /// lines starting with '#' are skipped in both modes.
    public mutating func next() throws(CANIOError) -> CANLogRecord? {
        guard let f = try nextFrame() else { return nil }
        return CANLogRecord(timestamp: f.timestamp, interface: interfaces.names[Int(f.interface)], frame: f.frame)
    }

    /// The name of an interface number in a `LogFrame` from this reader.
    public func interfaceName(_ number: Int32) -> String { interfaces.names[Int(number)] }

    /// As `next`, as a plain value with the interface as a number (`interfaceName` names it).
    public mutating func nextFrame() throws(CANIOError) -> LogFrame? {
        var f = LogFrame()
        return try nextFrame(into: &f) ? f : nil
    }

    /// The next frame written into `out` in place (no copy of the large frame value on its way
    /// out); false at the end.
    public mutating func nextFrame(into out: inout LogFrame) throws(CANIOError) -> Bool {
        while true {
            guard let range = try nextLine() else { return false }
            let line = UnsafeRawBufferPointer(rebasing: buffer[range])
            if isBlankOrComment(line) { continue }
            do {
                try CandumpParser.parseLogFrame(line, lineNumber: lineNumber, interfaces: &interfaces, into: &out)
                return true
            } catch {
                var e = error
                e.file = fileName
                if lastLineUnterminated { e.message += Self.cutNote }  // only the last line can be
                if mode == .strict { throw .malformed(e) }
                errorCount += 1
                if firstErrors.count < Self.keptErrors { firstErrors.append(e) }
                onMalformedLine?(e)
            }
        }
    }

    /// True once the input has ended inside a line (no newline after the last one): a log cut off
    /// while it was written (the recorder killed, a power cut). That line is read as it is.
    public private(set) var lastLineUnterminated = false

    /// Added to the error of a last line that does not parse and has no newline: where the log was cut.
    public static let cutNote = "; the log ends inside this line, without its newline (cut off while it was written: a kill or a power cut?)"

    /// Called for each malformed line in lenient mode (e.g. to print it as it happens).
    public var onMalformedLine: ((Diagnostic) -> Void)?

    func isBlankOrComment(_ line: UnsafeRawBufferPointer) -> Bool { CandumpParser.isBlankOrComment(line) }

    /// The byte range of the next line in `buffer`, without its newline.
    mutating func nextLine() throws(CANIOError) -> Range<Int>? {
        while true {
            if let nl = findNewline(from: start) {
                let line = start..<nl
                start = nl + 1
                lineNumber += 1
                return line
            }
            if eof {
                guard start < end else { return nil }
                let line = start..<end
                start = end
                lineNumber += 1
                lastLineUnterminated = true
                return line
            }
            try refill()
        }
    }

    /// The next run of whole lines (as many as the buffer holds, or as fit in `limit` bytes;
    /// the last line of the input may lack its newline), for callers that split and parse lines themselves, e.g. on
    /// several threads (`CandumpBlockParser`). `firstLine` is the run's first line number. The
    /// bytes are the reader's own: valid until the next call.
    public mutating func nextLines(upTo limit: Int = .max) throws(CANIOError) -> (lines: UnsafeRawBufferPointer, firstLine: Int)? {
        while true {
            if start < end, let last = lastNewline(before: start + min(limit, end - start)) ?? findNewline(from: start) {
                let stop = last + 1
                let run = UnsafeRawBufferPointer(rebasing: buffer[start..<stop])
                let first = lineNumber + 1
                lineNumber += Newlines.count(run)
                start = stop
                return (run, first)
            }
            if eof {
                guard start < end else { return nil }
                let run = UnsafeRawBufferPointer(rebasing: buffer[start..<end])
                lineNumber += 1
                start = end
                lastLineUnterminated = true
                return (run, lineNumber)
            }
            try refill()
        }
    }

    /// Moves the partial line to the front and reads more (`eof` at the end). A line longer
    /// than the whole buffer is reported and skipped.
    mutating func refill() throws(CANIOError) {
        while true {
            if start > 0 {
                let pending = end - start
                if pending > 0 {
                    UnsafeMutableRawBufferPointer(rebasing: buffer[0..<pending])
                        .copyMemory(from: UnsafeRawBufferPointer(rebasing: buffer[start..<end]))
                }
                start = 0
                end = pending
            }
            if end == buffer.count {
                lineNumber += 1
                let e = Diagnostic(file: fileName, line: lineNumber, column: 1,
                                   message: "line longer than \(buffer.count) bytes (found no newline)")
                try skipToNewline()
                if mode == .strict { throw .malformed(e) }
                errorCount += 1
                if firstErrors.count < Self.keptErrors { firstErrors.append(e) }
                onMalformedLine?(e)
                return
            }
            let n = readInto(buffer.baseAddress! + end, buffer.count - end)
            if n < 0 {
                if errno == EINTR { continue }
                throw .system(.last(readOperation))
            }
            if n == 0 { eof = true } else { end += n }
            return
        }
    }

    var readOperation: String {
        gzip == nil ? "read \(fileName)" : "decompress \(fileName) (the gzip data is corrupt or cut short)"
    }

    /// read(2), or zlib's gzread for a compressed file (a corrupt one reads as an error).
    func readInto(_ pointer: UnsafeMutableRawPointer, _ count: Int) -> Int {
        guard let gzip else { return read(fd, pointer, count) }
        let n = Int(gzread(gzip, pointer, UInt32(min(count, Int(Int32.max)))))
        var code: Int32 = 0
        _ = gzerror(gzip, &code)
        // A stream cut short reads as a clean end with Z_BUF_ERROR set: that is an error too.
        if n < 0 || (n == 0 && code == Z_BUF_ERROR) || code == Z_DATA_ERROR { errno = EIO; return -1 }
        return n
    }

    mutating func skipToNewline() throws(CANIOError) {
        start = 0
        end = 0
        while true {
            let n = readInto(buffer.baseAddress!, buffer.count)
            if n < 0 {
                if errno == EINTR { continue }
                throw .system(.last(readOperation))
            }
            if n == 0 { eof = true; return }
            end = n
            if let nl = findNewline(from: 0) { start = nl + 1; return }
        }
    }

    /// The last newline in what is buffered before `stop` (a line is short: it is near).
    func lastNewline(before stop: Int) -> Int? {
        var i = stop - 1
        while i >= start {
            if buffer[i] == 0x0A { return i }
            i -= 1
        }
        return nil
    }

    @inline(__always)
    func findNewline(from: Int) -> Int? {
        guard from < end else { return nil }
        let base = buffer.baseAddress! + from
        guard let p = memchr(base, 0x0A, end - from) else { return nil }
        return UnsafeRawPointer(p) - UnsafeRawPointer(buffer.baseAddress!)
    }
}

/// Why a log could not be read: the system refused, or a line is malformed (strict mode).
public enum CANIOError: Error, CustomStringConvertible, Sendable {
    case system(SystemError)
    case malformed(Diagnostic)

    public var description: String {
        switch self {
        case .system(let e): return e.description
        case .malformed(let d): return d.description
        }
    }
}
