import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
@testable import GatewayCore

/// ForecastLab's scenarios over HTTP against the real database (docs/forecastlab-models.md,
/// "Scenarios"): simulate (heuristic and model_exogenous), save, list, read, compare and delete plans
/// (also under /api/v1), their 201 / 204 / 400 / 404 / 422 answers and two tenants. Every test works
/// in accounts of its own; models are trained through POST /forecasting/train.
@Suite("ForecastLab scenarios")
struct ForecastLabScenariosTests: JSONRequests {
    typealias Account = TestAccount

    /// A store and a product (base price 3.00) with 60 days of sales from 2026-01-01: 20 + i mod 7
    /// units at 2.00, and 40 + i mod 7 at 1.50 on every third day. The last day (2026-03-01, i = 59)
    /// sells 23 at 2.00.
    func seed(_ account: Account) async throws -> (store: Int, product: Int) {
        let ids = try await TestEnvironment.psql("""
            with s as (insert into forecast.stores (account_id, store_code, name) values ('\(account.id)', 'W1', 'Scenario store') returning id),
                 p as (insert into forecast.products (account_id, sku, name, base_price) values ('\(account.id)', 'W1', 'Scenario product', 3) returning id),
                 sales as (insert into forecast.sales_daily (account_id, store_id, product_id, date, quantity, unit_price, total_amount)
                           select '\(account.id)', s.id, p.id, date '2026-01-01' + i, case when i % 3 = 0 then 40 else 20 end + i % 7,
                                  case when i % 3 = 0 then 1.50 else 2.00 end, 0
                             from s, p, generate_series(0, 59) i)
            select s.id || ',' || p.id from s, p
            """)
        let parts = ids.split(separator: ",").compactMap { Int($0) }
        try #require(parts.count == 2, "seeded ids: \(ids)")
        return (parts[0], parts[1])
    }

    /// Trains a model on the 60 days (an admin) and answers its artifact key, the scenarios' run_id.
    func train(_ client: some TestClientProtocol, _ account: Account, _ store: Int, _ product: Int, _ config: [String: JSONValue]) async throws -> String {
        var key = ""
        try await client.execute(uri: "/forecasting/train", method: .post, headers: json(account.token("admin")),
                                 body: body(["store_id": .number(Double(store)), "product_id": .number(Double(product)),
                                             "train_start_date": "2026-01-01", "train_end_date": "2026-03-01", "config": .object(config)])) { response in
            #expect(response.status == .ok, "\(response.text)")
            let path = response.json?[["model_path"]]?.stringValue ?? ""
            key = path.replacingOccurrences(of: "artifacts/models/model_", with: "").replacingOccurrences(of: ".joblib", with: "")
        }
        try #require(key.count == 12, "trained \(config)")
        return key
    }

    /// −20 % on the first two days, a holiday on the third, 100 units on hand.
    let assumptions: JSONValue = .object([
        "price": .object(["change_pct": -0.2, "start_date": "2026-03-03", "end_date": "2026-03-02"]),
        "holiday": .object(["dates": .array(["2026-03-04"])]),
        "inventory": .object(["on_hand_units": 100]),
    ])

    func values(_ response: TestResponse, _ field: String) -> [Double] {
        guard case .array(let points)? = response.json?[["points"]] else { return [] }
        return points.compactMap { $0[[field]]?.numberValue }
    }

