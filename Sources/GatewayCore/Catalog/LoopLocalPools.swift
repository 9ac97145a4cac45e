import Logging
import NIOCore
import NIOPosix
import PostgresNIO
import ServiceLifecycle

/// The request pool split into one PostgreSQL pool per event loop. A request runs on its HTTP
/// connection's event loop; a query sent on a connection of the same loop is written, answered and
/// resumed on that one thread, where a shared pool hands it to whichever loop owns the connection
/// and back (two thread wake-ups and their system calls per request).
/// `size` connections in all; with fewer connections than loops, fewer pools (a pool of one stays
/// one connection).
final class LoopLocalPools: Service, Sendable {
    private let pools: [(loop: any EventLoop, client: PostgresClient, size: Int)]
    private let group: MultiThreadedEventLoopGroup

    init(configuration: PostgresClient.Configuration, size: Int, group: MultiThreadedEventLoopGroup = .singleton, logger: Logger) {
        self.group = group
        let size = max(1, size)
        let loops = Array(group.makeIterator())
        let count = max(1, min(loops.count, size))
        pools = (0..<count).map { index in
            var own = configuration
            // An even share, the remainder to the first pools.
            own.options.maximumConnections = size / count + (index < size % count ? 1 : 0)
            // Connections stay open and are not pinged: the pool starts an idle-timeout timer and
            // a keep-alive timer (a task each) every time a connection is released, two per
            // request. A connection PostgreSQL ends (restart, terminate) closes its socket, which
            // the pool sees at once and replaces.
            own.options.minimumConnections = own.options.maximumConnections
            own.options.keepAliveBehavior = nil
            return (loops[index], PostgresClient(configuration: own, eventLoopGroup: loops[index], backgroundLogger: logger),
                    own.options.maximumConnections)
        }
    }

    /// The pool of the calling thread's event loop; off the loops, or on a loop without a pool of
    /// its own, another one.
    var current: PostgresClient {
        guard pools.count > 1 else { return pools[0].client }
        let loop = group.any()
        for pool in pools where pool.loop === loop { return pool.client }
        return pools[0].client
    }

    /// Each pool's connections, in loop order (for tests).
    var connectionCounts: [Int] { pools.map { $0.size } }

    /// For work that belongs to no request (catalog, health, maintenance).
    var first: PostgresClient { pools[0].client }

    func run() async throws {
        try await withThrowingDiscardingTaskGroup { group in
            for pool in pools { group.addTask { await pool.client.run() } }
        }
    }
}
