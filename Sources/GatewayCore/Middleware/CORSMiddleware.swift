import HTTPTypes
import Hummingbird

/// Cross-origin access for the browser clients of the origins configured (`CORS_ALLOWED_ORIGINS`;
/// none by default, so a browser on another origin reads nothing). Outermost, so errors carry the
/// headers too. Tokens travel in `Authorization`, never cookies: no credentials mode is offered.
struct CORSMiddleware: RouterMiddleware {
    typealias Context = GatewayContext

    /// Exact origins (`https://dash.example.com`), or `*` for any.
    let allowedOrigins: Set<String>

    static let allowedMethods = "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS"
    static let allowedHeaders = "Authorization, Content-Type, Accept, If-None-Match, X-Request-Id, Prefer"
    static let exposedHeaders = "X-Request-Id, RateLimit, RateLimit-Policy, Retry-After, ETag, Location, Server-Timing"

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let origin = request.headers[.origin], allowedOrigins.contains(origin) || allowedOrigins.contains("*") else {
            return try await next(request, context)
        }
        if request.method == .options, request.headers[.accessControlRequestMethod] != nil {
            var response = Response(status: .noContent)
            response.headers[.accessControlAllowMethods] = Self.allowedMethods
            response.headers[.accessControlAllowHeaders] = Self.allowedHeaders
            response.headers[.accessControlMaxAge] = "600"
            return Self.allow(origin, on: response)
        }
        var response = try await next(request, context)
        response.headers[.accessControlExposeHeaders] = Self.exposedHeaders
        return Self.allow(origin, on: response)
    }

    private static func allow(_ origin: String, on response: Response) -> Response {
        var response = response
        response.headers[.accessControlAllowOrigin] = origin
        response.headers[values: .vary] = response.headers[values: .vary] + ["Origin"]
        return response
    }
}
