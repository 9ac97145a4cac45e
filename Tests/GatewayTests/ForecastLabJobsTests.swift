import Foundation
import Hummingbird
import HummingbirdTesting
import PGClient
import Testing
@testable import GatewayCore

/// ForecastLab's jobs over HTTP and through the queue itself, against the real database
/// (docs/forecastlab-models.md, "Jobs"): 202 at once, Prefer: wait, the worker loop, cancel, the
/// registry run a job carries, /explain/jobs, failures without SQL text, two tenants; and the
/// queue's promises: four workers run each job once, a dead worker's job is recovered by its lease,
/// a cancelled job never runs. Serialized: the queue is shared, and a test's workers would take
/// another test's pending jobs.
@Suite("ForecastLab jobs", .serialized)
struct ForecastLabJobsTests: JSONRequests {
    typealias Account = TestAccount

    /// A store and a product with 60 days of sales from 2026-01-01: quantity base + (i mod 7).
    func seed(_ account: Account, base: Int) async throws -> (store: Int, product: Int) {
        let ids = try await TestEnvironment.psql("""
            with s as (insert into forecast.stores (account_id, store_code, name) values ('\(account.id)', 'J1', 'Jobs store') returning id),
                 p as (insert into forecast.products (account_id, sku, name, base_price) values ('\(account.id)', 'J1', 'Jobs product', 2) returning id),
                 sales as (insert into forecast.sales_daily (account_id, store_id, product_id, date, quantity, unit_price, total_amount)
                           select '\(account.id)', s.id, p.id, date '2026-01-01' + i, \(base) + i % 7, 2, 0
                             from s, p, generate_series(0, 59) i)
            select s.id || ',' || p.id from s, p
            """)
        let parts = ids.split(separator: ",").compactMap { Int($0) }
        try #require(parts.count == 2, "seeded ids: \(ids)")
        return (parts[0], parts[1])
    }

    func trainParams(_ store: Int, _ product: Int, modelType: String = "seasonal_naive") -> [String: JSONValue] {
        ["model_type": .string(modelType), "store_id": .number(Double(store)), "product_id": .number(Double(product)),
         "start_date": "2026-01-01", "end_date": "2026-03-01"]
    }

    func job(_ type: String, _ params: [String: JSONValue]) -> ByteBuffer {
        body(["job_type": .string(type), "params": .object(params)])
    }

    /// Runs `sql` as the account's admin (what the gateway does for a request): its last line.
    func asAdmin(_ account: Account, _ sql: String) async throws -> String {
        let output = try await TestEnvironment.psql("""
            select set_config('role', 'authenticated', true) is null,
                   set_config('request.jwt.claims', '{"sub": "\(UUID().uuidString.lowercased())", "role": "authenticated", "app_metadata": {"account_id": "\(account.id)", "app_role": "admin"}}', true) is null;
            \(sql)
            """)
        return String(output.split(separator: "\n").last ?? "")
    }

    /// Submits a job straight into the queue (what POST /jobs does); its id.
    func submit(_ account: Account, _ type: String, _ params: String) async throws -> String {
        try await asAdmin(account, "select api.jobs_create('\(type)', '\(params)') ->> 'job_id'")
    }

    func status(_ jobID: String) async throws -> String {
        try await TestEnvironment.psql("select status || ',' || attempts || ',' || coalesce(error_type, '') from forecast_models.jobs where job_id = '\(jobID)'")
    }

    /// A worker's connection, as the gateway's login.
    static func workerConnection(_ name: String) throws -> PGConnection {
        let connection = try PGConnection(url: try TestEnvironment.gatewayURL())
        try connection.exec("select set_config('application_name', $1, false), set_config('statement_timeout', '60000', false)", [name])
        return connection
    }

    /// Runs work_one on a thread of its own until the queue is empty; the ids of the jobs it ran.
    static func drain(_ name: String) async throws -> [String] {
        try await withCheckedThrowingContinuation { continuation in
            Thread {
                continuation.resume(with: Result {
                    let connection = try workerConnection(name)
                    var ran: [String] = []
                    while let row = try connection.exec("call forecast_models.work_one(null)").rows.first, let id = row[0] { ran.append(id) }
                    return ran
                })
            }.start()
        }
    }

