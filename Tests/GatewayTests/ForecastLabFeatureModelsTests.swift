import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
@testable import GatewayCore

/// ForecastLab's feature-aware models over HTTP against the real database
/// (docs/forecastlab-models.md, "Feature-aware models"): train and predict through PL/Python, an
/// opt-in type enabled by its deployment setting and one left off, the 422s and 400s, a second
/// tenant. Serialized: one test turns a database setting on for the connections opened after it.
@Suite("ForecastLab feature-aware models", .serialized)
struct ForecastLabFeatureModelsTests: JSONRequests {
    /// A store and a product with 60 days of sales from 2026-01-01 (a weekly pattern and a trend).
    func seed(_ account: String) async throws -> (store: Int, product: Int) {
        let ids = try await TestEnvironment.psql("""
            with s as (insert into forecast.stores (account_id, store_code, name) values ('\(account)', 'F1', 'Feature store') returning id),
                 p as (insert into forecast.products (account_id, sku, name, base_price) values ('\(account)', 'F1', 'Feature product', 2) returning id),
                 sales as (insert into forecast.sales_daily (account_id, store_id, product_id, date, quantity, unit_price, total_amount)
                           select '\(account)', s.id, p.id, date '2026-01-01' + i, 10 + 3 * (i % 7) + i / 7, 2, 0
                             from s, p, generate_series(0, 59) i)
            select s.id || ',' || p.id from s, p
            """)
        let parts = ids.split(separator: ",").compactMap { Int($0) }
        try #require(parts.count == 2, "seeded ids: \(ids)")
        return (parts[0], parts[1])
    }

    func trainBody(_ store: Int, _ product: Int, _ config: [String: JSONValue]) -> [String: JSONValue] {
        ["store_id": .number(Double(store)), "product_id": .number(Double(product)),
         "train_start_date": "2026-01-01", "train_end_date": "2026-03-01", "config": .object(config)]
    }

    func predictBody(_ store: Int, _ product: Int, _ path: String, horizon: Int = 35) -> [String: JSONValue] {
        ["store_id": .number(Double(store)), "product_id": .number(Double(product)), "horizon": .number(Double(horizon)), "model_path": .string(path)]
    }

    @Test func trainAndPredict() async throws {
        let account = UUID().uuidString.lowercased(), other = UUID().uuidString.lowercased()
        let (store, product) = try await seed(account)
        let (otherStore, otherProduct) = try await seed(other)
        let admin = TestEnvironment.token(account: account, appRole: "admin")
        let app = try await buildApplication(TestEnvironment.configuration())
        try await app.test(.router) { client in
            var paths: [String: String] = [:]
            for config: [String: JSONValue] in [["model_type": "regression", "max_iter": 30], ["model_type": "prophet_like"]] {
                try await client.execute(uri: "/api/v1/forecasting/train", method: .post, headers: json(admin),
                                         body: body(trainBody(store, product, config))) { response in
                    #expect(response.status == .ok, "\(response.text)")
                    #expect(response.json?[["n_observations"]]?.numberValue == 60)
                    paths[config["model_type"]?.stringValue ?? ""] = response.json?[["model_path"]]?.stringValue
                }
            }
            for (type, path) in paths {
                try await client.execute(uri: "/forecasting/predict", method: .post, headers: json(TestEnvironment.token(account: account, appRole: "viewer")),
                                         body: body(predictBody(store, product, path))) { response in
                    #expect(response.status == .ok, "\(type): \(response.text)")
                    #expect(count(response.json?[["forecasts"]]) == 35)
                    #expect(element(response.json?[["forecasts"]], 0)?[["date"]]?.stringValue == "2026-03-02")
                    let values = (0..<35).compactMap { element(response.json?[["forecasts"]], $0)?[["forecast"]]?.numberValue }
                    #expect(values.count == 35 && values.allSatisfy { $0 > 5 && $0 < 60 }, "\(type): in the range of the target: \(values)")
                    #expect(response.json?[["model_type"]]?.stringValue == type)
                }
            }
            // Another account cannot name these models, nor train on this store.
            try await client.execute(uri: "/forecasting/predict", method: .post, headers: json(TestEnvironment.token(account: other, appRole: "admin")),
                                     body: body(predictBody(otherStore, otherProduct, paths["regression"] ?? ""))) { response in
                expectProblem(response, .notFound, type: "/errors/not-found", "another account's artifact")
            }
            try await client.execute(uri: "/forecasting/train", method: .post, headers: json(TestEnvironment.token(account: other, appRole: "admin")),
                                     body: body(trainBody(store, product, ["model_type": "regression"]))) { response in
                expectProblem(response, .notFound, type: "/errors/not-found", "another account's store")
            }
            // 422s: bounds and types of the feature-aware configs; 400s: the V2 frame, a flag that is off.
            try await client.execute(uri: "/forecasting/train", method: .post, headers: json(admin),
                                     body: body(trainBody(store, product, ["model_type": "regression", "max_iter": 5, "learning_rate": "fast"]))) { response in
                expectProblem(response, .unprocessableContent, type: "/errors/validation")
                #expect(fields(response).sorted() == ["config.regression.learning_rate", "config.regression.max_iter"], "\(response.text)")
            }
            var v2 = trainBody(store, product, ["model_type": "regression"])
            v2["feature_frame_version"] = 2
            try await client.execute(uri: "/forecasting/train", method: .post, headers: json(admin), body: body(v2)) { response in
                expectProblem(response, .badRequest, type: "/errors/bad-request", "the V2 frame is not served yet")
            }
            try await client.execute(uri: "/forecasting/train", method: .post, headers: json(admin),
                                     body: body(trainBody(store, product, ["model_type": "random_forest"]))) { response in
                expectProblem(response, .badRequest, type: "/errors/bad-request", "random_forest is off unless enabled")
                #expect(response.json?[["detail"]]?.stringValue?.contains("forecast_enable_random_forest") == true, "\(response.text)")
            }
        }
    }

    /// An opt-in type trains once its deployment setting is on (for connections opened after it).
    @Test func anEnabledOptInModel() async throws {
        let account = UUID().uuidString.lowercased()
        let (store, product) = try await seed(account)
        let admin = TestEnvironment.token(account: account, appRole: "admin")
        func alterDatabase(_ change: String) async throws {
            try await TestEnvironment.psql("do $$ begin execute format('alter database %I \(change)', current_database()); end $$")
        }
        try await alterDatabase("set forecastlab.forecast_enable_xgboost = on")
        let app = try await buildApplication(TestEnvironment.configuration())
        try await app.test(.router) { client in
            var path = ""
            try await client.execute(uri: "/forecasting/train", method: .post, headers: json(admin),
                                     body: body(trainBody(store, product, ["model_type": "xgboost", "n_estimators": 20, "max_depth": 3]))) { response in
                #expect(response.status == .ok, "\(response.text)")
                path = response.json?[["model_path"]]?.stringValue ?? ""
            }
            try await client.execute(uri: "/forecasting/predict", method: .post, headers: json(admin),
                                     body: body(predictBody(store, product, path, horizon: 7))) { response in
                #expect(response.status == .ok, "\(response.text)")
                #expect(count(response.json?[["forecasts"]]) == 7)
            }
        }
        try await alterDatabase("reset forecastlab.forecast_enable_xgboost")
    }
}
