import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
@testable import GatewayCore

/// FlowPilot over HTTP against the real database. Each test makes its own account (through the
/// API, as an operator would), so tests running side by side never see each other's numbers.
@Suite("FlowPilot")
struct FlowPilotTests: JSONRequests {
    /// An account made by `POST /api/v1/accounts`, with members added straight into the database
    /// (cheap hashes) and tokens as the gateway would sign them after a login.
    struct Account {
        var id: String
        var adminID: String
        var adminEmail: String
        var members: [String: String] = [:]  // app role → user id

        func token(_ appRole: String) -> String {
            let user = appRole == "admin" ? adminID : members[appRole]!  // every test asks only for roles it added
            return TestEnvironment.token(sub: user, account: id, appRole: appRole)
        }
    }

    static let adminPassword = "admin password 1"

    func makeAccount(_ client: some TestClientProtocol, roles: [String] = ["engineer", "viewer"]) async throws -> Account {
        let email = "admin-\(UUID().uuidString.prefix(8).lowercased())@example.test"
        let service = TestEnvironment.token(role: "service_role", sub: nil)
        var account: Account?
        try await client.execute(uri: "/api/v1/accounts", method: .post, headers: json(service),
                                 body: body(["name": "Test account", "admin_email": .string(email), "admin_password": .string(Self.adminPassword)])) { response in
            #expect(response.status == .created, "\(response.text)")
            if let id = response.json?[["id"]]?.stringValue, let admin = response.json?[["admin", "id"]]?.stringValue {
                account = Account(id: id, adminID: admin, adminEmail: email)
            }
        }
        guard var account else { throw TestEnvironment.Missing(name: "account") }
        for role in roles {
            account.members[role] = try await TestEnvironment.psql("""
                insert into flowpilot.users (account_id, email, password_hash, role)
                values ('\(account.id)', '\(role)-\(UUID().uuidString.lowercased())@example.test', extensions.crypt('member password', extensions.gen_salt('bf', 4)), '\(role)')
                returning id
                """)
        }
        return account
    }

    static let printerTree: JSONValue = .array([
        .object(["id": "start", "text": "Does the printer power on?",
                 "options": .array([.object(["label": "Yes", "next": "paper"]), .object(["label": "No", "next": "plug"])])]),
        .object(["id": "paper", "text": "Is there paper in the tray?", "options": .array([.object(["label": "No", "next": "load"])])]),
        .object(["id": "plug", "text": "Plug the power cable in"]),
        .object(["id": "load", "text": "Load paper"]),
    ])

