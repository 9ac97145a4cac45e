import Foundation
import NIOConcurrencyHelpers

/// Counters and histograms in Prometheus' text format, for `/metrics`. Small on purpose: the
/// gateway needs a handful of series, not a metrics framework.
public final class Metrics: Sendable {
    /// Seconds; from these buckets p50/p95/p99 can be read with histogram_quantile().
    static let buckets: [Double] = [0.001, 0.0025, 0.005, 0.01, 0.015, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

    struct Histogram {
        var counts = [Int](repeating: 0, count: Metrics.buckets.count)
        var sum = 0.0
        var count = 0
    }

    struct State {
        var requests: [String: Int] = [:]  // labels text → count
        var durations: [String: Histogram] = [:]
        var rateLimited: [String: Int] = [:]
        var notModified: [String: Int] = [:]
        var cacheHits: [String: Int] = [:]
        var databaseCalls: [String: Histogram] = [:]
        var databaseInFlight = 0
    }

    private let state = NIOLockedValueBox(State())

    public init() {}

    func recordRequest(route: String, method: String, status: Int, seconds: Double) {
        let requestLabels = labels(["method": method, "route": route, "status": String(status)])
        let routeLabels = labels(["route": route])
        state.withLockedValue { state in
            state.requests[requestLabels, default: 0] += 1
            state.durations[routeLabels, default: Histogram()].observe(seconds)
        }
    }

    func recordRateLimited(policy: String) {
        let key = labels(["policy": policy])
        state.withLockedValue { $0.rateLimited[key, default: 0] += 1 }
    }

    func recordNotModified(route: String) {
        let key = labels(["route": route])
        state.withLockedValue { $0.notModified[key, default: 0] += 1 }
    }

    func recordCacheHit(route: String) {
        let key = labels(["route": route])
        state.withLockedValue { $0.cacheHits[key, default: 0] += 1 }
    }

    /// Wraps one database call: counts calls in flight (pool use) and their durations.
    func measureDatabase<T>(route: String, _ body: () async throws -> T) async rethrows -> T {
        state.withLockedValue { $0.databaseInFlight += 1 }
        let start = ContinuousClock.now
        defer {
            let seconds = (ContinuousClock.now - start).seconds
            let key = labels(["route": route])
            state.withLockedValue { state in
                state.databaseInFlight -= 1
                state.databaseCalls[key, default: Histogram()].observe(seconds)
            }
        }
        return try await body()
    }

    public func render() -> String {
        let state = self.state.withLockedValue { $0 }
        var out = ""
        func counter(_ name: String, _ help: String, _ values: [String: Int]) {
            out += "# HELP \(name) \(help)\n# TYPE \(name) counter\n"
            for (labels, value) in values.sorted(by: { $0.key < $1.key }) { out += "\(name){\(labels)} \(value)\n" }
        }
        func histogram(_ name: String, _ help: String, _ values: [String: Histogram]) {
            out += "# HELP \(name) \(help)\n# TYPE \(name) histogram\n"
            for (labels, histogram) in values.sorted(by: { $0.key < $1.key }) {
                var cumulative = 0
                for (bound, count) in zip(Metrics.buckets, histogram.counts) {
                    cumulative += count
                    out += "\(name)_bucket{\(labels),le=\"\(bound)\"} \(cumulative)\n"
                }
                out += "\(name)_bucket{\(labels),le=\"+Inf\"} \(histogram.count)\n"
                out += "\(name)_sum{\(labels)} \(histogram.sum)\n\(name)_count{\(labels)} \(histogram.count)\n"
            }
        }
        counter("gateway_requests_total", "HTTP requests by route, method and status.", state.requests)
        histogram("gateway_request_duration_seconds", "Time from request to response, by route.", state.durations)
        counter("gateway_rate_limited_total", "Requests refused with 429, by policy.", state.rateLimited)
        counter("gateway_not_modified_total", "Conditional GETs answered 304 (client cache hits), by route.", state.notModified)
        counter("gateway_response_cache_hits_total", "GETs answered from the gateway's response cache, by route.", state.cacheHits)
        histogram("gateway_database_call_duration_seconds", "Time of the database call, by route.", state.databaseCalls)
        out += "# HELP gateway_database_calls_in_flight Database calls running now (pool connections in use).\n"
        out += "# TYPE gateway_database_calls_in_flight gauge\ngateway_database_calls_in_flight \(state.databaseInFlight)\n"
        return out
    }

    /// `a="x",b="y"`: callers list keys in alphabetical order, as Prometheus shows them.
    /// Called on every request, so no sorting and no Foundation.
    private func labels(_ pairs: KeyValuePairs<String, String>) -> String {
        var out = ""
        for (key, value) in pairs {
            if !out.isEmpty { out += "," }
            out += key + "=\"" + FastFormat.labelValue(value) + "\""
        }
        return out
    }
}

extension Metrics.Histogram {
    mutating func observe(_ seconds: Double) {
        if let index = Metrics.buckets.firstIndex(where: { seconds <= $0 }) { counts[index] += 1 }
        sum += seconds
        count += 1
    }
}

extension Duration {
    var seconds: Double {
        let (whole, attoseconds) = components
        return Double(whole) + Double(attoseconds) / 1e18
    }
}
