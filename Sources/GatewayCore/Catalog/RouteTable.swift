/// Finds the route for a method and path. `{name}` segments capture path parameters; a literal
/// segment beats a parameter (`/trees/categories` before `/trees/{id}`). `/api/v1/x` and `/api/x`
/// are the same route; a route outside `/api` (ForecastLab's `/dimensions/…`) is also `/api/v1/…`.
public struct RouteTable: Sendable {
    public enum Match {
        case route(RouteDefinition, parameters: [String: String])
        /// The path exists with other methods: 405 with an Allow header.
        case wrongMethod(allowed: [String])
        case none
    }

    struct Template: Sendable {
        var segments: [Substring]
        var route: RouteDefinition
        /// More literal segments first.
        var literalCount: Int { segments.filter { !$0.hasPrefix("{") }.count }
    }

    public let routes: [RouteDefinition]
    private let templates: [Template]

    public init(routes: [RouteDefinition]) {
        self.routes = routes
        var templates: [Template] = []
        for route in routes {
            for path in RouteTable.aliases(of: route.path) {
                templates.append(Template(segments: path.split(separator: "/"), route: route))
            }
        }
        self.templates = templates.sorted { $0.literalCount > $1.literalCount }
    }

    static func aliases(of path: String) -> [String] {
        if path.hasPrefix("/api/v1/") { return [path, "/api/" + path.dropFirst("/api/v1/".count)] }
        if path.hasPrefix("/api/") { return [path, "/api/v1/" + path.dropFirst("/api/".count)] }
        return [path, "/api/v1" + path]
    }

    public func match(method: String, path: String) -> Match {
        let segments = path.split(separator: "/")
        var allowed: [String] = []
        for template in templates where template.segments.count == segments.count {
            guard let parameters = bind(template.segments, segments) else { continue }
            if template.route.method == method { return .route(template.route, parameters: parameters) }
            allowed.append(template.route.method)
        }
        return allowed.isEmpty ? .none : .wrongMethod(allowed: Array(Set(allowed)).sorted())
    }

    private func bind(_ template: [Substring], _ segments: [Substring]) -> [String: String]? {
        var parameters: [String: String] = [:]
        for (expected, actual) in zip(template, segments) {
            if expected.hasPrefix("{") {
                guard let value = String(actual).removingPercentEncoding else { return nil }
                parameters[String(expected.dropFirst().dropLast())] = value
            } else if expected != actual {
                return nil
            }
        }
        return parameters
    }
}
