import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
@testable import GatewayCore

@Suite("Rate limits")
struct RateLimitTests {
    func exhaust(_ client: some TestClientProtocol, token: String) async throws -> TestResponse {
        var last: TestResponse?
        for _ in 0..<3 {
            last = try await client.execute(uri: "/api/v1/test/limited", method: .get, headers: .bearer(token))
        }
        return try #require(last)
    }

    @Test func the429CarriesTheHeadersAndTheHotDashFields() async throws {
        let app = try await buildApplication(TestEnvironment.configuration())
        let token = TestEnvironment.token()
        try await app.test(.router) { client in
            try await client.execute(uri: "/api/v1/test/limited", method: .get, headers: .bearer(token)) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.rateLimitPolicy] == #""test-minute";q=2;w=60"#)
                #expect(response.headers[.rateLimit]?.hasPrefix(#""test-minute";r=1;t="#) == true)
            }
            let refused = try await exhaust(client, token: token)
            #expect(refused.status == .tooManyRequests)
            #expect(refused.problemCode == "RATE_LIMIT_EXCEEDED")
            let retryAfter = try #require(refused.headers[.retryAfter].flatMap { Int($0) })
            #expect((1...61).contains(retryAfter))
            #expect(refused.json?[["retry_after"]] == .number(Double(retryAfter)))
            #expect(refused.json?[["limit"]] == .number(2))
            #expect(refused.json?[["window"]] == .number(60))
            #expect(refused.headers[.rateLimit]?.hasPrefix(#""test-minute";r=0;t="#) == true)
            #expect(refused.json?[["error"]] == "Rate limit exceeded", "the Hot Dash spec's words")
            // Another caller has a bucket of their own.
            try await client.execute(uri: "/api/v1/test/limited", method: .get, headers: .bearer(TestEnvironment.token())) { response in
                #expect(response.status == .ok)
            }
            try await client.execute(uri: "/metrics", method: .get, headers: .metrics) { response in
                #expect(response.text.contains(#"gateway_rate_limited_total{policy="test-minute"}"#))
            }
        }
    }

    /// Two gateways with the PostgreSQL store share one bucket per caller.
    @Test func twoGatewaysShareOneLimitThroughPostgres() async throws {
        var configuration = try TestEnvironment.configuration()
        configuration.rateLimitBackend = .postgres
        let first = try await buildApplication(configuration)
        let second = try await buildApplication(configuration)
        let token = TestEnvironment.token()
        try await first.test(.router) { one in
            try await second.test(.router) { two in
                #expect(try await one.execute(uri: "/api/v1/test/limited", method: .get, headers: .bearer(token)).status == .ok)
                #expect(try await two.execute(uri: "/api/v1/test/limited", method: .get, headers: .bearer(token)).status == .ok)
                let third = try await one.execute(uri: "/api/v1/test/limited", method: .get, headers: .bearer(token))
                #expect(third.status == .tooManyRequests)
                #expect(try await two.execute(uri: "/api/v1/test/limited", method: .get, headers: .bearer(token)).status == .tooManyRequests)
            }
        }
    }

    /// A refused caller is let in again once Retry-After has passed, and not before.
    @Test func theMemoryBucketAdmitsAgainAfterRetryAfter() async throws {
        let clock = ManualClock()
        let store = MemoryRateLimitStore(now: { clock.now })
        #expect(try await store.take(bucket: "b", requests: 2, windowSeconds: 60).allowed)
        #expect(try await store.take(bucket: "b", requests: 2, windowSeconds: 60).allowed)
        let refused = try await store.take(bucket: "b", requests: 2, windowSeconds: 60)
        #expect(!refused.allowed)
        #expect(refused.retryAfter == 61, "the first has left the window's slots after a minute and one slot")
        clock.advance(60.9)
        #expect(try await !store.take(bucket: "b", requests: 2, windowSeconds: 60).allowed)
        clock.advance(0.2)
        let again = try await store.take(bucket: "b", requests: 2, windowSeconds: 60)
        #expect(again.allowed)
        #expect(again.remaining == 1, "both of the first pair have left the window")
    }

    /// "60 requests a minute" means it: twice that demand for ten minutes, arriving at uneven
    /// times, and no 60-second window holds more than 60 — GCRA's burst let about 120 through.
    @Test func noWindowOfTheLimitsLengthEverHoldsMoreThanTheLimit() {
        var generator = SystemRandomNumberGenerator()
        var bucket: SlidingWindow?
        var admitted: [Double] = []
        var now = 1_000_000.0
        while now < 1_000_600 {
            let (decision, next) = SlidingWindow.take(bucket, now: now, requests: 60, window: 60)
            bucket = next
            if decision.allowed { admitted.append(now) }
            now += Double.random(in: 0...1, using: &generator)
        }
        var most = 0, start = 0
        for (end, time) in admitted.enumerated() {
            while admitted[start] <= time - 60 { start += 1 }
            most = max(most, end - start + 1)
        }
        #expect(most == 60)
        #expect(admitted.count >= 540, "and the limit is used: \(admitted.count) of the demand got through in ten minutes")
    }
}

extension RateLimitTests {
    /// A bucket from a later slot than now (a clock set back, or a policy restated with a longer
    /// window whose slots are fewer) starts afresh instead of indexing before its first slot.
    @Test func aBucketFromAnotherWindowStartsAfresh() {
        let (_, minute) = SlidingWindow.take(nil, now: 1_000_000, requests: 2, window: 60)
        let (decision, fresh) = SlidingWindow.take(minute, now: 1_000_001, requests: 2, window: 120)
        #expect(decision.allowed && decision.remaining == 1)
        #expect(fresh.counts == [1])
    }
}

final class ManualClock: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 1_000_000.0
    var now: Double { lock.withLock { value } }
    func advance(_ seconds: Double) { lock.withLock { value += seconds } }
}
