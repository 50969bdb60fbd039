/// AUTOSAR E2E profiles 1, 2, 4 and 5 (AUTOSAR_PRS_E2EProtocol): protect (write counter and CRC)
/// and check (CRC, data ID, length, counter delta) over a payload, allocation-free.

/// The result of checking one received payload (or of noticing that none arrived).
///
/// Mapping from the PRS statuses: OK, OKSOMELOST and P01/P02's INITIAL are `.ok` (the frames lost
/// before an accepted one are in `E2ECheckState.lostFrames`; the first accepted frame has
/// `E2ECheckState.sawFirstFrame` just turned true); REPEATED is `.repeated`; WRONGSEQUENCE is
/// `.wrongSequence`; NONEWDATA is `.noNewData`; WRONGCRC/ERROR (CRC, length, data ID or data ID
/// nibble mismatch, P01's invalid counter 15) is `.error`.
public enum E2EStatus: UInt8, Sendable, CustomStringConvertible {
    case ok
    case repeated
    case wrongSequence
    case noNewData
    case error

    public var description: String {
        switch self {
        case .ok: return "ok"
        case .repeated: return "repeated"
        case .wrongSequence: return "wrongSequence"
        case .noNewData: return "noNewData"
        case .error: return "error"
        }
    }
}

/// The receiver's state for one protected message (one per message, kept by the caller).
public struct E2ECheckState: Hashable, Sendable {
    /// The last counter accepted (P01/P02: the last valid counter; P04/P05: the last counter of a
    /// frame whose CRC, length and data ID were right).
    public var lastCounter: UInt32 = 0
    /// False until the first frame with a correct CRC arrives (the PRS's WaitForFirstData, inverted).
    public var sawFirstFrame = false
    /// P01/P02 only: the current allowed counter jump; grows by one per check call (up to 14 or
    /// 15) and is reset to the configured `maxDeltaCounterInit` when a frame is accepted.
    public var maxDeltaCounter: UInt32 = 0
    /// Frames lost just before the last `.ok` (PRS OKSOMELOST when > 0).
    public var lostFrames: UInt32 = 0

    public init() {}
}

@inline(__always) @usableFromInline
func e2eCRCSkipping(_ crc: CRC, _ register: UInt32, _ payload: UnsafeRawBufferPointer, length: Int, skipFrom: Int, skipCount: Int) -> UInt32 {
    var r = crc.update(register, bytes: payload, from: 0, count: skipFrom)
    r = crc.update(r, bytes: payload, from: skipFrom + skipCount, count: length - skipFrom - skipCount)
    return r
}

// MARK: - Profile 1

/// E2E Profile 1: CRC-8 (SAE J1850 polynomial 0x1D) over the data id and the data without the CRC
/// byte, 4-bit counter 0...14 (15 is invalid). The CRC is the AUTOSAR `Crc_CalculateCRC8` chain
/// of the PRS (start 0xFF, each call's XOR undone by the next, final XOR 0xFF), which amounts to
/// poly 0x1D, start 0x00, no final XOR.
public struct E2EProfile1Config: Sendable {
    /// How the 16-bit data id enters the CRC (PRS `E2E_P01DataIDMode`).
    public enum DataIDMode: UInt8, Sendable {
        /// Low byte then high byte.
        case both
        /// Low byte when the counter is even, high byte when odd.
        case alternating
        /// Low byte only (the high byte must be 0 for uniqueness).
        case low
        /// Low byte, then 0x00; the high byte's low nibble is sent in the payload at
        /// `dataIDNibbleOffset`.
        case nibble
    }

    public var dataID: UInt16
    public var dataIDMode: DataIDMode
    /// Length of the protected data in bits, CRC included (a multiple of 8).
    public var dataLength: Int
    /// Bit offset of the CRC byte (a multiple of 8). PRS default 0.
    public var crcOffset: Int
    /// Bit offset of the 4-bit counter (a multiple of 4). PRS default 8.
    public var counterOffset: Int
    /// Bit offset of the data id nibble (nibble mode; a multiple of 4). PRS default 12.
    public var dataIDNibbleOffset: Int
    /// The allowed counter jump right after an accepted frame (PRS `MaxDeltaCounterInit`, 0...14).
    public var maxDeltaCounterInit: UInt8
    @usableFromInline let crc: CRC

