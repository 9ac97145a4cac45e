#!/usr/bin/env bash
# `make bench`: a benchmark, not a test. A release gateway on a migrated database, loaded with
# wrk at 1, 10, 50 and 100 connections per endpoint; pgbench runs the gateway's own per-request
# SQL on the same database for comparison. Writes bench/results/report.md.
# Loopback only; every run is bounded by BENCH_SECONDS.
set -euo pipefail
cd "$(dirname "$0")/.."
DB=scripts/db.sh
SECONDS_PER_RUN=${BENCH_SECONDS:-10}
CONNECTIONS=${BENCH_CONNECTIONS:-"1 10 50 100"}
PORT=${BENCH_PORT:-18190}
OUT=bench/results
mkdir -p "$OUT"
command -v wrk >/dev/null || { echo "bench: wrk is missing: apt-get install wrk" >&2; exit 1; }

echo "bench: release build"
swift build -c release --product Gateway >/dev/null 2>&1 || swift build -c release --product Gateway
swift build --product Migrator >/dev/null 2>&1
$DB start >/dev/null
# BENCH_REUSE=1 keeps the previous run's database (and its 10 million orders), migrated anew.
[ "${BENCH_REUSE:-0}" = 1 ] || $DB recreate-db analytics_bench >/dev/null
$DB ensure-db analytics_bench >/dev/null 2>&1 || true
ADMIN=$($DB url analytics_bench)
AUTH=$($DB url analytics_bench authenticator)
.build/debug/Migrator up --database-url "$ADMIN" >/dev/null
# The gateway's own sample routes stand in until the products add theirs (bench/endpoints.txt).
psql "$ADMIN" -Xq -v ON_ERROR_STOP=1 -f Tests/fixtures/gateway_routes.sql
# The demo data set (seeds/), then the benchmark's own additions (bench/seed/).
if [ "${BENCH_REUSE:-0}" != 1 ] || [ "$(psql "$ADMIN" -XtAc 'select count(*) from hotdash.shops')" = 0 ]; then
  for seed in seeds/*.sql bench/seed/*.sql; do [ -e "$seed" ] && psql "$ADMIN" -Xq -o /dev/null -v ON_ERROR_STOP=1 -f "$seed"; done
fi
# The benchmark measures the endpoints, not the limiter: one token drives every connection, so the
# Hot Dash policies are raised (the limiter's per-request cost is still paid).
psql "$ADMIN" -Xq -c "update gateway.rate_policies set requests = 1000000000 where name like 'hotdash-%'" 

export JWT_SECRET=$(head -c 48 /dev/urandom | base64 | tr -d '/+=')
TOKEN=$(.build/release/Gateway token --role authenticated --account 11111111-1111-4111-8111-111111111111 --app-role admin --ttl 7200)
CLAIMS=$(echo "$TOKEN" | cut -d. -f2 | tr '_-' '/+' | { read -r p; pad=$(( (4 - ${#p} % 4) % 4 )); printf '%s%s' "$p" "$(printf '=%.0s' $(seq 1 $pad))"; } | base64 -d)

# Two gateways: as deployed (a caller's cacheable GET answers reused for 5 s) and cold (every
# request runs its SQL: what the database and the gateway cost without the cache).
COLD_PORT=$((PORT + 1))
# The gateway's default pool (one connection per core and one more) unless BENCH_POOL says otherwise.
POOL=${BENCH_POOL:-$(($(nproc) + 1))}
JOB_WORKERS=0 MAINTENANCE_INTERVAL=0 DATABASE_URL="$AUTH" DB_POOL_SIZE=$POOL .build/release/Gateway --port "$PORT" --log-level error >/dev/null 2>"$OUT/gateway.log" &
GATEWAY_PID=$!
RESPONSE_CACHE_SECONDS=0 MAINTENANCE_INTERVAL=0 DATABASE_URL="$AUTH" DB_POOL_SIZE=$POOL .build/release/Gateway --port "$COLD_PORT" --log-level error >/dev/null 2>"$OUT/gateway-cold.log" &
COLD_PID=$!
trap 'kill $GATEWAY_PID $COLD_PID 2>/dev/null' EXIT
for port in $PORT $COLD_PORT; do
  for _ in $(seq 1 100); do curl -sf -o /dev/null "http://127.0.0.1:$port/ready" && break; sleep 0.1; done
done
# Another server on one of the ports would answer /ready and every request with 401: measure ours only.
if ! kill -0 $GATEWAY_PID $COLD_PID 2>/dev/null \
   || ! curl -sf -o /dev/null -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$COLD_PORT/api/v1/test/whoami"; then
  echo "bench: the gateways on ports $PORT and $COLD_PORT did not start or do not accept the bench token (port in use?); see $OUT/gateway*.log" >&2
  exit 1
fi

REPORT=$OUT/report.md
{
  echo "# Benchmark report"
  echo
  echo "$(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, PostgreSQL $(psql "$ADMIN" -XtAc 'show server_version'), ${SECONDS_PER_RUN} s per run, gateway pool $POOL; wrk, the gateway and PostgreSQL share the machine."
  echo
  echo "## Gateway (wrk)"
  echo
  echo "| endpoint | connections | requests/s | p50 ms | p95 ms | p99 ms | errors |"
  echo "|---|---:|---:|---:|---:|---:|---:|"
} > "$REPORT"

# wrk_json CONNECTIONS TOKEN PATH [PORT]: one JSON line (rps, errors, p50/p95/p99/max ms); the
# cold gateway by default. wrk's percentiles are corrected for coordinated omission (one slow
# request counts many times over). When wrk stops, requests it sent are still queued in the
# server; one more request, answered after them (the pool is first come, first served), lets
# them drain, so the next run does not start behind them.
wrk_json() {
  local threads=$(( $1 < 2 ? 1 : 2 ))
  wrk -t"$threads" -c"$1" -d"${SECONDS_PER_RUN}s" -H "Authorization: Bearer $2" -s bench/latency.lua "http://127.0.0.1:${4:-$COLD_PORT}$3" | tail -1
  curl -s -o /dev/null --max-time 30 -H "Authorization: Bearer $2" "http://127.0.0.1:${4:-$COLD_PORT}$3"
}

while read -r name path; do
  [ -z "$name" ] || [ "${name:0:1}" = "#" ] && continue
  for c in $CONNECTIONS; do
    line=$(wrk_json "$c" "$TOKEN" "$path")
    echo "$line" | python3 -c "import json,sys; d=json.load(sys.stdin); print(f'| $name | $c | {d[\"rps\"]:.0f} | {d[\"p50\"]:.2f} | {d[\"p95\"]:.2f} | {d[\"p99\"]:.2f} | {d[\"errors\"]} |')" >> "$REPORT"
    echo "bench: $name at $c connections: $line"
  done
done < bench/endpoints.txt

# The same request as SQL: one statement (what the gateway sends), and the four-statement
# transaction it replaces (BEGIN, role, claims, call, COMMIT).
CLAIMS_SQL=${CLAIMS//\'/\'\'}
cat > "$OUT/invoke.sql" <<SQL
select body, status, headers from gateway.invoke('authenticated', '$CLAIMS_SQL', true, 'select (api.test_whoami())::text', '{}'::jsonb);
SQL
cat > "$OUT/transaction.sql" <<SQL
begin read only;
select set_config('role', 'authenticated', true);
select set_config('request.jwt.claims', '$CLAIMS_SQL', true);
select (api.test_whoami())::text;
commit;
SQL
# pgbench_run CONNECTIONS SCRIPT: transactions/s and average latency of one pgbench run.
pgbench_run() {
  pgbench "$AUTH" -n -M extended -c "$1" -j 2 -T "$SECONDS_PER_RUN" -f "$OUT/$2.sql" 2>&1 \
    | awk '/^tps = /{tps=$3} /^latency average/{lat=$4} END {print tps, lat}'
}
{
  echo
  echo "## The same SQL without HTTP (pgbench, as authenticator, extended protocol)"
  echo
  echo "| script | connections | transactions/s | avg latency ms |"
  echo "|---|---:|---:|---:|"
} >> "$REPORT"
for script in invoke transaction; do
  for c in $CONNECTIONS; do
    read -r tps latency < <(pgbench_run "$c" "$script")
    echo "| $script | $c | ${tps%.*} | $latency |" >> "$REPORT"
    echo "bench: pgbench $script at $c: $tps tps"
  done
done

# The ratio from back-to-back pairs: on a shared machine throughput drifts by 10–20 % over
# minutes, so a gateway run and a pgbench run minutes apart compare the drift as much as the two.
RATIO_ROUNDS=${BENCH_RATIO_ROUNDS:-3}
{
  echo
  echo "## Gateway ÷ pgbench, whoami against its own SQL, $RATIO_ROUNDS back-to-back pairs per row"
  echo
  echo "| connections | gateway req/s | pgbench tps | ratio per pair | median ratio |"
  echo "|---:|---|---|---|---:|"
} >> "$REPORT"
for c in $CONNECTIONS; do
  pairs=""
  for _ in $(seq 1 "$RATIO_ROUNDS"); do
    read -r rps errors < <(wrk_json "$c" "$TOKEN" /api/v1/test/whoami | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["rps"], d["errors"])')
    [ "$errors" = 0 ] || { echo "bench: whoami answered $errors errors at $c connections; no ratio from that" >&2; exit 1; }
    read -r tps _ < <(pgbench_run "$c" invoke)
    pairs="$pairs $rps:$tps"
  done
  python3 - "$c" $pairs >> "$REPORT" <<'PY'
import statistics, sys
c, pairs = sys.argv[1], [tuple(map(float, p.split(":"))) for p in sys.argv[2:]]
ratios = [g / p * 100 for g, p in pairs]
print(f"| {c} | {' / '.join(f'{g:.0f}' for g, _ in pairs)} | {' / '.join(f'{p:.0f}' for _, p in pairs)} "
      f"| {' / '.join(f'{r:.0f} %' for r in ratios)} | {statistics.median(ratios):.0f} % |")
PY
  echo "bench: gateway ÷ pgbench at $c:$pairs"
done

[ "${BENCH_HOTDASH:-1}" = 1 ] && . scripts/bench-hotdash.sh
[ "${BENCH_FLOWPILOT:-1}" = 1 ] && . scripts/bench-flowpilot.sh
[ "${BENCH_FORECASTLAB:-1}" = 1 ] && . scripts/bench-forecastlab.sh
[ "${BENCH_FORECASTLAB:-1}" = 1 ] && [ "${BENCH_PEER:-1}" = 1 ] && . scripts/bench-peer.sh
[ "${BENCH_FORECASTLAB:-1}" = 1 ] && [ "${BENCH_MODELS:-1}" = 1 ] && . scripts/bench-models.sh
[ "${BENCH_FORECASTLAB:-1}" = 1 ] && [ "${BENCH_JOBS:-1}" = 1 ] && . scripts/bench-jobs.sh
[ "${BENCH_FORECASTLAB:-1}" = 1 ] && [ "${BENCH_RAG:-1}" = 1 ] && . scripts/bench-rag.sh

echo
echo "report: $REPORT"
cat "$REPORT"
