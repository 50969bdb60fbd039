/// Parsing one line of a candump log, byte by byte, without building strings.
///
/// The grammar (can-utils' `lib.c`, `parse_canframe` and `candump.c`), as read here:
///
///     log-line     = "(" seconds "." fraction ")" SP interface SP frame [SP direction]
///     seconds      = 1*DIGIT                   ; candump writes 10 digits (-t a, -l), 3 (-t d, -t z)
///                  / 4DIGIT "-" 2DIGIT "-" 2DIGIT SP 2DIGIT ":" 2DIGIT ":" 2DIGIT  ; -t A, read as UTC
///     fraction     = 1*9DIGIT                  ; 6 (µs) or 9 (ns) digits, kept as written
///     interface    = 1*15(VCHAR)
///     direction    = "R" / "T"                 ; candump -x
///     frame        = id "#" (classic / remote / fd)
///     id           = 3HEXDIG                   ; standard, 11 bits
///                  / 8HEXDIG                   ; extended, 29 bits; with bit 29 set: error frame
///     classic      = *8(byte ["."]) ["_" dlc9-15]  ; the raw DLC only after exactly 8 bytes
///     remote       = ("R" / "r") [DIGIT0-8 ["_" dlc9-15]]
///     fd           = "#" HEXDIG *64(byte ["."])    ; flags nibble: BRS 1, ESI 2, FDF 4
///     byte         = 2HEXDIG
///
///     console-line = ["(" timestamp ")"] 1*SP interface 1*SP hexid 1*SP "[" len "]" 1*SP
///                    (1*(byte SP) / "remote request") [anything]   ; candump's default view
///
/// Whitespace is spaces or tabs; a trailing CR (CRLF logs) is ignored.
public enum CandumpParser {
    public static let errorFlag: UInt32 = 0x2000_0000

    /// A line with nothing to read: empty, blanks only, or a `#` comment.
    @inlinable
    public static func isBlankOrComment(_ line: UnsafeRawBufferPointer) -> Bool {
        for b in line {
            if b == 0x20 || b == 0x09 || b == 0x0D { continue }
            return b == UInt8(ascii: "#")
        }
        return true
    }


    /// Parses one log or console line. `line` excludes the newline.
    public static func parse(
        _ line: UnsafeRawBufferPointer, lineNumber: Int, interfaces: inout InterfaceNames
    ) throws(Diagnostic) -> CANLogRecord {
        let f = try parseLogFrame(line, lineNumber: lineNumber, interfaces: &interfaces)
        return CANLogRecord(timestamp: f.timestamp, interface: interfaces.names[Int(f.interface)], frame: f.frame)
    }

    /// Parses one log or console line into a plain value: the interface is a number that
    /// `interfaces.names` resolves, so nothing in it needs reference counting.
    @inline(__always)
    public static func parseLogFrame(
        _ line: UnsafeRawBufferPointer, lineNumber: Int, interfaces: inout InterfaceNames
    ) throws(Diagnostic) -> LogFrame {
        var f = LogFrame()
        try parseLogFrame(line, lineNumber: lineNumber, interfaces: &interfaces, into: &f)
        return f
    }

    /// The same, written into `out` in place: a frame value is large (it has room for 64 FD
    /// bytes), and the line's fields stored straight into the caller's value are not copied
    /// again on their way out.
    @inline(__always)
    public static func parseLogFrame(
        _ line: UnsafeRawBufferPointer, lineNumber: Int, interfaces: inout InterfaceNames, into out: inout LogFrame
    ) throws(Diagnostic) {
        if fastLogFrame(line, interfaces: &interfaces, into: &out) { return }
        out = try generalLogFrame(line, lineNumber: lineNumber, interfaces: &interfaces)
    }

