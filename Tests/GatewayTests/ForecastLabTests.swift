import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
@testable import GatewayCore

/// ForecastLab over HTTP against the real database, in the shapes of its upstream contract
/// (forecastlab-contract-details.md §3–§6, §16) and with FastAPI's errors. Every test works in an
/// account of its own (a fresh account id in its tokens), so tests never see each other's rows.
/// Serialized: the production-guard test (ForecastLabSeederTests.swift) switches a setting of the
/// whole database that every seeder call of this suite would see.
@Suite("ForecastLab", .serialized)
struct ForecastLabTests: JSONRequests {
    struct Account {
        let id = UUID().uuidString.lowercased()
        func token(_ appRole: String) -> String { TestEnvironment.token(account: id, appRole: appRole) }
    }

    /// 2 stores × 3 products × 76 days (2026-01-15 to 2026-03-31: end_date − window_days).
    func seed(_ client: some TestClientProtocol, _ account: Account) async throws {
        try await client.execute(uri: "/seeder/generate", method: .post, headers: json(account.token("admin")),
                                 body: body(["seed": 3, "stores": 2, "products": 3, "end_date": "2026-03-31",
                                             "overrides": .object(["window_days": 75])])) { response in
            #expect(response.status == .created, "\(response.text)")
            #expect(response.json?[["records_created", "sales"]]?.numberValue ?? 0 > 0)
        }
    }

    /// The element at `index` when the value is an array.
    /// A FastAPI validation problem: 422, /errors/validation, and the errors' fields.
    func expectValidation(_ response: TestResponse, fields: [String], _ comment: Comment? = nil,
                          sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(response.status == .unprocessableContent, comment, sourceLocation: sourceLocation)
        #expect(response.headers[.contentType] == "application/problem+json", sourceLocation: sourceLocation)
        #expect(response.json?[["type"]] == "/errors/validation", "\(response.text)", sourceLocation: sourceLocation)
        #expect(response.json?[["code"]] == "VALIDATION_ERROR", sourceLocation: sourceLocation)
        guard case .array(let errors)? = response.json?[["errors"]] else {
            Issue.record("no errors: \(response.text)", sourceLocation: sourceLocation)
            return
        }
        #expect(errors.compactMap { $0[["field"]]?.stringValue } == fields, "\(response.text)", sourceLocation: sourceLocation)
    }

