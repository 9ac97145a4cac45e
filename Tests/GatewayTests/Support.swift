import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
@testable import GatewayCore

enum TestEnvironment {
    struct Missing: Error, CustomStringConvertible {
        var name: String
        var description: String { "\(name) is not set: run the tests through `make test`" }
    }

    static func variable(_ name: String) throws -> String {
        guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else { throw Missing(name: name) }
        return value
    }

    /// The migrated throw-away database, as its owner (for fixtures and inspection).
    static func adminURL() throws -> String { try variable("TEST_DATABASE_URL") }

    /// The same database as `authenticator`, the gateway's login.
    static func gatewayURL() throws -> String { try variable("TEST_GATEWAY_DATABASE_URL") }

    /// A fresh secret per test run: no test depends on a known key.
    static let metricsToken = "metrics-" + UUID().uuidString
    static let secret = (0..<48).map { _ in "abcdefghijklmnopqrstuvwxyz0123456789".randomElement()! }.reduce("") { $0 + String($1) }

    /// Two connections a gateway (and one for its listener): a hundred tests run at once, each with
    /// gateways of their own, within the test server's connection slots.
    static func configuration(databaseURL: String? = nil, poolSize: Int = 2,
                              auth: AuthConfiguration = AuthConfiguration(hmacSecret: secret)) throws -> GatewayConfiguration {
        var configuration = try GatewayConfiguration(hostname: "127.0.0.1", port: 0, databaseURL: databaseURL ?? gatewayURL(),
                                                     auth: auth, poolSize: poolSize, logLevel: .warning)
        configuration.accessLog = .discard
        configuration.databaseDeadline = .seconds(15)  // a busy CI machine is slow, not broken
        // A test's first request needs the routes: with a hundred gateways starting at once the
        // first load can take longer than a lone gateway's 5 s (a test of a down database keeps 5 s).
        if databaseURL == nil { configuration.startupCatalogDeadline = .seconds(30) }
        configuration.maintenanceInterval = nil  // tests refresh the rollups themselves
        configuration.jobWorkers = 0  // the job tests start workers themselves
        configuration.metricsToken = metricsToken
        return configuration
    }

    static func token(role: String = "authenticated", sub: String? = UUID().uuidString.lowercased(), account: String? = nil,
                      appRole: String? = nil, lifetime: TimeInterval = 600) -> String {
        TokenMinter.hs256(claims: TokenMinter.claims(role: role, subject: sub, account: account, appRole: appRole, lifetime: lifetime),
                          secret: secret)
    }

    /// Runs SQL on the test database as its owner, through psql.
    @discardableResult
    static func psql(_ sql: String) async throws -> String {
        let (status, text) = try await run(["psql", try adminURL(), "-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1", "-c", sql])
        guard status == 0 else { throw Missing(name: "psql failed: \(sql)") }
        return text.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Runs a program to its end on a thread of its own, with standard output and error together.
    /// Waiting for it on Swift's cooperative pool would hold one of its few threads (two on a
    /// two-core machine) and stall every test running beside it.
    static func run(_ arguments: [String]) async throws -> (status: Int32, output: String) {
        try await withCheckedThrowingContinuation { continuation in
            Thread {
                continuation.resume(with: Result {
                    let process = Process()
                    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
                    process.arguments = arguments
                    let output = Pipe()
                    process.standardOutput = output
                    process.standardError = output
                    try process.run()
                    let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
                    process.waitUntilExit()
                    return (process.terminationStatus, text)
                })
            }.start()
        }
    }
}

/// An account of a test's own, and tokens for its members.
struct TestAccount {
    let id = UUID().uuidString.lowercased()
    func token(_ appRole: String) -> String { TestEnvironment.token(account: id, appRole: appRole) }
}

extension HTTPFields {
    static func bearer(_ token: String) -> HTTPFields { [.authorization: "Bearer \(token)"] }
    /// What a scraper from another host sends for /metrics.
    static var metrics: HTTPFields { bearer(TestEnvironment.metricsToken) }
}

extension TestResponse {
    var text: String { String(buffer: body) }

    var json: JSONValue? { try? JSONValue.parse(Data(buffer: body)) }

    /// The problem+json body's `code`, when this is an error response.
    var problemCode: String? {
        guard headers[.contentType] == "application/problem+json" else { return nil }
        return json?[["code"]]?.stringValue
    }
}

/// Helpers for suites that send JSON bodies and read JSON arrays.
protocol JSONRequests {}

extension JSONRequests {
    /// Content-Type JSON, and the bearer token when there is one.
    func json(_ token: String? = nil) -> HTTPFields {
        var headers: HTTPFields = [.contentType: "application/json"]
        if let token { headers[.authorization] = "Bearer \(token)" }
        return headers
    }

    func body(_ fields: [String: JSONValue]) -> ByteBuffer { ByteBuffer(string: JSONValue.object(fields).text) }

    /// The number of elements when the value is an array.
    func count(_ value: JSONValue?) -> Int? {
        if case .array(let items)? = value { items.count } else { nil }
    }
}

/// The item at `index` of a JSON array, or nil.
func element(_ value: JSONValue?, _ index: Int) -> JSONValue? {
    guard case .array(let items)? = value, items.indices.contains(index) else { return nil }
    return items[index]
}

/// A problem+json answer of this status and `type`.
func expectProblem(_ response: TestResponse, _ status: HTTPResponse.Status, type: String, _ comment: Comment? = nil,
                   sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(response.status == status, "\(comment?.description ?? ""): \(response.text)", sourceLocation: sourceLocation)
    #expect(response.headers[.contentType] == "application/problem+json", sourceLocation: sourceLocation)
    #expect(response.json?[["type"]]?.stringValue == type, "\(response.text)", sourceLocation: sourceLocation)
}

/// The `field`s of a fastapi-style 422's `errors`.
func fields(_ response: TestResponse) -> [String] {
    guard case .array(let errors)? = response.json?[["errors"]] else { return [] }
    return errors.compactMap { $0[["field"]]?.stringValue }
}
