import Crypto
import Foundation

/// Signs HS256 tokens with the configured secret: `make token` for the demo, and tests (which
/// also craft headers the verifier must refuse).
public enum TokenMinter {
    public static func hs256(claims: [String: JSONValue], secret: String, header: [String: JSONValue] = ["alg": "HS256", "typ": "JWT"]) -> String {
        let signingInput = Base64URL.encode(Data(JSONValue.object(header).text.utf8)) + "." + Base64URL.encode(Data(JSONValue.object(claims).text.utf8))
        let signature = HMAC<SHA256>.authenticationCode(for: Data(signingInput.utf8), using: SymmetricKey(data: Data(secret.utf8)))
        return signingInput + "." + Base64URL.encode(Data(signature))
    }

    /// Supabase-shaped claims: role, sub, and the account and application role in app_metadata.
    public static func claims(role: String, subject: String?, account: String?, appRole: String?, lifetime: TimeInterval,
                              now: Date = Date()) -> [String: JSONValue] {
        var metadata: [String: JSONValue] = [:]
        if let account { metadata["account_id"] = .string(account) }
        if let appRole { metadata["app_role"] = .string(appRole) }
        var claims: [String: JSONValue] = [
            "role": .string(role),
            "iat": .number(now.timeIntervalSince1970.rounded(.down)),
            "exp": .number((now.timeIntervalSince1970 + lifetime).rounded(.down)),
        ]
        if let subject { claims["sub"] = .string(subject) }
        if !metadata.isEmpty { claims["app_metadata"] = .object(metadata) }
        return claims
    }
}
