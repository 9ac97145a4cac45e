import Foundation
import PGClient

public struct MigratorOptions: Sendable {
    public var databaseURL: String
    public var sqlDirectory: URL
    /// How long `up` waits for another Migrator's lock before giving up.
    public var lockWaitSeconds: Double = 60
    /// `lock_timeout` for every migration: DDL never queues behind a long query and stalls readers.
    public var ddlLockTimeout: String = "5s"

    public init(databaseURL: String, sqlDirectory: URL) {
        self.databaseURL = databaseURL
        self.sqlDirectory = sqlDirectory
    }
}

/// One script `up` ran.
public struct AppliedStep: Sendable, Codable {
    public var script: String
    public var kind: Script.Kind
    public var reason: String
    public var milliseconds: Int
}

/// A script that failed: where, and what PostgreSQL said. The database is as it was before it.
public struct MigrationFailure: Error, Sendable, CustomStringConvertible, Codable {
    public var script: String
    public var line: Int?
    public var column: Int?
    public var sqlState: String?
    public var message: String
    public var detail: String?
    public var hint: String?
    public var context: String?

    public var description: String {
        var location = "sql/\(script)"
        if let line { location += ":\(line)" + (column.map { ":\($0)" } ?? "") }
        var text = "\(location): \(sqlState.map { "[\($0)] " } ?? "")\(message)"
        if let detail { text += "\n  detail: \(detail)" }
        if let hint { text += "\n  hint: \(hint)" }
        if let context { text += "\n  context: \(context.replacingOccurrences(of: "\n", with: "\n           "))" }
        return text
    }
}

public struct InvalidScripts: Error, Sendable, CustomStringConvertible {
    public var problems: [ScriptProblem]
    public var description: String { problems.map { "sql/\($0.description)" }.joined(separator: "\n") }
}

public struct LockTimeout: Error, Sendable, CustomStringConvertible {
    public var holder: String
    public var description: String { "gave up waiting for the migration lock, held by \(holder)" }
}

public final class Migrator: Sendable {
    /// Advisory locks are per database, so one key serves every database on a server.
    static let lockKey: Int64 = 7_272_740

    public let options: MigratorOptions
    private let log: @Sendable (String) -> Void

    public init(options: MigratorOptions, log: @escaping @Sendable (String) -> Void = { _ in }) {
        self.options = options
        self.log = log
    }

    public func loadScripts() throws -> ScriptSet {
        var scripts = try ScriptSet(root: options.sqlDirectory)
        // A transactional file that commits would leave half of itself applied.
        for script in scripts.versioned + scripts.repeatable where !script.noTransaction {
            for statement in SQLSplitter.transactionControl(in: script.content) {
                let line = lineAndColumn(of: statement.offset + 1, in: script.content).line
                scripts.problems.append(ScriptProblem(path: script.path, message: "line \(line): `\(statement.text.prefix(20))` would end the Migrator's transaction; each file already runs in its own (mark it -- migrator:no-transaction to run statement by statement)"))
            }
        }
        return scripts
    }

    /// What `up` would do, without changing anything (the history schema is not even created).
    public func plan() throws -> Plan {
        let scripts = try loadScripts()
        let db = try connect()
        let applied = try History.applied(db)
        return try Plan.make(scripts: scripts, applied: applied) { try History.missingObjects(db, $0.objects) }
    }

