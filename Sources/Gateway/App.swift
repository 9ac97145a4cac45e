import ArgumentParser
import Foundation
import GatewayCore

struct GatewayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gateway",
        abstract: "HTTP gateway over the api schema.",
        subcommands: [Serve.self, Token.self],
        defaultSubcommand: Serve.self
    )
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve HTTP (the default).",
        discussion: """
            Environment: DATABASE_URL (authenticator's URI), JWT_SECRET or JWT_SECRET_FILE (HS256, ≥ 32 bytes), \
            JWT_SECRET_KID, JWKS_FILE (RS256/ES256 keys), JWT_ALGORITHMS, JWT_ISSUER, JWT_AUDIENCE, JWT_ACCOUNT_CLAIM, \
            JWT_APP_ROLE_CLAIM, RATE_LIMIT_STORE (memory|postgres), DB_POOL_SIZE (default: cores + 1), MAINTENANCE_INTERVAL (seconds between \
            gateway.maintenance() runs; 0 turns them off; default 60), RESPONSE_CACHE_SECONDS (how long a caller's \
            cacheable GET answer is reused; 0 turns it off; default 5), ACCESS_TOKEN_SECONDS (lifetime of the access tokens \
            login routes issue; default 900), EXPORT_TIMEOUT (seconds an export may take, slow clients included; \
            default 600), JOB_WORKERS (workers running the units' background jobs; 0: none; default 2), \
            JOB_TIMEOUT (seconds one job may run; default 600),
            OUTBOUND_ALLOWED_HOSTS (hosts functions may have the gateway fetch from; default 127.0.0.1,localhost,api.openai.com),
            HOST, PORT, LOG_LEVEL.
            """
    )

    @Option(name: .shortAndLong, help: "Address to listen on (default: $HOST or 127.0.0.1).")
    var hostname: String?

    @Option(name: .shortAndLong, help: "Port to listen on (default: $PORT or 8080).")
    var port: Int?

    @Option(name: .customLong("database-url"), help: "PostgreSQL URI for the authenticator role (default: $DATABASE_URL).")
    var databaseURL: String?

    @Option(help: "Where rate-limit buckets live: memory or postgres (default: $RATE_LIMIT_STORE or memory).")
    var rateLimitStore: String?

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String?

    func run() async throws {
        let configuration = try GatewayConfiguration(environment: ProcessInfo.processInfo.environment, hostname: hostname, port: port,
                                                     databaseURL: databaseURL, rateLimitStore: rateLimitStore, logLevel: logLevel)
        let app = try await buildApplication(configuration)
        try await app.runService()
    }
}