    @Test func registerLoginRefreshAndLogout() async throws {
        let app = try await buildApplication(TestEnvironment.configuration())
        try await app.test(.router) { client in
            let account = try await makeAccount(client, roles: [])
            // The admin logs in with the OAuth2 form and invites an engineer.
            var adminToken = ""
            try await client.execute(uri: "/api/v1/auth/login", method: .post, headers: [.contentType: "application/x-www-form-urlencoded"],
                                     body: ByteBuffer(string: "grant_type=password&username=\(account.adminEmail)&password=admin+password+1")) { response in
                #expect(response.status == .ok, "\(response.text)")
                #expect(response.json?[["token_type"]]?.stringValue == "bearer")
                #expect(response.json?[["expires_in"]]?.numberValue == 900)
                #expect(response.json?[["access_token_claims"]] == nil)
                adminToken = response.json?[["access_token"]]?.stringValue ?? ""
            }
            var code = ""
            let email = "engineer-\(UUID().uuidString.prefix(8).lowercased())@example.test"
            try await client.execute(uri: "/api/v1/auth/invitations", method: .post, headers: json(adminToken),
                                     body: body(["email": .string(email), "role": "engineer"])) { response in
                #expect(response.status == .created, "\(response.text)")
                code = response.json?[["invite_code"]]?.stringValue ?? ""
            }
            // No mass assignment: a role or an account in the body is refused, and nothing is created.
            try await client.execute(uri: "/api/v1/auth/register", method: .post, headers: json(),
                                     body: body(["email": .string(email), "password": "engineer pass", "invite_code": .string(code), "role": "admin",
                                                 "account_id": .string(UUID().uuidString)])) { response in
                #expect(response.status == .badRequest)
                #expect(response.text.contains("unknown parameter"))
            }
            #expect(try await TestEnvironment.psql("select count(*) from flowpilot.users where email = '\(email)'") == "0")
            try await client.execute(uri: "/api/v1/auth/register", method: .post, headers: json(),
                                     body: body(["email": .string(email), "password": "engineer pass", "invite_code": .string(code)])) { response in
                #expect(response.status == .created, "\(response.text)")
                #expect(response.json?[["role"]]?.stringValue == "engineer")
                #expect(response.json?[["account_id"]]?.stringValue == account.id)
            }
            // Login (JSON), /me with the signed token, refresh, replay, logout.
            var refresh = ""
            var access = ""
            try await client.execute(uri: "/api/v1/auth/login/json", method: .post, headers: json(),
                                     body: body(["email": .string(email), "password": "engineer pass"])) { response in
                #expect(response.status == .ok, "\(response.text)")
                refresh = response.json?[["refresh_token"]]?.stringValue ?? ""
                access = response.json?[["access_token"]]?.stringValue ?? ""
            }
            try await client.execute(uri: "/api/v1/auth/me", method: .get, headers: .bearer(access)) { response in
                #expect(response.status == .ok, "\(response.text)")
                #expect(response.json?[["email"]]?.stringValue == email)
                #expect(response.json?[["role"]]?.stringValue == "engineer")
            }
            var rotated = ""
            try await client.execute(uri: "/api/v1/auth/refresh", method: .post, headers: json(), body: body(["refresh_token": .string(refresh)])) { response in
                #expect(response.status == .ok, "\(response.text)")
                rotated = response.json?[["refresh_token"]]?.stringValue ?? ""
                #expect(response.json?[["access_token"]]?.stringValue?.isEmpty == false)
            }
            try await client.execute(uri: "/api/v1/auth/refresh", method: .post, headers: json(), body: body(["refresh_token": .string(refresh)])) { response in
                #expect(response.status == .unauthorized)
                #expect(response.problemCode == "AUTH_REQUIRED")
            }
            try await client.execute(uri: "/api/v1/auth/refresh", method: .post, headers: json(), body: body(["refresh_token": .string(rotated)])) { response in
                #expect(response.status == .unauthorized, "reusing a rotated token revokes its whole family")
            }
            try await client.execute(uri: "/api/v1/auth/logout", method: .post, headers: json(access), body: body([:])) { response in
                #expect(response.status == .ok, "\(response.text)")
            }
        }
    }

    @Test func adminsManageTheirUsers() async throws {
        let app = try await buildApplication(TestEnvironment.configuration())
        try await app.test(.router) { client in
            let account = try await makeAccount(client)
            try await client.execute(uri: "/api/v1/users", method: .get, headers: .bearer(account.token("admin"))) { response in
                #expect(count(response.json) == 3, "\(response.text)")
            }
            try await client.execute(uri: "/api/v1/users", method: .get, headers: .bearer(account.token("engineer"))) { response in
                #expect(response.status == .forbidden)
            }
            try await client.execute(uri: "/api/v1/users/\(account.members["viewer"]!)", method: .patch, headers: json(account.token("admin")),
                                     body: body(["role": "engineer"])) { response in
                #expect(response.status == .ok, "\(response.text)")
                #expect(response.json?[["role"]]?.stringValue == "engineer")
            }
            try await client.execute(uri: "/api/v1/users/\(account.adminID)", method: .patch, headers: json(account.token("admin")),
                                     body: body(["is_active": .bool(false)])) { response in
                #expect(response.status == .conflict, "an admin cannot deactivate themself")
            }
        }
    }

