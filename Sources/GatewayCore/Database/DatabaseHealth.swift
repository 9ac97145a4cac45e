import NIOConcurrencyHelpers

/// Whether the database answered lately, as the catalog listener's own connection sees it. While
/// it is down, requests get a 503 with Retry-After at once instead of waiting for a pool
/// connection that cannot come.
public final class DatabaseHealth: Sendable {
    private let reachable = NIOLockedValueBox(true)

    public init() {}

    public var isReachable: Bool { reachable.withLockedValue { $0 } }

    func update(reachable value: Bool) { reachable.withLockedValue { $0 = value } }

    func requireReachable() throws {
        guard isReachable else { throw Problem.unavailable("The database is unavailable; retry shortly") }
    }
}
