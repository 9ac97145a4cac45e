import Logging
import PostgresNIO

/// Buckets in `gateway.rate_limits`, so several gateways share one limit. The same GCRA runs in
/// `gateway.rate_limit_take`, atomically under a row lock.
public struct PostgresRateLimitStore: RateLimitStore {
    let pool: DatabasePool
    let logger: Logger

    public func take(bucket: String, requests: Int, windowSeconds: Int) async throws -> RateDecision {
        let window = Double(windowSeconds * 1000)
        guard let row = try await pool.firstRow(
            "select allowed, remaining, retry_after_ms, reset_ms from gateway.rate_limit_take(\(bucket), \(Int32(clamping: requests)), \(window))",
            logger: logger)
        else { throw Problem.internalError(cause: "gateway.rate_limit_take returned no row") }
        let (allowed, remaining, retryAfter, reset) = try row.decode((Bool, Int, Double, Double).self)
        return RateDecision(allowed: allowed, remaining: remaining, retryAfter: retryAfter / 1000, reset: reset / 1000)
    }
}
