#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import ArgumentParser
import CANBus

/// Buffered writes to a file descriptor in large chunks; a closed pipe (`| head`) ends the
/// program quietly.
struct OutputSink {
    let fd: Int32
    let buffer = OutputBuffer(capacity: 1 << 18)
    let flushThreshold = 1 << 17

    init(fd: Int32 = 1) {
        self.fd = fd
        signal(SIGPIPE, SIG_IGN)
    }

    /// Creates (or truncates) a file to write to; exit 73 when it cannot be.
    static func create(_ path: String) throws -> Int32 {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw CLIFailure.exit("cannot write \(path): \(String(cString: strerror(errno)))", code: 73) }
        return fd
    }

    func close() {
        if fd > 2 { Glibc.close(fd) }
    }

    @inline(__always)
    func flushIfNeeded() {
        if buffer.count >= flushThreshold { flush() }
    }

    func flush() {
        writeAll(buffer.bytes)
        buffer.removeAll()
    }

    /// Writes every byte (a closed pipe ends the program quietly; another failure exits 74).
    func writeAll(_ raw: UnsafeRawBufferPointer) {
        var offset = 0
        while offset < raw.count {
            let n = Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset)
            if n < 0 {
                if errno == EINTR { continue }
                if errno == EPIPE { exit(0) }
                printError("vehicle-gateway: write failed: \(String(cString: strerror(errno)))")
                exit(74)
            }
            offset += n
        }
    }

    /// Flushes when the buffer is large or `lastFlush` (monotonic s) is 50 ms old: live output
    /// stays live while a flood still costs one write per many lines.
    func flushIfStale(_ lastFlush: inout Double) {
        let now = SystemClock.monotonicSeconds()
        if buffer.count >= flushThreshold || now - lastFlush >= 0.05 {
            flush()
            lastFlush = now
        }
    }

    /// Writes `other`'s bytes after what is buffered, without copying them.
    func write(_ other: OutputBuffer) {
        flush()
        writeAll(other.bytes)
    }

    /// Appends text built in a `TextBuffer`.
    func write(_ text: TextBuffer) {
        buffer.append(text)
        flushIfNeeded()
    }

    func write(_ text: String) {
        buffer.append(text)
        flushIfNeeded()
    }
}

/// Writes a line to standard error, unbuffered.
func printError(_ text: String) {
    var line = text
    if !line.hasSuffix("\n") { line += "\n" }
    line.withUTF8 { _ = Glibc.write(2, $0.baseAddress, $0.count) }
}

/// Failures that are the input's or the system's fault: printed as they are (no usage text),
/// with a sysexits code (65 data error by default, 64 usage, 66 no input, 74 I/O).
enum CLIFailure {
    /// Prints the message and turns it into the exit code ArgumentParser understands.
    static func exit(_ message: String, code: Int32 = 65) -> ExitCode {
        printError("vehicle-gateway: " + message)
        return ExitCode(code)
    }
}
