import Logging

/// swift-log's `StreamLogHandler` (same output, standard output), except that metadata is
/// formatted when a line is written rather than every time it is set. Hummingbird sets metadata on
/// every request (a request id) that is almost never logged, and `StreamLogHandler` sorted and
/// formatted all of it each time (perf: setting metadata took 2.2 % of the gateway's CPU with it,
/// 0.8 % with this).
public struct LazyMetadataLogHandler: LogHandler {
    private var stream: StreamLogHandler
    public var metadata: Logger.Metadata = [:]

    /// Writes to standard output, or to `stream` (tests).
    public init(label: String, stream: (any TextOutputStream & Sendable)? = nil) {
        self.stream = stream.map { StreamLogHandler(label: label, stream: $0) } ?? .standardOutput(label: label)
    }

    /// Makes every logger of the process use this handler; call once, before any logger exists.
    public static func bootstrap() {
        LoggingSystem.bootstrap { LazyMetadataLogHandler(label: $0) }
    }

    public var logLevel: Logger.Level {
        get { stream.logLevel }
        set { stream.logLevel = newValue }
    }

    public var metadataProvider: Logger.MetadataProvider? {
        get { stream.metadataProvider }
        set { stream.metadataProvider = newValue }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var event = event
        if !metadata.isEmpty {
            event.metadata = metadata.merging(event.metadata ?? [:]) { _, explicit in explicit }
        }
        stream.log(event: event)
    }
}
