import Foundation
import Logging

/// Why the pool could not run a call. The gateway maps these (and PGError) to HTTP in one place.
public enum PoolError: Error, Sendable {
    /// The call still waited for a connection at its deadline.
    case timedOut
    /// The pool is shutting down (or has): no new calls.
    case shuttingDown
    /// The pool could not open a connection: the database is down, or refuses the pool's own
    /// login. Never the caller's doing, whatever SQLSTATE PostgreSQL sent (a refused login is
    /// 28P01, which from a request's own statement would mean 401).
    case connectionFailed(underlying: any Error)
}

/// The gateway's PostgreSQL connections for calls that want one row (every request's
/// `gateway.invoke`, the catalog, the shared rate limit, readiness, OpenAPI, maintenance).
///
/// libpq connections, each on a thread of its own that blocks in the call, the way pgbench and
/// psql talk to PostgreSQL. Against PostgresNIO's async connections on the event loops this took
/// the gateway's CPU per request from 0.35–0.41 ms to 0.25–0.29 ms at 50 connections (README).
/// Calls wait in one queue, first come first served, for whichever connection is free first; a
/// waiting call that is cancelled, or still waits at its deadline, leaves the queue (the deadline
/// with a 503). A call already running ends with PostgreSQL's statement_timeout. A thread whose
/// connection breaks or cannot be opened opens a new one, backing off while the database does
/// not answer; with none open, calls fail at once (503) instead of waiting out their deadline.
/// Waiting one-statement calls of a quick kind share a round trip, each in its own transaction
/// (`nextJobs`, `run(_:on:)`).
public final class DatabasePool: @unchecked Sendable {
    private struct Job {
        let id: Int
        let deadline: ContinuousClock.Instant?
        /// True once nobody waits for the answer (the HTTP client went away): dropped, not run.
        let abandoned: (@Sendable () -> Bool)?
        /// Runs on a connection's thread; resumes the caller.
        let run: (PGConnection) -> Void
        let fail: (any Error) -> Void
        /// A one-statement call (`firstRow`), which may share a round trip with others.
        var statement: Statement?

        struct Statement {
            let sql: String
            let params: [String?]
            /// Calls of one kind (a route) take about as long as each other; nil: a kind of its own.
            let kind: String?
            let finish: (Result<[String?]?, PGError>) -> Void
            var bytes: Int { sql.utf8.count + params.reduce(0) { $0 + ($1?.utf8.count ?? 0) } }
        }

        func expired(at now: ContinuousClock.Instant) -> Bool { deadline.map { $0 < now } ?? false }
        var isAbandoned: Bool { abandoned?() ?? false }
    }

    private let url: String
    private let size: Int
    private let connectTimeoutSeconds: Int
    /// Calls of a kind that recently ran this long (seconds) or longer run alone, and so do kinds
    /// not seen yet: a quick call that shares a round trip with a slow one waits for it, where
    /// alone it would have taken the next free connection.
    private let quickBelow: Double
    private let logger: Logger
    /// A thread backing off waits on this, so that shutdown (and only shutdown) wakes it early.
    private let backoff = NSCondition()
    private var stopping = false
    /// Guards everything below; connection threads wait on it for work.
    private let condition = NSCondition()
    private var queue: [Job] = []
    private var nextJobID = 0
    private var open = 0
    /// The last attempt to connect failed and no connection is open: fail calls at once.
    private var unreachable: PoolError?
    private var shutDown = false
    private var shared = 0
    /// Recent running time per kind of call (moving average, seconds): only quick kinds share.
    private var runningTime: [String: Double] = [:]

    public init(url: String, size: Int, connectTimeoutSeconds: Int = PGConnection.defaultConnectTimeoutSeconds, quickBelow: Double = 0.002, logger: Logger) {
        self.url = url
        self.size = max(1, size)
        self.connectTimeoutSeconds = connectTimeoutSeconds
        self.quickBelow = quickBelow
        self.logger = logger
    }

    /// Runs `body` on a connection's thread, with the connection, when one is free before
    /// `deadline`. `body` blocks that thread (and no other) while it talks to PostgreSQL.
    public func withConnection<T: Sendable>(deadline: ContinuousClock.Instant? = nil,
                                     _ body: @escaping @Sendable (PGConnection) throws -> T) async throws -> T {
        try await enqueue(deadline: deadline, abandoned: nil, body, statement: nil)
    }

