import PGClient
import Hummingbird
import Logging

/// `/api/openapi.json` (generated in SQL from the catalog) and `/api/docs`, a page that renders
/// it with no network access beyond this server.
struct OpenAPIRoutes {
    let pool: DatabasePool

    func add(to router: Router<GatewayContext>) {
        router.get("/api/openapi.json") { _, _ in
            guard let document = try await pool.firstRow("select gateway.openapi()::text")?[0] else {
                throw Problem.internalError(cause: "gateway.openapi() returned no document")
            }
            return JSONBody.response(document)
        }
        router.get("/api/docs") { _, _ in DocsPage.response(head: false) }
    }
}
