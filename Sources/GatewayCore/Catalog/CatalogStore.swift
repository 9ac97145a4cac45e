import PGClient
import Foundation
import Logging
import NIOConcurrencyHelpers

/// The current route table, swapped whole on reload so a request never sees half a catalog.
public final class CatalogStore: Sendable {
    private let table = NIOLockedValueBox<RouteTable?>(nil)
    private let pool: DatabasePool
    private let logger: Logger

    init(pool: DatabasePool, logger: Logger) {
        self.pool = pool
        self.logger = logger
    }

    public var current: RouteTable { table.withLockedValue { $0 } ?? RouteTable(routes: []) }

    /// False until the first successful load: the gateway is not ready before it knows its routes.
    public var isLoaded: Bool { table.withLockedValue { $0 != nil } }

    /// Loads `gateway.catalog()`, waiting for a connection until `deadline` at most. On failure
    /// the previous table stays in service.
    @discardableResult
    public func reload(deadline: ContinuousClock.Instant? = nil) async throws -> Int {
        let json = try await pool.firstRow("select gateway.catalog()::text", deadline: deadline)?[0] ?? "[]"
        let routes = try JSONDecoder().decode([RouteDefinition].self, from: Data(json.utf8))
        table.withLockedValue { $0 = RouteTable(routes: routes) }
        logger.debug("route catalog loaded", metadata: ["routes": "\(routes.count)"])
        return routes.count
    }
}
