import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
@testable import GatewayCore

/// ForecastLab over HTTP against the real database. Every test works in an account of its own (a
/// fresh account id in its tokens), so tests running side by side never see each other's rows.
@Suite("ForecastLab")
struct ForecastLabTests: JSONRequests {
    struct Account {
        let id = UUID().uuidString.lowercased()
        func token(_ appRole: String) -> String { TestEnvironment.token(account: id, appRole: appRole) }
    }

    func seed(_ client: some TestClientProtocol, _ account: Account) async throws {
        try await client.execute(uri: "/seeder/generate", method: .post, headers: json(account.token("admin")),
                                 body: body(["seed": 3, "stores": 2, "products": 3, "end_date": "2026-03-31",
                                             "overrides": .object(["window_days": 75])])) { response in
            #expect(response.status == .created, "\(response.text)")
            #expect(response.json?[["sales_rows"]]?.numberValue ?? 0 > 0)
        }
    }

    @Test func seederDimensionsAndAnalytics() async throws {
        let app = try await buildApplication(TestEnvironment.configuration())
        try await app.test(.router) { client in
            let account = Account()
            try await client.execute(uri: "/seeder/generate", method: .post, headers: json(account.token("viewer")), body: body([:])) { response in
                #expect(response.status == .forbidden, "writers are admins and the service role")
            }
            try await client.execute(uri: "/seeder/generate", method: .post, headers: json(account.token("admin")),
                                     body: body(["overrides": .object(["stores": 2, "flavour": 1])])) { response in
                #expect(response.status == .unprocessableContent, "an unknown knob")
            }
            try await seed(client, account)
            try await client.execute(uri: "/seeder/status", method: .get, headers: .bearer(account.token("viewer"))) { response in
                #expect(response.json?[["stores"]]?.numberValue == 2)
                #expect(response.json?[["first_date"]]?.stringValue == "2026-01-16")
            }
            try await client.execute(uri: "/dimensions/stores?sort_by=nonsense&sort_order=desc", method: .get, headers: .bearer(account.token("viewer"))) { response in
                #expect(response.status == .ok, "an unknown sort_by falls back to the default")
                guard case .array(let stores)? = response.json?[["stores"]] else { Issue.record("no stores: \(response.text)"); return }
                #expect(stores.compactMap { $0[["store_code"]]?.stringValue } == ["S002", "S001"])
            }
            try await client.execute(uri: "/api/v1/dimensions/products?search=sku-0000&page_size=2", method: .get, headers: .bearer(account.token("viewer"))) { response in
                #expect(response.json?[["total"]]?.numberValue == 3)
                #expect(count(response.json?[["products"]]) == 2)
            }
            var productID = 0.0
            try await client.execute(uri: "/dimensions/products?sort_by=sku&sort_order=desc&page_size=1", method: .get, headers: .bearer(account.token("viewer"))) { response in
                guard case .array(let products)? = response.json?[["products"]] else { Issue.record("no products: \(response.text)"); return }
                #expect(products.first?[["sku"]]?.stringValue == "SKU-00003")
            }
            try await client.execute(uri: "/dimensions/products?search=SKU-00002", method: .get, headers: .bearer(account.token("viewer"))) { response in
                if case .array(let products)? = response.json?[["products"]] { productID = products.first?[["id"]]?.numberValue ?? 0 }
            }
            try await client.execute(uri: "/dimensions/products/\(Int(productID))", method: .get, headers: .bearer(account.token("viewer"))) { response in
                #expect(response.json?[["sku"]]?.stringValue == "SKU-00002", "\(response.text)")
            }
            try await client.execute(uri: "/dimensions/stores/999999999", method: .get, headers: .bearer(account.token("viewer"))) { response in
                #expect(response.status == .notFound)
                #expect(response.headers[.contentType] == "application/problem+json")
            }
            try await client.execute(uri: "/analytics/kpis?start_date=2026-01-01&end_date=2026-03-31", method: .get, headers: .bearer(account.token("viewer"))) { response in
                #expect(response.status == .ok)
                #expect((response.json?[["total_transactions"]]?.numberValue ?? 0) > 0)
                #expect(response.json?[["avg_basket_value"]]?.numberValue != nil)
            }
            for (query, reason) in [("start_date=2026-03-01&end_date=2026-01-01", "inverted"), ("start_date=2023-01-01&end_date=2026-01-01", "over 730 days"),
                                    ("end_date=2026-01-01", "no start")] {
                try await client.execute(uri: "/analytics/timeseries?\(query)", method: .get, headers: .bearer(account.token("viewer"))) { response in
                    #expect(response.status == .badRequest, "\(reason)")
                    #expect(response.problemCode == "VALIDATION_ERROR")
                }
            }
            try await client.execute(uri: "/analytics/timeseries?start_date=2026-01-01&end_date=2026-03-31&granularity=month", method: .get,
                                     headers: .bearer(account.token("viewer"))) { response in
                #expect(count(response.json?[["points"]]) == 3)
            }
            try await client.execute(uri: "/analytics/drilldowns?dimension=region&start_date=2026-01-01&end_date=2026-03-31", method: .get,
                                     headers: .bearer(account.token("viewer"))) { response in
                #expect((count(response.json?[["items"]]) ?? 0) >= 1)
            }
            try await client.execute(uri: "/analytics/inventory-status", method: .get, headers: .bearer(account.token("viewer"))) { response in
                #expect(count(response.json) == 6, "2 stores × 3 products")
            }
            try await client.execute(uri: "/seeder/phase2-enrichment", method: .post, headers: json(account.token("admin")), body: body([:])) { response in
                #expect(response.status == .ok, "\(response.text)")
            }
        }
    }

