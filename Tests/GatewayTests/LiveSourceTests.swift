import CANBus
import Foundation
import XCTest
@testable import Gateway
import SocketCAN
import VehicleState

/// The live source on a real vcan bus (run through scripts/vcan-vm.sh, which sets VG_VCAN=1 and
/// creates vcan0 and vcan1). Without VG_VCAN these tests are skipped, never faked.
final class LiveSourceTests: XCTestCase {
    func testAnInterfaceThatMapsToNoBusIsAStartUpError() throws {
        let mapping = try Fixtures.twoBusMapping()
        let buses = try BusResolver(mapping: mapping)
        XCTAssertThrowsError(try LiveSource(interfaces: ["vcan0", "can5"], mapping: mapping, buses: buses)) { error in
            XCTAssertTrue("\(error)".contains("interface 'can5' maps to no bus"), "\(error)")
        }
        XCTAssertThrowsError(try LiveSource(interfaces: ["any"], mapping: mapping, buses: buses))
        let source = try LiveSource(interfaces: ["vcan1", "vcan0"], mapping: mapping, buses: buses)
        XCTAssertEqual(source.busOfInterface, [1, 0])
        XCTAssertEqual(source.socketOptions[0].filters, [CANFilter.exact(CANID(0xD0, extended: false)!)],
                       "the kernel passes only the ids the mapping uses on that bus")
    }

    func testFramesFromTwoInterfacesReachTheirBusesAndUnusedIDsAreFilteredByTheKernel() throws {
        try XCTSkipUnless(ProcessInfo.processInfo.environment["VG_VCAN"] == "1", "needs a vcan bus: run through scripts/vcan-vm.sh")
        let mapping = try Fixtures.twoBusMapping()
        let gateway = Gateway(mapping: mapping, source: try LiveSource(interfaces: ["vcan0", "vcan1"], mapping: mapping, buses: try BusResolver(mapping: mapping)))
        let ended = expectation(description: "the source stops when asked")
        gateway.start { _ in ended.fulfill() }
        defer { gateway.stop() }
        // Wait until both sockets are open (the buses are up), then send.
        let deadline = Date().addingTimeInterval(10)
        while (gateway.state.buses.state(0) != .up || gateway.state.buses.state(1) != .up), Date() < deadline { usleep(10_000) }
        usleep(200_000)
        let tx0 = try CANSocket(interface: "vcan0"), tx1 = try CANSocket(interface: "vcan1")
        try tx0.send(.data(CANDataFrame(id: CANID(0x123, extended: false)!, bytes: [1, 2, 3])))  // not in the mapping
        try tx0.send(.data(CANDataFrame(id: CANID(0xD0, extended: false)!, bytes: [0x10, 0x27, 1, 0, 0, 0, 0, 0xF0])))  // 100 km/h
        try tx1.send(.data(CANDataFrame(id: CANID(0xD0, extended: false)!, bytes: [0x88, 0x13, 1, 0, 0, 0, 0, 0xF0])))  // 50 km/h
        while (gateway.state.store.read(0) == nil || gateway.state.store.read(1) == nil), Date() < deadline { usleep(10_000) }
        XCTAssertEqual(gateway.state.store.read(0)?.value, 100)
        XCTAssertEqual(gateway.state.store.read(1)?.value, 50)
        XCTAssertEqual(gateway.state.buses.frames(0), 1, "0x123 never left the kernel")
        XCTAssertEqual(gateway.state.buses.frames(1), 1)
        let age = SystemClock.wallNanoseconds() - gateway.state.store.read(0)!.timestampNanoseconds
        XCTAssertLessThan(age, 5_000_000_000, "live frames carry the kernel's receive time")
        gateway.stop()
        wait(for: [ended], timeout: 5)
    }
}
