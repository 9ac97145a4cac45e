import Logging
import NIOPosix
import PGClient
import ServiceLifecycle

/// The generic worker loop (docs/gateway.md, "Job queues"). `count` workers, each on a connection
/// and a thread of its own (a job blocks its connection for as long as it runs), serve every queue
/// the units registered (`gateway.job_queue_list()`): a worker calls each queue's procedure until
/// none had a job, then waits for a NOTIFY on the queues' channels, or `idlePoll` at most (the next
/// call then also returns jobs whose worker died to their queue). Which job runs, its lease and its
/// outcome are the SQL procedure's business; nothing here knows a product. After any error the
/// worker reconnects: closing the session releases whatever the procedure held.
struct JobWorkers: Service {
    struct Queue: Sendable {
        let name: String
        let call: String
        let channel: String
    }

    let database: DatabaseURL
    let count: Int
    /// The worker session's statement_timeout: the longest a job may run.
    let jobTimeout: Duration
    let idlePoll: Duration
    let logger: Logger
    static let waitMilliseconds: Int32 = 250

    func run() async throws {
        await withDiscardingTaskGroup { group in
            for index in 1...count { group.addTask { await worker(index) } }
        }
    }

    private func worker(_ index: Int) async {
        let thread = NIOThreadPool(numberOfThreads: 1)
        thread.start()
        defer { thread.shutdownGracefully { _ in } }
        var backoff: Duration = .milliseconds(250)
        var failures = 0
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                let session = try await thread.runIfActive { [database, jobTimeout] in
                    let connection = try PGConnection(url: database.text, connectTimeoutSeconds: PGConnection.defaultConnectTimeoutSeconds)
                    // A job's backend checks every 2 s that this gateway is still there: if it was
                    // killed, the job stops and its queue hands it to another worker at once.
                    try connection.exec("""
                        select set_config('application_name', $1, false), set_config('statement_timeout', $2, false),
                               set_config('client_connection_check_interval', '2s', false)
                        """, ["gateway job worker \(index)", String(Int(jobTimeout / .milliseconds(1)))])
                    try connection.exec("listen \(CatalogListener.channel)")
                    return PGSession(connection)
                }
                var queues = try await thread.runIfActive { try Self.listen(session) }
                backoff = .milliseconds(250)
                failures = 0
                var idle: Duration = .zero
                var due = true
                while !Task.isCancelled && !Task.isShuttingDownGracefully {
                    if due {
                        // One job at a time, so a shutdown is seen between jobs (a running one finishes).
                        while !Task.isShuttingDownGracefully, try await thread.runIfActive({ [queues] in try Self.runOne(session, queues) }) {}
                        idle = .zero
                    }
                    let heard = try await thread.runIfActive { try session.connection.notifications(waitingUpTo: Self.waitMilliseconds) }
                    if heard.contains(CatalogListener.channel) { queues = try await thread.runIfActive { try Self.listen(session) } }
                    idle += .milliseconds(Int(Self.waitMilliseconds))
                    due = !heard.isEmpty || idle >= idlePoll
                }
            } catch {
                if Task.isCancelled || Task.isShuttingDownGracefully { return }
                failures += 1
                logger.log(level: failures == 1 ? .warning : .debug, "job worker \(index) failed; reconnecting",
                           metadata: ["error": "\(String(reflecting: error))"])
                try? await cancelWhenGracefulShutdown { [backoff] in try await Task.sleep(for: backoff) }
                backoff = min(backoff * 2, .seconds(5))
            }
        }
    }

    /// The registered queues, listening on each one's channel.
    private static func listen(_ session: PGSession) throws -> [Queue] {
        let queues = try session.connection.exec("select queue, call, channel from gateway.job_queue_list()").rows.compactMap { row -> Queue? in
            guard let name = row[0], let call = row[1], let channel = row[2] else { return nil }
            return Queue(name: name, call: call, channel: channel)
        }
        for channel in Set(queues.map(\.channel)) { try session.connection.exec("listen \(channel)") }
        return queues
    }

    /// Runs at most one job of each queue; true when any ran (there may be more).
    private static func runOne(_ session: PGSession, _ queues: [Queue]) throws -> Bool {
        var ran = false
        for queue in queues {
            let row = try session.connection.exec(queue.call).rows.first
            if row?[0] != nil { ran = true }
        }
        return ran
    }
}
