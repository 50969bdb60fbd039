import XCTest
@testable import SocketCAN
import CANBus
import CANControl
import CSocketCAN

final class KernelFrameTests: XCTestCase {
    func roundTrip(_ frame: CANFrame) -> CANFrame? {
        guard let (k, bytes) = KernelFrame.kernelFrame(frame) else { return nil }
        return KernelFrame.frame(from: k, bytes: bytes)
    }

    func testEveryKindSurvivesTheKernelLayout() {
        let frames: [CANFrame] = [
            .data(CANDataFrame(id: CANID(0x123, extended: false)!, bytes: [0xDE, 0xAD, 0xBE, 0xEF])),
            .data(CANDataFrame(id: CANID(0x1ABCDEF0, extended: true)!, bytes: [1, 2, 3, 4, 5, 6, 7, 8], len8DLC: 0xC)),
            .data(CANDataFrame(id: CANID(0x7FF, extended: false)!, bytes: [])),
            .remote(CANRemoteFrame(id: CANID(0x321, extended: false)!, dlc: 4)),
            .fd(CANFDFrame(id: CANID(0x18FF1020, extended: true)!, bytes: (0..<64).map { UInt8($0) }, flags: CANFDFrame.bitRateSwitch)),
            .fd(CANFDFrame(id: CANID(0x100, extended: false)!, bytes: [9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 1, 2], flags: 0)),
        ]
        for f in frames { XCTAssertEqual(roundTrip(f), f, "\(f)") }
    }

    func testKernelBitsAreThoseOfLinuxCanH() {
        let (k, bytes) = KernelFrame.kernelFrame(.remote(CANRemoteFrame(id: CANID(0x10, extended: true)!, dlc: 2)))!
        XCTAssertEqual(bytes, 16)
        XCTAssertEqual(k.can_id, 0x10 | UInt32(CAN_EFF_FLAG) | UInt32(CAN_RTR_FLAG))
        let (fd, fdBytes) = KernelFrame.kernelFrame(.fd(CANFDFrame(id: CANID(1, extended: false)!, bytes: [1], flags: 1)))!
        XCTAssertEqual(fdBytes, 72)
        XCTAssertEqual(fd.flags, UInt8(CANFD_BRS))
        XCTAssertNil(KernelFrame.kernelFrame(.error(CANErrorFrame(errorClass: 0x40))))
    }

    func testErrorFrameFromKernelIsDecodedIntoBusEvents() {
        var k = canfd_frame()
        k.can_id = UInt32(CAN_ERR_FLAG) | UInt32(CAN_ERR_CRTL) | UInt32(CAN_ERR_BUSOFF) | UInt32(CAN_ERR_LOSTARB) | UInt32(CAN_ERR_CNT)
        withUnsafeMutableBytes(of: &k.data) { d in
            d[0] = 7
            d[1] = UInt8(CAN_ERR_CRTL_TX_PASSIVE)
            d[6] = 130
            d[7] = 5
        }
        guard case .error(let e)? = KernelFrame.frame(from: k, bytes: 16) else { return XCTFail() }
        let bus = BusError(e)
        XCTAssertEqual(bus.events, ["bus-off", "error-passive", "lost-arbitration at bit 7", "counters tx=130 rx=5"])
    }

    func testFilterKeepsIdSpacesApart() {
        let std = CANFilter.exact(CANID(0x123, extended: false)!)
        let ext = CANFilter.exact(CANID(0x123, extended: true)!)
        XCTAssertNotEqual(std, ext)
        XCTAssertEqual(std.mask & UInt32(CAN_EFF_FLAG), UInt32(CAN_EFF_FLAG), "standard filters must reject extended frames")
        XCTAssertEqual(ext.id, 0x123 | UInt32(CAN_EFF_FLAG))
    }

    func testErrnoValuesSayWhatFailed() {
        let e = SystemError(errno: 97, operation: "open CAN socket on vcan0")
        XCTAssertTrue(e.isCANUnsupported)
        XCTAssertTrue(e.description.hasPrefix("open CAN socket on vcan0: "))
        XCTAssertTrue(e.description.contains("errno 97"))
        XCTAssertTrue(SystemError(errno: 19, operation: "x").isInterfaceGone)
    }

    func testControllerAnswersUnsupportedForAnInterfaceWithoutOne() {
        guard case .unsupported(let why) = CANController(interface: "lo").state else { return XCTFail("lo has no CAN controller") }
        XCTAssertTrue(why.contains("lo"))
    }
}
