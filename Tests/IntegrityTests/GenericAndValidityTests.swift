import XCTest
@testable import Integrity

final class GenericCheckTests: XCTestCase {
    /// A GenericCRCCheck set up as E2E Profile 5 computes the profile's CRC.
    func testGenericCRCReproducesProfile5() {
        let p5 = E2EProfile5Config(dataID: 0x1234)
        let g = GenericCRCCheck(parameters: .crc16CCITTFalse, location: .bytes(byteOffset: 0, bigEndian: false),
                                dataID: .appended(id: 0x1234, byteCount: 2, bigEndian: false))
        var rng = SplitMix64(state: 99)
        for _ in 0..<200 {
            var d = (0..<8).map { _ in UInt8.random(in: 0...255, using: &rng) }
            d.withUnsafeMutableBytes { p5.protect($0, counter: $0[2]) }
            XCTAssertEqual(d.withUnsafeBytes { g.check($0) }, .ok)
            XCTAssertEqual(d.withUnsafeBytes { g.compute($0) }, UInt32(d.withUnsafeBytes { p5.computeCRC($0) }))
            d[5] ^= 0x10
            XCTAssertEqual(d.withUnsafeBytes { g.check($0) }, .error)
        }
    }

    /// Set up as VW MQB (CRC-8H2F over bytes 1..., result in byte 0), it agrees with opendbc's
    /// family for an address without a per-counter constant.
    func testGenericCRCReproducesMQBWithoutConstant() {
        let g = GenericCRCCheck(parameters: .crc8H2F, coveredStart: 1, location: .bits(BitField(startBit: 0, size: 8, isLittleEndian: true)))
        let mqb = OpendbcChecksum(family: .volkswagenMQB)
        let field = BitField(startBit: 0, size: 8, isLittleEndian: true)
        var rng = SplitMix64(state: 5)
        for _ in 0..<100 {
            var d = (0..<8).map { _ in UInt8.random(in: 0...255, using: &rng) }
            d.withUnsafeMutableBytes { g.protect($0) }
            XCTAssertEqual(UInt64(d[0]), UInt64(d.withUnsafeBytes { mqb.compute(address: 0x7FF, checksum: field, payload: $0) }))
        }
    }

    func testGenericCRCPrependedIDAndBigEndianBits() {
        // CRC-16 big endian in bytes 6-7, data id 0xBEEF prepended big endian.
        let g = GenericCRCCheck(parameters: .crc16XMODEM, location: .bits(BitField(startBit: 55, size: 16, isLittleEndian: false)),
                                dataID: .prepended(id: 0xBEEF, byteCount: 2, bigEndian: true))
        var d: [UInt8] = [1, 2, 3, 4, 5, 6, 0, 0]
        d.withUnsafeMutableBytes { g.protect($0) }
        let expected = CRC.crc16XMODEM.compute([0xBE, 0xEF, 1, 2, 3, 4, 5, 6, 0, 0])
        XCTAssertEqual(UInt32(d[6]) << 8 | UInt32(d[7]), expected)
        XCTAssertEqual(d.withUnsafeBytes { g.check($0) }, .ok)
        XCTAssertEqual([UInt8](d.prefix(7)).withUnsafeBytes { g.check($0) }, .error, "too short")
    }

    func testRollingCounter() {
        let rc = RollingCounter(field: BitField(startBit: 52, size: 4, isLittleEndian: true), maxDelta: 2)
        var s = RollingCounter.State()
        var d = [UInt8](repeating: 0, count: 8)
        func frame(_ v: UInt64) -> E2EStatus {
            d.withUnsafeMutableBytes { rc.write(v, into: $0) }
            return d.withUnsafeBytes { rc.check($0, state: &s) }
        }
        XCTAssertEqual(frame(14), .ok)
        XCTAssertEqual(frame(15), .ok)
        XCTAssertEqual(frame(1), .ok)
        XCTAssertEqual(s.lostFrames, 1)
        XCTAssertEqual(frame(1), .repeated)
        XCTAssertEqual(frame(5), .wrongSequence)
        XCTAssertEqual(frame(6), .ok)
        let stepped = RollingCounter(field: BitField(startBit: 0, size: 8, isLittleEndian: true), step: 2, maxDelta: 1)
        var t = RollingCounter.State()
        XCTAssertEqual(stepped.check(value: 254, state: &t), .ok)
        XCTAssertEqual(stepped.check(value: 0, state: &t), .ok)
        XCTAssertEqual(stepped.check(value: 1, state: &t), .wrongSequence)
        let p01Like = RollingCounter(field: BitField(startBit: 8, size: 4, isLittleEndian: true), modulus: 15)
        var u = RollingCounter.State()
        XCTAssertEqual(p01Like.check(value: 14, state: &u), .ok)
        XCTAssertEqual(p01Like.check(value: 0, state: &u), .ok)
        XCTAssertEqual(p01Like.check(value: 15, state: &u), .error)
    }
}

