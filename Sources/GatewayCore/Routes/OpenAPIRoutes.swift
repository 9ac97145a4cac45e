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
            try await pool.withConnection { [logger] connection in
                for try await document in try await connection.query("select gateway.openapi()::text", logger: logger).decode(String.self) {
                    return JSONBody.response(document)
                }
                throw Problem.internalError(cause: "gateway.openapi() returned no row")
            }
        }
        router.get("/api/docs") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: DocsPage.html)))
        }
    }
}
