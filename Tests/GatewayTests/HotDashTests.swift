import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
@testable import GatewayCore

/// The Hot Dash endpoints over HTTP against the real database (Tests/fixtures/hotdash.sql: shop A
/// with anomalies, shop B).
@Suite("Hot Dash")
struct HotDashTests {
    static let shopA = "eeeeeeee-0000-4000-8000-00000000000e"
    static let shopB = "ffffffff-0000-4000-8000-00000000000f"
    static let endpoints = ["dashboard/summary", "dashboard/trends", "dashboard/anomalies", "agent/queue",
                            "agent/accuracy", "agent/quality", "agent/summary"]
    static let export = "/api/analytics/export/training-data"

    func member(_ account: String = shopA) -> String { TestEnvironment.token(account: account) }
    func service(_ account: String = shopA) -> String { TestEnvironment.token(role: "service_role", sub: nil, account: account) }

    @Test func everyEndpointNeedsAToken() async throws {
        let app = try await buildApplication(TestEnvironment.configuration())
        try await app.test(.router) { client in
            for path in Self.endpoints {
                for prefix in ["/api/analytics/", "/api/v1/analytics/"] {
                    try await client.execute(uri: prefix + path, method: .get) { response in
                        #expect(response.status == .unauthorized, "\(prefix)\(path)")
                        #expect(response.problemCode == "AUTH_REQUIRED")
                        #expect(response.json?[["message"]] == "Valid Supabase JWT required", "the spec's words")
                        #expect(response.json?[["error"]] == "Unauthorized")
                        #expect(response.headers[.wwwAuthenticate]?.hasPrefix("Bearer") == true)
                    }
                }
            }
            try await client.execute(uri: Self.export, method: .post) { response in
                #expect(response.status == .unauthorized)
                #expect(response.problemCode == "AUTH_REQUIRED")
            }
        }
    }

