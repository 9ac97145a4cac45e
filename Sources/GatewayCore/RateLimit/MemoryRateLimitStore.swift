import Foundation
import NIOConcurrencyHelpers

/// Buckets in this process: the default, and right for a single gateway.
public final class MemoryRateLimitStore: RateLimitStore {
    private struct Bucket {
        var window: SlidingWindow
        var windowSeconds: Double
    }

    private let buckets = NIOLockedValueBox([String: Bucket]())
    private let now: @Sendable () -> Double

    public init(now: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 }) {
        self.now = now
    }

    public func take(bucket: String, requests: Int, windowSeconds: Int) async throws -> RateDecision {
        let now = self.now()
        return buckets.withLockedValue { buckets in
            // Buckets with nothing left in their window are full again: forget them now and then.
            if buckets.count > 100_000 { buckets = buckets.filter { !$0.value.window.isEmpty(now: now, window: $0.value.windowSeconds) } }
            let (decision, window) = SlidingWindow.take(buckets[bucket]?.window, now: now, requests: requests, window: Double(windowSeconds))
            buckets[bucket] = Bucket(window: window, windowSeconds: Double(windowSeconds))
            return decision
        }
    }
}