    @Test func submitListCancelAndTenants() async throws {
        let account = Account()
        let other = Account()
        let (store, product) = try await seed(account, base: 10)
        let app = try await buildApplication(TestEnvironment.configuration())  // no workers: jobs stay pending
        try await app.test(.router) { client in
            var jobID = ""
            for path in ["/jobs", "/api/v1/jobs"] {
                try await client.execute(uri: path, method: .post, headers: json(account.token("admin")),
                                         body: job("train", trainParams(store, product))) { response in
                    #expect(response.status == .accepted, "\(path): \(response.text)")
                    #expect(response.json?[["status"]]?.stringValue == "pending")
                    #expect(response.json?[["params", "season_length"]]?.numberValue == 7, "defaults filled in")
                    #expect(response.json?[["submitted_claims"]] == nil, "the submitter's claims stay in the database")
                    jobID = response.json?[["job_id"]]?.stringValue ?? ""
                    #expect(response.headers[.location] == "/jobs/\(jobID)")
                }
            }
            try await client.execute(uri: "/jobs/\(jobID)", method: .get, headers: .bearer(account.token("viewer"))) { response in
                #expect(response.status == .ok, "\(response.text)")
                #expect(response.json?[["job_type"]]?.stringValue == "train")
            }
            // No worker here: a wait runs out and the 202 stands, pending; a wait that is no number is ignored.
            var waiting = json(account.token("admin"))
            waiting[.prefer] = "respond-async, wait=0.3"
            try await client.execute(uri: "/jobs", method: .post, headers: waiting, body: job("train", trainParams(store, product))) { response in
                #expect(response.status == .accepted, "\(response.text)")
                #expect(response.json?[["status"]]?.stringValue == "pending")
                #expect(response.headers[.preferenceApplied] == "wait=0.3")
            }
            waiting[.prefer] = "wait=soon"
            try await client.execute(uri: "/jobs", method: .post, headers: waiting, body: job("train", trainParams(store, product))) { response in
                #expect(response.status == .accepted, "\(response.text)")
                #expect(response.headers[.preferenceApplied] == nil)
            }
            try await client.execute(uri: "/jobs/\(jobID)", method: .get, headers: .bearer(other.token("admin"))) { response in
                expectProblem(response, .notFound, type: "/errors/not-found", "another account's job")
            }
            try await client.execute(uri: "/jobs/\(jobID)", method: .delete, headers: .bearer(other.token("admin"))) { response in
                expectProblem(response, .notFound, type: "/errors/not-found", "another account cannot cancel it")
            }
            // A viewer who did not submit it may not cancel it; an admin may, once.
            try await client.execute(uri: "/jobs/\(jobID)", method: .delete, headers: .bearer(account.token("viewer"))) { response in
                #expect(response.status == .forbidden, "\(response.text)")
            }
            try await client.execute(uri: "/jobs/\(jobID)", method: .delete, headers: .bearer(account.token("admin"))) { response in
                #expect(response.status == .ok, "\(response.text)")
                #expect(response.json?[["status"]]?.stringValue == "cancelled")
            }
            try await client.execute(uri: "/jobs/\(jobID)", method: .delete, headers: .bearer(account.token("admin"))) { response in
                expectProblem(response, .badRequest, type: "/errors/bad-request", "only a pending job can be cancelled")
            }
            // The list: the account's four jobs, filters, an allow-listed sort, pages; the other tenant sees none.
            try await client.execute(uri: "/jobs?status=pending&page_size=1", method: .get, headers: .bearer(account.token("viewer"))) { response in
                #expect(response.status == .ok, "\(response.text)")
                #expect(response.json?[["total"]]?.numberValue == 3)
                #expect(count(response.json?[["jobs"]]) == 1)
            }
            try await client.execute(uri: "/jobs?sort_by=status&sort_order=asc&page=2&page_size=1", method: .get, headers: .bearer(account.token("viewer"))) { response in
                #expect(response.json?[["total"]]?.numberValue == 4)
                #expect(element(response.json?[["jobs"]], 0)?[["status"]]?.stringValue == "pending", "cancelled sorts first")
            }
            try await client.execute(uri: "/jobs?sort_by=params;drop", method: .get, headers: .bearer(account.token("viewer"))) { response in
                #expect(response.status == .ok, "an unknown sort column is the default order: \(response.text)")
            }
            try await client.execute(uri: "/jobs", method: .get, headers: .bearer(other.token("viewer"))) { response in
                #expect(response.json?[["total"]]?.numberValue == 0)
            }
            try await client.execute(uri: "/jobs?page_size=101", method: .get, headers: .bearer(account.token("viewer"))) { response in
                expectProblem(response, .unprocessableContent, type: "/errors/validation")
            }
            // 422 before anything is queued: every problem named.
            try await client.execute(uri: "/jobs", method: .post, headers: json(account.token("admin")),
                                     body: job("forecast", [:])) { response in
                expectProblem(response, .unprocessableContent, type: "/errors/validation")
                #expect(fields(response) == ["job_type"], "\(response.text)")
            }
            try await client.execute(uri: "/jobs", method: .post, headers: json(account.token("admin")),
                                     body: job("predict", ["horizon": 91, "store_id": 1])) { response in
                expectProblem(response, .unprocessableContent, type: "/errors/validation")
                #expect(fields(response) == ["params.store_id", "params.run_id", "params.horizon"], "\(response.text)")
            }
            try await client.execute(uri: "/jobs", method: .post, headers: json(account.token("admin")),
                                     body: job("backtest", ["model_type": "moving_average", "window_size": 0, "store_id": 1,
                                                            "product_id": 1, "start_date": "2026-02-30", "end_date": "2026-03-01",
                                                            "n_splits": 1])) { response in
                expectProblem(response, .unprocessableContent, type: "/errors/validation")
                #expect(Set(fields(response)) == ["params.start_date", "params.n_splits", "params.window_size"], "\(response.text)")
            }
            // Training is for admins, as /forecasting/train; reading needs a token.
            try await client.execute(uri: "/jobs", method: .post, headers: json(account.token("viewer")),
                                     body: job("train", trainParams(store, product))) { response in
                #expect(response.status == .forbidden, "\(response.text)")
            }
            try await client.execute(uri: "/jobs", method: .get) { response in
                #expect(response.status == .unauthorized)
            }
        }
        // Nothing is left pending for the other tests' workers.
        _ = try await TestEnvironment.psql("update forecast_models.jobs set status = 'cancelled' where account_id = '\(account.id)' and status = 'pending'")
    }