    @Test func summaryHasEveryFieldWithItsCachingAndRateLimit() async throws {
        let app = try await buildApplication(TestEnvironment.configuration())
        try await app.test(.router) { client in
            try await client.execute(uri: "/api/analytics/dashboard/summary", method: .get, headers: .bearer(member())) { response in
                #expect(response.status == .ok)
                guard case .object(let body)? = response.json else { Issue.record("not an object: \(response.text)"); return }
                #expect(Set(body.keys) == ["orders_last_hour", "revenue_last_hour", "orders_last_24h", "revenue_last_24h",
                                           "avg_order_value_24h", "orders_prev_24h", "revenue_prev_24h", "fulfillment_rate_24h",
                                           "orders_pending_24h", "new_customers_24h", "active_customers_24h",
                                           "returning_customers_24h", "last_updated"])
                #expect((body["orders_last_24h"]?.numberValue ?? 0) > 0)
                #expect(response.headers[.cacheControl] == "private, max-age=300, stale-while-revalidate=60")
                #expect(response.headers[.rateLimitPolicy] == "\"hotdash-dashboard\";q=60;w=60")
                #expect(response.headers[.apiVersion] == "1")
            }
        }
    }

    @Test func trendsRespectHoursAndRefuseBadOnes() async throws {
        let app = try await buildApplication(TestEnvironment.configuration())
        try await app.test(.router) { client in
            try await client.execute(uri: "/api/analytics/dashboard/trends?hours=48", method: .get, headers: .bearer(member())) { response in
                #expect(response.status == .ok)
                guard case .array(let rows)? = response.json else { Issue.record("not an array"); return }
                #expect(rows.count <= 48 && rows.count > 0)
                #expect(rows.first?[["hour_start"]] != nil)
                #expect(response.headers[.cacheControl] == "private, max-age=900, stale-while-revalidate=60")
            }
            for hours in ["0", "169", "-1", "abc", "1.5"] {
                try await client.execute(uri: "/api/v1/analytics/dashboard/trends?hours=\(hours)", method: .get, headers: .bearer(member())) { response in
                    #expect(response.status == .badRequest, "hours=\(hours)")
                    #expect(response.problemCode == "VALIDATION_ERROR")
                    #expect(response.json?[["details", "errors"]] != nil, "hours=\(hours): details name the parameter")
                    #expect(!response.text.contains("select"))
                }
            }
        }
    }

    @Test func anomaliesComeMostSevereFirst() async throws {
        let app = try await buildApplication(TestEnvironment.configuration())
        try await app.test(.router) { client in
            try await client.execute(uri: "/api/analytics/dashboard/anomalies", method: .get, headers: .bearer(member())) { response in
                #expect(response.status == .ok)
                guard case .array(let rows)? = response.json else { Issue.record("not an array"); return }
                #expect(!rows.isEmpty, "the fixture plants anomalies in shop A")
                let ranks = rows.compactMap { ["critical": 0, "high": 1, "medium": 2][$0[["severity"]]?.stringValue ?? ""] }
                #expect(ranks.count == rows.count)
                #expect(ranks == ranks.sorted())
            }
        }
    }

    @Test func agentMetricsValidateTheirParameters() async throws {
        let app = try await buildApplication(TestEnvironment.configuration())
        try await app.test(.router) { client in
            let good = ["/api/analytics/agent/queue?groupBy=hour&days=2", "/api/analytics/agent/queue",
                        "/api/analytics/agent/accuracy?days=30&agent=returns", "/api/analytics/agent/quality?days=1"]
            for uri in good {
                try await client.execute(uri: uri, method: .get, headers: .bearer(member())) { response in
                    #expect(response.status == .ok, "\(uri)")
                    guard case .array(let rows)? = response.json else { Issue.record("\(uri): not an array"); return }
                    #expect(!rows.isEmpty, "\(uri)")
                    #expect(response.headers[.rateLimitPolicy] == "\"hotdash-agent\";q=60;w=60")
                }
            }
            try await client.execute(uri: "/api/analytics/agent/accuracy?agent=returns", method: .get, headers: .bearer(member())) { response in
                guard case .array(let rows)? = response.json else { Issue.record("not an array"); return }
                #expect(rows.allSatisfy { $0[["agent_type"]] == "returns" })
            }
            let bad = ["/api/analytics/agent/queue?groupBy=week", "/api/analytics/agent/queue?days=31",
                       "/api/analytics/agent/accuracy?days=0", "/api/analytics/agent/quality?days=x", "/api/analytics/agent/queue?weeks=2"]
            for uri in bad {
                try await client.execute(uri: uri, method: .get, headers: .bearer(member())) { response in
                    #expect(response.status == .badRequest, "\(uri)")
                    #expect(response.problemCode == "VALIDATION_ERROR", "\(uri)")
                }
            }
            try await client.execute(uri: "/api/analytics/agent/summary", method: .get, headers: .bearer(member())) { response in
                #expect(response.status == .ok)
                #expect(response.json?[["time_period"]] == "last_24h")
            }
        }
    }

    @Test func shopsNeverSeeEachOther() async throws {
        let app = try await buildApplication(TestEnvironment.configuration())
        let expected = try await TestEnvironment.psql("""
            select orders_last_24h || ' ' || (select orders_last_24h from hotdash.dashboard_summary where account_id = '\(Self.shopB)')
              from hotdash.dashboard_summary where account_id = '\(Self.shopA)'
            """).split(separator: " ").map { Double($0)! }
        #expect(expected[0] != expected[1], "the fixture's shops differ")
        try await app.test(.router) { client in
            for (account, orders) in [(Self.shopA, expected[0]), (Self.shopB, expected[1])] {
                try await client.execute(uri: "/api/analytics/dashboard/summary", method: .get, headers: .bearer(member(account))) { response in
                    #expect(response.json?[["orders_last_24h"]] == .number(orders))
                }
            }
            // A token without an account reads nothing.
            try await client.execute(uri: "/api/analytics/dashboard/summary", method: .get, headers: .bearer(TestEnvironment.token())) { response in
                #expect(response.status == .forbidden)
                #expect(response.problemCode == "FORBIDDEN")
            }
        }
    }

    @Test func exportIsForTheServiceRoleAndRedacts() async throws {
        let app = try await buildApplication(TestEnvironment.configuration())
        try await app.test(.router) { client in
            try await client.execute(uri: Self.export, method: .post, headers: .bearer(TestEnvironment.token(account: Self.shopA, appRole: "admin"))) { response in
                #expect(response.status == .forbidden)
                #expect(response.problemCode == "FORBIDDEN")
            }
            var count = 0
            try await client.execute(uri: Self.export, method: .post, headers: [.authorization: "Bearer \(service())", .contentType: "application/json"],
                                     body: ByteBuffer(string: #"{"include_pii": false, "format": "json"}"#)) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "application/json")
                guard case .array(let rows)? = response.json else { Issue.record("not an array: \(response.text.prefix(200))"); return }
                count = rows.count
                #expect(count > 0)
                #expect(Set(rows.first?.objectKeys ?? []) == ["conversation_id", "input_text", "model_draft", "safe_to_send", "category",
                    "sentiment", "tone", "accuracy_score", "helpfulness_score", "tone_score", "notes", "confidence", "response_time_ms", "created_at"])
                #expect(rows.allSatisfy { row in
                    guard case .string(let at)? = row[["created_at"]] else { return false }
                    return at.range(of: #"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$"#, options: .regularExpression) != nil
                }, "timestamps as the spec prints them: UTC with a Z")
                #expect(!response.text.contains("@"), "no e-mail address survives")
                #expect(response.text.range(of: #"\d{3}-\d{3}-\d{4}"#, options: .regularExpression) == nil, "no phone number survives")
            }
            try await client.execute(uri: Self.export + "?format=ndjson", method: .post, headers: .bearer(service())) { response in
                #expect(response.headers[.contentType] == "application/x-ndjson")
                #expect(response.text.split(separator: "\n").count == count)
            }
            try await client.execute(uri: Self.export, method: .post, headers: [.authorization: "Bearer \(service())", .accept: "text/csv"]) { response in
                #expect(response.headers[.contentType] == "text/csv; charset=utf-8")
                let lines = response.text.components(separatedBy: "\r\n").filter { !$0.isEmpty }
                #expect(lines.first == "conversation_id,input_text,model_draft,safe_to_send,category,sentiment,tone,accuracy_score,helpfulness_score,tone_score,notes,confidence,response_time_ms,created_at")
                #expect(lines.count == count + 1)
                #expect(lines.dropFirst().allSatisfy { $0.hasSuffix("Z\"") }, "created_at ends in Z in csv too")
            }
            try await client.execute(uri: Self.export, method: .post, headers: [.authorization: "Bearer \(service())", .contentType: "application/json"],
                                     body: ByteBuffer(string: #"{"include_pii": true}"#)) { response in
                #expect(response.text.contains("@example.com"), "include_pii keeps the texts")
            }
            let bad = [#"{"format": "xml"}"#, #"{"date_from": "2025-10-14T00:00:00Z", "date_to": "2025-10-01T00:00:00Z"}"#,
                       #"{"date_from": "2020-01-01T00:00:00Z", "date_to": "2025-01-01T00:00:00Z"}"#, #"{"include_pii": "maybe"}"#]
            for body in bad {
                try await client.execute(uri: Self.export, method: .post, headers: [.authorization: "Bearer \(service())", .contentType: "application/json"],
                                         body: ByteBuffer(string: body)) { response in
                    #expect(response.status == .badRequest, "\(body)")
                    #expect(response.problemCode == "VALIDATION_ERROR", "\(body)")
                }
            }
            // Ten per hour: the requests above used eight (a refused one counts: it was asked).
            for _ in 0..<2 {
                try await client.execute(uri: Self.export, method: .post, headers: .bearer(service())) { response in
                    #expect(response.status == .ok)
                }
            }
            try await client.execute(uri: Self.export, method: .post, headers: .bearer(service())) { response in
                #expect(response.status == .tooManyRequests)
                #expect(response.json?[["limit"]] == .number(10))
                #expect(response.json?[["window"]] == .number(3600))
                #expect(response.headers[.retryAfter] != nil)
            }
        }
    }

    @Test func anotherShopsServiceRoleExportsOnlyItsOwn() async throws {
        let app = try await buildApplication(TestEnvironment.configuration())
        let expected = try await TestEnvironment.psql("""
            select count(*) from hotdash.training_examples where account_id = '\(Self.shopB)' and created_at >= now() - interval '30 days'
            """)
        try await app.test(.router) { client in
            try await client.execute(uri: Self.export + "?format=ndjson", method: .post, headers: .bearer(service(Self.shopB))) { response in
                #expect(response.status == .ok)
                #expect(response.text.split(separator: "\n").count == Int(expected))
            }
        }
    }
}

extension JSONValue {
    var objectKeys: [String] {
        if case .object(let object) = self { return Array(object.keys) }
        return []
    }
}
