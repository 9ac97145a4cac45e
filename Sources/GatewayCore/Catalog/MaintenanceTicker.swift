import Logging
import PostgresNIO

/// Runs `gateway.maintenance()` on a schedule, at start first: the SQL decides what is stale (Hot
/// Dash's materialized views, …) and refreshes it; several gateways may tick, an advisory lock
/// inside each job lets one do the work. Refreshes may outlast the request statement_timeout, so
/// the call runs in a transaction with a longer one of its own.
enum MaintenanceTicker {
    static func service(pool: DatabasePool, interval: Duration, statementTimeout: Duration, logger: Logger) -> PeriodicTask {
        PeriodicTask(name: "maintenance", interval: interval, runsAtStart: true, logger: logger) {
            let done = try await tick(pool: pool, statementTimeout: statementTimeout, logger: logger)
            logger.debug("maintenance", metadata: ["result": "\(done)"])
        }
    }

    static func tick(pool: DatabasePool, statementTimeout: Duration, logger: Logger) async throws -> String {
        try await pool.withConnection { connection in
            try await connection.query("begin", logger: logger)
            do {
                let milliseconds = statementTimeout.components.seconds * 1000
                try await connection.query(PostgresQuery(unsafeSQL: "set local statement_timeout = \(milliseconds)"), logger: logger)
                var result = ""
                for try await text in try await connection.query("select gateway.maintenance()::text", logger: logger).decode(String.self) {
                    result = text
                }
                try await connection.query("commit", logger: logger)
                return result
            } catch {
                _ = try? await connection.query("rollback", logger: logger)
                throw error
            }
        }
    }
}