    public init(dataID: UInt16, dataIDMode: DataIDMode = .both, dataLength: Int = 64, crcOffset: Int = 0,
                counterOffset: Int = 8, dataIDNibbleOffset: Int = 12, maxDeltaCounterInit: UInt8 = 1) {
        precondition(dataLength % 8 == 0 && crcOffset % 8 == 0 && counterOffset % 4 == 0 && dataIDNibbleOffset % 4 == 0)
        self.dataID = dataID
        self.dataIDMode = dataIDMode
        self.dataLength = dataLength
        self.crcOffset = crcOffset
        self.counterOffset = counterOffset
        self.dataIDNibbleOffset = dataIDNibbleOffset
        self.maxDeltaCounterInit = min(maxDeltaCounterInit, 14)
        self.crc = CRC.crc8SAEJ1850ZeroInit
    }

    /// The counter after `counter` (0...14, wrapping).
    @inlinable public static func nextCounter(_ counter: UInt8) -> UInt8 { (counter + 1) % 15 }

    @inlinable func readNibble(_ p: UnsafeRawBufferPointer, _ offset: Int) -> UInt8 {
        (p[offset / 8] >> UInt8(offset % 8)) & 0x0F
    }

    @inlinable func writeNibble(_ p: UnsafeMutableRawBufferPointer, _ offset: Int, _ v: UInt8) {
        let shift = UInt8(offset % 8)
        p[offset / 8] = (p[offset / 8] & ~(0x0F << shift)) | ((v & 0x0F) << shift)
    }

    /// The CRC the payload should carry, computed with `counter` as the counter (for alternating mode).
    @inlinable
    public func computeCRC(_ payload: UnsafeRawBufferPointer, counter: UInt8) -> UInt8 {
        let lo = UInt8(truncatingIfNeeded: dataID)
        let hi = UInt8(truncatingIfNeeded: dataID >> 8)
        var r = crc.begin()
        switch dataIDMode {
        case .both: r = crc.update(crc.update(r, byte: lo), byte: hi)
        case .alternating: r = crc.update(r, byte: counter % 2 == 0 ? lo : hi)
        case .low: r = crc.update(r, byte: lo)
        case .nibble: r = crc.update(crc.update(r, byte: lo), byte: 0)
        }
        r = e2eCRCSkipping(crc, r, payload, length: dataLength / 8, skipFrom: crcOffset / 8, skipCount: 1)
        return UInt8(truncatingIfNeeded: crc.finish(r))
    }

    /// Writes `counter` (and the data id nibble in nibble mode), then the CRC, into `payload`.
    public func protect(_ payload: UnsafeMutableRawBufferPointer, counter: UInt8) {
        precondition(payload.count * 8 >= dataLength, "payload shorter than the configured data length")
        writeNibble(payload, counterOffset, counter % 15)
        if dataIDMode == .nibble { writeNibble(payload, dataIDNibbleOffset, UInt8(truncatingIfNeeded: dataID >> 8)) }
        payload[crcOffset / 8] = computeCRC(UnsafeRawBufferPointer(payload), counter: counter % 15)
    }

    /// PRS E2E_P01Check with new data.
    public func check(_ payload: UnsafeRawBufferPointer, state: inout E2ECheckState) -> E2EStatus {
        if state.maxDeltaCounter < 14 { state.maxDeltaCounter += 1 }
        guard payload.count * 8 >= dataLength else { return .error }
        let received = readNibble(payload, counterOffset)
        guard received <= 14 else { return .error }
        if dataIDMode == .nibble, readNibble(payload, dataIDNibbleOffset) != UInt8(truncatingIfNeeded: dataID >> 8) & 0x0F {
            return .error
        }
        guard payload[crcOffset / 8] == computeCRC(payload, counter: received) else { return .error }
        return e2eClassicCounter(UInt32(received), modulus: 15, maxDeltaInit: UInt32(maxDeltaCounterInit), state: &state)
    }

