import Logging
import NIOConcurrencyHelpers
import NIOPosix
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

    let pool: DatabasePool
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
            return try await withDeadline(deadline) { [pool, logger] in
                guard let row = try await pool.firstRow(query, logger: logger) else { return Result(body: nil, status: nil, headers: nil) }
                let (body, status, headers) = try row.decode((String?, Int?, String?).self)
                return Result(body: body, status: status, headers: headers)
            }
        } catch let problem as Problem {
            throw problem
        } catch {
            throw DatabaseErrorMapping.problem(for: error, role: identity.role)
        }
    }
}

/// Runs `body`, or gives up with a 503 after `limit`: at the deadline the work is cancelled (a
/// request waiting for a pooled connection leaves the queue). One task and one event-loop timer per
/// call; a task group with a sleeping second child cost about 4% of the gateway's CPU.
func withDeadline<T: Sendable>(_ limit: Duration, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
    let work = Task { try await body() }
    let expired = NIOLockedValueBox(false)
    let timer = MultiThreadedEventLoopGroup.singleton.any().scheduleTask(in: TimeAmount(limit)) {
        expired.withLockedValue { $0 = true }
        work.cancel()
    }
    defer { timer.cancel() }
    do {
        return try await withTaskCancellationHandler { try await work.value } onCancel: { work.cancel() }
    } catch {
        if expired.withLockedValue({ $0 }) { throw Problem.unavailable("The database did not answer in time; retry shortly") }
        throw error
    }
}
