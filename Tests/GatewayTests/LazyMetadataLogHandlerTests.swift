import Logging
import NIOConcurrencyHelpers
import Testing
@testable import GatewayCore

@Suite("Diagnostic log lines")
struct LazyMetadataLogHandlerTests {
    final class Lines: TextOutputStream, @unchecked Sendable {
        private let lines = NIOLockedValueBox<[String]>([])
        func write(_ string: String) { lines.withLockedValue { $0.append(string) } }
        var all: [String] { lines.withLockedValue { $0 } }
    }

    @Test func metadataSetOnTheLoggerAndOnTheLineAreBothWritten() {
        let lines = Lines()
        var logger = Logger(label: "gateway") { LazyMetadataLogHandler(label: $0, stream: lines) }
        logger[metadataKey: "request"] = "r-1"
        logger[metadataKey: "route"] = "GET /a"
        logger.info("nothing at info")
        logger.warning("slow", metadata: ["route": "GET /b", "ms": "12"])
        logger.debug("below the level: not written")
        #expect(lines.all.count == 2)
        #expect(lines.all[0].hasSuffix(" info gateway: request=r-1 route=GET /a [GatewayTests] nothing at info\n"))
        #expect(lines.all[1].hasSuffix(" warning gateway: ms=12 request=r-1 route=GET /b [GatewayTests] slow\n"),
                "the line's own metadata wins over the logger's")
    }

    @Test func withoutMetadataTheLineIsStreamLogHandlers() {
        let (ours, theirs) = (Lines(), Lines())
        Logger(label: "gateway") { LazyMetadataLogHandler(label: $0, stream: ours) }.error("down")
        Logger(label: "gateway") { StreamLogHandler(label: $0, stream: theirs) }.error("down")
        #expect(ours.all.map { $0.drop { $0 != " " } } == theirs.all.map { $0.drop { $0 != " " } }, "the same line past the timestamp")
    }
}
