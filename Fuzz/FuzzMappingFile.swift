import CANBus
import VehicleState

// libFuzzer target: the VSS mapping file (scripts/fuzz.sh mapping). Any text must give a mapping
// or diagnostics with their place; one without errors must compile against the demo DBC or fail
// with diagnostics, never crash.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzMapping(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    let (file, errors) = MappingFile.parse(text, fileName: "fuzz.yaml")
    for e in errors { precondition(e.line >= 0 && !e.message.isEmpty, "a diagnostic without a place or message") }
    if errors.isEmpty {
        _ = try? CompiledMapping.compile(file, resolve: { "DBC/" + ($0.split(separator: "/").last.map(String.init) ?? $0) })
    }
    return 0
}
