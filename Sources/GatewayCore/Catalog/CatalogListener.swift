import Logging
import NIOPosix
import PGClient
import ServiceLifecycle

/// Reloads the catalog whenever a migration (or anyone) changes routes: LISTEN on a dedicated
/// connection, so a small pool is never short of one. Reconnects with backoff, and reloads after
/// every (re)connect in case a change went by while it was away. The connection blocks a thread
/// of its own while it waits, a quarter second at a time so that shutdown is seen promptly.
struct CatalogListener: Service {
    let store: CatalogStore
    let health: DatabaseHealth
    let database: DatabaseURL
    let logger: Logger
    static let channel = "gateway_catalog"
    static let waitMilliseconds: Int32 = 250

    func run() async throws {
        let thread = NIOThreadPool(numberOfThreads: 1)
        thread.start()
        defer { thread.shutdownGracefully { _ in } }
        var backoff: Duration = .milliseconds(250)
        var failures = 0
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                let session = try await thread.runIfActive { [database] in
                    let connection = try PGConnection(url: database.text, connectTimeoutSeconds: PGConnection.defaultConnectTimeoutSeconds)
                    try connection.exec("listen \(Self.channel)")
                    return PGSession(connection)
                }
                try await store.reload()
                health.update(reachable: true)
                backoff = .milliseconds(250)
                failures = 0
                while !Task.isCancelled && !Task.isShuttingDownGracefully {
                    let heard = try await thread.runIfActive { try session.connection.notifications(waitingUpTo: Self.waitMilliseconds) }
                    if !heard.isEmpty { try await store.reload() }
                }
            } catch {
                if Task.isCancelled || Task.isShuttingDownGracefully { return }
                // Said once per outage; the retries themselves are debug noise.
                failures += 1
                health.update(reachable: false)
                logger.log(level: failures == 1 ? .warning : .debug, "catalog listener has no database connection; retrying",
                           metadata: ["error": "\(String(reflecting: error))"])
                try? await cancelWhenGracefulShutdown { [backoff] in try await Task.sleep(for: backoff) }
                // Not longer than the pool's: the fast 503s end when this connection is back.
                backoff = min(backoff * 2, .milliseconds(Int(DatabasePool.longestRetryDelay * 1000)))
            }
        }
    }
}