    @Test func workersRunJobsAndPreferWaitReturnsThem() async throws {
        let account = Account()
        let other = Account()
        let (store, product) = try await seed(account, base: 10)
        var configuration = try TestEnvironment.configuration()
        configuration.jobWorkers = 2
        let app = try await buildApplication(configuration)
        try await app.test(.router) { client in
            var headers = json(account.token("admin"))
            headers[.prefer] = "wait=10"
            // Train, waited for: the finished job, its registry run and the artifact it names.
            var artifactKey = ""
            var registryRun = ""
            try await client.execute(uri: "/jobs", method: .post, headers: headers, body: job("train", trainParams(store, product))) { response in
                #expect(response.status == .accepted, "\(response.text)")
                #expect(response.headers[.preferenceApplied] == "wait=10")
                #expect(response.json?[["status"]]?.stringValue == "completed", "\(response.text)")
                artifactKey = response.json?[["result", "run_id"]]?.stringValue ?? ""
                registryRun = response.json?[["run_id"]]?.stringValue ?? ""
                #expect(artifactKey.count == 12)
                #expect(response.json?[["result", "registry_run_id"]]?.stringValue == registryRun)
                #expect(response.json?[["result", "n_observations"]]?.numberValue == 60)
                #expect(response.json?[["started_at"]]?.stringValue != nil)
            }
            try await client.execute(uri: "/registry/runs/\(registryRun)", method: .get, headers: .bearer(account.token("viewer"))) { response in
                #expect(response.status == .ok, "\(response.text)")
                #expect(response.json?[["status"]]?.stringValue == "success")
                #expect(response.json?[["artifact_uri"]]?.stringValue == "artifacts/models/model_\(artifactKey).joblib")
            }
            // Predict from it; the explanation of the job is the registry run's.
            var predictJob = ""
            try await client.execute(uri: "/jobs", method: .post, headers: headers,
                                     body: job("predict", ["run_id": .string(artifactKey), "horizon": 3])) { response in
                #expect(response.json?[["status"]]?.stringValue == "completed", "\(response.text)")
                #expect(count(response.json?[["result", "forecasts"]]) == 3)
                // seasonal_naive(7): day 60 (2026-03-02) is day 53's value, 10 + 53 mod 7 = 14.
                #expect(element(response.json?[["result", "forecasts"]], 0)?[["forecast"]]?.numberValue == 14)
                #expect(response.json?[["run_id"]]?.stringValue == registryRun)
                predictJob = response.json?[["job_id"]]?.stringValue ?? ""
            }
            var fromRun: JSONValue?
            try await client.execute(uri: "/explain/runs/\(registryRun)", method: .get, headers: .bearer(account.token("viewer"))) { response in
                fromRun = response.json
            }
            try await client.execute(uri: "/explain/jobs/\(predictJob)", method: .get, headers: .bearer(account.token("viewer"))) { response in
                #expect(response.status == .ok, "\(response.text)")
                #expect(response.json?[["forecast_value"]]?.numberValue == 14)
                #expect(response.json?[["drivers"]] == fromRun?[["drivers"]], "the job's explanation is its registry run's")
            }
            try await client.execute(uri: "/explain/jobs/\(predictJob)", method: .get, headers: .bearer(other.token("viewer"))) { response in
                expectProblem(response, .notFound, type: "/errors/not-found", "another account's job")
            }
            try await client.execute(uri: "/explain/jobs/0123456789abcdef0123456789abcdef", method: .get, headers: .bearer(account.token("viewer"))) { response in
                expectProblem(response, .notFound, type: "/errors/not-found", "an unknown job")
            }
            // A failure is recorded with a class name and the unit's own message, never PostgreSQL's.
            var failed = trainParams(store, product)
            failed["store_id"] = 987654321
            var failedJob = ""
            try await client.execute(uri: "/jobs", method: .post, headers: headers, body: job("train", failed)) { response in
                #expect(response.json?[["status"]]?.stringValue == "failed", "\(response.text)")
                #expect(response.json?[["error_type"]]?.stringValue == "NotFoundError")
                #expect(response.json?[["error_message"]]?.stringValue == "Store 987654321 not found")
                failedJob = response.json?[["job_id"]]?.stringValue ?? ""
            }
            try await client.execute(uri: "/explain/jobs/\(failedJob)", method: .get, headers: .bearer(account.token("viewer"))) { response in
                expectProblem(response, .badRequest, type: "/errors/bad-request", "not a completed predict job")
            }
            // A backtest, not waited for: 202 pending at once, then done by the workers.
            var backtestJob = ""
            try await client.execute(uri: "/jobs", method: .post, headers: json(account.token("viewer")),
                                     body: job("backtest", ["model_type": "naive", "store_id": .number(Double(store)), "product_id": .number(Double(product)),
                                                            "start_date": "2026-01-01", "end_date": "2026-03-01", "n_splits": 2, "test_size": 7])) { response in
                #expect(response.status == .accepted, "\(response.text)")
                #expect(response.headers[.preferenceApplied] == nil)
                backtestJob = response.json?[["job_id"]]?.stringValue ?? ""
            }
            var outcome = ""
            for _ in 0..<200 where !outcome.hasPrefix("completed") {
                try await Task.sleep(for: .milliseconds(50))
                outcome = try await status(backtestJob)
            }
            #expect(outcome == "completed,1,", "the workers ran it")
            try await client.execute(uri: "/jobs/\(backtestJob)", method: .get, headers: .bearer(account.token("viewer"))) { response in
                #expect(response.json?[["result", "n_splits"]]?.numberValue == 2)
                #expect(response.json?[["result", "aggregated_metrics", "mae"]]?.numberValue != nil, "\(response.text)")
            }
        }
    }

