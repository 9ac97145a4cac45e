import NIOConcurrencyHelpers

/// A short-lived cache of successful GET answers, per caller: the key holds the route, the
/// arguments and the caller's whole verified claims, so one caller's answer is never served to
/// another (not even a colleague in the same account). Only routes the catalog marks cacheable
/// (cache_max_age) are kept, for at most `ttl` and never past their max-age. Numbers read from
/// rollups (Hot Dash's, for example) change only when a rollup refreshes, every few minutes, so a
/// few seconds here cost no freshness worth having and spare the database repeated identical calls.
final class ResponseCache: Sendable {
    private struct Entry {
        var result: Invoker.Result
        var expires: ContinuousClock.Instant
    }

    let ttl: Duration
    let capacity: Int
    private let entries = NIOLockedValueBox([String: Entry]())
    /// Calls under way, by key: a caller that misses while the same call is running waits for its
    /// answer instead of sending it again, so an entry expiring under load costs one query, not one
    /// per connection.
    private let inFlight = NIOLockedValueBox([String: Task<Invoker.Result, any Error>]())

    init(ttl: Duration, capacity: Int = 10_000) {
        self.ttl = ttl
        self.capacity = capacity
    }

    static func key(route: RouteDefinition, identity: Identity, arguments: String) -> String {
        "\(route.name)\n\(identity.role.rawValue)\n\(identity.claimsJSON)\n\(arguments)"
    }

    private func lookup(_ key: String) -> Invoker.Result? {
        let now = ContinuousClock.now
        return entries.withLockedValue { entries in
            guard let entry = entries[key] else { return nil }
            if entry.expires <= now {
                entries[key] = nil
                return nil
            }
            return entry.result
        }
    }

    /// The cached answer (`fromCache`), or the answer of the one `load` running for this key.
    func answer(_ key: String, maxAge: Int, load: @escaping @Sendable () async throws -> Invoker.Result)
        async throws -> (result: Invoker.Result, fromCache: Bool) {
        if let cached = lookup(key) { return (cached, true) }
        var started = false
        let task = inFlight.withLockedValue { running in
            if let task = running[key] { return task }
            started = true
            let task = Task { try await load() }
            running[key] = task
            return task
        }
        guard started else { return (try await task.value, true) }
        defer { _ = inFlight.withLockedValue { $0.removeValue(forKey: key) } }
        let result = try await task.value
        if result.status == nil || result.status == 200 { store(key, result, maxAge: maxAge) }
        return (result, false)
    }

    private func store(_ key: String, _ result: Invoker.Result, maxAge: Int) {
        let now = ContinuousClock.now
        let lifetime = min(ttl, .seconds(maxAge))
        guard lifetime > .zero else { return }
        entries.withLockedValue { entries in
            if entries.count >= capacity {
                entries = entries.filter { $0.value.expires > now }
                // Still full of live entries: start over rather than grow without bound.
                if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
            }
            entries[key] = Entry(result: result, expires: now + lifetime)
        }
    }
}
