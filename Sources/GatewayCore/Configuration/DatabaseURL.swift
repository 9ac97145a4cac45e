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

    public static func configuration(from text: String) throws -> PostgresClient.Configuration {
        try DatabaseURL(text).clientConfiguration
    }

    public var clientConfiguration: PostgresClient.Configuration {
        if let unixSocketPath {
            return .init(unixSocketPath: unixSocketPath, username: username, password: password, database: database)
        }
        let tls: PostgresClient.Configuration.TLS = switch self.tls {
        case .disable: .disable
        case .prefer: .prefer(.makeClientConfiguration())
        case .require: .require(.makeClientConfiguration())
        }
        return .init(host: host, port: port, username: username, password: password, database: database, tls: tls)
    }

    /// For the single long-lived connection that LISTENs for catalog changes.
    public func connectionConfiguration() throws -> PostgresConnection.Configuration {
        if let unixSocketPath {
            return .init(unixSocketPath: unixSocketPath, username: username, password: password, database: database)
        }
        let tls: PostgresConnection.Configuration.TLS = switch self.tls {
        case .disable: .disable
        case .prefer: .prefer(try NIOSSLContext(configuration: .makeClientConfiguration()))
        case .require: .require(try NIOSSLContext(configuration: .makeClientConfiguration()))
        }
        return .init(host: host, port: port, username: username, password: password, database: database, tls: tls)
    }
}