    /// The line as `candump -l` writes nearly all of them — `(seconds.fraction) iface 123#0011…`,
    /// a classic data frame with a 3- or 8-digit id — read straight through a pointer. Anything
    /// else (remote, FD, error frames, separators, the console form, a malformed line) is nil,
    /// and the general parser reads it, with its diagnostics.
    @inline(__always)
    static func fastLogFrame(_ line: UnsafeRawBufferPointer, interfaces: inout InterfaceNames, into out: inout LogFrame) -> Bool {
        guard let p = line.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return false }
        var n = line.count
        while n > 0, p[n - 1] == 0x0D || p[n - 1] == 0x20 { n -= 1 }
        guard n > 12, p[0] == UInt8(ascii: "(") else { return false }
        var i = 1
        var seconds: Int64 = 0
        // candump pads the seconds to 10 digits: the first 8 in one word when they are digits.
        if n > 10, let eight = SWAR.eightDigits(UnsafeRawPointer(p + 1).loadUnaligned(as: UInt64.self)) {
            seconds = Int64(eight)
            i = 9
        }
        while i < n, i < 19 {
            let d = p[i] &- 48
            if d >= 10 { break }
            seconds = seconds &* 10 &+ Int64(d)
            i += 1
        }
        guard i > 1, i < n, p[i] == UInt8(ascii: ".") else { return false }
        i += 1
        let fractionStart = i
        var nanoseconds: UInt32 = 0
        // The fraction (6 or 9 digits) in one word: the digits up to the ')', when they fit.
        if i + 8 <= n, let (value, count) = SWAR.leadingDigits(UnsafeRawPointer(p + i).loadUnaligned(as: UInt64.self)), count < 8 {
            nanoseconds = value
            i += count
        }
        while i < n, i - fractionStart < 9 {
            let d = p[i] &- 48
            if d >= 10 { break }
            nanoseconds = nanoseconds &* 10 &+ UInt32(d)
            i += 1
        }
        let digits = i - fractionStart
        guard digits > 0, i + 1 < n, p[i] == UInt8(ascii: ")"), p[i + 1] == 0x20 else { return false }
        for _ in digits..<9 { nanoseconds &*= 10 }
        i += 2
        let nameStart = i
        let interface: Int32
        if i + 8 <= n, let (key, count) = SWAR.leadingName(UnsafeRawPointer(p + i).loadUnaligned(as: UInt64.self)) {
            // Names of up to 7 bytes (can0, vcan12) and their space in one word.
            guard let number = interfaces.number(key: (key, 0), UnsafeRawBufferPointer(start: p + nameStart, count: count)) else { return false }
            interface = number
            i += count
        } else {
            while i < n, p[i] != 0x20 {
                guard p[i] > 0x20, p[i] < 0x7F else { return false }
                i += 1
            }
            guard i - nameStart >= 1, i - nameStart <= 15, i < n,
                  let number = interfaces.number(UnsafeRawBufferPointer(start: p + nameStart, count: i - nameStart)) else { return false }
            interface = number
        }
        i += 1
        let idStart = i
        var raw: UInt32 = 0
        if i + 4 <= n, p[i + 3] == UInt8(ascii: "#"), let id = SWAR.threeHexDigits(UnsafeRawPointer(p + i).loadUnaligned(as: UInt32.self)) {
            // A standard id (nearly all traffic): three digits and the '#' in one word.
            raw = id
            i += 3
        } else {
            while i < n, i - idStart < 9 {
                let v = nibble(p[i])
                if v >= 16 { break }
                raw = raw << 4 | UInt32(v)
                i += 1
            }
        }
        let extended: Bool
        switch i - idStart {
        case 3 where raw <= CANID.standardMask: extended = false
        case 8 where raw & 0xE000_0000 == 0: extended = true  // not an error frame, not above 29 bits
        default: return false
        }
        guard i < n, p[i] == UInt8(ascii: "#") else { return false }
        i += 1
        let hexDigits = n - i
        guard hexDigits & 1 == 0, hexDigits <= 16 else { return false }
        var data: UInt64 = 0
        var k: UInt64 = 0
        if hexDigits >= 8 {
            // 4 to 8 bytes (nearly all traffic): the first and the last 8 hex digits as two
            // words, overlapping when fewer than 16 (the shared bytes agree, so OR joins them).
            let r = UnsafeRawPointer(p + i)
            guard let low = SWAR.eightHexDigits(r.loadUnaligned(as: UInt64.self)),
                  let high = SWAR.eightHexDigits((r + (hexDigits - 8)).loadUnaligned(as: UInt64.self)) else { return false }
            k = UInt64(hexDigits / 2)
            data = UInt64(low) | UInt64(high) &<< (8 &* (k &- 4))
        } else {
            while i < n {
                let hi = nibble(p[i]), lo = nibble(p[i + 1])
                guard hi | lo < 16 else { return false }
                data |= UInt64(hi << 4 | lo) &<< (8 &* k)
                k += 1
                i += 2
            }
        }
        out.timestamp = CANTimestamp(seconds: seconds, nanoseconds: nanoseconds, fractionDigits: UInt8(digits))
        out.interface = interface
        out.frame = .data(CANDataFrame(id: CANID(unchecked: raw, extended: extended), data: UInt64(littleEndian: data), length: UInt8(k)))
        return true
    }

    /// Every form the grammar allows, with a diagnostic for what it does not.
    static func generalLogFrame(
        _ line: UnsafeRawBufferPointer, lineNumber: Int, interfaces: inout InterfaceNames
    ) throws(Diagnostic) -> LogFrame {
        var cursor = Cursor(bytes: line, lineNumber: lineNumber)
        cursor.trimTrailingWhitespace()
        cursor.skipSpaces()
        var timestamp = CANTimestamp(seconds: 0, nanoseconds: 0, fractionDigits: 0)
        if cursor.peek == UInt8(ascii: "(") {
            timestamp = try parseTimestamp(&cursor)
            guard cursor.skipSpaces() > 0 else { throw cursor.error("expected a space after the timestamp") }
        }
        let nameStart = cursor.index
        while let b = cursor.peek, b != 0x20, b != 0x09 {
            // Linux names are visible ASCII in practice; anything else cannot be written back as is.
            guard b > 0x20 && b < 0x7F else { throw cursor.error("expected an interface name of printable ASCII characters") }
            cursor.index += 1
        }
        guard cursor.index > nameStart else { throw cursor.error("expected an interface name") }
        guard cursor.index - nameStart <= 15 else {
            throw cursor.error("interface name longer than 15 bytes", at: nameStart)
        }
        guard let interface = interfaces.number(UnsafeRawBufferPointer(rebasing: line[nameStart..<cursor.index])) else {
            throw cursor.error("more than \(InterfaceNames.limit) different interface names in one log", at: nameStart)
        }
        guard cursor.skipSpaces() > 0 else { throw cursor.error("expected a space after the interface name") }

        // The log format has '#' right after the id; the console format has spaces and "[len]".
        var probe = cursor.index
        while probe < cursor.end, nibble(line[probe]) < 16 { probe += 1 }
        let frame: CANFrame
        if probe < cursor.end, line[probe] == UInt8(ascii: "#") {
            frame = try parseFrame(&cursor)
            if cursor.skipSpaces() > 0, let d = cursor.peek, d == UInt8(ascii: "R") || d == UInt8(ascii: "T"),
               cursor.index + 1 == cursor.end {
                cursor.index += 1  // candump -x direction marker
            }
        } else {
            frame = try parseConsoleFrame(&cursor)
        }
        guard cursor.atEnd else { throw cursor.error("expected the end of the line") }
        return LogFrame(timestamp: timestamp, interface: interface, frame: frame)
    }

    @inline(__always)
    static func parseTimestamp(_ c: inout Cursor) throws(Diagnostic) -> CANTimestamp {
        let p = c.bytes.baseAddress!
        var i = c.index + 1  // "("
        let secondsStart = i
        var seconds: Int64 = 0
        while i < c.end {
            let d = p.load(fromByteOffset: i, as: UInt8.self) &- 48
            guard d < 10 else { break }
            guard i - secondsStart < 18 else { c.index = i; throw c.error("timestamp seconds too large") }
            seconds = seconds &* 10 &+ Int64(d)
            i += 1
        }
        c.index = i
        guard i > secondsStart else { throw c.error("expected the timestamp's seconds (digits)") }
        if i - secondsStart == 4, c.peek == UInt8(ascii: "-") {
            // candump -t A: "(2020-12-19 12:04:45.485261)", the year just read.
            seconds = try parseDateTime(&c, year: seconds)
            i = c.index
        }
        guard c.peek == UInt8(ascii: ".") else { throw c.error("expected '.' in the timestamp") }
        i += 1
        let fractionStart = i
        var nanoseconds: UInt32 = 0
        while i < c.end {
            let d = p.load(fromByteOffset: i, as: UInt8.self) &- 48
            guard d < 10 else { break }
            guard i - fractionStart < 9 else { c.index = i; throw c.error("more than 9 fractional digits in the timestamp") }
            nanoseconds = nanoseconds &* 10 &+ UInt32(d)
            i += 1
        }
        c.index = i
        let digits = i - fractionStart
        guard digits > 0 else { throw c.error("expected the timestamp's fractional digits") }
        for _ in digits..<9 { nanoseconds &*= 10 }
        guard c.peek == UInt8(ascii: ")") else { throw c.error("expected ')' closing the timestamp") }
        c.index += 1
        return CANTimestamp(seconds: seconds, nanoseconds: nanoseconds, fractionDigits: UInt8(digits))
    }

    /// The rest of candump -t A's `YYYY-MM-DD HH:MM:SS` after the year, as seconds since the
    /// epoch. candump writes the recording machine's local time and the log does not say which
    /// zone that was: it is read as UTC, so a log decodes to the same times on every machine.
    static func parseDateTime(_ c: inout Cursor, year: Int64) throws(Diagnostic) -> Int64 {
        func field(_ c: inout Cursor, after separator: UInt8, _ what: String, _ range: ClosedRange<Int64>) throws(Diagnostic) -> Int64 {
            guard c.peek == separator else { throw c.error("expected '\(Character(Unicode.Scalar(separator)))' before the \(what) in the date") }
            c.index += 1
            var v: Int64 = 0
            for _ in 0..<2 {
                guard let b = c.peek, b &- 48 < 10 else { throw c.error("expected two digits for the \(what) in the date") }
                v = v * 10 + Int64(b &- 48)
                c.index += 1
            }
            guard range.contains(v) else { c.index -= 2; throw c.error("the \(what) \(v) is out of range \(range.lowerBound)-\(range.upperBound)") }
            return v
        }
        let month = try field(&c, after: UInt8(ascii: "-"), "month", 1...12)
        let day = try field(&c, after: UInt8(ascii: "-"), "day", 1...31)
        let hour = try field(&c, after: UInt8(ascii: " "), "hour", 0...23)
        let minute = try field(&c, after: UInt8(ascii: ":"), "minute", 0...59)
        let second = try field(&c, after: UInt8(ascii: ":"), "second", 0...60)
        return daysFromCivil(year: year, month: month, day: day) * 86_400 + hour * 3600 + minute * 60 + second
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
    static func daysFromCivil(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// `id#data`, `id#R`, `id##<flags><data>` (the cansend/candump -l form).
    @inline(__always)
    public static func parseFrame(_ c: inout Cursor) throws(Diagnostic) -> CANFrame {
        let idStart = c.index
        var raw: UInt32 = 0
        while let b = c.peek, let v = hexValue(b) {
            guard c.index - idStart < 8 else { throw c.error("CAN id longer than 8 hex digits", at: idStart) }
            raw = raw << 4 | UInt32(v)
            c.index += 1
        }
        let idDigits = c.index - idStart
        guard c.peek == UInt8(ascii: "#") else { throw c.error("expected '#' after the CAN id") }
        c.index += 1
        let isError: Bool
        let id: CANID
        switch idDigits {
        case 3:
            guard raw <= CANID.standardMask else {
                throw c.error("standard CAN id \(hex(raw)) is above 7FF", at: idStart)
            }
            id = CANID(unchecked: raw, extended: false)
            isError = false
        case 8:
            isError = raw & errorFlag != 0
            guard raw & 0xC000_0000 == 0 else {
                throw c.error("extended CAN id \(hex(raw)) is above 1FFFFFFF", at: idStart)
            }
            id = CANID(unchecked: raw & CANID.extendedMask, extended: true)
        default:
            throw c.error("expected a CAN id of 3 (standard) or 8 (extended) hex digits", at: idStart)
        }

        if let b = c.peek, b == UInt8(ascii: "R") || b == UInt8(ascii: "r") {
            guard !isError else { throw c.error("an error frame cannot be a remote frame") }
            c.index += 1
            var dlc: UInt8 = 0
            var len8: UInt8 = 0
            if let d = c.peek, isDigit(d) {
                guard d <= UInt8(ascii: "8") else { throw c.error("expected a remote DLC of 0 to 8") }
                dlc = d - 48
                c.index += 1
                if dlc == 8, c.peek == UInt8(ascii: "_") {
                    c.index += 1
                    len8 = try parseRawDLC(&c)
                }
            }
            return .remote(CANRemoteFrame(id: id, dlc: dlc, len8DLC: len8))
        }

        if c.peek == UInt8(ascii: "#") {
            guard !isError else { throw c.error("an error frame cannot be a CAN FD frame") }
            c.index += 1
            guard let f = c.peek, let flags = hexValue(f) else {
                throw c.error("expected the CAN FD flags nibble (one hex digit) after '##'")
            }
            c.index += 1
            var frame = CANFDFrame(id: id, length: 0, flags: flags)
            var count = 0
            try withUnsafeMutableBytes(of: &frame.payload) { (out) throws(Diagnostic) in
                count = try parseData(&c, into: out, max: 64)
            }
            guard CANFDLength.isValid(count) else {
                throw c.error("a CAN FD frame of \(count) bytes: valid lengths are 0-8, 12, 16, 20, 24, 32, 48, 64", at: idStart)
            }
            frame.length = UInt8(count)
            return .fd(frame)
        }

        var data: UInt64 = 0
        var count = 0
        try withUnsafeMutableBytes(of: &data) { (out) throws(Diagnostic) in
            count = try parseData(&c, into: out, max: 8)
        }
        var len8: UInt8 = 0
        if count == 8, c.peek == UInt8(ascii: "_") {
            c.index += 1
            len8 = try parseRawDLC(&c)
        }
        if isError {
            return .error(CANErrorFrame(errorClass: raw & CANID.extendedMask, data: data, length: UInt8(count)))
        }
        return .data(CANDataFrame(id: id, data: data, length: UInt8(count), len8DLC: len8))
    }

    static func parseRawDLC(_ c: inout Cursor) throws(Diagnostic) -> UInt8 {
        guard let b = c.peek, let v = hexValue(b), v > 8 else {
            throw c.error("expected a raw DLC of 9 to F after '_'")
        }
        c.index += 1
        return v
    }

    /// Hex byte pairs with optional '.' separators, up to `max` bytes.
    @inline(__always)
    static func parseData(_ c: inout Cursor, into out: UnsafeMutableRawBufferPointer, max: Int) throws(Diagnostic) -> Int {
        let p = c.bytes.baseAddress!
        let end = c.end
        var i = c.index
        var n = 0
        // Fast path: plain pairs of hex digits, as candump writes them; a table lookup per digit
        // instead of branches, since payload digits are random.
        hexTable.withUnsafeBufferPointer { table in
            while i + 1 < end {
                let h = table[Int(p.load(fromByteOffset: i, as: UInt8.self))]
                let l = table[Int(p.load(fromByteOffset: i + 1, as: UInt8.self))]
                guard h | l < 16, n < max else { break }
                out[n] = h << 4 | l
                n += 1
                i += 2
            }
        }
        c.index = i
        // Slow path: separators, odd digits, too many bytes, or the end.
        while true {
            if c.peek == UInt8(ascii: "."), n > 0 { c.index += 1 }
            guard let hi = c.peek, let h = hexValue(hi) else { break }
            guard n < max else { throw c.error("more than \(max) data bytes") }
            c.index += 1
            guard let lo = c.peek, let l = hexValue(lo) else {
                throw c.error("expected a second hex digit: data bytes are pairs of hex digits")
            }
            c.index += 1
            out[n] = h << 4 | l
            n += 1
        }
        if let b = c.peek, b != 0x20, b != 0x09, b != UInt8(ascii: "_") {
            throw c.error("expected hex data bytes")
        }
        return n
    }

    /// Hex digit values by byte; 0xFF for anything that is not a hex digit.
    static let hexTable: [UInt8] = (0...255).map { nibble(UInt8($0)) }

    /// The value of a hex digit, or 0xFF.
    @inline(__always) static func nibble(_ b: UInt8) -> UInt8 {
        let d = b &- 48
        if d < 10 { return d }
        let l = (b | 0x20) &- 97
        return l < 6 ? l + 10 : 0xFF
    }

    /// candump's default console view: `vcan0  123   [4]  DE AD BE EF`.
    static func parseConsoleFrame(_ c: inout Cursor) throws(Diagnostic) -> CANFrame {
        let idStart = c.index
        var raw: UInt32 = 0
        while let b = c.peek, let v = hexValue(b) {
            guard c.index - idStart < 8 else { throw c.error("CAN id longer than 8 hex digits", at: idStart) }
            raw = raw << 4 | UInt32(v)
            c.index += 1
        }
        let idDigits = c.index - idStart
        guard idDigits == 3 || idDigits == 8 else {
            throw c.error("expected 'ID#DATA' or a console line 'ID  [LEN]  DATA' with a 3- or 8-digit hex id", at: idStart)
        }
        let extended = idDigits == 8
        guard c.skipSpaces() > 0, c.peek == UInt8(ascii: "[") else { throw c.error("expected '[LEN]' after the CAN id") }
        c.index += 1
        var length = 0
        let lenStart = c.index
        while let b = c.peek, isDigit(b), c.index - lenStart < 2 { length = length * 10 + Int(b - 48); c.index += 1 }
        let lengthDigits = c.index - lenStart
        guard lengthDigits > 0, c.peek == UInt8(ascii: "]") else { throw c.error("expected a decimal length and ']'") }
        c.index += 1
        c.skipSpaces()
        if extended, raw & errorFlag != 0 {
            var data: UInt64 = 0
            let n = try withUnsafeMutableBytes(of: &data) { (out) throws(Diagnostic) in try parseSpacedData(&c, into: out, count: min(length, 8)) }
            c.index = c.end  // candump -e appends an explanation
            return .error(CANErrorFrame(errorClass: raw & CANID.extendedMask, data: data, length: UInt8(n)))
        }
        guard raw <= (extended ? CANID.extendedMask : CANID.standardMask) else {
            throw c.error("CAN id \(hex(raw)) out of range", at: idStart)
        }
        let id = CANID(unchecked: raw, extended: extended)
        if c.matches("remote request") {
            c.index = c.end
            guard length <= 8 else { throw c.error("a remote frame has a DLC of 0 to 8") }
            return .remote(CANRemoteFrame(id: id, dlc: UInt8(length)))
        }
        if lengthDigits == 1 {
            // "[8]" is classic; FD lengths are printed with two digits ("[08]", "[12]").
            var data: UInt64 = 0
            let n = try withUnsafeMutableBytes(of: &data) { (out) throws(Diagnostic) in try parseSpacedData(&c, into: out, count: length) }
            c.index = c.end  // candump -a appends ASCII
            return .data(CANDataFrame(id: id, data: data, length: UInt8(n)))
        }
        guard CANFDLength.isValid(length) else { throw c.error("a CAN FD frame of \(length) bytes is not a valid FD length") }
        var frame = CANFDFrame(id: id, length: UInt8(length))
        _ = try withUnsafeMutableBytes(of: &frame.payload) { (out) throws(Diagnostic) in try parseSpacedData(&c, into: out, count: length) }
        c.index = c.end
        return .fd(frame)
    }

    static func parseSpacedData(_ c: inout Cursor, into out: UnsafeMutableRawBufferPointer, count: Int) throws(Diagnostic) -> Int {
        for i in 0..<count {
            guard let hi = c.peek, let h = hexValue(hi), c.index + 1 < c.end, let l = hexValue(c.bytes[c.index + 1]) else {
                throw c.error("expected \(count) data bytes, found \(i)")
            }
            out[i] = h << 4 | l
            c.index += 2
            c.skipSpaces()
        }
        return count
    }

    @inline(__always) static func isDigit(_ b: UInt8) -> Bool { b &- 48 < 10 }
    @inline(__always) static func hexValue(_ b: UInt8) -> UInt8? {
        switch b {
        case 48...57: return b - 48
        case 65...70: return b - 55
        case 97...102: return b - 87
        default: return nil
        }
    }
    static func hex(_ v: UInt32) -> String { String(v, radix: 16, uppercase: true) }
}

/// A read position in one line, and errors that point at it.
public struct Cursor {
    public let bytes: UnsafeRawBufferPointer
    public var index = 0
    public var end: Int
    let lineNumber: Int

    init(bytes: UnsafeRawBufferPointer, lineNumber: Int) {
        self.bytes = bytes
        self.end = bytes.count
        self.lineNumber = lineNumber
    }

    @inline(__always) var peek: UInt8? { index < end ? bytes[index] : nil }
    var atEnd: Bool { index >= end }

    @discardableResult
    mutating func skipSpaces() -> Int {
        let start = index
        while index < end, bytes[index] == 0x20 || bytes[index] == 0x09 { index += 1 }
        return index - start
    }

    mutating func trimTrailingWhitespace() {
        while end > 0, bytes[end - 1] == 0x20 || bytes[end - 1] == 0x09 || bytes[end - 1] == 0x0D { end -= 1 }
    }

    func matches(_ text: StaticString) -> Bool {
        let n = text.utf8CodeUnitCount
        guard end - index >= n else { return false }
        return text.withUTF8Buffer { t in
            for i in 0..<n where bytes[index + i] != t[i] { return false }
            return true
        }
    }

    func error(_ message: String, at position: Int? = nil) -> Diagnostic {
        let p = position ?? index
        var found = "end of line"
        if p < end {
            let b = bytes[p]
            found = (0x21...0x7E).contains(b) ? "'\(Character(UnicodeScalar(b)))'" : String(format2: b)
        }
        return Diagnostic(file: "<input>", line: lineNumber, column: p + 1, message: "\(message) (found \(found))")
    }
}

extension String {
    init(format2 b: UInt8) {
        self = "byte 0x" + String(b, radix: 16, uppercase: true)
    }
}

/// Interns interface names so a long log builds each name once.
public struct InterfaceNames: Sendable {
    /// Every name seen, numbered in order of appearance.
    public private(set) var names: [String] = []
    @usableFromInline var keys: [(UInt64, UInt64, Int)] = []
    var lastKey: (UInt64, UInt64) = (0, 0)
    var lastCount = -1
    var lastNumber: Int32 = 0
    /// A log names a few interfaces; a line past this many different names is malformed
    /// (so a hostile log cannot grow the table without bound).
    public static let limit = 256

    public init() {}

    /// The number of the name in `raw` (at most 15 bytes), or nil past `limit` names.
    @inline(__always)
    mutating func number(_ raw: UnsafeRawBufferPointer) -> Int32? {
        var key: (UInt64, UInt64) = (0, 0)
        for i in 0..<min(raw.count, 16) {
            if i < 8 { key.0 |= UInt64(raw[i]) &<< UInt64(8 * i) } else { key.1 |= UInt64(raw[i]) &<< UInt64(8 * (i - 8)) }
        }
        return number(key: key, raw)
    }

    /// The bytes of name `number` (as `names[number]` holds them), without a String.
    @inlinable @inline(__always)
    public func withNameBytes<R>(_ number: Int32, _ body: (UnsafeRawBufferPointer) -> R) -> R {
        let k = keys[Int(number)]
        return withUnsafeBytes(of: (k.0, k.1)) { body(UnsafeRawBufferPointer(rebasing: $0.prefix(k.2))) }
    }

    /// The same, with the name's bytes already packed little-endian into `key` (zero-padded).
    @inline(__always)
    mutating func number(key: (UInt64, UInt64), _ raw: UnsafeRawBufferPointer) -> Int32? {
        if raw.count == lastCount, key == lastKey { return lastNumber }
        guard let n = lookup(key, raw) else { return nil }
        (lastKey, lastCount, lastNumber) = (key, raw.count, n)
        return n
    }

    mutating func lookup(_ key: (UInt64, UInt64), _ raw: UnsafeRawBufferPointer) -> Int32? {
        if let i = keys.firstIndex(where: { $0.0 == key.0 && $0.1 == key.1 && $0.2 == raw.count }) { return Int32(i) }
        guard names.count < Self.limit else { return nil }
        keys.append((key.0, key.1, raw.count))
        names.append(String(decoding: raw, as: UTF8.self))
        return Int32(names.count - 1)
    }
}

/// One logged frame as a plain value: when, which interface (a number `InterfaceNames` resolves),
/// and what. Copying it copies bytes, nothing more.
public struct LogFrame: Sendable {
    public var timestamp: CANTimestamp
    public var interface: Int32
    public var frame: CANFrame

    public init(timestamp: CANTimestamp = CANTimestamp(seconds: 0, nanoseconds: 0, fractionDigits: 0), interface: Int32 = 0,
                frame: CANFrame = .data(CANDataFrame(id: CANID(unchecked: 0, extended: false), data: 0, length: 0))) {
        self.timestamp = timestamp
        self.interface = interface
        self.frame = frame
    }
}

extension CandumpParser {
    /// A frame in cansend syntax (`123#DEADBEEF`, `123#R`, `123##1AABB`), the whole text.
    public static func parseFrameText(_ text: String) throws(Diagnostic) -> CANFrame {
        var copy = text
        let result = copy.withUTF8 { utf8 -> Result<CANFrame, Diagnostic> in
            var cursor = Cursor(bytes: UnsafeRawBufferPointer(utf8), lineNumber: 1)
            cursor.trimTrailingWhitespace()
            let parsed = Result { () throws(Diagnostic) -> CANFrame in try parseFrame(&cursor) }
            if case .success = parsed, !cursor.atEnd { return .failure(cursor.error("expected the end of the frame")) }
            return parsed
        }
        return try result.get()
    }
}

/// Eight ASCII characters at once, in one 64-bit word (the first character in the low byte).
enum SWAR {
    static let ones: UInt64 = 0x0101_0101_0101_0101
    static let high: UInt64 = 0x8080_8080_8080_8080

    /// The bytes of `x` (each below 0x80) that lie in `lo...hi`, as their high bits.
    @inline(__always)
    static func inRange(_ x: UInt64, _ lo: UInt8, _ hi: UInt8) -> UInt64 {
        ((x &+ ones &* UInt64(0x80 - lo)) & ~(x &+ ones &* UInt64(0x7F - hi))) & high
    }

    /// The value of eight decimal digits, or nil if one is not a digit.
    @inline(__always)
    static func eightDigits(_ x: UInt64) -> UInt32? {
        guard x & high == 0, inRange(x, 0x30, 0x39) == high else { return nil }
        var v = x & 0x0F0F_0F0F_0F0F_0F0F
        v = (v &* 10 &+ (v >> 8)) & 0x00FF_00FF_00FF_00FF          // pairs: 10a+b in every other byte
        v = (v &* 100 &+ (v >> 16)) & 0x0000_FFFF_0000_FFFF        // fours
        v = (v &* 10000 &+ (v >> 32)) & 0xFFFF_FFFF                // all eight
        return UInt32(v)
    }

    /// The value and number (1 to 8) of the decimal digits `x` starts with, or nil if none.
    @inline(__always)
    static func leadingDigits(_ x: UInt64) -> (UInt32, Int)? {
        let notDigit = (~inRange(x & ~high, 0x30, 0x39) | x) & high
        let count = notDigit == 0 ? 8 : notDigit.trailingZeroBitCount / 8
        guard count > 0 else { return nil }
        let shift = UInt64(8 * (8 - count))
        // Move the digits to the top and fill the bottom with '0': the value of 8 digits is theirs.
        let padded = count == 8 ? x : (x &<< shift) | (0x3030_3030_3030_3030 &>> (64 &- shift))
        guard let v = eightDigits(padded) else { return nil }
        return (v, count)
    }

    /// The name a word starts with — 1 to 7 visible ASCII bytes up to a space — packed as
    /// `InterfaceNames` keys it (the bytes after it zeroed), with its length; nil otherwise.
    @inline(__always)
    static func leadingName(_ x: UInt64) -> (UInt64, Int)? {
        let space = x ^ (ones &* 0x20)
        let spaces = (space &- ones) & ~space & high  // high bit of every 0x20 byte (and above a borrow)
        guard spaces != 0 else { return nil }
        let count = spaces.trailingZeroBitCount / 8
        guard count > 0 else { return nil }
        let name = x & (UInt64.max >> UInt64(64 - 8 * count))
        let fill = ones &* 0x21 & ~(UInt64.max >> UInt64(64 - 8 * count))  // padding that passes the test
        guard (name | fill) & high == 0, inRange(name | fill, 0x21, 0x7E) == high else { return nil }
        return (name, count)
    }

    /// Three hex digits (a standard id) from the word's first three bytes, as the id's value;
    /// nil if one is not a hex digit.
    @inline(__always)
    static func threeHexDigits(_ w: UInt32) -> UInt32? {
        // '#' as the fourth byte passes the digit test ("0" is put in its place).
        guard let v = eightHexDigits(UInt64((w & 0x00FF_FFFF) | 0x3000_0000) | 0x3030_3030_0000_0000) else { return nil }
        // Bytes in written order: d0d1, d2 and the padding '0' -> value d0 d1 d2.
        let first = v & 0xFF, second = (v >> 8) & 0xFF
        return (first << 4) | (second >> 4)
    }

    /// Eight hex digits as four bytes in their written order (the first pair in the low byte),
    /// or nil if one is not a hex digit.
    @inline(__always)
    static func eightHexDigits(_ x: UInt64) -> UInt32? {
        guard x & high == 0, (inRange(x, 0x30, 0x39) | inRange(x | 0x2020_2020_2020_2020, 0x61, 0x66)) == high else { return nil }
        let nibbles = (x & 0x0F0F_0F0F_0F0F_0F0F) &+ ((x >> 6) & ones) &* 9  // '0'-'9' -> 0-9, 'A'-'F'/'a'-'f' -> 10-15
        var t = ((nibbles << 4) | (nibbles >> 8)) & 0x00FF_00FF_00FF_00FF    // every other byte: first nibble << 4 | second
        t = (t | (t >> 8)) & 0x0000_FFFF_0000_FFFF
        t = (t | (t >> 16)) & 0xFFFF_FFFF
        return UInt32(t)
    }
}