    private func enqueue<T: Sendable>(deadline: ContinuousClock.Instant?, abandoned: (@Sendable () -> Bool)?,
                                      _ body: @escaping @Sendable (PGConnection) throws -> T,
                                      statement: ((CheckedContinuation<T, any Error>) -> Job.Statement)?) async throws -> T {
        let id = locked { () -> Int in defer { nextJobID += 1 }; return nextJobID }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
                let refused: (any Error)? = locked {
                    if shutDown { return PoolError.shuttingDown }
                    // Checked under the lock the cancellation handler takes: either it already
                    // ran (and this sees it), or it will find the job to remove.
                    if Task.isCancelled { return CancellationError() }
                    if let unreachable { return unreachable }
                    queue.append(Job(id: id, deadline: deadline, abandoned: abandoned, run: { connection in continuation.resume(with: Result { try body(connection) }) },
                                     fail: { continuation.resume(throwing: $0) }, statement: statement?(continuation)))
                    condition.signal()
                    return nil
                }
                if let refused { continuation.resume(throwing: refused) }
            }
        } onCancel: {
            let job = locked { () -> Job? in
                guard let index = queue.firstIndex(where: { $0.id == id }) else { return nil }
                return queue.remove(at: index)
            }
            job?.fail(CancellationError())
        }
    }

    /// The first row of a statement's answer as text values (nil for SQL NULL), or nil when the
    /// answer has no row. `params` are `$1`, `$2`, … as text. Calls of a `kind` that has been
    /// running quickly may share a round trip with others waiting (`nextJobs`). A call that is
    /// `abandoned` (its caller gone) by the time a connection takes it fails with
    /// CancellationError instead of running: after an overload, live callers do not wait
    /// behind answers nobody will read.
    public func firstRow(_ sql: String, _ params: [String?] = [], kind: String? = nil,
                         deadline: ContinuousClock.Instant? = nil, abandoned: (@Sendable () -> Bool)? = nil) async throws -> [String?]? {
        try await enqueue(deadline: deadline, abandoned: abandoned, { try $0.exec(sql, params).rows.first }, statement: { continuation in
            Job.Statement(sql: sql, params: params, kind: kind, finish: { continuation.resume(with: $0.mapError { $0 }) })
        })
    }

    /// Calls waiting for a connection, and connections open (for tests).
    public var waitingCount: Int { locked { queue.count } }
    public var openCount: Int { locked { open } }
    /// Round trips that carried more than one call.
    public var sharedRoundTrips: Int { locked { shared } }

    /// Serves calls until the calling task is cancelled, then shuts down: waiting and new calls
    /// fail with `shuttingDown`, running ones finish, and it returns once every thread has ended.
    public func run() async {
        let threads = DispatchGroup()
        for slot in 0..<size {
            threads.enter()
            let thread = Thread { [self] in
                serve(slot: slot)
                threads.leave()
            }
            thread.name = "pg-pool-\(slot)"
            thread.start()
        }
        // Deadlines are kept by this one loop rather than a timer per call (a timer and a task per
        // request cost the gateway 0.035 ms of CPU per request): a call waits at most this long past its own.
        while !Task.isCancelled {
            try? await Task.sleep(for: Self.deadlineResolution)
            failExpired()
        }
        stopBackingOff()
        let waiting = locked {
            shutDown = true
            condition.broadcast()
            defer { queue = [] }
            return queue
        }
        waiting.forEach { $0.fail(PoolError.shuttingDown) }
        // Each thread finishes the call it is running, closes its connection and ends.
        await withCheckedContinuation { ended in threads.notify(queue: .global()) { ended.resume() } }
    }

    /// One connection's thread: connect, serve calls until the connection breaks, connect again.
    private func serve(slot: Int) {
        var delay = 0.1
        var current: PGConnection?
        var lastUsed = ContinuousClock.now
        while true {
            let connection: PGConnection
            if let current {
                connection = current
            } else {
                let attempt = ContinuousClock.now
                do {
                    connection = try PGConnection(url: url, connectTimeoutSeconds: connectTimeoutSeconds)
                } catch {
                    logger.debug("database connection failed", metadata: ["slot": "\(slot)", "error": "\(error)"])
                    // A server that did not answer in time is busy or far, not known down: the
                    // waiting calls keep their places until their own deadlines, and this tries
                    // again at once. Only a quick failure (refused, no socket) fails them now.
                    let timedOut = ContinuousClock.now - attempt >= .seconds(connectTimeoutSeconds) - .milliseconds(500)
                    if timedOut { if stoppingRequested { return } else { continue } }
                    if connectFailed(.connectionFailed(underlying: error), thenWait: delay) { return }
                    delay = min(delay * 2, Self.longestRetryDelay)
                    continue
                }
                current = connection
                delay = 0.1
                locked { open += 1; unreachable = nil }
            }
            let jobs = nextJobs()
            guard let job = jobs.first else { return }
            // A connection idle a while may have been ended by the server: replace it before the
            // call rather than fail the call (one poll, never under load).
            if ContinuousClock.now - lastUsed > Self.idleCheckAfter, connection.serverSpokeWhileIdle {
                current = nil
                locked { open -= 1; queue.insert(contentsOf: jobs, at: 0); condition.signal() }
                continue
            }
            var usable = true
            let started = ContinuousClock.now
            if jobs.count == 1 {
                job.run(connection)
            } else {
                usable = run(jobs.compactMap(\.statement), on: connection)
            }
            lastUsed = .now
            record(jobs.compactMap(\.statement?.kind), took: Double((lastUsed - started) / .microseconds(1)) / 1e6 / Double(jobs.count))
            if !usable || connection.isBroken {
                current = nil
                locked { open -= 1 }
            }
        }
    }

    /// While the database does not answer, each thread tries again at most this long after its
    /// last attempt (a refused connection costs next to nothing), so calls work again within about
    /// half a second of the database coming back.
    public static let longestRetryDelay = 0.5
    public static let deadlineResolution = Duration.milliseconds(100)
    public static let idleCheckAfter = Duration.milliseconds(100)

    /// Several one-statement calls share a round trip, each in its own transaction: under load the
    /// queue is seldom empty, and PostgreSQL then reads and runs them without waiting in between.
    /// False when the round trip failed as a whole: the connection may be mid-pipeline, so it goes.
    private func run(_ statements: [Job.Statement], on connection: PGConnection) -> Bool {
        locked { shared += 1 }
        do {
            let outcomes = try connection.pipeline(statements.map { ($0.sql, $0.params) })
            zip(statements, outcomes).forEach { $0.finish($1) }
            return true
        } catch {
            let failure = error as? PGError ?? PGError(message: "\(error)")
            statements.forEach { $0.finish(.failure(failure)) }
            return false
        }
    }

    /// At most this many calls, and this many bytes of SQL and parameters, share a round trip.
    static let batchLimit = 8
    static let batchBytes = 32 * 1024

    private func record(_ kinds: [String], took seconds: Double) {
        guard !kinds.isEmpty else { return }
        locked {
            for kind in kinds { runningTime[kind] = runningTime[kind].map { $0 * 0.8 + seconds * 0.2 } ?? seconds }
        }
    }

    /// Under the lock.
    private func shares(_ job: Job) -> Bool {
        guard let kind = job.statement?.kind, let seconds = runningTime[kind] else { return false }
        return seconds < quickBelow
    }

    /// The next call in the queue, with the one-statement calls right behind it when it is one
    /// too — no more than this connection's share of those waiting, so that a connection coming
    /// free next finds work rather than an empty queue; empty once the pool shuts down.
    private func nextJobs() -> [Job] {
        while true {
            var expired: [Job] = [], abandoned: [Job] = []
            let (jobs, stopped) = locked { () -> ([Job], Bool) in
                while queue.isEmpty && !shutDown { condition.wait() }
                if shutDown { return ([], true) }
                let now = ContinuousClock.now
                let share = min(Self.batchLimit, (queue.count + size - 1) / size)
                var jobs: [Job] = [], bytes = 0
                while jobs.count < share, let next = queue.first {
                    // The first call goes whatever it is; the ones after it only if all of them share.
                    if let first = jobs.first {
                        guard shares(first), shares(next), let statement = next.statement, bytes + statement.bytes <= Self.batchBytes else { break }
                    }
                    queue.removeFirst()
                    if next.expired(at: now) { expired.append(next); continue }
                    if next.isAbandoned { abandoned.append(next); continue }
                    jobs.append(next)
                    bytes += next.statement?.bytes ?? 0
                }
                return (jobs, false)
            }
            expired.forEach { $0.fail(PoolError.timedOut) }
            abandoned.forEach { $0.fail(CancellationError()) }
            // Every call taken had waited past its deadline or lost its caller: wait for the next.
            if stopped || !jobs.isEmpty { return jobs }
        }
    }

    private func failExpired() {
        let now = ContinuousClock.now
        let expired = locked { () -> [Job] in
            let expired = queue.filter { $0.expired(at: now) }
            if !expired.isEmpty { queue.removeAll { $0.expired(at: now) } }
            return expired
        }
        expired.forEach { $0.fail(PoolError.timedOut) }
    }

    /// With no connection open, the waiting calls fail now (they would wait out their deadline for
    /// nothing) and so do new ones until a connection opens. Then waits `seconds` before the next
    /// attempt; true when the pool shut down meanwhile.
    private func connectFailed(_ error: PoolError, thenWait seconds: Double) -> Bool {
        let failed = locked { () -> [Job] in
            guard open == 0 else { return [] }
            unreachable = error
            defer { queue = [] }
            return queue
        }
        failed.forEach { $0.fail(error) }
        backoff.lock()
        defer { backoff.unlock() }
        let until = Date(timeIntervalSinceNow: seconds)
        while !stopping && backoff.wait(until: until) {}
        return stopping
    }

    private var stoppingRequested: Bool {
        backoff.lock()
        defer { backoff.unlock() }
        return stopping
    }

    private func stopBackingOff() {
        backoff.lock()
        defer { backoff.unlock() }
        stopping = true
        backoff.broadcast()
    }

    private func locked<T>(_ body: () throws -> T) rethrows -> T {
        condition.lock()
        defer { condition.unlock() }
        return try body()
    }
}
