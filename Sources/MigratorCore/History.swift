import Foundation
import PGClient

/// One successful application of a script, as the history table remembers it.
public struct AppliedScript: Sendable {
    public var kind: Script.Kind
    public var script: String
    public var checksum: String
    /// Objects a repeatable created, as `pg_identify_object_as_address` gives them.
    public var objects: [ObjectAddress]
}

public struct ObjectAddress: Codable, Sendable, Hashable {
    public var type: String
    public var names: [String]
    public var args: [String]
}

/// The `migrator` schema: the history table, and the DDL capture that lets a repeatable be
/// re-applied when something (a `DROP … CASCADE`, a person) removed what it had created.
enum History {
    static let schema = "migrator"

    /// Run under the migration lock by `up`; idempotent.
    static let bootstrapSQL = """
    create schema if not exists migrator;
    revoke all on schema migrator from public;
    create table if not exists migrator.history (
      id           bigint generated always as identity primary key,
      version      text,
      kind         text not null check (kind in ('versioned', 'repeatable')),
      script       text not null,
      checksum     text not null,
      objects      jsonb not null default '[]',
      applied_by   text not null default current_user,
      started_at   timestamptz not null,
      finished_at  timestamptz not null default clock_timestamp(),
      execution_ms integer not null,
      status       text not null check (status in ('success', 'failed')),
      error        text
    );
    comment on table migrator.history is 'Every script the Migrator ran, successful or not.';
    -- A second guard, beside the advisory lock: a versioned file succeeds once.
    create unique index if not exists history_versioned_once
      on migrator.history (script) where kind = 'versioned' and status = 'success';

    create or replace function migrator.object_exists(type text, names text[], args text[])
    returns boolean language plpgsql stable set search_path = '' as $$
    begin
      return (pg_catalog.pg_get_object_address(type, names, args)).objid <> 0;
    exception when others then
      return false;
    end $$;

    -- Records what DDL creates while the Migrator applies a repeatable (it sets migrator.capturing);
    -- every other session returns at once.
    create or replace function migrator.capture_ddl() returns event_trigger
    language plpgsql set search_path = '' as $$
    begin
      if coalesce(pg_catalog.current_setting('migrator.capturing', true), '') = '' then
        return;
      end if;
      insert into pg_temp.migrator_captured (type, names, args)
      select a.type, a.object_names, a.object_args
        from pg_catalog.pg_event_trigger_ddl_commands() c,
             lateral pg_catalog.pg_identify_object_as_address(c.classid, c.objid, c.objsubid) a
       where c.objid <> 0 and c.objsubid = 0
         and a.type in ('table', 'view', 'materialized view', 'function', 'procedure', 'aggregate',
                        'type', 'index', 'sequence', 'policy', 'trigger', 'schema');
    end $$;
    """

    /// Event triggers need a superuser; elsewhere only checksums decide what is re-applied.
    static let eventTriggerSQL = """
    do $$
    begin
      if not exists (select from pg_event_trigger where evtname = 'migrator_capture_ddl')
         and (select rolsuper from pg_roles where rolname = current_user) then
        create event trigger migrator_capture_ddl on ddl_command_end
          execute function migrator.capture_ddl();
      end if;
    end $$;
    """

    static func exists(_ db: PGConnection) throws -> Bool {
        try db.exec("select to_regclass('migrator.history') is not null as present").rows.first?.first == "t"
    }

    static func bootstrap(_ db: PGConnection) throws {
        try db.exec("begin; \(bootstrapSQL) \(eventTriggerSQL) commit;")
    }

    /// The latest successful application of every script.
    static func applied(_ db: PGConnection) throws -> [String: AppliedScript] {
        guard try exists(db) else { return [:] }
        let result = try db.exec("""
            select distinct on (script) kind, script, checksum, objects::text as objects
              from migrator.history where status = 'success'
             order by script, id desc
            """)
        var applied: [String: AppliedScript] = [:]
        for row in result.rows {
            let objects = (try? JSONDecoder().decode([ObjectAddress].self, from: Data((row[3] ?? "[]").utf8))) ?? []
            let kind = Script.Kind(rawValue: row[0] ?? "") ?? .versioned
            applied[row[1] ?? ""] = AppliedScript(kind: kind, script: row[1] ?? "", checksum: row[2] ?? "", objects: objects)
        }
        return applied
    }

    /// The objects of a repeatable that are no longer in the database.
    static func missingObjects(_ db: PGConnection, _ objects: [ObjectAddress]) throws -> [ObjectAddress] {
        guard !objects.isEmpty else { return [] }
        let json = String(decoding: try JSONEncoder().encode(objects), as: UTF8.self)
        let result = try db.exec("""
            select o.type, o.names::text, o.args::text
              from jsonb_to_recordset($1::jsonb) as o(type text, names text[], args text[])
             where not migrator.object_exists(o.type, o.names, o.args)
            """, [json])
        return result.rows.map { row in
            ObjectAddress(type: row[0] ?? "", names: PGArray.parse(row[1]), args: PGArray.parse(row[2]))
        }
    }
}

/// Just enough of PostgreSQL's text array syntax for identifiers: `{a,"b c"}`.
enum PGArray {
    static func parse(_ text: String?) -> [String] {
        guard let text, text.count >= 2 else { return [] }
        var items: [String] = []
        var current = ""
        var quoted = false
        var escaped = false
        for character in text.dropFirst().dropLast() {
            if escaped { current.append(character); escaped = false; continue }
            switch character {
            case "\\" where quoted: escaped = true
            case "\"": quoted.toggle()
            case "," where !quoted: items.append(current); current = ""
            default: current.append(character)
            }
        }
        if !text.dropFirst().dropLast().isEmpty { items.append(current) }
        return items
    }
}

extension ObjectAddress: CustomStringConvertible {
    public var description: String {
        let name = names.joined(separator: ".")
        return args.isEmpty ? "\(type) \(name)" : "\(type) \(name)(\(args.joined(separator: ", ")))"
    }
}
