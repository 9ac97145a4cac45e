import ArgumentParser
import Foundation
import GatewayCore
import Hummingbird
import Logging

@main
struct GatewayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "gateway", abstract: "HTTP gateway over the api schema.")

    @Option(name: .shortAndLong, help: "Address to listen on (default: $HOST or 127.0.0.1).")
    var hostname: String?

    @Option(name: .shortAndLong, help: "Port to listen on (default: $PORT or 8080).")
    var port: Int?

    @Option(name: .customLong("database-url"), help: "PostgreSQL URI (default: $DATABASE_URL).")
    var databaseURL: String?

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String?

    func run() async throws {
        let env = ProcessInfo.processInfo.environment
        guard let url = databaseURL ?? env["DATABASE_URL"], !url.isEmpty else {
            throw ValidationError("no database: pass --database-url or set DATABASE_URL")
        }
        let level = (logLevel ?? env["LOG_LEVEL"]).flatMap { Logger.Level(rawValue: $0) } ?? .info
        let configuration = try GatewayConfiguration(
            hostname: hostname ?? env["HOST"] ?? "127.0.0.1",
            port: port ?? env["PORT"].flatMap { Int($0) } ?? 8080,
            databaseURL: url,
            logLevel: level
        )
        let app = try await buildApplication(configuration)
        try await app.runService()
    }
}
