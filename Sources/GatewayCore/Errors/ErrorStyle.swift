import Hummingbird

/// How a unit's errors look to its clients (`gateway.units.error_style`). Both are RFC 9457
/// problem+json; they differ where clients written against another service read fields.
public enum ErrorStyle: String, Decodable, Sendable {
    /// 400 `VALIDATION_ERROR` with `details.errors: [{parameter, message}]`; types `/problems/<code>`;
    /// also `error` and `message`.
    case problem
    /// What clients of a FastAPI + Pydantic service read: validation is 422 with a top-level
    /// `errors: [{field, message, type}]`, types `/errors/<name>`, titles from the code, `instance`
    /// `/requests/<request id>`, nulls omitted.
    case fastapi
}

extension Problem {
    /// Validation is 422 in the FastAPI style, 400 in the other.
    func status(in style: ErrorStyle) -> HTTPResponse.Status {
        style == .fastapi && code == "VALIDATION_ERROR" ? .unprocessableContent : status
    }

    /// The FastAPI service's codes for ours, where they differ.
    private var fastAPICode: String {
        switch code {
        case "AUTH_REQUIRED": "UNAUTHORIZED"
        case "RATE_LIMIT_EXCEEDED": "RATE_LIMITED"
        case "TIMEOUT": "GATEWAY_TIMEOUT"
        default: code
        }
    }

    private static let fastAPITypes = [
        "NOT_FOUND": "not-found", "VALIDATION_ERROR": "validation", "UNPROCESSABLE_ENTITY": "unprocessable-entity",
        "DATABASE_ERROR": "database", "CONFLICT": "conflict", "UNAUTHORIZED": "unauthorized", "FORBIDDEN": "forbidden",
        "RATE_LIMITED": "rate-limited", "INTERNAL_ERROR": "internal", "BAD_REQUEST": "bad-request",
        "SERVICE_UNAVAILABLE": "service-unavailable", "GATEWAY_TIMEOUT": "gateway-timeout",
        "EMBEDDING_AUTH": "embedding-auth", "AGENT_FALLBACK_EXHAUSTED": "agent-fallback-exhausted",
    ]

    /// The validation issues as `{field, message, type}`, from the gateway's own checks or a
    /// function's `details.errors` (`parameter` or `field`; `type` defaults to `value_error`).
    var validationIssues: [JSONValue] {
        guard case .object(let fields)? = details, case .array(let issues)? = fields["errors"] else {
            return [.object(["field": .string(""), "message": .string(message), "type": .string("value_error")])]
        }
        return issues.map { issue in
            guard case .object(let item) = issue else { return issue }
            return .object([
                "field": item["field"] ?? item["parameter"] ?? .string(""),
                "message": item["message"] ?? .string(message),
                "type": item["type"] ?? .string("value_error"),
            ])
        }
    }

    func fastAPIBody() -> [String: JSONValue] {
        let code = fastAPICode
        var body: [String: JSONValue] = [
            "type": .string("/errors/" + (Self.fastAPITypes[code] ?? code.lowercased())),
            "status": .number(Double(status(in: .fastapi).code)),
            "code": .string(code),
        ]
        if code == "VALIDATION_ERROR" {
            let issues = validationIssues
            body["title"] = .string("Validation Error")
            body["errors"] = .array(issues)
            body["detail"] = .string("Request validation failed with \(issues.count) error(s). Check the 'errors' field for details.")
        } else {
            body["title"] = .string(code.split(separator: "_").map { $0.prefix(1) + $0.dropFirst().lowercased() }.joined(separator: " "))
            body["detail"] = .string(message)
        }
        if let requestID {
            body["request_id"] = .string(requestID)
            body["instance"] = .string("/requests/" + requestID)
        }
        // Extension members never overwrite the reserved ones.
        for (key, value) in extensions where body[key] == nil { body[key] = value }
        return body
    }
}
