import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
@testable import GatewayCore

@Suite("Caching and errors")
struct CachingAndErrorTests {
    @Test func aMatchingETagGets304() async throws {
        let app = try await buildApplication(TestEnvironment.configuration())
        let token = TestEnvironment.token()
        try await app.test(.router) { client in
            let first = try await client.execute(uri: "/api/v1/test/typed?n=1", method: .get, headers: .bearer(token))
            #expect(first.headers[.cacheControl] == "private, max-age=300, stale-while-revalidate=60")
            #expect(first.headers[.vary] == "Authorization")
            let tag = try #require(first.headers[.eTag])
            #expect(tag.hasPrefix("W/\""))
            try await client.execute(uri: "/api/v1/test/typed?n=1", method: .get, headers: [.authorization: "Bearer \(token)", .ifNoneMatch: "\"other\", \(tag)"]) { response in
                #expect(response.status == .notModified)
                #expect(response.body.readableBytes == 0)
                #expect(response.headers[.eTag] == tag)
            }
            try await client.execute(uri: "/api/v1/test/typed?n=2", method: .get, headers: [.authorization: "Bearer \(token)", .ifNoneMatch: tag]) { response in
                #expect(response.status == .ok)
            }
            try await client.execute(uri: "/metrics", method: .get, headers: .metrics) { response in
                #expect(response.text.contains(#"gateway_not_modified_total{route="GET /api/v1/test/typed"} 1"#))
            }
        }
    }

    @Test func theResponseCacheServesOnlyTheSameCaller() async throws {
        // A TTL no busy machine outlasts between these calls (the route's max-age still caps it).
        var cached = try TestEnvironment.configuration()
        cached.responseCacheTTL = .seconds(300)
        let app = try await buildApplication(cached)
        let alice = TestEnvironment.token(), bob = TestEnvironment.token()
        try await app.test(.router) { client in
            for token in [alice, alice, bob, alice] {
                try await client.execute(uri: "/api/v1/test/typed?n=5", method: .get, headers: .bearer(token)) { response in
                    #expect(response.status == .ok)
                    #expect(response.json?[["n"]] == .number(5))
                }
            }
            // A different argument is a different answer.
            try await client.execute(uri: "/api/v1/test/typed?n=6", method: .get, headers: .bearer(alice)) { response in
                #expect(response.json?[["n"]] == .number(6))
            }
            // Alice's second and fourth calls came from memory; Bob's first did not.
            try await client.execute(uri: "/metrics", method: .get, headers: .metrics) { response in
                #expect(response.text.contains(#"gateway_response_cache_hits_total{route="GET /api/v1/test/typed"} 2"#))
            }
        }
        var configuration = try TestEnvironment.configuration()
        configuration.responseCacheTTL = nil
        let uncached = try await buildApplication(configuration)
        try await uncached.test(.router) { client in
            for _ in 0..<2 { _ = try await client.execute(uri: "/api/v1/test/typed?n=5", method: .get, headers: .bearer(alice)) }
            try await client.execute(uri: "/metrics", method: .get, headers: .metrics) { response in
                #expect(!response.text.contains("gateway_response_cache_hits_total{"))
            }
        }
    }

    @Test func everyErrorIsProblemJSON() async throws {
        let app = try await buildApplication(TestEnvironment.configuration())
        let token = TestEnvironment.token()
        let expectations: [(String, HTTPResponse.Status, String)] = [
            ("/api/v1/test/items/404", .notFound, "NOT_FOUND"),
            ("/api/v1/test/items/409", .conflict, "CONFLICT"),
            ("/api/v1/test/items/422", .unprocessableContent, "UNPROCESSABLE_ENTITY"),
            ("/api/v1/test/items/500", .internalServerError, "DATABASE_ERROR"),
            ("/api/v1/test/items/504", .gatewayTimeout, "TIMEOUT"),
            ("/no/such/path", .notFound, "NOT_FOUND"),
        ]
        try await app.test(.router) { client in
            for (uri, status, code) in expectations {
                try await client.execute(uri: uri, method: .get, headers: .bearer(token)) { response in
                    #expect(response.status == status, "\(uri)")
                    #expect(response.problemCode == code, "\(uri)")
                    let body = try #require(response.json)
                    #expect(body[["status"]] == .number(Double(status.code)))
                    #expect(body[["type"]]?.stringValue?.hasPrefix("/problems/") == true)
                    #expect(body[["instance"]] == .string(uri))
                    #expect(body[["request_id"]]?.stringValue == response.headers[.requestID])
                    // Never SQL text in a 5xx.
                    #expect(!response.text.contains("select"), "\(uri)")
                    #expect(!response.text.contains("hidden_table"), "\(uri)")
                }
            }
            try await client.execute(uri: "/api/v1/test/items/40", method: .get, headers: .bearer(token)) { response in
                #expect(response.status == .conflict)
                #expect(response.problemCode == "CONFLICT")
                #expect(response.headers[.retryAfter] == "1", "a deadlock's loser may simply send it again")
                #expect(response.json?[["details"]] == nil)
                #expect(!response.text.contains("Process"), "PostgreSQL's detail stays in the log")
            }
            try await client.execute(uri: "/api/v1/test/items/422", method: .get, headers: .bearer(token)) { response in
                #expect(response.json?[["details"]] == .object(["node": "n7"]))
                #expect(response.json?[["message"]] == "tree invalid")
            }
            let big = ByteBuffer(string: "{\"name\": \"" + String(repeating: "x", count: 5 << 20) + "\"}")
            try await client.execute(uri: "/api/v1/test/things", method: .post, headers: [.authorization: "Bearer \(token)", .contentType: "application/json"], body: big) { response in
                #expect(response.status == .contentTooLarge)
                #expect(response.problemCode == "PAYLOAD_TOO_LARGE")
            }
        }
    }
}
