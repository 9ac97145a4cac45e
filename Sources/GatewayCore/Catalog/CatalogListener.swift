import Logging
import PostgresNIO
import ServiceLifecycle

/// Reloads the catalog whenever a migration (or anyone) changes routes: LISTEN on a dedicated
/// connection, so a small pool is never short of one. Reconnects with backoff, and reloads after
/// every (re)connect in case a change went by while it was away.
struct CatalogListener: Service {
    let store: CatalogStore
    let health: DatabaseHealth
    let database: DatabaseURL
    let logger: Logger

    func run() async throws {
        var backoff: Duration = .milliseconds(250)
        var failures = 0
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                let connection = try await PostgresConnection.connect(
                    configuration: try database.connectionConfiguration(), id: 0, logger: logger)
                do {
                    try await connection.listen(on: "gateway_catalog") { notifications in
                        try await store.reload()
                        health.update(reachable: true)
                        backoff = .milliseconds(250)
                        failures = 0
                        for try await _ in notifications.cancelOnGracefulShutdown() {
                            try await store.reload()
                        }
                    }
                } catch {
                    try? await connection.close()
                    throw error
                }
                try? await connection.close()
            } catch {
                if Task.isCancelled || Task.isShuttingDownGracefully { return }
                // Said once per outage; the retries themselves are debug noise.
                failures += 1
                health.update(reachable: false)
                logger.log(level: failures == 1 ? .warning : .debug, "catalog listener has no database connection; retrying",
                           metadata: ["error": "\(String(reflecting: error))"])
                try? await cancelWhenGracefulShutdown { [backoff] in try await Task.sleep(for: backoff) }
                backoff = min(backoff * 2, .seconds(2))
            }
        }
    }
}
