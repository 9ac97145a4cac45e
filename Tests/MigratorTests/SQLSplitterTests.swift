@testable import MigratorCore
import Testing

@Suite struct SQLSplitterTests {
    @Test func splitsAtTopLevelSemicolonsOnly() {
        let sql = """
            create function f() returns text language plpgsql as $body$ begin return 'a;b'; end $body$;
            -- a comment; with a semicolon
            select 'it''s; fine', "odd;name", E'esc\\';still' from t; /* block; /* nested; */ */
            select $$;$$
            """
        let statements = SQLSplitter.split(sql).map(\.text)
        #expect(statements.count == 3)
        #expect(statements[0].hasSuffix("end $body$"))
        #expect(statements[1].contains("E'esc\\';still' from t"))
        #expect(statements[2].hasSuffix("select $$;$$"))
    }

    @Test func findsTransactionControlButNotDoBlocks() {
        let sql = "do $$ begin perform 1; end $$;\nCOMMIT;\nbegin ;\nselect 'commit';"
        let found = SQLSplitter.transactionControl(in: sql).map(\.text)
        #expect(found == ["COMMIT", "begin"])
    }

    @Test func mapsPositionsToLines() {
        let text = "line one\nline two\nlïne three"
        let first = lineAndColumn(of: 1, in: text)
        #expect(first.line == 1 && first.column == 1)
        let third = lineAndColumn(of: 21, in: text)
        #expect(third.line == 3 && third.column == 3)
    }
}
