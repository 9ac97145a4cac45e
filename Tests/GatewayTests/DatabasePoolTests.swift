import Foundation
import Logging
import NIOConcurrencyHelpers
import PGClient
import Testing
@testable import GatewayCore

@Suite("The gateway's PostgreSQL pool", .serialized)
struct DatabasePoolTests {
    /// A pool over the test database, running; ends with the test.
    /// Quick enough to share a round trip: below 50 ms, so that a busy test machine does not make `select 1` slow.
    private static func withPool(size: Int, url: String? = nil, connectTimeoutSeconds: Int = PGConnection.defaultConnectTimeoutSeconds,
                                 quickBelow: Double = 0.05, _ body: (DatabasePool) async throws -> Void) async throws {
        let pool = DatabasePool(url: try url ?? TestEnvironment.gatewayURL(), size: size, connectTimeoutSeconds: connectTimeoutSeconds,
                                quickBelow: quickBelow, logger: Logger(label: "test"))
        let running = Task { try await pool.run() }
        defer { running.cancel() }
        try await body(pool)
        running.cancel()
        _ = await running.result
    }

    private static func eventually(_ condition: () -> Bool) async throws {
        for _ in 0..<100 where !condition() { try await Task.sleep(for: .milliseconds(50)) }
    }

    /// Keeps one connection busy until `release()`: the call blocks its thread, as a slow query does.
    private final class Hold: Sendable {
        private let gate = DispatchSemaphore(value: 0)
        let call: Task<Void, any Error>

        init(_ pool: DatabasePool) {
            let gate = self.gate
            call = Task { try await pool.withConnection { _ in gate.wait() } }
        }

        func release() async throws {
            gate.signal()
            try await call.value
        }
    }

    @Test("firstRow gives the first row as text, nil for none, and leaves the connection ready for the next call")
    func firstRow() async throws {
        try await Self.withPool(size: 1) { pool in
            let first = try await pool.firstRow("select n, n * $1::int, null::text from generate_series(7, 9) n", ["2"])
            #expect(first == ["7", "14", nil])
            let none = try await pool.firstRow("select 1 where false")
            #expect(none == nil)
            let after = try await pool.firstRow("select 'after'::text")
            #expect(after == ["after"])
            #expect(pool.waitingCount == 0 && pool.openCount == 1)
        }
    }

    @Test func waitingStatementsShareARoundTripEachInATransactionOfItsOwn() async throws {
        // Quick below a whole second: on a busy test machine even `select 1` can take 50 ms, and a
        // kind that ran slowly once would (rightly) stop sharing, which is not what this tests.
        try await Self.withPool(size: 1, quickBelow: 1) { pool in
            _ = try await pool.firstRow("select 1", kind: "quick")  // now known to be quick
            let hold = Hold(pool)
            try await Self.eventually { pool.waitingCount == 0 && pool.openCount == 1 }
            // Each call reads a transaction-local setting, then sets it: a call that saw another's
            // value would mean two calls in one transaction. Every third call fails.
            let calls = (0..<12).map { i in
                Task { () -> Result<[String?]?, any Error> in
                    let sql = i % 3 == 2
                        ? "select 1 / 0"
                        : "select current_setting('test.caller', true), set_config('test.caller', $1, true)"
                    do { return .success(try await pool.firstRow(sql, i % 3 == 2 ? [] : ["caller \(i)"], kind: "quick")) } catch { return .failure(error) }
                }
            }
            try await Self.eventually { pool.waitingCount == 12 }
            try #require(pool.waitingCount == 12, "all twelve wait before the connection comes free")
            try await hold.release()
            for (i, call) in calls.enumerated() {
                switch await call.value {
                case .success(let row):
                    #expect(i % 3 != 2, "call \(i) should have failed")
                    #expect(row?[0] ?? "" == "", "call \(i) saw \(row?[0] ?? "") set by an earlier call")
                    #expect(row?[1] == "caller \(i)")
                case .failure(let error):
                    #expect(i % 3 == 2, "call \(i) failed: \(error)")
                    #expect((error as? PGError)?.sqlState == "22012")
                }
            }
            #expect(pool.sharedRoundTrips >= 2, "12 waiting calls, at most 8 to a round trip")
            let after = try await pool.firstRow("select 'after'::text")
            #expect(after == ["after"], "the connection is out of pipeline mode again")
        }
    }

    /// A call whose caller has gone (an HTTP client that closed its connection) is dropped when
    /// its turn comes: after an overload, live callers do not wait behind answers nobody reads.
    @Test func aCallWhoseCallerLeftIsDroppedNotRun() async throws {
        try await Self.withPool(size: 1) { pool in
            let hold = Hold(pool)
            try await Self.eventually { pool.openCount == 1 && pool.waitingCount == 0 }
            let gone = NIOLockedValueBox(false)
            let left = Task { try await pool.firstRow("select pg_advisory_lock(424242)", abandoned: { gone.withLockedValue { $0 } }) }
            let stays = Task { try await pool.firstRow("select count(*)::text from pg_locks where locktype = 'advisory' and objid = 424242") }
            try await Self.eventually { pool.waitingCount == 2 }
            gone.withLockedValue { $0 = true }
            try await hold.release()
            await #expect(throws: CancellationError.self) { try await left.value }
            #expect(try await stays.value == ["0"], "the abandoned call never ran (it would have taken the lock)")
            #expect(DatabaseErrorMapping.problem(for: CancellationError(), role: .anon).status.code == 499)
        }
    }

