import Foundation
import Logging
import NIOConcurrencyHelpers
import PostgresNIO

/// The current route table, swapped whole on reload so a request never sees half a catalog.
public final class CatalogStore: Sendable {
    private let table = NIOLockedValueBox<RouteTable?>(nil)
    private let client: PostgresClient
    private let logger: Logger

    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    public var current: RouteTable { table.withLockedValue { $0 } ?? RouteTable(routes: []) }

    /// False until the first successful load: the gateway is not ready before it knows its routes.
    public var isLoaded: Bool { table.withLockedValue { $0 != nil } }

    /// Loads `gateway.catalog()`. On failure the previous table stays in service.
    @discardableResult
    public func reload() async throws -> Int {
        let rows = try await client.query("select gateway.catalog()::text", logger: logger)
        var json = "[]"
        for try await (text) in rows.decode(String.self) { json = text }
        let routes = try JSONDecoder().decode([RouteDefinition].self, from: Data(json.utf8))
        table.withLockedValue { $0 = RouteTable(routes: routes) }
        logger.debug("route catalog loaded", metadata: ["routes": "\(routes.count)"])
        return routes.count
    }
}
