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

/// A sliding window that never lets more than `requests` through in any `window` seconds: the
/// window is cut into 60 slots, and a request is admitted while the slots that overlap the last
/// `window` seconds hold fewer than `requests`. Counting whole slots can only over-count (by at
/// most one slot's age), so the limit holds exactly for every window, which GCRA's burst does
/// not give (60 per minute let about 120 through in a minute: the burst, then one a second).
/// A bucket is 61 counters, whatever the limit. `gateway.rate_limit_take` is the same in SQL.
struct SlidingWindow: Sendable, Equatable {
    static let slots = 60
    /// The slot of `counts[0]`; slot n covers [n × width, (n + 1) × width).
    var first: Int64 = 0
    var counts: [Int32] = []

    /// The decision, and the bucket afterwards (unchanged when refused).
    static func take(_ bucket: SlidingWindow?, now: Double, requests: Int, window: Double) -> (RateDecision, SlidingWindow) {
        let width = window / Double(slots)
        let current = Int64((now / width).rounded(.down))
        // The slots from current − 60 to current cover (now − window, now] and a little more.
        var bucket = bucket ?? SlidingWindow(first: current, counts: [])
        let oldest = current - Int64(slots)
        if bucket.first < oldest {
            bucket.counts.removeFirst(min(bucket.counts.count, Int(oldest - bucket.first)))
            bucket.first = oldest
        }
        // Empty, or from a later slot than now (a clock set back): start afresh.
        if bucket.counts.isEmpty || bucket.first > current { bucket = SlidingWindow(first: current, counts: []) }
        let total = bucket.counts.reduce(0) { $0 + Int($1) }
        if total >= requests {
            // Admitted again once enough of the oldest slots have left the window.
            var dropped = 0, slot = bucket.first
            for count in bucket.counts {
                dropped += Int(count)
                if dropped >= total - requests + 1 { break }
                slot += 1
            }
            let retry = Double(slot + Int64(slots) + 1) * width - now
            return (RateDecision(allowed: false, remaining: 0, retryAfter: retry, reset: bucket.fullAgain(width: width, now: now)), bucket)
        }
        let index = Int(current - bucket.first)
        if index >= bucket.counts.count { bucket.counts.append(contentsOf: repeatElement(0, count: index - bucket.counts.count + 1)) }
        bucket.counts[index] += 1
        return (RateDecision(allowed: true, remaining: requests - total - 1, retryAfter: 0, reset: bucket.fullAgain(width: width, now: now)), bucket)
    }

    /// Seconds until every admitted request has left the window.
    private func fullAgain(width: Double, now: Double) -> Double {
        guard let last = counts.lastIndex(where: { $0 > 0 }) else { return 0 }
        return max(0, Double(first + Int64(last) + Int64(Self.slots) + 1) * width - now)
    }

    /// No request of it is still in the window: the bucket can be forgotten.
    func isEmpty(now: Double, window: Double) -> Bool { fullAgain(width: window / Double(Self.slots), now: now) == 0 }
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
            "error": "Rate limit exceeded",
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
