import XCTest
import Foundation
@testable import DBC
import CANBus

final class ParserTests: XCTestCase {
    static let full = #"""
    VERSION "1.2 \"beta\""

    NS_ :
        NS_DESC_
        CM_
        BA_DEF_
        SIG_VALTYPE_

    BS_:

    BU_: ECU1 ECU2 Gateway
    VAL_TABLE_ OnOff 1 "On" 0 "Off" ;

    BO_ 256 Engine: 8 ECU1
     SG_ Speed : 0|16@1+ (0.01,0) [0|655.35] "km/h" Gateway,ECU2
     SG_ Temp : 23|8@0- (-0.5,40) [-100|200] "°C" Gateway
     SG_ Mode M : 32|4@1+ (1,0) [0|15] "" Vector__XXX
     SG_ PageA m0 : 40|8@1+ (1,0) [0|0] "" Vector__XXX
     SG_ PageB m1M : 40|8@1+ (1,0) [0|0] "" Vector__XXX
     SG_ Deep m3 : 48|8@1+ (1,0) [0|0] "" Vector__XXX

    BO_ 2566844926 Position: 8 ECU2
     SG_ Lat : 0|32@1- (1E-007,0) [-90|90] "deg" Gateway
     SG_ Value : 32|32@1- (1,0) [0|0] "" Gateway

    BO_TX_BU_ 256 : ECU1,ECU2;

    EV_ EnvSpeed: 0 [0|300] "km/h" 0 12 DUMMY_NODE_VECTOR0 ECU1;
    ENVVAR_DATA_ EnvSpeed: 4;

    CM_ "Network \"comment\"
    on two lines";
    CM_ BU_ ECU1 "Engine ECU";
    CM_ BO_ 256 "Engine data";
    CM_ SG_ 256 Speed "Vehicle speed";
    CM_ EV_ EnvSpeed "an env var";

    BA_DEF_ BO_ "GenMsgCycleTime" INT 0 65535;
    BA_DEF_ SG_ "GenSigStartValue" FLOAT -1E+100 1E+100;
    BA_DEF_ BU_ "NodeAddress" HEX 0 255;
    BA_DEF_ "BusType" STRING ;
    BA_DEF_ BO_ "VFrameFormat" ENUM "StandardCAN","ExtendedCAN","StandardCAN_FD","ExtendedCAN_FD";
    BA_DEF_ EV_ "EvAttr" INT 0 10;
    BA_DEF_REL_ BU_SG_REL_ "SigTimeout" INT 0 1000;
    BA_DEF_DEF_ "GenMsgCycleTime" 100;
    BA_DEF_DEF_ "GenSigStartValue" 0;
    BA_DEF_DEF_ "NodeAddress" 0;
    BA_DEF_DEF_ "BusType" "CAN";
    BA_DEF_DEF_ "VFrameFormat" "StandardCAN";
    BA_DEF_DEF_ "EvAttr" 1;
    BA_DEF_DEF_REL_ "SigTimeout" 50;
    BA_ "BusType" "CAN FD";
    BA_ "NodeAddress" BU_ ECU1 17;
    BA_ "GenMsgCycleTime" BO_ 256 20;
    BA_ "GenSigStartValue" SG_ 256 Speed 1234;
    BA_ "VFrameFormat" BO_ 2566844926 3;
    BA_ "EvAttr" EV_ EnvSpeed 3;
    BA_REL_ "SigTimeout" BU_SG_REL_ Gateway SG_ 256 Speed 200;

