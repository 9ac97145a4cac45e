import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import PGClient

/// The requests a SQL function asks the gateway to make (`response.fetch`: `{"requests": [{url,
/// method, headers, body, timeout_ms}]}`), performed between two calls of the function, outside
/// any transaction (docs/gateway.md, Outbound requests). It answers what the function's next call
/// receives as `fetched`: `[{status, body, error?}]` in the same order, `status` 0 with an `error`
/// when there was no answer. It knows no product: which URL, which body and what the answer means
/// are the function's.
///
/// - Only hosts on the allow-list (`OUTBOUND_ALLOWED_HOSTS`) are reached, over http or https, and
///   redirects are not followed, so a URL a tenant configured cannot send the gateway elsewhere.
/// - A header value `{"$secret": name, "prefix": text?}` is resolved for the request's account by
///   `gateway.resolve_secret` (only the gateway's login may call it): the secret goes to the host
///   and nowhere else.
/// - Each request has a timeout (`timeout_ms`, default 10 s, at most 30 s); an answer over 16 MiB is
///   refused.
final class OutboundClient: @unchecked Sendable {
    /// A function is called at most this many times more, each after a fetch.
    static let maxRounds = 3
    static let maxRequests = 8
    static let maxResponseBytes = 16 << 20
    static let defaultTimeout: Duration = .seconds(10)
    static let maxTimeout: Duration = .seconds(30)

    let allowedHosts: Set<String>
    let pool: DatabasePool
    let deadline: Duration
    // URLSession is thread-safe; the class is @unchecked Sendable for it.
    private let session: URLSession

    init(allowedHosts: Set<String>, pool: DatabasePool, deadline: Duration) {
        self.allowedHosts = Set(allowedHosts.map { $0.lowercased() })
        self.pool = pool
        self.deadline = deadline
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = Double(Self.maxTimeout.components.seconds)
        configuration.timeoutIntervalForResource = Double(Self.maxTimeout.components.seconds)
        configuration.httpCookieStorage = nil
        configuration.urlCache = nil
        configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
        session = URLSession(configuration: configuration, delegate: NoRedirects(), delegateQueue: nil)
    }

    deinit { session.invalidateAndCancel() }

    /// Performs every request of `fetch` (in parallel) and answers them in order.
    func perform(_ fetch: String, account: String?) async throws -> JSONValue {
        guard case .object(let asked)? = try? JSONValue.parse(Data(fetch.utf8)), case .array(let requests)? = asked["requests"],
              requests.count <= Self.maxRequests
        else {
            throw Problem.internalError(cause: "an unreadable response.fetch (at most \(Self.maxRequests) requests): \(fetch.prefix(200))")
        }
        return try await withThrowingTaskGroup(of: (Int, JSONValue).self) { group in
            for (index, request) in requests.enumerated() {
                group.addTask { (index, await self.answer(request, account: account)) }
            }
            var answers = [JSONValue](repeating: .null, count: requests.count)
            for try await (index, answer) in group { answers[index] = answer }
            return .array(answers)
        }
    }

    /// One request's `{status, body, error?}`.
    private func answer(_ asked: JSONValue, account: String?) async -> JSONValue {
        do {
            let request = try await urlRequest(asked, account: account)
            let timeout = request.timeoutInterval
            let (data, response) = try await withDeadline(.milliseconds(Int(timeout * 1000))) { [session] in
                try await session.data(for: request)
            }
            guard data.count <= Self.maxResponseBytes else { return Self.failure("the answer was larger than 16 MiB") }
            let status = (response as? HTTPURLResponse)?.statusCode ?? 0
            let body: JSONValue = data.isEmpty ? .null : ((try? JSONValue.parse(data)) ?? .string(String(decoding: data, as: UTF8.self)))
            return .object(["status": .number(Double(status)), "body": body])
        } catch let refused as Refused {
            return Self.failure(refused.reason)
        } catch is TimedOut {
            return Self.failure("no answer within the timeout")
        } catch let error as URLError {
            return Self.failure(Self.describe(error))
        } catch {
            return Self.failure("the request failed")
        }
    }

