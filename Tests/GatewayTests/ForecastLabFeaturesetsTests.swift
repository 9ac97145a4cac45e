import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
@testable import GatewayCore

/// ForecastLab's feature sets over HTTP against the real database (docs/forecastlab-models.md,
/// "Feature sets"): POST /featuresets/compute and /preview (also under /api/v1/) answer the frame's
/// rows, columns, null counts and config_hash; every 4xx in the FastAPI style; two tenants. Every
/// test works in accounts of its own, with a store and products inserted by psql (the data slice's
/// tables). The values are checked cell by cell in Tests/sql/42 and bench/reference/check_features.py.
@Suite("ForecastLab feature sets")
struct ForecastLabFeaturesetsTests: JSONRequests {
    typealias Account = TestAccount

    /// A store; product `sold` with sales on 2026-01-01 … 01-10 but not 01-05 and 01-06 (quantity
    /// 4 6 8 2 – – 10 3 5 7), a promotion for every store on 01-02 … 01-03; product `unsold`, no sales.
    func seed(_ account: Account) async throws -> (store: Int, sold: Int, unsold: Int) {
        let ids = try await TestEnvironment.psql("""
            with s as (insert into forecast.stores (account_id, store_code, name) values ('\(account.id)', 'F1', 'Features store') returning id),
                 p as (insert into forecast.products (account_id, sku, name, base_price) values ('\(account.id)', 'F1', 'Sold', 2) returning id),
                 u as (insert into forecast.products (account_id, sku, name, base_price) values ('\(account.id)', 'F2', 'Unsold', 2) returning id),
                 sales as (insert into forecast.sales_daily (account_id, store_id, product_id, date, quantity, unit_price, total_amount)
                           select '\(account.id)'::uuid, s.id, p.id, v.d, v.q, 2, 2 * v.q
                             from s, p, (values (date '2026-01-01', 4), ('2026-01-02', 6), ('2026-01-03', 8), ('2026-01-04', 2),
                                                ('2026-01-07', 10), ('2026-01-08', 3), ('2026-01-09', 5), ('2026-01-10', 7)) v(d, q)),
                 promo as (insert into forecast.promotions (account_id, product_id, store_id, start_date, end_date, discount_pct)
                           select '\(account.id)'::uuid, p.id, null, date '2026-01-02', date '2026-01-03', 10 from p)
            select s.id || ',' || p.id || ',' || u.id from s, p, u
            """)
        let parts = ids.split(separator: ",").compactMap { Int($0) }
        try #require(parts.count == 3, "seeded ids: \(ids)")
        return (parts[0], parts[1], parts[2])
    }

    /// A body: the store and product, a cutoff, and a config given as JSON text.
    func request(store: Int, product: Int, cutoff: String = "2026-01-10", config: String,
                 extra: [String: JSONValue] = [:]) throws -> [String: JSONValue] {
        let parsed = try #require(try? JSONValue.parse(Data(config.utf8)), "config JSON: \(config)")
        var fields: [String: JSONValue] = ["store_id": .number(Double(store)), "product_id": .number(Double(product)),
                                           "cutoff_date": .string(cutoff), "config": parsed]
        fields.merge(extra) { $1 }
        return fields
    }

    /// One feature of every row ("missing" where a row lacks it).
    func column(_ response: TestResponse, _ name: String) -> [JSONValue] {
        guard case .array(let rows)? = response.json?[["rows"]] else { return [] }
        return rows.map { $0[["features", name]] ?? "missing" }
    }

