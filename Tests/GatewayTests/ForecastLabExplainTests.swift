import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
@testable import GatewayCore

/// ForecastLab's explainability over HTTP against the real database (docs/forecastlab-models.md,
/// "Explainability"): POST /explain/forecast (also under /api/v1) and GET /explain/runs/{run_id},
/// their 422, 400 and 404 answers and two tenants. Every test works in accounts of its own.
@Suite("ForecastLab explain")
struct ForecastLabExplainTests: JSONRequests {
    typealias Account = TestAccount

    /// A store and a product with 28 days of sales from 2026-01-01: quantity base + 2·(i mod 7) + i div 7.
    func seed(_ account: Account, base: Int) async throws -> (store: Int, product: Int) {
        let ids = try await TestEnvironment.psql("""
            with s as (insert into forecast.stores (account_id, store_code, name) values ('\(account.id)', 'E1', 'Explain store') returning id),
                 p as (insert into forecast.products (account_id, sku, name, base_price) values ('\(account.id)', 'E1', 'Explain product', 1) returning id),
                 sales as (insert into forecast.sales_daily (account_id, store_id, product_id, date, quantity, unit_price, total_amount)
                           select '\(account.id)', s.id, p.id, date '2026-01-01' + i, \(base) + 2 * (i % 7) + i / 7, 1, 0
                             from s, p, generate_series(0, 27) i)
            select s.id || ',' || p.id from s, p
            """)
        let parts = ids.split(separator: ",").compactMap { Int($0) }
        try #require(parts.count == 2, "seeded ids: \(ids)")
        return (parts[0], parts[1])
    }

    func explainBody(_ store: Int, _ product: Int, _ modelType: String) -> ByteBuffer {
        body(["store_id": .number(Double(store)), "product_id": .number(Double(product)), "model_type": .string(modelType),
              "as_of_date": "2026-01-28", "window_size": 7])
    }