    @Test func wrongPasswordsGetOneAnswerAndAreThrottled() async throws {
        let app = try await buildApplication(TestEnvironment.configuration())
        try await app.test(.router) { client in
            let account = try await makeAccount(client, roles: [])
            var answers: [String] = []
            for user in [account.adminEmail, "nobody-\(UUID().uuidString)@example.test"] {
                try await client.execute(uri: "/api/v1/auth/login/json", method: .post, headers: json(),
                                         body: body(["email": .string(user), "password": "wrong password"])) { response in
                    #expect(response.status == .unauthorized)
                    #expect(response.headers[.contentType] == "application/problem+json")
                    #expect(response.headers[.wwwAuthenticate]?.hasPrefix("Bearer") == true)
                    #expect(response.json?[["title"]]?.stringValue == "Unauthorized", "an answered error has its reason phrase")
                    answers.append(response.json?[["message"]]?.stringValue ?? "")
                }
            }
            #expect(answers[0] == answers[1] && !answers[0].isEmpty, "an unknown user and a wrong password read the same")
            for _ in 0..<4 {
                try await client.execute(uri: "/api/v1/auth/login/json", method: .post, headers: json(),
                                         body: body(["email": .string(account.adminEmail), "password": "wrong password"])) { _ in }
            }
            try await client.execute(uri: "/api/v1/auth/login/json", method: .post, headers: json(),
                                     body: body(["email": .string(account.adminEmail), "password": .string(Self.adminPassword)])) { response in
                #expect(response.status == .tooManyRequests)
                #expect(response.problemCode == "RATE_LIMIT_EXCEEDED")
                #expect(Int(response.headers[.retryAfter] ?? "") ?? 0 > 0)
            }
        }
    }

    @Test func treesAreValidatedVersionedAndRoleGated() async throws {
        let app = try await buildApplication(TestEnvironment.configuration())
        try await app.test(.router) { client in
            let account = try await makeAccount(client)
            let other = try await makeAccount(client)
            try await client.execute(uri: "/api/v1/trees", method: .post, headers: json(account.token("viewer")),
                                     body: body(["title": "Printer", "nodes": Self.printerTree])) { response in
                #expect(response.status == .forbidden)
            }
            let broken: JSONValue = .array([.object(["id": "a", "text": "A", "options": .array([.object(["label": "x", "next": "ghost"])])])])
            try await client.execute(uri: "/api/v1/trees", method: .post, headers: json(account.token("engineer")),
                                     body: body(["title": "Broken", "nodes": broken])) { response in
                #expect(response.status == .unprocessableContent)
                #expect(response.json?[["details", "node_id"]]?.stringValue == "a")
                #expect(response.json?[["title"]]?.stringValue == "Unprocessable Content", "a PT422 has its reason phrase")
            }
            var treeID = ""
            try await client.execute(uri: "/api/v1/trees", method: .post, headers: json(account.token("engineer")),
                                     body: body(["title": "Printer troubleshooting", "category": "hardware", "nodes": Self.printerTree])) { response in
                #expect(response.status == .created, "\(response.text)")
                treeID = response.json?[["id"]]?.stringValue ?? ""
                #expect(response.headers[.location] == "/api/v1/trees/\(treeID)")
            }
            try await client.execute(uri: "/api/v1/trees/\(treeID)", method: .put, headers: json(account.token("engineer")),
                                     body: body(["version": .number(1), "title": "Printer fixes"])) { response in
                #expect(response.status == .ok, "\(response.text)")
                #expect(response.json?[["version"]]?.numberValue == 2)
            }
            try await client.execute(uri: "/api/v1/trees/\(treeID)", method: .put, headers: json(account.token("engineer")),
                                     body: body(["version": .number(1), "title": "Lost update"])) { response in
                #expect(response.status == .conflict, "an edit from a stale version never overwrites")
                #expect(response.json?[["details", "current_version"]]?.numberValue == 2)
            }
            try await client.execute(uri: "/api/v1/trees/search?q=paper%20tray", method: .get, headers: .bearer(account.token("viewer"))) { response in
                #expect(count(response.json) == 1)
            }
            try await client.execute(uri: "/api/v1/trees/categories", method: .get, headers: .bearer(account.token("viewer"))) { response in
                #expect(response.text == #"[{"category": "hardware", "tree_count": 1}]"#)
            }
            try await client.execute(uri: "/api/v1/trees?page=1&page_size=10", method: .get, headers: .bearer(account.token("viewer"))) { response in
                #expect(response.json?[["total"]]?.numberValue == 1)
            }
            try await client.execute(uri: "/api/v1/trees?page=0", method: .get, headers: .bearer(account.token("viewer"))) { response in
                #expect(response.status == .badRequest)
            }
            try await client.execute(uri: "/api/v1/trees/\(treeID)", method: .get, headers: .bearer(other.token("engineer"))) { response in
                #expect(response.status == .notFound, "another account's tree does not exist for them")
            }
            try await client.execute(uri: "/api/v1/trees/\(treeID)", method: .delete, headers: .bearer(account.token("engineer"))) { response in
                #expect(response.status == .forbidden)
            }
            try await client.execute(uri: "/api/v1/trees/\(treeID)", method: .delete, headers: .bearer(account.token("admin"))) { response in
                #expect(response.status == .noContent)
            }
        }
    }

