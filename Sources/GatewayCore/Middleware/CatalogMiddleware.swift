import Foundation
import Hummingbird
import NIOCore
import Logging

/// Serves every route of the SQL catalog; anything else goes on to the fixed routes (health,
/// metrics, OpenAPI) or a 404. An ordinary endpoint is a SQL function plus a catalog row.
struct CatalogMiddleware: RouterMiddleware {
    typealias Context = GatewayContext

    let catalog: CatalogStore
    let health: DatabaseHealth
    let authenticator: Authenticator
    let rateLimits: any RateLimitStore
    let invoker: Invoker
    let streamer: RowStreamer
    let tokenIssuer: TokenIssuer
    /// nil: every call goes to the database.
    let responseCache: ResponseCache?
    let metrics: Metrics
    let maxBodyBytes: Int
    /// Performs the requests a function asks for (response.fetch) between its calls.
    let outbound: OutboundClient

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        switch catalog.current.match(method: request.method.rawValue, path: request.uri.path) {
        case .none where catalog.isLoaded:
            return try await next(request, context)
        case .none:
            // Before the first load any path may be a route not known yet: retry, not "no such endpoint".
            do { return try await next(request, context) } catch let error as HTTPError where error.status == .notFound {
                throw Problem.unavailable("The gateway has not loaded its routes yet; retry shortly")
            }
        case .wrongMethod(let allowed) where request.method == .options:
            return Response(status: .noContent, headers: [.allow: allowed.joined(separator: ", ")])
        case .wrongMethod(let allowed):
            var problem = Problem(.methodNotAllowed, code: "METHOD_NOT_ALLOWED", message: "Use \(allowed.joined(separator: " or ")) here")
            problem.headers[.allow] = allowed.joined(separator: ", ")
            throw problem
        case .docsPage:
            return DocsPage.response(head: request.method == .head)
        case .route(let route, let parameters):
            context.report.update { $0.route = route.name; $0.errorStyle = route.errorStyle }
            let response = try await serve(route, parameters: parameters, request: request, context: context)
            return request.method == .head ? Self.withoutBody(response) : response
        }
    }

    /// A HEAD answer: the GET's status and headers, its length, no body.
    static func withoutBody(_ response: Response) -> Response {
        var response = response
        let length = response.headers[.contentLength]
        response.body = .init()
        response.headers[.contentLength] = length
        return response
    }

    private func serve(_ route: RouteDefinition, parameters: [String: String], request: Request, context: Context) async throws -> Response {
        var identity = try await authenticator.identify(request)
        identity.clientAddress = context.remoteAddress?.ipAddress
        context.report.update { $0.userID = identity.userID }
        try authorize(identity, for: route)
        try health.requireReachable()

        var headers = HTTPFields()
        if let policy = route.ratePolicy {
            let caller = identity.userID.map { "user:\($0)" } ?? "addr:\(identity.clientAddress ?? "unknown")"
            // The window is part of the bucket: a policy restated with another window starts afresh
            // (slot numbers of one window mean nothing in another).
            let bucket = "\(policy.name):\(policy.windowSeconds):\(caller)"
            let decision = try await rateLimits.take(bucket: bucket, requests: policy.requests, windowSeconds: policy.windowSeconds)
            guard decision.allowed else {
                metrics.recordRateLimited(policy: policy.name)
                throw decision.problem(policy: policy)
            }
            decision.apply(to: &headers, policy: policy)
        }

        var request = request
        var body = try await RequestBody.parameters(of: &request, maxBytes: maxBodyBytes)
        let rawQuery = request.uri.query ?? ""
        guard var query = QueryString.parse(Substring(rawQuery)) else {
            throw Problem.validation("The query string is malformed: a bad % escape, or bytes that are not UTF-8")
        }
        if route.streaming {
            // `format` is the gateway's, not the function's: it picks the encoding of the rows.
            let inQuery = query.filter { $0.0 == "format" }.map { JSONValue.string($0.1) }
            let given = inQuery + (body["format"].map { [$0] } ?? [])
            guard given.count <= 1 else { throw ParameterBinder.invalid([ParameterBinder.issue("format", ParameterBinder.givenTwice)]) }
            query.removeAll { $0.0 == "format" }
            body["format"] = nil
            let format = try StreamFormat.negotiate(parameter: given.first, accept: request.headers[.accept])
            let bound = try ParameterBinder.bind(route: route, path: parameters, query: query, body: body)
            return try await streamer.response(identity: identity, call: bound, route: route, format: format, headers: headers)
        }

        let readOnly = request.method == .get || request.method == .head
        // A write of this caller's makes their cached answers stale, whatever it returns.
        defer { if !readOnly { responseCache?.invalidate(caller: identity) } }
        let start = ContinuousClock.now
        // A cacheable GET: the same caller's identical request may be answered from memory (before
        // any binding), or share the one call already under way.
        let cacheable = readOnly ? route.cacheMaxAge.flatMap { maxAge in
            responseCache.map { cache in
                let received = parameters.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: "&")
                return (cache: cache, maxAge: maxAge, key: cache.key(route: route, identity: identity, request: "\(received)\n\(rawQuery)\n\(JSONValue.object(body).text)"))
            }
        } : nil
        // A call that others may be waiting on too (a cacheable one) is not dropped when this
        // request's client goes.
        let clientGone = cacheable == nil ? context.clientGone : nil
        let call: @Sendable () async throws -> Invoker.Result = { [invoker, metrics, identity, query, body, outbound] in
            var bound = try ParameterBinder.bind(route: route, path: parameters, query: query, body: body)
            var result = try await metrics.measureDatabase(route: route.name) {
                try await invoker.invoke(identity: identity, readOnly: readOnly, call: bound, route: route.name, clientGone: clientGone)
            }
            // A function that asked for outbound requests is called again with what they answered,
            // each call a transaction of its own: none stays open while the network answers.
            var rounds = 0
            while let fetch = result.fetch {
                rounds += 1
                guard rounds <= OutboundClient.maxRounds, route.args.contains(where: { $0.name == ParameterBinder.fetchedName }) else {
                    throw Problem.internalError(cause: "route \(route.name) asked to fetch \(rounds > OutboundClient.maxRounds ? "more than \(OutboundClient.maxRounds) times" : "without a `fetched` argument")")
                }
                let fetched = try await outbound.perform(fetch, account: identity.accountID)
                bound = try ParameterBinder.bind(route: route, path: parameters, query: query, body: body, fetched: fetched)
                result = try await metrics.measureDatabase(route: route.name) {
                    try await invoker.invoke(identity: identity, readOnly: readOnly, call: bound, route: route.name, clientGone: clientGone)
                }
            }
            return result
        }
        var (result, fromCache) = if let cacheable {
            try await cacheable.cache.answer(cacheable.key, maxAge: cacheable.maxAge, load: call)
        } else {
            (try await call(), false)
        }
        if fromCache {
            context.report.update { $0.cacheHit = true }
            metrics.recordCacheHit(route: route.name)
        } else {
            context.report.update { $0.databaseSeconds = (ContinuousClock.now - start).seconds }
        }
        if route.issuesToken { result = try tokenIssuer.sign(result) }
        if let awaitSQL = route.awaitSQL, result.status == 202, let seconds = PreferWait.seconds(in: request.headers) {
            result.body = await awaitWork(awaitSQL, started: result.body, seconds: seconds, route: route, identity: identity,
                                          context: context) ?? result.body
            headers[.preferenceApplied] = "wait=\(PreferWait.text(seconds))"
        }
        return try ResponseShaper.response(for: result, route: route, request: request, headers: headers, context: context, metrics: metrics)
    }

    /// The resource a 202 answered, once the work it started is finished: the route's await
    /// function says (null: not yet), asked in sleeps of 2 ms growing to 50 ms for `seconds` at
    /// most, each a quick call, so no pooled connection sleeps. nil: not finished in time, or the
    /// check failed; the 202 already committed stands either way.
    private func awaitWork(_ awaitSQL: String, started body: String?, seconds: Double, route: RouteDefinition,
                           identity: Identity, context: Context) async -> String? {
        guard let body, let resource = try? JSONValue.parse(Data(body.utf8)) else { return nil }
        let call = ParameterBinder.Bound(call: awaitSQL, sql: "select (\(awaitSQL)($1, 0))::text", arguments: resource)
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        var pause = Duration.milliseconds(2)
        while ContinuousClock.now < deadline, !(context.clientGone?() ?? false) {
            try? await Task.sleep(for: min(pause, deadline - .now))
            pause = min(pause * 3 / 2, .milliseconds(50))
            guard let answer = try? await invoker.invoke(identity: identity, readOnly: true, call: call, route: "\(route.name) await",
                                                         clientGone: context.clientGone) else { return nil }
            if let finished = answer.body { return finished }
        }
        return nil
    }

    /// Database role first, then the application role; the database checks both again.
    private func authorize(_ identity: Identity, for route: RouteDefinition) throws {
        if !route.roles.contains(identity.role) {
            if identity.role == .anon { throw Problem.authRequired("Valid Supabase JWT required") }
            throw Problem.forbidden("This endpoint is not open to the \(identity.role.rawValue) role")
        }
        if let appRoles = route.appRoles, identity.role != .service_role, !appRoles.contains(identity.appRole ?? "") {
            throw Problem.forbidden("This endpoint needs the application role \(appRoles.joined(separator: " or "))")
        }
    }
}

extension SocketAddress {
    var ipAddress: String? {
        switch self {
        case .v4(let address): address.host
        case .v6(let address): address.host
        default: nil
        }
    }
}
