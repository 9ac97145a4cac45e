-- wrk reporter: one JSON line with requests/s, errors and latency percentiles (milliseconds).
function done(summary, latency, requests)
  local seconds = summary.duration / 1e6
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout + summary.errors.status
  io.write(string.format('{"rps": %.1f, "requests": %d, "errors": %d, "p50": %.2f, "p95": %.2f, "p99": %.2f, "max": %.2f}\n',
    summary.requests / seconds, summary.requests, errors,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000, latency.max / 1000))
end
