import Hummingbird

/// Reads the bearer token, if any. No token means anonymous; a bad one is a 401 at once,
/// before any database connection is taken.
struct Authenticator: Sendable {
    let verifier: JWTVerifier

    func identify(_ request: Request) async throws -> Identity {
        guard let header = request.headers[.authorization] else { return .anonymous }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else {
            throw Problem.invalidToken("use the Bearer scheme")
        }
        return try await verifier.verify(String(parts[1]).trimmingCharacters(in: .whitespaces))
    }
}