    private static func failure(_ reason: String) -> JSONValue {
        .object(["status": .number(0), "body": .null, "error": .string(reason)])
    }

    private static func describe(_ error: URLError) -> String {
        switch error.code {
        case .timedOut: "no answer within the timeout"
        case .cannotConnectToHost, .networkConnectionLost: "the connection was refused or lost"
        case .cannotFindHost, .dnsLookupFailed: "the host name could not be resolved"
        case .secureConnectionFailed, .serverCertificateUntrusted, .serverCertificateHasBadDate, .serverCertificateNotYetValid,
             .serverCertificateHasUnknownRoot: "the TLS connection failed"
        default: "the request failed (\(error.code.rawValue))"
        }
    }

    struct Refused: Error { var reason: String }
    struct TimedOut: Error {}

    /// The URLRequest a function asked for, checked against the allow-list, secrets resolved.
    private func urlRequest(_ asked: JSONValue, account: String?) async throws -> URLRequest {
        guard case .object(let fields) = asked, let text = fields["url"]?.stringValue, let url = URL(string: text),
              let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https", var host = url.host?.lowercased()
        else { throw Refused(reason: "not an http or https URL") }
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard allowedHosts.contains(host), url.user == nil, url.password == nil else {
            throw Refused(reason: "the gateway may not reach \(host) (not in OUTBOUND_ALLOWED_HOSTS)")
        }
        var request = URLRequest(url: url)
        let method = (fields["method"]?.stringValue ?? "GET").uppercased()
        guard ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"].contains(method) else { throw Refused(reason: "method \(method) is not allowed") }
        request.httpMethod = method
        var timeout = Self.defaultTimeout
        if let milliseconds = fields["timeout_ms"]?.numberValue, milliseconds >= 1 {
            timeout = min(.milliseconds(Int(milliseconds)), Self.maxTimeout)
        }
        request.timeoutInterval = Double(timeout.components.seconds) + Double(timeout.components.attoseconds) / 1e18
        if case .object(let headers)? = fields["headers"] {
            for (name, value) in headers.sorted(by: { $0.key < $1.key }) {
                if let text = value.stringValue {
                    request.setValue(text, forHTTPHeaderField: name)
                } else if case .object(let reference) = value, let secretName = reference["$secret"]?.stringValue {
                    guard let secret = try await resolveSecret(secretName, account: account) else { continue }
                    request.setValue((reference["prefix"]?.stringValue ?? "") + secret, forHTTPHeaderField: name)
                }
            }
        }
        switch fields["body"] {
        case nil, .null?: break
        case .string(let text)?: request.httpBody = Data(text.utf8)
        case let value?:
            request.httpBody = Data(value.text.utf8)
            if request.value(forHTTPHeaderField: "Content-Type") == nil { request.setValue("application/json", forHTTPHeaderField: "Content-Type") }
        }
        return request
    }

    /// The secret `name` of the account, or nil (no account, none set).
    private func resolveSecret(_ name: String, account: String?) async throws -> String? {
        guard let account else { return nil }
        let row = try await pool.firstRow("select gateway.resolve_secret($1::uuid, $2)", [account, name], kind: "resolve_secret",
                                          deadline: .now + deadline)
        return row?.first ?? nil
    }

    /// The operation's result, or TimedOut once `limit` has passed (the operation is cancelled).
    private func withDeadline<T: Sendable>(_ limit: Duration, _ operation: @escaping @Sendable () async throws -> T) async throws -> T {
        try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await operation() }
            group.addTask {
                try await Task.sleep(for: limit)
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let value = first else { throw TimedOut() }
            return value
        }
    }
}

/// Redirects are answered to the function as they are, never followed: a redirect could lead off
/// the allow-list.
private final class NoRedirects: NSObject, URLSessionTaskDelegate, @unchecked Sendable {
    func urlSession(_ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
                    newRequest request: URLRequest, completionHandler: @escaping (URLRequest?) -> Void) {
        completionHandler(nil)
    }
}
