/// Finds the route for a method and path. `{name}` segments capture path parameters; a literal
/// segment beats a parameter (`/trees/categories` before `/trees/{id}`). A route answers on its
/// path and on each alias the catalog gives it (its unit's `gateway.path_aliases`).
public struct RouteTable: Sendable {
    public enum Match {
        case route(RouteDefinition, parameters: [String: String])
        /// The path exists with other methods: 405 (or OPTIONS' answer) with an Allow header.
        case wrongMethod(allowed: [String])
        /// A unit's docs page (`gateway.units.docs_path`).
        case docsPage
        case none
    }

    struct Template: Sendable {
        enum Segment: Sendable, Equatable {
            case literal(Substring)
            case parameter(String)
        }
        var segments: [Segment]
        var route: RouteDefinition

        init(path: String, route: RouteDefinition) {
            segments = path.split(separator: "/").map { $0.hasPrefix("{") ? .parameter(String($0.dropFirst().dropLast())) : .literal($0) }
            self.route = route
        }

        /// More literal segments first.
        var literalCount: Int { segments.filter { if case .literal = $0 { true } else { false } }.count }

        /// Compares the literal segments only: nothing is allocated for the templates that miss.
        func accepts(_ path: [Substring]) -> Bool {
            for (expected, actual) in zip(segments, path) {
                if case .literal(let literal) = expected, literal != actual { return false }
            }
            return true
        }

        /// The path parameters, percent-decoded; nil when one does not decode.
        func parameters(of path: [Substring]) -> [String: String]? {
            var parameters: [String: String] = [:]
            for (expected, actual) in zip(segments, path) {
                guard case .parameter(let name) = expected else { continue }
                guard let value = String(actual).removingPercentEncoding else { return nil }
                parameters[name] = value
            }
            return parameters
        }
    }

    public let routes: [RouteDefinition]
    /// By number of segments, each list with more literal segments first.
    private let templates: [Int: [Template]]
    private let docsPaths: Set<String>

    public init(routes: [RouteDefinition]) {
        self.routes = routes
        docsPaths = Set(routes.compactMap(\.docsPath))
        var templates: [Template] = []
        for route in routes {
            for path in [route.path] + route.aliases { templates.append(Template(path: path, route: route)) }
        }
        self.templates = Dictionary(grouping: templates.sorted { $0.literalCount > $1.literalCount }, by: \.segments.count)
    }

    /// HEAD is served by the GET route (RFC 9110); the methods a path allows include HEAD with
    /// GET, and OPTIONS.
    public func match(method: String, path: String) -> Match {
        let segments = path.split(separator: "/")
        let wanted = method == "HEAD" ? "GET" : method
        var allowed: Set<String> = []
        for template in templates[segments.count] ?? [] where template.accepts(segments) {
            guard let parameters = template.parameters(of: segments) else { continue }
            if template.route.method == wanted { return .route(template.route, parameters: parameters) }
            allowed.insert(template.route.method)
        }
        if allowed.isEmpty { return (wanted == "GET" && docsPaths.contains(path)) ? .docsPage : .none }
        if allowed.contains("GET") { allowed.insert("HEAD") }
        allowed.insert("OPTIONS")
        return .wrongMethod(allowed: allowed.sorted())
    }
}
