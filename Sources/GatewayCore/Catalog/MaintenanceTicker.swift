import Logging
import PGClient

/// Runs `gateway.maintenance()` on a schedule, at start first: the SQL decides what is stale (Hot
/// Dash's materialized views, …) and refreshes it; several gateways may tick, an advisory lock
/// inside each job lets one do the work. Refreshes may outlast the request statement_timeout, so
/// the call runs in a transaction with a longer one of its own.
enum MaintenanceTicker {
    static func service(pool: DatabasePool, interval: Duration, statementTimeout: Duration, logger: Logger) -> PeriodicTask {
        PeriodicTask(name: "maintenance", interval: interval, runsAtStart: true, logger: logger) {
            let done = try await tick(pool: pool, statementTimeout: statementTimeout)
            logger.debug("maintenance", metadata: ["result": "\(done)"])
        }
    }

    static func tick(pool: DatabasePool, statementTimeout: Duration) async throws -> String {
        try await pool.withConnection { connection in
            try connection.exec("begin")
            do {
                try connection.setLocalStatementTimeout(statementTimeout)
                let result = try connection.exec("select gateway.maintenance()::text").rows.first?[0] ?? ""
                try connection.exec("commit")
                return result
            } catch {
                _ = try? connection.exec("rollback")
                throw error
            }
        }
    }
}
