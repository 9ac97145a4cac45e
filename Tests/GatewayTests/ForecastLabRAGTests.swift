import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
@testable import GatewayCore

/// ForecastLab's knowledge base over HTTP against the real database (docs/forecastlab-rag.md):
/// index (indexed / unchanged / updated), the project's own docs, retrieve, sources and delete,
/// their 422, 403 and 404 answers, the /api/v1 alias, and two tenants.
@Suite("ForecastLab knowledge base")
struct ForecastLabRAGTests: JSONRequests {
    typealias Account = TestAccount

    let handbook = """
        # Store handbook
        ## Returns
        Customers may bring goods back within thirty days and get their money refunded.

        ## Opening hours
        The store opens at nine in the morning and closes at eight in the evening.
        """

    func index(_ path: String, _ content: String, metadata: [String: JSONValue] = [:]) -> ByteBuffer {
        body(["source_type": "markdown", "source_path": .string(path), "content": .string(content), "metadata": .object(metadata)])
    }

    @Test func indexRetrieveListAndDelete() async throws {
        let account = Account()
        let other = Account()
        let app = try await buildApplication(TestEnvironment.configuration())
        try await app.test(.router) { client in
            var sourceID = ""
            try await client.execute(uri: "/rag/index", method: .post, headers: json(account.token("admin")),
                                     body: index("guides/handbook.md", handbook, metadata: ["team": "stores"])) { response in
                #expect(response.status == .ok, "\(response.text)")
                #expect(response.json?[["status"]]?.stringValue == "indexed")
                #expect(response.json?[["chunks_created"]]?.numberValue == 2)
                #expect((response.json?[["tokens_processed"]]?.numberValue ?? 0) > 20)
                sourceID = response.json?[["source_id"]]?.stringValue ?? ""
            }
            try await client.execute(uri: "/api/v1/rag/index", method: .post, headers: json(account.token("admin")),
                                     body: index("guides/handbook.md", handbook)) { response in
                #expect(response.json?[["status"]]?.stringValue == "unchanged", "the same content: \(response.text)")
                #expect(response.json?[["source_id"]]?.stringValue == sourceID)
            }
            // The nearest section first, scored, with its source; the other tenant finds nothing.
            let question = body(["query": "Can I get a refund if I return something?", "top_k": 2, "similarity_threshold": 0.2])
            try await client.execute(uri: "/rag/retrieve", method: .post, headers: json(account.token("viewer")), body: question) { response in
                #expect(response.status == .ok, "\(response.text)")
                let first = element(response.json?[["results"]], 0)
                #expect(first?[["metadata", "section"]]?.stringValue == "Store handbook > Returns", "\(response.text)")
                #expect(first?[["source_path"]]?.stringValue == "guides/handbook.md")
                #expect(first?[["source_id"]]?.stringValue == sourceID)
                #expect(first?[["metadata", "team"]]?.stringValue == "stores")
                #expect((first?[["relevance_score"]]?.numberValue ?? 0) > 0.5)
                #expect(response.json?[["total_chunks_searched"]]?.numberValue == 2)
                #expect(response.json?[["query_embedding_time_ms"]]?.numberValue != nil)
                #expect(response.json?[["search_time_ms"]]?.numberValue != nil)
            }
            try await client.execute(uri: "/rag/retrieve", method: .post, headers: json(other.token("viewer")), body: question) { response in
                #expect(count(response.json?[["results"]]) == 0, "\(response.text)")
                #expect(response.json?[["total_chunks_searched"]]?.numberValue == 0)
            }
            try await client.execute(uri: "/rag/sources", method: .get, headers: .bearer(account.token("viewer"))) { response in
                #expect(response.json?[["total_sources"]]?.numberValue == 1)
                #expect(response.json?[["total_chunks"]]?.numberValue == 2)
                #expect(element(response.json?[["sources"]], 0)?[["chunk_count"]]?.numberValue == 2)
                #expect(element(response.json?[["sources"]], 0)?[["content_hash"]]?.stringValue?.count == 64)
            }
            try await client.execute(uri: "/rag/sources", method: .get, headers: .bearer(other.token("viewer"))) { response in
                #expect(response.json?[["total_sources"]]?.numberValue == 0)
            }
            // Changed content replaces the chunks.
            try await client.execute(uri: "/rag/index", method: .post, headers: json(account.token("admin")),
                                     body: index("guides/handbook.md", "# Store handbook\n## Returns\nNo returns on sale items.")) { response in
                #expect(response.json?[["status"]]?.stringValue == "updated")
                #expect(response.json?[["chunks_created"]]?.numberValue == 1)
            }
            // The failures: 422s listed, 403 for a viewer, 404 for another account's source, 401 without a token.
            try await client.execute(uri: "/rag/index", method: .post, headers: json(account.token("admin")),
                                     body: body(["source_type": "pdf", "source_path": ""])) { response in
                expectProblem(response, .unprocessableContent, type: "/errors/validation")
                #expect(fields(response) == ["source_type", "source_path"], "\(response.text)")
            }
            try await client.execute(uri: "/rag/index", method: .post, headers: json(account.token("admin")),
                                     body: body(["source_type": "markdown", "source_path": "x.md", "colour": "red"])) { response in
                expectProblem(response, .unprocessableContent, type: "/errors/validation")
                #expect(fields(response) == ["colour"], "an unknown field: \(response.text)")
            }
            try await client.execute(uri: "/rag/index", method: .post, headers: json(account.token("admin")),
                                     body: body(["source_type": "openapi", "source_path": "api.yaml", "content": "openapi: 3.1.0"])) { response in
                expectProblem(response, .unprocessableContent, type: "/errors/validation")
                #expect(fields(response) == ["content"], "\(response.text)")
            }
            try await client.execute(uri: "/rag/retrieve", method: .post, headers: json(account.token("viewer")),
                                     body: body(["query": "", "top_k": 51])) { response in
                expectProblem(response, .unprocessableContent, type: "/errors/validation")
                #expect(fields(response) == ["query", "top_k"], "\(response.text)")
            }
            try await client.execute(uri: "/rag/index", method: .post, headers: json(account.token("viewer")),
                                     body: index("v.md", "# V")) { response in
                #expect(response.status == .forbidden, "\(response.text)")
            }
            try await client.execute(uri: "/rag/sources/\(sourceID)", method: .delete, headers: .bearer(other.token("admin"))) { response in
                expectProblem(response, .notFound, type: "/errors/not-found", "another account's source")
            }
            try await client.execute(uri: "/rag/sources", method: .get) { response in
                #expect(response.status == .unauthorized)
            }
            try await client.execute(uri: "/rag/sources/\(sourceID)", method: .delete, headers: .bearer(account.token("admin"))) { response in
                #expect(response.status == .ok, "\(response.text)")
                #expect(response.json?[["chunks_deleted"]]?.numberValue == 1)
                #expect(response.json?[["status"]]?.stringValue == "deleted")
            }
            try await client.execute(uri: "/rag/sources/\(sourceID)", method: .delete, headers: .bearer(account.token("admin"))) { response in
                expectProblem(response, .notFound, type: "/errors/not-found", "already deleted")
            }
        }
    }

