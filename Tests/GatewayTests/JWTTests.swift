import Foundation
import Hummingbird
import HummingbirdTesting
import JWTKit
import Testing
@testable import GatewayCore

@Suite("Bearer tokens")
struct JWTTests {
    static let now = Date().timeIntervalSince1970

    static func claims(_ extra: [String: JSONValue] = [:], dropping: [String] = []) -> [String: JSONValue] {
        var claims: [String: JSONValue] = ["sub": "0c9b1fa4-5f0e-4f32-9d43-7a1b0a3c2d11", "role": "authenticated",
                                           "exp": .number(now + 600), "iat": .number(now)]
        for (key, value) in extra { claims[key] = value }
        for key in dropping { claims.removeValue(forKey: key) }
        return claims
    }

    static func unsigned(header: [String: JSONValue], claims: [String: JSONValue]) -> String {
        Base64URL.encode(Data(JSONValue.object(header).text.utf8)) + "." + Base64URL.encode(Data(JSONValue.object(claims).text.utf8)) + "."
    }

    /// Every token here must be refused with 401, without the request reaching the database.
    @Test func theBearerSchemeIsReadStrictly() {
        #expect(Authenticator.bearerToken("Bearer abc.def") == "abc.def")
        #expect(Authenticator.bearerToken("bEaReR   abc  ") == "abc")
        #expect(Authenticator.bearerToken("Bearer    ") == nil)
        #expect(Authenticator.bearerToken("Bearer") == nil)
        #expect(Authenticator.bearerToken("Bearerabc") == nil)
        #expect(Authenticator.bearerToken("Basic abc") == nil)
        #expect(Authenticator.bearerToken("Bearer é") == "é")
    }

    @Test func theNegativeSuite() async throws {
        let ec = ES256PrivateKey()
        let jwks = try Self.jwks(for: ec.publicKey, kid: "ec-1")
        var auth = AuthConfiguration(hmacSecret: TestEnvironment.secret, jwksJSON: jwks)
        auth.issuer = "https://issuer.test"
        auth.audience = "analytics"
        let good: [String: JSONValue] = ["iss": "https://issuer.test", "aud": "analytics"]
        let secret = TestEnvironment.secret
        let publicPEM = try ec.publicKey.pemRepresentation

        let tokens: [(String, String)] = [
            ("alg none", Self.unsigned(header: ["alg": "none", "typ": "JWT"], claims: Self.claims(good))),
            ("alg None", Self.unsigned(header: ["alg": "None"], claims: Self.claims(good))),
            ("alg NONE", Self.unsigned(header: ["alg": "NONE"], claims: Self.claims(good))),
            ("alg nOnE", Self.unsigned(header: ["alg": "nOnE"], claims: Self.claims(good))),
            ("alg none with a signature", TokenMinter.hs256(claims: Self.claims(good), secret: secret, header: ["alg": "none"])),
            ("HS256 signed with the EC public key, kid of the EC key",
             TokenMinter.hs256(claims: Self.claims(good), secret: publicPEM, header: ["alg": "HS256", "kid": "ec-1"])),
            ("HS256 signed with the EC public key, no kid", TokenMinter.hs256(claims: Self.claims(good), secret: publicPEM)),
            ("alg not on the allow-list (HS512)", TokenMinter.hs256(claims: Self.claims(good), secret: secret, header: ["alg": "HS512"])),
            ("expired beyond the leeway", TokenMinter.hs256(claims: Self.claims(good.merging(["exp": .number(Self.now - 45)]) { $1 }), secret: secret)),
            ("not yet valid beyond the leeway", TokenMinter.hs256(claims: Self.claims(good.merging(["nbf": .number(Self.now + 120)]) { $1 }), secret: secret)),
            ("issued in the future", TokenMinter.hs256(claims: Self.claims(good.merging(["iat": .number(Self.now + 600)]) { $1 }), secret: secret)),
            ("missing exp", TokenMinter.hs256(claims: Self.claims(good, dropping: ["exp"]), secret: secret)),
            ("exp not a number", TokenMinter.hs256(claims: Self.claims(good.merging(["exp": "tomorrow"]) { $1 }), secret: secret)),
            ("wrong issuer", TokenMinter.hs256(claims: Self.claims(["iss": "https://evil.test", "aud": "analytics"]), secret: secret)),
            ("wrong audience", TokenMinter.hs256(claims: Self.claims(["iss": "https://issuer.test", "aud": "other"]), secret: secret)),
            ("no audience", TokenMinter.hs256(claims: Self.claims(["iss": "https://issuer.test"]), secret: secret)),
            ("unknown kid", TokenMinter.hs256(claims: Self.claims(good), secret: secret, header: ["alg": "HS256", "kid": "who"])),
            ("wrong secret", TokenMinter.hs256(claims: Self.claims(good), secret: String(secret.reversed()))),
            ("tampered payload", Self.tamper(TokenMinter.hs256(claims: Self.claims(good), secret: secret))),
            ("role postgres", TokenMinter.hs256(claims: Self.claims(good.merging(["role": "postgres"]) { $1 }), secret: secret)),
            ("critical header", TokenMinter.hs256(claims: Self.claims(good), secret: secret, header: ["alg": "HS256", "crit": .array(["x"])])),
            ("garbage", "not-a-token"),
            ("two parts", "abc.def"),
            ("bad base64", "a$b.c$d.e$f"),
            ("oversized", TokenMinter.hs256(claims: Self.claims(good.merging(["pad": .string(String(repeating: "x", count: 9000))]) { $1 }), secret: secret)),
        ]

        let configuration = try TestEnvironment.configuration(auth: auth)
        let app = try await buildApplication(configuration)
        try await app.test(.router) { client in
            for (name, token) in tokens {
                try await client.execute(uri: "/api/v1/test/whoami", method: .get, headers: .bearer(token)) { response in
                    #expect(response.status == .unauthorized, "\(name)")
                    #expect(response.problemCode == "AUTH_REQUIRED", "\(name)")
                    #expect(response.headers[.wwwAuthenticate]?.hasPrefix("Bearer") == true, "\(name)")
                }
            }
            try await client.execute(uri: "/api/v1/test/whoami", method: .get, headers: [.authorization: "Basic dXNlcjpwYXNz"]) { response in
                #expect(response.status == .unauthorized)
            }
            // None of them took a database connection: no database call was measured.
            try await client.execute(uri: "/metrics", method: .get, headers: .metrics) { response in
                #expect(!response.text.contains("gateway_database_call_duration_seconds_count"))
            }
            // The same gateway accepts good tokens of both kinds, and a little clock skew.
            let hs = TokenMinter.hs256(claims: Self.claims(good.merging(["exp": .number(Self.now - 10)]) { $1 }), secret: secret)
            try await client.execute(uri: "/api/v1/test/whoami", method: .get, headers: .bearer(hs)) { response in
                #expect(response.status == .ok)
                #expect(response.json?[["user"]] == "authenticated")
            }
            let keys = try await JWTKeyCollection().add(ecdsa: ec, kid: "ec-1")
            let es = try await keys.sign(ClaimsPayload(claims: Self.claims(good)), kid: "ec-1")
            try await client.execute(uri: "/api/v1/test/whoami", method: .get, headers: .bearer(es)) { response in
                #expect(response.status == .ok)
                #expect(response.json?[["uid"]] == "0c9b1fa4-5f0e-4f32-9d43-7a1b0a3c2d11")
            }
        }
    }

