import XCTest
@testable import AccessControl

final class ReadScopeTests: XCTestCase {
    func testKuksaScopeSyntax() throws {
        XCTAssertTrue(try ReadScope(claim: "read").isEverything)
        XCTAssertTrue(try ReadScope(claim: "provide actuate:Vehicle.ADAS").isEverything)  // provide includes read, KUKSA says
        let s = try ReadScope(claim: "read:Vehicle.Speed actuate:Vehicle.ADAS provide:data:Vehicle.Width create")
        XCTAssertTrue(s.covers("Vehicle.Speed"))
        XCTAssertFalse(s.covers("Vehicle.SpeedLimit"), "a path covers its branch, not a longer name")
        XCTAssertTrue(s.covers("Vehicle.ADAS.CruiseControl.IsActive"), "a branch covers what is below it")
        XCTAssertTrue(s.covers("Vehicle.Width"))
        XCTAssertFalse(s.covers("Vehicle.CurrentLocation.Latitude"))
        XCTAssertEqual(s.description, "read:Vehicle.Speed read:Vehicle.ADAS read:Vehicle.Width")
        let star = try ReadScope(claim: "read:Vehicle.Cabin.Door.*.IsOpen")
        XCTAssertTrue(star.covers("Vehicle.Cabin.Door.Row1.IsOpen"))
        XCTAssertFalse(star.covers("Vehicle.Cabin.Door.Row1.DriverSide.IsOpen"), "* is one level")
        XCTAssertFalse(try ReadScope(claim: "create").covers("Vehicle.Speed"), "actions other than read, actuate and provide read nothing")
        XCTAssertFalse(try ReadScope(claim: "").covers("Vehicle.Speed"))
    }

    func testMalformedScopesSayWhatIsWrong() {
        for (claim, words) in [("read:Vehicle..Speed", "not a VSS path"), ("read:Vehicle.Sp*", "whole segment"), ("read:", "not a VSS path")] {
            XCTAssertThrowsError(try ReadScope(claim: claim)) { e in
                XCTAssertTrue((e as! ReadScope.Invalid).description.contains(words), "\(claim): \(e)")
            }
        }
    }

    func testTheApiTokenReadsEverythingAndOthersAreRefused() async {
        let v = TokenVerifier(staticToken: "0123456789abcdef", keys: [])
        guard case .success(let a) = await v.access(authorization: "Bearer 0123456789abcdef") else { return XCTFail() }
        XCTAssertTrue(a.scope.isEverything)
        guard case .failure(let r) = await v.access(authorization: "Bearer nope") else { return XCTFail() }
        XCTAssertTrue(r.description.contains("wrong bearer token"))
        guard case .failure = await v.access(authorization: nil) else { return XCTFail() }
        guard case .success = await TokenVerifier(staticToken: nil, keys: []).access(authorization: nil) else { return XCTFail("no token configured: open") }
    }

    func testSignedTokensCarryTheirScopeAndExpire() async throws {
        let (priv, pub) = try TokenSigner.makeKeyPair(.es256)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("scope-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let keyFile = dir.appendingPathComponent("k.pub.pem").path
        try pub.write(toFile: keyFile, atomically: true, encoding: .utf8)
        let v = TokenVerifier(staticToken: nil, keys: [try TokenVerifier.key(file: keyFile)])
        var request = TokenSigner.Request(scope: "read:Vehicle.Speed")
        let good = try await TokenSigner.sign(request, privateKeyPEM: priv)
        guard case .success(let a) = await v.access(token: good) else { return XCTFail() }
        XCTAssertTrue(a.scope.covers("Vehicle.Speed") && !a.scope.covers("Vehicle.CurrentLocation"))
        request.expiresIn = 60
        let expired = try await TokenSigner.sign(request, privateKeyPEM: priv, now: Date().addingTimeInterval(-120))
        guard case .failure(let r) = await v.access(token: expired) else { return XCTFail() }
        XCTAssertTrue(r.description.contains("expired"), r.description)
        request.audience = "elsewhere"
        guard case .failure(let aud) = await v.access(token: try await TokenSigner.sign(request, privateKeyPEM: priv)) else { return XCTFail() }
        XCTAssertTrue(aud.description.contains("aud must include 'kuksa.val'"), aud.description)
    }
}