    @Test func fourWorkersRunEachJobOnce() async throws {
        let account = Account()
        let (store, product) = try await seed(account, base: 20)
        let key = try await asAdmin(account, """
            select split_part(split_part(api.forecasting_train(\(store), \(product), '2026-01-01', '2026-03-01', '{"model_type": "naive"}') ->> 'model_path', '_', 2), '.', 1)
            """)
        var submitted: [String] = []
        for index in 0..<32 {
            if index % 8 == 0 {
                submitted.append(try await submit(account, "train", #"{"model_type": "naive", "store_id": \#(store), "product_id": \#(product), "start_date": "2026-01-01", "end_date": "2026-03-01"}"#))
            } else {
                submitted.append(try await submit(account, "predict", #"{"run_id": "\#(key)", "horizon": 7}"#))
            }
        }
        let runs = try await withThrowingTaskGroup(of: [String].self) { group in
            for worker in 1...4 { group.addTask { try await Self.drain("jobs-test-worker-\(worker)") } }
            return try await group.reduce(into: [[String]]()) { $0.append($1) }
        }
        let all = runs.flatMap { $0 }
        #expect(all.count == Set(all).count, "no job ran twice")
        #expect(Set(submitted).isSubset(of: Set(all)), "every job ran")
        let outcome = try await TestEnvironment.psql("""
            select count(*) filter (where status = 'completed' and attempts = 1) || ',' ||
                   (select count(*) from forecast_models.artifacts where account_id = '\(account.id)') || ',' ||
                   (select count(*) from forecast_models.runs where account_id = '\(account.id)')
              from forecast_models.jobs where account_id = '\(account.id)'
            """)
        #expect(outcome == "32,5,4", "32 jobs done once; 1 + 4 artifacts, a registry run per train job")
    }

    @Test func deadWorkersJobIsRecoveredAndCancelledJobsNeverRun() async throws {
        let account = Account()
        let (store, product) = try await seed(account, base: 30)
        let params = #"{"model_type": "naive", "store_id": \#(store), "product_id": \#(product), "start_date": "2026-01-01", "end_date": "2026-03-01"}"#
        // The job blocks on a lock this test holds; its worker's connection is then cut.
        let jobID = try await submit(account, "train", params)
        let holder = try PGConnection(url: try TestEnvironment.adminURL())
        try holder.exec("begin")
        try holder.exec("lock table forecast_models.artifacts in exclusive mode")
        let worker = Task { try await Self.drain("jobs-test-dying-worker") }
        var state = ""
        for _ in 0..<200 where !state.hasPrefix("running") {
            try await Task.sleep(for: .milliseconds(25))
            state = try await status(jobID)
        }
        #expect(state == "running,1,")
        _ = try await TestEnvironment.psql("select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'jobs-test-dying-worker'")
        await #expect(throws: (any Error).self) { try await worker.value }
        try holder.exec("rollback")
        // Its worker's session is gone (its advisory lock with it): the next worker runs it again at
        // once, lease or not.
        let ran = try await Self.drain("jobs-test-worker")
        #expect(ran.contains(jobID))
        #expect(try await status(jobID) == "completed,2,")
        #expect(try await TestEnvironment.psql("select count(*) from forecast_models.artifacts where account_id = '\(account.id)'") == "1",
                "the dead worker's half-done work was rolled back")

        // A worker alive but stuck (its lock held) keeps the job until the lease runs out (moved into
        // the past here rather than waited for); then it runs again.
        let stuck = try await submit(account, "train", params)
        let lock = try await TestEnvironment.psql("select nextval('forecast_models.job_lease_locks')")
        _ = try await TestEnvironment.psql("""
            update forecast_models.jobs set status = 'running', attempts = 1, lease_token = gen_random_uuid(), lease_lock = \(lock),
                   lease_expires_at = now() + interval '1 hour', started_at = now() where job_id = '\(stuck)'
            """)
        try holder.exec("select pg_advisory_lock(forecast_models.job_lock_key(), \(lock))")
        #expect(try await Self.drain("jobs-test-worker").isEmpty)
        #expect(try await status(stuck) == "running,1,", "a live worker's job is left alone")
        _ = try await TestEnvironment.psql("update forecast_models.jobs set lease_expires_at = now() - interval '1 second' where job_id = '\(stuck)'")
        #expect(try await Self.drain("jobs-test-worker") == [stuck])
        #expect(try await status(stuck) == "completed,2,")
        try holder.exec("select pg_advisory_unlock_all()")

        // Out of attempts: failed with a reason, not retried.
        let lost = try await submit(account, "train", params)
        _ = try await TestEnvironment.psql("""
            update forecast_models.jobs set status = 'running', attempts = 3, lease_token = gen_random_uuid(),
                   lease_expires_at = now() - interval '1 second', started_at = now() where job_id = '\(lost)'
            """)
        _ = try await Self.drain("jobs-test-worker")
        #expect(try await status(lost) == "failed,3,LeaseExpired")

        // Cancelled before any worker came: never runs.
        let cancelled = try await submit(account, "train", params)
        let app = try await buildApplication(TestEnvironment.configuration())
        try await app.test(.router) { client in
            try await client.execute(uri: "/jobs/\(cancelled)", method: .delete, headers: .bearer(account.token("admin"))) { response in
                #expect(response.status == .ok, "\(response.text)")
            }
        }
        let after = try await Self.drain("jobs-test-worker")
        #expect(!after.contains(cancelled))
        #expect(try await status(cancelled) == "cancelled,0,")
        #expect(try await TestEnvironment.psql("select count(*) from forecast_models.artifacts where account_id = '\(account.id)'") == "2")
    }
}
