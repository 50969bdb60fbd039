// libFuzzer entry for the DBC parser, model builder, lint and codec compiler.
// Built by scripts/fuzz.sh together with the DBC and CANBus sources (-sanitize=fuzzer,address).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzDBC(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let source = SourceText(fileName: "fuzz.dbc", data: bytes)
    guard let syntax = try? DBCParser.parse(source) else { return 0 }
    let db = DatabaseBuilder.build(syntax)
    _ = Lint.run(db)
    let codec = DatabaseCodec(db)
    // Decode a few payloads with every compiled plan: any layout the parser accepts must decode safely.
    var out = [DecodedValue](repeating: DecodedValue(), count: max(codec.maxSignalCount, 1))
    let payload = [UInt8]((0..<64).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ size) })
    for i in codec.codecs.indices {
        for length in [0, 3, 8, 64] {
            payload.withUnsafeBytes { p in
                out.withUnsafeMutableBufferPointer { codec.decode(messageAt: i, UnsafeRawBufferPointer(rebasing: p.prefix(length)), into: $0) }
            }
        }
    }
    return 0
}
