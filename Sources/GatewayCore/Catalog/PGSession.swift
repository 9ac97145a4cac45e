import PGClient

/// A libpq connection handed between a task and the thread that blocks in its calls (the catalog
/// listener's, an export's). Not Sendable by itself: whoever holds it uses it from one thread at a time.
struct PGSession: @unchecked Sendable {
    let connection: PGConnection
    init(_ connection: PGConnection) { self.connection = connection }
}
