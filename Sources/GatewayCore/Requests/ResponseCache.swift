import NIOConcurrencyHelpers

/// A short-lived cache of successful GET answers, per caller: the key holds the route, the
/// arguments and the caller's whole verified claims, so one caller's answer is never served to
/// another (not even a colleague in the same account). Only routes the catalog marks cacheable
/// (cache_max_age) are kept, for at most `ttl` and never past their max-age. Numbers read from
/// rollups (Hot Dash's, for example) change only when a rollup refreshes, every few minutes, so a
/// few seconds here cost no freshness worth having and spare the database repeated identical calls.
/// A caller never reads an answer older than their own last write: any write of theirs (a call
/// that is not a GET) moves them to a new generation, whose keys no older entry matches. (Other
/// gateways do not hear of it: routes whose data changes on writes should not be cacheable.)
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
    /// Per caller who wrote, the generation of their keys; everyone else is at `epoch`. Numbers
    /// come from one counter and never repeat, so a key made before a write never matches after.
    private struct Generations {
        var byCaller: [String: UInt64] = [:]
        var epoch: UInt64 = 0
        var counter: UInt64 = 0
    }
    private let generations = NIOLockedValueBox(Generations())

    init(ttl: Duration, capacity: Int = 10_000) {
        self.ttl = ttl
        self.capacity = capacity
    }

    /// The request as received (path parameters, raw query, body): an identical request binds
    /// identically, so a hit needs no binding at all.
    func key(route: RouteDefinition, identity: Identity, request: String) -> String {
        let caller = Self.caller(identity)
        let generation = generations.withLockedValue { $0.byCaller[caller] ?? $0.epoch }
        return "\(route.name)\n\(caller)\n\(generation)\n\(request)"
    }

    private static func caller(_ identity: Identity) -> String { "\(identity.role.rawValue)\n\(identity.claimsJSON)" }

    /// The caller wrote (or may have): their cached answers are no longer theirs to read.
    func invalidate(caller identity: Identity) {
        let caller = Self.caller(identity)
        generations.withLockedValue { state in
            state.counter += 1
            if state.byCaller.count >= capacity, state.byCaller[caller] == nil {
                // Too many writers to remember one by one: everyone moves on together.
                state.byCaller.removeAll(keepingCapacity: true)
                state.epoch = state.counter
            } else {
                state.byCaller[caller] = state.counter
            }
        }
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
