import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
@testable import GatewayCore

/// Remote embedding providers through the gateway's outbound fetch (docs/gateway.md, Outbound
/// requests; docs/forecastlab-rag.md, Providers), against a fake provider on loopback that speaks
/// the real wire formats: OpenAI's embeddings API, Ollama's /api/embed and /api/tags.
@Suite("ForecastLab AI providers", .serialized)
struct ForecastLabAIProvidersTests: JSONRequests {
    typealias Account = TestAccount

    static let goodKey = "sk-fake-" + UUID().uuidString.replacingOccurrences(of: "-", with: "")

    /// A vector per text: its words hashed into 384 dimensions (a bag of words), so texts that
    /// share words are near. `dimension` other than 384 for the wrong-dimension model.
    static func embedding(_ text: String, dimension: Int = 384) -> JSONValue {
        var vector = [Double](repeating: 0.001, count: dimension)
        for word in text.lowercased().split(whereSeparator: { !$0.isLetter }) {
            var hash: UInt32 = 2166136261
            for byte in word.utf8 { hash = (hash ^ UInt32(byte)) &* 16777619 }
            vector[Int(hash % UInt32(dimension))] += 1
        }
        return .array(vector.map { .number($0) })
    }

    static func json(_ value: JSONValue, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: value.text)))
    }

    static func inputs(_ body: JSONValue?) -> [String] {
        switch body?[["input"]] {
        case .array(let items)?: items.compactMap { $0.stringValue }
        case .string(let text)?: [text]
        default: []
        }
    }

    /// The fake provider.
    static func fakeProvider() -> some ApplicationProtocol {
        let router = Router()
        router.post("/v1/embeddings") { request, _ -> Response in
            guard request.headers[.authorization] == "Bearer \(goodKey)" else {
                return json(.object(["error": .object(["message": "Incorrect API key provided", "type": "invalid_request_error", "code": "invalid_api_key"])]),
                            status: .unauthorized)
            }
            let body = try? JSONValue.parse(Data(buffer: try await request.body.collect(upTo: 1 << 20)))
            let data = inputs(body).enumerated().map { index, text in
                JSONValue.object(["object": "embedding", "index": .number(Double(index)), "embedding": embedding(text)])
            }
            return json(.object(["object": "list", "data": .array(data), "model": body?[["model"]] ?? .null,
                                 "usage": .object(["prompt_tokens": 5, "total_tokens": 5])]))
        }
        router.post("/api/embed") { request, _ -> Response in
            let body = try? JSONValue.parse(Data(buffer: try await request.body.collect(upTo: 1 << 20)))
            let model = body?[["model"]]?.stringValue ?? ""
            if model == "needs-auth" { return json(.object(["error": "unauthorized"]), status: .unauthorized) }
            if model == "broken" { return json(.object(["error": "model crashed"]), status: .internalServerError) }
            let dimension = model == "wide" ? 768 : 384
            return json(.object(["model": .string(model), "embeddings": .array(inputs(body).map { embedding($0, dimension: dimension) })]))
        }
        router.get("/api/tags") { _, _ -> Response in
            json(.object(["models": .array([.object(["name": "all-minilm:latest", "model": "all-minilm:latest", "size": 45960996,
                                                     "details": .object(["family": "bert", "parameter_size": "23M"])])])]))
        }
        // An Ollama that never answers in time.
        router.get("/slow/api/tags") { _, _ -> Response in
            try await Task.sleep(for: .seconds(8))
            return json(.object(["models": .array([])]))
        }
        return Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
    }

    func patch(_ client: some TestClientProtocol, _ account: Account, _ fields: [String: JSONValue]) async throws {
        try await client.execute(uri: "/config/ai", method: .patch, headers: json(account.token("admin")), body: body(fields)) { response in
            #expect(response.status == .ok, "\(response.text)")
        }
    }

    func document(_ path: String) -> ByteBuffer {
        body(["source_type": "markdown", "source_path": .string(path),
              "content": "# Shop\n## Returns\nA refund is paid when goods come back.\n\n## Hours\nThe shop opens at nine."])
    }

    @Test func ollamaIndexesSearchesAndFailsCleanly() async throws {
        let account = Account()
        try await Self.fakeProvider().test(.live) { fake in
            let base = "http://127.0.0.1:\(fake.port ?? 0)"
            let app = try await buildApplication(TestEnvironment.configuration())
            try await app.test(.router) { client in
                try await patch(client, account, ["rag_embedding_provider": "ollama", "ollama_base_url": .string(base)])
                try await client.execute(uri: "/rag/index", method: .post, headers: json(account.token("admin")), body: document("shop.md")) { response in
                    #expect(response.status == .ok, "\(response.text)")
                    #expect(response.json?[["chunks_created"]]?.numberValue == 2)
                }
                try await client.execute(uri: "/rag/retrieve", method: .post, headers: json(account.token("viewer")),
                                         body: body(["query": "When is a refund paid?", "top_k": 1, "similarity_threshold": 0])) { response in
                    #expect(response.status == .ok, "\(response.text)")
                    #expect(element(response.json?[["results"]], 0)?[["metadata", "section"]]?.stringValue == "Shop > Returns", "\(response.text)")
                }
                try await client.execute(uri: "/config/ollama/models", method: .get, headers: .bearer(account.token("admin"))) { response in
                    #expect(response.status == .ok, "\(response.text)")
                    #expect(element(response.json, 0) == .object(["name": "all-minilm:latest", "size_bytes": 45960996, "family": "bert"]), "\(response.text)")
                }
                try await client.execute(uri: "/config/providers/health", method: .get, headers: .bearer(account.token("admin"))) { response in
                    #expect(element(response.json, 0)?[["reachable"]] == .bool(true), "\(response.text)")
                    #expect(element(response.json, 0)?[["models"]] == .array(["all-minilm:latest"]))
                }
                // A client may not hand the function what was "fetched".
                try await client.execute(uri: "/rag/retrieve", method: .post, headers: json(account.token("viewer")),
                                         body: body(["query": "refund", "fetched": .array([.object(["status": 200, "body": .object(["embeddings": .array([])])])])])) { response in
                    expectProblem(response, .unprocessableContent, type: "/errors/validation")
                    #expect(fields(response) == ["fetched"], "\(response.text)")
                }
                // Another dimension than the column's: 502 naming it.
                try await patch(client, account, ["ollama_embedding_model": "wide", "force": .bool(true)])
                try await client.execute(uri: "/rag/index", method: .post, headers: json(account.token("admin")), body: document("wide.md")) { response in
                    #expect(response.status == .badGateway, "\(response.text)")
                    #expect(response.json?[["detail"]]?.stringValue?.contains("768-dimensional") == true, "\(response.text)")
                }
                try await patch(client, account, ["ollama_embedding_model": "broken"])
                try await client.execute(uri: "/rag/retrieve", method: .post, headers: json(account.token("viewer")), body: body(["query": "refund"])) { response in
                    #expect(response.status == .badGateway, "\(response.text)")
                    #expect(response.json?[["detail"]]?.stringValue?.contains("HTTP 500") == true, "\(response.text)")
                }
                // Refused credentials: EMBEDDING_AUTH.
                try await patch(client, account, ["ollama_embedding_model": "needs-auth"])
                try await client.execute(uri: "/rag/retrieve", method: .post, headers: json(account.token("viewer")), body: body(["query": "refund"])) { response in
                    expectProblem(response, .badGateway, type: "/errors/embedding-auth")
                    #expect(response.json?[["code"]]?.stringValue == "EMBEDDING_AUTH")
                }
                // Nothing listening: a 502 at once, not a hang.
                try await patch(client, account, ["ollama_base_url": "http://127.0.0.1:1", "ollama_embedding_model": "all-minilm"])
                let started = ContinuousClock.now
                try await client.execute(uri: "/rag/retrieve", method: .post, headers: json(account.token("viewer")), body: body(["query": "refund"])) { response in
                    #expect(response.status == .badGateway, "\(response.text)")
                    #expect(response.json?[["detail"]]?.stringValue?.contains("could not be reached") == true, "\(response.text)")
                }
                #expect(ContinuousClock.now - started < .seconds(10))
                try await client.execute(uri: "/config/ollama/models", method: .get, headers: .bearer(account.token("admin"))) { response in
                    #expect(response.status == .badGateway, "\(response.text)")
                }
                // One that does not answer: a 502 when the request's timeout (5 s for the tags) runs out.
                try await patch(client, account, ["ollama_base_url": .string(base + "/slow")])
                let asked = ContinuousClock.now
                try await client.execute(uri: "/config/ollama/models", method: .get, headers: .bearer(account.token("admin"))) { response in
                    #expect(response.status == .badGateway, "\(response.text)")
                    #expect(response.json?[["detail"]]?.stringValue?.contains("no answer within the timeout") == true, "\(response.text)")
                }
                #expect(ContinuousClock.now - asked < .seconds(7.5))
                // A host off the allow-list is never asked (SSRF).
                try await patch(client, account, ["ollama_base_url": "http://169.254.169.254"])
                try await client.execute(uri: "/rag/retrieve", method: .post, headers: json(account.token("viewer")), body: body(["query": "refund"])) { response in
                    #expect(response.status == .badGateway, "\(response.text)")
                    #expect(response.json?[["detail"]]?.stringValue?.contains("OUTBOUND_ALLOWED_HOSTS") == true, "\(response.text)")
                }
                try await client.execute(uri: "/config/providers/health", method: .get, headers: .bearer(account.token("admin"))) { response in
                    #expect(element(response.json, 0)?[["reachable"]] == .bool(false), "\(response.text)")
                }
            }
        }
    }

    @Test func openAIGetsTheKeyOnlyFromTheGateway() async throws {
        let account = Account()
        try await Self.fakeProvider().test(.live) { fake in
            let base = "http://127.0.0.1:\(fake.port ?? 0)"
            // Where "OpenAI" is, for the gateway's sessions (a server setting; put back afterwards).
            try await TestEnvironment.psql("do $$ begin execute format('alter database %I set forecastlab.openai_base_url = %L', current_database(), '\(base)'); end $$")
            var failure: (any Error)?
            do {
            let app = try await buildApplication(TestEnvironment.configuration())
            try await app.test(.router) { client in
                try await patch(client, account, ["rag_embedding_provider": "openai", "rag_embedding_model": "text-embedding-3-small",
                                                  "openai_api_key": "sk-wrong-key-0123456789"])
                try await client.execute(uri: "/rag/index", method: .post, headers: json(account.token("admin")), body: document("shop.md")) { response in
                    expectProblem(response, .badGateway, type: "/errors/embedding-auth")
                    #expect(!response.text.contains("0123456789"))
                }
                try await patch(client, account, ["openai_api_key": .string(Self.goodKey)])
                try await client.execute(uri: "/rag/index", method: .post, headers: json(account.token("admin")), body: document("shop.md")) { response in
                    #expect(response.status == .ok, "\(response.text)")
                    #expect(response.json?[["chunks_created"]]?.numberValue == 2)
                    #expect(!response.text.contains(String(Self.goodKey.dropFirst(4).dropLast(4))))
                }
                try await client.execute(uri: "/rag/retrieve", method: .post, headers: json(account.token("viewer")),
                                         body: body(["query": "refund paid", "top_k": 1, "similarity_threshold": 0])) { response in
                    #expect(element(response.json?[["results"]], 0)?[["metadata", "section"]]?.stringValue == "Shop > Returns", "\(response.text)")
                }
                try await client.execute(uri: "/config/ai", method: .get, headers: .bearer(account.token("admin"))) { response in
                    #expect(!response.text.contains(String(Self.goodKey.dropFirst(4).dropLast(4))), "\(response.text)")
                }
            }
            } catch { failure = error }
            try await TestEnvironment.psql("do $$ begin execute format('alter database %I reset forecastlab.openai_base_url', current_database()); end $$")
            if let failure { throw failure }
        }
    }
}