    @Test func explainForecastAndRuns() async throws {
        let account = Account()
        let other = Account()
        let (store, product) = try await seed(account, base: 10)
        let (otherStore, otherProduct) = try await seed(other, base: 100)
        let app = try await buildApplication(TestEnvironment.configuration())
        try await app.test(.router) { client in
            // The last 7 days (i = 21 … 27) are 13, 15, …, 25: mean 19, population std 4 (CV < 0.5: high).
            for path in ["/explain/forecast", "/api/v1/explain/forecast"] {
                try await client.execute(uri: path, method: .post, headers: json(account.token("viewer")),
                                         body: explainBody(store, product, "moving_average")) { response in
                    #expect(response.status == .ok, "\(path): \(response.text)")
                    #expect(response.json?[["method"]]?.stringValue == "rule_based")
                    #expect(response.json?[["model_type"]]?.stringValue == "moving_average")
                    #expect(response.json?[["forecast_value"]]?.numberValue == 19)
                    #expect(response.json?[["confidence"]]?.stringValue == "high")
                    #expect(response.json?[["as_of_date"]]?.stringValue == "2026-01-28")
                    #expect(element(response.json?[["drivers"]], 0)?[["name"]]?.stringValue == "window_mean")
                    #expect(element(response.json?[["drivers"]], 0)?[["contribution"]]?.numberValue == 19)
                    #expect(element(response.json?[["drivers"]], 1)?[["name"]]?.stringValue == "window_dispersion")
                    #expect(element(response.json?[["drivers"]], 1)?[["feature_value"]]?.numberValue == 4)
                    #expect(element(response.json?[["drivers"]], 1)?[["contribution"]]?.numberValue == 0)
                    #expect(count(response.json?[["reason_codes"]]) == 0)
                    #expect((count(response.json?[["caveats"]]) ?? 0) >= 2)
                }
            }
            // 422: an unknown model type and a window out of bounds, both listed.
            try await client.execute(uri: "/explain/forecast", method: .post, headers: json(account.token("viewer")),
                                     body: body(["store_id": .number(Double(store)), "product_id": .number(Double(product)),
                                                 "model_type": "prophet", "as_of_date": "2026-01-28", "window_size": 91])) { response in
                expectProblem(response, .unprocessableContent, type: "/errors/validation")
                #expect(fields(response) == ["model_type", "window_size"], "\(response.text)")
            }
            // 400: a model type /explain does not serve; a series too short for the model.
            try await client.execute(uri: "/explain/forecast", method: .post, headers: json(account.token("viewer")),
                                     body: explainBody(store, product, "lightgbm")) { response in
                expectProblem(response, .badRequest, type: "/errors/bad-request", "lightgbm is not explainable")
            }
            try await client.execute(uri: "/explain/forecast", method: .post, headers: json(account.token("viewer")),
                                     body: body(["store_id": .number(Double(store)), "product_id": .number(Double(product)),
                                                 "model_type": "moving_average", "as_of_date": "2026-01-03", "window_size": 7])) { response in
                expectProblem(response, .badRequest, type: "/errors/bad-request", "3 days are too few for a 7-day window")
            }
            // 404: another account's store and product; the second tenant sees only its own.
            try await client.execute(uri: "/explain/forecast", method: .post, headers: json(account.token("viewer")),
                                     body: explainBody(otherStore, otherProduct, "naive")) { response in
                expectProblem(response, .notFound, type: "/errors/not-found", "another account's store")
            }
            try await client.execute(uri: "/explain/forecast", method: .post, headers: json(other.token("viewer")),
                                     body: explainBody(otherStore, otherProduct, "naive")) { response in
                #expect(response.status == .ok, "\(response.text)")
                #expect(response.json?[["forecast_value"]]?.numberValue == 115, "the other tenant's last day: 100 + 12 + 3")
                #expect(element(response.json?[["drivers"]], 0)?[["name"]]?.stringValue == "last_observation")
            }

            // A registry run of a baseline, explained; an unknown run and another account's are 404s.
            var runID = ""
            try await client.execute(uri: "/registry/runs", method: .post, headers: json(account.token("admin")),
                                     body: body(["model_type": "seasonal_naive", "model_config": .object(["season_length": 7]),
                                                 "data_window_start": "2026-01-01", "data_window_end": "2026-01-28",
                                                 "store_id": .number(Double(store)), "product_id": .number(Double(product))])) { response in
                #expect(response.status == .created, "\(response.text)")
                runID = response.json?[["run_id"]]?.stringValue ?? ""
            }
            try await client.execute(uri: "/explain/runs/\(runID)", method: .get, headers: .bearer(account.token("viewer"))) { response in
                #expect(response.status == .ok, "\(response.text)")
                #expect(response.json?[["model_type"]]?.stringValue == "seasonal_naive")
                #expect(response.json?[["forecast_value"]]?.numberValue == 13, "day 21, one week before the forecast day")
                #expect(element(response.json?[["drivers"]], 0)?[["name"]]?.stringValue == "season_match")
            }
            try await client.execute(uri: "/api/v1/explain/runs/\(runID)", method: .get, headers: .bearer(other.token("viewer"))) { response in
                expectProblem(response, .notFound, type: "/errors/not-found", "another account's run")
            }
            try await client.execute(uri: "/explain/runs/0123456789abcdef0123456789abcdef", method: .get, headers: .bearer(account.token("viewer"))) { response in
                expectProblem(response, .notFound, type: "/errors/not-found", "an unknown run")
            }
            var ridgeRun = ""
            try await client.execute(uri: "/registry/runs", method: .post, headers: json(account.token("admin")),
                                     body: body(["model_type": "trend_regression_baseline", "model_config": .object([:]),
                                                 "data_window_start": "2026-01-01", "data_window_end": "2026-01-28",
                                                 "store_id": .number(Double(store)), "product_id": .number(Double(product))])) { response in
                #expect(response.status == .created, "\(response.text)")
                ridgeRun = response.json?[["run_id"]]?.stringValue ?? ""
            }
            try await client.execute(uri: "/explain/runs/\(ridgeRun)", method: .get, headers: .bearer(account.token("viewer"))) { response in
                expectProblem(response, .badRequest, type: "/errors/bad-request", "a non-baseline run")
            }
        }
    }
}
