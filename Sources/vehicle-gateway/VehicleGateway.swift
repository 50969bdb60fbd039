import ArgumentParser

@main
struct VehicleGateway: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vehicle-gateway",
        abstract: "Decode CAN traffic with DBC databases and publish the driving context.",
        discussion: """
        Examples:
          vehicle-gateway decode --dbc DBC/demo_vehicle.dbc DBC/demo_drive.log
          candump -L vcan0 | vehicle-gateway decode --dbc car.dbc --format jsonl -
          vehicle-gateway dbc show DBC/demo_vehicle.dbc
          vehicle-gateway dbc lint car.dbc
        """,
        version: "0.1.0",
        subcommands: [DecodeCommand.self, EncodeCommand.self, DBCCommand.self, DumpCommand.self, RecordCommand.self, ReplayCommand.self, SendCommand.self, ControllerCommand.self, StateCommand.self]
    )
}
