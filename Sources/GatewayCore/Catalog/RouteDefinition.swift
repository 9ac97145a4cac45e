/// One row of `gateway.catalog()`: a route and the signature of the function it calls. A class:
/// every request holds its route, and a reference is one retain where the struct was twenty.
public final class RouteDefinition: Decodable, Sendable {
    public struct Argument: Decodable, Sendable {
        public var name: String
        /// As `format_type` prints it: `integer`, `timestamp with time zone`, `text[]`, …
        public var type: String
        /// The quoted identifier for named notation.
        public var sqlName: String
        public var hasDefault: Bool

        enum CodingKeys: String, CodingKey {
            case name, type
            case sqlName = "sql_name"
            case hasDefault = "has_default"
        }
    }

    public struct RatePolicy: Decodable, Sendable, Hashable {
        public var name: String
        public var requests: Int
        public var windowSeconds: Int

        enum CodingKeys: String, CodingKey {
            case name, requests
            case windowSeconds = "window_seconds"
        }
    }

    public let method: String
    public let path: String
    /// The other paths the route answers on (its unit's path aliases).
    public let aliases: [String]
    public let function: String
    public let functionSQL: String
    /// The database roles that may call it (at least its min_role, and granted EXECUTE).
    public let roles: [DatabaseRole]
    public let appRoles: [String]?
    public let ratePolicy: RatePolicy?
    public let cacheMaxAge: Int?
    public let cacheStaleWhileRevalidate: Int?
    public let returnsSet: Bool
    public let args: [Argument]
    /// Stream the function's rows (json, csv or ndjson) instead of building one body.
    public let streaming: Bool
    /// Output columns of a function returning a table, in order.
    public let columns: [String]
    /// The function returns `access_token_claims`; the gateway answers with a signed access token.
    public let issuesToken: Bool
    /// How its unit's errors look (`gateway.units.error_style`).
    public let errorStyle: ErrorStyle
    /// Where its unit's clients expect the docs page, if anywhere besides /api/docs.
    public let docsPath: String?
    /// The function that waits for the work a 202 answer started (`Prefer: wait=N`), if any.
    public let awaitSQL: String?

    enum CodingKeys: String, CodingKey {
        case method, path, aliases, function, args, streaming, columns
        case functionSQL = "function_sql"
        case roles
        case appRoles = "app_roles"
        case ratePolicy = "rate_policy"
        case cacheMaxAge = "cache_max_age"
        case cacheStaleWhileRevalidate = "cache_swr"
        case returnsSet = "returns_set"
        case issuesToken = "issues_token"
        case errorStyle = "error_style"
        case docsPath = "docs_path"
        case awaitSQL = "await_sql"
    }

    /// Names the route in logs and metrics.
    public var name: String { "\(method) \(path)" }
}