    @Test func seederDimensionsAndAnalytics() async throws {
        let app = try await buildApplication(TestEnvironment.configuration())
        try await app.test(.router) { client in
            let account = Account()
            try await client.execute(uri: "/seeder/generate", method: .post, headers: json(account.token("viewer")), body: body([:])) { response in
                #expect(response.status == .forbidden, "writers are admins and the service role")
                #expect(response.json?[["type"]] == "/errors/forbidden")
            }
            try await client.execute(uri: "/seeder/generate", method: .post, headers: json(account.token("admin")),
                                     body: body(["overrides": .object(["stores": 2, "flavour": 1])])) { response in
                expectValidation(response, fields: ["overrides.flavour"], "an unknown knob")
                #expect(element(response.json?[["errors"]], 0)?[["type"]] == "extra_forbidden")
            }
            try await seed(client, account)
            try await client.execute(uri: "/seeder/status", method: .get, headers: .bearer(account.token("viewer"))) { response in
                #expect(response.json?[["stores"]]?.numberValue == 2)
                #expect(response.json?[["date_range_start"]]?.stringValue == "2026-01-15")
                #expect(response.json?[["date_range_end"]]?.stringValue == "2026-03-31")
            }
            try await client.execute(uri: "/dimensions/stores", method: .get, headers: .bearer(account.token("viewer"))) { response in
                #expect(response.status == .ok)
                guard case .array(let stores)? = response.json?[["stores"]] else { Issue.record("no stores: \(response.text)"); return }
                #expect(stores.compactMap { $0[["code"]]?.stringValue } == ["S001", "S002"], "by code by default")
                #expect(stores.first?[["store_code"]] == nil && stores.first?[["updated_at"]]?.stringValue != nil, "the contract's Store")
            }
            try await client.execute(uri: "/dimensions/stores?sort_by=nonsense&sort_order=desc", method: .get, headers: .bearer(account.token("viewer"))) { response in
                #expect(response.status == .ok, "an unknown sort_by falls back to the default")
                guard case .array(let stores)? = response.json?[["stores"]] else { Issue.record("no stores: \(response.text)"); return }
                #expect(stores.compactMap { $0[["code"]]?.stringValue } == ["S002", "S001"])
            }
            try await client.execute(uri: "/dimensions/stores?search=S", method: .get, headers: .bearer(account.token("viewer"))) { response in
                expectValidation(response, fields: ["search"], "search takes at least 2 characters")
            }
            try await client.execute(uri: "/dimensions/stores?page=abc", method: .get, headers: .bearer(account.token("viewer"))) { response in
                expectValidation(response, fields: ["page"], "the gateway's own checks are 422s too")
            }
            try await client.execute(uri: "/api/v1/dimensions/products?search=sku-0000&page_size=2", method: .get, headers: .bearer(account.token("viewer"))) { response in
                #expect(response.json?[["total"]]?.numberValue == 3)
                #expect(count(response.json?[["products"]]) == 2)
            }
            var productID = 0.0
            try await client.execute(uri: "/dimensions/products?sort_by=sku&sort_order=desc&page_size=1", method: .get, headers: .bearer(account.token("viewer"))) { response in
                let product = element(response.json?[["products"]], 0)
                #expect(product?[["sku"]]?.stringValue == "SKU-00003")
                #expect(product?[["base_price"]]?.stringValue != nil, "decimals are strings: \(response.text)")
                #expect(product?[["base_cost"]]?.stringValue != nil)
                productID = product?[["id"]]?.numberValue ?? 0
            }
            try await client.execute(uri: "/dimensions/products/\(Int(productID))", method: .get, headers: .bearer(account.token("viewer"))) { response in
                #expect(response.json?[["sku"]]?.stringValue == "SKU-00003", "\(response.text)")
            }
            try await client.execute(uri: "/dimensions/stores/999999999", method: .get, headers: .bearer(account.token("viewer"))) { response in
                #expect(response.status == .notFound)
                #expect(response.headers[.contentType] == "application/problem+json")
                #expect(response.json?[["type"]] == "/errors/not-found")
                #expect(response.json?[["detail"]] == "Store 999999999 not found")
            }
            try await client.execute(uri: "/analytics/kpis?start_date=2026-01-01&end_date=2026-03-31", method: .get, headers: .bearer(account.token("viewer"))) { response in
                #expect(response.status == .ok)
                #expect((response.json?[["metrics", "total_transactions"]]?.numberValue ?? 0) > 0, "\(response.text)")
                #expect(response.json?[["metrics", "total_revenue"]]?.stringValue != nil, "decimals are strings")
                #expect(response.json?[["metrics", "avg_basket_value"]]?.stringValue != nil)
                #expect(response.json?[["start_date"]] == "2026-01-01")
            }
            for (query, detail) in [("start_date=2026-03-01&end_date=2026-01-01", "end_date (2026-01-01) must be >= start_date (2026-03-01)"),
                                    ("start_date=2023-01-01&end_date=2026-01-01", "Date range (1096 days) exceeds maximum allowed (730 days)")] {
                try await client.execute(uri: "/analytics/timeseries?\(query)", method: .get, headers: .bearer(account.token("viewer"))) { response in
                    #expect(response.status == .badRequest, "the date-range rule is a 400")
                    #expect(response.json?[["type"]] == "/errors/bad-request")
                    #expect(response.json?[["code"]] == "BAD_REQUEST")
                    #expect(response.json?[["detail"]] == .string(detail))
                }
            }
            try await client.execute(uri: "/analytics/timeseries?end_date=2026-01-01", method: .get, headers: .bearer(account.token("viewer"))) { response in
                expectValidation(response, fields: ["start_date"], "a missing date is a 422")
            }
            try await client.execute(uri: "/analytics/timeseries?start_date=2026-01-01&end_date=2026-03-31&granularity=month", method: .get,
                                     headers: .bearer(account.token("viewer"))) { response in
                #expect(count(response.json?[["points"]]) == 3)
                #expect(response.json?[["total_points"]]?.numberValue == 3)
                #expect(element(response.json?[["points"]], 0)?[["period"]] == "2026-01-01")
                #expect(element(response.json?[["points"]], 0)?[["metrics", "total_units"]]?.numberValue ?? 0 > 0)
            }
            try await client.execute(uri: "/analytics/timeseries?start_date=2025-12-01&end_date=2026-03-31&granularity=quarter", method: .get,
                                     headers: .bearer(account.token("viewer"))) { response in
                #expect(response.status == .ok, "quarters: \(response.text)")
                guard case .array(let points)? = response.json?[["points"]] else { Issue.record("no points: \(response.text)"); return }
                #expect(points.compactMap { $0[["period"]]?.stringValue } == ["2025-10-01", "2026-01-01"])
            }
            try await client.execute(uri: "/analytics/drilldowns?dimension=region&start_date=2026-01-01&end_date=2026-03-31", method: .get,
                                     headers: .bearer(account.token("viewer"))) { response in
                let first = element(response.json?[["items"]], 0)
                #expect(first?[["rank"]]?.numberValue == 1, "\(response.text)")
                #expect(first?[["dimension_value"]]?.stringValue != nil)
                #expect(first?[["dimension_id"]] == .null)
                #expect(first?[["revenue_share_pct"]]?.stringValue != nil)
                #expect(first?[["metrics", "total_revenue"]]?.stringValue != nil)
                #expect((response.json?[["total_items"]]?.numberValue ?? 0) >= 1)
            }
            try await client.execute(uri: "/analytics/drilldowns?dimension=product&start_date=2026-01-01&end_date=2026-03-31&max_items=2", method: .get,
                                     headers: .bearer(account.token("viewer"))) { response in
                #expect(count(response.json?[["items"]]) == 2)
                #expect(response.json?[["total_items"]]?.numberValue == 3)
                #expect(element(response.json?[["items"]], 1)?[["rank"]]?.numberValue == 2)
            }
            try await client.execute(uri: "/analytics/drilldowns?dimension=store&start_date=2026-01-01&end_date=2026-03-31&max_items=0", method: .get,
                                     headers: .bearer(account.token("viewer"))) { response in
                expectValidation(response, fields: ["max_items"])
            }
            try await client.execute(uri: "/analytics/drilldowns?dimension=store&start_date=2026-01-01&end_date=2026-03-31&limit=5", method: .get,
                                     headers: .bearer(account.token("viewer"))) { response in
                expectValidation(response, fields: ["limit"], "the contract's parameter is max_items")
            }
            try await client.execute(uri: "/analytics/inventory-status", method: .get, headers: .bearer(account.token("viewer"))) { response in
                #expect(count(response.json?[["items"]]) == 6, "2 stores × 3 products")
                #expect(response.json?[["total_items"]]?.numberValue == 6)
            }
            try await client.execute(uri: "/seeder/phase2-enrichment", method: .post, headers: json(account.token("admin")), body: body([:])) { response in
                #expect(response.status == .ok, "\(response.text)")
                #expect(response.json?[["success"]] == .bool(true))
                #expect(response.json?[["records_created", "sales_returns"]]?.numberValue != nil)
            }
        }
    }

