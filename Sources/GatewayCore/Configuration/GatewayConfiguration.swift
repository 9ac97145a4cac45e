import Logging
import PostgresNIO

/// Everything the gateway needs to start. Built by the `Gateway` command from arguments and the
/// environment (arguments win), and by tests directly.
public struct GatewayConfiguration: Sendable {
    public var hostname: String
    public var port: Int
    public var postgres: PostgresClient.Configuration
    public var logLevel: Logger.Level

    public init(hostname: String = "127.0.0.1", port: Int = 8080, databaseURL: String, logLevel: Logger.Level = .info) throws {
        self.hostname = hostname
        self.port = port
        self.postgres = try DatabaseURL.configuration(from: databaseURL)
        self.postgres.options.connectTimeout = .seconds(3)
        self.logLevel = logLevel
    }
}