    @Test func sessionsAreWalkedByTheirOwnerAndExported() async throws {
        let app = try await buildApplication(TestEnvironment.configuration())
        try await app.test(.router) { client in
            var account = try await makeAccount(client)
            account.members["viewer2"] = try await TestEnvironment.psql("""
                insert into flowpilot.users (account_id, email, password_hash, role)
                values ('\(account.id)', 'v2-\(UUID().uuidString.lowercased())@example.test', 'x', 'viewer') returning id
                """)
            let viewer2 = TestEnvironment.token(sub: account.members["viewer2"], account: account.id, appRole: "viewer")
            var treeID = ""
            try await client.execute(uri: "/api/v1/trees", method: .post, headers: json(account.token("engineer")),
                                     body: body(["title": "Printer", "nodes": Self.printerTree])) { response in
                treeID = response.json?[["id"]]?.stringValue ?? ""
            }
            var sessionID = ""
            try await client.execute(uri: "/api/v1/sessions", method: .post, headers: json(account.token("viewer")),
                                     body: body(["tree_id": .string(treeID)])) { response in
                #expect(response.status == .created, "\(response.text)")
                sessionID = response.json?[["id"]]?.stringValue ?? ""
                #expect(response.json?[["current_node", "id"]]?.stringValue == "start")
            }
            try await client.execute(uri: "/api/v1/sessions/\(sessionID)", method: .put, headers: json(account.token("viewer")),
                                     body: body(["answer": "Yes", "notes": "lights on"])) { response in
                #expect(response.json?[["current_node", "id"]]?.stringValue == "paper", "\(response.text)")
            }
            try await client.execute(uri: "/api/v1/sessions/\(sessionID)", method: .put, headers: json(account.token("viewer")),
                                     body: body(["answer": "Maybe"])) { response in
                #expect(response.status == .unprocessableContent)
            }
            try await client.execute(uri: "/api/v1/sessions/\(sessionID)", method: .get, headers: .bearer(viewer2)) { response in
                #expect(response.status == .notFound, "a user cannot read another user's session")
            }
            try await client.execute(uri: "/api/v1/sessions/\(sessionID)", method: .put, headers: json(account.token("engineer")),
                                     body: body(["notes": "overwrite"])) { response in
                #expect(response.status == .forbidden, "an engineer reads but does not walk someone else's session")
            }
            try await client.execute(uri: "/api/v1/sessions/\(sessionID)/complete", method: .post, headers: json(account.token("viewer")),
                                     body: body(["resolution": "Power cycled"])) { response in
                #expect(response.json?[["status"]]?.stringValue == "completed", "\(response.text)")
            }
            try await client.execute(uri: "/api/v1/sessions/\(sessionID)/export", method: .post, headers: json(account.token("viewer")),
                                     body: body(["format": "markdown"])) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "text/markdown; charset=utf-8")
                #expect(response.text.contains("1. **Does the printer power on?** — Yes"))
                #expect(response.text.contains("Power cycled"))
            }
            try await client.execute(uri: "/api/v1/sessions/\(sessionID)/export", method: .post, headers: json(account.token("viewer")),
                                     body: body([:])) { response in
                #expect(response.headers[.contentType] == "application/json")
                #expect(response.json?[["steps"]] == .array([]))
            }
            try await client.execute(uri: "/api/v1/sessions", method: .get, headers: .bearer(account.token("viewer"))) { response in
                #expect(response.json?[["total"]]?.numberValue == 1)
            }
            try await client.execute(uri: "/api/v1/sessions", method: .get, headers: .bearer(viewer2)) { response in
                #expect(response.json?[["total"]]?.numberValue == 0)
            }
        }
    }

    @Test func escalationMetricFromHandoffToFirstAction() async throws {
        let app = try await buildApplication(TestEnvironment.configuration())
        try await app.test(.router) { client in
            let account = try await makeAccount(client)
            let other = try await makeAccount(client)
            let metrics = "/api/v1/analytics/flowpilot/escalations"
            try await client.execute(uri: metrics, method: .get) { response in
                #expect(response.status == .unauthorized)
            }
            try await client.execute(uri: metrics, method: .get, headers: .bearer(account.token("viewer"))) { response in
                #expect(response.status == .forbidden)
            }
            try await client.execute(uri: metrics + "?period=14d", method: .get, headers: .bearer(account.token("engineer"))) { response in
                #expect(response.status == .badRequest)
                #expect(response.problemCode == "VALIDATION_ERROR")
            }
            try await client.execute(uri: metrics + "?period=7d", method: .get, headers: .bearer(account.token("engineer"))) { response in
                #expect(response.status == .ok)
                #expect(response.json?[["n_handoffs_claimed"]]?.numberValue == 0)
                #expect(response.json?[["median_seconds"]] == .null)
                #expect(response.json?[["metric_definition", "disclaimer"]]?.stringValue?.contains("not \"minutes recovered\"") == true)
            }
            // A viewer's session goes to a human: handoff, claim (once), then the engineer acts.
            var treeID = ""
            try await client.execute(uri: "/api/v1/trees", method: .post, headers: json(account.token("engineer")),
                                     body: body(["title": "Printer", "nodes": Self.printerTree])) { response in
                treeID = response.json?[["id"]]?.stringValue ?? ""
            }
            var sessionID = ""
            try await client.execute(uri: "/api/v1/sessions", method: .post, headers: json(account.token("viewer")), body: body(["tree_id": .string(treeID)])) { response in
                sessionID = response.json?[["id"]]?.stringValue ?? ""
            }
            var handoffID = ""
            try await client.execute(uri: "/api/v1/handoffs", method: .post, headers: json(account.token("viewer")),
                                     body: body(["session_id": .string(sessionID), "reason": "stuck"])) { response in
                #expect(response.status == .created, "\(response.text)")
                handoffID = response.json?[["id"]]?.stringValue ?? ""
            }
            try await client.execute(uri: "/api/v1/handoffs", method: .get, headers: .bearer(account.token("engineer"))) { response in
                #expect(count(response.json) == 1)
            }
            try await client.execute(uri: "/api/v1/handoffs/\(handoffID)/claim", method: .post, headers: json(account.token("viewer")), body: body([:])) { response in
                #expect(response.status == .forbidden)
            }
            try await client.execute(uri: "/api/v1/handoffs/\(handoffID)/claim", method: .post, headers: json(account.token("engineer")), body: body([:])) { response in
                #expect(response.status == .ok, "\(response.text)")
            }
            try await client.execute(uri: "/api/v1/handoffs/\(handoffID)/claim", method: .post, headers: json(account.token("admin")), body: body([:])) { response in
                #expect(response.status == .conflict)
            }
            try await client.execute(uri: metrics, method: .get, headers: .bearer(account.token("engineer"))) { response in
                #expect(response.json?[["n_handoffs_claimed"]]?.numberValue == 1)
                #expect(response.json?[["n_handoffs_with_action"]]?.numberValue == 0, "claimed but no action yet")
            }
            try await client.execute(uri: "/api/v1/sessions/\(sessionID)/steps", method: .post, headers: json(account.token("engineer")),
                                     body: body(["content": "Called the user", "actor": "human"])) { response in
                #expect(response.status == .created, "\(response.text)")
            }
            try await client.execute(uri: "/api/v1/sessions/\(sessionID)/steps", method: .get, headers: .bearer(account.token("viewer"))) { response in
                #expect(count(response.json) == 1, "the session's owner reads its steps")
            }
            try await client.execute(uri: metrics + "?period=30d", method: .get, headers: .bearer(account.token("admin"))) { response in
                #expect(response.json?[["n_handoffs_with_action"]]?.numberValue == 1)
                #expect((response.json?[["avg_seconds"]]?.numberValue ?? -1) >= 0)
            }
            try await client.execute(uri: metrics + "?period=90d", method: .get, headers: .bearer(other.token("engineer"))) { response in
                #expect(response.json?[["n_handoffs_claimed"]]?.numberValue == 0, "another account sees none of it")
            }
        }
    }
}
