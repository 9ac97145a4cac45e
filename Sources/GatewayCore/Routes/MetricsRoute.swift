import Crypto
import Foundation
import Hummingbird
import NIOCore

/// `/metrics` (Prometheus text) for a scraper on this host, or anywhere with `METRICS_TOKEN` as a
/// bearer token: route names, rates and latencies are not for whoever reaches the port.
struct MetricsRoute {
    let metrics: Metrics
    let token: String?

    func add(to router: Router<GatewayContext>) {
        router.get("/metrics") { request, context in
            guard allows(authorization: request.headers[.authorization], from: context.remoteAddress) else {
                throw Problem.authRequired("Metrics need the METRICS_TOKEN bearer token, or a client on this host")
            }
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                            body: .init(byteBuffer: ByteBuffer(string: metrics.render())))
        }
    }

    func allows(authorization: String?, from address: SocketAddress?) -> Bool {
        if let token, let given = authorization.flatMap(Authenticator.bearerToken) {
            // Compared as digests, so the time taken says nothing about the token.
            return SHA256.hash(data: Data(given.utf8)) == SHA256.hash(data: Data(token.utf8))
        }
        switch address {
        case .v4(let v4): return v4.host.hasPrefix("127.")
        case .v6(let v6): return v6.host == "::1"
        default: return false
        }
    }
}
