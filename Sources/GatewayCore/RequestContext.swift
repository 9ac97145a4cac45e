import Hummingbird
import NIOConcurrencyHelpers
import NIOCore

/// The request context: Hummingbird's core storage, the peer address (anonymous callers are
/// rate-limited by it), and facts that inner layers report to the outer log and metrics layer.
public struct GatewayContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: SocketAddress?
    let report = RequestReport()
    private let channel: any Channel

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
        channel = source.channel
    }

    /// True once the client has gone (its connection closed): a call still waiting for a database
    /// connection is then dropped instead of run for nobody. nil where there is no socket (tests).
    var clientGone: (@Sendable () -> Bool)? {
        guard remoteAddress != nil else { return nil }
        return { [channel] in !channel.isActive }
    }
}

/// Shared by reference because middleware receives the context by value: what the catalog layer
/// learns (route, user, database time, cache hit) reaches the log line written outside it.
final class RequestReport: Sendable {
    struct Values {
        var requestID = ""
        var route: String?
        var userID: String?
        var databaseSeconds: Double?
        var cacheHit = false
        /// The matched route's unit's error style; the default until a route matched.
        var errorStyle = ErrorStyle.problem
    }

    private let box = NIOLockedValueBox(Values())

    var values: Values { box.withLockedValue { $0 } }

    func update(_ change: (inout Values) -> Void) { box.withLockedValue(change) }
}
