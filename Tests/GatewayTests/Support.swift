import Foundation
@testable import GatewayCore

enum TestEnvironment {
    struct Missing: Error, CustomStringConvertible {
        var description: String { "TEST_DATABASE_URL is not set: run the tests through `make test`" }
    }

    /// The migrated throw-away database that `make test` created.
    static func databaseURL() throws -> String {
        guard let url = ProcessInfo.processInfo.environment["TEST_DATABASE_URL"], !url.isEmpty else { throw Missing() }
        return url
    }

    static func configuration(databaseURL: String? = nil) throws -> GatewayConfiguration {
        try GatewayConfiguration(hostname: "127.0.0.1", port: 0, databaseURL: databaseURL ?? self.databaseURL(), logLevel: .warning)
    }
}
