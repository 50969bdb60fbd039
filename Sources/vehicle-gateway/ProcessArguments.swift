import CProcessArguments

/// The command line, also where the Swift runtime cannot read it: on Linux it takes
/// `CommandLine.arguments` from /proc/self/cmdline, and without /proc (a minimal ECU root) they
/// are empty, so the gateway would print its help or trap on `arguments[0]`. The C side saves
/// argv before main runs.
enum ProcessArguments {
    static let all: [String] = {
        if !CommandLine.arguments.isEmpty { return CommandLine.arguments }
        guard let argv = vg_process_argv() else { return [] }
        return (0..<Int(vg_process_argc())).compactMap { argv[$0].map { String(cString: $0) } }
    }()

    /// The path the binary was started by ("vehicle-gateway" if even that is unknown).
    static var executable: String { all.first ?? "vehicle-gateway" }
}
