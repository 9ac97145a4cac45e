import Testing
@testable import GatewayCore

@Suite struct DatabaseURLTests {
    @Test func acceptsWhatLibpqAccepts() throws {
        for text in [
            "postgresql://app%40x:p%2Fw@db.local:6543/analytics?sslmode=verify-full&sslrootcert=/etc/ca.pem",
            "postgresql://authenticator@/app?host=/tmp/pg/run&port=54329",
            "host=/tmp/pg/run port=54329 dbname=app user=authenticator",
        ] {
            #expect(try DatabaseURL(text).text == text, "kept as given: libpq reads it on every connect")
        }
    }

    @Test func rejectsWhatLibpqRejects() {
        for text in ["not a url", "mysql://x@y/z", "postgresql://x@y/z?nosuchoption=1"] {
            #expect(throws: DatabaseURL.Invalid.self) { try DatabaseURL(text) }
        }
    }
}