    @Test func aConnectionTakesOnlyItsShareOfTheWaitingCalls() async throws {
        // quickBelow 1 s: `select 1` stays a quick kind however busy the machine (under the full
        // suite one slow batch had lifted its average over 50 ms, and the rest ran alone).
        try await Self.withPool(size: 2, quickBelow: 1) { pool in
            _ = try await pool.firstRow("select 1", kind: "quick")
            let holds = [Hold(pool), Hold(pool)]
            try await Self.eventually { pool.waitingCount == 0 && pool.openCount == 2 }
            let calls = (0..<8).map { _ in Task { _ = try await pool.firstRow("select 1", kind: "quick") } }
            try await Self.eventually { pool.waitingCount == 8 }
            for hold in holds { try await hold.release() }
            for call in calls { try await call.value }
            // Eight waiting on two connections: 4, then 2 (of the 4 left), then alone. All eight
            // in one round trip would have left the other connection idle.
            #expect(pool.sharedRoundTrips == 2)
        }
    }

    @Test func slowKindsAndKindsNotSeenYetRunAlone() async throws {
        try await Self.withPool(size: 1) { pool in
            _ = try await pool.firstRow("select 1", kind: "quick")
            _ = try await pool.firstRow("select pg_sleep(0.2)", kind: "slow")
            let hold = Hold(pool)
            try await Self.eventually { pool.waitingCount == 0 && pool.openCount == 1 }
            var calls: [Task<Void, any Error>] = []
            for (sql, kind) in [("select 1", "quick"), ("select pg_sleep(0.2)", "slow"), ("select 1", "quick"),
                                ("select 2", "new"), ("select 1", "quick"), ("select 1", "quick")] {
                let waiting = calls.count
                calls.append(Task { _ = try await pool.firstRow(sql, kind: kind) })
                try await Self.eventually { pool.waitingCount == waiting + 1 }
            }
            try await hold.release()
            for call in calls { try await call.value }
            // quick | slow | quick | new | quick + quick: one shared round trip.
            #expect(pool.sharedRoundTrips == 1)
        }
    }

    @Test func callsWaitForTheFirstFreeConnectionInTheOrderTheyCame() async throws {
        try await Self.withPool(size: 1) { pool in
            // The order the server ran them in (the pool's one session numbers them), not the order
            // the callers resume in: calls that share a round trip resume together.
            _ = try await pool.firstRow("create temporary sequence if not exists run_order")
            let hold = Hold(pool)
            try await Self.eventually { pool.waitingCount == 0 && pool.openCount == 1 }
            let first = Task { try await pool.firstRow("select nextval('run_order')")?[0] }
            try await Self.eventually { pool.waitingCount == 1 }
            let second = Task { try await pool.firstRow("select nextval('run_order')")?[0] }
            try await Self.eventually { pool.waitingCount == 2 }
            let third = Task { try await pool.withConnection { try $0.exec("select nextval('run_order')").rows[0][0] } }
            try await Self.eventually { pool.waitingCount == 3 }
            try await hold.release()
            let order = [try await first.value, try await second.value, try await third.value]
            #expect(order == ["1", "2", "3"])
        }
    }

    @Test func aCancelledWaiterLeavesTheQueue() async throws {
        try await Self.withPool(size: 1) { pool in
            let hold = Hold(pool)
            try await Self.eventually { pool.openCount == 1 }
            let waiting = Task { try await pool.firstRow("select 1") }
            try await Self.eventually { pool.waitingCount == 1 }
            waiting.cancel()
            await #expect(throws: CancellationError.self) { try await waiting.value }
            #expect(pool.waitingCount == 0)
            try await hold.release()
            let next = try await pool.firstRow("select 'next'::text")
            #expect(next == ["next"], "the connection serves the next call")
        }
    }

