/// Splits SQL text into statements at top-level semicolons, skipping quotes, dollar quotes and
/// comments. Only used where a file cannot run whole: `no-transaction` migrations, and the check
/// that a transactional migration does not end its own transaction.
enum SQLSplitter {
    struct Statement: Equatable {
        var text: String
        /// Offset of the statement's first character (in Unicode scalars) within the file.
        var offset: Int
    }

    static func split(_ sql: String) -> [Statement] {
        let chars = Array(sql.unicodeScalars)
        var statements: [Statement] = []
        var start = 0
        var i = 0

        func emit(upTo end: Int) {
            let raw = String(String.UnicodeScalarView(chars[start..<end]))
            let leading = raw.unicodeScalars.prefix { $0.properties.isWhitespace }.count
            let text = raw.trimmingCharacters(in: .whitespacesAndNewlines)
            if !stripComments(text).isEmpty { statements.append(Statement(text: text, offset: start + leading)) }
        }

        while i < chars.count {
            let c = chars[i]
            let next: Unicode.Scalar? = i + 1 < chars.count ? chars[i + 1] : nil
            if c == "-" && next == "-" {
                while i < chars.count && chars[i] != "\n" { i += 1 }
            } else if c == "/" && next == "*" {
                var depth = 1
                i += 2
                while i < chars.count && depth > 0 {
                    if chars[i] == "/" && i + 1 < chars.count && chars[i + 1] == "*" { depth += 1; i += 1 }
                    else if chars[i] == "*" && i + 1 < chars.count && chars[i + 1] == "/" { depth -= 1; i += 1 }
                    i += 1
                }
            } else if c == "'" || c == "\"" {
                let escapes = c == "'" && i > 0 && (chars[i - 1] == "E" || chars[i - 1] == "e")
                i += 1
                while i < chars.count {
                    if escapes && chars[i] == "\\" { i += 2; continue }
                    if chars[i] == c {
                        if i + 1 < chars.count && chars[i + 1] == c { i += 2; continue }
                        break
                    }
                    i += 1
                }
                i += 1
            } else if c == "$", let tag = dollarTag(chars, at: i) {
                i += tag.count
                while i < chars.count && !matches(chars, tag, at: i) { i += 1 }
                i += tag.count
            } else if c == ";" {
                emit(upTo: i)
                start = i + 1
                i += 1
            } else {
                i += 1
            }
        }
        if start < chars.count { emit(upTo: chars.count) }
        return statements
    }

    /// `$$` or `$tag$` starting at `i`, not part of an identifier such as `a$1`.
    private static func dollarTag(_ chars: [Unicode.Scalar], at i: Int) -> [Unicode.Scalar]? {
        if i > 0, chars[i - 1].properties.isAlphabetic || chars[i - 1] == "_" || ("0"..."9").contains(chars[i - 1]) { return nil }
        var j = i + 1
        while j < chars.count, chars[j].properties.isAlphabetic || chars[j] == "_" || (j > i + 1 && ("0"..."9").contains(chars[j])) { j += 1 }
        guard j < chars.count, chars[j] == "$" else { return nil }
        return Array(chars[i...j])
    }

    private static func matches(_ chars: [Unicode.Scalar], _ tag: [Unicode.Scalar], at i: Int) -> Bool {
        i + tag.count <= chars.count && Array(chars[i..<(i + tag.count)]) == tag
    }

    /// The statement without comments, lower-cased, for keyword checks.
    static func stripComments(_ text: String) -> String {
        text.split(separator: "\n", omittingEmptySubsequences: false)
            .map { line -> Substring in line.range(of: "--").map { line[..<$0.lowerBound] } ?? line }
            .joined(separator: "\n")
            .trimmingCharacters(in: .whitespacesAndNewlines)
            .lowercased()
    }

    /// Top-level statements that would end or nest the Migrator's own transaction.
    static func transactionControl(in sql: String) -> [Statement] {
        let keywords = ["begin", "commit", "rollback", "end", "start transaction", "abort"]
        return split(sql).filter { statement in
            let words = stripComments(statement.text)
            return keywords.contains { words == $0 || words.hasPrefix($0 + " ") || words.hasPrefix($0 + "\n") }
        }
    }
}

/// 1-based line and column of a 1-based character position within a text.
func lineAndColumn(of position: Int, in text: String) -> (line: Int, column: Int) {
    var line = 1
    var column = 1
    for (index, scalar) in text.unicodeScalars.enumerated() {
        if index >= position - 1 { break }
        if scalar == "\n" { line += 1; column = 1 } else { column += 1 }
    }
    return (line, column)
}
