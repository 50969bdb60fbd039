// A small probe for deterministic instruction counts (valgrind --tool=callgrind): the two paths
// users run, without the CLI and its server libraries around them.
//   vg-instructions decode DBC LOG       DBC decode of a candump log into JSON lines (as `decode --format jsonl`)
//   vg-instructions framepath MAPPING LOG   the gateway's frame path on a log, as fast as it goes (as `state`)
// scripts/check-instructions.sh runs it under callgrind and compares instructions per frame
// with the budgets in Benchmarks/instruction-budgets.txt.
import CANBus
import Foundation
import CANLog
import DBC
import DecodeOutput
import Gateway
import VehicleState

let args = CommandLine.arguments
guard args.count == 4 else {
    print("usage: vg-instructions decode DBC LOG | framepath MAPPING LOG")
    exit(64)
}
var frames = 0
switch args[1] {
case "decode":
    let writer = DecodedFrameWriter(codec: DatabaseCodec(try Database.load(path: args[2])), format: .jsonl)
    let out = OutputBuffer(capacity: 1 << 16)
    var reader = try CandumpReader(path: args[3])
    while let f = try reader.nextFrame() {
        writer.append(timestamp: f.timestamp, interface: "", frame: f.frame, to: out)
        if out.count > 1 << 15 { out.removeAll() }
        frames += 1
    }
case "framepath":
    let mapping = try CompiledMapping.load(path: args[2])
    let state = GatewayState(mapping: mapping)
    var path = FramePath(state: state)
    var options = ReplaySource.Options(logs: [args[3]])
    options.fast = true
    try ReplaySource(options, buses: try BusResolver(mapping: mapping)).run(into: &path)
    frames = Int((0..<state.buses.count).reduce(0) { $0 + state.buses.frames($1) })
default:
    print("unknown probe \(args[1])")
    exit(64)
}
print("frames \(frames)")
