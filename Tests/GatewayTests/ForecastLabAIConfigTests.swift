import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
@testable import GatewayCore

/// ForecastLab's AI configuration over HTTP (docs/forecastlab-rag.md, Configuration): GET and
/// PATCH /config/ai for admins, 403 for a viewer, the 422s (an unknown field included), the 409
/// for an embedding change over indexed chunks and then `force`, two tenants, and an API key that
/// no answer ever carries.
@Suite("ForecastLab AI configuration")
struct ForecastLabAIConfigTests: JSONRequests {
    typealias Account = TestAccount

    let secretKey = "sk-proj-" + UUID().uuidString.replacingOccurrences(of: "-", with: "") + "3f9a"

    /// The key's middle, which no masked form shows.
    func expectNoKey(_ response: TestResponse, sourceLocation: SourceLocation = #_sourceLocation) {
        let middle = String(secretKey.dropFirst(4).dropLast(4))
        #expect(!response.text.contains(middle), "the key never appears in an answer: \(response.text)", sourceLocation: sourceLocation)
    }

    @Test func adminsReadAndChangeTheirAccountsConfiguration() async throws {
        let account = Account()
        let other = Account()
        let app = try await buildApplication(TestEnvironment.configuration())
        try await app.test(.router) { client in
            try await client.execute(uri: "/config/ai", method: .get, headers: .bearer(account.token("admin"))) { response in
                expectNoKey(response)
                #expect(response.status == .ok, "\(response.text)")
                #expect(response.json?[["agent_default_model"]]?.stringValue == "openai:gpt-4o-mini")
                #expect(response.json?[["rag_embedding_provider"]]?.stringValue == "local")
                #expect(response.json?[["rag_embedding_dimension"]]?.numberValue == 384)
                #expect(response.json?[["agent_thinking_budget"]] == .null)
                #expect(count(response.json?[["overridden_keys"]]) == 0)
                #expect(element(response.json?[["api_keys"]], 0)?[["is_set"]] == .bool(false))
            }
            try await client.execute(uri: "/config/ai", method: .patch, headers: json(account.token("admin")),
                                     body: body(["agent_temperature": .number(0.9), "agent_max_tokens": 512,
                                                 "openai_api_key": .string(secretKey)])) { response in
                expectNoKey(response)
                #expect(response.status == .ok, "\(response.text)")
                #expect(response.json?[["agent_temperature"]]?.numberValue == 0.9)
                #expect(response.json?[["agent_max_tokens"]]?.numberValue == 512)
                let openai = element(response.json?[["api_keys"]], 0)
                #expect(openai?[["provider"]]?.stringValue == "openai")
                #expect(openai?[["is_set"]] == .bool(true))
                #expect(openai?[["masked"]]?.stringValue == "sk-p…3f9a", "\(response.text)")
                #expect(response.json?[["overridden_keys"]] == .array(["agent_max_tokens", "agent_temperature", "openai_api_key"]))
            }
            // Applied live: the next GET reads it (under the /api/v1 alias too).
            try await client.execute(uri: "/api/v1/config/ai", method: .get, headers: .bearer(account.token("admin"))) { response in
                expectNoKey(response)
                #expect(response.json?[["agent_temperature"]]?.numberValue == 0.9, "\(response.text)")
            }
            // Another tenant has the defaults and no key.
            try await client.execute(uri: "/config/ai", method: .get, headers: .bearer(other.token("admin"))) { response in
                expectNoKey(response)
                #expect(response.json?[["agent_temperature"]]?.numberValue == 0.2, "\(response.text)")
                #expect(element(response.json?[["api_keys"]], 0)?[["is_set"]] == .bool(false))
            }
            // Admins only.
            try await client.execute(uri: "/config/ai", method: .get, headers: .bearer(account.token("viewer"))) { response in
                expectNoKey(response)
                expectProblem(response, .forbidden, type: "/errors/forbidden")
            }
            try await client.execute(uri: "/config/ai", method: .patch, headers: json(account.token("viewer")),
                                     body: body(["agent_temperature": 1])) { response in
                expectNoKey(response)
                expectProblem(response, .forbidden, type: "/errors/forbidden")
            }
            try await client.execute(uri: "/config/ai", method: .get) { response in
                #expect(response.status == .unauthorized)
            }
            // 422: each bad field named; an unknown one too (a strict body).
            try await client.execute(uri: "/config/ai", method: .patch, headers: json(account.token("admin")),
                                     body: body(["agent_default_model": "gpt-4o", "agent_temperature": 3, "rag_embedding_provider": "cohere",
                                                 "ollama_base_url": "ftp://example.com"])) { response in
                expectNoKey(response)
                expectProblem(response, .unprocessableContent, type: "/errors/validation")
                #expect(fields(response) == ["agent_default_model", "agent_temperature", "ollama_base_url", "rag_embedding_provider"], "\(response.text)")
            }
            try await client.execute(uri: "/config/ai", method: .patch, headers: json(account.token("admin")),
                                     body: body(["agent_temperature": 1, "agent_max_tool_calls": 3])) { response in
                expectProblem(response, .unprocessableContent, type: "/errors/validation")
                #expect(fields(response) == ["agent_max_tool_calls"], "\(response.text)")
            }
            try await client.execute(uri: "/config/ai", method: .patch, headers: json(account.token("admin")),
                                     body: body(["rag_embedding_dimension": 768])) { response in
                expectProblem(response, .unprocessableContent, type: "/errors/validation")
                #expect(fields(response) == ["rag_embedding_dimension"], "the local model is 384 only: \(response.text)")
            }
            // Indexed chunks: another embedding model is a 409, then force removes them.
            try await client.execute(uri: "/rag/index", method: .post, headers: json(account.token("admin")),
                                     body: body(["source_type": "markdown", "source_path": "cfg.md",
                                                 "content": "# Config\n## One\nThe first section.\n\n## Two\nThe second section."])) { response in
                #expect(response.status == .ok, "\(response.text)")
            }
            let change: [String: JSONValue] = ["rag_embedding_provider": "openai", "rag_embedding_model": "text-embedding-3-small"]
            try await client.execute(uri: "/config/ai", method: .patch, headers: json(account.token("admin")), body: body(change)) { response in
                expectNoKey(response)
                expectProblem(response, .conflict, type: "/errors/conflict")
                #expect(response.json?[["code"]]?.stringValue == "CONFLICT")
            }
            var forced = change
            forced["force"] = .bool(true)
            try await client.execute(uri: "/config/ai", method: .patch, headers: json(account.token("admin")), body: body(forced)) { response in
                expectNoKey(response)
                #expect(response.status == .ok, "\(response.text)")
                #expect(response.json?[["chunks_removed"]]?.numberValue == 2, "\(response.text)")
                #expect(response.json?[["rag_embedding_provider"]]?.stringValue == "openai")
            }
            try await client.execute(uri: "/rag/sources", method: .get, headers: .bearer(account.token("admin"))) { response in
                #expect(response.json?[["total_chunks"]]?.numberValue == 0, "\(response.text)")
            }
            // Removing the key: null.
            try await client.execute(uri: "/config/ai", method: .patch, headers: json(account.token("admin")),
                                     body: body(["openai_api_key": .null, "agent_temperature": .null])) { response in
                expectNoKey(response)
                #expect(element(response.json?[["api_keys"]], 0)?[["is_set"]] == .bool(false), "\(response.text)")
                #expect(response.json?[["agent_temperature"]]?.numberValue == 0.2)
            }
        }
    }
}
