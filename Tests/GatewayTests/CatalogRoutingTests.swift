import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
@testable import GatewayCore

@Suite("Routes come from the SQL catalog")
struct CatalogRoutingTests {
    @Test func aRouteAddedOnlyInSQLIsServedAfterTheReload() async throws {
        let name = "added_\(UUID().uuidString.prefix(8).lowercased())"
        let app = try await buildApplication(TestEnvironment.configuration())
        try await app.test(.router) { client in
            try await client.execute(uri: "/api/v1/\(name)?days=3", method: .get, headers: .bearer(TestEnvironment.token())) { response in
                #expect(response.status == .notFound)
            }
            try await TestEnvironment.psql("""
                create function api.\(name)(days integer) returns jsonb language sql stable as $$ select jsonb_build_object('days', days) $$;
                grant execute on function api.\(name)(integer) to authenticated;
                insert into gateway.routes (method, path, function_name, unit) values ('GET', '/api/v1/\(name)', '\(name)', 'tests');
                """)
            var served: TestResponse?
            for _ in 0..<50 {
                let response = try await client.execute(uri: "/api/v1/\(name)?days=3", method: .get, headers: .bearer(TestEnvironment.token()))
                if response.status == .ok { served = response; break }
                try await Task.sleep(for: .milliseconds(100))
            }
            let response = try #require(served, "the NOTIFY reload never served the new route")
            #expect(response.json == .object(["days": .number(3)]))
            try await client.execute(uri: "/api/v1/\(name)?days=three", method: .get, headers: .bearer(TestEnvironment.token())) { response in
                #expect(response.status == .badRequest)
                #expect(response.problemCode == "VALIDATION_ERROR")
                #expect(response.json?[["details"]] == .object(["errors": .array([.object(["parameter": "days", "message": "expected an integer"])])]))
            }
        }
        try await TestEnvironment.psql("delete from gateway.routes where function_name = '\(name)'; drop function api.\(name);")
    }

    @Test func typedQueryParametersReachTheFunction() async throws {
        let app = try await buildApplication(TestEnvironment.configuration())
        let uri = "/api/v1/test/typed?n=7&ratio=2.5&flag=true&id=6f1c1b2a-1111-4222-8333-444455556666&day=2025-10-14&at=2025-10-14T17:00:00Z&tags=a&tags=b%20c&label=x%26y"
        try await app.test(.router) { client in
            try await client.execute(uri: uri, method: .get, headers: .bearer(TestEnvironment.token())) { response in
                #expect(response.status == .ok)
                let body = try #require(response.json)
                #expect(body[["n"]] == .number(7))
                #expect(body[["ratio"]] == .number(2.5))
                #expect(body[["flag"]] == .bool(true))
                #expect(body[["day"]] == "2025-10-14")
                #expect(body[["at"]] == "2025-10-14T17:00:00+00:00")
                #expect(body[["tags"]] == .array(["a", "b c"]))
                #expect(body[["label"]] == "x&y")
            }
        }
    }

    @Test func badlyTypedParametersAreRefusedBeforeTheDatabase() async throws {
        let app = try await buildApplication(TestEnvironment.configuration())
        try await app.test(.router) { client in
            let cases = ["n=1.5", "n=99999999999", "n=1&flag=yes", "n=1&id=nope", "n=1&day=2025-02-30", "n=1&at=yesterday", "n=1&ratio=NaN", "n=1&unknown=1", "ratio=2"]
            for query in cases {
                try await client.execute(uri: "/api/v1/test/typed?\(query)", method: .get, headers: .bearer(TestEnvironment.token())) { response in
                    #expect(response.status == .badRequest, "\(query)")
                    #expect(response.problemCode == "VALIDATION_ERROR", "\(query)")
                }
            }
        }
    }