    /// PRS E2E_P01Check when nothing arrived: widens the allowed jump, returns `.noNewData`.
    public func checkNoNewData(state: inout E2ECheckState) -> E2EStatus {
        if state.maxDeltaCounter < 14 { state.maxDeltaCounter += 1 }
        return .noNewData
    }
}

/// The P01/P02 counter evaluation (after a correct CRC).
@inline(__always) @usableFromInline
func e2eClassicCounter(_ received: UInt32, modulus: UInt32, maxDeltaInit: UInt32, state: inout E2ECheckState) -> E2EStatus {
    if !state.sawFirstFrame {
        state.sawFirstFrame = true
        state.maxDeltaCounter = maxDeltaInit
        state.lastCounter = received
        state.lostFrames = 0
        return .ok
    }
    let delta = received >= state.lastCounter ? received - state.lastCounter : modulus + received - state.lastCounter
    if delta == 0 { return .repeated }
    if delta == 1 || delta <= state.maxDeltaCounter {
        state.maxDeltaCounter = maxDeltaInit
        state.lastCounter = received
        state.lostFrames = delta - 1
        return .ok
    }
    return .wrongSequence
}

// MARK: - Profile 2

/// E2E Profile 2: CRC-8H2F (poly 0x2F, `Crc_CalculateCRC8H2F`, start 0xFF, xor 0xFF) over data
/// bytes 1... then the data id picked from a 16-entry list by the counter; CRC in byte 0, 4-bit
/// counter 0...15 in the low nibble of byte 1 (the PRS fixes this layout).
public struct E2EProfile2Config: Sendable {
    /// 16 data ids, one per counter value (stored inline, no array).
    public var dataIDList: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                            UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8)
    /// Length of the protected data in bits, CRC included (a multiple of 8).
    public var dataLength: Int
    /// The allowed counter jump right after an accepted frame (PRS `MaxDeltaCounterInit`, 0...15).
    public var maxDeltaCounterInit: UInt8
    @usableFromInline let crc: CRC

    public init(dataIDList: [UInt8], dataLength: Int = 64, maxDeltaCounterInit: UInt8 = 1) {
        precondition(dataIDList.count == 16, "Profile 2 needs 16 data ids")
        precondition(dataLength % 8 == 0 && dataLength >= 16)
        let l = dataIDList
        self.dataIDList = (l[0], l[1], l[2], l[3], l[4], l[5], l[6], l[7], l[8], l[9], l[10], l[11], l[12], l[13], l[14], l[15])
        self.dataLength = dataLength
        self.maxDeltaCounterInit = min(maxDeltaCounterInit, 15)
        self.crc = CRC.crc8H2F
    }

    @inlinable public static func nextCounter(_ counter: UInt8) -> UInt8 { (counter + 1) & 0x0F }

    @inlinable
    public func dataID(forCounter counter: UInt8) -> UInt8 {
        withUnsafeBytes(of: dataIDList) { $0[Int(counter & 0x0F)] }
    }

    @inlinable
    public func computeCRC(_ payload: UnsafeRawBufferPointer, counter: UInt8) -> UInt8 {
        var r = crc.update(crc.begin(), bytes: payload, from: 1, count: dataLength / 8 - 1)
        r = crc.update(r, byte: dataID(forCounter: counter))
        return UInt8(truncatingIfNeeded: crc.finish(r))
    }

    public func protect(_ payload: UnsafeMutableRawBufferPointer, counter: UInt8) {
        precondition(payload.count * 8 >= dataLength, "payload shorter than the configured data length")
        payload[1] = (payload[1] & 0xF0) | (counter & 0x0F)
        payload[0] = computeCRC(UnsafeRawBufferPointer(payload), counter: counter & 0x0F)
    }

    /// PRS E2E_P02Check with new data.
    public func check(_ payload: UnsafeRawBufferPointer, state: inout E2ECheckState) -> E2EStatus {
        if state.maxDeltaCounter < 15 { state.maxDeltaCounter += 1 }
        guard payload.count * 8 >= dataLength else { return .error }
        let received = payload[1] & 0x0F
        guard payload[0] == computeCRC(payload, counter: received) else { return .error }
        return e2eClassicCounter(UInt32(received), modulus: 16, maxDeltaInit: UInt32(maxDeltaCounterInit), state: &state)
    }

    public func checkNoNewData(state: inout E2ECheckState) -> E2EStatus {
        if state.maxDeltaCounter < 15 { state.maxDeltaCounter += 1 }
        return .noNewData
    }
}

