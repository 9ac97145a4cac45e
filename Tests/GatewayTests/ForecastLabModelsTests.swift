import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
@testable import GatewayCore

/// ForecastLab's models over HTTP against the real database (docs/forecastlab-models.md): train and
/// predict, artifacts that only their own account can name, the registry (runs, the status machine,
/// verify, aliases, compare), FastAPI-style errors and two tenants. Every test works in accounts of
/// its own, with a store and product inserted by psql (the data slice's tables).
@Suite("ForecastLab models")
struct ForecastLabModelsTests: JSONRequests {
    typealias Account = TestAccount

    /// A store and a product with 28 days of sales from 2026-01-01: quantity 10 + 2·(i mod 7) + i div 7.
    func seed(_ account: Account) async throws -> (store: Int, product: Int) {
        let ids = try await TestEnvironment.psql("""
            with s as (insert into forecast.stores (account_id, store_code, name) values ('\(account.id)', 'M1', 'Models store') returning id),
                 p as (insert into forecast.products (account_id, sku, name, base_price) values ('\(account.id)', 'M1', 'Models product', 1) returning id),
                 sales as (insert into forecast.sales_daily (account_id, store_id, product_id, date, quantity, unit_price, total_amount)
                           select '\(account.id)', s.id, p.id, date '2026-01-01' + i, 10 + 2 * (i % 7) + i / 7, 1, 10 + 2 * (i % 7) + i / 7
                             from s, p, generate_series(0, 27) i)
            select s.id || ',' || p.id from s, p
            """)
        let parts = ids.split(separator: ",").compactMap { Int($0) }
        try #require(parts.count == 2, "seeded ids: \(ids)")
        return (parts[0], parts[1])
    }

