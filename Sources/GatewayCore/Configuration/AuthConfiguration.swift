import Foundation

/// How tokens are verified. Secrets come only from configuration: there is no default key.
public struct AuthConfiguration: Sendable {
    /// HS256 shared secret (Supabase's JWT secret). At least 32 bytes.
    public var hmacSecret: String?
    /// The `kid` tokens signed with that secret carry, if any (newer Supabase projects set one).
    public var hmacKeyID: String?
    /// A JWKS document (RS256 / ES256 public keys, each with a `kid`).
    public var jwksJSON: String?
    /// Algorithms a token header may name. Defaults to those of the configured keys.
    public var allowedAlgorithms: Set<String>?
    public var issuer: String?
    public var audience: String?
    /// Clock skew tolerated on exp / nbf / iat, in seconds.
    public var leewaySeconds: Double = 30
    /// Longer tokens are refused before any parsing.
    public var maxTokenBytes: Int = 8192
    /// Where in the claims the account (tenant) id and the application role are.
    public var accountClaim: [String] = ["app_metadata", "account_id"]
    public var appRoleClaim: [String] = ["app_metadata", "app_role"]

    public init(hmacSecret: String? = nil, jwksJSON: String? = nil) {
        self.hmacSecret = hmacSecret
        self.jwksJSON = jwksJSON
    }

    public static let defaultAccountClaim = ["app_metadata", "account_id"]
    public static let defaultAppRoleClaim = ["app_metadata", "app_role"]

    /// `a.b.c` → ["a", "b", "c"]
    public static func claimPath(_ text: String) -> [String] {
        text.split(separator: ".").map(String.init)
    }
}
