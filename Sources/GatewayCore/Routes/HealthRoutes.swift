import PGClient
import Hummingbird
import Logging

/// `/health` and `/live` say the process serves; `/ready` says the database answers too, so a
/// load balancer sends traffic only where requests can succeed.
struct HealthRoutes {
    let pool: DatabasePool
    let catalog: CatalogStore
    let health: DatabaseHealth
    /// A readiness probe must answer quickly even when every connection is busy: it waits this
    /// long for one at most (a dead database fails it at once).
    var readinessTimeout: Duration = .seconds(2)

    func add(to router: Router<GatewayContext>) {
        router.get("/health") { _, _ in JSONBody.response(#"{"status":"ok"}"#) }
        router.get("/live") { _, _ in JSONBody.response(#"{"status":"ok"}"#) }
        router.get("/ready") { _, context in
            // Ready means API calls will work: the database answers, the routes are loaded, and
            // the listener (which lifts the fast 503s) is connected again.
            if await databaseAnswers(logger: context.logger), catalog.isLoaded, health.isReachable {
                return JSONBody.response(#"{"status":"ready","database":"ok"}"#)
            }
            var response = JSONBody.response(#"{"status":"unavailable","database":"unreachable"}"#, status: .serviceUnavailable)
            response.headers[.retryAfter] = "5"
            return response
        }
    }

    private func databaseAnswers(logger: Logger) async -> Bool {
        do {
            return try await pool.firstRow("select 1 as one", deadline: .now + readinessTimeout) != nil
        } catch {
            logger.debug("readiness query failed", metadata: ["error": "\(String(reflecting: error))"])
            return false
        }
    }
}
