import Crypto
import Foundation
import HTTPTypes
import Hummingbird

/// Turns what the function returned into the HTTP response: status and headers the function set,
/// Cache-Control from the catalog, a weak ETag, and 304 for a matching If-None-Match.
enum ResponseShaper {
    /// Headers a function may set; framing and hop-by-hop headers stay the server's.
    static let forbiddenHeaders: Set<String> = ["content-length", "transfer-encoding", "connection", "keep-alive", "upgrade", "te", "trailer"]

    static func response(for result: Invoker.Result, route: RouteDefinition, request: Request, headers: HTTPFields,
                         context: GatewayContext, metrics: Metrics) throws -> Response {
        var headers = headers
        headers[.contentType] = "application/json"
        if let extra = result.headers, case .object(let fields)? = try? JSONValue.parse(Data(extra.utf8)) {
            for (name, value) in fields where !forbiddenHeaders.contains(name.lowercased()) {
                if let field = HTTPField.Name(name), let text = value.stringValue { headers[field] = text }
            }
        }
        let status = HTTPResponse.Status(code: result.status ?? (result.body == nil ? 204 : 200))
        if status.code >= 400 { throw answeredProblem(result, status: status, headers: headers) }
        let isCacheable = (request.method == .get || request.method == .head) && status == .ok
        headers[.cacheControl] = isCacheable ? cacheControl(for: route) : "no-store"
        // The body depends on who asks: shared caches must key on the token.
        headers[.vary] = "Authorization"

        guard let body = result.body, status != .noContent else {
            return Response(status: status, headers: headers)
        }
        if isCacheable {
            let tag = etag(for: body)
            headers[.eTag] = tag
            if let condition = request.headers[.ifNoneMatch], matches(condition, tag) {
                context.report.update { $0.cacheHit = true }
                metrics.recordNotModified(route: route.name)
                return Response(status: .notModified, headers: headers)
            }
        }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: body)))
    }

    /// An error the function answered without rolling back (util.answer_error): its body is
    /// {code, message, details}; it is rendered like every other problem, with the function's headers.
    static func answeredProblem(_ result: Invoker.Result, status: HTTPResponse.Status, headers: HTTPFields) -> Problem {
        let fields: [String: JSONValue] = if case .object(let object)? = result.body.flatMap({ try? JSONValue.parse(Data($0.utf8)) }) { object } else { [:] }
        var problem = Problem(status, code: fields["code"]?.stringValue ?? DatabaseErrorMapping.codeName(for: status),
                              message: fields["message"]?.stringValue ?? status.reasonPhrase, details: fields["details"])
        problem.headers = headers
        problem.headers[.contentType] = nil
        return problem
    }

    /// Always `private`: these are a tenant's numbers, and a shared cache must never hand them to
    /// another tenant (as a spec's `public`, Hot Dash's for example, would).
    static func cacheControl(for route: RouteDefinition) -> String {
        guard let maxAge = route.cacheMaxAge else { return "no-store" }
        var value = "private, max-age=\(maxAge)"
        if let swr = route.cacheStaleWhileRevalidate { value += ", stale-while-revalidate=\(swr)" }
        return value
    }

    static func etag(for body: String) -> String {
        let digest = SHA256.hash(data: Data(body.utf8))
        return "W/\"" + FastFormat.hex(digest.prefix(16)) + "\""
    }

    /// Weak comparison, as RFC 9110 asks for If-None-Match.
    static func matches(_ condition: String, _ tag: String) -> Bool {
        if condition.trimmingCharacters(in: .whitespaces) == "*" { return true }
        let opaque = { (value: Substring) -> Substring in
            let trimmed = value.drop { $0 == " " }
            return trimmed.hasPrefix("W/") ? trimmed.dropFirst(2) : trimmed
        }
        let wanted = opaque(Substring(tag))
        return condition.split(separator: ",").contains { opaque($0).trimmingCharacters(in: .whitespaces) == wanted }
    }
}
