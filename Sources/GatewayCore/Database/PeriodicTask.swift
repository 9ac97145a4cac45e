import Logging
import ServiceLifecycle

/// Runs `work` every `interval` until the gateway shuts down (which ends the wait at once). A
/// failed run is logged and retried at the next one.
struct PeriodicTask: Service {
    let name: String
    let interval: Duration
    /// Run once at start, before the first wait.
    var runsAtStart = false
    /// Failures of some jobs are routine (debug); of others, worth a warning.
    var failureLevel: Logger.Level = .warning
    let logger: Logger
    let work: @Sendable () async throws -> Void

    func run() async throws {
        var due = runsAtStart
        while !Task.isShuttingDownGracefully {
            if due {
                do { try await work() } catch {
                    logger.log(level: failureLevel, "\(name) failed; retrying at the next run", metadata: ["error": "\(String(reflecting: error))"])
                }
            }
            due = true
            try? await cancelWhenGracefulShutdown { [interval] in try await Task.sleep(for: interval) }
            if Task.isShuttingDownGracefully || Task.isCancelled { return }
        }
    }
}
