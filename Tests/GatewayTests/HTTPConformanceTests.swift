import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
@testable import GatewayCore

/// HTTP as clients and browsers speak it: HEAD, OPTIONS, CORS, forms' `+`, one value per
/// parameter, reads after one's own write, no PostgreSQL text, and the connection-level cases.
@Suite("HTTP conformance")
struct HTTPConformanceTests {
    @Test func headIsAGetWithoutItsBody() async throws {
        let app = try await buildApplication(TestEnvironment.configuration())
        try await app.test(.router) { client in
            let token = TestEnvironment.token()
            let get = try await client.execute(uri: "/api/v1/test/typed?n=3", method: .get, headers: .bearer(token))
            try await client.execute(uri: "/api/v1/test/typed?n=3", method: .head, headers: .bearer(token)) { response in
                #expect(response.status == .ok)
                #expect(response.body.readableBytes == 0)
                #expect(response.headers[.contentLength] == String(get.body.readableBytes))
                #expect(response.headers[.eTag] == get.headers[.eTag])
            }
        }
    }

    @Test func optionsSaysWhatThePathAllows() async throws {
        let app = try await buildApplication(TestEnvironment.configuration())
        try await app.test(.router) { client in
            try await client.execute(uri: "/api/v1/test/typed", method: .options) { response in
                #expect(response.status == .noContent)
                #expect(response.headers[.allow] == "GET, HEAD, OPTIONS, POST")
            }
        }
    }

    @Test func corsIsOffUnlessOriginsAreConfigured() async throws {
        let closed = try await buildApplication(TestEnvironment.configuration())
        try await closed.test(.router) { client in
            try await client.execute(uri: "/api/v1/test/whoami", method: .get, headers: [.origin: "https://dash.example.com"]) { response in
                #expect(response.headers[.accessControlAllowOrigin] == nil)
            }
        }
        var configuration = try TestEnvironment.configuration()
        configuration.corsAllowedOrigins = ["https://dash.example.com"]
        let open = try await buildApplication(configuration)
        try await open.test(.router) { client in
            try await client.execute(uri: "/api/v1/test/typed", method: .options,
                                     headers: [.origin: "https://dash.example.com", .accessControlRequestMethod: "GET",
                                               .accessControlRequestHeaders: "authorization"]) { response in
                #expect(response.status == .noContent)
                #expect(response.headers[.accessControlAllowOrigin] == "https://dash.example.com")
                #expect(response.headers[.accessControlAllowHeaders]?.contains("Authorization") == true)
                #expect(response.headers[.accessControlAllowMethods]?.contains("GET") == true)
            }
            try await client.execute(uri: "/api/v1/test/whoami", method: .get, headers: [.origin: "https://dash.example.com"]) { response in
                #expect(response.headers[.accessControlAllowOrigin] == "https://dash.example.com")
                #expect(response.headers[values: .vary].contains("Origin"))
                #expect(response.headers[.accessControlExposeHeaders]?.contains("X-Request-Id") == true)
            }
            try await client.execute(uri: "/api/v1/test/whoami", method: .get, headers: [.origin: "https://evil.example.com"]) { response in
                #expect(response.headers[.accessControlAllowOrigin] == nil, "another origin is not allowed")
            }
        }
    }

    @Test func aPlusInTheQueryIsASpace() async throws {
        let app = try await buildApplication(TestEnvironment.configuration())
        try await app.test(.router) { client in
            try await client.execute(uri: "/api/v1/test/typed?n=1&label=Store+2", method: .get, headers: .bearer(TestEnvironment.token())) { response in
                #expect(response.json?[["label"]] == "Store 2")
            }
            try await client.execute(uri: "/api/v1/test/typed?n=1&label=a%2Bb", method: .get, headers: .bearer(TestEnvironment.token())) { response in
                #expect(response.json?[["label"]] == "a+b", "an escaped plus stays a plus")
            }
            try await client.execute(uri: "/api/v1/test/typed?n=1&label=%E2%82", method: .get, headers: .bearer(TestEnvironment.token())) { response in
                #expect(response.status == .badRequest, "bytes that are not UTF-8")
            }
        }
    }

