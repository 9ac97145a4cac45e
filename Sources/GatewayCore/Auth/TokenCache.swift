import Foundation
import NIOConcurrencyHelpers

/// Verified tokens, so a client that reuses its token (every client does) is not verified again
/// on every request (PostgREST keeps the same cache). Keyed by the exact token text; an entry is
/// used only until the token's `exp` (plus leeway) and the whole cache is dropped when full.
final class TokenCache: Sendable {
    private struct Entry { var identity: Identity; var expires: Double }

    private let entries = NIOLockedValueBox([String: Entry]())
    private let capacity: Int

    init(capacity: Int = 10_000) {
        self.capacity = capacity
    }

    func identity(for token: String, now: Double) -> Identity? {
        entries.withLockedValue { entries in
            guard let entry = entries[token] else { return nil }
            guard now <= entry.expires else {
                entries.removeValue(forKey: token)
                return nil
            }
            return entry.identity
        }
    }

    func store(_ identity: Identity, for token: String, expires: Double) {
        entries.withLockedValue { entries in
            if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
            entries[token] = Entry(identity: identity, expires: expires)
        }
    }
}
