import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
@testable import GatewayCore

@Suite("Health and readiness against the real database")
struct HealthTests {
    @Test func healthSaysOK() async throws {
        let app = try await buildApplication(TestEnvironment.configuration())
        try await app.test(.router) { client in
            try await client.execute(uri: "/health", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "application/json")
                #expect(String(buffer: response.body) == #"{"status":"ok"}"#)
            }
            try await client.execute(uri: "/live", method: .get) { response in
                #expect(response.status == .ok)
            }
        }
    }

    @Test func readyWhenTheDatabaseAnswers() async throws {
        let app = try await buildApplication(TestEnvironment.configuration())
        try await app.test(.router) { client in
            try await client.execute(uri: "/ready", method: .get) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body).contains(#""database":"ok""#))
            }
        }
    }

    @Test func notReadyWhenTheDatabaseIsUnreachable() async throws {
        // Port 1 on loopback: nothing listens there, the connection is refused at once.
        let config = try TestEnvironment.configuration(databaseURL: "postgres://nobody@127.0.0.1:1/none?sslmode=disable")
        let app = try await buildApplication(config)
        try await app.test(.router) { client in
            try await client.execute(uri: "/ready", method: .get) { response in
                #expect(response.status == .serviceUnavailable)
                #expect(response.headers[.retryAfter] == "5")
            }
            try await client.execute(uri: "/health", method: .get) { response in
                #expect(response.status == .ok)
            }
            // Its routes are not known yet: a path may be one of them, so it is a 503 to retry, not a 404.
            try await client.execute(uri: "/api/v1/dashboard/summary", method: .get) { response in
                #expect(response.status == .serviceUnavailable)
                #expect(response.headers[.retryAfter] == "5")
            }
        }
    }

    @Test func liveServerAnswersOverTCP() async throws {
        let app = try await buildApplication(TestEnvironment.configuration())
        try await app.test(.live) { client in
            try await client.execute(uri: "/ready", method: .get) { response in
                #expect(response.status == .ok)
            }
        }
    }

    @Test func unknownPathIsNotFound() async throws {
        let app = try await buildApplication(TestEnvironment.configuration())
        try await app.test(.router) { client in
            try await client.execute(uri: "/no/such/path", method: .get) { response in
                #expect(response.status == .notFound)
            }
        }
    }
}
