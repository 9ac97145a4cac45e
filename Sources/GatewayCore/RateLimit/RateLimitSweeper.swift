import Logging
import PostgresNIO
import ServiceLifecycle

/// Deletes full buckets from the shared table once a minute, so it stays as small as the set of
/// callers seen in the last window.
struct RateLimitSweeper: Service {
    let client: PostgresClient
    let logger: Logger

    func run() async throws {
        while !Task.isShuttingDownGracefully {
            // Shutdown ends the wait at once instead of a minute later.
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: .seconds(60)) }
            if Task.isShuttingDownGracefully || Task.isCancelled { return }
            do {
                try await client.query("select gateway.rate_limit_sweep()", logger: logger)
            } catch {
                logger.debug("rate-limit sweep failed", metadata: ["error": "\(String(reflecting: error))"])
            }
        }
    }
}
