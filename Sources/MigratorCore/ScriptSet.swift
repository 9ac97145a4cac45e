import Foundation

/// A problem with the files themselves, found without asking the database.
public struct ScriptProblem: Error, Codable, Sendable, CustomStringConvertible {
    public var path: String
    public var message: String
    public var description: String { "\(path): \(message)" }
}

/// Every script under a `sql/` folder: versioned ones by number, repeatables in dependency order.
public struct ScriptSet: Sendable {
    public static let migrationsFolder = "migrations"

    public var root: URL
    public var versioned: [Script]
    public var repeatable: [Script]
    public var problems: [ScriptProblem]

    public init(root: URL) throws {
        self.root = root
        var versioned: [Script] = []
        var repeatable: [Script] = []
        var problems: [ScriptProblem] = []
        for path in try ScriptSet.sqlFiles(under: root) {
            let content = try String(contentsOf: root.appendingPathComponent(path), encoding: .utf8)
            if path.hasPrefix(ScriptSet.migrationsFolder + "/") {
                let script = Script(kind: .versioned, path: path, content: content)
                if script.version == nil {
                    problems.append(ScriptProblem(path: path, message: "a migration must be named NNNN_slug.sql (digits, underscore, lower-case slug)"))
                } else {
                    versioned.append(script)
                }
            } else {
                repeatable.append(Script(kind: .repeatable, path: path, content: content))
            }
        }
        versioned.sort { ($0.version!, $0.path) < ($1.version!, $1.path) }  // version is set for every versioned script kept above
        for (previous, next) in zip(versioned, versioned.dropFirst()) where previous.version == next.version {
            problems.append(ScriptProblem(path: next.path, message: "version \(next.version!) is also used by \(previous.path)"))
        }
        for script in repeatable where script.noTransaction {
            problems.append(ScriptProblem(path: script.path, message: "only versioned migrations may be marked migrator:no-transaction"))
        }
        let ordered = ScriptSet.dependencyOrder(repeatable)
        self.versioned = versioned
        self.repeatable = ordered.scripts
        self.problems = problems + ordered.problems
    }

    /// Relative paths of all `.sql` files, sorted, so the order never depends on the file system.
    static func sqlFiles(under root: URL) throws -> [String] {
        guard let enumerator = FileManager.default.enumerator(at: root, includingPropertiesForKeys: [.isRegularFileKey]) else {
            throw ScriptProblem(path: root.path, message: "not a readable folder")
        }
        let base = root.standardizedFileURL.resolvingSymlinksInPath().path
        var paths: [String] = []
        for case let url as URL in enumerator where url.pathExtension == "sql" {
            let full = url.standardizedFileURL.resolvingSymlinksInPath().path
            paths.append(String(full.dropFirst(base.count + 1)))
        }
        return paths.sorted()
    }

    /// Topological order by `-- requires:`, ties broken by path; unknown names and cycles are problems.
    static func dependencyOrder(_ scripts: [Script]) -> (scripts: [Script], problems: [ScriptProblem]) {
        let byPath = Dictionary(uniqueKeysWithValues: scripts.map { ($0.path, $0) })
        var problems: [ScriptProblem] = []
        var ordered: [Script] = []
        var state: [String: Bool] = [:]  // false: visiting, true: done

        func visit(_ script: Script, chain: [String]) {
            if state[script.path] == true { return }
            if state[script.path] == false {
                let cycle = (chain.drop { $0 != script.path } + [script.path]).joined(separator: " -> ")
                problems.append(ScriptProblem(path: script.path, message: "requires form a cycle: \(cycle)"))
                return
            }
            state[script.path] = false
            for name in script.requires.sorted() {
                if let dependency = byPath[name] {
                    visit(dependency, chain: chain + [script.path])
                } else {
                    problems.append(ScriptProblem(path: script.path, message: "requires \(name), which is not a repeatable script under sql/"))
                }
            }
            state[script.path] = true
            ordered.append(script)
        }
        for script in scripts.sorted(by: { $0.path < $1.path }) { visit(script, chain: []) }
        return (ordered, problems)
    }

    /// The next file name for `new <slug>`.
    public func nextMigrationName(slug: String) throws -> String {
        let cleaned = slug.lowercased().map { $0.isLetter || $0.isNumber ? $0 : "_" }
        let name = String(cleaned).split(separator: "_").joined(separator: "_")
        guard !name.isEmpty, name.allSatisfy(\.isASCII) else {
            throw ScriptProblem(path: slug, message: "a slug needs ASCII letters or digits")
        }
        let next = (versioned.compactMap { $0.version.flatMap { Int($0) } }.max() ?? 0) + 1
        return String(format: "%04d_%@.sql", next, name)
    }
}
