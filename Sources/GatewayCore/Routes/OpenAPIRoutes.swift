import Hummingbird
import Logging
import PostgresNIO

/// `/api/openapi.json` (generated in SQL from the catalog) and `/api/docs`, a page that renders
/// it with no network access beyond this server.
struct OpenAPIRoutes {
    let pool: DatabasePool
    let logger: Logger

    func add(to router: Router<GatewayContext>) {
        router.get("/api/openapi.json") { _, _ in
            guard let row = try await pool.firstRow("select gateway.openapi()::text", logger: logger) else {
                throw Problem.internalError(cause: "gateway.openapi() returned no row")
            }
            return JSONBody.response(try row.decode(String.self))
        }
        router.get("/api/docs") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: DocsPage.html)))
        }
    }
}
