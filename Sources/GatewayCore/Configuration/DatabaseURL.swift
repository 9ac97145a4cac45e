import Foundation
import NIOSSL
import PostgresNIO

/// A libpq-style URI (`postgres://user:pass@host:port/db?sslmode=…`, or `?host=/socket/dir` for a
/// unix socket), read once so the pool, the LISTEN connection, psql and the Migrator share one
/// DATABASE_URL.
public struct DatabaseURL: Sendable {
    public struct Invalid: Error, CustomStringConvertible {
        public var description: String
    }

    public enum TLSMode: String, Sendable { case disable, prefer, require }

    /// As given: libpq (the pool) reads it itself.
    public var text: String
    public var host: String
    public var port: Int
    public var unixSocketPath: String?
    public var username: String
    public var password: String?
    public var database: String?
    public var tls: TLSMode

    public init(_ text: String) throws {
        guard let url = URLComponents(string: text), let scheme = url.scheme, ["postgres", "postgresql"].contains(scheme) else {
            throw Invalid(description: "DATABASE_URL must be a postgres:// or postgresql:// URI")
        }
        self.text = text
        let query = Dictionary((url.queryItems ?? []).map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { _, last in last })
        username = url.percentEncodedUser.flatMap { $0.removingPercentEncoding } ?? query["user"] ?? "postgres"
        password = url.percentEncodedPassword.flatMap { $0.removingPercentEncoding } ?? query["password"]
        database = url.path.split(separator: "/").first.map(String.init).flatMap { $0.removingPercentEncoding } ?? query["dbname"]
        host = url.host.flatMap { $0.isEmpty ? nil : $0 } ?? query["host"] ?? "localhost"
        port = url.port ?? query["port"].flatMap { Int($0) } ?? 5432
        unixSocketPath = host.hasPrefix("/") ? "\(host)/.s.PGSQL.\(port)" : nil
        switch query["sslmode"] ?? "prefer" {
        case "disable": tls = .disable
        case "require", "verify-ca", "verify-full": tls = .require
        default: tls = .prefer
        }
    }

    /// For every connection the gateway opens (the pool's, the LISTEN connection, a stream's). A
    /// server that has not answered in `connectTimeout` counts as down.
    public func connectionConfiguration(connectTimeout: Duration = .seconds(3)) throws -> PostgresConnection.Configuration {
        var configuration: PostgresConnection.Configuration
        if let unixSocketPath {
            configuration = .init(unixSocketPath: unixSocketPath, username: username, password: password, database: database)
        } else {
            let tls: PostgresConnection.Configuration.TLS = switch self.tls {
            case .disable: .disable
            case .prefer: .prefer(try NIOSSLContext(configuration: .makeClientConfiguration()))
            case .require: .require(try NIOSSLContext(configuration: .makeClientConfiguration()))
            }
            configuration = .init(host: host, port: port, username: username, password: password, database: database, tls: tls)
        }
        configuration.options.connectTimeout = TimeAmount(connectTimeout)
        return configuration
    }
}
