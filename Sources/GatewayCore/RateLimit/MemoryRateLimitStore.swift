import Foundation
import NIOConcurrencyHelpers

/// Buckets in this process: the default, and right for a single gateway.
public final class MemoryRateLimitStore: RateLimitStore {
    private let buckets = NIOLockedValueBox([String: Double]())
    private let now: @Sendable () -> Double

    public init(now: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 }) {
        self.now = now
    }

    public func take(bucket: String, requests: Int, windowSeconds: Int) async throws -> RateDecision {
        let now = self.now()
        return buckets.withLockedValue { buckets in
            // Buckets whose arrival time has passed are full again: forget them now and then.
            if buckets.count > 100_000 { buckets = buckets.filter { $0.value > now } }
            let (decision, tat) = GCRA.take(tat: buckets[bucket], now: now, requests: requests, window: Double(windowSeconds))
            buckets[bucket] = tat
            return decision
        }
    }
}
