import Foundation
import JWTKit

/// Verifies bearer tokens without touching the database. The key is chosen here, not by jwt-kit:
/// a token's `kid` must name a configured key exactly (jwt-kit would fall back to a default key),
/// and the header's `alg` must be on the allow-list and be that key's algorithm, so neither
/// `alg: none` nor HS/RS confusion can pass.
public struct JWTVerifier: Sendable {
    struct Key: Sendable {
        var algorithm: String
        /// Holds only this key, so verification cannot wander to another one.
        var collection: JWTKeyCollection
    }

    struct Invalid: Error { var reason: String }

    let configuration: AuthConfiguration
    let keysByID: [String: Key]
    /// The HS256 secret, used for tokens without a `kid` (Supabase's legacy tokens).
    let unnamedKey: Key?
    let allowedAlgorithms: Set<String>
    let cache = TokenCache()

    public init(_ configuration: AuthConfiguration) async throws {
        self.configuration = configuration
        var unnamed: Key?
        if let secret = configuration.hmacSecret {
            guard secret.utf8.count >= 32 else { throw Invalid(reason: "JWT_SECRET must be at least 32 bytes") }
            let collection = await JWTKeyCollection().add(hmac: HMACKey(from: secret), digestAlgorithm: .sha256)
            unnamed = Key(algorithm: "HS256", collection: collection)
        }
        var byID: [String: Key] = [:]
        if let unnamed, let kid = configuration.hmacKeyID { byID[kid] = unnamed }
        if let jwksJSON = configuration.jwksJSON {
            let jwks = try JSONDecoder().decode(JWKS.self, from: Data(jwksJSON.utf8))
            for jwk in jwks.keys {
                guard let kid = jwk.keyIdentifier?.string else { throw Invalid(reason: "every JWKS key needs a kid") }
                let algorithm = jwk.algorithm?.rawValue ?? (jwk.keyType == .rsa ? "RS256" : jwk.keyType == .ecdsa ? "ES256" : "")
                guard ["RS256", "ES256"].contains(algorithm) else { throw Invalid(reason: "JWKS key \(kid): only RS256 and ES256 are supported") }
                byID[kid] = Key(algorithm: algorithm, collection: try await JWTKeyCollection().add(jwk: jwk, isDefault: true))
            }
        }
        guard unnamed != nil || !byID.isEmpty else {
            throw Invalid(reason: "no token keys configured: set JWT_SECRET or JWKS_FILE")
        }
        self.unnamedKey = unnamed
        self.keysByID = byID
        let configured = Set(byID.values.map(\.algorithm) + (unnamed.map { [$0.algorithm] } ?? []))
        self.allowedAlgorithms = configuration.allowedAlgorithms.map { $0.intersection(configured) } ?? configured
    }

    /// The identity a token proves, or a 401 problem saying why not.
    public func verify(_ token: String, now: Date = Date()) async throws -> Identity {
        if let identity = cache.identity(for: token, now: now.timeIntervalSince1970) { return identity }
        do {
            return try await check(token, now: now)
        } catch let invalid as Invalid {
            throw Problem.invalidToken(invalid.reason)
        } catch {
            throw Problem.invalidToken("signature or format not valid")
        }
    }

