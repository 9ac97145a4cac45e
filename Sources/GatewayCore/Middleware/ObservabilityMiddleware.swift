import Foundation
import HTTPTypes
import Hummingbird
import PGClient

/// The outermost layer: request id, problem+json for every error, `X-API-Version`,
/// `Server-Timing`, metrics, and one JSON log line per request.
struct ObservabilityMiddleware: RouterMiddleware {
    typealias Context = GatewayContext

    let metrics: Metrics
    let accessLog: AccessLog

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        let requestID = request.headers[.requestID].flatMap(Self.acceptable) ?? RequestID.next()
        context.report.update { $0.requestID = requestID }

        var response: Response
        var cause: String?
        do {
            response = try await next(request, context)
        } catch {
            var problem = Self.problem(for: error)
            problem.instance = request.uri.path
            problem.requestID = requestID
            cause = problem.internalCause
            response = problem.response(style: context.report.values.errorStyle)
        }

        let report = context.report.values
        let seconds = (ContinuousClock.now - start).seconds
        response.headers[.apiVersion] = "1"
        response.headers[.requestID] = requestID
        var timing = "total;dur=" + FastFormat.milliseconds(seconds)
        if let database = report.databaseSeconds { timing = "db;dur=" + FastFormat.milliseconds(database) + ", " + timing }
        response.headers[.serverTiming] = timing

        let route = report.route ?? context.endpointPath ?? "unmatched"
        metrics.recordRequest(route: route, method: request.method.rawValue, status: Int(response.status.code), seconds: seconds)
        accessLog.write(request: request, status: Int(response.status.code), seconds: seconds, report: report, route: route, cause: cause)
        return response
    }

    /// Caller-supplied request ids are kept only when short and plain, so logs stay parseable.
    static func acceptable(_ id: String) -> String? {
        id.count <= 64 && !id.isEmpty && id.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") } ? id : nil
    }

    static func problem(for error: any Error) -> Problem {
        if let problem = error as? Problem { return problem }
        if let http = error as? HTTPError {
            let code = DatabaseErrorMapping.codeName(for: http.status)
            let message = http.status == .notFound ? "No such endpoint" : (http.body ?? http.status.reasonPhrase)
            var problem = Problem(http.status, code: http.status.code >= 500 ? "INTERNAL_ERROR" : code, message: message)
            problem.headers = http.headers
            return problem
        }
        // A database error no step mapped with the caller's role (readiness, OpenAPI, the shared rate limit).
        if error is PoolError || error is PGError { return DatabaseErrorMapping.problem(for: error, role: .anon) }
        return .internalError(cause: String(reflecting: error))
    }
}

/// One JSON object per line on standard output, with the request-log fields a spec asks for (Hot Dash's, for example).
public struct AccessLog: Sendable {
    let sink: @Sendable (String) -> Void

    public init(sink: @escaping @Sendable (String) -> Void = { line in FileHandle.standardOutput.write(Data((line + "\n").utf8)) }) {
        self.sink = sink
    }

    public static let discard = AccessLog { _ in }

    /// Fields in alphabetical order, written straight into the line's bytes: it runs on every request.
    func write(request: Request, status: Int, seconds: Double, report: RequestReport.Values, route: String, cause: String?) {
        var line: [UInt8] = []
        line.reserveCapacity(384)
        line += "{\"cache_hit\":".utf8
        line += (report.cacheHit ? "true" : "false").utf8
        if let database = report.databaseSeconds { milliseconds("db_time_ms", database, to: &line) }
        if let cause { field("error_detail", cause, to: &line) }
        field("level", status >= 500 ? "error" : "info", to: &line)
        field("method", request.method.rawValue, to: &line)
        field("path", request.uri.path, to: &line)
        field("request_id", report.requestID, to: &line)
        milliseconds("response_time_ms", seconds, to: &line)
        field("route", route, to: &line)
        name("status_code", to: &line)
        line += String(status).utf8
        field("timestamp", Timestamp.now(), to: &line)
        name("user_id", to: &line)
        if let user = report.userID { JSONValue.writeString(user, to: &line) } else { line += "null".utf8 }
        line.append(UInt8(ascii: "}"))
        sink(String(decoding: line, as: UTF8.self))
    }

    private func name(_ name: String, to line: inout [UInt8]) {
        line += ",\"".utf8
        line += name.utf8
        line += "\":".utf8
    }

    private func field(_ name: String, _ value: String, to line: inout [UInt8]) {
        self.name(name, to: &line)
        JSONValue.writeString(value, to: &line)
    }

    /// Two decimals, as JSON numbers print them (no trailing ".0" on whole numbers).
    private func milliseconds(_ name: String, _ seconds: Double, to line: inout [UInt8]) {
        self.name(name, to: &line)
        JSONValue.number((seconds * 100_000).rounded() / 100).write(to: &line)
    }
}

/// `2025-10-14T18:45:30.123Z`, without a formatter object per log line.
enum Timestamp {
    static func now() -> String {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        var parts = tm()
        var seconds = spec.tv_sec
        gmtime_r(&seconds, &parts)
        let p = FastFormat.padded
        return "\(p(Int(parts.tm_year) + 1900, 4))-\(p(Int(parts.tm_mon) + 1, 2))-\(p(Int(parts.tm_mday), 2))T"
            + "\(p(Int(parts.tm_hour), 2)):\(p(Int(parts.tm_min), 2)):\(p(Int(parts.tm_sec), 2)).\(p(Int(spec.tv_nsec) / 1_000_000, 3))Z"
    }
}

extension HTTPField.Name {
    static let requestID = Self("X-Request-Id")!  // a valid token, cannot fail
    static let apiVersion = Self("X-API-Version")!  // a valid token, cannot fail
    static let serverTiming = Self("Server-Timing")!  // a valid token, cannot fail
}
