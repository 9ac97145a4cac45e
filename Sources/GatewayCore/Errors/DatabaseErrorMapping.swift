import Foundation
import Hummingbird
import PGClient

/// The one place database errors become HTTP: the pool's own (`PoolError`) and PostgreSQL's.
/// SQLSTATE → HTTP, after PostgREST's table, plus `PTnnn` codes that set the status directly
/// (`raise … using errcode = 'PT404'`). Only what the project's SQL raised on purpose (a PL/pgSQL
/// RAISE) reaches the client in its own words; PostgreSQL's own text (a failed cast, a constraint
/// or column name, "permission denied for function …") is replaced by a plain message for its
/// status and goes to the log under the request id, and so does anything behind a 5xx.
enum DatabaseErrorMapping {
    static func problem(for error: any Error, role: DatabaseRole) -> Problem {
        if let failed = error as? PoolError {
            switch failed {
            case .timedOut: return .databaseTimedOut
            case .shuttingDown: return .unavailable("The gateway is shutting down; retry shortly")
            case .connectionFailed(let underlying):
                var problem = Problem.unavailable("The database is unavailable; retry shortly")
                problem.internalCause = String(reflecting: underlying)
                return problem
            }
        }
        if error is CancellationError {
            // The client went away before its call ran (nginx's 499): nobody reads this answer,
            // but the log and metrics should not count it as the server's failure.
            return Problem(HTTPResponse.Status(code: 499, reasonPhrase: "Client Closed Request"), code: "CLIENT_CLOSED_REQUEST",
                           message: "The client closed the connection before the call ran")
        }
        guard let error = error as? PGError else { return .internalError(cause: String(reflecting: error)) }
        guard let sqlState = error.sqlState else {
            // No answer from the server: it is down, restarting, or the connection broke.
            var problem = Problem.unavailable("The database is unavailable; retry shortly")
            problem.internalCause = String(reflecting: error)
            return problem
        }
        var problem = problem(sqlState: sqlState, message: error.message, role: role)
        problem.details = details(detail: error.detail, hint: error.hint)
        if error.sourceFunction != "exec_stmt_raise" && !transient.contains(sqlState) && problem.status.code < 500 {
            problem.message = plainMessage(for: problem.status, sqlState: sqlState)
            problem.details = nil
            problem.internalCause = "\(sqlState): \(error.message) | \(error.detail ?? "")"
        }
        if transient.contains(sqlState) {
            // PostgreSQL's detail names processes and transactions: for the log, not the client.
            problem.details = nil
            problem.internalCause = "\(sqlState): \(error.message) | \(error.detail ?? "")"
        }
        if problem.status.code >= 500 {
            problem.details = nil
            problem.internalCause = "\(sqlState): \(error.message) | \(String(reflecting: error))"
        }
        return problem
    }

    static func problem(sqlState: String, message: String, role: DatabaseRole) -> Problem {
        if sqlState.hasPrefix("PT"), let code = Int(sqlState.dropFirst(2)), (400...599).contains(code) {
            let status = HTTPResponse.Status(code: code)
            // A function that says 400 itself means a bad request, not a failed validation (22023).
            return Problem(status, code: code == 400 ? "BAD_REQUEST" : codeName(for: status), message: message)
        }
        switch sqlState {
        case "42501":
            // PostgREST's rule: no privilege as anonymous means "log in"; as someone, "not allowed".
            return role == .anon ? .authRequired(message) : .forbidden(message)
        case "28000", "28P01":
            return .authRequired(message)
        case "P0002":
            return .notFound(message)
        case "23505", "23503":
            return Problem(.conflict, code: "CONFLICT", message: message)
        case _ where transient.contains(sqlState):
            var problem = Problem(.conflict, code: "CONFLICT", message: "The request collided with a concurrent one and was rolled back; send it again")
            problem.headers[.retryAfter] = "1"
            return problem
        case "22023", "22P02", "22P05", "22007", "22008", "22003", "22004", "22001", "2201B", "23502", "23514", "P0001", "22000", "22012", "22021":
            return .validation(message)
        case "25006":
            return Problem(.methodNotAllowed, code: "METHOD_NOT_ALLOWED", message: "This endpoint cannot change data with this method")
        case "57014":
            return Problem(.gatewayTimeout, code: "TIMEOUT", message: "The query took longer than the statement timeout")
        case "53300", "53400", "57P01", "57P02", "57P03", "55P03":
            return .unavailable("The database is busy; retry shortly")
        default:
            if sqlState.hasPrefix("08") { return .unavailable("The database is unavailable; retry shortly") }
            return Problem(.internalServerError, code: "DATABASE_ERROR", message: "The database could not complete the request; quote the request id when reporting it")
        }
    }

    /// What a client is told when PostgreSQL itself, not the project's SQL, refused the request.
    static func plainMessage(for status: HTTPResponse.Status, sqlState: String) -> String {
        switch status.code {
        case 400: sqlState == "22P05" || sqlState == "22021"
            ? "A text value holds a character that cannot be stored (such as a NUL byte)"
            : "A value in the request is not acceptable here"
        case 401: "Valid Supabase JWT required"
        case 403: "You are not allowed to do this"
        case 404: "Not found"
        case 409: "The request conflicts with data that exists"
        default: status.reasonPhrase
        }
    }

    /// Serialization failure and deadlock: nothing was written, and the same request sent again succeeds.
    static let transient: Set<String> = ["40001", "40P01"]

    static func codeName(for status: HTTPResponse.Status) -> String {
        switch status.code {
        case 400: "VALIDATION_ERROR"
        case 401: "AUTH_REQUIRED"
        case 403: "FORBIDDEN"
        case 404: "NOT_FOUND"
        case 409: "CONFLICT"
        case 412: "PRECONDITION_FAILED"
        case 413: "PAYLOAD_TOO_LARGE"
        case 422: "UNPROCESSABLE_ENTITY"
        case 429: "RATE_LIMIT_EXCEEDED"
        case 500..<600: "DATABASE_ERROR"
        default: status.reasonPhrase.uppercased().replacingOccurrences(of: " ", with: "_")
        }
    }

    /// `detail` written as JSON by the function becomes structured `details`; plain text is kept as is.
    static func details(detail: String?, hint: String?) -> JSONValue? {
        var object: [String: JSONValue] = [:]
        if let detail {
            if let parsed = try? JSONValue.parse(Data(detail.utf8)), case .object(let fields) = parsed {
                object = fields
            } else {
                object["detail"] = .string(detail)
            }
        }
        if let hint { object["hint"] = .string(hint) }
        return object.isEmpty ? nil : .object(object)
    }
}
