import Foundation
import Hummingbird
import HummingbirdTesting
import Testing
@testable import GatewayCore

/// A unit declares how its errors look (`gateway.units.error_style`); the gateway renders them so.
@Suite("Error styles")
struct ErrorStyleTests {
    @Test func aFastAPIUnitAnswersValidationWith422AndTopLevelErrors() async throws {
        let app = try await buildApplication(TestEnvironment.configuration())
        try await app.test(.router) { client in
            try await client.execute(uri: "/fastapi/typed?n=seven&flag=maybe", method: .get, headers: .bearer(TestEnvironment.token())) { response in
                #expect(response.status == .unprocessableContent)
                #expect(response.headers[.contentType] == "application/problem+json")
                let body = try #require(response.json)
                #expect(body[["type"]] == "/errors/validation")
                #expect(body[["title"]] == "Validation Error")
                #expect(body[["code"]] == "VALIDATION_ERROR")
                #expect(body[["detail"]] == "Request validation failed with 2 error(s). Check the 'errors' field for details.")
                #expect(body[["errors"]] == .array([
                    .object(["field": "n", "message": "expected an integer", "type": "value_error"]),
                    .object(["field": "flag", "message": "expected true or false", "type": "value_error"]),
                ]))
                let requestID = try #require(response.headers[.requestID])
                #expect(body[["instance"]] == .string("/requests/" + requestID))
                #expect(body[["details"]] == nil && body[["message"]] == nil, "nothing of the other style")
            }
        }
    }

    @Test func aFastAPIUnitNamesOtherErrorsByItsCodes() async throws {
        let app = try await buildApplication(TestEnvironment.configuration())
        try await app.test(.router) { client in
            try await client.execute(uri: "/fastapi/items/404", method: .get, headers: .bearer(TestEnvironment.token())) { response in
                #expect(response.status == .notFound)
                #expect(response.json?[["type"]] == "/errors/not-found")
                #expect(response.json?[["title"]] == "Not Found")
                #expect(response.json?[["detail"]] == "no item 404")
                #expect(response.json?[["errors"]] == nil, "errors only on a 422")
            }
            try await client.execute(uri: "/fastapi/items/1", method: .get) { response in
                #expect(response.status == .unauthorized)
                #expect(response.json?[["code"]] == "UNAUTHORIZED")
                #expect(response.json?[["type"]] == "/errors/unauthorized")
            }
        }
    }

    @Test func theSameErrorsStayAsTheyWereForAProblemUnit() async throws {
        let app = try await buildApplication(TestEnvironment.configuration())
        try await app.test(.router) { client in
            try await client.execute(uri: "/api/v1/test/typed?n=seven", method: .get, headers: .bearer(TestEnvironment.token())) { response in
                #expect(response.status == .badRequest)
                #expect(response.json?[["type"]] == "/problems/validation-error")
                #expect(response.json?[["details"]] == .object(["errors": .array([.object(["parameter": "n", "message": "expected an integer"])])]))
            }
        }
    }
}
