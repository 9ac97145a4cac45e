import Testing
@testable import GatewayCore

@Suite struct DatabaseURLTests {
    @Test func readsTCPURIs() throws {
        let config = try DatabaseURL("postgresql://app%40x:p%2Fw@db.local:6543/analytics?sslmode=disable").connectionConfiguration()
        #expect(config.host == "db.local")
        #expect(config.port == 6543)
        #expect(config.username == "app@x")
        #expect(config.password == "p/w")
        #expect(config.database == "analytics")
        #expect(config.options.connectTimeout == .seconds(3), "a database that does not answer in 3 s counts as down")
    }

    @Test func readsUnixSocketURIs() throws {
        let config = try DatabaseURL("postgresql://authenticator@/app?host=/tmp/pg/run&port=54329").connectionConfiguration()
        #expect(config.unixSocketPath == "/tmp/pg/run/.s.PGSQL.54329")
        #expect(config.username == "authenticator")
        #expect(config.database == "app")
    }

    @Test func rejectsOtherSchemes() {
        #expect(throws: DatabaseURL.Invalid.self) { try DatabaseURL("mysql://x@y/z") }
        #expect(throws: DatabaseURL.Invalid.self) { try DatabaseURL("not a url") }
    }
}
