import NIOConcurrencyHelpers
import Testing
@testable import GatewayCore

@Suite("Deadline")
struct DeadlineTests {
    struct Boom: Error {}

    @Test func anAnswerInTimeIsReturned() async throws {
        #expect(try await withDeadline(.seconds(5)) { 42 } == 42)
    }

    @Test func theWorksOwnErrorPassesThrough() async {
        await #expect(throws: Boom.self) { try await withDeadline(.seconds(5)) { () async throws -> Int in throw Boom() } }
    }

    @Test func pastTheDeadlineTheWorkIsCancelledAndTheCallerGetsA503() async throws {
        let cancelled = NIOLockedValueBox(false)
        do {
            _ = try await withDeadline(.milliseconds(100)) { () async throws -> Int in
                do { try await Task.sleep(for: .seconds(30)) } catch { cancelled.withLockedValue { $0 = true }; throw error }
                return 1
            }
            Issue.record("no 503")
        } catch let problem as Problem {
            #expect(problem.status == .serviceUnavailable)
        }
        #expect(cancelled.withLockedValue { $0 }, "the work was cancelled, not left to sleep its 30 s")
    }
}
