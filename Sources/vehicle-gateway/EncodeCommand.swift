import ArgumentParser
import CANBus
import DBC

struct EncodeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "encode",
        abstract: "Encode physical signal values into a frame (cansend syntax) or a candump log.",
        discussion: """
        One frame:   vehicle-gateway encode --dbc car.dbc VehicleSpeed VehicleSpeed=42.5 SpeedQualifier=Valid
        Many frames: each standard-input line '<seconds.fraction> <interface> <Message> Sig=value ...'
                     becomes a candump -l log line (--batch).
        Values may be numbers or VAL_ labels. Signals not given take GenSigStartValue (or 0).
        """
    )

    @Option(name: .long, help: "A DBC file; repeat for several.") var dbc: [String]
    @Flag(name: .long, help: "Read many frames from standard input and write a candump log.") var batch = false
    @Option(name: .long, help: "CAN FD flags nibble for FD messages (1 = bit rate switch).") var fdFlags: UInt8 = 1
    @Argument(help: "Message name, then Signal=value pairs.") var arguments: [String] = []

    func run() throws {
        let codec = DatabaseCodec(try dbc.map(loadDatabase))
        var byName: [String: Int] = [:]
        for (i, c) in codec.codecs.enumerated() { byName[c.message.name] = i }
        let out = OutputSink()
        if !batch {
            guard let name = arguments.first else { throw ValidationError("give a message name") }
            let frame = try encode(codec, byName, name, Array(arguments.dropFirst()), where: "arguments")
            out.write(CandumpWriter.frameText(frame) + "\n")
            out.flush()
            return
        }
        var lineNumber = 0
        var text = TextBuffer(capacity: 128)
        while let line = readLine() {
            lineNumber += 1
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            if words.isEmpty || words[0].hasPrefix("#") { continue }
            guard words.count >= 3 else {
                throw CLIFailure.exit("<stdin>:\(lineNumber): expected '<seconds.fraction> <interface> <Message> Sig=value ...'")
            }
            let timestamp = try parseTimestamp(words[0], line: lineNumber)
            let frame = try encode(codec, byName, words[2], Array(words.dropFirst(3)), where: "<stdin>:\(lineNumber)")
            CandumpWriter.appendLogLine(CANLogRecord(timestamp: timestamp, interface: words[1], frame: frame), to: &text)
            out.write(text)
            text.removeAll()
        }
        out.flush()
    }

    func parseTimestamp(_ text: String, line: Int) throws -> CANTimestamp {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, let s = Int64(parts[0]), parts[1].count <= 9, let f = UInt32(parts[1]) else {
            throw CLIFailure.exit("<stdin>:\(line):1: expected a timestamp like 1700000000.000000, found '\(text)'")
        }
        var ns = f
        for _ in parts[1].count..<9 { ns *= 10 }
        return CANTimestamp(seconds: s, nanoseconds: ns, fractionDigits: parts[1].count > 6 ? 9 : 6)  // candump's µs or ns
    }

    func encode(_ codec: DatabaseCodec, _ byName: [String: Int], _ name: String, _ pairs: [String], where place: String) throws -> CANFrame {
        guard let index = byName[name] ?? UInt32(name.replacing("0x", with: ""), radix: 16).flatMap({ v in
            codec.codecs.firstIndex { $0.message.id.value == v }
        }) else {
            throw CLIFailure.exit("\(place): no message named \(name)")
        }
        let mc = codec.codecs[index]
        var values: [String: Double] = [:]
        var labelled: Set<String> = []
        for pair in pairs {
            guard let eq = pair.firstIndex(of: "=") else { throw CLIFailure.exit("\(place): expected Signal=value, found '\(pair)'") }
            let key = String(pair[..<eq]), text = String(pair[pair.index(after: eq)...])
            guard let si = mc.message.signals.firstIndex(where: { $0.name == key }) else {
                throw CLIFailure.exit("\(place): message \(name) has no signal \(key)")
            }
            let s = mc.message.signals[si]
            if let v = Double(text) { values[key] = v }
            else if let l = s.valueLabels.first(where: { $0.label == text }) {
                values[key] = Double(l.value) * s.factor + s.offset
                labelled.insert(key)  // a labelled value is valid by definition, even outside [min|max]
            }
            else { throw CLIFailure.exit("\(place): \(key)=\(text) is neither a number nor one of its labels") }
        }
        let bytes: [UInt8]
        do {
            bytes = try mc.encode(values, useInitialValues: true, unchecked: labelled)
        } catch {
            throw CLIFailure.exit("\(place): \(name): \(error)")
        }
        let m = mc.message
        if m.isFD || bytes.count > 8 {
            let padded = bytes + [UInt8](repeating: 0, count: (CANFDLength.padded(bytes.count) ?? 64) - bytes.count)
            return .fd(CANFDFrame(id: m.id, bytes: padded, flags: fdFlags))
        }
        return .data(CANDataFrame(id: m.id, bytes: bytes))
    }
}
