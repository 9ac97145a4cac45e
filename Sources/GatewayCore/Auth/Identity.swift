/// The database role a request runs as, lowest first.
public enum DatabaseRole: String, Sendable, Comparable, Codable {
    case anon, authenticated, service_role

    private var rank: Int {
        switch self {
        case .anon: 0
        case .authenticated: 1
        case .service_role: 2
        }
    }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rank < rhs.rank }
}

/// Who is calling, after the token (if any) was verified.
public struct Identity: Sendable {
    public var role: DatabaseRole
    /// The verified claims as JSON text, for `request.jwt.claims`; empty when anonymous.
    public var claimsJSON: String
    public var userID: String?
    public var accountID: String?
    public var appRole: String?
    /// The caller's network address, for throttles in SQL (`auth.client_address()`); nil from psql.
    public var clientAddress: String?

    public static let anonymous = Identity(role: .anon, claimsJSON: "", userID: nil, accountID: nil, appRole: nil, clientAddress: nil)
}
