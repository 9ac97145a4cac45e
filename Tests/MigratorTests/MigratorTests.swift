import Foundation
import MigratorCore
import Testing

/// One at a time: these tests wait on libpq synchronously, and side by side they would hold every
/// thread of Swift's cooperative pool (two on a two-core machine), stalling the other suites.
@Suite("Migrator against a real database", .serialized)
struct MigratorTests {
    @Test func freshApplyRunsEverythingInOrder() throws {
        let box = try Sandbox()
        try box.writeSampleProject()
        let applied = try box.migrator().up()
        #expect(applied.map(\.script) == ["migrations/0001_orders.sql", "functions/shop.sql", "views/orders.sql"])
        #expect(applied.allSatisfy { $0.reason == "new" })
        #expect(try box.scalar("select doubled from shop.order_totals") == "84")
        let history = try box.connect().exec("select kind, script, status, length(checksum), applied_by from migrator.history order by id")
        #expect(history.rows.count == 3)
        #expect(history.rows.allSatisfy { $0[2] == "success" && $0[3] == "64" && $0[4] == "postgres" })
    }

    @Test func secondRunIsANoOp() throws {
        let box = try Sandbox()
        try box.writeSampleProject()
        try box.migrator().up()
        #expect(try box.migrator().up().isEmpty)
        #expect(try box.scalar("select count(*) from migrator.history") == "3")
        #expect(try box.migrator().plan().status == .upToDate)
    }

    @Test func editedAppliedMigrationIsRefused() throws {
        let box = try Sandbox()
        try box.writeSampleProject()
        try box.migrator().up()
        try box.write("migrations/0001_orders.sql", "create schema shop; -- edited after it was applied\n")
        try box.write("migrations/0002_more.sql", "create table shop.more (id int);")
        let error = try #require(throws: InvalidScripts.self) { try box.migrator().up() }
        #expect(error.description.contains("sql/migrations/0001_orders.sql: was changed after it was applied"))
        // Refused as a whole: the new migration did not run either.
        #expect(try box.scalar("select to_regclass('shop.more')") == nil)
        #expect(try box.migrator().plan().status == .invalid)
    }

    @Test func lineEndingsDoNotCountAsAnEdit() throws {
        #expect(Script.checksum(of: "select 1;\r\nselect 2;\r\n") == Script.checksum(of: "select 1;\nselect 2;\n"))
        #expect(Script.checksum(of: "select 1;") != Script.checksum(of: "select 2;"))
    }

    @Test func changedRepeatableIsReapplied() throws {
        let box = try Sandbox()
        try box.writeSampleProject()
        try box.migrator().up()
        try box.write("functions/shop.sql", """
            create or replace function shop.double(x numeric) returns numeric
            language sql immutable as $$ select x * 3 $$;
            """)
        let applied = try box.migrator().up()
        #expect(applied.map(\.script) == ["functions/shop.sql"])
        #expect(applied.first?.reason == "changed")
        #expect(try box.scalar("select doubled from shop.order_totals") == "126")
    }

    /// A file moved to another folder with its text unchanged (a product reorganised into a unit
    /// folder) is the same file: recorded under its new path, not run again.
    @Test func movedRepeatableIsRecordedNotRun() throws {
        let box = try Sandbox()
        try box.writeSampleProject()
        try box.write("migrations/0002_runs.sql", "create table shop.runs (n serial);")
        let counted = """
            create or replace function shop.triple(x numeric) returns numeric language sql immutable as $$ select x * 3 $$;
            insert into shop.runs default values;
            """
        try box.write("functions/triple.sql", counted)
        try box.migrator().up()
        try box.remove("functions/triple.sql")
        try box.write("shop/triple.sql", counted)
        #expect(try box.migrator().plan().steps.map(\.reason) == ["moved from functions/triple.sql"])
        #expect(try box.migrator().up().map(\.script) == ["shop/triple.sql"])
        #expect(try box.scalar("select count(*) from shop.runs") == "1")
        #expect(try box.migrator().plan().isUpToDate)
        // Its objects moved with it: dropping the function re-applies the file under its new name.
        try box.connect().exec("drop function shop.triple(numeric)")
        #expect(try box.migrator().up().map(\.reason) == ["missing objects: function shop.triple(numeric)"])
        #expect(try box.scalar("select count(*) from shop.runs") == "2")
    }