    @Test func configuredClaimPathsReachSQL() async throws {
        var auth = AuthConfiguration(hmacSecret: TestEnvironment.secret)
        auth.accountClaim = ["org", "id"]
        auth.appRoleClaim = ["org", "role"]
        let app = try await buildApplication(TestEnvironment.configuration(auth: auth))
        let token = TokenMinter.hs256(claims: Self.claims(["org": .object(["id": "5d1c0a3e-0000-4000-8000-000000000001", "role": "admin"])]),
                                      secret: TestEnvironment.secret)
        try await app.test(.router) { client in
            try await client.execute(uri: "/api/v1/test/whoami", method: .get, headers: .bearer(token)) { response in
                #expect(response.json?[["account"]] == "5d1c0a3e-0000-4000-8000-000000000001")
                #expect(response.json?[["app_role"]] == "admin")
            }
        }
    }

    @Test func aShortSecretIsRefusedAtStart() async throws {
        await #expect(throws: (any Error).self) { try await JWTVerifier(AuthConfiguration(hmacSecret: "short")) }
        await #expect(throws: (any Error).self) { try await JWTVerifier(AuthConfiguration()) }
    }

    static func tamper(_ token: String) -> String {
        var parts = token.split(separator: ".").map(String.init)
        parts[1] = Base64URL.encode(Data(JSONValue.object(claims(["role": "service_role"])).text.utf8))
        return parts.joined(separator: ".")
    }

    static func jwks(for key: ES256PublicKey, kid: String) throws -> String {
        let parameters = try #require(key.parameters)
        return #"{"keys":[{"kty":"EC","crv":"P-256","alg":"ES256","kid":"\#(kid)","x":"\#(parameters.x)","y":"\#(parameters.y)"}]}"#
    }
}

/// Lets jwt-kit sign arbitrary claims for the ES256 case.
struct ClaimsPayload: JWTPayload {
    var claims: [String: JSONValue]
    func encode(to encoder: any Encoder) throws { try claims.encode(to: encoder) }
    init(claims: [String: JSONValue]) { self.claims = claims }
    init(from decoder: any Decoder) throws { claims = try [String: JSONValue](from: decoder) }
    func verify(using algorithm: some JWTAlgorithm) async throws {}
}
