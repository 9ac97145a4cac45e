import Logging
import PGClient

/// Runs `gateway.maintenance()` on a schedule, at start first: it runs every periodic task the
/// units registered (each deciding for itself what is stale). Several gateways may tick; a task
/// that must run alone takes an advisory lock. Tasks may outlast the request statement_timeout,
/// so the call runs in a transaction with a longer one of its own.
enum MaintenanceTicker {
    struct TasksFailed: Error, CustomStringConvertible {
        let tasks: String
        let done: String
        var description: String { "periodic tasks failed: \(tasks); \(done)" }
    }

    static func service(pool: DatabasePool, interval: Duration, statementTimeout: Duration, logger: Logger) -> PeriodicTask {
        PeriodicTask(name: "maintenance", interval: interval, runsAtStart: true, logger: logger) {
            let done = try await tick(pool: pool, statementTimeout: statementTimeout)
            logger.debug("maintenance", metadata: ["result": "\(done)"])
        }
    }

    /// What every task did (JSON); throws `TasksFailed` when any failed (the others' work is kept).
    static func tick(pool: DatabasePool, statementTimeout: Duration) async throws -> String {
        let (done, failed) = try await pool.withConnection { connection in
            try connection.exec("begin")
            do {
                try connection.setLocalStatementTimeout(statementTimeout)
                let row = try connection.exec("select done::text, array_to_string(failed, ', ') from gateway.maintenance()").rows.first
                try connection.exec("commit")
                return (row?[0] ?? "", row?[1] ?? "")
            } catch {
                _ = try? connection.exec("rollback")
                throw error
            }
        }
        if !failed.isEmpty { throw TasksFailed(tasks: failed, done: done) }
        return done
    }
}
