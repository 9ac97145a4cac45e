import Hummingbird
import Logging
import PGClient
import ServiceLifecycle

/// The gateway application: the PostgreSQL pool and the catalog listener run as services; the
/// router serves the SQL catalog, health, metrics and the OpenAPI document.
public func buildApplication(_ configuration: GatewayConfiguration) async throws -> some ApplicationProtocol {
    var logger = Logger(label: "gateway")
    logger.logLevel = configuration.logLevel
    let pool = DatabasePool(url: configuration.database.text, size: configuration.poolSize, logger: logger)
    let catalog = CatalogStore(pool: pool, logger: logger)
    let health = DatabaseHealth()
    let metrics = Metrics()
    let rateLimits: any RateLimitStore = switch configuration.rateLimitBackend {
    case .memory: MemoryRateLimitStore()
    case .postgres: PostgresRateLimitStore(pool: pool)
    }

    let router = Router(context: GatewayContext.self)
    if !configuration.corsAllowedOrigins.isEmpty { router.add(middleware: CORSMiddleware(allowedOrigins: configuration.corsAllowedOrigins)) }
    router.add(middleware: ObservabilityMiddleware(metrics: metrics, accessLog: configuration.accessLog))
    router.add(middleware: CatalogMiddleware(
        catalog: catalog,
        health: health,
        authenticator: Authenticator(verifier: try await JWTVerifier(configuration.auth)),
        rateLimits: rateLimits,
        invoker: Invoker(pool: pool, deadline: configuration.databaseDeadline),
        streamer: RowStreamer(database: configuration.database, statementTimeout: configuration.exportTimeout, logger: logger),
        tokenIssuer: TokenIssuer(auth: configuration.auth, lifetimeSeconds: configuration.accessTokenLifetimeSeconds),
        responseCache: configuration.responseCacheTTL.map { ResponseCache(ttl: $0) },
        metrics: metrics,
        maxBodyBytes: configuration.maxBodyBytes,
        outbound: OutboundClient(allowedHosts: configuration.outboundAllowedHosts, pool: pool, deadline: configuration.databaseDeadline)
    ))
    HealthRoutes(pool: pool, catalog: catalog, health: health).add(to: router)
    MetricsRoute(metrics: metrics, token: configuration.metricsToken).add(to: router)
    OpenAPIRoutes(pool: pool).add(to: router)

    var services: [any Service] = [PoolService(pool: pool), CatalogListener(store: catalog, health: health, database: configuration.database, logger: logger)]
    if configuration.rateLimitBackend == .postgres { services.append(RateLimitSweeper.service(pool: pool, logger: logger)) }
    if configuration.jobWorkers > 0 {
        services.append(JobWorkers(database: configuration.database, count: configuration.jobWorkers, jobTimeout: configuration.jobTimeout,
                                   idlePoll: configuration.jobIdlePoll, logger: logger))
    }
    if let interval = configuration.maintenanceInterval {
        services.append(MaintenanceTicker.service(pool: pool, interval: interval, statementTimeout: configuration.maintenanceTimeout, logger: logger))
    }
    var app = Application(
        router: router,
        server: ChannelLoopServer.builder(),
        configuration: .init(address: .hostname(configuration.hostname, port: configuration.port), serverName: "analytics-gateway"),
        services: services,
        logger: logger
    )
    // Serve routes from the first request on. If the database is down, start anyway (and say not
    // ready): the listener loads the catalog once the database answers.
    app.beforeServerStarts { [logger, deadline = configuration.startupCatalogDeadline] in
        do { try await catalog.reload(deadline: .now + deadline) } catch {
            logger.warning("route catalog not loaded yet", metadata: ["error": "\(String(reflecting: error))"])
        }
    }
    return app
}

