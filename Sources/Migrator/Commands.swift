import ArgumentParser
import Foundation
import MigratorCore

struct Up: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Apply pending migrations, then new or changed repeatables.")
    @OptionGroup var common: CommonOptions
    @Option(help: "Seconds to wait for another migrator's lock.") var lockWait: Double = 60
    @Option(help: "lock_timeout for each migration's DDL.") var ddlLockTimeout: String = "5s"

    func run() throws {
        let started = Date()
        do {
            let steps = try common.migrator(lockWait: lockWait, ddlLockTimeout: ddlLockTimeout).up()
            let total = Int(Date().timeIntervalSince(started) * 1000)
            if common.json {
                Output.json(UpReport(applied: steps, totalMilliseconds: total))
            } else {
                print(steps.isEmpty ? "up to date (\(total) ms)" : "applied \(steps.count) script(s) in \(total) ms")
            }
        } catch let failure as MigrationFailure {
            if common.json { Output.json(failure) } else { FileHandle.standardError.write(Data("migrator: \(failure)\n".utf8)) }
            throw ExitCode(1)
        } catch {
            throw fail(error, json: common.json)
        }
    }

    struct UpReport: Encodable { var applied: [AppliedStep]; var totalMilliseconds: Int }
}

/// Shared by `status` and `plan`: both print the plan; only `status` turns it into an exit code.
func printPlan(_ plan: Plan, json: Bool) {
    if json {
        Output.json(PlanReport(status: "\(plan.status)", steps: plan.steps, problems: plan.problems, applied: plan.appliedCount))
        return
    }
    for problem in plan.problems { print("problem  sql/\(problem)") }
    for step in plan.steps { print("pending  sql/\(step.script) (\(step.kind.rawValue), \(step.reason))") }
    if plan.isUpToDate { print("up to date: \(plan.appliedCount) script(s) applied") }
}

struct PlanReport: Encodable {
    var status: String
    var steps: [Plan.Step]
    var problems: [ScriptProblem]
    var applied: Int
}

struct Status: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show pending, applied and changed scripts.",
        discussion: "Exit codes: 0 up to date, 3 pending work, 4 an applied file changed or a file is invalid, 1 error."
    )
    @OptionGroup var common: CommonOptions

    func run() throws {
        do {
            let plan = try common.migrator().plan()
            printPlan(plan, json: common.json)
            if plan.status != .upToDate { throw ExitCode(plan.status.rawValue) }
        } catch let exit as ExitCode {
            throw exit
        } catch {
            throw fail(error, json: common.json)
        }
    }
}

struct PlanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "plan", abstract: "Print what `up` would do, changing nothing.")
    @OptionGroup var common: CommonOptions

    func run() throws {
        do {
            let plan = try common.migrator().plan()
            printPlan(plan, json: common.json)
            if !plan.problems.isEmpty { throw ExitCode(Plan.Status.invalid.rawValue) }
        } catch let exit as ExitCode {
            throw exit
        } catch {
            throw fail(error, json: common.json)
        }
    }
}

struct Validate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check names, headers and transaction control; with a database, also applied checksums.",
        discussion: "Exit codes: 0 valid, 4 problems found, 1 error."
    )
    @OptionGroup var common: CommonOptions
    @Flag(help: "Check the files only, without a database.") var offline = false

    func run() throws {
        do {
            let problems: [ScriptProblem]
            if offline {
                let options = MigratorOptions(databaseURL: "", sqlDirectory: URL(fileURLWithPath: common.sqlDirectory))
                problems = try Migrator(options: options).loadScripts().problems
            } else {
                problems = try common.migrator().plan().problems
            }
            if common.json { Output.json(["problems": problems]) }
            else { for problem in problems { print("problem  sql/\(problem)") } }
            if !problems.isEmpty { throw ExitCode(Plan.Status.invalid.rawValue) }
            if !common.json { print("valid") }
        } catch let exit as ExitCode {
            throw exit
        } catch {
            throw fail(error, json: common.json)
        }
    }
}

struct New: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Create the next numbered migration file.")
    @OptionGroup var common: CommonOptions
    @Argument(help: "What the migration does, e.g. add_orders_index.") var slug: String

    func run() throws {
        let folder = URL(fileURLWithPath: common.sqlDirectory).appendingPathComponent(ScriptSet.migrationsFolder)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let name = try ScriptSet(root: URL(fileURLWithPath: common.sqlDirectory)).nextMigrationName(slug: slug)
        let file = folder.appendingPathComponent(name)
        try Data("-- \(slug)\n\n".utf8).write(to: file, options: .withoutOverwriting)
        print("sql/\(ScriptSet.migrationsFolder)/\(name)")
    }
}
