import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
@testable import GatewayCore

/// ForecastLab's backtesting over HTTP against the real database (docs/forecastlab-models.md,
/// "Backtesting"): POST /backtesting/run answers folds, metrics, baselines and the comparison; NaN
/// and ∞ arrive as null; every 4xx in the FastAPI style; two tenants. Every test works in accounts of
/// its own, with a store and products inserted by psql (the data slice's tables).
@Suite("ForecastLab backtesting")
struct ForecastLabBacktestingTests: JSONRequests {
    typealias Account = TestAccount

    /// A store; product `weekly` with 28 days from 2026-01-01, quantity 10 + 2·(i mod 7) + i div 7;
    /// product `zeros` with 14 days of 5, then 7 days of 0.
    func seed(_ account: Account) async throws -> (store: Int, weekly: Int, zeros: Int) {
        let ids = try await TestEnvironment.psql("""
            with s as (insert into forecast.stores (account_id, store_code, name) values ('\(account.id)', 'B1', 'Backtest store') returning id),
                 p as (insert into forecast.products (account_id, sku, name, base_price) values ('\(account.id)', 'B1', 'Weekly', 1) returning id),
                 z as (insert into forecast.products (account_id, sku, name, base_price) values ('\(account.id)', 'B2', 'Zeros', 1) returning id),
                 sales as (insert into forecast.sales_daily (account_id, store_id, product_id, date, quantity, unit_price, total_amount)
                           select '\(account.id)'::uuid, s.id, p.id, date '2026-01-01' + i, 10 + 2 * (i % 7) + i / 7, 1, 1
                             from s, p, generate_series(0, 27) i
                           union all
                           select '\(account.id)'::uuid, s.id, z.id, date '2026-01-01' + i, case when i < 14 then 5 else 0 end, 1, 1
                             from s, z, generate_series(0, 20) i)
            select s.id || ',' || p.id || ',' || z.id from s, p, z
            """)
        let parts = ids.split(separator: ",").compactMap { Int($0) }
        try #require(parts.count == 3, "seeded ids: \(ids)")
        return (parts[0], parts[1], parts[2])
    }

    /// A request body: January 2026 of the store and product, a model and a split.
    func request(store: Int, product: Int, model: [String: JSONValue] = ["model_type": "naive"],
                 split: [String: JSONValue] = ["n_splits": 2, "min_train_size": 14, "horizon": 7],
                 extra: [String: JSONValue] = [:]) -> [String: JSONValue] {
        var config: [String: JSONValue] = ["model_config_main": .object(model), "split_config": .object(split)]
        config.merge(extra) { $1 }
        return ["store_id": .number(Double(store)), "product_id": .number(Double(product)),
                "start_date": "2026-01-01", "end_date": "2026-01-31", "config": .object(config)]
    }

