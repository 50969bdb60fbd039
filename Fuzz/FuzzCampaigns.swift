import CANBus

// libFuzzer target: collection campaigns (scripts/fuzz.sh campaigns). The input is read twice:
// as a campaigns YAML file checked against a fixed set of mapped paths (campaigns or diagnostics
// with their place, never a crash), and as one condition expression which, when it parses, is
// evaluated over values and windows taken from the input's bytes (never a trap, whatever they are).
let mappedPaths: Set<String> = ["Vehicle.Speed", "Vehicle.Powertrain.Transmission.CurrentGear", "Vehicle.Chassis.Brake.PedalPosition",
                                "Vehicle.CurrentLocation.Latitude", "Vehicle.Cabin.Door.Row1.DriverSide.IsOpen"]
let index = Dictionary(uniqueKeysWithValues: mappedPaths.sorted().enumerated().map { ($1, $0) })

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCampaigns(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeBufferPointer(start: data, count: size)
    let text = String(decoding: bytes, as: UTF8.self)
    let (campaigns, errors) = CampaignFile.parse(text, fileName: "fuzz.yaml", paths: mappedPaths)
    for e in errors { precondition(e.line >= 0 && !e.message.isEmpty, "a diagnostic without a place or message") }
    for c in campaigns { precondition(!c.name.isEmpty && c.signals.allSatisfy(mappedPaths.contains), "a campaign that should have been refused") }

    guard let expression = try? CampaignExpression.parse(text) else { return 0 }
    guard expression.paths.allSatisfy({ index[$0.name] != nil }) else { return 0 }
    // Values from the input itself: some missing (not fresh), some extreme, windows of any length.
    let special: [Double] = [0, -0.0, 1, -1, .infinity, -.infinity, .nan, .greatestFiniteMagnitude, .leastNonzeroMagnitude]
    func value(_ k: Int) -> Double? {
        guard size > 0 else { return nil }
        let b = bytes[(k * 7) % size]
        return b < 16 ? nil : b < 64 ? special[Int(b) % special.count] : Double(Int8(bitPattern: b)) * 1.5
    }
    var condition = CompiledCondition(expression, index: index)
    var round = 0
    let reader = CompiledCondition.Reader(
        value: { p in value(p + round) },
        samples: { p, seconds in (0..<(Int(seconds) % 5)).compactMap { value(p + $0 + round) } })
    for r in 0..<4 {
        round = r
        _ = condition.holds(reader)
    }
    return 0
}
