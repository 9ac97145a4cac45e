import Foundation
import Logging
import NIOPosix
import PGClient
import ServiceLifecycle

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
final class DatabasePool: Service, @unchecked Sendable {
    /// The pool could not open a connection: the database is down, or refuses the gateway's own
    /// login. Never the caller's doing, whatever SQLSTATE PostgreSQL sent (a refused login is 28P01,
    /// which from a request's own statement would mean 401).
    struct ConnectionFailed: Error {
        let underlying: any Error
    }

    private struct Job {
        let id: Int
        let deadline: ContinuousClock.Instant?
        /// Runs on a connection's thread; resumes the caller.
        let run: (PGConnection) -> Void
        let fail: (any Error) -> Void

        func expired(at now: ContinuousClock.Instant) -> Bool { deadline.map { $0 < now } ?? false }
    }

    private let url: String
    private let size: Int
    private let connectTimeoutSeconds: Int
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
    private var unreachable: ConnectionFailed?
    private var shutDown = false

    init(url: String, size: Int, connectTimeoutSeconds: Int = 3, logger: Logger) {
        self.url = url
        self.size = max(1, size)
        self.connectTimeoutSeconds = connectTimeoutSeconds
        self.logger = logger
    }

    /// Runs `body` on a connection's thread, with the connection, when one is free before
    /// `deadline`. `body` blocks that thread (and no other) while it talks to PostgreSQL.
    func withConnection<T: Sendable>(deadline: ContinuousClock.Instant? = nil,
                                     _ body: @escaping @Sendable (PGConnection) throws -> T) async throws -> T {
        let id = locked { () -> Int in defer { nextJobID += 1 }; return nextJobID }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
                let refused: (any Error)? = locked {
                    if shutDown { return Self.closed }
                    // Checked under the lock the cancellation handler takes: either it already
                    // ran (and this sees it), or it will find the job to remove.
                    if Task.isCancelled { return CancellationError() }
                    if let unreachable { return unreachable }
                    queue.append(Job(id: id, deadline: deadline, run: { connection in continuation.resume(with: Result { try body(connection) }) },
                                     fail: { continuation.resume(throwing: $0) }))
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
    /// answer has no row. `params` are `$1`, `$2`, … as text.
    func firstRow(_ sql: String, _ params: [String?] = [], deadline: ContinuousClock.Instant? = nil) async throws -> [String?]? {
        try await withConnection(deadline: deadline) { try $0.exec(sql, params).rows.first }
    }

    /// Calls waiting for a connection, and connections open (for tests).
    var waitingCount: Int { locked { queue.count } }
    var openCount: Int { locked { open } }

    func run() async throws {
        let threads = NIOThreadPool(numberOfThreads: size)
        threads.start()
        for slot in 0..<size {
            threads.submit { [self] _ in serve(slot: slot) }
        }
        // Deadlines are kept by this one loop rather than a timer per call (a timer and a task per
        // request cost the gateway 0.035 ms of CPU per request): a call waits at most this long past its own.
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try? await Task.sleep(for: Self.deadlineResolution)
                self.failExpired()
            }
        }
        stopBackingOff()
        let waiting = locked {
            shutDown = true
            condition.broadcast()
            defer { queue = [] }
            return queue
        }
        waiting.forEach { $0.fail(Self.closed) }
        // Each thread finishes the call it is running, closes its connection and ends.
        try await threads.shutdownGracefully()
    }

    /// One connection's thread: connect, serve calls until the connection breaks, connect again.
    private func serve(slot: Int) {
        var delay = 0.1
        var connection: PGConnection?
        var lastUsed = ContinuousClock.now
        while true {
            if connection == nil {
                do {
                    connection = try PGConnection(url: url, connectTimeoutSeconds: connectTimeoutSeconds)
                    delay = 0.1
                    locked { open += 1; unreachable = nil }
                } catch {
                    logger.debug("database connection failed", metadata: ["slot": "\(slot)", "error": "\(error)"])
                    if connectFailed(ConnectionFailed(underlying: error), thenWait: delay) { return }
                    delay = min(delay * 2, 5)
                    continue
                }
            }
            guard let job = nextJob() else { return }
            // A connection idle a while may have been ended by the server: replace it before the
            // call rather than fail the call (one poll, never under load).
            if ContinuousClock.now - lastUsed > Self.idleCheckAfter, connection!.serverSpokeWhileIdle {
                connection = nil
                locked { open -= 1; queue.insert(job, at: 0) }
                continue
            }
            job.run(connection!)
            lastUsed = .now
            if connection!.isBroken {
                connection = nil
                locked { open -= 1 }
            }
        }
    }

    static let deadlineResolution = Duration.milliseconds(100)
    static let idleCheckAfter = Duration.milliseconds(100)

    /// The next call in the queue; nil once the pool shuts down.
    private func nextJob() -> Job? {
        while true {
            let job = locked { () -> Job? in
                while queue.isEmpty && !shutDown { condition.wait() }
                return shutDown ? nil : queue.removeFirst()
            }
            guard let job, job.expired(at: .now) else { return job }
            job.fail(Problem.databaseTimedOut)
        }
    }

    private func failExpired() {
        let now = ContinuousClock.now
        let expired = locked { () -> [Job] in
            let expired = queue.filter { $0.expired(at: now) }
            if !expired.isEmpty { queue.removeAll { $0.expired(at: now) } }
            return expired
        }
        expired.forEach { $0.fail(Problem.databaseTimedOut) }
    }

    /// With no connection open, the waiting calls fail now (they would wait out their deadline for
    /// nothing) and so do new ones until a connection opens. Then waits `seconds` before the next
    /// attempt; true when the pool shut down meanwhile.
    private func connectFailed(_ error: ConnectionFailed, thenWait seconds: Double) -> Bool {
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

    private static let closed = Problem.unavailable("The gateway is shutting down; retry shortly")
}
