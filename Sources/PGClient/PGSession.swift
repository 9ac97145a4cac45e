/// A libpq connection handed between a task and the thread that blocks in its calls (the catalog
/// listener's, an export's). Not Sendable by itself: whoever holds it uses it from one thread at a time.
public struct PGSession: @unchecked Sendable {
    public let connection: PGConnection
    public init(_ connection: PGConnection) { self.connection = connection }
}

extension PGConnection {
    /// A statement_timeout for the rest of the current transaction (maintenance runs and exports
    /// outlast the role's, which is set for requests).
    public func setLocalStatementTimeout(_ timeout: Duration) throws {
        try exec("select set_config('statement_timeout', $1, true)", [String(Int(timeout / .milliseconds(1)))])
    }
}
