import Hummingbird
import Logging
import NIOPosix
import PGClient

/// How a streamed route's rows are written out.
enum StreamFormat: String, CaseIterable, Sendable {
    case json, csv, ndjson

    var contentType: String {
        switch self {
        case .json: "application/json"
        case .csv: "text/csv; charset=utf-8"
        case .ndjson: "application/x-ndjson"
        }
    }

    /// The `format` parameter wins; otherwise the Accept header; otherwise JSON.
    static func negotiate(parameter: JSONValue?, accept: String?) throws -> StreamFormat {
        if let parameter {
            guard let name = parameter.stringValue, let format = StreamFormat(rawValue: name.lowercased()) else {
                throw ParameterBinder.invalid([ParameterBinder.issue("format", "must be one of json, csv, ndjson")])
            }
            return format
        }
        let accept = accept?.lowercased() ?? ""
        if accept.contains("text/csv") { return .csv }
        if accept.contains("application/x-ndjson") { return .ndjson }
        return .json
    }

    /// The query that yields one encoded row per result row; the CSV header comes from the catalog.
    func sql(call: String, columns: [String]) -> String {
        switch self {
        case .json, .ndjson:
            return "select row_to_json(r)::text from \(call) as r"
        case .csv:
            let fields = columns.map { "util.csv_field(r.\(Self.quoteIdentifier($0)))" }
            return "select concat_ws(',', \(fields.joined(separator: ", "))) from \(call) as r"
        }
    }

    func header(columns: [String]) -> String {
        switch self {
        case .json: "["
        case .ndjson: ""
        case .csv: columns.map(Self.csvQuote).joined(separator: ",") + "\r\n"
        }
    }

    func separator(first: Bool) -> String {
        switch self {
        case .json: first ? "" : ","
        case .ndjson, .csv: ""
        }
    }

    var rowTerminator: String {
        switch self {
        case .json: ""
        case .ndjson: "\n"
        case .csv: "\r\n"
        }
    }

    var footer: String { self == .json ? "]" : "" }

    static func quoteIdentifier(_ name: String) -> String {
        "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    static func csvQuote(_ field: String) -> String {
        guard field.contains(where: { $0 == "\"" || $0 == "," || $0 == "\n" || $0 == "\r" }) else { return field }
        return "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}

/// Streams the rows of a set-returning function to the client: the gateway holds one batch of
/// rows at a time and fetches the next only when the client has taken the last, so memory stays
/// flat however large the export. It uses a connection of its own (exports are rare and long;
/// they must not hold a pooled one), in a transaction set up by `gateway.begin_request`; libpq
/// reads the rows as they come, a batch per blocking call on a thread of NIO's pool (a cursor,
/// fetched a batch at a time, took twice as long: the server waited for every fetch). Errors
/// before the first row become ordinary problem responses; a failure after that cuts the response
/// short, as it must once the status line has gone out.
struct RowStreamer: Sendable {
    let database: DatabaseURL
    /// Longer than a request's: the statement runs until the client has taken every row.
    let statementTimeout: Duration
    let logger: Logger
    /// Rows are written in chunks of about this size.
    var chunkBytes = 64 * 1024
    /// Rows per hop between the reading thread and the response writer.
    var batchRows = 1000
    /// jsonb's OID: the call reads its arguments with `$1->>'name'`.
    static let jsonbType: UInt32 = 3802

    func response(identity: Identity, call: ParameterBinder.Bound, route: RouteDefinition, format: StreamFormat,
                  headers: HTTPFields) async throws -> Response {
        let stream: OpenStream
        do {
            stream = try await OpenStream.open(database: database, batchRows: batchRows) { [statementTimeout] connection in
                try connection.exec("begin")
                try connection.setLocalStatementTimeout(statementTimeout)
                try connection.exec("select gateway.begin_request($1, $2, true, $3)",
                                    [identity.role.rawValue, identity.claimsJSON, identity.clientAddress])
                try connection.startRows(format.sql(call: call.call, columns: route.columns),
                                         [call.arguments.text], types: [Self.jsonbType])
            }
            // The first rows (or the function's error) arrive before any byte of the response.
            try await stream.prefetch()
        } catch {
            throw DatabaseErrorMapping.problem(for: error, role: identity.role)
        }

        var headers = headers
        headers[.contentType] = format.contentType
        headers[.cacheControl] = "no-store"
        if format == .csv {
            headers[.contentDisposition] = "attachment; filename=\"\(route.function).csv\""
        }
        let chunkBytes = chunkBytes
        let logger = logger
        return Response(status: .ok, headers: headers, body: ResponseBody { writer in
            do {
                var buffer = ByteBuffer(string: format.header(columns: route.columns))
                var first = true
                while let rows = try await stream.next() {
                    for row in rows {
                        buffer.writeString(format.separator(first: first))
                        buffer.writeString(row)
                        buffer.writeString(format.rowTerminator)
                        first = false
                    }
                    if buffer.readableBytes >= chunkBytes {
                        try await writer.write(buffer)
                        buffer.clear()
                    }
                }
                buffer.writeString(format.footer)
                try await writer.write(buffer)
                try await stream.finish()
                try await writer.finish(nil)
            } catch {
                logger.error("stream cut short", metadata: ["route": "\(route.name)", "error": "\(String(reflecting: error))"])
                stream.close()
                throw error
            }
        })
    }
}

/// The running statement of one streamed call, with the first batch read ahead. Rows are never null
/// (row_to_json and concat_ws always yield text). Used by one task at a time: the handler reads
/// ahead, then the body writer takes over; the connection itself only ever on a pool thread.
private final class OpenStream: @unchecked Sendable {
    private var connection: PGConnection?
    private let batchRows: Int
    private var readAhead: [String]?
    private var hasReadAhead = false
    private var exhausted = false

    private init(connection: PGConnection, batchRows: Int) {
        self.connection = connection
        self.batchRows = batchRows
    }

    /// Connects and runs `setup` (which starts the rows) on a pool thread.
    static func open(database: DatabaseURL, batchRows: Int,
                     setup: @escaping @Sendable (PGConnection) throws -> Void) async throws -> OpenStream {
        try await NIOThreadPool.singleton.runIfActive {
            let connection = try PGConnection(url: database.text, connectTimeoutSeconds: PGConnection.defaultConnectTimeoutSeconds)
            try setup(connection)
            return OpenStream(connection: connection, batchRows: batchRows)
        }
    }

    func prefetch() async throws {
        readAhead = try await fetch()
        hasReadAhead = true
    }

    /// The next batch of rows; nil at the end.
    func next() async throws -> [String]? {
        guard hasReadAhead else { return try await fetch() }
        hasReadAhead = false
        return readAhead
    }

    private func fetch() async throws -> [String]? {
        if exhausted { return nil }
        let rows = try await onThread { [batchRows] in try $0.nextRows(limit: batchRows).map { $0[0] ?? "" } }
        if rows.count < batchRows { exhausted = true }
        return rows.isEmpty ? nil : rows
    }

    func finish() async throws {
        try await onThread { try $0.exec("commit") }
        close()
    }

    /// Ends the session (libpq says goodbye to the server); the transaction, if open, rolls back.
    func close() { connection = nil }

    private func onThread<T: Sendable>(_ body: @escaping @Sendable (PGConnection) throws -> T) async throws -> T {
        guard let connection else { throw PGError(message: "the export's connection is closed") }
        let session = PGSession(connection)
        return try await NIOThreadPool.singleton.runIfActive { try body(session.connection) }
    }
}
