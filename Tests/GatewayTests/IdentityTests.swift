import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
@testable import GatewayCore

@Suite("Identity per request")
struct IdentityTests {
    /// One pooled connection serves tenant A, tenant B and anonymous callers in turn, and at once:
    /// each request sees only its own claims and role.
    @Test func claimsNeverLeakBetweenRequestsOnOneConnection() async throws {
        let app = try await buildApplication(TestEnvironment.configuration(poolSize: 1))
        let tenantA = "aaaaaaaa-0000-4000-8000-00000000000a"
        let tenantB = "bbbbbbbb-0000-4000-8000-00000000000b"
        let tokenA = TestEnvironment.token(account: tenantA, appRole: "admin")
        let tokenB = TestEnvironment.token(account: tenantB, appRole: "viewer")
        try await app.test(.router) { client in
            @Sendable func check(_ token: String?, account: String?, appRole: String?) async throws {
                let headers: HTTPFields = token.map { .bearer($0) } ?? [:]
                let response = try await client.execute(uri: "/api/v1/test/whoami", method: .get, headers: headers)
                #expect(response.status == .ok)
                let body = try #require(response.json)
                #expect(body[["user"]] == .string(token == nil ? "anon" : "authenticated"))
                #expect(body[["account"]] == (account.map { .string($0) } ?? .null))
                #expect(body[["app_role"]] == (appRole.map { .string($0) } ?? .null))
                if token == nil { #expect(body[["claims"]] == .object([:])) }
            }
            for _ in 0..<15 {
                try await check(tokenA, account: tenantA, appRole: "admin")
                try await check(nil, account: nil, appRole: nil)
                try await check(tokenB, account: tenantB, appRole: "viewer")
            }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<45 {
                    group.addTask {
                        switch index % 3 {
                        case 0: try await check(tokenA, account: tenantA, appRole: "admin")
                        case 1: try await check(nil, account: nil, appRole: nil)
                        default: try await check(tokenB, account: tenantB, appRole: "viewer")
                        }
                    }
                }
                try await group.waitForAll()
            }
        }
    }

    @Test func rolesAreGatedByDatabaseRoleAndApplicationRole() async throws {
        let app = try await buildApplication(TestEnvironment.configuration())
        try await app.test(.router) { client in
            try await client.execute(uri: "/api/v1/test/engineers", method: .get) { response in
                #expect(response.status == .unauthorized)
                #expect(response.problemCode == "AUTH_REQUIRED")
                #expect(response.headers[.wwwAuthenticate] == #"Bearer realm="api""#)
            }
            try await client.execute(uri: "/api/v1/test/engineers", method: .get, headers: .bearer(TestEnvironment.token(appRole: "viewer"))) { response in
                #expect(response.status == .forbidden)
                #expect(response.problemCode == "FORBIDDEN")
            }
            try await client.execute(uri: "/api/v1/test/engineers", method: .get, headers: .bearer(TestEnvironment.token(appRole: "engineer"))) { response in
                #expect(response.status == .ok)
            }
            try await client.execute(uri: "/api/v1/test/service", method: .get, headers: .bearer(TestEnvironment.token(appRole: "admin"))) { response in
                #expect(response.status == .forbidden)
            }
            try await client.execute(uri: "/api/v1/test/service", method: .get, headers: .bearer(TestEnvironment.token(role: "service_role"))) { response in
                #expect(response.status == .ok)
                #expect(response.json?[["user"]] == "service_role")
            }
            try await client.execute(uri: "/api/v1/test/engineers", method: .get, headers: .bearer(TestEnvironment.token(role: "service_role"))) { response in
                #expect(response.status == .ok)
            }
        }
    }
}
