import PGClient

/// One call, one round trip: `gateway.invoke` sets role and claims transaction-locally and runs the
/// call inside the single statement's own transaction. Nothing of one request survives into the
/// next on the same pooled connection.
struct Invoker: Sendable {
    struct Result: Sendable {
        var body: String?
        var status: Int?
        var headers: String?
        /// `{"requests": [...]}` when the function asked the gateway to fetch (response.fetch).
        var fetch: String? = nil
    }

    let pool: DatabasePool
    /// A request waits no longer than this for a free connection; past it the caller gets a 503
    /// rather than a hung request. A call already running ends by the role's statement_timeout
    /// (shorter than this), with its own clean error.
    let deadline: Duration

    static let statement = "select body, status, headers, fetch_requests from gateway.invoke($1, $2, $3, $4, $5::jsonb, $6)"

    /// `route` names the kind of call, for the pool (calls of a quick route may share a round trip).
    func invoke(identity: Identity, readOnly: Bool, call: ParameterBinder.Bound, route: String,
                clientGone: (@Sendable () -> Bool)? = nil) async throws -> Result {
        let parameters = [identity.role.rawValue, identity.claimsJSON, readOnly ? "true" : "false", call.sql,
                          call.arguments.text, identity.clientAddress]
        do {
            guard let row = try await pool.firstRow(Self.statement, parameters, kind: route, deadline: .now + deadline, abandoned: clientGone) else {
                return Result(body: nil, status: nil, headers: nil)
            }
            return Result(body: row[0], status: row[1].flatMap { Int($0) }, headers: row[2], fetch: row.count > 3 ? row[3] : nil)
        } catch {
            throw DatabaseErrorMapping.problem(for: error, role: identity.role)
        }
    }
}
