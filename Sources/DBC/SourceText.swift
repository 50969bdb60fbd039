import CANBus
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The bytes of a DBC file as UTF-8, whatever encoding the file used.
///
/// DBC files from Vector tools are usually cp1252; newer ones are UTF-8. A file that is valid
/// UTF-8 is taken as such; anything else is read as cp1252, which maps every byte.
public struct SourceText: Sendable {
    public enum Encoding: String, Sendable { case utf8 = "UTF-8", cp1252 = "cp1252" }

    public let fileName: String
    /// UTF-8 text followed by one NUL byte, so scanners may look one past the end.
    public let bytes: [UInt8]
    public let encoding: Encoding

    /// Takes `data` over: without a BOM the UTF-8 bytes are kept in place (a file's worth of
    /// bytes is not copied just to append the NUL).
    public init(fileName: String, data: consuming [UInt8]) {
        self.fileName = fileName
        let hasBOM = data.starts(with: [0xEF, 0xBB, 0xBF])
        if Self.isValidUTF8(data[(hasBOM ? 3 : 0)...]) {
            encoding = .utf8
            var b = hasBOM ? Array(data[3...]) : consume data
            b.append(0)
            bytes = b
        } else {
            let body = data[(hasBOM ? 3 : 0)...]
            encoding = .cp1252
            var b: [UInt8] = []
            b.reserveCapacity(body.count + body.count / 8 + 1)
            for byte in body {
                if byte < 0x80 { b.append(byte); continue }
                let scalar = Self.cp1252High[Int(byte - 0x80)]
                b.append(contentsOf: String(Character(Unicode.Scalar(scalar)!)).utf8)
            }
            b.append(0)
            bytes = b
        }
    }

    public init(fileName: String, string: String) {
        self.init(fileName: fileName, data: Array(string.utf8))
    }

    /// Reads a whole file with one `read` loop.
    public static func load(path: String) throws(Diagnostic) -> SourceText {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw Diagnostic(file: path, line: 0, column: 0, message: "cannot open: \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        var st = stat()
        let expected = fstat(fd, &st) == 0 && st.st_size > 0 ? Int(st.st_size) : 0
        var data: [UInt8] = []
        var failure: Int32 = 0
        // Read straight into one buffer sized from fstat; keep reading (and growing) while the
        // file delivers more, so pipes and growing files work too.
        var capacity = expected + 4097
        while failure == 0 {
            var ended = false
            let old = data.count
            data = [UInt8](unsafeUninitializedCapacity: capacity) { buffer, initialized in
                if old > 0 { data.withUnsafeBufferPointer { _ = buffer.initialize(fromContentsOf: $0) } }
                var filled = old
                while filled < capacity {
                    let n = read(fd, buffer.baseAddress! + filled, capacity - filled)
                    if n < 0 { if errno == EINTR { continue }; failure = errno; break }
                    if n == 0 { ended = true; break }
                    filled += n
                }
                initialized = filled
            }
            if ended { break }
            capacity *= 2
        }
        if failure != 0 {
            throw Diagnostic(file: path, line: 0, column: 0, message: "cannot read: \(String(cString: strerror(failure)))")
        }
        return SourceText(fileName: path, data: consume data)
    }

    /// Strict UTF-8 validation (no overlongs, no surrogates, nothing above U+10FFFF), with an
    /// 8-bytes-at-a-time skip over ASCII, which is nearly all of a DBC file.
    static func isValidUTF8(_ data: ArraySlice<UInt8>) -> Bool {
        data.withUnsafeBytes { raw -> Bool in
            let n = raw.count
            var i = 0
            while i < n {
                if i + 32 <= n {
                    let w = raw.loadUnaligned(fromByteOffset: i, as: UInt64.self) | raw.loadUnaligned(fromByteOffset: i + 8, as: UInt64.self)
                        | raw.loadUnaligned(fromByteOffset: i + 16, as: UInt64.self) | raw.loadUnaligned(fromByteOffset: i + 24, as: UInt64.self)
                    if w & 0x8080_8080_8080_8080 == 0 { i += 32; continue }
                }
                if i + 8 <= n, raw.loadUnaligned(fromByteOffset: i, as: UInt64.self) & 0x8080_8080_8080_8080 == 0 {
                    i += 8
                    continue
                }
                let c = raw[i]
                if c < 0x80 { i += 1; continue }
                let need: Int
                var lower: UInt8 = 0x80, upper: UInt8 = 0xBF
                switch c {
                case 0xC2...0xDF: need = 1
                case 0xE0: need = 2; lower = 0xA0
                case 0xE1...0xEC, 0xEE...0xEF: need = 2
                case 0xED: need = 2; upper = 0x9F
                case 0xF0: need = 3; lower = 0x90
                case 0xF1...0xF3: need = 3
                case 0xF4: need = 3; upper = 0x8F
                default: return false
                }
                guard i + need < n else { return false }
                let second = raw[i + 1]
                guard second >= lower && second <= upper else { return false }
                for k in 2..<(need + 1) where raw[i + k] & 0xC0 != 0x80 { return false }
                i += need + 1
            }
            return true
        }
    }

    /// Windows-1252 0x80–0x9F; 0xA0–0xFF equal Latin-1. Undefined bytes map to their C1 code point.
    static let cp1252High: [UInt32] = [
        0x20AC, 0x81, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0x8D, 0x017D, 0x8F,
        0x90, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x9D, 0x017E, 0x0178,
    ] + (0xA0...0xFF).map { UInt32($0) }
}

/// A place in a DBC file: 1-based line and column (columns count characters, not bytes).
public struct SourcePosition: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var line: Int
    public var column: Int
    public init(line: Int, column: Int) { self.line = line; self.column = column }
    public static func < (a: Self, b: Self) -> Bool { (a.line, a.column) < (b.line, b.column) }
    public var description: String { "\(line):\(column)" }
}

