import Logging
import PostgresNIO

/// One call, one round trip: `gateway.invoke` sets role and claims transaction-locally and runs the
/// call inside the single statement's own transaction. Nothing of one request survives into the
/// next on the same pooled connection.
struct Invoker: Sendable {
    struct Result: Sendable {
        var body: String?
        var status: Int?
        var headers: String?
    }

    let client: PostgresClient
    let logger: Logger
    /// A request waits no longer than this for the database (a connection, then the answer); past
    /// it the caller gets a 503 rather than a hung request. Longer than the role's statement_timeout,
    /// so a slow query still ends with its own clean error.
    let deadline: Duration

    func invoke(identity: Identity, readOnly: Bool, call: ParameterBinder.Bound) async throws -> Result {
        let arguments = call.arguments.text
        let query: PostgresQuery = """
            select body, status, headers from gateway.invoke(\(identity.role.rawValue), \(identity.claimsJSON), \(readOnly), \(call.sql), \(arguments)::jsonb, \(identity.clientAddress))
            """
        do {
            return try await withDeadline(deadline) { [client, logger] in
                let rows = try await client.query(query, logger: logger)
                for try await (body, status, headers) in rows.decode((String?, Int?, String?).self) {
                    return Result(body: body, status: status, headers: headers)
                }
                return Result(body: nil, status: nil, headers: nil)
            }
        } catch let problem as Problem {
            throw problem
        } catch {
            throw DatabaseErrorMapping.problem(for: error, role: identity.role)
        }
    }
}

struct DeadlineExceeded: Error {}

/// Runs `body`, or gives up with a 503 after `limit`.
func withDeadline<T: Sendable>(_ limit: Duration, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: T.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: limit)
            throw Problem.unavailable("The database did not answer in time; retry shortly")
        }
        defer { group.cancelAll() }
        // The first task to finish decides: the answer, or the deadline's 503.
        return try await group.next()!  // two tasks were added, so next() has a result
    }
}
