import NIOConcurrencyHelpers
import Testing
@testable import GatewayCore

@Suite("Response cache")
struct ResponseCacheTests {
    @Test func concurrentMissesShareOneCall() async throws {
        let cache = ResponseCache(ttl: .seconds(5))
        let calls = NIOLockedValueBox(0)
        let load: @Sendable () async throws -> Invoker.Result = {
            calls.withLockedValue { $0 += 1 }
            try await Task.sleep(for: .milliseconds(200))
            return Invoker.Result(body: "[1]", status: nil, headers: nil)
        }
        let answers = try await withThrowingTaskGroup(of: (Invoker.Result, Bool).self) { group in
            for _ in 0..<10 { group.addTask { let a = try await cache.answer("k", maxAge: 60, load: load); return (a.result, a.fromCache) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(calls.withLockedValue { $0 } == 1, "ten callers missing together send one query")
        #expect(answers.allSatisfy { $0.0.body == "[1]" })
        #expect(answers.filter { !$0.1 }.count == 1, "one caller ran it; the others shared it")
        _ = try await cache.answer("k", maxAge: 60, load: load)
        #expect(calls.withLockedValue { $0 } == 1, "then the answer is cached")
    }

    @Test func errorsAreNotCached() async throws {
        let cache = ResponseCache(ttl: .seconds(5))
        let calls = NIOLockedValueBox(0)
        let load: @Sendable () async throws -> Invoker.Result = {
            calls.withLockedValue { $0 += 1 }
            return Invoker.Result(body: #"{"code":"X"}"#, status: 409, headers: nil)
        }
        _ = try await cache.answer("k", maxAge: 60, load: load)
        _ = try await cache.answer("k", maxAge: 60, load: load)
        #expect(calls.withLockedValue { $0 } == 2)
    }
}