    @Test func ingestRejectsRowsByTheContractsCodesAndWritesTheRest() async throws {
        let app = try await buildApplication(TestEnvironment.configuration())
        try await app.test(.router) { client in
            let account = Account()
            try await seed(client, account)
            let rows: JSONValue = .array([
                .object(["store_code": "S001", "sku": "SKU-00001", "date": "2026-04-01", "quantity": 3, "unit_price": 2.5]),
                .object(["store_code": "S001", "sku": "SKU-00001", "date": "2026-04-01", "quantity": 4, "unit_price": 2.5]),
                .object(["store_code": "S002", "sku": "SKU-00002", "date": "2026-04-01", "quantity": 1, "unit_price": 9, "total_amount": 8.5]),
            ])
            try await client.execute(uri: "/ingest/sales-daily", method: .post, headers: json(account.token("admin")), body: body(["records": rows])) { response in
                #expect(response.status == .ok, "\(response.text)")
                #expect(response.json?[["processed_count"]] == 3)
                #expect(response.json?[["rejected_count"]] == 0)
                #expect(response.json?[["total_received"]] == 3)
                #expect(response.json?[["errors"]] == .array([]))
                #expect(response.json?[["duration_ms"]]?.numberValue != nil)
                #expect(response.json?[["inserted"]] == 2 && response.json?[["duplicates"]] == 1)
            }
            try await client.execute(uri: "/ingest/sales-daily", method: .post, headers: json(account.token("admin")), body: body(["records": rows])) { response in
                #expect(response.json?[["unchanged"]] == 2, "the same batch twice changes nothing")
                #expect(response.json?[["inserted"]] == 0)
            }
            let mixed: JSONValue = .array([
                .object(["store_code": "S001", "sku": "SKU-00001", "date": "2026-04-02", "quantity": 3, "unit_price": 2.5]),
                .object(["store_code": "NOPE", "sku": "SKU-00001", "date": "2026-04-02", "quantity": 3, "unit_price": 2.5]),
                .object(["store_code": "S001", "sku": "NOPE", "date": "2026-04-02", "quantity": 3, "unit_price": 2.5]),
                .object(["store_code": "S001", "sku": "SKU-00001", "date": "2041-01-01", "quantity": 3, "unit_price": 2.5]),
            ])
            try await client.execute(uri: "/ingest/sales-daily", method: .post, headers: json(account.token("admin")),
                                     body: body(["records": mixed, "all_or_nothing": .bool(true)])) { response in
                expectValidation(response, fields: ["records.1.store_code", "records.2.sku", "records.3.date"], "all or nothing, on request")
                #expect(element(response.json?[["errors"]], 0)?[["type"]] == "unknown_store")
            }
            try await client.execute(uri: "/analytics/kpis?start_date=2026-04-02&end_date=2026-04-02", method: .get, headers: .bearer(account.token("viewer"))) { response in
                #expect(response.json?[["metrics", "total_transactions"]] == 0, "nothing of an all-or-nothing batch with a rejected row is written")
            }
            try await client.execute(uri: "/ingest/sales-daily", method: .post, headers: json(account.token("admin")), body: body(["records": mixed])) { response in
                #expect(response.status == .ok, "one bad row does not lose the others: \(response.text)")
                #expect(response.json?[["processed_count"]] == 1)
                #expect(response.json?[["rejected_count"]] == 3)
                guard case .array(let errors)? = response.json?[["errors"]] else { Issue.record("no errors: \(response.text)"); return }
                #expect(errors.compactMap { $0[["error_code"]]?.stringValue } == ["UNKNOWN_STORE", "UNKNOWN_PRODUCT", "UNKNOWN_DATE"])
                #expect(errors.compactMap { $0[["row_index"]]?.numberValue } == [1, 2, 3])
                #expect(errors.first?[["store_code"]] == "NOPE" && errors.first?[["error_message"]]?.stringValue != nil)
            }
            try await client.execute(uri: "/analytics/kpis?start_date=2026-04-02&end_date=2026-04-02", method: .get, headers: .bearer(account.token("viewer"))) { response in
                #expect(response.json?[["metrics", "total_transactions"]] == 1, "the resolvable row is written")
            }
            let malformed: JSONValue = .array([
                .object(["store_code": "S001", "sku": "SKU-00001", "date": "2026-04-03", "quantity": 3, "unit_price": 2.5]),
                .object(["store_code": "S001", "sku": "SKU-00001", "date": "2026-04-03", "quantity": -3, "unit_price": 2.555]),
            ])
            try await client.execute(uri: "/ingest/sales-daily", method: .post, headers: json(account.token("admin")), body: body(["records": malformed])) { response in
                expectValidation(response, fields: ["records.1.quantity", "records.1.unit_price"], "a malformed batch")
                #expect(response.json?[["detail"]] == "Request validation failed with 2 error(s). Check the 'errors' field for details.")
            }
            try await client.execute(uri: "/ingest/sales-daily", method: .post, headers: json(account.token("admin")), body: body(["records": .array([])])) { response in
                expectValidation(response, fields: ["records"], "records: [] is a 422")
            }
            let tooMany: JSONValue = .array(Array(repeating: .object(["store_code": "S001", "sku": "SKU-00001", "date": "2026-04-03", "quantity": 1, "unit_price": 1]),
                                                  count: 10_001))
            try await client.execute(uri: "/ingest/sales-daily", method: .post, headers: json(account.token("admin")), body: body(["records": tooMany])) { response in
                expectValidation(response, fields: ["records"], "more than 10,000 rows")
                #expect(element(response.json?[["errors"]], 0)?[["type"]] == "too_long")
            }
            try await client.execute(uri: "/ingest/sales-daily", method: .post, headers: json(account.token("viewer")), body: body(["records": rows])) { response in
                #expect(response.status == .forbidden)
            }
            // Another account's store codes are unknown here.
            let other = Account()
            try await client.execute(uri: "/ingest/sales-daily", method: .post, headers: json(other.token("admin")), body: body(["records": rows])) { response in
                #expect(response.status == .ok)
                #expect(response.json?[["rejected_count"]] == 3, "\(response.text)")
            }
        }
    }