    @Test func aParameterGivenTwiceIsRefusedNotGuessed() async throws {
        let app = try await buildApplication(TestEnvironment.configuration())
        try await app.test(.router) { client in
            try await client.execute(uri: "/api/v1/test/typed?n=1", method: .post, headers: TestEnvironment.token().jsonHeaders,
                                     body: ByteBuffer(string: #"{"n": 2}"#)) { response in
                #expect(response.status == .badRequest)
                #expect(response.json?[["details", "errors"]] == .array([.object(["parameter": "n", "message": "given more than once (in the path, the query and the body together)"])]))
            }
            try await client.execute(uri: "/api/v1/test/typed?n=1&n=2", method: .get, headers: .bearer(TestEnvironment.token())) { response in
                #expect(response.status == .badRequest, "two values for a scalar")
            }
            try await client.execute(uri: "/api/v1/test/typed?n=1&tags=a&tags=b", method: .get, headers: .bearer(TestEnvironment.token())) { response in
                #expect(response.json?[["tags"]] == .array(["a", "b"]), "an array parameter takes several")
            }
        }
    }

    @Test func aCallerReadsTheirOwnWriteAtOnceThoughTheAnswerIsCacheable() async throws {
        let app = try await buildApplication(TestEnvironment.configuration())
        let token = TestEnvironment.token()
        try await app.test(.router) { client in
            #expect(try await client.execute(uri: "/api/v1/test/notes", method: .get, headers: .bearer(token)).json?[["notes"]] == .number(0))
            try await client.execute(uri: "/api/v1/test/notes", method: .get, headers: .bearer(token)) { response in
                #expect(response.json?[["notes"]] == .number(0))  // from the cache
            }
            try await client.execute(uri: "/api/v1/test/notes", method: .post, headers: token.jsonHeaders, body: ByteBuffer(string: #"{"note": "hi"}"#)) { response in
                #expect(response.status == .ok)
            }
            try await client.execute(uri: "/api/v1/test/notes", method: .get, headers: .bearer(token)) { response in
                #expect(response.json?[["notes"]] == .number(1), "not the cached answer from before the write")
            }
        }
    }

    @Test func aNULByteIsA400NamingTheParameter() async throws {
        let app = try await buildApplication(TestEnvironment.configuration())
        try await app.test(.router) { client in
            try await client.execute(uri: "/api/v1/test/typed?n=1&label=a%00b", method: .get, headers: .bearer(TestEnvironment.token())) { response in
                #expect(response.status == .badRequest)
                #expect(response.json?[["details", "errors"]] == .array([.object(["parameter": "label", "message": "text must not contain NUL characters"])]))
            }
            try await client.execute(uri: "/api/v1/test/typed", method: .post, headers: TestEnvironment.token().jsonHeaders,
                                     body: ByteBuffer(string: #"{"n": 1, "doc": {"a": ["\u0000"]}}"#)) { response in
                #expect(response.status == .badRequest)
            }
            try await client.execute(uri: "/api/v1/auth/login/json", method: .post, headers: [.contentType: "application/json"],
                                     body: ByteBuffer(string: #"{"email": "a\u0000@x.example", "password": "p"}"#)) { response in
                #expect(response.status != .internalServerError)
            }
        }
    }

    @Test func postgresqlsOwnTextNeverReachesTheClient() async throws {
        let app = try await buildApplication(TestEnvironment.configuration())
        try await app.test(.router) { client in
            try await client.execute(uri: "/api/v1/test/cast?value=one", method: .get, headers: .bearer(TestEnvironment.token())) { response in
                #expect(response.status == .badRequest)
                #expect(response.json?[["message"]] == "A value in the request is not acceptable here")
                #expect(!response.text.contains("interval") && !response.text.contains("syntax"), "nothing of PostgreSQL's message")
            }
            try await client.execute(uri: "/api/v1/test/items/409", method: .get, headers: .bearer(TestEnvironment.token())) { response in
                #expect(response.status == .conflict)
                #expect(response.json?[["message"]] == "duplicate", "what the project's SQL raised on purpose keeps its words")
            }
        }
    }

    @Test func theServiceRoleIsRefusedByTheGatewayWhereTheDatabaseWouldRefuseIt() async throws {
        let app = try await buildApplication(TestEnvironment.configuration())
        try await app.test(.router) { client in
            try await client.execute(uri: "/api/v1/test/members", method: .get, headers: .bearer(TestEnvironment.token(role: "service_role"))) { response in
                #expect(response.status == .forbidden)
                #expect(response.json?[["message"]] == "This endpoint is not open to the service_role role")
            }
            try await client.execute(uri: "/api/v1/test/members", method: .get, headers: .bearer(TestEnvironment.token())) { response in
                #expect(response.status == .ok)
            }
        }
        let roles = try await TestEnvironment.psql("select r -> 'roles' from jsonb_array_elements(gateway.catalog()) r where r ->> 'path' = '/api/v1/test/members'")
        #expect(roles == #"["authenticated"]"#)
    }

    @Test func metricsNeedTheTokenFromAnotherHost() async throws {
        let app = try await buildApplication(TestEnvironment.configuration())
        try await app.test(.router) { client in
            let anonymous = try await client.execute(uri: "/metrics", method: .get)
            let wrong = try await client.execute(uri: "/metrics", method: .get, headers: .bearer("wrong"))
            let right = try await client.execute(uri: "/metrics", method: .get, headers: .metrics)
            #expect(anonymous.status == .unauthorized)
            #expect(wrong.status == .unauthorized)
            #expect(right.status == .ok)
        }
    }

    @Test func aUnitsDocsPathServesTheDocsPage() async throws {
        let app = try await buildApplication(TestEnvironment.configuration())
        try await app.test(.router) { client in
            try await client.execute(uri: "/test-docs", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "text/html; charset=utf-8")
                #expect(response.text.contains("/api/openapi.json"))
            }
        }
    }

    /// Over real TCP: what the decoder does with an upgrade request and with oversized headers.
    @Test func anUpgradeRequestDoesNotHangTheNextAndHugeHeadersAreA431() async throws {
        let app = try await buildApplication(TestEnvironment.configuration())
        try await app.test(.live) { client in
            let port = try #require(client.port)
            let base = "http://127.0.0.1:\(port)"
            // curl --http2 on http:// asks to upgrade; the second URL reuses the connection if it can.
            let (status, output) = try await TestEnvironment.run([
                "curl", "-s", "--http2", "--max-time", "5", "-o", "/dev/null", "-o", "/dev/null", "-w", "%{http_code}\n",
                "\(base)/health", "\(base)/health",
            ])
            #expect(status == 0, "curl exit \(status): \(output)")
            #expect(output.split(separator: "\n") == ["200", "200"])
            let big = String(repeating: "x", count: 90 * 1024)
            let (_, answer) = try await TestEnvironment.run([
                "curl", "-s", "--max-time", "5", "-H", "X-Big: \(big)", "-w", "\n%{http_code}", "\(base)/health",
            ])
            let lines = answer.split(separator: "\n")
            #expect(lines.last == "431")
            #expect(lines.first?.contains(#""status":431"#) == true, "a problem body: \(answer.prefix(200))")
        }
    }
}

extension String {
    /// A bearer token and a JSON body.
    var jsonHeaders: HTTPFields { [.authorization: "Bearer \(self)", .contentType: "application/json"] }
}
