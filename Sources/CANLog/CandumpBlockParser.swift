#if canImport(Glibc)
import Glibc
#endif
import CANBus

/// Parses runs of whole log lines (from `CandumpReader.nextLines`) on any thread, with an
/// interface table of its own, so several can work through one log at once. The lines, their
/// diagnostics and their numbers are exactly what `CandumpReader.nextFrame` would give.
public struct CandumpBlockParser {
    public var interfaces = InterfaceNames()
    public let fileName: String

    public init(fileName: String) { self.fileName = fileName }

    /// Calls `frame` for each frame in order, with its interface's name as bytes, and
    /// `malformed` for each line that is not one (it returns false to stop there, as strict
    /// reading does). Returns the lines looked at.
    @inlinable
    public mutating func parse(_ lines: UnsafeRawBufferPointer, firstLine: Int,
                               frame: (inout LogFrame, UnsafeRawBufferPointer) -> Void, malformed: (Diagnostic) -> Bool) -> Int {
        guard let base = lines.baseAddress else { return 0 }
        var f = LogFrame()
        var start = 0, number = firstLine
        let n = lines.count
        while start < n {
            let stop = memchr(base + start, 0x0A, n - start).map { UnsafeRawPointer($0) - base } ?? n
            let line = UnsafeRawBufferPointer(start: base + start, count: stop - start)
            start = stop + 1
            defer { number += 1 }
            if CandumpParser.isBlankOrComment(line) { continue }
            do {
                try CandumpParser.parseLogFrame(line, lineNumber: number, interfaces: &interfaces, into: &f)
            } catch {
                var e = error
                e.file = fileName
                // A run ends with a newline unless the input ended inside its last line.
                if stop == n, lines[n - 1] != 0x0A { e.message += CandumpReader.cutNote }
                if !malformed(e) { return number - firstLine + 1 }
                continue
            }
            interfaces.withNameBytes(f.interface) { frame(&f, $0) }
        }
        return number - firstLine
    }
}
