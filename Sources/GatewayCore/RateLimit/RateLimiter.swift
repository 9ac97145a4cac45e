import Foundation
import HTTPTypes
import Hummingbird

/// The outcome of taking one request from a bucket.
public struct RateDecision: Sendable {
    public var allowed: Bool
    public var remaining: Int
    /// Seconds until a request would be allowed again (0 when allowed).
    public var retryAfter: Double
    /// Seconds until the bucket is full again.
    public var reset: Double
}

/// Where buckets live: in this process, or in PostgreSQL when gateways must share one limit.
public protocol RateLimitStore: Sendable {
    func take(bucket: String, requests: Int, windowSeconds: Int) async throws -> RateDecision
}

/// GCRA: a request costs window/requests seconds of "theoretical arrival time"; bursts up to
/// `requests` are allowed; nothing but one timestamp per bucket is stored.
enum GCRA {
    /// Returns the decision and the bucket's new arrival time (unchanged when refused).
    static func take(tat stored: Double?, now: Double, requests: Int, window: Double) -> (RateDecision, Double) {
        let interval = window / Double(requests)
        let tat = max(stored ?? now, now)
        let next = tat + interval
        if next - now > window {
            return (RateDecision(allowed: false, remaining: 0, retryAfter: next - now - window, reset: tat - now), tat)
        }
        let remaining = Int(((window - (next - now)) / interval).rounded(.down))
        return (RateDecision(allowed: true, remaining: remaining, retryAfter: 0, reset: next - now), next)
    }
}

extension RateDecision {
    /// IETF httpapi rate-limit headers (draft 8+): the policy, and what is left of it.
    func apply(to headers: inout HTTPFields, policy: RouteDefinition.RatePolicy) {
        headers[.rateLimitPolicy] = "\"\(policy.name)\";q=\(policy.requests);w=\(policy.windowSeconds)"
        headers[.rateLimit] = "\"\(policy.name)\";r=\(remaining);t=\(Int(reset.rounded(.up)))"
        if !allowed { headers[.retryAfter] = String(Int(retryAfter.rounded(.up))) }
    }

    func problem(policy: RouteDefinition.RatePolicy) -> Problem {
        let seconds = max(1, Int(retryAfter.rounded(.up)))
        var problem = Problem(.tooManyRequests, code: "RATE_LIMIT_EXCEEDED",
                              message: "Rate limit exceeded: \(policy.requests) requests per \(policy.windowSeconds) s; retry in \(seconds) s")
        problem.extensions = [
            "retry_after": .number(Double(seconds)),
            "limit": .number(Double(policy.requests)),
            "window": .number(Double(policy.windowSeconds)),
        ]
        apply(to: &problem.headers, policy: policy)
        problem.headers[.retryAfter] = String(seconds)
        return problem
    }
}

extension HTTPField.Name {
    static let rateLimitPolicy = Self("RateLimit-Policy")!  // a valid token, cannot fail
    static let rateLimit = Self("RateLimit")!  // a valid token, cannot fail
}