    static let frameConfig = #"""
        {"name": "http", "lag_config": {"lags": [1, 7]}, "rolling_config": {"windows": [3], "aggregations": ["mean", "std"], "min_periods": 2},
         "calendar_config": {"use_cyclical_encoding": false}, "exogenous_config": {"include_price": false}, "imputation_config": {}}
        """#

    @Test func computeAndPreview() async throws {
        let account = Account()
        let (store, sold, _) = try await seed(account)
        let app = try await buildApplication(TestEnvironment.configuration())
        try await app.test(.router) { client in
            var computed: JSONValue?
            try await client.execute(uri: "/featuresets/compute", method: .post, headers: json(account.token("viewer")),
                                     body: body(request(store: store, product: sold, config: Self.frameConfig, extra: ["lookback_days": 30]))) { response in
                #expect(response.status == .ok, "\(response.text)")
                computed = response.json
                #expect(response.json?[["row_count"]]?.numberValue == 10, "a row per day from the first sale to the cutoff")
                #expect(response.json?[["cutoff_date"]]?.stringValue == "2026-01-10")
                #expect(response.json?[["config_hash"]]?.stringValue?.range(of: "^[0-9a-f]{16}$", options: .regularExpression) != nil)
                #expect(response.json?[["duration_ms"]]?.numberValue != nil)
                #expect(response.json?[["feature_columns"]] == .array(["lag_1", "lag_7", "rolling_mean_3", "rolling_std_3", "day_of_week", "month",
                                                                      "quarter", "is_weekend", "is_month_end", "is_holiday", "promo_active",
                                                                      "promo_discount_pct", "stockout_lag_1"]), "\(response.text)")
                let first = element(response.json?[["rows"]], 0)
                #expect(first?[["date"]]?.stringValue == "2026-01-01")
                #expect(first?[["store_id"]]?.numberValue == Double(store))
                #expect(first?[["product_id"]]?.numberValue == Double(sold))
                #expect(column(response, "lag_1") == [.null, 4, 6, 8, 2, 0, 0, 10, 3, 5], "the previous day, days without sales imputed 0")
                #expect(element(response.json?[["rows"]], 6)?[["date"]]?.stringValue == "2026-01-07")
                #expect(column(response, "day_of_week") == [3, 4, 5, 6, 0, 1, 2, 3, 4, 5], "Monday 0")
                #expect(column(response, "promo_discount_pct") == [0, 10, 10, 0, 0, 0, 0, 0, 0, 0])
                let std = element(response.json?[["rows"]], 2)?[["features", "rolling_std_3"]]?.numberValue ?? 0
                #expect(abs(std - 2.0.squareRoot()) < 1e-12, "the sample std of 4 and 6")
                #expect(response.json?[["null_counts", "lag_1"]]?.numberValue == 1)
                #expect(response.json?[["null_counts", "lag_7"]]?.numberValue == 7)
                #expect(response.json?[["null_counts", "stockout_lag_1"]]?.numberValue == 10, "no snapshots")
            }
            // The /api/v1/ alias answers the same frame.
            try await client.execute(uri: "/api/v1/featuresets/compute", method: .post, headers: json(account.token("viewer")),
                                     body: body(request(store: store, product: sold, config: Self.frameConfig, extra: ["lookback_days": 30]))) { response in
                #expect(response.status == .ok, "\(response.text)")
                #expect(response.json?[["rows"]] == computed?[["rows"]])
                #expect(response.json?[["config_hash"]] == computed?[["config_hash"]])
            }
            // Preview: the last sample_rows rows of the 365-day frame; null_counts of the whole frame.
            try await client.execute(uri: "/featuresets/preview", method: .post, headers: json(account.token("viewer")),
                                     body: body(request(store: store, product: sold, config: Self.frameConfig, extra: ["sample_rows": 3]))) { response in
                #expect(response.status == .ok, "\(response.text)")
                #expect(response.json?[["row_count"]]?.numberValue == 3)
                #expect(element(response.json?[["rows"]], 0) == element(computed?[["rows"]], 7))
                #expect(element(response.json?[["rows"]], 2)?[["date"]]?.stringValue == "2026-01-10")
                #expect(response.json?[["null_counts"]] == computed?[["null_counts"]])
            }
            try await client.execute(uri: "/api/v1/featuresets/preview", method: .post, headers: json(account.token("admin")),
                                     body: body(request(store: store, product: sold, config: #"{"name": "defaults only"}"#))) { response in
                #expect(response.status == .ok, "\(response.text)")
                #expect(response.json?[["row_count"]]?.numberValue == 10, "sample_rows defaults to 10")
                #expect(response.json?[["feature_columns"]] == .array([]), "sub-configs are off unless given")
            }
            // Rows planted after the cutoff change nothing.
            _ = try await TestEnvironment.psql("""
                insert into forecast.sales_daily (account_id, store_id, product_id, date, quantity, unit_price, total_amount)
                select '\(account.id)'::uuid, \(store), \(sold), date '2026-01-11' + i, 99999, 9, 9 from generate_series(0, 9) i;
                insert into forecast.promotions (account_id, product_id, store_id, start_date, end_date, discount_pct)
                values ('\(account.id)'::uuid, \(sold), null, date '2026-01-11', date '2026-02-01', 99)
                """)
            try await client.execute(uri: "/featuresets/compute", method: .post, headers: json(account.token("viewer")),
                                     body: body(request(store: store, product: sold, config: Self.frameConfig, extra: ["lookback_days": 30]))) { response in
                #expect(response.status == .ok, "\(response.text)")
                #expect(response.json?[["rows"]] == computed?[["rows"]], "rows dated after the cutoff are never read")
            }
        }
    }

    @Test func errors() async throws {
        let account = Account()
        let other = Account()
        let (store, sold, unsold) = try await seed(account)
        let (otherStore, otherSold, _) = try await seed(other)
        let app = try await buildApplication(TestEnvironment.configuration())
        try await app.test(.router) { client in
            let token = account.token("viewer")
            func post(_ fields: [String: JSONValue], as token: String?, to path: String = "/featuresets/compute",
                      _ check: @escaping (TestResponse) -> Void) async throws {
                try await client.execute(uri: path, method: .post, headers: json(token), body: body(fields)) { check($0) }
            }
            // 422s: the body's bounds, the config's every problem, unknown keys, wrong types.
            try await post(request(store: store, product: sold, config: #"{"name": "n"}"#, extra: ["lookback_days": 1096]), as: token) { response in
                expectProblem(response, .unprocessableContent, type: "/errors/validation")
                #expect(fields(response) == ["lookback_days"])
            }
            try await post(request(store: store, product: sold, config: #"{"name": "n"}"#, extra: ["sample_rows": 101]), as: token, to: "/featuresets/preview") { response in
                expectProblem(response, .unprocessableContent, type: "/errors/validation")
                #expect(fields(response) == ["sample_rows"])
            }
            try await post(request(store: store, product: sold, config: #"""
                {"name": "", "lag_config": {"lags": [0]}, "rolling_config": {"windows": [7], "min_periods": 8},
                 "calendar_config": {"include_year": "yes"}, "imputation_config": {"strategies": {"quantity": "bfill"}}, "colour": 1}
                """#), as: token) { response in
                expectProblem(response, .unprocessableContent, type: "/errors/validation")
                #expect(fields(response) == ["config.name", "config.lag_config.lags", "config.rolling_config.min_periods",
                                             "config.calendar_config.include_year", "config.imputation_config.strategies.quantity",
                                             "config.colour"], "every problem, Pydantic's paths: \(response.text)")
                #expect(response.json?[["detail"]]?.stringValue?.contains("6 error(s)") == true, "\(response.text)")
            }
            try await post(request(store: store, product: sold, config: #"{"lag_config": {"lags": "7"}}"#), as: token) { response in
                expectProblem(response, .unprocessableContent, type: "/errors/validation")
                #expect(fields(response) == ["config.name", "config.lag_config.lags"])
            }
            try await post(request(store: store, product: sold, config: #"{"name": "n"}"#, extra: ["horizon": 7]), as: token) { response in
                expectProblem(response, .unprocessableContent, type: "/errors/validation", "an unknown body key")
            }
            try await post(request(store: store, product: sold, config: #"{"name": "n"}"#, extra: ["lookback_days": "many"]), as: token) { response in
                expectProblem(response, .unprocessableContent, type: "/errors/validation", "lookback_days is an integer")
            }
            // 404s: no sales, a cutoff before them, another account's store or product.
            try await post(request(store: store, product: unsold, config: #"{"name": "n"}"#), as: token) { response in
                expectProblem(response, .notFound, type: "/errors/not-found", "no data")
            }
            try await post(request(store: store, product: sold, cutoff: "2025-12-31", config: #"{"name": "n"}"#), as: token, to: "/featuresets/preview") { response in
                expectProblem(response, .notFound, type: "/errors/not-found", "no data before the cutoff")
            }
            try await post(request(store: otherStore, product: sold, config: #"{"name": "n"}"#), as: token) { response in
                expectProblem(response, .notFound, type: "/errors/not-found", "another account's store")
                #expect(response.json?[["detail"]]?.stringValue == "Store \(otherStore) not found")
            }
            try await post(request(store: store, product: otherSold, config: #"{"name": "n"}"#), as: token, to: "/featuresets/preview") { response in
                expectProblem(response, .notFound, type: "/errors/not-found", "another account's product")
            }
            // Two tenants: the other account computes its own frame, and cannot read this one's.
            try await post(request(store: otherStore, product: otherSold, config: Self.frameConfig), as: other.token("viewer")) { response in
                #expect(response.status == .ok, "each account computes its own: \(response.text)")
                #expect(element(response.json?[["rows"]], 0)?[["store_id"]]?.numberValue == Double(otherStore))
            }
            try await post(request(store: store, product: sold, config: #"{"name": "n"}"#), as: other.token("admin")) { response in
                expectProblem(response, .notFound, type: "/errors/not-found", "not this account's store")
            }
            try await post(request(store: store, product: sold, config: #"{"name": "n"}"#), as: nil) { response in
                #expect(response.status == .unauthorized)
            }
        }
    }
}
