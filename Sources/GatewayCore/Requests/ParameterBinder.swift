import Foundation

/// Maps query, path and body parameters by name onto the function's arguments, checks each value
/// against the argument's SQL type (a bad one is a 400 before the database is asked), and builds
/// the call in named notation from identifiers the catalog quoted, never from request text.
struct ParameterBinder {
    struct Bound {
        /// `api.f(a => ($1->>'a')::integer)`
        var call: String
        /// `select (api.f(a => ($1->>'a')::integer))::text`
        var sql: String
        /// The values, keyed by argument name; `$1` of the call.
        var arguments: JSONValue
    }

    static func bind(route: RouteDefinition, path: [String: String], query: [(String, String)], body: [String: JSONValue]) throws -> Bound {
        // Path beats query beats body when a name appears twice.
        var provided: [String: JSONValue] = body
        var repeated: [String: [JSONValue]] = [:]
        for (name, value) in query { repeated[name, default: []].append(.string(value)) }
        for (name, values) in repeated {
            provided[name] = values.count == 1 ? values[0] : .array(values)
        }
        for (name, value) in path { provided[name] = .string(value) }

        let byName = Dictionary(uniqueKeysWithValues: route.args.map { ($0.name, $0) })
        var problems: [JSONValue] = []
        for name in provided.keys.sorted() where byName[name] == nil {
            problems.append(issue(name, "unknown parameter"))
        }
        var values: [String: JSONValue] = [:]
        var calls: [String] = []
        for argument in route.args {
            guard let value = provided[argument.name] else {
                if !argument.hasDefault { problems.append(issue(argument.name, "required")) }
                continue
            }
            switch check(value, as: argument.type) {
            case .success(let normalized):
                values[argument.name] = normalized
                calls.append("\(argument.sqlName) => \(expression(for: argument))")
            case .failure(let message):
                problems.append(issue(argument.name, message))
            }
        }
        guard problems.isEmpty else {
            throw Problem.validation("Invalid parameters", details: .object(["errors": .array(problems)]))
        }
        let call = "\(route.functionSQL)(\(calls.joined(separator: ", ")))"
        let sql = route.returnsSet
            ? "select coalesce(jsonb_agg(r), '[]'::jsonb)::text from \(call) as r"
            : "select (\(call))::text"
        return Bound(call: call, sql: sql, arguments: .object(values))
    }

    private static func issue(_ name: String, _ message: String) -> JSONValue {
        .object(["parameter": .string(name), "message": .string(message)])
    }

    /// How `$1` yields the argument: text for scalars, JSON for json, an array for arrays.
    private static func expression(for argument: RouteDefinition.Argument) -> String {
        let key = "'" + argument.name.replacingOccurrences(of: "'", with: "''") + "'"
        if argument.type == "jsonb" || argument.type == "json" { return "($1->\(key))::\(argument.type)" }
        if argument.type.hasSuffix("[]") { return "array(select jsonb_array_elements_text($1->\(key)))::\(argument.type)" }
        return "($1->>\(key))::\(argument.type)"
    }

    enum Checked { case success(JSONValue), failure(String) }

    static func check(_ value: JSONValue, as type: String) -> Checked {
        if type == "jsonb" || type == "json" { return .success(value) }
        if type.hasSuffix("[]") {
            let elementType = String(type.dropLast(2))
            let elements: [JSONValue] = if case .array(let items) = value { items } else { [value] }
            var normalized: [JSONValue] = []
            for element in elements {
                switch check(element, as: elementType) {
                case .success(let item): normalized.append(item)
                case .failure(let message): return .failure(message)
                }
            }
            return .success(.array(normalized))
        }
        let text: String
        switch value {
        case .string(let string): text = string
        case .number(let number): text = number.rounded() == number && abs(number) < 1e15 ? String(Int64(number)) : String(number)
        case .bool(let flag): text = flag ? "true" : "false"
        case .null: return .success(.null)
        case .array, .object: return .failure("expected \(type), got a JSON \(value.kind)")
        }
        return validate(text, as: type).map { .failure($0) } ?? .success(.string(text))
    }

    /// nil when `text` is a valid literal of `type`; otherwise what was expected.
    private static func validate(_ text: String, as type: String) -> String? {
        switch type {
        case "integer", "smallint", "bigint":
            guard let number = Int64(text) else { return "expected an integer" }
            if type == "integer" && Int32(exactly: number) == nil { return "integer out of range" }
            if type == "smallint" && Int16(exactly: number) == nil { return "integer out of range" }
        case "numeric", "double precision", "real":
            guard Double(text)?.isFinite == true else { return "expected a number" }
        case "boolean":
            guard ["true", "false"].contains(text) else { return "expected true or false" }
        case "uuid":
            guard UUID(uuidString: text) != nil else { return "expected a UUID" }
        case "date":
            guard DateParsing.date(text) != nil else { return "expected a date (YYYY-MM-DD)" }
        case "timestamp with time zone", "timestamp without time zone":
            guard DateParsing.timestamp(text) != nil else { return "expected an ISO 8601 timestamp" }
        default:
            // text and other types: PostgreSQL judges the literal (22P02 becomes a 400 too).
            break
        }
        return nil
    }
}

extension JSONValue {
    var kind: String {
        switch self {
        case .null: "null"
        case .bool: "boolean"
        case .number: "number"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
    }
}

enum DateParsing {
    static func date(_ text: String) -> Date? {
        guard text.count == 10 else { return nil }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd"
        guard let date = formatter.date(from: text), formatter.string(from: date) == text else { return nil }
        return date
    }

    static func timestamp(_ text: String) -> Date? {
        let plain = ISO8601DateFormatter()
        let fractional = ISO8601DateFormatter()
        fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return plain.date(from: text) ?? fractional.date(from: text) ?? date(text)
    }
}
