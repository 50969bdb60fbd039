/// Writing frames as can-utils does: `candump -l` log lines and `cansend` frame text.
public enum CandumpWriter {
    /// `(1436509052.249713) vcan0 123#DEADBEEF` followed by a newline.
    @inlinable
    public static func appendLogLine(_ record: CANLogRecord, to out: inout TextBuffer) {
        out.append(UInt8(ascii: "("))
        var t = record.timestamp
        if t.fractionDigits == 0 { t.fractionDigits = 6 }
        out.appendTimestamp(t)
        out.append(") ")
        out.append(record.interface)
        out.append(UInt8(ascii: " "))
        appendFrame(record.frame, to: &out)
        out.append(UInt8(ascii: "\n"))
    }

    /// The frame as `cansend` takes it and `candump -l` writes it (upper-case hex, no separators).
    @inlinable
    public static func appendFrame(_ frame: CANFrame, to out: inout TextBuffer) {
        switch frame {
        case .data(let f):
            appendID(f.id, to: &out)
            withUnsafeBytes(of: f.data) { for i in 0..<Int(f.length) { out.appendHexByte($0[i]) } }
            if f.length == 8, f.len8DLC > 8 {
                out.append(UInt8(ascii: "_"))
                out.appendHexNibble(f.len8DLC)
            }
        case .fd(let f):
            appendID(f.id, to: &out)
            out.append(UInt8(ascii: "#"))
            out.appendHexNibble(f.flags)
            withUnsafeBytes(of: f.payload) { for i in 0..<Int(f.length) { out.appendHexByte($0[i]) } }
        case .remote(let f):
            appendID(f.id, to: &out)
            out.append(UInt8(ascii: "R"))
            if f.dlc > 0, f.dlc <= 8 {
                out.appendHexNibble(f.dlc)
                if f.dlc == 8, f.len8DLC > 8 {
                    out.append(UInt8(ascii: "_"))
                    out.appendHexNibble(f.len8DLC)
                }
            }
        case .error(let f):
            out.appendHex(f.errorClass | CandumpParser.errorFlag, width: 8)
            out.append(UInt8(ascii: "#"))
            withUnsafeBytes(of: f.data) { for i in 0..<Int(f.length) { out.appendHexByte($0[i]) } }
        }
    }

    @inlinable
    static func appendID(_ id: CANID, to out: inout TextBuffer) {
        out.appendHex(id.value, width: id.isExtended ? 8 : 3)
        out.append(UInt8(ascii: "#"))
    }

    public static func logLine(_ record: CANLogRecord) -> String {
        var out = TextBuffer()
        appendLogLine(record, to: &out)
        return out.string
    }

    public static func frameText(_ frame: CANFrame) -> String {
        var out = TextBuffer()
        appendFrame(frame, to: &out)
        return out.string
    }

    /// candump's default console line: `  vcan0  123   [4]  DE AD BE EF` (FD: `[12]`).
    public static func appendConsoleLine(_ record: CANLogRecord, interfaceWidth: Int = 5, to out: inout TextBuffer) {
        out.append("  ")
        out.append(record.interface)
        for _ in record.interface.utf8.count..<max(interfaceWidth, record.interface.utf8.count) { out.append(UInt8(ascii: " ")) }
        out.append("  ")
        switch record.frame {
        case .error(let e):
            out.appendHex(e.errorClass | CandumpParser.errorFlag, width: 8)
            out.append("   [8]  ")
            for i in 0..<8 { out.appendHexByte(e[byte: i]); out.append(UInt8(ascii: " ")) }
            out.append("  ERRORFRAME\n")
            return
        case .remote(let r):
            out.appendHex(r.id.value, width: r.id.isExtended ? 8 : 3)
            out.append("   [")
            out.appendDecimal(UInt64(r.dlc))
            out.append("]  remote request\n")
            return
        case .data(let f):
            out.appendHex(f.id.value, width: f.id.isExtended ? 8 : 3)
            out.append("   [")
            out.appendDecimal(UInt64(f.length))
            out.append("] ")
        case .fd(let f):
            out.appendHex(f.id.value, width: f.id.isExtended ? 8 : 3)
            out.append("  [")
            out.appendDecimal(UInt64(f.length), minimumDigits: 2)
            out.append("] ")
        }
        record.frame.withPayload { p in
            for b in p { out.append(UInt8(ascii: " ")); out.appendHexByte(b) }
        }
        out.append(UInt8(ascii: "\n"))
    }
}