    private func check(_ token: String, now: Date) async throws -> Identity {
        guard token.utf8.count <= configuration.maxTokenBytes else { throw Invalid(reason: "token too large") }
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let headerData = Base64URL.decode(parts[0]), let payloadData = Base64URL.decode(parts[1]),
              case .object(let header)? = try? JSONValue.parse(headerData),
              case .object(let claims)? = try? JSONValue.parse(payloadData)
        else { throw Invalid(reason: "malformed token") }

        guard let algorithm = header["alg"]?.stringValue, allowedAlgorithms.contains(algorithm) else {
            throw Invalid(reason: "algorithm not allowed")
        }
        guard header["crit"] == nil else { throw Invalid(reason: "critical header extensions are not supported") }
        let key: Key
        if let kid = header["kid"] {
            guard let name = kid.stringValue, let named = keysByID[name] else { throw Invalid(reason: "unknown key id") }
            key = named
        } else {
            guard let unnamedKey else { throw Invalid(reason: "token has no key id") }
            key = unnamedKey
        }
        guard key.algorithm == algorithm else { throw Invalid(reason: "algorithm does not match the key") }
        _ = try await key.collection.verify(token, as: SignatureOnly.self)

        try checkTimes(claims, now: now.timeIntervalSince1970)
        try checkIdentity(claims)
        let identity = try identity(from: claims, payload: payloadData)
        // exp is required and checked above, so it is a number here.
        cache.store(identity, for: token, expires: claims["exp"]!.numberValue! + configuration.leewaySeconds)
        return identity
    }

    private func checkTimes(_ claims: [String: JSONValue], now: Double) throws {
        let leeway = configuration.leewaySeconds
        guard let exp = claims["exp"]?.numberValue else { throw Invalid(reason: "exp is required") }
        guard now <= exp + leeway else { throw Invalid(reason: "token expired") }
        if let nbf = claims["nbf"] {
            guard let value = nbf.numberValue, now + leeway >= value else { throw Invalid(reason: "token not yet valid") }
        }
        if let iat = claims["iat"] {
            guard let value = iat.numberValue, value <= now + leeway else { throw Invalid(reason: "token issued in the future") }
        }
    }

    private func checkIdentity(_ claims: [String: JSONValue]) throws {
        if let issuer = configuration.issuer, claims["iss"]?.stringValue != issuer {
            throw Invalid(reason: "wrong issuer")
        }
        if let audience = configuration.audience {
            let audiences: [String] = switch claims["aud"] {
            case .string(let one)?: [one]
            case .array(let many)?: many.compactMap(\.stringValue)
            default: []
            }
            guard audiences.contains(audience) else { throw Invalid(reason: "wrong audience") }
        }
    }

    private func identity(from claims: [String: JSONValue], payload: Data) throws -> Identity {
        let roleName = claims["role"]?.stringValue ?? DatabaseRole.authenticated.rawValue
        guard let role = DatabaseRole(rawValue: roleName) else { throw Invalid(reason: "role not allowed") }
        let object = JSONValue.object(claims)
        let accountID = object[configuration.accountClaim]?.stringValue
        let appRole = object[configuration.appRoleClaim]?.stringValue
        var claimsJSON = String(decoding: payload, as: UTF8.self)
        // SQL reads app_metadata.account_id / app_role; claims configured elsewhere are copied there.
        if configuration.accountClaim != AuthConfiguration.defaultAccountClaim || configuration.appRoleClaim != AuthConfiguration.defaultAppRoleClaim {
            var normalized = claims
            var metadata: [String: JSONValue] = if case .object(let existing)? = claims["app_metadata"] { existing } else { [:] }
            if let accountID { metadata["account_id"] = .string(accountID) }
            if let appRole { metadata["app_role"] = .string(appRole) }
            normalized["app_metadata"] = .object(metadata)
            claimsJSON = JSONValue.object(normalized).text
        }
        return Identity(role: role, claimsJSON: claimsJSON, userID: claims["sub"]?.stringValue, accountID: accountID, appRole: appRole)
    }
}

/// jwt-kit checks the signature; the claims are checked above, with leeway.
private struct SignatureOnly: JWTPayload {
    init(from decoder: any Decoder) throws {}
    func encode(to encoder: any Encoder) throws {}
    func verify(using algorithm: some JWTAlgorithm) async throws {}
}

enum Base64URL {
    static func decode(_ text: Substring) -> Data? {
        guard !text.isEmpty, text.allSatisfy({ $0.isLetter && $0.isASCII || $0.isNumber && $0.isASCII || $0 == "-" || $0 == "_" }) else { return nil }
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        return Data(base64Encoded: base64)
    }

    static func encode(_ data: Data) -> String {
        data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}
