import CLibPQ
import Foundation

/// A PostgreSQL error as the server reported it, with the fields the Migrator shows to people.
public struct PGError: Error, CustomStringConvertible, Sendable {
    public var sqlState: String?
    public var message: String
    public var detail: String?
    public var hint: String?
    public var context: String?
    /// 1-based character offset into the text that was sent, when the server gives one.
    public var position: Int?
    /// The server's C function that raised it: `exec_stmt_raise` for a PL/pgSQL RAISE (an error
    /// the project's own SQL raised on purpose), something else for PostgreSQL's own errors.
    public var sourceFunction: String?

    public init(message: String, sqlState: String? = nil) {
        self.message = message
        self.sqlState = sqlState
    }

    public var description: String {
        var text = message
        if let sqlState { text = "\(sqlState): \(text)" }
        if let detail { text += "\nDETAIL: \(detail)" }
        if let hint { text += "\nHINT: \(hint)" }
        return text
    }
}

/// Rows of a result, every value as PostgreSQL's text form (nil for SQL NULL).
public struct PGRows: Sendable {
    public var columns: [String]
    public var rows: [[String?]]

    public func value(_ row: Int, _ column: String) -> String? {
        guard let index = columns.firstIndex(of: column) else { return nil }
        return rows[row][index]
    }
}

/// A blocking libpq connection. The Migrator is a short-lived CLI, so blocking calls are fine,
/// and the simple-query protocol lets one call run a whole migration file; the gateway's pool
/// gives each connection a thread of its own (`DatabasePool`).
public final class PGConnection {
    private let conn: OpaquePointer

    /// How long a server may take to accept a connection. Generous: a busy server on a small
    /// machine can take seconds to start a backend, and that is slow, not down.
    public static let defaultConnectTimeoutSeconds = 10

    /// `url` is a libpq connection URI or string; a server that has not answered in
    /// `connectTimeoutSeconds` counts as down (the URI's own `connect_timeout` wins).
    public init(url: String, connectTimeoutSeconds: Int? = nil) throws {
        var keywords = ["dbname"], values = [url]
        if let connectTimeoutSeconds {
            keywords.insert("connect_timeout", at: 0)
            values.insert(String(connectTimeoutSeconds), at: 0)
        }
        // Both lists end with NULL; 1: dbname may be a URI.
        let connection = (keywords.map(Optional.some) + [nil]).withCStrings { keywords in
            (values.map(Optional.some) + [nil]).withCStrings { values in PQconnectdbParams(keywords, values, 1) }
        }
        guard let conn = connection else { throw PGError(message: "out of memory connecting") }
        guard PQstatus(conn) == CONNECTION_OK else {
            let message = String(cString: PQerrorMessage(conn)).trimmingTrailingWhitespace()
            PQfinish(conn)
            throw PGError(message: "cannot connect: \(message)")
        }
        self.conn = conn
        // Notices (e.g. "drop ... if exists, skipping") would go to stderr; migrations are noisy that way.
        PQsetNoticeProcessor(conn, { _, _ in }, nil)
    }

    deinit { PQfinish(conn) }

    /// Runs one or more statements with the simple-query protocol; returns the last result's rows.
    @discardableResult
    public func exec(_ sql: String) throws -> PGRows {
        guard let result = PQexec(conn, sql) else { throw connectionError() }
        defer { PQclear(result) }
        return try rows(of: result)
    }

    /// Runs one statement with bound text parameters (extended protocol).
    @discardableResult
    public func exec(_ sql: String, _ params: [String?], types: [UInt32]? = nil) throws -> PGRows {
        let result = Self.withParameters(params, types) { PQexecParams(conn, sql, Int32(params.count), $1, $0, nil, nil, 0) }
        guard let result else { throw connectionError() }
        defer { PQclear(result) }
        return try rows(of: result)
    }

