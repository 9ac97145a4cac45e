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
            #expect((1...30).contains(retryAfter))
            #expect(refused.json?[["retry_after"]] == .number(Double(retryAfter)))
            #expect(refused.json?[["limit"]] == .number(2))
            #expect(refused.json?[["window"]] == .number(60))
            #expect(refused.headers[.rateLimit]?.hasPrefix(#""test-minute";r=0;t="#) == true)
            #expect(refused.json?[["error"]] == "Too Many Requests")
            // Another caller has a bucket of their own.
            try await client.execute(uri: "/api/v1/test/limited", method: .get, headers: .bearer(TestEnvironment.token())) { response in
                #expect(response.status == .ok)
            }
            try await client.execute(uri: "/metrics", method: .get) { response in
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

    /// The bucket refills at requests/window: once Retry-After has passed, the caller is let in.
    @Test func theMemoryBucketRefillsAfterRetryAfter() async throws {
        let clock = ManualClock()
        let store = MemoryRateLimitStore(now: { clock.now })
        #expect(try await store.take(bucket: "b", requests: 2, windowSeconds: 60).allowed)
        #expect(try await store.take(bucket: "b", requests: 2, windowSeconds: 60).allowed)
        let refused = try await store.take(bucket: "b", requests: 2, windowSeconds: 60)
        #expect(!refused.allowed)
        #expect(refused.retryAfter == 30)
        clock.advance(29.9)
        #expect(try await !store.take(bucket: "b", requests: 2, windowSeconds: 60).allowed)
        clock.advance(0.2)
        let again = try await store.take(bucket: "b", requests: 2, windowSeconds: 60)
        #expect(again.allowed)
        #expect(again.remaining == 0)
    }

    @Test func gcraAllowsTheBurstThenOneRequestPerInterval() {
        var tat: Double? = nil
        var allowed = 0
        for _ in 0..<10 {
            let (decision, next) = GCRA.take(tat: tat, now: 100, requests: 60, window: 60)
            if decision.allowed { allowed += 1 }
            tat = next
        }
        #expect(allowed == 10)
        var burst = 0
        tat = nil
        for _ in 0..<100 {
            let (decision, next) = GCRA.take(tat: tat, now: 100, requests: 60, window: 60)
            if decision.allowed { burst += 1 }
            tat = next
        }
        #expect(burst == 60)
        let (later, _) = GCRA.take(tat: tat, now: 101, requests: 60, window: 60)
        #expect(later.allowed)
    }
}

final class ManualClock: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 1_000_000.0
    var now: Double { lock.withLock { value } }
    func advance(_ seconds: Double) { lock.withLock { value += seconds } }
}
