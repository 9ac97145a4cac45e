import Foundation
import Logging

/// Everything the gateway needs to start. The `Gateway` command builds it from arguments and the
/// environment (arguments win); tests build it directly.
public struct GatewayConfiguration: Sendable {
    public enum RateLimitBackend: String, Sendable { case memory, postgres }

    public var hostname: String
    public var port: Int
    public var database: DatabaseURL
    /// PostgreSQL connections kept open for requests (`DatabasePool`).
    public var poolSize: Int
    public var logLevel: Logger.Level
    public var auth: AuthConfiguration
    public var rateLimitBackend: RateLimitBackend = .memory
    /// How long a request may wait for a free database connection before it gets a 503.
    public var databaseDeadline: Duration = .seconds(20)
    /// How long start-up waits for the first catalog load before serving without it (503s with
    /// Retry-After until the listener has loaded it).
    public var startupCatalogDeadline: Duration = .seconds(5)
    /// A 10,000-row ingest batch is about 1 MiB of JSON.
    public var maxBodyBytes: Int = 4 << 20
    public var accessLog = AccessLog()
    /// How long a caller's successful GET answer is reused (never past the route's max-age); nil: off.
    public var responseCacheTTL: Duration? = .seconds(5)
    /// How often `gateway.maintenance()` runs (refreshing stale rollups); nil: never.
    public var maintenanceInterval: Duration? = .seconds(60)
    /// The statement timeout of a maintenance run (a refresh may take longer than a request).
    public var maintenanceTimeout: Duration = .seconds(600)
    /// The statement timeout of an export: its one statement lasts until the client has taken the
    /// last row, so the request timeout (15 s) would cut off a client on a slow link mid-file.
    public var exportTimeout: Duration = .seconds(600)
    /// Lifetime of the access tokens the gateway signs for login routes (refresh tokens renew them).
    public var accessTokenLifetimeSeconds: Int = 900
    /// Browser origins allowed to call the API (CORS); empty: none.
    public var corsAllowedOrigins: Set<String> = []
    /// Bearer token for /metrics from other hosts; without one only this host may read them.
    public var metricsToken: String?
    /// Hosts the gateway may reach when a function asks it to fetch (`OUTBOUND_ALLOWED_HOSTS`): a
    /// URL a tenant configured cannot make it reach any other (SSRF).
    public var outboundAllowedHosts: Set<String> = ["127.0.0.1", "localhost", "api.openai.com"]
    /// Workers running the units' background jobs (each holds a connection of its own); 0: none,
    /// this gateway only serves requests.
    public var jobWorkers: Int = 2
    /// The longest one job may run (its worker's statement_timeout).
    public var jobTimeout: Duration = .seconds(600)
    /// How often an idle worker looks for work without being woken (jobs whose worker died).
    public var jobIdlePoll: Duration = .seconds(5)

    /// One pooled connection per core and one more, each with a thread of its own (`DatabasePool`).
    /// Next to PostgreSQL on the same cores, more connections only add runnable backends and pool
    /// threads that take the cores from each other; with calls sharing round trips, fewer do the
    /// same work. On 2 cores, whoami, alternating runs of pool 3 against pool 4: +10 % req/s and
    /// −14 % gateway CPU per request at 50 clients, +5 % / +3 % req/s at 10 / 100 clients; pool 2
    /// served as much as 3 but at +7 % CPU per request (README). A database on other, larger
    /// machines wants a bigger pool: set DB_POOL_SIZE. Requests beyond it wait in the gateway.
    public static var defaultPoolSize: Int { max(1, ProcessInfo.processInfo.activeProcessorCount) + 1 }

    public init(hostname: String = "127.0.0.1", port: Int = 8080, databaseURL: String, auth: AuthConfiguration,
                poolSize: Int = GatewayConfiguration.defaultPoolSize, logLevel: Logger.Level = .info) throws {
        self.hostname = hostname
        self.port = port
        self.database = try DatabaseURL(databaseURL)
        self.poolSize = poolSize  // the pool opens at least one
        self.auth = auth
        self.logLevel = logLevel
    }

    /// A setting that cannot be used; the message names it.
    public struct Invalid: Error, CustomStringConvertible {
        public var description: String
    }