    /// Two loaders at once over the same days (other stores): both batches land, and the rollups
    /// the analytics read add up to exactly what was sent.
    @Test func concurrentLoadersOverTheSameDays() async throws {
        let app = try await buildApplication(TestEnvironment.configuration())
        try await app.test(.router) { client in
            let account = Account()
            try await seed(client, account)
            func batch(store: String, firstDay: Int, round: Int) -> JSONValue {
                .array((0..<20).flatMap { day in (1...3).map { product in
                    .object(["store_code": .string(store), "sku": .string("SKU-0000\(product)"),
                             "date": .string(String(format: "2026-05-%02d", firstDay + day)),
                             "quantity": .number(Double(round + product + day)), "unit_price": 1])
                } })
            }
            var expectedUnits = 0.0
            for round in 1...3 {
                let batches = [batch(store: "S001", firstDay: 1, round: round), batch(store: "S002", firstDay: 6, round: round)]
                let statuses = try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                    for records in batches {
                        group.addTask {
                            try await client.execute(uri: "/ingest/sales-daily", method: .post, headers: json(account.token("admin")),
                                                     body: body(["records": records])) { $0.status }
                        }
                    }
                    return try await group.reduce(into: []) { $0.append($1) }
                }
                #expect(statuses == [.ok, .ok], "round \(round)")
                expectedUnits = (0..<20).reduce(0.0) { sum, day in sum + (1...3).reduce(0.0) { $0 + 2 * Double(round + $1 + day) } }
            }
            try await client.execute(uri: "/analytics/kpis?start_date=2026-05-01&end_date=2026-05-31", method: .get,
                                     headers: .bearer(account.token("viewer"))) { response in
                #expect(response.json?[["metrics", "total_units"]]?.numberValue == expectedUnits, "the last round's quantities, both stores")
                #expect(response.json?[["metrics", "total_transactions"]]?.numberValue == 120, "2 stores × 3 products × 20 days")
            }
        }
    }

    /// Two loaders sending the same new rows at once: one of them finds the keys written by the
    /// other (a unique violation on the fast path) and falls back to ON CONFLICT; both succeed and
    /// the rows and rollups are written once.
    @Test func concurrentLoadersWithTheSameNewRows() async throws {
        let app = try await buildApplication(TestEnvironment.configuration())
        try await app.test(.router) { client in
            let account = Account()
            try await seed(client, account)
            for round in 1...3 {
                let records: JSONValue = .array((1...2).flatMap { store in (1...3).flatMap { product in (0..<30).map { day in
                    .object(["store_code": .string("S00\(store)"), "sku": .string("SKU-0000\(product)"),
                             "date": .string(String(format: "2026-%02d-%02d", 5 + round, 1 + day)), "quantity": 2, "unit_price": 1.5])
                } } })
                let answers = try await withThrowingTaskGroup(of: (HTTPResponse.Status, Double).self) { group in
                    for _ in 0..<3 {
                        group.addTask {
                            try await client.execute(uri: "/ingest/sales-daily", method: .post, headers: json(account.token("admin")),
                                                     body: body(["records": records])) { ($0.status, $0.json?[["inserted"]]?.numberValue ?? -1) }
                        }
                    }
                    return try await group.reduce(into: []) { $0.append($1) }
                }
                #expect(answers.map(\.0) == [.ok, .ok, .ok], "round \(round)")
                #expect(answers.map(\.1).reduce(0, +) == 180, "each row inserted once, by one of the loaders: \(answers)")
                try await client.execute(uri: String(format: "/analytics/kpis?start_date=2026-%02d-01&end_date=2026-%02d-30", 5 + round, 5 + round), method: .get,
                                         headers: .bearer(account.token("viewer"))) { response in
                    #expect(response.json?[["metrics", "total_transactions"]] == 180, "the rollups count each row once")
                    #expect(response.json?[["metrics", "total_revenue"]] == "540.00")
                }
            }
        }
    }

    @Test func emptyAccountsAndIsolation() async throws {
        let app = try await buildApplication(TestEnvironment.configuration())
        try await app.test(.router) { client in
            let empty = Account()
            try await client.execute(uri: "/analytics/inventory-status", method: .get, headers: .bearer(empty.token("viewer"))) { response in
                #expect(response.status == .ok)
                #expect(response.json == .object(["items": .array([]), "total_items": 0, "store_id": .null, "product_id": .null]),
                        "an empty table is 200 and no items, never 404")
            }
            try await client.execute(uri: "/seeder/phase2-enrichment", method: .post, headers: json(empty.token("admin")), body: body([:])) { response in
                #expect(response.status == .unprocessableContent)
                #expect(response.json?[["type"]] == "/errors/unprocessable-entity")
            }
            let seeded = Account()
            try await seed(client, seeded)
            try await client.execute(uri: "/dimensions/stores", method: .get, headers: .bearer(empty.token("viewer"))) { response in
                #expect(response.json?[["total"]]?.numberValue == 0, "another account's stores are invisible")
            }
            try await client.execute(uri: "/analytics/kpis?start_date=2026-01-01&end_date=2026-03-31", method: .get, headers: .bearer(empty.token("viewer"))) { response in
                #expect(response.json?[["metrics", "total_revenue"]] == "0.00")
            }
            try await client.execute(uri: "/analytics/drilldowns?dimension=store&start_date=2026-01-01&end_date=2026-03-31", method: .get,
                                     headers: .bearer(empty.token("viewer"))) { response in
                #expect(response.json?[["total_items"]] == 0)
            }
            try await client.execute(uri: "/dimensions/stores", method: .get) { response in
                #expect(response.status == .unauthorized)
                #expect(response.json?[["type"]] == "/errors/unauthorized")
            }
        }
    }
}
