import Hummingbird
import Logging
import PostgresNIO

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
                throw Problem.validation("Invalid parameters", details: .object(["errors": .array([.object([
                    "parameter": "format", "message": .string("must be one of json, csv, ndjson"),
                ])])]))
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

/// Streams the rows of a set-returning function to the client: the gateway holds one buffer of
/// rows at a time, and PostgresNIO stops reading from the server while the client is slow, so memory
/// stays flat however large the export. It uses a connection of its own (exports are rare and long;
/// they must not hold a pooled one), in a transaction set up by `gateway.begin_request`. Errors
/// before the first row become ordinary problem responses; a failure after that cuts the response
/// short, as it must once the status line has gone out.
struct RowStreamer: Sendable {
    let database: DatabaseURL
    let logger: Logger
    /// Rows are written in chunks of about this size.
    var chunkBytes = 64 * 1024

    func response(identity: Identity, call: ParameterBinder.Bound, route: RouteDefinition, format: StreamFormat,
                  headers: HTTPFields) async throws -> Response {
        let connection: PostgresConnection
        do {
            connection = try await PostgresConnection.connect(
                configuration: try database.connectionConfiguration(), id: 1, logger: logger)
        } catch {
            throw DatabaseErrorMapping.problem(for: error, role: identity.role)
        }
        let stream: OpenStream
        do {
            try await connection.query("begin", logger: logger)
            try await connection.query(
                "select gateway.begin_request(\(identity.role.rawValue), \(identity.claimsJSON), true, \(identity.clientAddress))", logger: logger)
            let query = PostgresQuery(unsafeSQL: format.sql(call: call.call, columns: route.columns),
                                      binds: try Self.binds(call.arguments.text))
            let rows = try await connection.query(query, logger: logger)
            stream = OpenStream(connection: connection, iterator: rows.makeAsyncIterator())
            // The first row (or the function's error) arrives before any byte of the response.
            try await stream.prefetch()
        } catch {
            try? await connection.close()
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
                while let row = try await stream.next() {
                    buffer.writeString(format.separator(first: first))
                    buffer.writeString(row)
                    buffer.writeString(format.rowTerminator)
                    first = false
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
                try? await stream.connection.close()
                throw error
            }
        })
    }

    private static func binds(_ arguments: String) throws -> PostgresBindings {
        var binds = PostgresBindings()
        try binds.append(JSONBText(text: arguments))
        return binds
    }
}

/// JSON text sent as a jsonb parameter: the call reads its arguments with `$1->>'name'`.
private struct JSONBText: PostgresEncodable {
    let text: String
    static var psqlType: PostgresDataType { .jsonb }
    static var psqlFormat: PostgresFormat { .binary }

    func encode<JSONEncoder: PostgresJSONEncoder>(into byteBuffer: inout ByteBuffer, context: PostgresEncodingContext<JSONEncoder>) {
        byteBuffer.writeInteger(UInt8(1))  // jsonb's binary format: a version byte, then the text
        byteBuffer.writeString(text)
    }
}

/// The open cursor of one streamed call, with the first row read ahead. Rows are never null
/// (row_to_json and concat_ws always yield text).
private final class OpenStream: @unchecked Sendable {
    // Used by one task at a time: the handler reads ahead, then the body writer takes over.
    let connection: PostgresConnection
    private var iterator: PostgresRowSequence.AsyncIterator
    private var readAhead: String?
    private var hasReadAhead = false

    init(connection: PostgresConnection, iterator: PostgresRowSequence.AsyncIterator) {
        self.connection = connection
        self.iterator = iterator
    }

    func prefetch() async throws {
        readAhead = try await fetch()
        hasReadAhead = true
    }

    func next() async throws -> String? {
        guard hasReadAhead else { return try await fetch() }
        hasReadAhead = false
        return readAhead
    }

    private func fetch() async throws -> String? {
        try await iterator.next()?.decode(String.self)
    }

    func finish() async throws {
        try await connection.query("commit", logger: Logger(label: "gateway.stream"))
        try await connection.close()
    }
}