    @Test func trainAndPredict() async throws {
        let account = Account()
        let other = Account()
        let (store, product) = try await seed(account)
        let (otherStore, otherProduct) = try await seed(other)
        let app = try await buildApplication(TestEnvironment.configuration())
        try await app.test(.router) { client in
            let trainBody: [String: JSONValue] = ["store_id": .number(Double(store)), "product_id": .number(Double(product)),
                                                  "train_start_date": "2026-01-01", "train_end_date": "2026-01-28",
                                                  "config": .object(["model_type": "seasonal_naive"])]
            try await client.execute(uri: "/forecasting/train", method: .post, headers: json(account.token("viewer")), body: body(trainBody)) { response in
                expectProblem(response, .forbidden, type: "/errors/forbidden", "training is for admins")
            }
            var modelPath = ""
            try await client.execute(uri: "/forecasting/train", method: .post, headers: json(account.token("admin")), body: body(trainBody)) { response in
                #expect(response.status == .ok, "\(response.text)")
                modelPath = response.json?[["model_path"]]?.stringValue ?? ""
                #expect(modelPath.range(of: #"^artifacts/models/model_[0-9a-f]{12}\.joblib$"#, options: .regularExpression) != nil, "\(response.text)")
                #expect(response.json?[["n_observations"]]?.numberValue == 28)
                #expect(response.json?[["model_type"]]?.stringValue == "seasonal_naive")
            }
            try await client.execute(uri: "/api/v1/forecasting/predict", method: .post, headers: json(account.token("viewer")),
                                     body: body(["store_id": .number(Double(store)), "product_id": .number(Double(product)), "horizon": 8,
                                                 "model_path": .string(modelPath)])) { response in
                #expect(response.status == .ok, "\(response.text)")
                let first = element(response.json?[["forecasts"]], 0)
                #expect(first?[["date"]]?.stringValue == "2026-01-29")
                #expect(first?[["forecast"]]?.numberValue == 13, "the value of the same weekday a week before")
                #expect(element(response.json?[["forecasts"]], 7)?[["forecast"]]?.numberValue == 13, "the season cycles")
                #expect(count(response.json?[["forecasts"]]) == 8)
            }
            // 422s: a window that does not move forward, a parameter out of bounds, an unknown key.
            var bad = trainBody
            bad["train_end_date"] = "2026-01-01"
            bad["config"] = .object(["model_type": "moving_average", "window_size": 91])
            try await client.execute(uri: "/forecasting/train", method: .post, headers: json(account.token("admin")), body: body(bad)) { response in
                expectProblem(response, .unprocessableContent, type: "/errors/validation")
                #expect(fields(response) == ["train_end_date"], "the body's own fields first: \(response.text)")
            }
            bad = trainBody
            bad["config"] = .object(["model_type": "moving_average", "window_size": 91])
            try await client.execute(uri: "/forecasting/train", method: .post, headers: json(account.token("admin")), body: body(bad)) { response in
                expectProblem(response, .unprocessableContent, type: "/errors/validation")
                #expect(fields(response) == ["config.moving_average.window_size"])
            }
            bad = trainBody
            bad["learning_rate"] = 1
            try await client.execute(uri: "/forecasting/train", method: .post, headers: json(account.token("admin")), body: body(bad)) { response in
                expectProblem(response, .unprocessableContent, type: "/errors/validation", "an unknown key")
            }
            // 400s: an opt-in model whose flag is off, too little data. 404: another account's store.
            bad = trainBody
            bad["config"] = .object(["model_type": "lightgbm"])
            try await client.execute(uri: "/forecasting/train", method: .post, headers: json(account.token("admin")), body: body(bad)) { response in
                expectProblem(response, .badRequest, type: "/errors/bad-request", "lightgbm is off unless enabled")
                #expect(response.json?[["detail"]]?.stringValue?.contains("forecast_enable_lightgbm") == true, "\(response.text)")
            }
            bad = trainBody
            bad["config"] = .object(["model_type": "moving_average", "window_size": 60])
            try await client.execute(uri: "/forecasting/train", method: .post, headers: json(account.token("admin")), body: body(bad)) { response in
                expectProblem(response, .badRequest, type: "/errors/bad-request")
                #expect(response.json?[["detail"]]?.stringValue == "moving_average needs at least 60 observations in the training window, found 28")
            }
            bad = trainBody
            bad["store_id"] = .number(Double(otherStore))
            try await client.execute(uri: "/forecasting/train", method: .post, headers: json(account.token("admin")), body: body(bad)) { response in
                expectProblem(response, .notFound, type: "/errors/not-found", "another account's store")
            }
            // Predict: only the caller's own artifacts, only by upstream's path shape.
            for path in ["/etc/passwd", "../artifacts/models/model_0123456789ab.joblib", "artifacts/models/model_0123456789ab.pkl"] {
                try await client.execute(uri: "/forecasting/predict", method: .post, headers: json(account.token("viewer")),
                                         body: body(["store_id": .number(Double(store)), "product_id": .number(Double(product)), "horizon": 3,
                                                     "model_path": .string(path)])) { response in
                    expectProblem(response, .badRequest, type: "/errors/bad-request", "\(path) names no artifact")
                }
            }
            try await client.execute(uri: "/forecasting/predict", method: .post, headers: json(account.token("viewer")),
                                     body: body(["store_id": .number(Double(store)), "product_id": .number(Double(product)), "horizon": 3,
                                                 "model_path": "artifacts/models/model_0123456789ab.joblib"])) { response in
                expectProblem(response, .notFound, type: "/errors/not-found", "an unknown key")
            }
            try await client.execute(uri: "/forecasting/predict", method: .post, headers: json(account.token("viewer")),
                                     body: body(["store_id": .number(Double(store)), "product_id": .number(Double(product)), "horizon": 91,
                                                 "model_path": .string(modelPath)])) { response in
                expectProblem(response, .unprocessableContent, type: "/errors/validation")
                #expect(fields(response) == ["horizon"])
            }
            try await client.execute(uri: "/forecasting/predict", method: .post, headers: json(other.token("admin")),
                                     body: body(["store_id": .number(Double(otherStore)), "product_id": .number(Double(otherProduct)), "horizon": 3,
                                                 "model_path": .string(modelPath)])) { response in
                expectProblem(response, .notFound, type: "/errors/not-found", "another account's artifact is not found")
            }
            try await client.execute(uri: "/forecasting/predict", method: .post, headers: json(),
                                     body: body(["store_id": 1, "product_id": 1, "horizon": 3, "model_path": .string(modelPath)])) { response in
                #expect(response.status == .unauthorized)
            }
        }
    }

