import Foundation
import MigratorCore
import Testing
import PGClient

/// A database of its own for one test, on the server `make test` points TEST_DATABASE_URL at,
/// and a scratch `sql/` folder. Dropped again when the test ends.
final class Sandbox {
    static var serverURL: String {
        get throws {
            guard let url = ProcessInfo.processInfo.environment["TEST_DATABASE_URL"], !url.isEmpty else {
                throw PGError(message: "TEST_DATABASE_URL is not set: run the tests through `make test`")
            }
            return url
        }
    }

    let name: String
    let url: String
    let sqlDirectory: URL

    init() throws {
        name = "migrator_test_" + UUID().uuidString.prefix(8).lowercased()
        let server = try Sandbox.serverURL
        try PGConnection(url: server).exec("create database \(name)")
        url = Sandbox.replacingDatabase(in: server, with: name)
        sqlDirectory = FileManager.default.temporaryDirectory.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: sqlDirectory.appendingPathComponent("migrations"), withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(at: sqlDirectory)
        if let server = try? Sandbox.serverURL, let admin = try? PGConnection(url: server) {
            _ = try? admin.exec("drop database if exists \(name) with (force)")
        }
    }

    /// `postgres://host/db?x` with another database name (the URI's path is the database).
    static func replacingDatabase(in url: String, with database: String) -> String {
        guard let schemeEnd = url.range(of: "://") else { return url }
        let rest = url[schemeEnd.upperBound...]
        let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" } ?? rest.endIndex
        let queryStart = rest[authorityEnd...].firstIndex(of: "?") ?? rest.endIndex
        return String(url[..<authorityEnd]) + "/" + database + String(rest[queryStart...])
    }

    func write(_ path: String, _ content: String) throws {
        let file = sqlDirectory.appendingPathComponent(path)
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try content.write(to: file, atomically: true, encoding: .utf8)
    }

    func remove(_ path: String) throws {
        try FileManager.default.removeItem(at: sqlDirectory.appendingPathComponent(path))
    }

    func migrator(lockWait: Double = 60) -> Migrator {
        var options = MigratorOptions(databaseURL: url, sqlDirectory: sqlDirectory)
        options.lockWaitSeconds = lockWait
        return Migrator(options: options)
    }

    func connect() throws -> PGConnection { try PGConnection(url: url) }

    func scalar(_ sql: String) throws -> String? { try connect().exec(sql).rows.first?.first ?? nil }

    /// A small project: a table, a function, and a view that needs the function.
    func writeSampleProject() throws {
        try write("migrations/0001_orders.sql", """
            -- orders
            create schema shop;
            create table shop.orders (id int primary key, amount numeric not null);
            insert into shop.orders values (1, 10), (2, 32);
            """)
        try write("functions/shop.sql", """
            create or replace function shop.double(x numeric) returns numeric
            language sql immutable as $$ select x * 2 $$;
            """)
        try write("views/orders.sql", """
            -- requires: functions/shop.sql
            create or replace view shop.order_totals as
              select sum(amount) as total, shop.double(sum(amount)) as doubled from shop.orders;
            """)
    }
}
