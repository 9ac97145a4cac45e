import Foundation

/// Signs the access tokens that login routes (`issues_token` in the catalog) ask for. SQL decides
/// who the user is and what the token says; only the gateway holds the key, so the database never
/// sees it. Tokens are HS256 with the same secret the verifier checks.
struct TokenIssuer: Sendable {
    let secret: String?
    let keyID: String?
    let lifetimeSeconds: Int
    let issuer: String?
    let audience: String?

    init(auth: AuthConfiguration, lifetimeSeconds: Int) {
        secret = auth.hmacSecret
        keyID = auth.hmacKeyID
        self.lifetimeSeconds = lifetimeSeconds
        issuer = auth.issuer
        audience = auth.audience
    }

    /// Replaces `access_token_claims` in a successful answer by `access_token`, `token_type` and
    /// `expires_in`. An error answer (status >= 400) passes through untouched.
    func sign(_ result: Invoker.Result, now: Date = Date()) throws -> Invoker.Result {
        guard (result.status ?? 200) < 400, let body = result.body else { return result }
        guard case .object(var fields)? = try? JSONValue.parse(Data(body.utf8)),
              case .object(var claims)? = fields.removeValue(forKey: "access_token_claims") else {
            throw Problem.internalError(cause: "a token route's function returned no access_token_claims object")
        }
        // A login hands out user tokens, never the service role's keys to the kingdom.
        guard claims["role"]?.stringValue == "authenticated" else {
            throw Problem.internalError(cause: "a token route asked for a token with role \(claims["role"]?.stringValue ?? "none")")
        }
        guard let secret else {
            throw Problem.internalError(cause: "JWT_SECRET is not configured, so the gateway cannot issue tokens")
        }
        let issuedAt = now.timeIntervalSince1970.rounded(.down)
        claims["iat"] = .number(issuedAt)
        claims["exp"] = .number(issuedAt + Double(lifetimeSeconds))
        if let issuer { claims["iss"] = .string(issuer) }
        if let audience { claims["aud"] = .string(audience) }
        var header: [String: JSONValue] = ["alg": "HS256", "typ": "JWT"]
        if let keyID { header["kid"] = .string(keyID) }
        fields["access_token"] = .string(TokenMinter.hs256(claims: claims, secret: secret, header: header))
        fields["token_type"] = "bearer"
        fields["expires_in"] = .number(Double(lifetimeSeconds))
        var signed = result
        signed.body = JSONValue.object(fields).text
        return signed
    }
}
