import CANBus
import CSocketCAN

/// Conversions between `CANFrame` and the kernel's `struct can_frame` / `struct canfd_frame`.
enum KernelFrame {
    static let effFlag: UInt32 = 0x8000_0000
    static let rtrFlag: UInt32 = 0x4000_0000
    static let errFlag: UInt32 = 0x2000_0000
    static let classicMTU: Int32 = 16
    static let fdMTU: Int32 = 72

    /// The frame from a received buffer of `bytes` bytes (16 classic, 72 FD); nil if malformed.
    @inline(__always)
    static func frame(from k: canfd_frame, bytes: Int32) -> CANFrame? {
        let rawID = k.can_id
        let extended = rawID & effFlag != 0
        let id = CANID(unchecked: rawID & (extended ? CANID.extendedMask : CANID.standardMask), extended: extended)
        if bytes == fdMTU {
            guard Int(k.len) <= 64 else { return nil }
            var f = CANFDFrame(id: id, length: k.len, flags: k.flags)
            withUnsafeBytes(of: k.data) { src in
                withUnsafeMutableBytes(of: &f.payload) { $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: src.prefix(Int(k.len)))) }
            }
            return .fd(f)
        }
        guard bytes == classicMTU else { return nil }
        let length = min(k.len, 8)
        if rawID & errFlag != 0 {
            return .error(CANErrorFrame(errorClass: rawID & UInt32(CAN_ERR_MASK), data: firstWord(k), length: 8))
        }
        if rawID & rtrFlag != 0 {
            return .remote(CANRemoteFrame(id: id, dlc: length, len8DLC: k.__res1))
        }
        var word = firstWord(k)
        if length < 8 { word &= (UInt64(1) << (UInt64(length) * 8)) &- 1 }
        return .data(CANDataFrame(id: id, data: word, length: length, len8DLC: length == 8 ? k.__res1 : 0))
    }

    @inline(__always)
    static func firstWord(_ k: canfd_frame) -> UInt64 {
        withUnsafeBytes(of: k.data) { $0.loadUnaligned(as: UInt64.self) }
    }

    /// The kernel struct and its size for sending; nil for error frames (the kernel refuses them).
    static func kernelFrame(_ frame: CANFrame) -> (canfd_frame, Int32)? {
        var k = canfd_frame()
        func idBits(_ id: CANID) -> UInt32 { id.isExtended ? id.value | effFlag : id.value }
        switch frame {
        case .data(let f):
            k.can_id = idBits(f.id)
            k.len = f.length
            k.__res1 = f.len8DLC
            withUnsafeMutableBytes(of: &k.data) { $0.storeBytes(of: f.data, as: UInt64.self) }
            return (k, classicMTU)
        case .remote(let f):
            k.can_id = idBits(f.id) | rtrFlag
            k.len = f.dlc
            k.__res1 = f.len8DLC
            return (k, classicMTU)
        case .fd(let f):
            k.can_id = idBits(f.id)
            k.len = f.length
            k.flags = f.flags
            withUnsafeBytes(of: f.payload) { src in
                withUnsafeMutableBytes(of: &k.data) { $0.copyMemory(from: src) }
            }
            return (k, fdMTU)
        case .error:
            return nil
        }
    }
}
