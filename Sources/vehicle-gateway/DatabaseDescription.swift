import CANBus
import DBC

/// The text of `dbc show`: per message its properties, a bit layout and a signal table.
enum DatabaseDescription {
    static func describe(_ db: Database, only: String?) -> String {
        var s = ""
        s += "DBC:       \(db.fileName)\n"
        if !db.version.isEmpty { s += "Version:   \(db.version)\n" }
        s += "Nodes:     \(db.nodes.map(\.name).joined(separator: ", "))\n"
        s += "Messages:  \(db.messages.count), signals: \(db.messages.reduce(0) { $0 + $1.signals.count })\n"
        if let c = db.comment { s += "Comment:   \(c)\n" }
        for m in db.messages.sorted(by: { $0.id < $1.id }) {
            if let only, only != m.name, UInt32(only.replacing("0x", with: ""), radix: 16) != m.id.value { continue }
            s += "\n" + String(repeating: "-", count: 78) + "\n\n"
            s += "  Name:       \(m.name)\n"
            s += "  Id:         0x\(String(m.id.value, radix: 16, uppercase: true)) (\(m.id.isExtended ? "extended, 29-bit" : "standard, 11-bit"))\n"
            s += "  Length:     \(m.length) bytes\(m.isFD ? " (CAN FD)" : "")\n"
            s += "  Cycle time: \(m.cycleTimeMilliseconds.map { "\($0) ms" } ?? "-")\n"
            s += "  Senders:    \(m.senders.isEmpty ? "-" : m.senders.joined(separator: ", "))\n"
            if let c = m.comment { s += "  Comment:    \(c.replacing("\n", with: "\n              "))\n" }
            s += "  Layout:\n\n" + layout(m) + "\n"
            s += "  Signals:\n"
            for (i, sig) in m.signals.enumerated() {
                let tag = letter(i)
                var mux = ""
                if sig.isMultiplexer { mux += " multiplexer" }
                if let c = sig.multiplexCondition {
                    mux += " when \(c.multiplexer) in " + c.ranges.map { $0.lowerBound == $0.upperBound ? "\($0.lowerBound)" : "\($0.lowerBound)-\($0.upperBound)" }.joined(separator: ",")
                }
                s += "    \(tag) \(sig.name): start \(sig.startBit), \(sig.length) bit \(sig.byteOrder == .littleEndian ? "Intel" : "Motorola") "
                s += sig.valueType == .integer ? (sig.isSigned ? "signed" : "unsigned") : sig.valueType.rawValue
                s += ", (\(fmt(sig.factor)), \(fmt(sig.offset))) [\(fmt(sig.minimum))|\(fmt(sig.maximum))] \"\(sig.unit)\"\(mux)\n"
                if let v = sig.initialRawValue { s += "        initial raw value: \(fmt(v))\n" }
                if !sig.receivers.isEmpty { s += "        receivers: \(sig.receivers.joined(separator: ", "))\n" }
                if let c = sig.comment { s += "        \(c.replacing("\n", with: "\n        "))\n" }
                for l in sig.valueLabels { s += "        \(l.value) \(l.label)\n" }
            }
        }
        return s
    }

    static func fmt(_ v: Double) -> String {
        v == v.rounded() && abs(v) < 1e15 ? String(Int64(v)) : String(v)
    }

    static func letter(_ i: Int) -> String {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
        return i < alphabet.count ? String(alphabet[i]) : "#"
    }

    /// One row per byte, bits 7…0 left to right; each cell shows the signal's letter, the most
    /// significant bit in upper case marker '>' and the least significant '<' omitted for brevity.
    static func layout(_ m: Message) -> String {
        let bytes = max(m.length, 1)
        var cells = [[String]](repeating: [String](repeating: ".", count: 8), count: bytes)
        for (i, s) in m.signals.enumerated() where (1...64).contains(s.length) {
            let l = SignalLayout(startBit: s.startBit, length: s.length, byteOrder: s.byteOrder)
            for j in 0..<s.length {
                let bitIndex = l.bitPosition(j)
                guard bitIndex.byte < bytes else { continue }
                let cell = cells[bitIndex.byte][7 - Int(bitIndex.bit)]
                cells[bitIndex.byte][7 - Int(bitIndex.bit)] = cell == "." ? letter(i) : "X"  // X: overlap
            }
        }
        var s = "                 Bit\n            7 6 5 4 3 2 1 0\n"
        for b in 0..<bytes { s += "    Byte \(b < 10 ? " " : "")\(b)  " + cells[b].joined(separator: " ") + "\n" }
        return s
    }
}