    @Test func registry() async throws {
        let account = Account()
        let other = Account()
        let (store, product) = try await seed(account)
        let app = try await buildApplication(TestEnvironment.configuration())
        try await app.test(.router) { client in
            var modelPath = ""
            try await client.execute(uri: "/forecasting/train", method: .post, headers: json(account.token("admin")),
                                     body: body(["store_id": .number(Double(store)), "product_id": .number(Double(product)),
                                                 "train_start_date": "2026-01-01", "train_end_date": "2026-01-28",
                                                 "config": .object(["model_type": "trend_regression_baseline", "alpha": 2.5])])) { response in
                #expect(response.status == .ok, "\(response.text)")
                modelPath = response.json?[["model_path"]]?.stringValue ?? ""
            }
            let runBody: [String: JSONValue] = ["model_type": "trend_regression_baseline", "model_config": .object(["alpha": 2.5]),
                                                "data_window_start": "2026-01-01", "data_window_end": "2026-01-28",
                                                "store_id": .number(Double(store)), "product_id": .number(Double(product))]
            try await client.execute(uri: "/registry/runs", method: .post, headers: json(account.token("viewer")), body: body(runBody)) { response in
                expectProblem(response, .forbidden, type: "/errors/forbidden")
            }
            var runs: [String] = []
            for _ in 0..<2 {
                try await client.execute(uri: "/registry/runs", method: .post, headers: json(account.token("admin")), body: body(runBody)) { response in
                    #expect(response.status == .created, "\(response.text)")
                    #expect(response.json?[["status"]]?.stringValue == "pending")
                    #expect(response.json?[["model_family"]]?.stringValue == "additive")
                    runs.append(response.json?[["run_id"]]?.stringValue ?? "")
                    if runs.count == 2 {
                        #expect(response.json?[["duplicate_of"]] == .array([.string(runs[0])]), "duplicates are detected, not refused")
                    }
                }
            }
            var invalid = runBody
            invalid["data_window_end"] = "2025-12-31"
            invalid["color"] = "red"
            try await client.execute(uri: "/registry/runs", method: .post, headers: json(account.token("admin")), body: body(invalid)) { response in
                expectProblem(response, .unprocessableContent, type: "/errors/validation", "unknown keys are refused")
            }
            invalid["color"] = nil
            try await client.execute(uri: "/registry/runs", method: .post, headers: json(account.token("admin")), body: body(invalid)) { response in
                expectProblem(response, .unprocessableContent, type: "/errors/validation")
                #expect(fields(response) == ["data_window_end"])
            }
            try await client.execute(uri: "/registry/runs?page_size=1&sort_by=status&sort_order=asc", method: .get, headers: .bearer(account.token("viewer"))) { response in
                #expect(response.status == .ok)
                #expect(response.json?[["total"]]?.numberValue == 2)
                #expect(count(response.json?[["runs"]]) == 1)
            }
            try await client.execute(uri: "/registry/runs?page_size=101", method: .get, headers: .bearer(account.token("viewer"))) { response in
                expectProblem(response, .unprocessableContent, type: "/errors/validation")
            }
            // The status machine.
            try await client.execute(uri: "/registry/runs/\(runs[0])", method: .patch, headers: json(account.token("admin")),
                                     body: body(["status": "success"])) { response in
                expectProblem(response, .badRequest, type: "/errors/bad-request")
                #expect(response.json?[["detail"]]?.stringValue == "Invalid status transition: pending -> success")
            }
            try await client.execute(uri: "/registry/runs/\(runs[0])", method: .patch, headers: json(account.token("admin")),
                                     body: body(["status": "running"])) { response in
                #expect(response.json?[["started_at"]]?.stringValue != nil, "\(response.text)")
            }
            try await client.execute(uri: "/registry/runs/\(runs[0])", method: .patch, headers: json(account.token("admin")),
                                     body: body(["artifact_uri": "file:///etc/passwd"])) { response in
                expectProblem(response, .badRequest, type: "/errors/bad-request", "an artifact_uri is never a file")
            }
            try await client.execute(uri: "/registry/runs/\(runs[0])", method: .patch, headers: json(account.token("admin")),
                                     body: body(["status": "success", "artifact_uri": .string(modelPath), "metrics": .object(["mae": 2.0])])) { response in
                #expect(response.status == .ok, "\(response.text)")
                #expect(response.json?[["artifact_hash"]]?.stringValue?.count == 64)
                #expect(response.json?[["completed_at"]]?.stringValue != nil)
            }
            try await client.execute(uri: "/registry/runs/\(runs[0])/verify", method: .get, headers: .bearer(account.token("viewer"))) { response in
                #expect(response.status == .ok, "\(response.text)")
                #expect(response.json?[["verified"]] == .bool(true))
                #expect(response.json?[["computed_hash"]] == response.json?[["stored_hash"]])
            }
            try await client.execute(uri: "/registry/runs/\(runs[1])/verify", method: .get, headers: .bearer(account.token("viewer"))) { response in
                expectProblem(response, .badRequest, type: "/errors/bad-request", "no artifact to verify")
            }
            // Aliases.
            try await client.execute(uri: "/registry/aliases", method: .post, headers: json(account.token("admin")),
                                     body: body(["alias_name": "prod", "run_id": .string(runs[1])])) { response in
                expectProblem(response, .badRequest, type: "/errors/bad-request", "only onto a successful run")
            }
            try await client.execute(uri: "/registry/aliases", method: .post, headers: json(account.token("admin")),
                                     body: body(["alias_name": "Prod Line", "run_id": .string(runs[0])])) { response in
                expectProblem(response, .unprocessableContent, type: "/errors/validation")
                #expect(fields(response) == ["alias_name"])
            }
            try await client.execute(uri: "/registry/aliases", method: .post, headers: json(account.token("admin")),
                                     body: body(["alias_name": "prod", "run_id": .string(runs[0]), "description": "live"])) { response in
                #expect(response.status == .created, "\(response.text)")
                #expect(response.json?[["run_status"]]?.stringValue == "success")
            }
            try await client.execute(uri: "/registry/aliases", method: .get, headers: .bearer(account.token("viewer"))) { response in
                #expect(count(response.json) == 1, "\(response.text)")
            }
            try await client.execute(uri: "/api/v1/registry/aliases/prod", method: .get, headers: .bearer(account.token("viewer"))) { response in
                #expect(response.json?[["run_id"]]?.stringValue == runs[0])
            }
            try await client.execute(uri: "/registry/compare/\(runs[0])/\(runs[1])", method: .get, headers: .bearer(account.token("viewer"))) { response in
                #expect(response.status == .ok, "\(response.text)")
                #expect(response.json?[["config_diff"]] == .object([:]), "same configuration")
                #expect(response.json?[["metrics_diff", "mae", "a"]]?.numberValue == 2)
            }
            // Another account sees and touches none of it.
            try await client.execute(uri: "/registry/runs/\(runs[0])", method: .get, headers: .bearer(other.token("admin"))) { response in
                expectProblem(response, .notFound, type: "/errors/not-found")
            }
            try await client.execute(uri: "/registry/runs", method: .get, headers: .bearer(other.token("admin"))) { response in
                #expect(response.json?[["total"]]?.numberValue == 0)
            }
            try await client.execute(uri: "/registry/runs/\(runs[0])/verify", method: .get, headers: .bearer(other.token("admin"))) { response in
                expectProblem(response, .notFound, type: "/errors/not-found")
            }
            try await client.execute(uri: "/registry/compare/\(runs[0])/\(runs[1])", method: .get, headers: .bearer(other.token("admin"))) { response in
                expectProblem(response, .notFound, type: "/errors/not-found")
            }
            try await client.execute(uri: "/registry/aliases/prod", method: .delete, headers: .bearer(other.token("admin"))) { response in
                expectProblem(response, .notFound, type: "/errors/not-found")
            }
            try await client.execute(uri: "/registry/aliases", method: .post, headers: json(other.token("admin")),
                                     body: body(["alias_name": "prod", "run_id": .string(runs[0])])) { response in
                expectProblem(response, .badRequest, type: "/errors/bad-request", "another account's run is not found")
            }
            // Delete: 204, then 404; archived is terminal.
            try await client.execute(uri: "/registry/aliases/prod", method: .delete, headers: .bearer(account.token("viewer"))) { response in
                expectProblem(response, .forbidden, type: "/errors/forbidden")
            }
            try await client.execute(uri: "/registry/aliases/prod", method: .delete, headers: .bearer(account.token("admin"))) { response in
                #expect(response.status == .noContent, "\(response.text)")
            }
            try await client.execute(uri: "/registry/aliases/prod", method: .get, headers: .bearer(account.token("viewer"))) { response in
                expectProblem(response, .notFound, type: "/errors/not-found")
            }
            try await client.execute(uri: "/registry/runs/\(runs[1])", method: .patch, headers: json(account.token("admin")),
                                     body: body(["status": "archived"])) { response in
                #expect(response.json?[["status"]]?.stringValue == "archived")
            }
            try await client.execute(uri: "/registry/runs/\(runs[1])", method: .patch, headers: json(account.token("admin")),
                                     body: body(["status": "running"])) { response in
                expectProblem(response, .badRequest, type: "/errors/bad-request", "archived is terminal")
            }
        }
    }
}
