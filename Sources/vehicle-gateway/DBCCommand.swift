import ArgumentParser
import CANBus
import DBC

struct DBCCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dbc",
        abstract: "Inspect and check DBC files.",
        subcommands: [Show.self, Lint.self]
    )

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print messages, signals and their bit layouts (like `cantools dump`).")
        @Argument(help: "The DBC file.") var file: String
        @Option(name: .long, help: "Show only this message (name or id).") var message: String?

        func run() throws {
            let db = try loadDatabase(file)
            let out = OutputSink()
            out.write(DatabaseDescription.describe(db, only: message))
            out.flush()
        }
    }

    struct Lint: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check a DBC file; print problems as file:line:col: error|warning: ... and exit 1 on errors.")
        @Argument(help: "The DBC files.") var files: [String]
        @Flag(name: .long, help: "Treat warnings as errors.") var strict = false

        func run() throws {
            var errors = 0, warnings = 0
            for file in files {
                let db = try loadDatabase(file)
                for d in DBC.Lint.run(db) {
                    print(d)
                    if d.severity == .error { errors += 1 } else { warnings += 1 }
                }
            }
            if errors + warnings > 0 { printError("\(errors) error(s), \(warnings) warning(s)") }
            if errors > 0 || (strict && warnings > 0) { throw ExitCode(1) }
        }
    }
}

/// Loads a DBC; a syntax error is printed as the compiler-style line and exits 65 (EX_DATAERR).
func loadDatabase(_ path: String) throws -> Database {
    do {
        return try Database.load(path: path)
    } catch {
        printError(error.description)
        throw ExitCode(65)
    }
}