    /// Applies pending migrations, then new, changed or damaged repeatables. Returns what ran.
    @discardableResult
    public func up() throws -> [AppliedStep] {
        let scripts = try loadScripts()
        guard scripts.problems.isEmpty else { throw InvalidScripts(problems: scripts.problems) }
        let db = try connect()
        try acquireLock(db)
        defer { _ = try? db.exec("select pg_advisory_unlock(\(Migrator.lockKey))") }

        try History.bootstrap(db)
        let applied = try History.applied(db)
        // Planned under the lock: a Migrator that waited sees what the other one did.
        let plan = Plan.make(scripts: scripts, applied: applied) { _ in [] }
        guard plan.problems.isEmpty else { throw InvalidScripts(problems: plan.problems) }

        var done: [AppliedStep] = []
        for step in plan.steps where step.kind == .versioned {
            let script = scripts.versioned.first { $0.path == step.script }!  // the plan was made from these scripts
            done.append(try apply(script, reason: step.reason, db: db))
        }
        var moves = Plan.Moves(scripts: scripts, applied: applied)
        for script in scripts.repeatable {
            // Judged now, not in the plan: a script earlier in this run may have dropped its objects.
            guard let verdict = try Plan.judge(script, applied: applied, moves: &moves, missing: { try History.missingObjects(db, $0.objects) })
            else { continue }
            if let moved = verdict.recordOnly {
                done.append(try recordMove(script, from: moved, reason: verdict.reason, db: db))
            } else {
                done.append(try apply(script, reason: verdict.reason, db: db))
            }
        }
        return done
    }

    private func connect() throws -> PGConnection {
        let db = try PGConnection(url: options.databaseURL)
        try db.exec("set application_name = 'migrator'")
        return db
    }

    private func acquireLock(_ db: PGConnection) throws {
        let deadline = Date().addingTimeInterval(options.lockWaitSeconds)
        var announced = false
        while true {
            if try db.exec("select pg_try_advisory_lock(\(Migrator.lockKey))").rows.first?.first == "t" { return }
            let holder = try lockHolder(db)
            if Date() >= deadline { throw LockTimeout(holder: holder) }
            if !announced { log("waiting for the migration lock, held by \(holder)"); announced = true }
            Thread.sleep(forTimeInterval: 0.2)
        }
    }

    private func lockHolder(_ db: PGConnection) throws -> String {
        let rows = try db.exec("""
            select a.pid::text, coalesce(nullif(a.application_name, ''), '?'), coalesce(a.client_addr::text, 'local socket'),
                   coalesce(a.usename::text, '?'), to_char(a.backend_start, 'YYYY-MM-DD"T"HH24:MI:SSOF')
              from pg_locks l join pg_stat_activity a on a.pid = l.pid
             where l.locktype = 'advisory' and l.granted and l.classid = 0 and l.objid = \(Migrator.lockKey)
               and l.objsubid = 1 and l.database = (select oid from pg_database where datname = current_database())
            """).rows
        guard let row = rows.first else { return "a session that has just released it" }
        return "pid \(row[0] ?? "?") (\(row[1] ?? "?"), user \(row[3] ?? "?") from \(row[2] ?? "?"), connected since \(row[4] ?? "?"))"
    }

    /// A repeatable that only moved: its objects exist and its text is the same, so running it again
    /// would change nothing. Its history continues under the new path, with the objects it made.
    private func recordMove(_ script: Script, from previous: AppliedScript, reason: String, db: PGConnection) throws -> AppliedStep {
        let started = Date()
        let objects = String(decoding: try JSONEncoder().encode(previous.objects), as: UTF8.self)
        try record(script, status: "success", started: ISO8601DateFormatter.withFractions.string(from: started), since: started,
                   objects: objects, error: nil, db: db)
        log("recorded \(script.path) (\(reason); same content, not run)")
        return AppliedStep(script: script.path, kind: script.kind, reason: reason, milliseconds: milliseconds(since: started))
    }

