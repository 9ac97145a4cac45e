import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
@testable import GatewayCore

/// ForecastLab's seeder and readiness over HTTP (forecastlab-contract-details.md §3, §16). Part of
/// the serialized "ForecastLab" suite: the production guard is a setting of the whole database.
extension ForecastLabTests {
    @Test func healthReady() async throws {
        let app = try await buildApplication(TestEnvironment.configuration())
        try await app.test(.router) { client in
            for path in ["/health/ready", "/api/v1/health/ready"] {
                try await client.execute(uri: path, method: .get) { response in
                    #expect(response.status == .ok, "anonymous, as a probe is")
                    #expect(response.json == .object(["status": "ok", "database": "connected"]))
                }
            }
        }
    }

    @Test func scenariosGenerateAndBounds() async throws {
        let app = try await buildApplication(TestEnvironment.configuration())
        try await app.test(.router) { client in
            let account = Account()
            try await client.execute(uri: "/seeder/scenarios", method: .get, headers: .bearer(account.token("viewer"))) { response in
                #expect(response.status == .ok)
                guard case .array(let scenarios)? = response.json else { Issue.record("not a list: \(response.text)"); return }
                #expect(scenarios.compactMap { $0[["name"]]?.stringValue } == ["retail_standard", "holiday_rush", "high_variance", "stockout_heavy",
                                                                                "new_launches", "sparse", "demo_minimal", "showcase_rich"])
                #expect(scenarios.allSatisfy { $0[["start_date"]]?.stringValue != nil && $0[["stores"]]?.numberValue != nil && $0[["description"]] != nil })
            }
            try await client.execute(uri: "/seeder/generate", method: .post, headers: json(account.token("admin")),
                                     body: body(["scenario": "demo_minimal", "seed": 7])) { response in
                #expect(response.status == .created, "\(response.text)")
                #expect(response.json?[["success"]] == .bool(true))
                #expect(response.json?[["seed"]] == 7)
                #expect(response.json?[["records_created", "stores"]] == 3)
                #expect(response.json?[["records_created", "products"]] == 10)
                #expect(response.json?[["duration_seconds"]]?.numberValue != nil)
                #expect(response.json?[["message"]]?.stringValue != nil)
            }
            try await client.execute(uri: "/seeder/generate", method: .post, headers: json(account.token("admin")), body: body(["seed": -1])) { response in
                expectValidation(response, fields: ["seed"], "seed -1")
            }
            try await client.execute(uri: "/seeder/generate", method: .post, headers: json(account.token("admin")),
                                     body: body(["scenario": "demo_minimal", "sparsity": 1])) { response in
                #expect(response.status == .created, "the scalar sparsity goes up to 1: \(response.text)")
                #expect(response.json?[["records_created", "sales"]] == 0)
            }
            try await client.execute(uri: "/seeder/generate", method: .post, headers: json(account.token("admin")),
                                     body: body(["scenario": "demo_minimal", "overrides": .object(["sparsity": 0.95])])) { response in
                expectValidation(response, fields: ["overrides.sparsity"], "the override's sparsity goes up to 0.9")
            }
            try await client.execute(uri: "/seeder/generate", method: .post, headers: json(account.token("admin")),
                                     body: body(["scenario": "demo_minimal", "dry_run": .bool(true)])) { response in
                #expect(response.status == .created)
                #expect(response.json?[["dry_run"]] == .bool(true))
                #expect(response.json?[["records_created", "sales"]]?.numberValue ?? 0 > 0, "what it would create")
            }
            try await client.execute(uri: "/seeder/status", method: .get, headers: .bearer(account.token("viewer"))) { response in
                #expect(response.json?[["sales"]] == 0, "a dry run writes nothing (the sparsity-1 set stays)")
                #expect(response.json?[["stores"]] == 3)
            }
        }
    }

    @Test func phase2TakesTheContractsProbabilities() async throws {
        let app = try await buildApplication(TestEnvironment.configuration())
        try await app.test(.router) { client in
            let account = Account()
            try await seed(client, account)
            try await client.execute(uri: "/seeder/phase2-enrichment", method: .post, headers: json(account.token("admin")),
                                     body: body(["seed": 1, "returns_probability": 0, "discontinue_probability": 1])) { response in
                #expect(response.status == .ok, "\(response.text)")
                #expect(response.json?[["records_created", "sales_returns"]] == 0)
                #expect(response.json?[["duration_ms"]]?.numberValue != nil)
            }
            try await client.execute(uri: "/seeder/phase2-enrichment", method: .post, headers: json(account.token("admin")),
                                     body: body(["seed": -1, "returns_probability": 2])) { response in
                expectValidation(response, fields: ["seed", "returns_probability"])
            }
        }
    }

    @Test func appendVerifyAndDelete() async throws {
        let app = try await buildApplication(TestEnvironment.configuration())
        try await app.test(.router) { client in
            let account = Account()
            let neighbour = Account()
            try await seed(client, account)
            try await seed(client, neighbour)
            try await client.execute(uri: "/seeder/append", method: .post, headers: json(account.token("admin")),
                                     body: body(["start_date": "2026-04-01", "end_date": "2026-04-30"])) { response in
                #expect(response.status == .created, "\(response.text)")
                #expect(response.json?[["seed"]] == 43, "the contract's default")
                #expect(response.json?[["records_created", "sales"]]?.numberValue ?? 0 > 0)
            }
            try await client.execute(uri: "/seeder/append", method: .post, headers: json(account.token("admin")), body: body(["start_date": "2026-04-01"])) { response in
                expectValidation(response, fields: ["end_date"])
            }
            try await client.execute(uri: "/seeder/status", method: .get, headers: .bearer(account.token("viewer"))) { response in
                #expect(response.json?[["date_range_end"]] == "2026-04-30")
            }
            try await client.execute(uri: "/seeder/verify", method: .post, headers: json(account.token("viewer")), body: body([:])) { response in
                #expect(response.status == .ok, "\(response.text)")
                #expect(response.json?[["passed"]] == .bool(true))
                #expect(response.json?[["failed_count"]] == 0)
                #expect(count(response.json?[["checks"]]) == Int(response.json?[["total_checks"]]?.numberValue ?? -1))
            }
            try await client.execute(uri: "/seeder/data", method: .delete, headers: .bearer(account.token("admin"))) { response in
                expectValidation(response, fields: ["scope"], "no scope, no delete")
            }
            // A client written for upstream sends its DELETE's parameters as a body. Whether or not
            // the gateway binds a DELETE's body, this one must delete nothing: a dry run, or a 422.
            try await client.execute(uri: "/seeder/data", method: .delete, headers: json(account.token("admin")),
                                     body: body(["scope": "facts", "dry_run": .bool(true)])) { response in
                #expect(response.status == .unprocessableContent || (response.status == .ok && response.json?[["dry_run"]] == .bool(true)),
                        "\(response.status): \(response.text)")
            }
            try await client.execute(uri: "/seeder/status", method: .get, headers: .bearer(account.token("viewer"))) { response in
                #expect(response.json?[["sales"]]?.numberValue ?? 0 > 0, "nothing was deleted")
            }
            try await client.execute(uri: "/seeder/data?scope=facts&dry_run=true", method: .delete, headers: .bearer(account.token("admin"))) { response in
                #expect(response.status == .ok, "\(response.text)")
                #expect(response.json?[["dry_run"]] == .bool(true))
                #expect(response.json?[["records_deleted", "sales"]]?.numberValue ?? 0 > 0)
            }
            try await client.execute(uri: "/seeder/data?scope=dimensions", method: .delete, headers: .bearer(account.token("admin"))) { response in
                #expect(response.status == .conflict, "facts still refer to them")
                #expect(response.json?[["type"]] == "/errors/conflict")
            }
            try await client.execute(uri: "/seeder/data?scope=all", method: .delete, headers: .bearer(account.token("viewer"))) { response in
                #expect(response.status == .forbidden)
            }
            try await client.execute(uri: "/seeder/data?scope=all", method: .delete, headers: .bearer(account.token("admin"))) { response in
                #expect(response.status == .ok, "\(response.text)")
                #expect(response.json?[["success"]] == .bool(true))
                #expect(response.json?[["records_deleted", "stores"]] == 2)
            }
            try await client.execute(uri: "/seeder/status", method: .get, headers: .bearer(account.token("viewer"))) { response in
                #expect(response.json?[["stores"]] == 0)
                #expect(response.json?[["sales"]] == 0)
            }
            try await client.execute(uri: "/seeder/status", method: .get, headers: .bearer(neighbour.token("viewer"))) { response in
                #expect(response.json?[["stores"]] == 2, "another account's data stays")
                #expect(response.json?[["sales"]]?.numberValue ?? 0 > 0)
            }
            try await client.execute(uri: "/seeder/verify", method: .post, headers: json(account.token("viewer")), body: body([:])) { response in
                #expect(response.json?[["passed"]] == .bool(false), "nothing left to verify")
            }
        }
    }

    /// In production (forecastlab.app_env) every seeder route is a 403 unless the deployment
    /// allows it (forecastlab.seeder_allow_production). Both are settings of the database, read by
    /// new connections: each application below opens its own.
    @Test func theSeederIsRefusedInProduction() async throws {
        let database = "execute format('alter database %I set forecastlab.app_env = %L', current_database(), 'production')"
        try await TestEnvironment.psql("do $$ begin \(database); end $$")
        do {
            let app = try await buildApplication(TestEnvironment.configuration())
            try await app.test(.router) { client in
                let account = Account()
                try await client.execute(uri: "/seeder/status", method: .get, headers: .bearer(account.token("admin"))) { response in
                    #expect(response.status == .forbidden, "\(response.text)")
                    #expect(response.json?[["type"]] == "/errors/forbidden")
                    #expect(response.json?[["detail"]] == "The seeder is disabled in production")
                }
                try await client.execute(uri: "/seeder/generate", method: .post, headers: json(account.token("admin")), body: body([:])) { response in
                    #expect(response.status == .forbidden)
                }
                try await client.execute(uri: "/seeder/data?scope=all", method: .delete, headers: .bearer(account.token("admin"))) { response in
                    #expect(response.status == .forbidden)
                }
                try await client.execute(uri: "/dimensions/stores", method: .get, headers: .bearer(account.token("viewer"))) { response in
                    #expect(response.status == .ok, "the rest of ForecastLab serves")
                }
            }
            try await TestEnvironment.psql("do $$ begin execute format('alter database %I set forecastlab.seeder_allow_production = true', current_database()); end $$")
            let allowed = try await buildApplication(TestEnvironment.configuration())
            try await allowed.test(.router) { client in
                try await client.execute(uri: "/seeder/scenarios", method: .get, headers: .bearer(Account().token("viewer"))) { response in
                    #expect(response.status == .ok, "allowed in production when the deployment says so")
                }
            }
        } catch {
            try await resetProductionSettings()
            throw error
        }
        try await resetProductionSettings()
    }

    func resetProductionSettings() async throws {
        try await TestEnvironment.psql("""
            do $$ begin
              execute format('alter database %I reset forecastlab.app_env', current_database());
              execute format('alter database %I reset forecastlab.seeder_allow_production', current_database());
            end $$
            """)
    }
}
