/// What `up` would do, and what stops it, for one database and one `sql/` folder.
public struct Plan: Sendable {
    public struct Step: Sendable, Codable {
        public var script: String
        public var kind: Script.Kind
        /// `new`, `changed`, `missing objects: view api.x, …`, or `moved from functions/x.sql`
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
        var moves = Moves(scripts: scripts, applied: applied)
        for script in scripts.repeatable {
            if let verdict = try judge(script, applied: applied, moves: &moves, missing: missing) {
                steps.append(Step(script: script.path, kind: .repeatable, reason: verdict.reason))
            }
        }
        return Plan(steps: steps, problems: problems, appliedCount: applied.count)
    }
}

extension Plan {
    static let movedPrefix = "moved from "

    /// Repeatables whose file is gone from `sql/`, by checksum: a new path with exactly that
    /// content is the same file moved (a product folder reorganised), not a new one.
    struct Moves {
        private var vanished: [String: AppliedScript]

        init(scripts: ScriptSet, applied: [String: AppliedScript]) {
            let onDisk = Set(scripts.repeatable.map(\.path))
            vanished = [:]
            for record in applied.values.sorted(by: { $0.script < $1.script })
            where record.kind == .repeatable && !onDisk.contains(record.script) && vanished[record.checksum] == nil {
                vanished[record.checksum] = record
            }
        }

        /// The vanished record with this content, claimed once (a second copy is a new file).
        mutating func claim(checksum: String) -> AppliedScript? { vanished.removeValue(forKey: checksum) }
    }

    /// What a repeatable needs, or nil for nothing: to run (`new`, `changed`, `missing objects: …`),
    /// or, for the same content at a new path whose objects all exist, only a history row under the
    /// new path with the old one's objects (`moved from X`; `recordOnly` is that record).
    struct Verdict {
        var reason: String
        var recordOnly: AppliedScript?
    }

    static func judge(_ script: Script, applied: [String: AppliedScript], moves: inout Moves,
                      missing: (AppliedScript) throws -> [ObjectAddress]) rethrows -> Verdict? {
        let record: AppliedScript
        var moved: String?
        if let current = applied[script.path] {
            if current.checksum != script.checksum { return Verdict(reason: "changed") }
            record = current
        } else if let previous = moves.claim(checksum: script.checksum) {
            record = previous
            moved = movedPrefix + previous.script
        } else {
            return Verdict(reason: "new")
        }
        let gone = try missing(record)
        if gone.isEmpty { return moved.map { Verdict(reason: $0, recordOnly: record) } }
        let missingText = "missing objects: " + gone.map(\.description).joined(separator: ", ")
        return Verdict(reason: moved.map { "\($0); \(missingText)" } ?? missingText)
    }

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
