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

    /// The reserved argument through which the gateway hands a function what it fetched for it
    /// (docs/gateway.md, Outbound requests): never a client's to give.
    static let fetchedName = "fetched"

    /// `fetched`: what the gateway fetched for the previous call, bound to the reserved argument.
    static func bind(route: RouteDefinition, path: [String: String], query: [(String, String)], body: [String: JSONValue],
                     fetched: JSONValue? = nil) throws -> Bound {
        let byName = Dictionary(uniqueKeysWithValues: route.args.filter { $0.name != fetchedName }.map { ($0.name, $0) })
        var problems: [JSONValue] = []
        // A name repeated in the query is an array (`tags=a&tags=b`); a name given in two places
        // (path, query, body) is refused: which one would win is a guess a client must not rely on
        // (`?include_pii=true` with a body saying false).
        var repeated: [String: [JSONValue]] = [:]
        for (name, value) in query { repeated[name, default: []].append(.string(value)) }
        var provided: [String: JSONValue] = [:]
        var twice: Set<String> = []
        let sources: [[String: JSONValue]] = [body, repeated.mapValues { $0.count == 1 ? $0[0] : .array($0) }, path.mapValues { .string($0) }]
        for source in sources {
            for (name, value) in source {
                if provided.updateValue(value, forKey: name) != nil { twice.insert(name) }
            }
        }
        for name in twice.sorted() { problems.append(issue(name, givenTwice)) }
        for name in provided.keys.sorted() where byName[name] == nil {
            problems.append(issue(name, "unknown parameter"))
        }
        var values: [String: JSONValue] = [:]
        var calls: [String] = []
        for argument in route.args {
            if argument.name == fetchedName {
                if let fetched, argument.type == "jsonb" {
                    values[argument.name] = fetched
                    calls.append("\(argument.sqlName) => \(expression(for: argument))")
                }
                continue
            }
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
        guard problems.isEmpty else { throw invalid(problems) }
        let call = "\(route.functionSQL)(\(calls.joined(separator: ", ")))"
        let sql = route.returnsSet
            ? "select coalesce(jsonb_agg(r), '[]'::jsonb)::text from \(call) as r"
            : "select (\(call))::text"
        return Bound(call: call, sql: sql, arguments: .object(values))
    }

    static let givenTwice = "given more than once (in the path, the query and the body together)"

    static func issue(_ name: String, _ message: String) -> JSONValue {
        .object(["parameter": .string(name), "message": .string(message)])
    }

    /// The 400 (422 in the fastapi style) listing every problem with the parameters.
    static func invalid(_ issues: [JSONValue]) -> Problem {
        Problem.validation("Invalid parameters", details: .object(["errors": .array(issues)]))
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
        if type == "jsonb" || type == "json" { return value.containsNUL ? .failure("text must not contain NUL characters") : .success(value) }
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
        if value.containsNUL { return .failure("text must not contain NUL characters") }
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
            guard DateParsing.isDate(Substring(text)) else { return "expected a date (YYYY-MM-DD)" }
        case "timestamp with time zone", "timestamp without time zone":
            guard DateParsing.isTimestamp(Substring(text)) else { return "expected an ISO 8601 timestamp" }
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

/// Calendar dates and RFC 3339 timestamps, checked by hand: a formatter per call cost more than
/// the rest of binding (perf), and PostgreSQL parses the value again anyway.
enum DateParsing {
    /// `YYYY-MM-DD` naming a real day (year 0001–9999).
    static func isDate(_ text: Substring) -> Bool {
        let digits = Array(text.utf8)
        guard digits.count == 10, digits[4] == UInt8(ascii: "-"), digits[7] == UInt8(ascii: "-"),
              let year = number(digits[0..<4]), let month = number(digits[5..<7]), let day = number(digits[8..<10]),
              year >= 1, (1...12).contains(month), day >= 1
        else { return false }
        let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
        let days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]
        return day <= days
    }

    /// A date, or `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)` (a space in place of the T too).
    static func isTimestamp(_ text: Substring) -> Bool {
        if isDate(text) { return true }
        let bytes = Array(text.utf8)
        guard bytes.count >= 20, isDate(text.prefix(10)), bytes[10] == UInt8(ascii: "T") || bytes[10] == UInt8(ascii: "t") || bytes[10] == UInt8(ascii: " "),
              bytes[13] == UInt8(ascii: ":"), bytes[16] == UInt8(ascii: ":"),
              let hour = number(bytes[11..<13]), let minute = number(bytes[14..<16]), let second = number(bytes[17..<19]),
              hour < 24, minute < 60, second < 61
        else { return false }
        var index = 19
        if bytes[index] == UInt8(ascii: ".") {
            index += 1
            let start = index
            while index < bytes.count, (48...57).contains(bytes[index]) { index += 1 }
            guard index > start else { return false }
        }
        guard index < bytes.count else { return false }
        if bytes[index] == UInt8(ascii: "Z") || bytes[index] == UInt8(ascii: "z") { return index + 1 == bytes.count }
        guard bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-"), bytes.count - index == 6, bytes[index + 3] == UInt8(ascii: ":"),
              let offsetHours = number(bytes[(index + 1)..<(index + 3)]), let offsetMinutes = number(bytes[(index + 4)..<(index + 6)])
        else { return false }
        return offsetHours < 24 && offsetMinutes < 60
    }

    private static func number(_ digits: ArraySlice<UInt8>) -> Int? {
        var value = 0
        for digit in digits {
            guard (48...57).contains(digit) else { return nil }
            value = value * 10 + Int(digit - 48)
        }
        return value
    }
}

extension JSONValue {
    /// PostgreSQL's text and jsonb cannot hold U+0000.
    var containsNUL: Bool {
        switch self {
        case .string(let text): text.utf8.contains(0)
        case .array(let items): items.contains { $0.containsNUL }
        case .object(let fields): fields.contains { $0.key.utf8.contains(0) || $0.value.containsNUL }
        default: false
        }
    }
}
