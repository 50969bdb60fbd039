import CANBus
import VehicleState

// libFuzzer target: the gateway configuration file (scripts/fuzz.sh config). Any text must give a
// configuration or diagnostics with their place, never crash.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzConfig(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    let (_, errors) = GatewayConfigFile.parse(text, fileName: "fuzz.yaml")
    for e in errors { precondition(e.line >= 0 && !e.message.isEmpty, "a diagnostic without a place or message") }
    return 0
}
