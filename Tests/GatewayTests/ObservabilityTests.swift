import Foundation
import Hummingbird
import HummingbirdTesting
import NIOConcurrencyHelpers
import Testing
@testable import GatewayCore

@Suite("Logs, metrics and the OpenAPI document")
struct ObservabilityTests {
    @Test func oneJSONLogLinePerRequest() async throws {
        let lines = NIOLockedValueBox<[String]>([])
        var configuration = try TestEnvironment.configuration()
        configuration.accessLog = AccessLog { line in lines.withLockedValue { $0.append(line) } }
        let app = try await buildApplication(configuration)
        let token = TestEnvironment.token(sub: "7d0f5c1e-1111-4222-8333-444455556666")
        try await app.test(.router) { client in
            try await client.execute(uri: "/api/v1/test/typed?n=4", method: .get, headers: [.authorization: "Bearer \(token)", .requestID: "trace-42"]) { response in
                #expect(response.headers[.requestID] == "trace-42")
                #expect(response.headers[.serverTiming]?.contains("db;dur=") == true)
                #expect(response.headers[.apiVersion] == "1")
            }
        }
        let line = try #require(lines.withLockedValue { $0 }.first { $0.contains("trace-42") })
        let entry = try JSONValue.parse(Data(line.utf8))
        #expect(entry[["method"]] == "GET")
        #expect(entry[["path"]] == "/api/v1/test/typed")
        #expect(entry[["route"]] == "GET /api/v1/test/typed")
        #expect(entry[["status_code"]] == .number(200))
        #expect(entry[["user_id"]] == "7d0f5c1e-1111-4222-8333-444455556666")
        #expect(entry[["cache_hit"]] == .bool(false))
        #expect(entry[["response_time_ms"]]?.numberValue != nil)
        #expect(entry[["timestamp"]]?.stringValue?.hasSuffix("Z") == true)
        #expect(!line.contains("\n"))
        #expect(entry.text == line, "compact, keys in alphabetical order: the line is its own canonical JSON")
        #expect(entry[["db_time_ms"]]?.numberValue != nil)
        #expect(entry[["level"]] == "info")
    }

    @Test func aLogLineEscapesWhatItQuotes() throws {
        let lines = NIOLockedValueBox<[String]>([])
        let log = AccessLog { line in lines.withLockedValue { $0.append(line) } }
        let request = Request(head: .init(method: .get, scheme: "http", authority: "x", path: "/a\"b\\c"), body: .init(buffer: .init()))
        var report = RequestReport.Values()
        report.requestID = "id"
        log.write(request: request, status: 500, seconds: 0.0123456, report: report, route: "unmatched", cause: "line one\nline \"two\"")
        let line = try #require(lines.withLockedValue { $0 }.first)
        let entry = try JSONValue.parse(Data(line.utf8))
        #expect(entry.text == line)
        #expect(entry[["path"]] == "/a\"b\\c")
        #expect(entry[["error_detail"]] == "line one\nline \"two\"")
        #expect(entry[["level"]] == "error")
        #expect(entry[["response_time_ms"]] == 12.35)
        #expect(entry[["user_id"]] == .null)
    }

    @Test func metricsArePrometheusText() async throws {
        let app = try await buildApplication(TestEnvironment.configuration())
        try await app.test(.router) { client in
            _ = try await client.execute(uri: "/api/v1/test/whoami", method: .get)
            try await client.execute(uri: "/metrics", method: .get, headers: .metrics) { response in
                #expect(response.headers[.contentType] == "text/plain; version=0.0.4")
                #expect(response.text.contains(#"gateway_requests_total{method="GET",route="GET /api/v1/test/whoami",status="200"} 1"#))
                #expect(response.text.contains(#"gateway_request_duration_seconds_bucket{route="GET /api/v1/test/whoami",le="+Inf"} 1"#))
                #expect(response.text.contains("gateway_database_calls_in_flight 0"))
            }
        }
    }

    @Test func openAPIDocumentIsValidAndDescribesTheCatalog() async throws {
        let app = try await buildApplication(TestEnvironment.configuration())
        try await app.test(.router) { client in
            let response = try await client.execute(uri: "/api/openapi.json", method: .get)
            #expect(response.status == .ok)
            let document = try #require(response.json)
            #expect(document[["openapi"]] == "3.1.0")
            let typed = try #require(document[["paths", "/api/v1/test/typed", "get"]])
            #expect(typed[["summary"]] == "Typed parameters")
            #expect(typed[["security"]] == .array([.object(["bearerAuth": .array([])])]))
            guard case .array(let parameters)? = typed[["parameters"]] else { Issue.record("no parameters"); return }
            #expect(parameters.contains(.object(["name": "n", "in": "query", "required": .bool(true), "schema": .object(["type": "integer"])])))
            #expect(document[["paths", "/api/v1/test/items/{item_id}", "get", "parameters"]] ==
                    .array([.object(["name": "item_id", "in": "path", "required": .bool(true), "schema": .object(["type": "integer"])])]))

            let file = FileManager.default.temporaryDirectory.appendingPathComponent("openapi-\(UUID().uuidString).json")
            try Data(buffer: response.body).write(to: file)
            defer { try? FileManager.default.removeItem(at: file) }
            let (status, said) = try await TestEnvironment.run(["python3", "-m", "openapi_spec_validator", file.path])
            #expect(status == 0, "openapi-spec-validator: \(said)")

            try await client.execute(uri: "/api/docs", method: .get) { page in
                #expect(page.headers[.contentType] == "text/html; charset=utf-8")
                #expect(page.text.contains("/api/openapi.json"))
                #expect(!page.text.contains("https://"))
            }
        }
    }

    @Test func requestIDsAreDistinctVersion4UUIDs() throws {
        let ids = (0..<50_000).map { _ in RequestID.next() }
        #expect(Set(ids).count == ids.count)
        for id in ids.prefix(1000) {
            let uuid = try #require(UUID(uuidString: id), "\(id) is a UUID")
            #expect(uuid.uuidString.lowercased() == id, "lowercase, 8-4-4-4-12")
            #expect(Array(id)[14] == "4" && "89ab".contains(Array(id)[19]), "version 4, RFC 4122 variant: \(id)")
        }
        #expect(Set(ids.map { $0.prefix(8) }).count > 40_000, "consecutive ids do not share a visible prefix")
    }

    @Test func theRequestIDMixIsABijection() {
        // Distinct inputs in, distinct outputs out, over a run of consecutive counters.
        let outputs = Set((UInt64(0)..<100_000).map(RequestID.mix))
        #expect(outputs.count == 100_000)
        #expect(RequestID.format(0x0123_4567_89AB_CDEF, 0xFEDC_BA98_7654_3210) == "01234567-89ab-cdef-fedc-ba9876543210")
    }
}