    /// The one place configuration is read: command-line values (non-nil) win over the
    /// environment, which wins over the defaults above. Secrets come only from the environment
    /// (or files it names): none has a default.
    public init(environment env: [String: String], hostname: String? = nil, port: Int? = nil, databaseURL: String? = nil,
                rateLimitStore: String? = nil, logLevel: String? = nil) throws {
        guard let url = databaseURL ?? env["DATABASE_URL"], !url.isEmpty else {
            throw Invalid(description: "no database: pass --database-url or set DATABASE_URL")
        }
        try self.init(
            hostname: hostname ?? env["HOST"] ?? "127.0.0.1",
            port: try port ?? Self.number(env, "PORT", atLeast: 1) ?? 8080,
            databaseURL: url,
            auth: try Self.authConfiguration(environment: env),
            poolSize: try Self.number(env, "DB_POOL_SIZE", atLeast: 1) ?? Self.defaultPoolSize,
            logLevel: (logLevel ?? env["LOG_LEVEL"]).flatMap { Logger.Level(rawValue: $0) } ?? .info
        )
        guard let backend = RateLimitBackend(rawValue: rateLimitStore ?? env["RATE_LIMIT_STORE"] ?? "memory") else {
            throw Invalid(description: "RATE_LIMIT_STORE must be memory or postgres")
        }
        rateLimitBackend = backend
        if let seconds = try Self.number(env, "RESPONSE_CACHE_SECONDS", atLeast: 0) { responseCacheTTL = seconds == 0 ? nil : .seconds(seconds) }
        if let seconds = try Self.number(env, "ACCESS_TOKEN_SECONDS", atLeast: 1) { accessTokenLifetimeSeconds = seconds }
        if let seconds = try Self.number(env, "MAINTENANCE_INTERVAL", atLeast: 0) { maintenanceInterval = seconds == 0 ? nil : .seconds(seconds) }
        if let seconds = try Self.number(env, "EXPORT_TIMEOUT", atLeast: 1) { exportTimeout = .seconds(seconds) }
        if let workers = try Self.number(env, "JOB_WORKERS", atLeast: 0) { jobWorkers = workers }
        if let seconds = try Self.number(env, "JOB_TIMEOUT", atLeast: 1) { jobTimeout = .seconds(seconds) }
        metricsToken = try Self.secret(env, "METRICS_TOKEN")
        if let origins = env["CORS_ALLOWED_ORIGINS"] {
            corsAllowedOrigins = Set(origins.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty })
        }
        if let hosts = env["OUTBOUND_ALLOWED_HOSTS"] {
            outboundAllowedHosts = Set(hosts.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }.filter { !$0.isEmpty })
        }
    }

    /// A whole number of at least `low` from the environment, nil when unset.
    static func number(_ env: [String: String], _ name: String, atLeast low: Int) throws -> Int? {
        guard let text = env[name] else { return nil }
        guard let value = Int(text), value >= low else { throw Invalid(description: "\(name) must be a whole number, at least \(low)") }
        return value
    }

    /// The environment's settings; every secret must come from here or a file it names.
    public static func authConfiguration(environment env: [String: String]) throws -> AuthConfiguration {
        var auth = AuthConfiguration(hmacSecret: try secret(env, "JWT_SECRET"), jwksJSON: try env["JWKS_FILE"].map {
            try String(contentsOfFile: $0, encoding: .utf8)
        })
        auth.hmacKeyID = env["JWT_SECRET_KID"]
        auth.allowedAlgorithms = env["JWT_ALGORITHMS"].map { Set($0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }) }
        auth.issuer = env["JWT_ISSUER"]
        auth.audience = env["JWT_AUDIENCE"]
        if let path = env["JWT_ACCOUNT_CLAIM"] { auth.accountClaim = AuthConfiguration.claimPath(path) }
        if let path = env["JWT_APP_ROLE_CLAIM"] { auth.appRoleClaim = AuthConfiguration.claimPath(path) }
        return auth
    }

    /// `NAME` or the contents of the file `NAME_FILE` (for secrets mounted as files).
    public static func secret(_ env: [String: String], _ name: String) throws -> String? {
        if let value = env[name], !value.isEmpty { return value }
        guard let file = env[name + "_FILE"] else { return nil }
        return try String(contentsOfFile: file, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