    @Test func jsonBodiesBindByName() async throws {
        let app = try await buildApplication(TestEnvironment.configuration())
        try await app.test(.router) { client in
            let body = #"{"n": 3, "tags": ["x"], "doc": {"deep": [1, 2]}, "flag": false}"#
            try await client.execute(uri: "/api/test/typed", method: .post, headers: [.authorization: "Bearer \(TestEnvironment.token())", .contentType: "application/json"],
                                     body: ByteBuffer(string: body)) { response in
                #expect(response.status == .ok)
                #expect(response.json?[["doc"]] == .object(["deep": .array([.number(1), .number(2)])]))
                #expect(response.json?[["tags"]] == .array(["x"]))
                #expect(response.headers[.cacheControl] == "no-store")
            }
            for bad in ["[1, 2]", "{not json", #"{"n": {"x": 1}}"#] {
                try await client.execute(uri: "/api/v1/test/typed", method: .post, headers: [.authorization: "Bearer \(TestEnvironment.token())", .contentType: "application/json"],
                                         body: ByteBuffer(string: bad)) { response in
                    #expect(response.status == .badRequest, "\(bad)")
                }
            }
            try await client.execute(uri: "/api/v1/test/typed", method: .post, headers: [.authorization: "Bearer \(TestEnvironment.token())", .contentType: "text/plain"],
                                     body: ByteBuffer(string: "n=1")) { response in
                #expect(response.status == .unsupportedMediaType)
                #expect(response.problemCode == "UNSUPPORTED_MEDIA_TYPE")
            }
        }
    }

    @Test func functionsSetStatusAndHeaders() async throws {
        let app = try await buildApplication(TestEnvironment.configuration())
        try await app.test(.router) { client in
            try await client.execute(uri: "/api/v1/test/things", method: .post, headers: [.authorization: "Bearer \(TestEnvironment.token())", .contentType: "application/x-www-form-urlencoded"],
                                     body: ByteBuffer(string: "name=widget+one")) { response in
                #expect(response.status == .created)
                #expect(response.headers[.location] == "/api/v1/test/things/widget one")
                #expect(response.json == .object(["name": "widget one"]))
                // A function cannot take over framing headers.
                #expect(response.headers[.contentLength] != "1")
            }
        }
    }

    @Test func pathParametersAliasesAndMethods() async throws {
        let app = try await buildApplication(TestEnvironment.configuration())
        try await app.test(.router) { client in
            for path in ["/api/v1/test/items/12", "/api/test/items/12"] {
                try await client.execute(uri: path, method: .get, headers: .bearer(TestEnvironment.token())) { response in
                    #expect(response.status == .ok)
                    #expect(response.json == .object(["id": .number(12)]))
                    #expect(response.headers[.apiVersion] == "1")
                }
            }
            try await client.execute(uri: "/api/v1/test/items/abc", method: .get, headers: .bearer(TestEnvironment.token())) { response in
                #expect(response.status == .badRequest)
            }
            try await client.execute(uri: "/api/v1/test/items/12", method: .delete, headers: .bearer(TestEnvironment.token())) { response in
                #expect(response.status == .methodNotAllowed)
                #expect(response.headers[.allow] == "GET, HEAD, OPTIONS")
                #expect(response.problemCode == "METHOD_NOT_ALLOWED")
            }
            try await client.execute(uri: "/api/v1/test/rows", method: .get, headers: .bearer(TestEnvironment.token())) { response in
                #expect(response.json == .array([.object(["id": .number(1), "name": "a"]), .object(["id": .number(2), "name": "b"])]))
            }
        }
    }

    @Test func anExportRunsAsTheCallerWithItsOwnStatementTimeout() async throws {
        var configuration = try TestEnvironment.configuration()
        configuration.exportTimeout = .seconds(7)
        let app = try await buildApplication(configuration)
        try await app.test(.router) { client in
            try await client.execute(uri: "/api/v1/test/stream-session?format=ndjson", method: .get, headers: .bearer(TestEnvironment.token())) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "application/x-ndjson")
                let lines = String(buffer: response.body).split(separator: "\n").map { String($0) }
                #expect(lines == [
                    #"{"name":"statement_timeout","value":"7s"}"#,
                    #"{"name":"role","value":"authenticated"}"#,
                    #"{"name":"read_only","value":"on"}"#,
                ], "not the request timeout (15 s), which would cut a slow client's export short")
            }
            try await client.execute(uri: "/api/v1/test/stream-session?format=xml", method: .get, headers: .bearer(TestEnvironment.token())) { response in
                #expect(response.status == .badRequest)
            }
        }
    }

    @Test func getRunsReadOnly() async throws {
        let app = try await buildApplication(TestEnvironment.configuration())
        try await app.test(.router) { client in
            try await client.execute(uri: "/api/v1/test/whoami", method: .get) { response in
                #expect(response.json?[["read_only"]] == "on")
            }
            try await client.execute(uri: "/api/v1/test/write", method: .get, headers: .bearer(TestEnvironment.token())) { response in
                #expect(response.status == .methodNotAllowed)
                #expect(response.problemCode == "METHOD_NOT_ALLOWED")
            }
        }
    }
}
