import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import PostgresNIO
import ServiceLifecycle

/// The gateway's PostgreSQL connections: opened at start, spread over the event loops, kept open
/// and unpinged (a connection PostgreSQL ends closes its socket, and is replaced at once).
///
/// A request takes an idle connection of its own event loop when there is one, so its query is
/// written, answered and resumed on one thread (a connection of another loop costs two thread
/// wake-ups per request); else any idle connection; else it waits in one queue for whichever
/// connection is released first. One queue, not one per loop: with a queue per loop, fast calls on
/// a loop whose connections run slow queries wait behind them while another loop's connection is
/// free. The queue bends a little: a released connection goes to an early waiter of its own loop
/// before an older waiter of another loop, but no waiter is passed over more than `maxSkips` times.
final class DatabasePool: Service, Sendable {
    /// The pool could not open a connection: the database is down, or refuses the gateway's own
    /// login. Never the caller's doing, whatever SQLSTATE PostgreSQL sent (a refused login is 28P01,
    /// which from a request's own statement would mean 401).
    struct ConnectionFailed: Error {
        let underlying: any Error
    }

    private struct Waiter {
        let id: Int
        let loop: Int
        /// How many times a younger waiter got a connection first.
        var skips = 0
        let continuation: CheckedContinuation<PostgresConnection, any Error>
    }

    private struct State {
        /// Idle connections by event loop (the index into `loops`).
        var idle: [[PostgresConnection]]
        var waiters: [Waiter] = []
        var nextWaiterID = 0
        var open = 0
        var shutDown = false
    }

    /// Under load nearly every request waits; with strict FIFO half of them got a connection of the
    /// other loop (a thread hand-off each). Passing a waiter over costs it about one release (well
    /// under a millisecond for fast calls); with a bound, a waiter whose own loop's connections
    /// are all busy with slow queries still gets another loop's within a few releases.
    static let maxSkips = 4
    /// How far into the queue a release looks for a waiter of its own loop.
    static let lookahead = 8

    /// The event loop of each connection slot: slot `i` lives on loop `i % loops.count`.
    let slotLoops: [Int]
    private let loops: [any EventLoop]
    private let group: any EventLoopGroup
    private let state: NIOLockedValueBox<State>
    private let configuration: PostgresConnection.Configuration
    private let logger: Logger

    init(configuration: PostgresConnection.Configuration, size: Int, group: MultiThreadedEventLoopGroup = .singleton, logger: Logger) {
        let loops = Array(group.makeIterator())
        self.loops = loops
        self.group = group
        self.slotLoops = (0..<max(1, size)).map { $0 % loops.count }
        self.state = NIOLockedValueBox(State(idle: Array(repeating: [], count: loops.count)))
        self.configuration = configuration
        self.logger = logger
    }

