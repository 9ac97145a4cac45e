import Hummingbird
import Logging
import PostgresNIO

public typealias GatewayContext = BasicRequestContext

/// The gateway application: one PostgreSQL client, run as a service, and the router.
public func buildApplication(_ configuration: GatewayConfiguration) async throws -> some ApplicationProtocol {
    var logger = Logger(label: "gateway")
    logger.logLevel = configuration.logLevel
    let client = PostgresClient(configuration: configuration.postgres, backgroundLogger: logger)
    let router = buildRouter(client: client)
    var app = Application(
        router: router,
        configuration: .init(address: .hostname(configuration.hostname, port: configuration.port), serverName: "analytics-gateway"),
        logger: logger
    )
    app.addServices(client)
    return app
}

func buildRouter(client: PostgresClient) -> Router<GatewayContext> {
    let router = Router(context: GatewayContext.self)
    HealthRoutes(client: client).add(to: router)
    return router
}