    /// Runs statements in one round trip (libpq's pipeline mode), each in a transaction of its own
    /// (a sync point after each, so one's settings and errors never reach the next): for each, its
    /// first row (nil for none) or its error. Throws when the connection broke; it may then still
    /// be in pipeline mode, so close it.
    public func pipeline(_ statements: [(sql: String, params: [String?])]) throws -> [Result<[String?]?, PGError>] {
        guard PQenterPipelineMode(conn) == 1, PQsetnonblocking(conn, 1) == 0 else { throw connectionError() }
        defer {
            PQsetnonblocking(conn, 0)
            PQexitPipelineMode(conn)
        }
        for statement in statements {
            let sent = Self.withParameters(statement.params, nil) { PQsendQueryParams(conn, statement.sql, Int32(statement.params.count), $1, $0, nil, nil, 0) }
            guard sent == 1, PQpipelineSync(conn) == 1 else { throw connectionError() }
        }
        // Send the rest, reading meanwhile: with large statements and answers, each side could
        // otherwise wait for the other to make room.
        while true {
            let unsent = PQflush(conn)
            if unsent == 0 { break }
            guard unsent > 0 else { throw connectionError() }
            var socket = pollfd(fd: PQsocket(conn), events: Int16(POLLIN | POLLOUT), revents: 0)
            guard poll(&socket, 1, -1) >= 0 else { throw connectionError() }
            if socket.revents & Int16(POLLIN) != 0, PQconsumeInput(conn) == 0 { throw connectionError() }
        }
        return try statements.map { _ in
            var outcome: Result<[String?]?, PGError> = .success(nil)
            while let result = PQgetResult(conn) {  // the statement's results, then nil
                defer { PQclear(result) }
                switch PQresultStatus(result) {
                case PGRES_TUPLES_OK:
                    if PQntuples(result) > 0 { outcome = .success(Self.row(0, of: result)) }
                case PGRES_COMMAND_OK:
                    break
                default:
                    outcome = .failure(error(from: result))
                }
            }
            guard let sync = PQgetResult(conn) else { throw connectionError() }
            defer { PQclear(sync) }
            guard PQresultStatus(sync) == PGRES_PIPELINE_SYNC else { throw connectionError() }
            return outcome
        }
    }

    /// Starts one statement whose rows are then read a batch at a time with `nextRows(limit:)`
    /// (libpq's single-row mode): the server keeps sending while the caller works, and libpq
    /// stops reading when the caller stops asking, so a slow reader holds back the server.
    public func startRows(_ sql: String, _ params: [String?], types: [UInt32]? = nil) throws {
        let sent = Self.withParameters(params, types) { PQsendQueryParams(conn, sql, Int32(params.count), $1, $0, nil, nil, 0) }
        guard sent == 1, PQsetSingleRowMode(conn) == 1 else { throw connectionError() }
    }

    /// Values as C strings and, where given, their types (OIDs) for where the server cannot infer
    /// them (`$1->>'a'` needs $1 to be jsonb); nil types: the server infers them all.
    private static func withParameters<R>(_ params: [String?], _ types: [UInt32]?,
                                          _ body: (UnsafePointer<UnsafePointer<CChar>?>, UnsafePointer<UInt32>?) -> R) -> R {
        params.withCStrings { values in
            guard let types else { return body(values, nil) }
            return types.withUnsafeBufferPointer { body(values, $0.baseAddress) }
        }
    }

    /// Up to `limit` more rows of the statement `startRows` started; empty once it has ended.
    /// Throws the statement's error (the connection is then ready for the next statement).
    public func nextRows(limit: Int) throws -> [[String?]] {
        var rows: [[String?]] = []
        while rows.count < limit, let result = PQgetResult(conn) {
            defer { PQclear(result) }
            switch PQresultStatus(result) {
            case PGRES_SINGLE_TUPLE:
                rows.append(Self.row(0, of: result))
            case PGRES_TUPLES_OK, PGRES_COMMAND_OK:
                continue  // the end; libpq answers nil next
            default:
                let failure = error(from: result)
                while let rest = PQgetResult(conn) { PQclear(rest) }
                throw failure
            }
        }
        return rows
    }

    public var inTransaction: Bool {
        let status = PQtransactionStatus(conn)
        return status == PQTRANS_INTRANS || status == PQTRANS_INERROR
    }

    public var backendPID: Int32 { PQbackendPID(conn) }

    /// Channels of the NOTIFY messages that arrived (after `LISTEN`), waiting up to
    /// `milliseconds` for the first; empty when none came. Throws when the connection broke.
    public func notifications(waitingUpTo milliseconds: Int32) throws -> [String] {
        var heard = try drainNotifications()
        if heard.isEmpty {
            var socket = pollfd(fd: PQsocket(conn), events: Int16(POLLIN), revents: 0)
            if poll(&socket, 1, milliseconds) > 0 { heard = try drainNotifications() }
        }
        return heard
    }

