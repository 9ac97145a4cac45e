import PGClient

/// DATABASE_URL, checked at start. Every connection the gateway opens (the pool's, the catalog
/// listener's, an export's) is libpq's and reads it the same way psql and the Migrator do:
/// URI or `key=value` form, `sslmode` (including `verify-full` with `sslrootcert`), a unix socket
/// given as `host=/dir`, and the PG* environment variables and ~/.pgpass for what it leaves out.
public struct DatabaseURL: Sendable {
    public struct Invalid: Error, CustomStringConvertible {
        public var description: String
    }

    public let text: String

    public init(_ text: String) throws {
        do {
            try PGConnection.validate(connectionString: text)
        } catch let error as PGError {
            throw Invalid(description: "DATABASE_URL is not a PostgreSQL connection string: \(error.message)")
        }
        self.text = text
    }
}
