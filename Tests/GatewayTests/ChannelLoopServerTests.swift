import Foundation
import NIOCore
import NIOPosix
import Testing
@testable import GatewayCore

@Suite struct ChannelLoopServerTests {
    /// A connection's task prefers its channel's loop: resumed from another thread (as the pool's
    /// threads resume it after a database call), it carries on on that loop, not elsewhere.
    @Test func aTaskPreferringALoopStaysOnItWhenAnotherThreadResumesIt() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let loop = group.next()
        let seen = await onLoopAcrossResumes(preferring: EventLoopTaskExecutor(loop: loop), loop: loop)
        try await group.shutdownGracefully()
        #expect(seen == [true, true, true, true])
    }

    private nonisolated func onLoopAcrossResumes(preferring executor: EventLoopTaskExecutor, loop: any EventLoop) async -> [Bool] {
        await withTaskExecutorPreference(executor) {
            var seen = [loop.inEventLoop]
            for _ in 0..<3 {
                await withCheckedContinuation { (resumed: CheckedContinuation<Void, Never>) in
                    Thread { resumed.resume() }.start()
                }
                seen.append(loop.inEventLoop)
            }
            return seen
        }
    }
}
