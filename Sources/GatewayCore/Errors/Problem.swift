import Foundation
import Hummingbird

/// Every error response: RFC 9457 problem details that also carry the fields some specs' clients
/// read (`error`, `message`, `code`, `details`; Hot Dash's, for example), so each reads it unchanged.
public struct Problem: Error, HTTPResponseError, Sendable {
    public var status: HTTPResponse.Status
    /// Machine-readable: AUTH_REQUIRED, FORBIDDEN, NOT_FOUND, VALIDATION_ERROR, …
    public var code: String
    /// Human-readable and safe to show: never SQL text.
    public var message: String
    public var details: JSONValue?
    /// Extra top-level members, e.g. `retry_after`, `limit` and `window` on a 429.
    public var extensions: [String: JSONValue] = [:]
    public var headers: HTTPFields = [:]
    /// Filled in by the observability middleware from the request.
    var instance: String?
    var requestID: String?
    /// What went wrong inside, for the log only.
    var internalCause: String?

    public init(_ status: HTTPResponse.Status, code: String, message: String, details: JSONValue? = nil) {
        self.status = status.reasonPhrase.isEmpty ? Self.withReasonPhrase(status.code) : status
        self.code = code
        self.message = message
        self.details = details
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        response(style: .problem)
    }

    /// The problem+json answer, shaped as the unit that served the request wants its errors.
    func response(style: ErrorStyle) -> Response {
        var headers = self.headers
        headers[.contentType] = "application/problem+json"
        let body = style == .fastapi ? fastAPIBody() : problemBody()
        return Response(status: status(in: style), headers: headers, body: .init(byteBuffer: ByteBuffer(string: JSONValue.object(body).text)))
    }

    func problemBody() -> [String: JSONValue] {
        var body: [String: JSONValue] = [
            "type": .string("/problems/" + code.lowercased().replacingOccurrences(of: "_", with: "-")),
            "title": .string(status.reasonPhrase),
            "status": .number(Double(status.code)),
            "detail": .string(message),
            "error": .string(status.reasonPhrase),
            "message": .string(message),
            "code": .string(code),
        ]
        if let instance { body["instance"] = .string(instance) }
        if let requestID { body["request_id"] = .string(requestID) }
        if let details { body["details"] = details }
        for (key, value) in extensions { body[key] = value }
        return body
    }
}

extension Problem {
    /// A status made from a bare code (a function's `response.status` or `PT404`) has no reason
    /// phrase, and the phrase is the problem's `title` and `error`.
    static func withReasonPhrase(_ code: Int) -> HTTPResponse.Status {
        let known: [HTTPResponse.Status] = [.badRequest, .unauthorized, .forbidden, .notFound, .methodNotAllowed,
                                            .notAcceptable, .requestTimeout, .conflict, .gone, .preconditionFailed, .contentTooLarge,
                                            .unsupportedMediaType, .unprocessableContent, .preconditionRequired, .tooManyRequests,
                                            .internalServerError, .notImplemented, .badGateway, .serviceUnavailable, .gatewayTimeout]
        return known.first { $0.code == code } ?? HTTPResponse.Status(code: code, reasonPhrase: code < 500 ? "Client Error" : "Server Error")
    }

    static func authRequired(_ message: String) -> Problem {
        var problem = Problem(.unauthorized, code: "AUTH_REQUIRED", message: message)
        problem.headers[.wwwAuthenticate] = #"Bearer realm="api""#
        return problem
    }

    static func invalidToken(_ reason: String) -> Problem {
        var problem = Problem(.unauthorized, code: "AUTH_REQUIRED", message: "Valid Supabase JWT required: \(reason)")
        problem.headers[.wwwAuthenticate] = #"Bearer realm="api", error="invalid_token""#
        return problem
    }

    static func forbidden(_ message: String) -> Problem {
        Problem(.forbidden, code: "FORBIDDEN", message: message)
    }

    static func validation(_ message: String, details: JSONValue? = nil) -> Problem {
        Problem(.badRequest, code: "VALIDATION_ERROR", message: message, details: details)
    }

    static func notFound(_ message: String = "No such endpoint") -> Problem {
        Problem(.notFound, code: "NOT_FOUND", message: message)
    }

    static func unavailable(_ message: String, retryAfter: Int = 5) -> Problem {
        var problem = Problem(.serviceUnavailable, code: "SERVICE_UNAVAILABLE", message: message)
        problem.headers[.retryAfter] = String(retryAfter)
        return problem
    }

    static let databaseTimedOut = unavailable("The database did not answer in time; retry shortly")

    static func internalError(cause: String) -> Problem {
        var problem = Problem(.internalServerError, code: "INTERNAL_ERROR", message: "Unexpected server error; quote the request id when reporting it")
        problem.internalCause = cause
        return problem
    }
}
