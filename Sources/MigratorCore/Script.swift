import Crypto
import Foundation

/// One SQL file under `sql/`.
public struct Script: Sendable, Equatable {
    public enum Kind: String, Codable, Sendable {
        /// `sql/migrations/NNNN_slug.sql`: applied once, in order, never edited afterwards.
        case versioned
        /// Any other `.sql` under `sql/` (functions, views, policies, routes): re-applied when it changes.
        case repeatable
    }

    public var kind: Kind
    /// Path relative to the `sql/` folder, with `/` separators: the script's name in the history.
    public var path: String
    /// The number of a versioned file (`0007`), nil for repeatables.
    public var version: String?
    public var content: String
    public var checksum: String
    /// Repeatables this one must follow (`-- requires: functions/auth.sql`).
    public var requires: [String]
    /// `-- migrator:no-transaction`: run statement by statement outside a transaction.
    public var noTransaction: Bool

    public init(kind: Kind, path: String, content: String) {
        self.kind = kind
        self.path = path
        self.content = content
        self.checksum = Script.checksum(of: content)
        self.requires = Script.headerValues(named: "requires", in: content)
        self.noTransaction = Script.headerLines(in: content).contains { $0 == "migrator:no-transaction" }
        self.version = kind == .versioned ? Script.versionPattern.firstMatch(path: path)?.version : nil
    }

    /// SHA-256 of the text with line endings normalized, so a checkout with CRLF is not "changed".
    public static func checksum(of content: String) -> String {
        let normalized = content.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\r", with: "\n")
        return SHA256.hash(data: Data(normalized.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    /// The leading `--` comment lines (the header), without the dashes.
    static func headerLines(in content: String) -> [String] {
        var lines: [String] = []
        for raw in content.split(separator: "\n", omittingEmptySubsequences: false) {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty { continue }
            guard line.hasPrefix("--") else { break }
            lines.append(line.dropFirst(2).trimmingCharacters(in: .whitespaces))
        }
        return lines
    }

    static func headerValues(named name: String, in content: String) -> [String] {
        headerLines(in: content).flatMap { line -> [String] in
            guard line.lowercased().hasPrefix(name + ":") else { return [] }
            return line.dropFirst(name.count + 1).split(separator: ",").map {
                $0.trimmingCharacters(in: .whitespaces)
            }.filter { !$0.isEmpty }
        }
    }

    static let versionPattern = VersionedName()
}

/// `NNNN_slug.sql`: four or more digits, an underscore, a lower-case slug.
struct VersionedName {
    struct Match { var version: String; var slug: String }

    func firstMatch(path: String) -> Match? {
        let file = path.split(separator: "/").last.map(String.init) ?? path
        guard file.hasSuffix(".sql") else { return nil }
        let stem = file.dropLast(4)
        guard let underscore = stem.firstIndex(of: "_") else { return nil }
        let version = stem[..<underscore]
        let slug = stem[stem.index(after: underscore)...]
        guard version.count >= 4, version.allSatisfy(\.isASCII), version.allSatisfy(\.isNumber),
              !slug.isEmpty, slug.allSatisfy({ $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "_") })
        else { return nil }
        return Match(version: String(version), slug: String(slug))
    }
}