// MARK: - Profile 4

/// E2E Profile 4: a 12-byte big-endian header at `offset` — Length (16), Counter (16), DataID (32),
/// CRC (32, CRC-32/AUTOSAR `Crc_CalculateCRC32P4`) — the CRC over everything but its own 4 bytes.
public struct E2EProfile4Config: Sendable {
    public var dataID: UInt32
    /// Bit offset of the header (a multiple of 8).
    public var offset: Int
    /// Accepted payload length range in bits (PRS MinDataLength/MaxDataLength).
    public var minDataLength: Int
    public var maxDataLength: Int
    /// Largest counter jump still `.ok` (PRS MaxDeltaCounter).
    public var maxDeltaCounter: UInt16
    @usableFromInline let crc: CRC

    public init(dataID: UInt32, offset: Int = 0, minDataLength: Int = 96, maxDataLength: Int = 4096 * 8, maxDeltaCounter: UInt16 = 1) {
        precondition(offset % 8 == 0 && minDataLength >= offset + 96)
        self.dataID = dataID
        self.offset = offset
        self.minDataLength = minDataLength
        self.maxDataLength = maxDataLength
        self.maxDeltaCounter = maxDeltaCounter
        self.crc = CRC.crc32P4
    }

    @inlinable public static func nextCounter(_ counter: UInt16) -> UInt16 { counter &+ 1 }

    @inlinable
    public func computeCRC(_ payload: UnsafeRawBufferPointer) -> UInt32 {
        crc.finish(e2eCRCSkipping(crc, crc.begin(), payload, length: payload.count, skipFrom: offset / 8 + 8, skipCount: 4))
    }

    /// Writes length (the payload's byte count), counter, data id and CRC.
    public func protect(_ payload: UnsafeMutableRawBufferPointer, counter: UInt16) {
        precondition(payload.count * 8 >= minDataLength && payload.count * 8 <= maxDataLength, "payload length outside the configured range")
        let o = offset / 8
        putBE(payload, o, 2, UInt32(payload.count))
        putBE(payload, o + 2, 2, UInt32(counter))
        putBE(payload, o + 4, 4, dataID)
        putBE(payload, o + 8, 4, computeCRC(UnsafeRawBufferPointer(payload)))
    }

    /// PRS E2E_P04Check with new data.
    public func check(_ payload: UnsafeRawBufferPointer, state: inout E2ECheckState) -> E2EStatus {
        let bits = payload.count * 8
        guard bits >= minDataLength, bits <= maxDataLength else { return .error }
        let o = offset / 8
        guard getBE(payload, o, 2) == UInt32(payload.count),
              getBE(payload, o + 4, 4) == dataID,
              getBE(payload, o + 8, 4) == computeCRC(payload) else { return .error }
        return e2eModernCounter(getBE(payload, o + 2, 2), mask: 0xFFFF, maxDelta: UInt32(maxDeltaCounter), state: &state)
    }

    public func checkNoNewData(state: inout E2ECheckState) -> E2EStatus { .noNewData }
}