final class MessageValidityTests: XCTestCase {
    func testDefaultsAndHysteresis() {
        var v = MessageValidity()
        XCTAssertEqual(v.state, .unseen)
        XCTAssertEqual(v.recordGood(), .valid)
        for _ in 0..<4 { XCTAssertEqual(v.recordBad(.counter), .valid) }
        XCTAssertEqual(v.recordBad(.checksum), .invalid(.checksum))
        for _ in 0..<4 { XCTAssertEqual(v.recordGood(), .invalid(.checksum)) }
        XCTAssertEqual(v.recordGood(), .valid)
        XCTAssertEqual(v.record(.noNewData), .valid)
        // Still 4 bad frames in the 10-frame window: one more bad frame trips it again at once.
        XCTAssertEqual(v.record(.repeated), .invalid(.repeated))
        // Alternating faults: 5 of the last 10 → invalid, and it does not flicker back.
        var w = MessageValidity()
        var states: [MessageValidity.State] = []
        for i in 0..<40 { states.append(i % 2 == 0 ? w.recordBad(.counter) : w.recordGood()) }
        XCTAssertTrue(states.suffix(30).allSatisfy { !$0.isValid })
    }

    /// Seeded random fault sequences: (1) whenever a bad frame leaves ≥ N bad among the last W
    /// frames, the message is invalid; (2) after M consecutive good frames it is valid; (3) it is
    /// never invalid unless some window held N bad frames; (4) a valid→invalid change happens only on
    /// a bad frame, invalid→valid only on the M-th good frame.
    func testPropertiesOverRandomFaultSequences() {
        for seed in UInt64(1)...300 {
            var rng = SplitMix64(state: seed)
            let w = Int.random(in: 1...64, using: &rng)
            let cfg = MessageValidity.Configuration(badFramesToInvalidate: Int.random(in: 1...w, using: &rng), window: w,
                                                    goodFramesToRecover: Int.random(in: 1...12, using: &rng))
            var v = MessageValidity(configuration: cfg)
            var recent: [Bool] = []           // true = bad
            var everFull = false
            var goodRun = 0
            let faultRate = Double.random(in: 0...1, using: &rng)
            let reasons: [MessageValidity.Reason] = [.checksum, .counter, .repeated, .implausible]
            for _ in 0..<600 {
                let before = v.state
                let bad = Double.random(in: 0..<1, using: &rng) < faultRate
                let after = bad ? v.recordBad(reasons[Int.random(in: 0..<4, using: &rng)]) : v.recordGood()
                recent.append(bad)
                if recent.count > w { recent.removeFirst() }
                let badInWindow = recent.filter { $0 }.count
                goodRun = bad ? 0 : goodRun + 1
                if bad && badInWindow >= cfg.badFramesToInvalidate { everFull = true; XCTAssertFalse(after.isValid, "seed \(seed)") }
                if goodRun >= cfg.goodFramesToRecover { XCTAssertTrue(after.isValid, "seed \(seed)") }
                if !everFull { XCTAssertTrue(after.isValid, "seed \(seed)") }
                if before == .valid && !after.isValid { XCTAssertTrue(bad) }
                if case .invalid = before, after.isValid { XCTAssertEqual(goodRun, cfg.goodFramesToRecover, "seed \(seed)") }
                XCTAssertEqual(v.badFramesInWindow, badInWindow)
            }
        }
    }
}
