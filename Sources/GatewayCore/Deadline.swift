import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// Runs `body`, or gives up with a 503 after `limit`: at the deadline the work is cancelled (a
/// call waiting for a pooled connection leaves the queue). For the calls off the request path
/// (readiness, the first catalog load); a request's call gives the pool its deadline instead.
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
        if expired.withLockedValue({ $0 }) { throw Problem.databaseTimedOut }
        throw error
    }
}
