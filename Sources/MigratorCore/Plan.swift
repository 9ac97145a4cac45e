/// What `up` would do, and what stops it, for one database and one `sql/` folder.
public struct Plan: Sendable {
    public struct Step: Sendable, Codable {
        public var script: String
        public var kind: Script.Kind
        /// `new`, `changed`, or `missing objects: view api.x, …`
        public var reason: String
    }

    public var steps: [Step]
    /// Reasons `up` must refuse: edited applied migrations, deleted ones, bad names, cycles.
    public var problems: [ScriptProblem]
    public var appliedCount: Int

    public var isUpToDate: Bool { steps.isEmpty && problems.isEmpty }

    /// Compares the files with the history. Repeatables are judged here by checksum and by their
    /// recorded objects; `up` checks the objects again just before each one, because an earlier
    /// script in the same run may have dropped them.
    static func make(scripts: ScriptSet, applied: [String: AppliedScript], missing: (AppliedScript) throws -> [ObjectAddress]) rethrows -> Plan {
        var steps: [Step] = []
        var problems = scripts.problems
        let onDisk = Set(scripts.versioned.map(\.path))
        let highestApplied = scripts.versioned.filter { applied[$0.path] != nil }.compactMap(\.version).max()

        for record in applied.values where record.kind == .versioned && !onDisk.contains(record.script) {
            problems.append(ScriptProblem(path: record.script, message: "was applied but is no longer in sql/\(ScriptSet.migrationsFolder): restore it; applied migrations are never deleted"))
        }
        for script in scripts.versioned {
            if let record = applied[script.path] {
                if record.checksum != script.checksum {
                    problems.append(ScriptProblem(path: script.path, message: "was changed after it was applied (applied checksum \(record.checksum.prefix(12)), file now \(script.checksum.prefix(12))); applied migrations are immutable: revert the edit and add a new migration"))
                }
            } else if let highestApplied, script.version! < highestApplied {  // versioned scripts always have a version
                problems.append(ScriptProblem(path: script.path, message: "is numbered below the applied \(highestApplied): renumber it after the newest migration"))
            } else {
                steps.append(Step(script: script.path, kind: .versioned, reason: "new"))
            }
        }
        for script in scripts.repeatable {
            guard let record = applied[script.path] else {
                steps.append(Step(script: script.path, kind: .repeatable, reason: "new"))
                continue
            }
            if record.checksum != script.checksum {
                steps.append(Step(script: script.path, kind: .repeatable, reason: "changed"))
            } else {
                let gone = try missing(record)
                if !gone.isEmpty {
                    steps.append(Step(script: script.path, kind: .repeatable, reason: "missing objects: " + gone.map(\.description).joined(separator: ", ")))
                }
            }
        }
        return Plan(steps: steps, problems: problems, appliedCount: applied.count)
    }
}

extension Plan {
    /// `migrator status` exit codes, so scripts can tell the cases apart.
    public enum Status: Int32, Sendable {
        case upToDate = 0
        /// Migrations or repeatables wait to be applied.
        case pending = 3
        /// An applied file was edited or deleted, or a file is misnamed: `up` would refuse.
        case invalid = 4
    }

    public var status: Status {
        if !problems.isEmpty { return .invalid }
        return steps.isEmpty ? .upToDate : .pending
    }
}
