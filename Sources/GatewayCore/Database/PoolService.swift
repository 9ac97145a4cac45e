import PGClient
import ServiceLifecycle

/// The pool as one of the gateway's services: it serves until the gateway shuts down gracefully.
struct PoolService: Service {
    let pool: DatabasePool

    func run() async throws {
        await cancelWhenGracefulShutdown { await pool.run() }
    }
}
