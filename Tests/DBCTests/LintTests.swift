import XCTest
@testable import DBC
import CANBus

final class LintTests: XCTestCase {
    func lint(_ text: String) throws -> [Diagnostic] { DBC.Lint.run(try Database.parse(text, fileName: "l.dbc")) }

    func testEachCheckFindsItsProblem() throws {
        let d = try lint("""
        BU_: X
        BO_ 1 Msg: 8 X
         SG_ A : 0|8@1+ (1,0) [0|0] "" X
         SG_ B : 4|8@1+ (1,0) [0|0] "" X
         SG_ Out : 60|8@1+ (1,0) [0|0] "" X
         SG_ A : 40|4@1+ (1,0) [0|0] "" X
         SG_ F : 16|16@1+ (1,0) [0|0] "" X
         SG_ Orphan m1 : 44|4@1+ (0,0) [5|1] "" X
        BO_ 2 Big: 12 X
         SG_ Z : 0|8@1+ (1,0) [0|0] "" X
        BO_ 2048 High: 8 X
        SIG_VALTYPE_ 1 F : 1;
        """)
        let byCheck = Dictionary(grouping: d, by: \.check)
        XCTAssertEqual(byCheck["overlap"]?.map(\.position.line), [4])
        XCTAssertEqual(byCheck["outside-message"]?.map(\.position.line), [5])
        XCTAssertEqual(byCheck["duplicate-name"]?.map(\.position.line), [6])
        XCTAssertEqual(byCheck["float-length"]?.map(\.position.line), [7])
        XCTAssertEqual(byCheck["multiplexer"]?.map(\.position.line), [8])
        XCTAssertEqual(byCheck["frame-length"]?.map(\.position.line), [9, 11])
        XCTAssertEqual(byCheck["scaling"]?.map(\.severity), [.error, .warning])
        XCTAssertTrue(d.allSatisfy { $0.description.hasPrefix("l.dbc:\($0.position.line):\($0.position.column): ") })
    }

    func testSignalsInDifferentMultiplexerBranchesMayShareBits() throws {
        let d = try lint("""
        BO_ 1 Msg: 8 X
         SG_ Mux M : 0|8@1+ (1,0) [0|0] "" X
         SG_ A m0 : 8|8@1+ (1,0) [0|0] "" X
         SG_ B m1 : 8|8@1+ (1,0) [0|0] "" X
         SG_ C m1 : 12|8@1+ (1,0) [0|0] "" X
        """)
        XCTAssertEqual(d.map(\.check), ["overlap"])
        XCTAssertEqual(d.first?.position.line, 5)
    }

    func testCleanFileHasNoDiagnostics() throws {
        XCTAssertEqual(try lint("BO_ 1 Msg: 8 X\n SG_ A : 0|8@1+ (1,0) [0|255] \"\" X\n"), [])
    }
}
