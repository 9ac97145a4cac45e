import ArgumentParser
import Foundation
import MigratorCore

@main
struct MigratorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrator",
        abstract: "Applies the versioned and repeatable SQL files under sql/.",
        subcommands: [Up.self, Status.self, PlanCommand.self, Validate.self, New.self]
    )
}

struct CommonOptions: ParsableArguments {
    @Option(name: .customLong("database-url"), help: "libpq connection string or URI (default: $DATABASE_URL).")
    var databaseURL: String?

    @Option(name: .customLong("sql-dir"), help: "The folder holding migrations/ and the repeatable scripts.")
    var sqlDirectory: String = "sql"

    @Flag(help: "Print JSON for machines instead of text.")
    var json = false

    func migrator(lockWait: Double? = nil, ddlLockTimeout: String? = nil) throws -> Migrator {
        guard let url = databaseURL ?? ProcessInfo.processInfo.environment["DATABASE_URL"], !url.isEmpty else {
            throw ValidationError("no database: pass --database-url or set DATABASE_URL")
        }
        var options = MigratorOptions(databaseURL: url, sqlDirectory: URL(fileURLWithPath: sqlDirectory))
        if let lockWait { options.lockWaitSeconds = lockWait }
        if let ddlLockTimeout { options.ddlLockTimeout = ddlLockTimeout }
        let quiet = json
        return Migrator(options: options) { line in
            if !quiet { print(line) }
        }
    }
}

/// Prints an error for people (stderr) or machines (JSON on stdout) and exits with `code`.
func fail(_ error: Error, json: Bool, code: Int32 = 1) -> ExitCode {
    if json {
        let payload: [String: String] = ["error": String(describing: error)]
        Output.json(payload)
    } else {
        FileHandle.standardError.write(Data("migrator: \(error)\n".utf8))
    }
    return ExitCode(code)
}

enum Output {
    static func json<T: Encodable>(_ value: T) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        // Encoding these plain structs cannot fail.
        print(String(decoding: try! encoder.encode(value), as: UTF8.self))
    }
}