    @Test func movedAndEditedRepeatableRunsAsNew() throws {
        let box = try Sandbox()
        try box.writeSampleProject()
        try box.migrator().up()
        try box.remove("functions/shop.sql")
        try box.write("shop/functions.sql", """
            create or replace function shop.double(x numeric) returns numeric
            language sql immutable as $$ select x * 4 $$;
            """)
        try box.write("views/orders.sql", """
            -- requires: shop/functions.sql
            create or replace view shop.order_totals as
              select sum(amount) as total, shop.double(sum(amount)) as doubled from shop.orders;
            """)
        let applied = try box.migrator().up()
        #expect(applied.map(\.script) == ["shop/functions.sql", "views/orders.sql"])
        #expect(applied.map(\.reason) == ["new", "changed"])
        #expect(try box.scalar("select doubled from shop.order_totals") == "168")
    }

    @Test func viewDroppedByHandIsRestored() throws {
        let box = try Sandbox()
        try box.writeSampleProject()
        try box.migrator().up()
        try box.connect().exec("drop view shop.order_totals")
        let plan = try box.migrator().plan()
        #expect(plan.steps.map(\.script) == ["views/orders.sql"])
        #expect(plan.steps.first?.reason.contains("missing objects: view shop.order_totals") == true)
        #expect(try box.migrator().up().map(\.script) == ["views/orders.sql"])
        #expect(try box.scalar("select total from shop.order_totals") == "42")
    }

    @Test func viewDroppedByACascadingMigrationIsRestored() throws {
        let box = try Sandbox()
        try box.writeSampleProject()
        try box.migrator().up()
        try box.write("migrations/0002_retype_amount.sql", """
            alter table shop.orders drop column amount cascade;
            alter table shop.orders add column amount numeric not null default 5;
            """)
        let applied = try box.migrator().up()
        #expect(applied.map(\.script) == ["migrations/0002_retype_amount.sql", "views/orders.sql"])
        #expect(try box.scalar("select total from shop.order_totals") == "10")
    }

    @Test func failingFileIsRolledBackAndLocated() throws {
        let box = try Sandbox()
        try box.writeSampleProject()
        try box.write("migrations/0002_broken.sql", """
            -- a migration that fails halfway
            create table shop.customers (id int primary key);

            insert into shop.customers values (1);
            selec 1;
            create table shop.never (id int);
            """)
        let failure = try #require(throws: MigrationFailure.self) { try box.migrator().up() }
        #expect(failure.script == "migrations/0002_broken.sql")
        #expect(failure.line == 5)
        #expect(failure.sqlState == "42601")
        #expect(failure.description.hasPrefix("sql/migrations/0002_broken.sql:5:1: [42601] syntax error"))
        // The first migration stays applied; nothing of the broken one remains.
        #expect(try box.scalar("select to_regclass('shop.orders')::text") == "shop.orders")
        #expect(try box.scalar("select to_regclass('shop.customers')") == nil)
        #expect(try box.scalar("select status from migrator.history where script = 'migrations/0002_broken.sql'") == "failed")
        // Repeatables after the failure did not run either.
        #expect(try box.scalar("select count(*) from migrator.history where kind = 'repeatable'") == "0")
    }

    @Test func errorInsideAFunctionBodyIsLocated() throws {
        let box = try Sandbox()
        try box.write("functions/bad.sql", """
            create or replace function public.bad() returns int
            language plpgsql as $$
            begin
              return (select missing_column from pg_class limit 1);
            end $$;
            select public.bad();
            """)
        let failure = try #require(throws: MigrationFailure.self) { try box.migrator().up() }
        #expect(failure.sqlState == "42703")
        #expect(failure.context?.contains("PL/pgSQL function bad() line 3") == true)
    }

    @Test func concurrentRunsApplyEachFileOnce() throws {
        let box = try Sandbox()
        try box.writeSampleProject()
        try box.write("migrations/0002_slow.sql", "select pg_sleep(0.5); create table shop.slow (id int);")
        let migrators = [box.migrator(), box.migrator()]
        let results = ResultBox()
        DispatchQueue.concurrentPerform(iterations: 2) { index in
            do { results.add(try migrators[index].up().count) } catch { results.fail("\(error)") }
        }
        #expect(results.errors.isEmpty, "\(results.errors)")
        #expect(results.counts.sorted() == [0, 4])
        #expect(try box.scalar("select count(*) from migrator.history") == "4")
        #expect(try box.scalar("select count(*) from (select script from migrator.history group by script having count(*) > 1) d") == "0")
    }

    @Test func lockHeldTooLongIsReportedWithItsHolder() throws {
        let box = try Sandbox()
        try box.writeSampleProject()
        let holder = try box.connect()
        try holder.exec("set application_name = 'someone_else'; select pg_advisory_lock(7272740)")
        let timeout = try #require(throws: LockTimeout.self) { try box.migrator(lockWait: 0.5).up() }
        #expect(timeout.holder.contains("pid \(holder.backendPID)"))
        #expect(timeout.holder.contains("someone_else"))
        try holder.exec("select pg_advisory_unlock(7272740)")
        #expect(try box.migrator().up().count == 3)
    }

