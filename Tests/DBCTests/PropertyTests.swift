import XCTest
@testable import DBC
import CANBus

/// A small deterministic generator so failures reproduce from the printed seed.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

final class PropertyTests: XCTestCase {
    /// The compiled decode (one load, shift and mask, Motorola from the reversed buffer) equals a
    /// bit-by-bit read, for every start bit, length and byte order a 64-byte payload allows, and
    /// for classic 8-byte payloads.
    func testCompiledDecodeEqualsBitwiseReferenceForAllLayouts() {
        var rng = SplitMix64(state: 42)
        var payload = [UInt8](repeating: 0, count: 64)
        var out = [DecodedValue](repeating: DecodedValue(), count: 1)
        for order in [ByteOrder.littleEndian, .bigEndian] {
            for length in 1...64 {
                for start in 0..<512 {
                    let l = SignalLayout(startBit: start, length: length, byteOrder: order)
                    guard l.requiredBytes <= 64, (order == .littleEndian || (start / 8) * 8 + (7 - start % 8) + length <= 512) else { continue }
                    let signal = Signal(name: "S", startBit: start, length: length, byteOrder: order, isSigned: false, valueType: .integer,
                                        factor: 1, offset: 0, minimum: 0, maximum: 0, unit: "", receivers: [],
                                        isMultiplexer: false, multiplexCondition: nil, position: SourcePosition(line: 1, column: 1))
                    let codec = MessageCodec(message: Message(id: CANID(1, extended: false)!, name: "M", length: 64, isFD: true, senders: [],
                                                              cycleTimeMilliseconds: nil, comment: nil, signals: [signal],
                                                              position: SourcePosition(line: 1, column: 1)))
                    for i in 0..<64 { payload[i] = UInt8.random(in: 0...255, using: &rng) }
                    let size = l.requiredBytes <= 8 ? 8 : 64  // classic frames take their own path
                    payload.withUnsafeBytes { p in
                        let bytes = UnsafeRawBufferPointer(rebasing: p.prefix(size))
                        out.withUnsafeMutableBufferPointer { codec.decode(bytes, into: $0) }
                        XCTAssertEqual(out[0].raw, l.extractBitwise(bytes), "start \(start) length \(length) \(order) payload \(size)")
                    }
                }
            }
        }
    }

    /// Random non-overlapping layouts: encode random values, decode them back.
    func testEncodeDecodeRoundTripsOnRandomLayouts() throws {
        for seed in UInt64(1)...200 {
            var rng = SplitMix64(state: seed)
            let length = [8, 8, 8, 16, 32, 64].randomElement(using: &rng)!
            var used = Set<Int>()
            var lines: [String] = []
            var expected: [String: Double] = [:]
            var floats: [String] = []
            for n in 0..<Int.random(in: 1...8, using: &rng) {
                let bits = Int.random(in: 1...64, using: &rng)
                let order = Bool.random(using: &rng) ? ByteOrder.littleEndian : .bigEndian
                let start = Int.random(in: 0..<(length * 8), using: &rng)
                let layout = SignalLayout(startBit: start, length: bits, byteOrder: order)
                guard Int(layout.requiredBytes) <= length else { continue }
                if order == .bigEndian, (start / 8) * 8 + (7 - start % 8) + bits > length * 8 { continue }
                let cells = Set((0..<bits).map { j -> Int in let p = layout.bitPosition(j); return p.byte * 8 + Int(p.bit) })
                guard cells.isDisjoint(with: used) else { continue }
                used.formUnion(cells)
                let signed = Bool.random(using: &rng)
                let isFloat = (bits == 32 || bits == 64) && Bool.random(using: &rng)
                let factor = isFloat ? 1.0 : [1.0, 0.5, 0.01, -2.0, 1e-7].randomElement(using: &rng)!
                let offset = isFloat ? 0.0 : [0.0, -40.0, 1000.0].randomElement(using: &rng)!
                let name = "S\(n)"
                lines.append(" SG_ \(name) : \(start)|\(bits)@\(order == .littleEndian ? 1 : 0)\(signed ? "-" : "+") (\(factor),\(offset)) [0|0] \"\" X")
                if isFloat { floats.append("SIG_VALTYPE_ 1 \(name) : \(bits == 32 ? 1 : 2);") }
                let raw: Double
                if isFloat {
                    raw = bits == 32 ? Double(Float(Double.random(in: -1e6...1e6, using: &rng))) : Double.random(in: -1e12...1e12, using: &rng)
                } else {
                    let magnitudeBits = min(bits, 52)  // stay exactly representable as a Double
                    let maxRaw = Double((UInt64(1) << UInt64(signed ? magnitudeBits - 1 : magnitudeBits)) - 1)
                    let minRaw = signed ? -maxRaw - 1 : 0
                    raw = Double.random(in: minRaw...max(minRaw, maxRaw), using: &rng).rounded(.down)
                }
                expected[name] = raw * factor + offset
            }
            let dbc = "BO_ 1 M: \(length) X\n" + lines.joined(separator: "\n") + "\n" + floats.joined(separator: "\n")
                + (length > 8 ? "\nBA_DEF_ BO_ \"VFrameFormat\" ENUM \"StandardCAN\",\"ExtendedCAN\",\"StandardCAN_FD\";\nBA_ \"VFrameFormat\" BO_ 1 2;" : "")
            let codec = MessageCodec(message: try Database.parse(dbc).messages[0])
            let payload = try codec.encode(expected, checkRanges: false)
            let decoded = codec.decode(payload)
            for (i, s) in codec.message.signals.enumerated() {
                let want = expected[s.name]!
                XCTAssertEqual(decoded[i].state, .present)
                XCTAssertEqual(decoded[i].physical, want, accuracy: Swift.max(abs(want) * 1e-9, abs(s.factor) * 1e-6),
                               "seed \(seed) signal \(s.name)\n\(dbc)")
            }
        }
    }
}