/// The P04/P05 counter evaluation (after a correct CRC, length and data id); the counter is taken
/// over whatever the delta.
@inline(__always) @usableFromInline
func e2eModernCounter(_ received: UInt32, mask: UInt32, maxDelta: UInt32, state: inout E2ECheckState) -> E2EStatus {
    defer { state.lastCounter = received }
    if !state.sawFirstFrame {
        state.sawFirstFrame = true
        state.lostFrames = 0
        return .ok
    }
    let delta = (received &- state.lastCounter) & mask
    if delta == 0 { return .repeated }
    if delta <= maxDelta {
        state.lostFrames = delta - 1
        return .ok
    }
    return .wrongSequence
}

@inline(__always) @usableFromInline
func putBE(_ p: UnsafeMutableRawBufferPointer, _ at: Int, _ n: Int, _ v: UInt32) {
    for k in 0..<n { p[at + k] = UInt8(truncatingIfNeeded: v >> UInt32(8 * (n - 1 - k))) }
}

@inline(__always) @usableFromInline
func getBE(_ p: UnsafeRawBufferPointer, _ at: Int, _ n: Int) -> UInt32 {
    var v: UInt32 = 0
    for k in 0..<n { v = (v << 8) | UInt32(p[at + k]) }
    return v
}

// MARK: - Profile 5

/// E2E Profile 5: a 3-byte header at `offset` — CRC (16, little endian, CRC-16/IBM-3740
/// `Crc_CalculateCRC16`, start 0xFFFF, no xor) then an 8-bit counter — the CRC over the data
/// without its own 2 bytes, then the data id's low and high byte.
public struct E2EProfile5Config: Sendable {
    public var dataID: UInt16
    /// Bit offset of the header (a multiple of 8).
    public var offset: Int
    /// Length of the protected data in bits (a multiple of 8); received payloads must match it.
    public var dataLength: Int
    /// Largest counter jump still `.ok` (PRS MaxDeltaCounter).
    public var maxDeltaCounter: UInt8
    @usableFromInline let crc: CRC

    public init(dataID: UInt16, offset: Int = 0, dataLength: Int = 64, maxDeltaCounter: UInt8 = 1) {
        precondition(offset % 8 == 0 && dataLength % 8 == 0 && dataLength >= offset + 24)
        self.dataID = dataID
        self.offset = offset
        self.dataLength = dataLength
        self.maxDeltaCounter = maxDeltaCounter
        self.crc = CRC.crc16CCITTFalse
    }

    @inlinable public static func nextCounter(_ counter: UInt8) -> UInt8 { counter &+ 1 }

    @inlinable
    public func computeCRC(_ payload: UnsafeRawBufferPointer) -> UInt16 {
        var r = e2eCRCSkipping(crc, crc.begin(), payload, length: dataLength / 8, skipFrom: offset / 8, skipCount: 2)
        r = crc.update(crc.update(r, byte: UInt8(truncatingIfNeeded: dataID)), byte: UInt8(truncatingIfNeeded: dataID >> 8))
        return UInt16(truncatingIfNeeded: crc.finish(r))
    }

    public func protect(_ payload: UnsafeMutableRawBufferPointer, counter: UInt8) {
        precondition(payload.count * 8 == dataLength, "payload length differs from the configured data length")
        let o = offset / 8
        payload[o + 2] = counter
        let c = computeCRC(UnsafeRawBufferPointer(payload))
        payload[o] = UInt8(truncatingIfNeeded: c)
        payload[o + 1] = UInt8(truncatingIfNeeded: c >> 8)
    }

    /// PRS E2E_P05Check with new data.
    public func check(_ payload: UnsafeRawBufferPointer, state: inout E2ECheckState) -> E2EStatus {
        guard payload.count * 8 == dataLength else { return .error }
        let o = offset / 8
        let received = UInt16(payload[o]) | UInt16(payload[o + 1]) << 8
        guard received == computeCRC(payload) else { return .error }
        return e2eModernCounter(UInt32(payload[o + 2]), mask: 0xFF, maxDelta: UInt32(maxDeltaCounter), state: &state)
    }

    public func checkNoNewData(state: inout E2ECheckState) -> E2EStatus { .noNewData }
}