    private func apply(_ script: Script, reason: String, db: PGConnection) throws -> AppliedStep {
        let started = Date()
        let startedText = ISO8601DateFormatter.withFractions.string(from: started)
        do {
            if script.noTransaction {
                try runStatementByStatement(script, db: db)
                try record(script, status: "success", started: startedText, since: started, objects: "[]", error: nil, db: db)
            } else {
                try runInTransaction(script, db: db) { objects in
                    try self.record(script, status: "success", started: startedText, since: started, objects: objects, error: nil, db: db)
                }
            }
            let step = AppliedStep(script: script.path, kind: script.kind, reason: reason, milliseconds: milliseconds(since: started))
            log("applied \(script.path) (\(script.kind.rawValue), \(reason)) in \(step.milliseconds) ms")
            return step
        } catch let error as PGError {
            if db.inTransaction { _ = try? db.exec("rollback") }
            let failure = describe(error, in: script)
            try? record(script, status: "failed", started: startedText, since: started, objects: "[]", error: failure.description, db: db)
            throw failure
        }
    }

    /// The whole file in one transaction, with the objects it creates captured and passed as JSON to
    /// `record`, which writes the history row inside the same transaction.
    private func runInTransaction(_ script: Script, db: PGConnection, record: (String) throws -> Void) throws {
        try db.exec("begin")
        try db.exec("set local lock_timeout = \(sqlLiteral(options.ddlLockTimeout))")
        if script.kind == .repeatable {
            try db.exec("create temp table if not exists migrator_captured (type text, names text[], args text[]) on commit delete rows")
            try db.exec("select set_config('migrator.capturing', $1, true)", [script.path])
        }
        try db.exec(script.content)
        guard db.inTransaction else {
            throw PGError(message: "the file ended the Migrator's transaction", sqlState: "25000")
        }
        var objects = "[]"
        if script.kind == .repeatable {
            try db.exec("select set_config('migrator.capturing', '', true)")
            objects = try db.exec("""
                select coalesce(jsonb_agg(distinct jsonb_build_object('type', type, 'names', names, 'args', args)), '[]')::text
                  from pg_temp.migrator_captured
                """).rows.first?.first.flatMap { $0 } ?? "[]"
        }
        try record(objects)
        try db.exec("commit")
    }

    private func runStatementByStatement(_ script: Script, db: PGConnection) throws {
        try db.exec("set lock_timeout = \(sqlLiteral(options.ddlLockTimeout))")
        defer { _ = try? db.exec("reset lock_timeout") }
        for statement in SQLSplitter.split(script.content) {
            do {
                try db.exec(statement.text)
            } catch var error as PGError {
                error.position = (error.position ?? 1) + statement.offset
                throw error
            }
        }
    }

    private func record(_ script: Script, status: String, started: String, since: Date, objects: String, error: String?, db: PGConnection) throws {
        try db.exec("""
            insert into migrator.history (version, kind, script, checksum, objects, started_at, execution_ms, status, error)
            values ($1, $2, $3, $4, $5::jsonb, $6::timestamptz, $7::int, $8, $9)
            """, [script.version, script.kind.rawValue, script.path, script.checksum, objects, started,
                  String(milliseconds(since: since)), status, error])
    }

    private func describe(_ error: PGError, in script: Script) -> MigrationFailure {
        var failure = MigrationFailure(script: script.path, sqlState: error.sqlState, message: error.message,
                                       detail: error.detail, hint: error.hint, context: error.context)
        if let position = error.position {
            let location = lineAndColumn(of: position, in: script.content)
            failure.line = location.line
            failure.column = location.column
        }
        if error.sqlState == "25001" && failure.hint == nil {
            failure.hint = "this statement cannot run in a transaction: put it in its own migration marked -- migrator:no-transaction"
        }
        if error.sqlState == "55P03" && failure.hint == nil {
            failure.hint = "another session holds a lock this migration needs (lock_timeout \(options.ddlLockTimeout)); retry when it is idle"
        }
        return failure
    }

    private func milliseconds(since start: Date) -> Int { Int(Date().timeIntervalSince(start) * 1000) }
}

extension ISO8601DateFormatter {
    static var withFractions: ISO8601DateFormatter {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter
    }
}

/// The single-quoted SQL literal for a string, for the few statements that cannot take parameters.
func sqlLiteral(_ text: String) -> String {
    "'" + text.replacingOccurrences(of: "'", with: "''") + "'"
}
