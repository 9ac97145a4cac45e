import Hummingbird

/// Reads the bearer token, if any. No token means anonymous; a bad one is a 401 at once,
/// before any database connection is taken.
struct Authenticator: Sendable {
    let verifier: JWTVerifier

    func identify(_ request: Request) async throws -> Identity {
        guard let header = request.headers[.authorization] else { return .anonymous }
        guard let token = Authenticator.bearerToken(header) else { throw Problem.invalidToken("use the Bearer scheme") }
        return try await verifier.verify(token)
    }

    /// The token of `Bearer <token>` (scheme case-insensitive, spaces around the token ignored).
    static func bearerToken(_ header: String) -> String? {
        var header = header
        return header.withUTF8 { bytes -> String? in
            let scheme = "bearer ".utf8
            guard bytes.count > scheme.count,
                  zip(bytes, scheme).allSatisfy({ $0 | 0x20 == $1 })  // ASCII lower-casing; the space survives it
            else { return nil }
            var start = scheme.count
            var end = bytes.count
            while start < end, bytes[start] == UInt8(ascii: " ") { start += 1 }
            while end > start, bytes[end - 1] == UInt8(ascii: " ") { end -= 1 }
            return start == end ? nil : String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<end]), as: UTF8.self)
        }
    }
}