    @Test func statusCodesTellTheCasesApart() throws {
        let box = try Sandbox()
        try box.writeSampleProject()
        #expect(try box.migrator().plan().status == .pending)
        #expect(Plan.Status.pending.rawValue == 3)
        try box.migrator().up()
        #expect(try box.migrator().plan().status == .upToDate)
        #expect(Plan.Status.upToDate.rawValue == 0)
        try box.remove("migrations/0001_orders.sql")
        let plan = try box.migrator().plan()
        #expect(plan.status == .invalid)
        #expect(Plan.Status.invalid.rawValue == 4)
        #expect(plan.problems.first?.message.contains("no longer in sql/migrations") == true)
    }

    @Test func planChangesNothing() throws {
        let box = try Sandbox()
        try box.writeSampleProject()
        let plan = try box.migrator().plan()
        #expect(plan.steps.map(\.script) == ["migrations/0001_orders.sql", "functions/shop.sql", "views/orders.sql"])
        #expect(try box.scalar("select to_regclass('migrator.history')") == nil)
        #expect(try box.scalar("select to_regnamespace('shop')") == nil)
    }

    @Test func olderNumberAfterANewerOneIsRefused() throws {
        let box = try Sandbox()
        try box.write("migrations/0002_b.sql", "create table b (id int);")
        try box.migrator().up()
        try box.write("migrations/0001_a.sql", "create table a (id int);")
        let error = try #require(throws: InvalidScripts.self) { try box.migrator().up() }
        #expect(error.description.contains("numbered below the applied 0002"))
    }

    @Test func indexConcurrentlyNeedsTheNoTransactionMarker() throws {
        let box = try Sandbox()
        try box.writeSampleProject()
        try box.write("migrations/0002_index.sql", "create index concurrently orders_amount on shop.orders (amount);")
        let failure = try #require(throws: MigrationFailure.self) { try box.migrator().up() }
        #expect(failure.sqlState == "25001")
        #expect(failure.hint?.contains("migrator:no-transaction") == true)

        try box.write("migrations/0002_index.sql", """
            -- migrator:no-transaction
            create index concurrently orders_amount on shop.orders (amount);
            create index concurrently orders_id_amount on shop.orders (id, amount);
            """)
        #expect(try box.migrator().up().map(\.script) == ["migrations/0002_index.sql", "functions/shop.sql", "views/orders.sql"])
        #expect(try box.scalar("select count(*) from pg_indexes where schemaname = 'shop' and indexname like 'orders_%amount'") == "2")
    }

    @Test func aFileThatCommitsIsRefusedBeforeRunning() throws {
        let box = try Sandbox()
        try box.write("migrations/0001_commits.sql", "create table t (id int);\ncommit;\ncreate table u (id int);")
        let error = try #require(throws: InvalidScripts.self) { try box.migrator().up() }
        #expect(error.description.contains("0001_commits.sql: line 2"))
        #expect(try box.scalar("select to_regclass('t')") == nil)
    }

    @Test func namesAndRequiresAreValidated() throws {
        let box = try Sandbox()
        try box.write("migrations/1_bad-name.sql", "select 1;")
        try box.write("migrations/0003_a.sql", "select 1;")
        try box.write("migrations/0003_b.sql", "select 1;")
        try box.write("views/a.sql", "-- requires: views/b.sql\nselect 1;")
        try box.write("views/b.sql", "-- requires: views/a.sql\nselect 1;")
        try box.write("views/c.sql", "-- requires: views/nowhere.sql\nselect 1;")
        let problems = try box.migrator().loadScripts().problems.map(\.description)
        #expect(problems.contains { $0.hasPrefix("migrations/1_bad-name.sql: a migration must be named NNNN_slug.sql") })
        #expect(problems.contains { $0.contains("version 0003 is also used by migrations/0003_a.sql") })
        #expect(problems.contains { $0.contains("requires form a cycle") })
        #expect(problems.contains { $0.contains("requires views/nowhere.sql") })
    }

    @Test func newMigrationGetsTheNextNumber() throws {
        let box = try Sandbox()
        try box.write("migrations/0007_x.sql", "select 1;")
        let scripts = try box.migrator().loadScripts()
        #expect(try scripts.nextMigrationName(slug: "Add orders index") == "0008_add_orders_index.sql")
    }
}

/// Collects results from concurrent threads.
final class ResultBox: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var counts: [Int] = []
    private(set) var errors: [String] = []
    func add(_ count: Int) { lock.withLock { counts.append(count) } }
    func fail(_ error: String) { lock.withLock { errors.append(error) } }
}
