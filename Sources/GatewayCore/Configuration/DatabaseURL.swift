import Foundation
import PostgresNIO

/// Reads a libpq-style URI (`postgres://user:pass@host:port/db?sslmode=…`, or `?host=/socket/dir`
/// for a unix socket) into PostgresNIO's configuration, so the gateway, psql and the Migrator
/// share one DATABASE_URL.
public enum DatabaseURL {
    public struct Invalid: Error, CustomStringConvertible {
        public var description: String
    }

    public static func configuration(from text: String) throws -> PostgresClient.Configuration {
        guard let url = URLComponents(string: text), let scheme = url.scheme, ["postgres", "postgresql"].contains(scheme) else {
            throw Invalid(description: "DATABASE_URL must be a postgres:// or postgresql:// URI")
        }
        let query = Dictionary((url.queryItems ?? []).map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { _, last in last })
        let username = url.percentEncodedUser.flatMap { $0.removingPercentEncoding } ?? query["user"] ?? "postgres"
        let password = url.percentEncodedPassword.flatMap { $0.removingPercentEncoding } ?? query["password"]
        let database = url.path.split(separator: "/").first.map(String.init).flatMap { $0.removingPercentEncoding } ?? query["dbname"]
        let host = url.host.flatMap { $0.isEmpty ? nil : $0 } ?? query["host"] ?? "localhost"
        let port = url.port ?? query["port"].flatMap { Int($0) } ?? 5432

        if host.hasPrefix("/") {
            return PostgresClient.Configuration(unixSocketPath: "\(host)/.s.PGSQL.\(port)", username: username, password: password, database: database)
        }
        let tls: PostgresClient.Configuration.TLS
        switch query["sslmode"] ?? "prefer" {
        case "disable": tls = .disable
        case "require", "verify-ca", "verify-full": tls = .require(.makeClientConfiguration())
        default: tls = .prefer(.makeClientConfiguration())
        }
        return PostgresClient.Configuration(host: host, port: port, username: username, password: password, database: database, tls: tls)
    }
}