    @Test func simulate() async throws {
        let account = Account()
        let other = Account()
        let (store, product) = try await seed(account)
        let (otherStore, otherProduct) = try await seed(other)
        let app = try await buildApplication(TestEnvironment.configuration())
        try await app.test(.router) { client in
            let naive = try await train(client, account, store, product, ["model_type": "naive"])
            let regression = try await train(client, account, store, product, ["model_type": "regression", "max_iter": 20])
            let otherNaive = try await train(client, other, otherStore, otherProduct, ["model_type": "naive"])

            // Heuristic: the naive baseline (23 a day) times 0.8^-1.2 on the price window, 1.30 on the holiday.
            for path in ["/scenarios/simulate", "/api/v1/scenarios/simulate"] {
                try await client.execute(uri: path, method: .post, headers: json(account.token("viewer")),
                                         body: body(["run_id": .string(naive), "horizon": 7, "assumptions": assumptions, "name": "try"])) { response in
                    #expect(response.status == .ok, "\(path): \(response.text)")
                    #expect(response.json?[["method"]]?.stringValue == "heuristic")
                    #expect(response.json?[["model_type"]]?.stringValue == "naive")
                    #expect(response.json?[["store_id"]]?.numberValue == Double(store))
                    #expect(element(response.json?[["points"]], 0)?[["date"]]?.stringValue == "2026-03-02")
                    #expect(values(response, "baseline") == Array(repeating: 23, count: 7))
                    let price = pow(0.8, -1.2)
                    let factors = values(response, "applied_factor")
                    #expect(factors.count == 7)
                    if factors.count == 7 {
                        #expect(abs(factors[0] - price) < 1e-12 && abs(factors[1] - price) < 1e-12, "\(factors)")
                        #expect(factors[2] == 1.3 && factors[3...] == [1, 1, 1, 1], "\(factors)")
                    }
                    let total = 23 * (2 * price + 1.3 + 4)
                    #expect(abs((response.json?[["scenario_total_units"]]?.numberValue ?? 0) - total) < 1e-9)
                    #expect(response.json?[["baseline_total_units"]]?.numberValue == 161)
                    #expect(response.json?[["unit_price_used"]]?.numberValue == 2, "the last sale's price, not the base price")
                    #expect(response.json?[["baseline_revenue"]]?.numberValue == 322)
                    #expect(response.json?[["coverage_verdict"]]?.stringValue == "stockout", "183 units against 100 on hand")
                }
            }
            // model_exogenous: a regression artifact, re-forecast; with no assumptions, the plain forecast.
            try await client.execute(uri: "/scenarios/simulate", method: .post, headers: json(account.token("viewer")),
                                     body: body(["run_id": .string(regression), "horizon": 5])) { response in
                #expect(response.status == .ok, "\(response.text)")
                #expect(response.json?[["method"]]?.stringValue == "model_exogenous")
                #expect(values(response, "scenario") == values(response, "baseline") && values(response, "baseline").count == 5)
                #expect(response.json?[["units_delta"]]?.numberValue == 0)
                #expect(response.json?[["coverage_verdict"]]?.stringValue == "unknown")
            }
            try await client.execute(uri: "/scenarios/simulate", method: .post, headers: json(account.token("viewer")),
                                     body: body(["run_id": .string("artifacts/models/model_\(regression).joblib"), "horizon": 5,
                                                 "assumptions": .object(["price": .object(["change_pct": -0.3, "start_date": "2026-03-02",
                                                                                           "end_date": "2026-03-06"])])])) { response in
                #expect(response.status == .ok, "\(response.text)")
                #expect((response.json?[["units_delta"]]?.numberValue ?? 0) > 1, "cheaper days sell more: \(response.text)")
                #expect(values(response, "applied_factor") == [1, 1, 1, 1, 1], "the model answers, no factor")
            }

            // 422: unknown keys (the body's, the assumptions'), bounds; one problem list.
            try await client.execute(uri: "/scenarios/simulate", method: .post, headers: json(account.token("viewer")),
                                     body: body(["run_id": .string(naive), "horizon": 7, "what_if": .bool(true)])) { response in
                expectProblem(response, .unprocessableContent, type: "/errors/validation", "an unknown body key")
            }
            try await client.execute(uri: "/scenarios/simulate", method: .post, headers: json(account.token("viewer")),
                                     body: body(["run_id": .string(naive), "horizon": 91,
                                                 "assumptions": .object(["price": .object(["change_pct": 6, "start_date": "2026-03-02",
                                                                                           "end_date": "2026-03-03", "elasticity": -2]),
                                                                         "weather": .object([:])])])) { response in
                expectProblem(response, .unprocessableContent, type: "/errors/validation")
                #expect(fields(response) == ["horizon", "assumptions.weather", "assumptions.price.elasticity", "assumptions.price.change_pct"],
                        "\(response.text)")
            }
            // Malformed JSON is a 422 too, as FastAPI answers it.
            try await client.execute(uri: "/scenarios/simulate", method: .post, headers: json(account.token("viewer")),
                                     body: ByteBuffer(string: "{\"run_id\": ")) { response in
                expectProblem(response, .unprocessableContent, type: "/errors/validation", "malformed JSON")
            }
            // 400: a model that cannot forecast here (an artifact of a type whose flag is off).
            let disabled = "d15ab1ed0000"
            try await TestEnvironment.psql("""
                with b as (select convert_to(jsonb_build_object('model_type', 'lightgbm', 'config', '{"model_type": "lightgbm"}'::jsonb, 'state', '{}'::jsonb,
                                                                'store_id', \(store), 'product_id', \(product), 'train_end_date', '2026-03-01')::text, 'UTF8') as content)
                insert into forecast_models.artifacts (account_id, artifact_key, model_type, store_id, product_id, config, config_hash,
                                                       train_start_date, train_end_date, n_observations, content, sha256, size_bytes)
                select '\(account.id)', '\(disabled)', 'lightgbm', \(store), \(product), '{}', '0000000000000000', '2026-01-01', '2026-03-01', 60,
                       content, encode(sha256(content), 'hex'), octet_length(content) from b
                """)
            try await client.execute(uri: "/scenarios/simulate", method: .post, headers: json(account.token("viewer")),
                                     body: body(["run_id": .string(disabled), "horizon": 3])) { response in
                expectProblem(response, .badRequest, type: "/errors/bad-request", "lightgbm is off unless enabled")
            }
            // 404: a bogus run_id, another account's artifact.
            for runID in ["bogus", otherNaive] {
                try await client.execute(uri: "/scenarios/simulate", method: .post, headers: json(account.token("viewer")),
                                         body: body(["run_id": .string(runID), "horizon": 3])) { response in
                    expectProblem(response, .notFound, type: "/errors/not-found", "\(runID) is not the caller's artifact")
                }
            }
        }
    }

    @Test func plans() async throws {
        let account = Account()
        let other = Account()
        let (store, product) = try await seed(account)
        _ = try await seed(other)
        let app = try await buildApplication(TestEnvironment.configuration())
        try await app.test(.router) { client in
            let naive = try await train(client, account, store, product, ["model_type": "naive"])
            var ids: [String] = []
            // Two plans of the same name (any member saves): 201 with the plan and its snapshot. The
            // second, a clone of the first, is 5 days of a declining product.
            let decline: JSONValue = .object(["lifecycle": .object(["stage": "decline"])])
            for (path, tags, plan) in [("/scenarios", ["promo", "q1"], assumptions), ("/api/v1/scenarios", ["promo"], decline)] {
                try await client.execute(uri: path, method: .post, headers: json(account.token("viewer")),
                                         body: body(["name": "Plan", "run_id": .string(naive), "horizon": .number(Double(7 - ids.count * 2)),
                                                     "assumptions": plan, "tags": .array(tags.map { .string($0) }),
                                                     "cloned_from": ids.isEmpty ? .null : .string(ids[0])])) { response in
                    #expect(response.status == .created, "\(path): \(response.text)")
                    #expect(response.json?[["name"]]?.stringValue == "Plan")
                    #expect(response.json?[["run_id"]]?.stringValue == naive)
                    #expect(response.json?[["method"]]?.stringValue == "heuristic")
                    #expect(response.json?[["assumptions"]] == plan)
                    #expect(response.json?[["comparison", "coverage_verdict"]]?.stringValue == (ids.isEmpty ? "stockout" : "unknown"))
                    ids.append(response.json?[["scenario_id"]]?.stringValue ?? "")
                }
            }
            try #require(ids.count == 2 && ids.allSatisfy { $0.count == 32 }, "\(ids)")
            try await client.execute(uri: "/scenarios", method: .post, headers: json(account.token("viewer")),
                                     body: body(["run_id": .string(naive), "horizon": 7, "tags": .array(.init(repeating: "t", count: 21))])) { response in
                expectProblem(response, .unprocessableContent, type: "/errors/validation")
                #expect(fields(response) == ["name", "tags"], "\(response.text)")
            }
            try await client.execute(uri: "/scenarios", method: .post, headers: json(account.token("viewer")),
                                     body: body(["name": "Nope", "run_id": "0123456789ab", "horizon": 7])) { response in
                expectProblem(response, .notFound, type: "/errors/not-found", "an unknown artifact")
            }

            // List: newest first, tags by containment, paging; GET one.
            try await client.execute(uri: "/scenarios", method: .get, headers: .bearer(account.token("viewer"))) { response in
                #expect(response.status == .ok, "\(response.text)")
                #expect(response.json?[["total"]]?.numberValue == 2)
                #expect(element(response.json?[["scenarios"]], 0)?[["scenario_id"]]?.stringValue == ids[1], "newest first")
                #expect(element(response.json?[["scenarios"]], 1)?[["horizon"]]?.numberValue == 7)
            }
            try await client.execute(uri: "/scenarios?tags=promo&tags=q1", method: .get, headers: .bearer(account.token("viewer"))) { response in
                #expect(response.json?[["total"]]?.numberValue == 1, "\(response.text)")
                #expect(element(response.json?[["scenarios"]], 0)?[["scenario_id"]]?.stringValue == ids[0])
            }
            try await client.execute(uri: "/api/v1/scenarios?limit=1&offset=1", method: .get, headers: .bearer(account.token("viewer"))) { response in
                #expect(count(response.json?[["scenarios"]]) == 1, "\(response.text)")
                #expect(element(response.json?[["scenarios"]], 0)?[["scenario_id"]]?.stringValue == ids[0])
                #expect(response.json?[["total"]]?.numberValue == 2)
            }
            try await client.execute(uri: "/scenarios?limit=0", method: .get, headers: .bearer(account.token("viewer"))) { response in
                expectProblem(response, .unprocessableContent, type: "/errors/validation")
                #expect(fields(response) == ["limit"])
            }
            try await client.execute(uri: "/scenarios/\(ids[1])", method: .get, headers: .bearer(account.token("viewer"))) { response in
                #expect(response.status == .ok, "\(response.text)")
                #expect(response.json?[["cloned_from"]]?.stringValue == ids[0])
                #expect(count(response.json?[["comparison", "points"]]) == 5)
            }

            // Compare: ranked, the repeated name disambiguated in the chart.
            try await client.execute(uri: "/scenarios/compare", method: .post, headers: json(account.token("viewer")),
                                     body: body(["scenario_ids": .array([.string(ids[0]), .string(ids[1])]), "rank_by": "units_delta"])) { response in
                #expect(response.status == .ok, "\(response.text)")
                #expect(response.json?[["rank_by"]]?.stringValue == "units_delta")
                #expect(response.json?[["baseline_total_units"]]?.numberValue == 161, "the first plan's: 7 days of 23")
                #expect(element(response.json?[["scenarios"]], 0)?[["scenario_id"]]?.stringValue == ids[0], "the price cut gains, the decline loses")
                #expect(element(response.json?[["scenarios"]], 0)?[["rank"]]?.numberValue == 1)
                #expect(element(response.json?[["scenarios"]], 1)?[["series_name"]]?.stringValue == "Plan (2)")
                #expect(count(response.json?[["chart_series"]]) == 7)
                let row = element(response.json?[["chart_series"]], 6)
                #expect(row?[["date"]]?.stringValue == "2026-03-08")
                #expect(row?[["baseline"]]?.numberValue == 23)
                #expect(row?[["Plan"]]?.numberValue == 23)
                #expect(row?[["Plan (2)"]] == .null, "the 5-day plan does not cover the 7th day")
            }
            try await client.execute(uri: "/scenarios/compare", method: .post, headers: json(account.token("viewer")),
                                     body: body(["scenario_ids": .array([.string(ids[0])])])) { response in
                expectProblem(response, .unprocessableContent, type: "/errors/validation")
                #expect(fields(response) == ["scenario_ids"])
            }
            try await client.execute(uri: "/api/v1/scenarios/compare", method: .post, headers: json(account.token("viewer")),
                                     body: body(["scenario_ids": .array([.string(ids[0]), "0123456789abcdef0123456789abcdef"])])) { response in
                expectProblem(response, .notFound, type: "/errors/not-found", "an unknown plan")
            }

            // Another account sees and deletes none of it.
            try await client.execute(uri: "/scenarios/\(ids[0])", method: .get, headers: .bearer(other.token("admin"))) { response in
                expectProblem(response, .notFound, type: "/errors/not-found")
            }
            try await client.execute(uri: "/scenarios/\(ids[0])", method: .delete, headers: .bearer(other.token("admin"))) { response in
                expectProblem(response, .notFound, type: "/errors/not-found")
            }
            try await client.execute(uri: "/scenarios/compare", method: .post, headers: json(other.token("admin")),
                                     body: body(["scenario_ids": .array([.string(ids[0]), .string(ids[1])])])) { response in
                expectProblem(response, .notFound, type: "/errors/not-found")
            }
            try await client.execute(uri: "/scenarios", method: .get, headers: .bearer(other.token("viewer"))) { response in
                #expect(response.json?[["total"]]?.numberValue == 0, "\(response.text)")
                #expect(count(response.json?[["scenarios"]]) == 0)
            }

            // Delete: 204, then 404.
            try await client.execute(uri: "/scenarios/\(ids[0])", method: .delete, headers: .bearer(account.token("viewer"))) { response in
                #expect(response.status == .noContent, "\(response.text)")
            }
            try await client.execute(uri: "/api/v1/scenarios/\(ids[0])", method: .delete, headers: .bearer(account.token("viewer"))) { response in
                expectProblem(response, .notFound, type: "/errors/not-found")
            }
            try await client.execute(uri: "/scenarios/\(ids[0])", method: .get, headers: .bearer(account.token("viewer"))) { response in
                expectProblem(response, .notFound, type: "/errors/not-found")
            }
            try await client.execute(uri: "/scenarios", method: .get, headers: .bearer(account.token("viewer"))) { response in
                #expect(response.json?[["total"]]?.numberValue == 1, "\(response.text)")
            }
        }
    }
}