    private func drainNotifications() throws -> [String] {
        guard PQconsumeInput(conn) == 1, PQstatus(conn) == CONNECTION_OK else { throw connectionError() }
        var channels: [String] = []
        while let notification = PQnotifies(conn) {
            channels.append(String(cString: notification.pointee.relname))
            PQfreemem(notification)
        }
        return channels
    }

    /// Checks a connection string (URI or `key=value` list) the way libpq will read it, without
    /// connecting. The error is libpq's, which quotes only the part it could not read.
    public static func validate(connectionString: String) throws {
        var message: UnsafeMutablePointer<CChar>?
        if let options = PQconninfoParse(connectionString, &message) {
            PQconninfoFree(options)
            return
        }
        defer { if let message { PQfreemem(message) } }
        throw PGError(message: message.map { String(cString: $0).trimmingTrailingWhitespace() } ?? "out of memory")
    }

    /// The server ended the session, or the socket broke: open a new connection.
    public var isBroken: Bool { PQstatus(conn) != CONNECTION_OK }

    /// For a connection that sat idle: libpq learns that the server ended the session (a restart,
    /// `pg_terminate_backend`) only when it next reads, so look without waiting. An idle session
    /// that is not listening hears nothing from a healthy server but the rare parameter report;
    /// anything to read (its goodbye, the end of the stream) says: do not trust this connection.
    public var serverSpokeWhileIdle: Bool {
        var socket = pollfd(fd: PQsocket(conn), events: Int16(POLLIN), revents: 0)
        return poll(&socket, 1, 0) != 0
    }

    private func rows(of result: OpaquePointer) throws -> PGRows {
        switch PQresultStatus(result) {
        case PGRES_COMMAND_OK, PGRES_EMPTY_QUERY:
            return PGRows(columns: [], rows: [])
        case PGRES_TUPLES_OK:
            let columnCount = PQnfields(result)
            let columns = (0..<columnCount).map { String(cString: PQfname(result, $0)) }
            return PGRows(columns: columns, rows: (0..<PQntuples(result)).map { Self.row($0, of: result) })
        default:
            throw error(from: result)
        }
    }

    private static func row(_ row: Int32, of result: OpaquePointer) -> [String?] {
        (0..<PQnfields(result)).map { column in
            PQgetisnull(result, row, column) == 1 ? nil : String(cString: PQgetvalue(result, row, column))
        }
    }

    private func error(from result: OpaquePointer) -> PGError {
        // libpq's PG_DIAG_* are character-literal macros, which Swift does not import.
        func field(_ code: Character) -> String? {
            guard let value = PQresultErrorField(result, Int32(code.asciiValue!)) else { return nil }  // literals below are ASCII
            return String(cString: value)
        }
        let fallback = String(cString: PQresultErrorMessage(result)).trimmingTrailingWhitespace()
        var error = PGError(message: field("M") ?? fallback, sqlState: field("C"))
        error.detail = field("D")
        error.hint = field("H")
        error.context = field("W")
        error.position = field("P").flatMap { Int($0) }
        error.sourceFunction = field("R")
        return error
    }

    private func connectionError() -> PGError {
        PGError(message: String(cString: PQerrorMessage(conn)).trimmingTrailingWhitespace())
    }
}

extension Array where Element == String? {
    /// The strings as C strings (NULL for nil), alive for the duration of `body`.
    fileprivate func withCStrings<R>(_ body: (UnsafePointer<UnsafePointer<CChar>?>) -> R) -> R {
        let copies: [UnsafeMutablePointer<CChar>?] = map { $0.map { strdup($0) } ?? nil }
        defer { copies.forEach { free($0) } }
        // An empty array need not have storage (nil base address): libpq reads no element then.
        let pointers = copies.isEmpty ? [nil] : copies.map { UnsafePointer($0) }
        return pointers.withUnsafeBufferPointer { buffer in
            guard let base = buffer.baseAddress else { preconditionFailure("a non-empty array has storage") }
            return body(base)
        }
    }
}

extension String {
    func trimmingTrailingWhitespace() -> String {
        var text = self
        while let last = text.last, last.isWhitespace { text.removeLast() }
        return text
    }
}