    @Test func aCallStillWaitingAtItsDeadlineGetsA503() async throws {
        try await Self.withPool(size: 1) { pool in
            let hold = Hold(pool)
            try await Self.eventually { pool.openCount == 1 && pool.waitingCount == 0 }
            let error = await #expect(throws: PoolError.self, "while the only connection is still busy") {
                try await pool.firstRow("select 1", deadline: .now + .milliseconds(200))
            }
            guard case .timedOut? = error else { Issue.record("expected timedOut, got \(String(describing: error))"); return }
            let problem = DatabaseErrorMapping.problem(for: PoolError.timedOut, role: .authenticated)
            #expect(problem.status == .serviceUnavailable && problem.headers[.retryAfter] == "5")
            #expect(pool.waitingCount == 0, "it left the queue")
            try await hold.release()
        }
    }

    @Test func aConnectionPostgreSQLEndedWhileIdleIsReplacedBeforeTheNextCall() async throws {
        try await Self.withPool(size: 1) { pool in
            let before = try #require(try await pool.firstRow("select pg_backend_pid()")?[0])
            try await TestEnvironment.psql("select pg_terminate_backend(\(before), 5000)")  // returns once it is gone
            try await Task.sleep(for: DatabasePool.idleCheckAfter * 2)
            let after = try await pool.firstRow("select pg_backend_pid()")?[0]
            #expect(after != nil && after != before, "a new backend serves the call, which does not fail")
        }
    }

    @Test func aConnectionThatBreaksDuringACallFailsThatCallAndIsReplaced() async throws {
        try await Self.withPool(size: 1) { pool in
            let before = try #require(try await pool.firstRow("select pg_backend_pid()")?[0])
            let failed = await #expect(throws: PGError.self) { try await pool.firstRow("select pg_terminate_backend(pg_backend_pid())") }
            #expect(DatabaseErrorMapping.problem(for: try #require(failed), role: .authenticated).status == .serviceUnavailable)
            let after = try await pool.firstRow("select pg_backend_pid()")?[0]
            #expect(after != nil && after != before, "a new backend serves the next call")
        }
    }

    @Test func withTheDatabaseUnreachableACallFailsInsteadOfWaiting() async throws {
        try await Self.withPool(size: 2, url: "postgres://nobody@127.0.0.1:1/none?sslmode=disable") { pool in
            for _ in 0..<2 {  // the first waits for the first attempt to connect; the next fails at once
                let error = await #expect(throws: PoolError.self, "the connection error, long before the deadline's 503") {
                    try await pool.firstRow("select 1", deadline: .now + .seconds(10))
                }
                guard case .connectionFailed(let underlying)? = error else { Issue.record("expected connectionFailed, got \(String(describing: error))"); return }
                #expect(underlying is PGError)
                // Whatever PostgreSQL said (a refused login is 28P01, a 401 from a request's statement),
                // the caller gets a 503 that names nothing of the database.
                let problem = DatabaseErrorMapping.problem(for: try #require(error), role: .authenticated)
                #expect(problem.status == .serviceUnavailable)
                #expect(problem.headers[.retryAfter] == "5")
                #expect(problem.internalCause?.contains("cannot connect") == true, "the cause is for the log")
                #expect(!problem.message.contains("127.0.0.1") && problem.details == nil, "and nothing of it for the caller")
            }
        }
    }

    /// A server that takes the connection but never answers is slow, not down: the call keeps its
    /// place until its own deadline (and would be served if the server answered in time).
    @Test func aServerThatDoesNotAnswerInTimeIsWaitedForUntilTheDeadline() async throws {
        let silent = try SilentListener()
        defer { silent.close() }
        try await Self.withPool(size: 1, url: "postgres://nobody@127.0.0.1:\(silent.port)/none?sslmode=disable", connectTimeoutSeconds: 2) { pool in
            let error = await #expect(throws: PoolError.self) { try await pool.firstRow("select 1", deadline: .now + .seconds(3)) }
            guard case .timedOut? = error else { Issue.record("expected timedOut after the deadline, got \(String(describing: error))"); return }
        }
    }

    @Test func afterShutdownCallsGetA503AndTheRunningCallFinishes() async throws {
        let pool = DatabasePool(url: try TestEnvironment.gatewayURL(), size: 1, logger: Logger(label: "test"))
        let running = Task { try await pool.run() }
        let hold = Hold(pool)
        try await Self.eventually { pool.openCount == 1 && pool.waitingCount == 0 }
        let waiting = Task { try await pool.firstRow("select 1") }
        try await Self.eventually { pool.waitingCount == 1 }
        running.cancel()
        for error in [await #expect(throws: PoolError.self, "the waiting call") { try await waiting.value },
                      await #expect(throws: PoolError.self, "a new call") { try await pool.firstRow("select 1") }] {
            guard case .shuttingDown? = error else { Issue.record("expected shuttingDown, got \(String(describing: error))"); continue }
            #expect(DatabaseErrorMapping.problem(for: PoolError.shuttingDown, role: .anon).status == .serviceUnavailable)
        }
        try await hold.release()
        _ = await running.result
    }
}

/// A TCP port that completes the handshake (the kernel does, from the backlog) and then says nothing.
private final class SilentListener: Sendable {
    let descriptor: Int32
    let port: Int

    init() throws {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, length) == 0 && listen(descriptor, 8) == 0 && getsockname(descriptor, $0, &length) == 0 }
        }
        guard bound else { _ = Glibc.close(descriptor); throw POSIXError(.EADDRNOTAVAIL) }
        self.descriptor = descriptor
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    func close() { _ = Glibc.close(descriptor) }
}
