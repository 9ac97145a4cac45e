import PGClient
import Logging

/// Deletes full buckets from the shared table once a minute, so it stays as small as the set of
/// callers seen in the last window.
enum RateLimitSweeper {
    static func service(pool: DatabasePool, logger: Logger) -> PeriodicTask {
        PeriodicTask(name: "rate-limit sweep", interval: .seconds(60), failureLevel: .debug, logger: logger) {
            _ = try await pool.firstRow("select gateway.rate_limit_sweep()")
        }
    }
}
