import Logging
import PostgresNIO
import ServiceLifecycle

/// Runs `gateway.maintenance()` on a schedule: the SQL decides what is stale (Hot Dash's
/// materialized views, …) and refreshes it; several gateways may tick, an advisory lock inside
/// each job lets one do the work. Refreshes may outlast the request statement_timeout, so the call
/// runs in a transaction with a longer one of its own.
struct MaintenanceTicker: Service {
    let client: PostgresClient
    let interval: Duration
    let statementTimeout: Duration
    let logger: Logger

    func run() async throws {
        while !Task.isShuttingDownGracefully {
            await tick()
            try? await cancelWhenGracefulShutdown { [interval] in try await Task.sleep(for: interval) }
            if Task.isShuttingDownGracefully || Task.isCancelled { return }
        }
    }

    func tick() async {
        do {
            let timeoutMilliseconds = statementTimeout.components.seconds * 1000
            let done = try await client.withConnection { connection in
                try await connection.query("begin", logger: logger)
                do {
                    try await connection.query(PostgresQuery(unsafeSQL: "set local statement_timeout = \(timeoutMilliseconds)"), logger: logger)
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
            logger.debug("maintenance", metadata: ["result": "\(done)"])
        } catch {
            logger.warning("maintenance failed; retrying at the next tick", metadata: ["error": "\(String(reflecting: error))"])
        }
    }
}
