import XCTest
@testable import DBC
import CANBus

final class CodecTests: XCTestCase {
    func codec(_ dbc: String, message: Int = 0) throws -> MessageCodec {
        MessageCodec(message: try Database.parse(dbc).messages[message])
    }

    func values(_ c: MessageCodec, _ bytes: [UInt8]) -> [String: Double] {
        var out: [String: Double] = [:]
        for (i, v) in c.decode(bytes).enumerated() where v.state == .present { out[c.message.signals[i].name] = v.physical }
        return out
    }

    func testIntelAndMotorolaKnownVectors() throws {
        // Values checked by hand against the DBC bit numbering (and cantools).
        let c = try codec("""
        BO_ 1 M: 8 X
         SG_ I16 : 8|16@1+ (1,0) [0|0] "" X
         SG_ M16 : 39|16@0+ (1,0) [0|0] "" X
         SG_ M12 : 51|12@0+ (1,0) [0|0] "" X
         SG_ I4 : 4|4@1+ (1,0) [0|0] "" X
        """)
        let v = values(c, [0xA5, 0x34, 0x12, 0, 0xAB, 0xCD, 0x0F, 0xED])
        XCTAssertEqual(v["I16"], 0x1234)
        XCTAssertEqual(v["M16"], 0xABCD)
        XCTAssertEqual(v["M12"], 0xFED)
        XCTAssertEqual(v["I4"], 0xA)
    }

    func testSignedFactorOffsetAndNegativeFactor() throws {
        let c = try codec("""
        BO_ 1 M: 8 X
         SG_ S8 : 0|8@1- (0.5,-10) [0|0] "" X
         SG_ N : 8|8@1+ (-2,100) [0|0] "" X
         SG_ S12 : 23|12@0- (1,0) [0|0] "" X
        """)
        let v = values(c, [0xFE, 0x03, 0x80, 0x00, 0, 0, 0, 0])
        XCTAssertEqual(v["S8"], -2 * 0.5 - 10)
        XCTAssertEqual(v["N"], 94)
        XCTAssertEqual(v["S12"], -2048)
    }

    func testFullWidth64BitSignals() throws {
        let c = try codec("""
        BO_ 1 M: 16 X
         SG_ U : 0|64@1+ (1,0) [0|0] "" X
         SG_ S : 71|64@0- (1,0) [0|0] "" X
        BA_DEF_ BO_ "VFrameFormat" ENUM "StandardCAN","ExtendedCAN","StandardCAN_FD";
        BA_ "VFrameFormat" BO_ 1 2;
        """)
        let bytes: [UInt8] = [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 1]
        let d = c.decode(bytes)
        XCTAssertEqual(d[0].raw, UInt64.max)
        XCTAssertEqual(Int64(bitPattern: d[1].raw), Int64.min + 1)
    }

    func testFloatSignals() throws {
        let c = try codec("""
        BO_ 1 M: 16 X
         SG_ F32 : 0|32@1- (1,0) [0|0] "" X
         SG_ F64 : 71|64@0- (2,1) [0|0] "" X
        SIG_VALTYPE_ 1 F32 : 1;
        SIG_VALTYPE_ 1 F64 : 2;
        BA_DEF_ BO_ "VFrameFormat" ENUM "StandardCAN","ExtendedCAN","StandardCAN_FD";
        BA_ "VFrameFormat" BO_ 1 2;
        """)
        var bytes = [UInt8](repeating: 0, count: 16)
        withUnsafeBytes(of: Float(3.25).bitPattern.littleEndian) { for i in 0..<4 { bytes[i] = $0[i] } }
        withUnsafeBytes(of: Double(-1.5).bitPattern.bigEndian) { for i in 0..<8 { bytes[8 + i] = $0[i] } }
        let v = values(c, bytes)
        XCTAssertEqual(v["F32"], 3.25)
        XCTAssertEqual(v["F64"], -1.5 * 2 + 1)
        let nan = values(c, [0, 0, 0xC0, 0x7F] + [UInt8](repeating: 0, count: 12))
        XCTAssertTrue(nan["F32"]!.isNaN)
    }

    func testSimpleMultiplexingReturnsOnlyActiveSignals() throws {
        let c = try codec("""
        BO_ 1 M: 8 X
         SG_ Mux M : 0|8@1+ (1,0) [0|0] "" X
         SG_ Always : 56|8@1+ (1,0) [0|0] "" X
         SG_ A m0 : 8|8@1+ (1,0) [0|0] "" X
         SG_ B m1 : 8|16@1+ (1,0) [0|0] "" X
        """)
        XCTAssertEqual(Set(values(c, [0, 5, 6, 0, 0, 0, 0, 9]).keys), ["Mux", "Always", "A"])
        XCTAssertEqual(values(c, [1, 5, 6, 0, 0, 0, 0, 9])["B"], 0x0605)
        XCTAssertEqual(Set(values(c, [7, 5, 6, 0, 0, 0, 0, 9]).keys), ["Mux", "Always"], "an undefined mux value selects no branch")
    }