    @Test func projectDocsAreIndexedAndPathPrefixStaysInsideDocs() async throws {
        let account = Account()
        let app = try await buildApplication(TestEnvironment.configuration())
        try await app.test(.router) { client in
            try await client.execute(uri: "/rag/index/project-docs", method: .post, headers: json(account.token("admin")),
                                     body: body(["include_root": .bool(false), "include_prps": .bool(false), "path_prefix": "docs/forecastlab-rag.md"])) { response in
                #expect(response.status == .ok, "\(response.text)")
                #expect(response.json?[["total_files"]]?.numberValue == 1)
                #expect(response.json?[["indexed"]]?.numberValue == 1)
                #expect(element(response.json?[["results"]], 0)?[["source_path"]]?.stringValue == "docs/forecastlab-rag.md")
                #expect((response.json?[["total_chunks"]]?.numberValue ?? 0) > 5)
            }
            try await client.execute(uri: "/rag/index/project-docs", method: .post, headers: json(account.token("admin")),
                                     body: body(["include_root": .bool(false), "include_prps": .bool(false), "path_prefix": "docs/forecastlab-rag.md"])) { response in
                #expect(response.json?[["unchanged"]]?.numberValue == 1, "indexing again changes nothing: \(response.text)")
            }
            // The answer to a question about the docs comes from them.
            try await client.execute(uri: "/rag/retrieve", method: .post, headers: json(account.token("viewer")),
                                     body: body(["query": "How is the relevance score of a search result computed?", "similarity_threshold": .number(0)])) { response in
                #expect(element(response.json?[["results"]], 0)?[["metadata", "section"]]?.stringValue == "ForecastLab knowledge base > Retrieval",
                        "the section that answers it: \(response.text)")
            }
            for prefix in ["../etc", "/etc", "docs/../../etc"] {
                try await client.execute(uri: "/rag/index/project-docs", method: .post, headers: json(account.token("admin")),
                                         body: body(["path_prefix": .string(prefix)])) { response in
                    expectProblem(response, .unprocessableContent, type: "/errors/validation", Comment(rawValue: prefix))
                    #expect(fields(response) == ["path_prefix"])
                }
            }
            try await client.execute(uri: "/rag/index/project-docs", method: .post, headers: json(account.token("viewer")), body: body([:])) { response in
                #expect(response.status == .forbidden)
            }
        }
    }
}