    /// Runs `body` with a connection of its own until it returns.
    nonisolated(nonsending) func withConnection<T>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        let connection = try await lease()
        defer { release(connection) }
        return try await body(connection)
    }

    /// The first row of a query's answer, or nil when it has none (the rest is drained by
    /// PostgresNIO before the connection serves again).
    nonisolated(nonsending) func firstRow(_ query: PostgresQuery, logger: Logger) async throws -> PostgresRow? {
        try await withConnection { connection in
            for try await row in try await connection.query(query, logger: logger) { return row }
            return nil
        }
    }

    /// Idle connections by event loop, and requests waiting (for tests).
    var idleCounts: [Int] { state.withLockedValue { $0.idle.map(\.count) } }
    var waitingCount: Int { state.withLockedValue { $0.waiters.count } }

    nonisolated(nonsending) func lease() async throws -> PostgresConnection {
        let own = ownLoop()
        let (idle, id) = state.withLockedValue { state -> (PostgresConnection?, Int) in
            if let connection = Self.takeIdle(&state, preferring: own) { return (connection, 0) }
            defer { state.nextWaiterID += 1 }
            return (nil, state.nextWaiterID)
        }
        if let idle { return idle }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<PostgresConnection, any Error>) in
                let now: Result<PostgresConnection, any Error>? = state.withLockedValue { state in
                    if state.shutDown { return .failure(Self.closed) }
                    // Checked under the lock the cancellation handler takes: either it already
                    // ran (and this sees the flag), or it will find the waiter to remove.
                    if Task.isCancelled { return .failure(CancellationError()) }
                    if let connection = Self.takeIdle(&state, preferring: own) { return .success(connection) }
                    state.waiters.append(Waiter(id: id, loop: own, continuation: continuation))
                    return nil
                }
                if let now { continuation.resume(with: now) }
            }
        } onCancel: {
            let waiter = state.withLockedValue { state -> Waiter? in
                guard let index = state.waiters.firstIndex(where: { $0.id == id }) else { return nil }
                return state.waiters.remove(at: index)
            }
            waiter?.continuation.resume(throwing: CancellationError())
        }
    }

    /// The next waiter (see `maxSkips`) gets the connection; with nobody waiting it is idle again.
    func release(_ connection: PostgresConnection) {
        guard !connection.isClosed else { return }  // its slot opens a new one
        let loop = loopIndex(of: connection)
        let waiter = state.withLockedValue { state -> Waiter? in
            guard let next = Self.nextWaiter(&state.waiters, for: loop) else {
                state.idle[loop].append(connection)
                return nil
            }
            return state.waiters.remove(at: next)
        }
        waiter?.continuation.resume(returning: connection)
    }

    /// The first waiter of `loop` among the first few, unless the oldest has been passed over
    /// enough (it has been passed over at least as often as anyone behind it); the ones passed
    /// over are counted.
    private static func nextWaiter(_ waiters: inout [Waiter], for loop: Int) -> Int? {
        guard !waiters.isEmpty else { return nil }
        guard waiters[0].loop != loop, waiters[0].skips < maxSkips else { return 0 }
        for index in 1..<min(waiters.count, lookahead) where waiters[index].loop == loop {
            for passed in 0..<index { waiters[passed].skips += 1 }
            return index
        }
        return 0
    }

    func run() async throws {
        await cancelWhenGracefulShutdown {
            await withDiscardingTaskGroup { group in
                for (slot, loop) in self.slotLoops.enumerated() {
                    group.addTask { await self.keepOpen(slot: slot, on: self.loops[loop]) }
                }
            }
        }
        let (waiters, idle) = state.withLockedValue { state in
            state.shutDown = true
            defer { state.waiters = []; state.idle = state.idle.map { _ in [] } }
            return (state.waiters, state.idle.flatMap { $0 })
        }
        waiters.forEach { $0.continuation.resume(throwing: Self.closed) }
        for connection in idle { try? await connection.close() }
    }

    /// One slot: connect, serve until the connection closes, connect again (backing off while
    /// the database does not answer).
    private func keepOpen(slot: Int, on loop: any EventLoop) async {
        var backoff = Duration.milliseconds(100)
        while !Task.isCancelled {
            let connection: PostgresConnection
            do {
                connection = try await PostgresConnection.connect(on: loop, configuration: configuration, id: slot, logger: logger)
            } catch {
                logger.debug("database connection failed", metadata: ["slot": "\(slot)", "error": "\(String(reflecting: error))"])
                failWaitersIfNoneOpen(ConnectionFailed(underlying: error))
                try? await Task.sleep(for: backoff)
                backoff = min(backoff * 2, .seconds(5))
                continue
            }
            backoff = .milliseconds(100)
            state.withLockedValue { $0.open += 1 }
            release(connection)
            await withTaskCancellationHandler {
                try? await connection.closeFuture.get()
            } onCancel: {
                _ = connection.close() as EventLoopFuture<Void>
            }
            state.withLockedValue { state in
                state.open -= 1
                state.idle[loopIndex(of: connection)].removeAll { $0 === connection }
            }
        }
    }

    /// With no connection open, a waiting request would wait out its deadline for nothing.
    private func failWaitersIfNoneOpen(_ error: ConnectionFailed) {
        let waiters = state.withLockedValue { state -> [Waiter] in
            guard state.open == 0 else { return [] }
            defer { state.waiters = [] }
            return state.waiters
        }
        waiters.forEach { $0.continuation.resume(throwing: error) }
    }

    private static let closed = Problem.unavailable("The gateway is shutting down; retry shortly")

    /// An idle connection, of the given loop if it has one. A connection closed while idle (its
    /// slot is about to drop it) is skipped.
    private static func takeIdle(_ state: inout State, preferring own: Int) -> PostgresConnection? {
        if let connection = popOpen(&state.idle[own]) { return connection }
        for loop in state.idle.indices where loop != own {
            if let connection = popOpen(&state.idle[loop]) { return connection }
        }
        return nil
    }

    private static func popOpen(_ connections: inout [PostgresConnection]) -> PostgresConnection? {
        while let connection = connections.popLast() {
            if !connection.isClosed { return connection }
        }
        return nil
    }

    /// The calling thread's event loop (off the loops: the first).
    private func ownLoop() -> Int {
        guard loops.count > 1 else { return 0 }
        let current = group.any()
        return loops.firstIndex { $0 === current } ?? 0
    }

    private func loopIndex(of connection: PostgresConnection) -> Int {
        loops.firstIndex { $0 === connection.eventLoop } ?? 0
    }
}