    @Test func backtest() async throws {
        let account = Account()
        let (store, weekly, zeros) = try await seed(account)
        let app = try await buildApplication(TestEnvironment.configuration())
        try await app.test(.router) { client in
            // Two expanding folds of 7 days: naive forecasts the last training value (23, then 24),
            // A − F = −11 … 1 in both (MAE 37/7, bias −5); seasonal_naive(7) is one below each actual.
            try await client.execute(uri: "/backtesting/run", method: .post, headers: json(account.token("viewer")),
                                     body: body(request(store: store, product: weekly))) { response in
                #expect(response.status == .ok, "\(response.text)")
                let main = response.json?[["main_model_results"]]
                #expect(response.json?[["backtest_id"]]?.stringValue?.range(of: "^[0-9a-f]{16}$", options: .regularExpression) != nil)
                #expect(response.json?[["leakage_check_passed"]] == .bool(true))
                #expect(response.json?[["split_config"]] == .object(["strategy": "expanding", "n_splits": 2, "min_train_size": 14, "gap": 0, "horizon": 7]))
                #expect(count(main?[["fold_results"]]) == 2)
                let fold = element(main?[["fold_results"]], 1)
                #expect(fold?[["split"]] == .object(["fold_index": 1, "train_start": "2026-01-01", "train_end": "2026-01-21",
                                                      "test_start": "2026-01-22", "test_end": "2026-01-28", "train_size": 21, "test_size": 7]))
                #expect(element(fold?[["predictions"]], 0)?.numberValue == 24)
                #expect(element(fold?[["actuals"]], 0)?.numberValue == 13)
                #expect(abs((main?[["aggregated_metrics", "mae"]]?.numberValue ?? 0) - 37.0 / 7) < 1e-12, "\(response.text)")
                #expect(main?[["aggregated_metrics", "bias"]]?.numberValue == -5)
                #expect(main?[["aggregated_metrics", "rmse"]]?.numberValue != nil, "aggregated_metrics carries rmse")
                #expect(main?[["metric_std", "mae_stability"]]?.numberValue == 0)
                #expect(main?[["bucketed_aggregated_metrics", "h_1_7", "bias"]]?.numberValue == -5)
                #expect(fold?[["horizon_bucket_metrics", "h_8_14"]] == nil, "a 7-day horizon fills only h_1_7")
                #expect(count(response.json?[["baseline_results"]]) == 2)
                #expect(element(response.json?[["baseline_results"]], 1)?[["model_type"]]?.stringValue == "seasonal_naive")
                #expect(element(response.json?[["baseline_results"]], 1)?[["aggregated_metrics", "mae"]]?.numberValue == 1)
                #expect(response.json?[["comparison_summary", "bias"]] == .object(["main": -5, "naive": -5, "seasonal_naive": 1,
                                                                                   "vs_naive_pct": 0, "vs_seasonal_pct": -400]))
            }
            // Zero actuals: WAPE is +∞ and one fold's stability NaN, both answered as null.
            try await client.execute(uri: "/api/v1/backtesting/run", method: .post, headers: json(account.token("viewer")),
                                     body: body(request(store: store, product: zeros, extra: ["store_fold_details": .bool(false)]))) { response in
                #expect(response.status == .ok, "\(response.text)")
                let fold = element(response.json?[["main_model_results", "fold_results"]], 0)
                #expect(fold?[["metrics"]] == .object(["mae": 5, "rmse": 5, "smape": 200, "wape": .null, "bias": -5]), "\(response.text)")
                #expect(fold?[["actuals"]] == .array([]), "store_fold_details false")
                #expect(response.json?[["main_model_results", "metric_std", "mae_stability"]] == .null)
                #expect(response.json?[["comparison_summary", "wape"]] == .object(["main": .null, "naive": .null, "seasonal_naive": .null]))
            }
            // The ridge, sliding, with a gap and a horizon reaching h_8_14; no baselines.
            try await client.execute(uri: "/backtesting/run", method: .post, headers: json(account.token("viewer")),
                                     body: body(request(store: store, product: weekly, model: ["model_type": "trend_regression_baseline", "alpha": 0.5],
                                                        split: ["strategy": "sliding", "n_splits": 2, "min_train_size": 7, "gap": 1, "horizon": 10],
                                                        extra: ["include_baselines": .bool(false)]))) { response in
                #expect(response.status == .ok, "\(response.text)")
                let folds = response.json?[["main_model_results", "fold_results"]]
                #expect(count(folds) == 2)
                #expect(element(folds, 1)?[["split", "train_start"]]?.stringValue == "2026-01-11", "the window slides by (28 − 7 − 1 − 10) div 1 = 10")
                #expect(element(folds, 1)?[["split", "train_size"]]?.numberValue == 7)
                #expect(element(folds, 0)?[["split", "test_start"]]?.stringValue == "2026-01-09", "the test starts one row after training")
                #expect(element(folds, 0)?[["horizon_bucket_metrics", "h_8_14", "mae"]]?.numberValue != nil)
                #expect(response.json?[["main_model_results", "model_type"]]?.stringValue == "trend_regression_baseline")
                #expect(response.json?[["baseline_results"]] == .null)
                #expect(response.json?[["comparison_summary"]] == .null)
            }
        }
    }

    @Test func errors() async throws {
        let account = Account()
        let other = Account()
        let (store, weekly, _) = try await seed(account)
        let (otherStore, otherProduct, _) = try await seed(other)
        let app = try await buildApplication(TestEnvironment.configuration())
        try await app.test(.router) { client in
            let token = account.token("viewer")
            func post(_ fields: [String: JSONValue], as token: String?, _ check: @escaping (TestResponse) -> Void) async throws {
                try await client.execute(uri: "/backtesting/run", method: .post, headers: json(token), body: body(fields)) { check($0) }
            }
            // 422s.
            try await post(request(store: store, product: weekly, split: ["gap": 7, "horizon": 7]), as: token) { response in
                expectProblem(response, .unprocessableContent, type: "/errors/validation", "horizon must exceed gap")
                #expect(fields(response) == ["config.split_config"])
            }
            var bad = request(store: store, product: weekly)
            bad["end_date"] = "2026-01-01"
            try await post(bad, as: token) { response in
                expectProblem(response, .unprocessableContent, type: "/errors/validation", "end_date after start_date")
                #expect(fields(response) == ["end_date"])
            }
            try await post(request(store: store, product: weekly, split: ["n_splits": 21, "gap": 31, "min_train_size": 6, "horizon": 91]), as: token) { response in
                expectProblem(response, .unprocessableContent, type: "/errors/validation")
                #expect(Set(fields(response)) == ["config.split_config.n_splits", "config.split_config.gap",
                                                  "config.split_config.min_train_size", "config.split_config.horizon"], "\(response.text)")
            }
            try await post(request(store: store, product: weekly, split: ["n_splits": 1, "horizon": 0]), as: token) { response in
                expectProblem(response, .unprocessableContent, type: "/errors/validation")
                #expect(Set(fields(response)) == ["config.split_config.n_splits", "config.split_config.horizon"])
            }
            try await post(request(store: store, product: weekly, model: ["model_type": "moving_average", "window_size": 0]), as: token) { response in
                expectProblem(response, .unprocessableContent, type: "/errors/validation")
                #expect(fields(response) == ["config.model_config_main.moving_average.window_size"])
            }
            try await post(request(store: store, product: weekly, extra: ["folds": 3]), as: token) { response in
                expectProblem(response, .unprocessableContent, type: "/errors/validation", "unknown config keys")
                #expect(fields(response) == ["config.folds"])
            }
            bad = request(store: store, product: weekly)
            bad["horizon"] = 7
            try await post(bad, as: token) { response in
                expectProblem(response, .unprocessableContent, type: "/errors/validation", "unknown body keys")
            }
            // 400s: an opt-in model whose flag is off, no rows, too few rows, a main model that cannot fit a fold.
            try await post(request(store: store, product: weekly, model: ["model_type": "lightgbm"]), as: token) { response in
                expectProblem(response, .badRequest, type: "/errors/bad-request", "a disabled model type")
                #expect(response.json?[["detail"]]?.stringValue?.contains("forecast_enable_lightgbm") == true)
            }
            bad = request(store: store, product: weekly)
            bad["start_date"] = "2025-01-01"
            bad["end_date"] = "2025-12-31"
            try await post(bad, as: token) { response in
                expectProblem(response, .badRequest, type: "/errors/bad-request", "no rows")
            }
            try await post(request(store: store, product: weekly, split: ["min_train_size": 20, "gap": 2, "horizon": 7]), as: token) { response in
                expectProblem(response, .badRequest, type: "/errors/bad-request")
                #expect(response.json?[["detail"]]?.stringValue == "Not enough data to backtest: 28 rows in the window, and the split needs at least min_train_size + gap + horizon = 20 + 2 + 7 = 29")
            }
            try await post(request(store: store, product: weekly, model: ["model_type": "seasonal_naive", "season_length": 10],
                                   split: ["min_train_size": 7, "horizon": 7]), as: token) { response in
                expectProblem(response, .badRequest, type: "/errors/bad-request")
                #expect(response.json?[["detail"]]?.stringValue == "seasonal_naive needs at least 10 observations in the training window, found 7")
            }
            // Two tenants: another account's store or product is a 404, as for training.
            try await post(request(store: otherStore, product: otherProduct), as: token) { response in
                expectProblem(response, .notFound, type: "/errors/not-found", "another account's store")
            }
            try await post(request(store: store, product: otherProduct), as: token) { response in
                expectProblem(response, .notFound, type: "/errors/not-found", "another account's product")
            }
            try await post(request(store: otherStore, product: otherProduct), as: other.token("viewer")) { response in
                #expect(response.status == .ok, "each account backtests its own: \(response.text)")
            }
            try await post(request(store: store, product: weekly), as: nil) { response in
                #expect(response.status == .unauthorized)
            }
        }
    }
}
