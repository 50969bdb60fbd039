// libFuzzer entry for the candump line parser and writer: whatever parses must write back
// as a line that parses to the same record.
import CANBus

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCandump(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    var names = InterfaceNames()
    var lineStart = 0
    var lineNumber = 0
    let all = UnsafeRawBufferPointer(start: data, count: size)
    while lineStart <= size {
        var end = lineStart
        while end < size && all[end] != 0x0A { end += 1 }
        lineNumber += 1
        let line = UnsafeRawBufferPointer(rebasing: all[lineStart..<end])
        if let record = try? CandumpParser.parse(line, lineNumber: lineNumber, interfaces: &names) {
            var out = TextBuffer()
            CandumpWriter.appendLogLine(record, to: &out)
            out.bytes.removeLast()  // newline
            let again = out.bytes.withUnsafeBytes { try? CandumpParser.parse($0, lineNumber: 1, interfaces: &names) }
            guard let again, again.frame == record.frame, again.interface == record.interface,
                  again.timestamp == record.timestamp else {
                fatalError("written line does not parse back: \(out.string)")
            }
        }
        lineStart = end + 1
    }
    return 0
}