    func testExtendedAndCascadedMultiplexing() throws {
        let c = try codec("""
        BO_ 1 M: 8 X
         SG_ Top M : 0|4@1+ (1,0) [0|0] "" X
         SG_ Sub m2M : 8|4@1+ (1,0) [0|0] "" X
         SG_ Ranged m0 : 16|8@1+ (1,0) [0|0] "" X
         SG_ Leaf m3 : 24|8@1+ (1,0) [0|0] "" X
        SG_MUL_VAL_ 1 Sub Top 2-2;
        SG_MUL_VAL_ 1 Ranged Top 0-0, 4-6;
        SG_MUL_VAL_ 1 Leaf Sub 3-3;
        """)
        XCTAssertEqual(Set(values(c, [5, 3, 1, 2, 0, 0, 0, 0]).keys), ["Top", "Ranged"])
        XCTAssertEqual(Set(values(c, [2, 3, 1, 2, 0, 0, 0, 0]).keys), ["Top", "Sub", "Leaf"])
        XCTAssertEqual(Set(values(c, [2, 4, 1, 2, 0, 0, 0, 0]).keys), ["Top", "Sub"])
        XCTAssertEqual(Set(values(c, [7, 3, 1, 2, 0, 0, 0, 0]).keys), ["Top"])
    }

    func testShortFrameDecodesWhatFitsAndReportsTheRestMissing() throws {
        let c = try codec("""
        BO_ 1 M: 8 X
         SG_ A : 0|8@1+ (1,0) [0|0] "" X
         SG_ B : 8|16@1+ (1,0) [0|0] "" X
         SG_ C : 7|8@0+ (1,0) [0|0] "" X
        """)
        let d = c.decode([0x11, 0x22])
        XCTAssertEqual(d.map(\.state), [.present, .missing, .present])
        XCTAssertEqual(d[0].physical, 0x11)
        XCTAssertEqual(d[2].physical, 0x11)
        XCTAssertEqual(c.decode([]).map(\.state), [.missing, .missing, .missing])
    }

    func testValueLabelsUseSignedRawValues() throws {
        let c = try codec("""
        BO_ 1 M: 8 X
         SG_ Gear : 0|8@1- (1,0) [0|0] "" X
        VAL_ 1 Gear -1 "R" 0 "N" 1 "D1" ;
        """)
        let d = c.decode([0xFF])
        XCTAssertEqual(c.label(signal: 0, raw: d[0].raw), "R")
        XCTAssertNil(c.label(signal: 0, raw: c.decode([0x05])[0].raw))
    }

    func testEncodeChecksRangesAndMultiplexerSelection() throws {
        let c = try codec("""
        BO_ 1 M: 8 X
         SG_ Mux M : 0|8@1+ (1,0) [0|3] "" X
         SG_ A m0 : 8|8@1+ (0.5,0) [0|100] "" X
         SG_ B m1 : 8|8@1- (1,0) [-128|127] "" X
        """)
        XCTAssertEqual(try c.encode(["Mux": 0, "A": 12.5]), [0, 25, 0, 0, 0, 0, 0, 0])
        XCTAssertEqual(try c.encode(["Mux": 1, "B": -2]), [1, 0xFE, 0, 0, 0, 0, 0, 0])
        XCTAssertThrowsError(try c.encode(["Mux": 0, "A": 101])) { XCTAssertEqual(($0 as? EncodeError)?.signal, "A") }
        XCTAssertThrowsError(try c.encode(["Mux": 1, "A": 1, "B": 1])) { XCTAssertEqual(($0 as? EncodeError)?.signal, "A") }
        XCTAssertThrowsError(try c.encode(["Mux": 0])) { XCTAssertEqual(($0 as? EncodeError)?.signal, "A") }
        XCTAssertThrowsError(try c.encode(["Mux": 0, "A": 1, "Nope": 1])) { XCTAssertEqual(($0 as? EncodeError)?.signal, "Nope") }
        XCTAssertEqual(try c.encode(["Mux": 0], useInitialValues: true), [0, 0, 0, 0, 0, 0, 0, 0])
    }

    func testLookupByIdKeepsStandardAndExtendedApart() throws {
        let db = try Database.parse("""
        BO_ 291 Std: 1 X
         SG_ A : 0|8@1+ (1,0) [0|0] "" X
        BO_ 2147483939 Ext: 1 X
         SG_ B : 0|8@1+ (1,0) [0|0] "" X
        BO_ 2684354559 Ext2: 1 X
         SG_ C : 0|8@1+ (1,0) [0|0] "" X
        """)
        let codec = DatabaseCodec(db)
        XCTAssertEqual(codec.codec(for: CANID(0x123, extended: false)!)?.message.name, "Std")
        XCTAssertEqual(codec.codec(for: CANID(0x123, extended: true)!)?.message.name, "Ext")
        XCTAssertEqual(codec.codec(for: CANID(0x1FFF_FFFF, extended: true)!)?.message.name, "Ext2")
        XCTAssertNil(codec.codec(for: CANID(0x124, extended: false)!))
        XCTAssertNil(codec.codec(for: CANID(0x124, extended: true)!))
    }
}
