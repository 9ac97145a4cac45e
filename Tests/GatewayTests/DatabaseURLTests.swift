import Testing
@testable import GatewayCore

@Suite struct DatabaseURLTests {
    @Test func readsTCPURIs() throws {
        let config = try DatabaseURL.configuration(from: "postgresql://app%40x:p%2Fw@db.local:6543/analytics?sslmode=disable")
        #expect(config.host == "db.local")
        #expect(config.port == 6543)
        #expect(config.username == "app@x")
        #expect(config.password == "p/w")
        #expect(config.database == "analytics")
    }

    @Test func readsUnixSocketURIs() throws {
        let config = try DatabaseURL.configuration(from: "postgresql://authenticator@/app?host=/tmp/pg/run&port=54329")
        #expect(config.unixSocketPath == "/tmp/pg/run/.s.PGSQL.54329")
        #expect(config.username == "authenticator")
        #expect(config.database == "app")
    }

    @Test func rejectsOtherSchemes() {
        #expect(throws: DatabaseURL.Invalid.self) { try DatabaseURL.configuration(from: "mysql://x@y/z") }
        #expect(throws: DatabaseURL.Invalid.self) { try DatabaseURL.configuration(from: "not a url") }
    }
}