    VAL_ 256 Mode 0 "Idle" 1 "Run" 15 "SNA" ;
    VAL_ 2566844926 Value -1 "Invalid" 2147483647 "Max" ;
    VAL_ EnvSpeed 0 "Stopped" ;
    SIG_GROUP_ 256 Group1 1 : Speed Temp;
    SIG_VALTYPE_ 2566844926 Value : 1;
    SG_MUL_VAL_ 256 Deep PageB 3-3, 5-7;
    SG_MUL_VAL_ 256 PageB Mode 1-1;
    SGTYPE_ Foo : 8@1+ (1,0) [0|0] "" ;
    """#

    func load(_ text: String) throws(Diagnostic) -> Database { try Database.parse(text, fileName: "test.dbc") }

    func testEveryConstructOfTheGrammar() throws {
        let db = try load(Self.full)
        XCTAssertEqual(db.version, #"1.2 "beta""#)
        XCTAssertEqual(db.nodes.map(\.name), ["ECU1", "ECU2", "Gateway"])
        XCTAssertEqual(db.nodes[0].comment, "Engine ECU")
        XCTAssertEqual(db.nodes[0].attributes["NodeAddress"], .integer(17))
        XCTAssertEqual(db.comment, "Network \"comment\"\non two lines")
        XCTAssertEqual(db.valueTables.first?.name, "OnOff")
        XCTAssertEqual(db.networkAttributes["BusType"], .string("CAN FD"))

        let engine = try XCTUnwrap(db.message(named: "Engine"))
        XCTAssertEqual(engine.id, CANID(256, extended: false))
        XCTAssertEqual(engine.senders, ["ECU1", "ECU2"])
        XCTAssertEqual(engine.cycleTimeMilliseconds, 20)
        XCTAssertEqual(engine.comment, "Engine data")
        XCTAssertEqual(engine.signalGroups.first?.signals, ["Speed", "Temp"])
        XCTAssertFalse(engine.isFD)

        let speed = try XCTUnwrap(engine.signal(named: "Speed"))
        XCTAssertEqual(speed.byteOrder, .littleEndian)
        XCTAssertEqual(speed.factor, 0.01)
        XCTAssertEqual(speed.unit, "km/h")
        XCTAssertEqual(speed.receivers, ["Gateway", "ECU2"])
        XCTAssertEqual(speed.comment, "Vehicle speed")
        XCTAssertEqual(speed.initialRawValue, 1234)

        let temp = try XCTUnwrap(engine.signal(named: "Temp"))
        XCTAssertEqual(temp.byteOrder, .bigEndian)
        XCTAssertTrue(temp.isSigned)
        XCTAssertEqual(temp.factor, -0.5)
        XCTAssertEqual(temp.unit, "°C")
        XCTAssertEqual(temp.initialRawValue, 0, "BA_DEF_DEF_ default applies")

        let mode = try XCTUnwrap(engine.signal(named: "Mode"))
        XCTAssertTrue(mode.isMultiplexer)
        XCTAssertEqual(mode.valueLabels.map(\.label), ["Idle", "Run", "SNA"])
        XCTAssertEqual(engine.signal(named: "PageA")?.multiplexCondition, MultiplexCondition(multiplexer: "Mode", ranges: [0...0]))
        let pageB = try XCTUnwrap(engine.signal(named: "PageB"))
        XCTAssertTrue(pageB.isMultiplexer)
        XCTAssertEqual(pageB.multiplexCondition, MultiplexCondition(multiplexer: "Mode", ranges: [1...1]))
        XCTAssertEqual(engine.signal(named: "Deep")?.multiplexCondition, MultiplexCondition(multiplexer: "PageB", ranges: [3...3, 5...7]))

        let position = try XCTUnwrap(db.message(named: "Position"))
        XCTAssertEqual(position.id, CANID(0x18FE_F1FE, extended: true))
        XCTAssertEqual(position.id.value, 2566844926 - 0x8000_0000)
        XCTAssertTrue(position.isFD)
        XCTAssertEqual(position.signal(named: "Lat")?.factor, 1e-7)
        let value = try XCTUnwrap(position.signal(named: "Value"))
        XCTAssertEqual(value.valueType, .float32)
        XCTAssertEqual(value.valueLabels.first, ValueLabel(value: -1, label: "Invalid"))

        XCTAssertEqual(db.environmentVariables.first?.name, "EnvSpeed")
        XCTAssertEqual(db.environmentVariables.first?.dataSize, 4)
        XCTAssertEqual(db.environmentVariables.first?.comment, "an env var")
        XCTAssertEqual(db.environmentVariables.first?.valueLabels.first?.label, "Stopped")
        XCTAssertEqual(db.environmentVariables.first?.attributes["EvAttr"], .integer(3))
        XCTAssertEqual(db.relationAttributes.first?.attribute, "SigTimeout")
        XCTAssertEqual(db.relationAttributes.first?.value, .integer(200))
        XCTAssertEqual(db.attributeDefinitions.first { $0.name == "SigTimeout" }?.defaultValue, .integer(50))
        XCTAssertEqual(db.warnings.map(\.check), ["unknown-section"])
        XCTAssertEqual(db.warnings.first?.position.line, Self.full.split(separator: "\n", omittingEmptySubsequences: false).firstIndex { $0.hasPrefix("SGTYPE_") }! + 1)
    }

    func testSigValTypeWithoutColon() throws {
        let db = try load("""
        BO_ 1 M: 8 X
         SG_ F : 0|64@1- (1,0) [0|0] "" X
        SIG_VALTYPE_ 1 F 2;
        """)
        XCTAssertEqual(db.messages[0].signals[0].valueType, .float64)
    }

    func testCRLFAndCp1252() throws {
        let text = "BU_: A\r\nBO_ 1 M: 8 A\r\n SG_ T : 0|8@1+ (1,0) [0|0] \"\u{B0}C\" A\r\nCM_ SG_ 1 T \"Gr\u{FC}\u{DF}e \u{80}\";\r\n"
        let bytes = text.unicodeScalars.map { s -> UInt8 in s.value == 0x20AC ? 0x80 : UInt8(s.value) }  // cp1252 bytes
        let db = DatabaseBuilder.build(try DBCParser.parse(SourceText(fileName: "cp.dbc", data: bytes)))
        XCTAssertEqual(db.messages[0].signals[0].unit, "°C")
        XCTAssertEqual(db.messages[0].signals[0].comment, "Grüße €")
        let syntax = try DBCParser.parse(SourceText(fileName: "cp.dbc", data: bytes))
        XCTAssertEqual(syntax.encoding, .cp1252)
    }

    func testErrorsCarryFileLineColumnAndWhatWasExpected() {
        let cases: [(String, Int, Int, String)] = [
            ("BO_ 1 M: 8 X\n SG_ S : 0|8@2+ (1,0) [0|0] \"\" X\n", 2, 14, "byte order"),
            ("BO_ 1 M: 8 X\n SG_ S : 0|8@1+ (1;0) [0|0] \"\" X\n", 2, 19, "','"),
            ("BO_ 1 M 8 X\n", 1, 9, "':' after the message name"),
            ("BO_ x M: 8 X\n", 1, 5, "message id"),
            ("CM_ SG_ 1 S \"never closed;\n", 1, 13, "unterminated string"),
            ("VAL_ 1 S 0 \"a\" 1 ;\n", 1, 18, "the label (a string) for value 1"),
            ("BO_ 1 M: 8 X\n SG_ S Q : 0|8@1+ (1,0) [0|0] \"\" X\n", 2, 8, "multiplex indicator"),
            ("BA_DEF_ BO_ \"A\" BOOL;\n", 1, 1, "INT, HEX, FLOAT, STRING or ENUM"),
            ("SG_ S : 0|8@1+ (1,0) [0|0] \"\" X\n", 1, 1, "BO_ before SG_"),
            ("BU_: A\n123\n", 2, 1, "section keyword"),
            ("BO_ 1 M: 80 X\n", 1, 10, "0 to 64"),
            ("SG_MUL_VAL_ 1 S M 3-1;\n", 1, 19, "low <= high"),
            ("BU_: A\nBO_ 1 Ä: 8 X\n", 2, 7, "message name"),
        ]
        for (text, line, column, expected) in cases {
            do {
                _ = try load(text)
                XCTFail("accepted: \(text)")
            } catch {
                XCTAssertEqual(error.file, "test.dbc")
                XCTAssertEqual(error.line, line, "\(text): \(error)")
                XCTAssertEqual(error.column, column, "\(text): \(error)")
                XCTAssertTrue(error.message.contains(expected), "\(text): \(error)")
                XCTAssertTrue(error.description.hasPrefix("test.dbc:\(line):\(column): error: "), error.description)
            }
        }
    }

    func testReferencesToMissingObjectsAreWarnings() throws {
        let db = try load("""
        BO_ 1 M: 8 X
         SG_ S : 0|8@1+ (1,0) [0|0] "" X
        CM_ BO_ 2 "no such message";
        VAL_ 1 Nope 0 "x" ;
        """)
        XCTAssertEqual(db.warnings.map(\.check), ["unknown-message", "unknown-signal"])
        XCTAssertEqual(db.warnings.map(\.position.line), [3, 4])
    }

    /// A real car's DBC (`SG_ MO2_Mp_Code m : 6|2@1+ ...`): a bare `m` with no value. cantools
    /// 45.1.0 loads it as a plain signal (not a multiplexer, no condition); so do we, with a warning.
    func testBareLowercaseMIsAPlainSignalWithAWarning() throws {
        let db = try load("""
        BO_ 100 MO2: 8 Gateway
         SG_ MO2_Mp_Code m : 6|2@1+ (1,0) [0|3] "" Gateway
         SG_ Other : 8|8@1+ (1,0) [0|255] "" Gateway
        """)
        XCTAssertEqual(db.warnings.map(\.check), ["bare-multiplexer"])
        XCTAssertEqual(db.warnings.first?.position.line, 2)
        let code = db.messages[0].signals[0]
        XCTAssertFalse(code.isMultiplexer)
        XCTAssertNil(code.multiplexCondition)
        let values = MessageCodec(message: db.messages[0]).decode([0xFF, 0xFF, 0, 0, 0, 0, 0, 0])
        XCTAssertEqual(values.map(\.physical), [3, 255])
    }

    func testEmptyFileIsAnEmptyDatabase() throws {
        XCTAssertEqual(try load("").messages.count, 0)
        XCTAssertEqual(try load("// only a comment\n").messages.count, 0)
    }

    func testFixtureFilesParse() throws {
        let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../Fixtures/dbc").standardized
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".dbc") }
        XCTAssertGreaterThan(files.count, 5)
        for f in files {
            XCTAssertNoThrow(try Database.load(path: dir.appendingPathComponent(f).path), f)
        }
    }
}

extension ParserTests {
    /// Numbers take a fast path for plain decimals; it must give exactly what a correctly
    /// rounding parser gives, for every kind of literal DBC files hold.
    func testNumbersParseExactlyAsCorrectlyRoundedDecimals() throws {
        var rng = SplitMix64(state: 7)
        var literals = ["0.1", "0.01", "1E-007", "1e-7", "-40", "655.35", "0.000001", "123456789.123456", "-0.0", "1.", "3.0",
                        "1.8446744073709552E+019", "0.30000000000000004", "9007199254740993", "+2", "0x1F"]
        for _ in 0..<3000 {
            let intPart = UInt64.random(in: 0...999_999_999, using: &rng)
            let digits = Int.random(in: 1...9, using: &rng)
            let frac = String(UInt64.random(in: 0...999_999_999, using: &rng)).prefix(digits)
            literals.append((Bool.random(using: &rng) ? "-" : "") + "\(intPart).\(frac)")
        }
        try SourceText(fileName: "n.dbc", string: literals.joined(separator: " ")).bytes.withUnsafeBufferPointer { bytes in
            var parser = try DBCParser(source: SourceText(fileName: "n.dbc", string: literals.joined(separator: " ")), bytes: bytes)
            for literal in literals {
                let n = try parser.expectNumber("a number")
                let expected = literal.hasPrefix("0x") ? Double(UInt64(literal.dropFirst(2), radix: 16)!) : Double(literal.replacing("+", with: ""))!
                XCTAssertEqual(n.double.bitPattern, expected.bitPattern, "\(literal): \(n.double) vs \(expected)")
            }
        }
    }
}
