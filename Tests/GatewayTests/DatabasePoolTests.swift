import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import PostgresNIO
import Testing
@testable import GatewayCore

/// Runs its calls on one event loop's thread, as the gateway's request handlers run.
private actor OnLoop {
    let loop: any EventLoop
    init(_ loop: any EventLoop) { self.loop = loop }
    nonisolated var unownedExecutor: UnownedSerialExecutor { loop.executor.asUnownedSerialExecutor() }

    func lease(_ pool: DatabasePool) async throws -> PostgresConnection { try await pool.lease() }
}

@Suite("The gateway's PostgreSQL pool", .serialized)
struct DatabasePoolTests {
    /// A pool over the test database on `loops` event loops, running; ends with the test.
    private static func withPool(size: Int, loops: Int = 2, url: String? = nil,
                                 _ body: (DatabasePool, [any EventLoop]) async throws -> Void) async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: loops)
        let pool = DatabasePool(configuration: try DatabaseURL(url ?? TestEnvironment.gatewayURL()).connectionConfiguration(),
                                size: size, group: group, logger: Logger(label: "test"))
        let running = Task { try await pool.run() }
        do {
            try await body(pool, Array(group.makeIterator()))
        } catch {
            running.cancel()
            _ = await running.result
            try await group.shutdownGracefully()
            throw error
        }
        running.cancel()
        _ = await running.result
        try await group.shutdownGracefully()
    }

    private static func eventually(_ condition: () -> Bool) async throws {
        for _ in 0..<100 where !condition() { try await Task.sleep(for: .milliseconds(50)) }
    }

    private static func backend(_ connection: PostgresConnection) async throws -> Int {
        for try await pid in try await connection.query("select pg_backend_pid()", logger: Logger(label: "test")).decode(Int.self) {
            return pid
        }
        throw TestEnvironment.Missing(name: "pg_backend_pid")
    }

    @Test("firstRow gives the first row, nil for none, and leaves the connection ready for the next query")
    func firstRow() async throws {
        try await Self.withPool(size: 1) { pool, _ in
            let logger = Logger(label: "test")
            let first = try await pool.firstRow("select n from generate_series(7, 9) n", logger: logger)
            #expect(try first?.decode(Int.self) == 7)
            #expect(try await pool.firstRow("select 1 where false", logger: logger) == nil)
            let next = try await pool.firstRow("select 'after'::text", logger: logger)
            #expect(try next?.decode(String.self) == "after")
            #expect(pool.idleCounts.reduce(0, +) == 1)
        }
    }

    @Test func connectionsAreSpreadOverTheLoops() throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 3)
        defer { try? group.syncShutdownGracefully() }
        let configuration = try DatabaseURL("postgres://nobody@127.0.0.1:1/none?sslmode=disable").connectionConfiguration()
        let pool = { (size: Int) in DatabasePool(configuration: configuration, size: size, group: group, logger: Logger(label: "test")) }
        #expect(pool(7).slotLoops == [0, 1, 2, 0, 1, 2, 0])
        #expect(pool(2).slotLoops == [0, 1])
        #expect(pool(1).slotLoops == [0], "a pool of one stays one connection")
        #expect(pool(0).slotLoops == [0])
    }

    @Test func ownLoopFirstThenAnyIdleThenTheFirstReleased() async throws {
        try await Self.withPool(size: 4) { pool, loops in
            try await Self.eventually { pool.idleCounts == [2, 2] }
            #expect(pool.idleCounts == [2, 2])
            let (first, second) = (OnLoop(loops[0]), OnLoop(loops[1]))

            let a = try await first.lease(pool), b = try await first.lease(pool)
            #expect(a.eventLoop === loops[0] && b.eventLoop === loops[0], "a request takes its own loop's connections first")
            let c = try await first.lease(pool)
            #expect(c.eventLoop === loops[1], "then another loop's idle one, rather than waiting")
            let d = try await second.lease(pool)
            #expect(d.eventLoop === loops[1])

            // Everything taken: a request on the first loop waits for whichever is released first,
            // here the second loop's, not for one of its own loop's slow ones.
            let waiting = Task { try await first.lease(pool) }
            try await Self.eventually { pool.waitingCount == 1 }
            pool.release(d)
            let got = try await waiting.value
            #expect(got === d)
            #expect(try await Self.backend(got) > 0, "the handed-over connection works")
            for connection in [a, b, c, got] { pool.release(connection) }
            #expect(pool.idleCounts == [2, 2])
        }
    }

    @Test func aReleasedConnectionPrefersAWaiterOfItsLoopButPassesNobodyOverForLong() async throws {
        try await Self.withPool(size: 2) { pool, loops in
            try await Self.eventually { pool.idleCounts == [1, 1] }
            let (first, second) = (OnLoop(loops[0]), OnLoop(loops[1]))
            let own = try await first.lease(pool)
            let other = try await second.lease(pool)
            #expect(own.eventLoop === loops[0] && other.eventLoop === loops[1])
            // Who got a connection, in order (a wrong order fails the test instead of hanging it).
            let served = NIOLockedValueBox<[(name: String, connection: PostgresConnection)]>([])
            func wait(_ name: String, on loop: OnLoop) {
                Task {
                    let connection = try await loop.lease(pool)
                    served.withLockedValue { $0.append((name, connection)) }
                }
            }
            func lastServed(after count: Int) async throws -> (name: String, connection: PostgresConnection)? {
                try await Self.eventually { served.withLockedValue { $0.count } == count }
                return served.withLockedValue { $0.count == count ? $0.last : nil }
            }

            wait("oldest", on: first)
            try await Self.eventually { pool.waitingCount == 1 }
            var held = other
            for round in 1...DatabasePool.maxSkips {
                wait("younger \(round)", on: second)
                try await Self.eventually { pool.waitingCount == 2 }
                pool.release(held)
                let next = try await lastServed(after: round)
                #expect(next?.name == "younger \(round)", "the waiter of the connection's own loop first")
                held = try #require(next?.connection)
            }
            wait("youngest", on: second)
            try await Self.eventually { pool.waitingCount == 2 }
            pool.release(held)
            #expect(try await lastServed(after: DatabasePool.maxSkips + 1)?.name == "oldest",
                    "passed over \(DatabasePool.maxSkips) times: its turn, whatever the loop")
            pool.release(own)
            #expect(try await lastServed(after: DatabasePool.maxSkips + 2)?.name == "youngest")
            served.withLockedValue { $0.suffix(2) }.forEach { pool.release($0.connection) }
            #expect(pool.idleCounts == [1, 1])
        }
    }

    @Test func aCancelledWaiterLeavesTheQueue() async throws {
        try await Self.withPool(size: 1, loops: 1) { pool, loops in
            let held = try await OnLoop(loops[0]).lease(pool)
            let waiting = Task { try await pool.lease() }
            try await Self.eventually { pool.waitingCount == 1 }
            waiting.cancel()
            await #expect(throws: CancellationError.self) { try await waiting.value }
            pool.release(held)
            #expect(pool.idleCounts == [1], "released to the pool, not to the cancelled request")
        }
    }

    @Test func aConnectionPostgreSQLEndsIsReplaced() async throws {
        try await Self.withPool(size: 1, loops: 1) { pool, _ in
            let before = try await pool.withConnection { try await Self.backend($0) }
            try await TestEnvironment.psql("select pg_terminate_backend(\(before))")
            var after = before
            for _ in 0..<50 where after == before {
                after = (try? await pool.withConnection { try await Self.backend($0) }) ?? before
                if after == before { try await Task.sleep(for: .milliseconds(100)) }
            }
            #expect(after != before, "a new backend serves the next request")
        }
    }

    @Test func withTheDatabaseUnreachableARequestFailsInsteadOfWaiting() async throws {
        try await Self.withPool(size: 2, url: "postgres://nobody@127.0.0.1:1/none?sslmode=disable") { pool, _ in
            let error = await #expect(throws: DatabasePool.ConnectionFailed.self, "the connection error, long before the deadline's 503") {
                try await withDeadline(.seconds(10)) { try await pool.withConnection { _ in true } }
            }
            #expect(error?.underlying is PSQLError)
            // Whatever PostgreSQL said (a refused login is 28P01, a 401 from a request's statement),
            // the caller gets a 503 that names nothing of the database.
            let problem = DatabaseErrorMapping.problem(for: try #require(error), role: .authenticated)
            #expect(problem.status == .serviceUnavailable)
            #expect(problem.headers[.retryAfter] == "5")
            #expect(problem.internalCause?.contains("PSQLError") == true, "the cause is for the log")
        }
    }

    @Test func afterShutdownRequestsGetA503() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let pool = DatabasePool(configuration: try DatabaseURL(TestEnvironment.gatewayURL()).connectionConfiguration(),
                                size: 1, group: group, logger: Logger(label: "test"))
        let running = Task { try await pool.run() }
        let held = try await pool.lease()
        let waiting = Task { try await pool.lease() }
        try await Self.eventually { pool.waitingCount == 1 }
        running.cancel()
        _ = await running.result
        await #expect(throws: Problem.self, "the waiting request") { try await waiting.value }
        await #expect(throws: Problem.self, "a new request") { try await pool.lease() }
        pool.release(held)
        try await group.shutdownGracefully()
    }
}
