import ArgumentParser
import GatewayCore
import NIOCore
import NIOPosix

// Run Swift concurrency on NIO's event loops, so a request is not handed between the event-loop
// threads and the cooperative pool several times (perf showed ~9% of CPU in task switches).
// Must happen before any concurrency code runs, hence no @main on the command.
_ = NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
LazyMetadataLogHandler.bootstrap()

/// In an async function `run()` resolves to the async requirement (at top level it did not).
func runAsync(_ command: any AsyncParsableCommand) async throws {
    var command = command
    try await command.run()
}

do {
    var command = try GatewayCommand.parseAsRoot()
    if let asyncCommand = command as? any AsyncParsableCommand {
        try await runAsync(asyncCommand)
    } else {
        try command.run()
    }
} catch {
    GatewayCommand.exit(withError: error)
}
