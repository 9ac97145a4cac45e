import PGClient
import Logging

/// Buckets in `gateway.rate_limits`, so several gateways share one limit. The same sliding window
/// runs in `gateway.rate_limit_take`, atomically under a row lock.
public struct PostgresRateLimitStore: RateLimitStore {
    let pool: DatabasePool

    public func take(bucket: String, requests: Int, windowSeconds: Int) async throws -> RateDecision {
        guard let row = try await pool.firstRow(
            "select allowed, remaining, retry_after_ms, reset_ms from gateway.rate_limit_take($1, $2, $3)",
            [bucket, String(Int32(clamping: requests)), String(windowSeconds * 1000)]),
            let allowed = row[0], let remaining = row[1].flatMap({ Int($0) }),
            let retryAfter = row[2].flatMap({ Double($0) }), let reset = row[3].flatMap({ Double($0) })
        else { throw Problem.internalError(cause: "gateway.rate_limit_take returned no decision") }
        return RateDecision(allowed: allowed == "t", remaining: remaining, retryAfter: retryAfter / 1000, reset: reset / 1000)
    }
}
