import Foundation
import MCP
import VehicleState

/// The MCP prompts an assistant host can offer its user: each fills in the car's live context
/// (the parts it needs, with their states) and says which tools to use and how.
enum MCPPrompts {
    static let prompts: [Prompt] = [
        Prompt(name: "suggest_stop", title: "Suggest a stop",
               description: "Suggest where to stop next (food, fuel or charging, or a rest), from the trip so far, the energy left, the weather and who is on board.",
               arguments: [
                   .init(name: "kind", title: "What kind of stop",
                         description: "food, fuel (fuel or charging), rest, or any (default: decide from the car's state)", required: false),
                   .init(name: "preferences", title: "Preferences",
                         description: "Anything the occupants asked for, e.g. vegetarian, quick, with a playground", required: false),
               ]),
        Prompt(name: "time_the_light", title: "Time the traffic light",
               description: "How to use advise_traffic_light to reach the next light on green, when to say it, and when to stay quiet.",
               arguments: [
                   .init(name: "stop_line", title: "Stop line",
                         description: "The light's stop line as 'latitude,longitude' (WGS84 degrees), if known", required: false),
                   .init(name: "schedule", title: "Signal schedule",
                         description: "What is known of the light's phases, e.g. 'red, 12 s left, then green 20 s'", required: false),
               ]),
    ]

    struct Failure: Error { var message: String }

    static func get(_ name: String, _ arguments: [String: String], context: DrivingContext,
                    withholding withheld: Set<DrivingContext.Member> = []) -> Result<GetPrompt.Result, Failure> {
        switch name {
        case "suggest_stop":
            let kind = arguments["kind"]?.lowercased() ?? "any"
            guard ["food", "fuel", "rest", "any"].contains(kind) else {
                return .failure(Failure(message: "argument 'kind' must be food, fuel, rest or any, not '\(arguments["kind"] ?? "")'"))
            }
            var text = """
            Suggest one stop for the car's occupants\(kind == "any" ? "" : " (kind: \(kind))")\(arguments["preferences"].map { ", who asked for: \($0)" } ?? "").

            The car's state now (each part has a state; only "fresh" values are current, a "stale" one is as old as its age_s):
            \(context.partsJSON([.trip, .phase, .energy, .environment, .cabin, .attention], withholding: withheld))
            How to decide:
            - energy.low true: the stop must have fuel or charging, reachable within the range (range_km); say so first.
            - trip.break_recommended true, or a long time_since_break_s: prefer a rest stop with food and toilets.
            - environment.raining true, dark true or a cold outside temperature: prefer indoor options and short walks from parking.
            - cabin.occupied: plan for that many people; cabin.unbelted not empty: ask them to buckle up before anything else.
            - attention.interruptible false: wait (call can_interrupt_driver) or say one short sentence.
            Use get_driving_context for the position and speed, and the car's tools again before answering if this is more than a few seconds old.
            """
            if context.speed.state != .fresh { text += "\nThe speed is \(context.speed.state.rawValue): the car's state may be out of date; say so." }
            return .success(.init(description: "Suggest a stop from the car's live state", messages: [.user(.text(text: text))]))
        case "time_the_light":
            var text = """
            Help the driver reach the next traffic light on green.

            1. Call can_interrupt_driver first; if can_interrupt is false, wait, or give at most one short sentence.
            2. Call advise_traffic_light with the stop line (latitude, longitude) and the light's schedule: current_phase {color, remaining_s} with next_phases, or green_windows in seconds from now. Set speed_limit_kmh to the road's limit; never advise above it.
            3. The answer's advice is keep_speed, adjust_speed (say the speed range), stop (prepare to stop) or passed. It already allows for the car moving on while the advice is spoken (announce_s). If do_not_disturb is true, say nothing or one short sentence.
            4. If it refuses because speed or position is stale or invalid (a tunnel, a failed sensor), say you cannot time this light rather than guessing.
            """
            if let stop = arguments["stop_line"] {
                let parts = stop.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) }
                guard parts.count == 2, let lat = parts[0], let lon = parts[1], (-90...90).contains(lat), (-180...180).contains(lon) else {
                    return .failure(Failure(message: "argument 'stop_line' must be 'latitude,longitude' in degrees, e.g. '48.1380,11.5760'"))
                }
                text += "\nThe stop line: latitude \(lat), longitude \(lon)."
            }
            if let schedule = arguments["schedule"] { text += "\nWhat is known of the schedule: \(schedule)" }
            text += "\nSpeed and position now: \(context.partsJSON([.attention, .phase], withholding: withheld).trimmingCharacters(in: .newlines)); speed \(context.speed.value.map { "\(Int($0.rounded())) km/h" } ?? "unknown") (\(context.speed.state.rawValue)), position \(context.location.state.rawValue)."
            return .success(.init(description: "Time the next traffic light with advise_traffic_light", messages: [.user(.text(text: text))]))
        default:
            return .failure(Failure(message: "unknown prompt '\(name)'; prompts are \(prompts.map(\.name).joined(separator: ", "))"))
        }
    }
}
