import ArgumentParser

@main
struct VehicleGateway: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vehicle-gateway",
        abstract: "Decode CAN traffic with DBC databases and publish the driving context.",
        discussion: """
        Examples:
          vehicle-gateway run                      (the demo drive, API on 127.0.0.1:8080)
          vehicle-gateway run --interface can0 --mapping car.yaml
          vehicle-gateway decode --dbc DBC/demo_vehicle.dbc DBC/demo_drive.log
          candump -L vcan0 | vehicle-gateway decode --dbc car.dbc --format jsonl -
          vehicle-gateway dbc show DBC/demo_vehicle.dbc
          vehicle-gateway dbc lint car.dbc
        """,
        version: "0.3.0",
        subcommands: [RunCommand.self, MCPCommand.self, SimulateCommand.self, DecodeCommand.self, EncodeCommand.self, DBCCommand.self, DumpCommand.self, RecordCommand.self, ReplayCommand.self, SendCommand.self, ControllerCommand.self, StateCommand.self, TokenCommand.self, FleetCommand.self]
    )

    /// The arguments from argv itself, so they are there without /proc too.
    static func main() async {
        await main(Array(ProcessArguments.all.dropFirst()))
    }
}