    @Test func ingestIsIdempotentAllOrNothingAndCapped() async throws {
        let app = try await buildApplication(TestEnvironment.configuration())
        try await app.test(.router) { client in
            let account = Account()
            try await seed(client, account)
            let rows: JSONValue = .array([
                .object(["store_code": "S001", "sku": "SKU-00001", "date": "2026-04-01", "quantity": 3, "unit_price": 2.5]),
                .object(["store_code": "S001", "sku": "SKU-00001", "date": "2026-04-01", "quantity": 4, "unit_price": 2.5]),
                .object(["store_code": "S002", "sku": "SKU-00002", "date": "2026-04-01", "quantity": 1, "unit_price": 9]),
            ])
            try await client.execute(uri: "/ingest/sales-daily", method: .post, headers: json(account.token("admin")), body: body(["records": rows])) { response in
                #expect(response.status == .ok, "\(response.text)")
                #expect(response.json == .object(["received": 3, "inserted": 2, "updated": 0, "unchanged": 0, "duplicates": 1, "rejected": 0]))
            }
            try await client.execute(uri: "/ingest/sales-daily", method: .post, headers: json(account.token("admin")), body: body(["records": rows])) { response in
                #expect(response.json?[["unchanged"]]?.numberValue == 2, "the same batch twice changes nothing")
                #expect(response.json?[["inserted"]]?.numberValue == 0)
            }
            let bad: JSONValue = .array([
                .object(["store_code": "S001", "sku": "SKU-00001", "date": "2026-04-02", "quantity": 3, "unit_price": 2.5]),
                .object(["store_code": "NOPE", "sku": "SKU-00001", "date": "2026-04-02", "quantity": 3, "unit_price": 2.5]),
            ])
            try await client.execute(uri: "/ingest/sales-daily", method: .post, headers: json(account.token("admin")), body: body(["records": bad])) { response in
                #expect(response.status == .unprocessableContent)
                guard case .array(let rejected)? = response.json?[["details", "rows"]] else { Issue.record("no rows: \(response.text)"); return }
                #expect(rejected.count == 1)
                #expect(rejected.first?[["reason"]]?.stringValue == "unknown store_code NOPE")
            }
            try await client.execute(uri: "/analytics/kpis?start_date=2026-04-02&end_date=2026-04-02", method: .get, headers: .bearer(account.token("viewer"))) { response in
                #expect(response.json?[["total_transactions"]]?.numberValue == 0, "nothing of a rejected batch is written")
            }
            let tooMany: JSONValue = .array(Array(repeating: .object(["store_code": "S001", "sku": "SKU-00001", "date": "2026-04-03", "quantity": 1, "unit_price": 1]),
                                                  count: 10_001))
            try await client.execute(uri: "/ingest/sales-daily", method: .post, headers: json(account.token("admin")), body: body(["records": tooMany])) { response in
                #expect(response.status == .contentTooLarge)
            }
            try await client.execute(uri: "/ingest/sales-daily", method: .post, headers: json(account.token("viewer")), body: body(["records": rows])) { response in
                #expect(response.status == .forbidden)
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
                #expect(response.json?[["total_units"]]?.numberValue == expectedUnits, "the last round's quantities, both stores")
                #expect(response.json?[["total_transactions"]]?.numberValue == 120, "2 stores × 3 products × 20 days")
            }
        }
    }

    @Test func emptyAccountsAndIsolation() async throws {
        let app = try await buildApplication(TestEnvironment.configuration())
        try await app.test(.router) { client in
            let empty = Account()
            try await client.execute(uri: "/analytics/inventory-status", method: .get, headers: .bearer(empty.token("viewer"))) { response in
                #expect(response.status == .ok)
                #expect(response.text == "[]", "an empty table is 200 and [], never 404")
            }
            try await client.execute(uri: "/seeder/phase2-enrichment", method: .post, headers: json(empty.token("admin")), body: body([:])) { response in
                #expect(response.status == .unprocessableContent)
            }
            let seeded = Account()
            try await seed(client, seeded)
            try await client.execute(uri: "/dimensions/stores", method: .get, headers: .bearer(empty.token("viewer"))) { response in
                #expect(response.json?[["total"]]?.numberValue == 0, "another account's stores are invisible")
            }
            try await client.execute(uri: "/analytics/kpis?start_date=2026-01-01&end_date=2026-03-31", method: .get, headers: .bearer(empty.token("viewer"))) { response in
                #expect(response.json?[["total_revenue"]]?.numberValue == 0)
            }
            try await client.execute(uri: "/dimensions/stores", method: .get) { response in
                #expect(response.status == .unauthorized)
            }
        }
    }
}
