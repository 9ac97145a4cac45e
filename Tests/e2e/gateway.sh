#!/usr/bin/env bash
# End-to-end checks that need real processes: two gateways sharing one rate limit through
# PostgreSQL, scheduled refresh of stale rollups, graceful shutdown on SIGTERM, a job whose gateway
# is killed with SIGKILL run again by another, and recovery after the database restarts.
# Usage: TEST_DATABASE_URL=<owner's URL> Tests/e2e/gateway.sh GATEWAY_BINARY GATEWAY_DATABASE_URL [--restart-embedded-db]
set -uo pipefail
gateway=$1
url=$2
restart=${3:-}
cd "$(dirname "$0")/../.."

passed=0; failed=0
check() {  # check NAME EXPECTED ACTUAL
  if [ "$2" = "$3" ]; then passed=$((passed + 1)); echo "ok - $1";
  else failed=$((failed + 1)); echo "not ok - $1 (expected $2, got $3)"; fi
}

export JWT_SECRET=$(head -c 48 /dev/urandom | base64 | tr -d '/+=')
token=$($gateway token --role authenticated)
pids=()
start() {  # start PORT [ENV…]: a gateway in the background, waiting until it listens
  local port=$1; shift
  env "$@" DATABASE_URL="$url" "$gateway" --port "$port" --log-level warning >"/tmp/e2e-gateway-$port.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 100); do curl -sf -o /dev/null "http://127.0.0.1:$port/ready" && return 0; sleep 0.1; done
  echo "gateway on $port did not become ready"; cat "/tmp/e2e-gateway-$port.log"; return 1
}
status() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
trap 'kill "${pids[@]}" 2>/dev/null' EXIT

admin_sql() { psql "$TEST_DATABASE_URL" -X -q -t -A -v ON_ERROR_STOP=1 -c "$1"; }
# Every rollup an hour old: the gateways' first maintenance tick must refresh them (one of them does).
admin_sql "update hotdash.rollups set refreshed_at = now() - interval '1 hour'"

a=18181; b=18182
start $a RATE_LIMIT_STORE=postgres JOB_WORKERS=0 || exit 1
start $b RATE_LIMIT_STORE=postgres JOB_WORKERS=0 || exit 1

fresh=0
for _ in $(seq 1 100); do
  fresh=$(admin_sql "select count(*) from hotdash.rollups where refreshed_at > now() - interval '1 minute'")
  [ "$fresh" = 7 ] && break; sleep 0.2
done
check "the gateways refresh stale rollups on their schedule" 7 "$fresh"
check "two gateways ticking together do not fail" 0 "$(cat /tmp/e2e-gateway-$a.log /tmp/e2e-gateway-$b.log | grep -c 'maintenance failed')"

# Two processes, one limit: the policy allows 2 a minute per caller, wherever they land.
check "first request on gateway A passes" 200 "$(status -H "Authorization: Bearer $token" http://127.0.0.1:$a/api/v1/test/limited)"
check "second request on gateway B passes" 200 "$(status -H "Authorization: Bearer $token" http://127.0.0.1:$b/api/v1/test/limited)"
check "third request on gateway A is limited" 429 "$(status -H "Authorization: Bearer $token" http://127.0.0.1:$a/api/v1/test/limited)"
check "fourth request on gateway B is limited" 429 "$(status -H "Authorization: Bearer $token" http://127.0.0.1:$b/api/v1/test/limited)"

# Graceful shutdown: a request in flight when SIGTERM arrives still gets its answer.
slow=$(mktemp)
curl -s -o "$slow" -w '%{http_code}' -H "Authorization: Bearer $token" "http://127.0.0.1:$a/api/v1/test/sleep?seconds=1.5" >"$slow.status" &
curl_pid=$!
sleep 0.5
kill -TERM "${pids[0]}"
wait $curl_pid
check "the request in flight at SIGTERM completes" 200 "$(cat "$slow.status")"
check "and carries its body" '{"slept": 1.5}' "$(cat "$slow")"
for _ in $(seq 1 50); do kill -0 "${pids[0]}" 2>/dev/null || break; sleep 0.1; done
wait "${pids[0]}"; code=$?
check "the gateway exits cleanly after SIGTERM" 0 "$code"
check "and no longer accepts connections" 000 "$(status --max-time 2 http://127.0.0.1:$a/health)"

# The demo users' password is made per install: the one that used to be published opens nothing.
for seed in seeds/10_hotdash_generator.sql seeds/30_flowpilot_generator.sql seeds/40_flowpilot_demo.sql; do
  psql "$TEST_DATABASE_URL" -X -q -o /dev/null -v ON_ERROR_STOP=1 -v demo_password=e2e-made-here-7 -f "$seed" || exit 1
done
login() { status -d "username=engineer@acme.example&password=$1" "http://127.0.0.1:$b/api/v1/auth/login"; }
check "the published demo password does not log in" 401 "$(login demo-password-1)"
check "the password made for this install does" 200 "$(login e2e-made-here-7)"

# A gateway killed (SIGKILL) in the middle of a job: its job's backend notices within seconds and
# rolls back, and another gateway's worker runs the job again at once, exactly once. The job is
# held mid-way by a lock this script takes on the artifacts table.
account=$(cat /proc/sys/kernel/random/uuid)
ids=$(admin_sql "with s as (insert into forecast.stores (account_id, store_code, name) values ('$account', 'K1', 'Kill') returning id),
  p as (insert into forecast.products (account_id, sku, name, base_price) values ('$account', 'K1', 'Kill', 1) returning id),
  x as (insert into forecast.sales_daily (account_id, store_id, product_id, date, quantity, unit_price, total_amount)
        select '$account', s.id, p.id, date '2026-01-01' + i, 5 + i % 3, 1, 0 from s, p, generate_series(0, 59) i)
  select s.id || ' ' || p.id from s, p")
read -r store product <<<"$ids"
admin_token=$($gateway token --role authenticated --account "$account" --app-role admin)
c=18183; d=18184
start $c JOB_WORKERS=1 || exit 1
PGAPPNAME=e2e-lock-holder psql "$TEST_DATABASE_URL" -X -q -o /dev/null \
  -c "begin; lock table forecast_models.artifacts in exclusive mode; select pg_sleep(120)" 2>/dev/null &
for _ in $(seq 1 50); do [ "$(admin_sql "select count(*) from pg_locks l join pg_class c on c.oid = l.relation where c.relname = 'artifacts' and l.mode = 'ExclusiveLock' and l.granted")" = 1 ] && break; sleep 0.1; done
job=$(curl -s -H "Authorization: Bearer $admin_token" -H 'Content-Type: application/json' \
  -d "{\"job_type\": \"train\", \"params\": {\"model_type\": \"naive\", \"store_id\": $store, \"product_id\": $product, \"start_date\": \"2026-01-01\", \"end_date\": \"2026-03-01\"}}" \
  "http://127.0.0.1:$c/jobs" | sed -n 's/.*"job_id": *"\([0-9a-f]*\)".*/\1/p')
job_state() { admin_sql "select status || ',' || attempts from forecast_models.jobs where job_id = '$job'"; }
for _ in $(seq 1 100); do [ "$(job_state)" = "running,1" ] && break; sleep 0.1; done
check "gateway C's worker is running the job" "running,1" "$(job_state)"
kill -KILL "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null
workers=1
for _ in $(seq 1 100); do workers=$(admin_sql "select count(*) from pg_stat_activity where application_name like 'gateway job worker%'"); [ "$workers" = 0 ] && break; sleep 0.1; done
check "the killed gateway's job backend stops within seconds" 0 "$workers"
check "its job is still running, held by nobody" "running,1" "$(job_state)"
admin_sql "select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'e2e-lock-holder'" >/dev/null
start $d JOB_WORKERS=1 || exit 1
for _ in $(seq 1 100); do [ "$(job_state)" = "completed,2" ] && break; sleep 0.1; done
check "gateway D's worker runs it again at once, and completes it" "completed,2" "$(job_state)"
check "its work committed once" 1 "$(admin_sql "select count(*) from forecast_models.artifacts where account_id = '$account'")"
check "and GET /jobs/{id} says so" completed "$(curl -s -H "Authorization: Bearer $admin_token" "http://127.0.0.1:$d/jobs/$job" | sed -n 's/.*"status": *"\([a-z]*\)".*/\1/p')"
kill -TERM "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null

# The database goes away and comes back: 503 with Retry-After meanwhile, then recovery, no restart.
if [ "$restart" = "--restart-embedded-db" ]; then
  scripts/db.sh stop >/dev/null
  check "/ready says 503 while the database is down" 503 "$(status --max-time 5 http://127.0.0.1:$b/ready)"
  headers=$(curl -s -D - -o /dev/null --max-time 10 -H "Authorization: Bearer $token" http://127.0.0.1:$b/api/v1/test/whoami)
  check "an API call gets 503 while the database is down" 503 "$(echo "$headers" | head -1 | awk '{print $2}')"
  check "with Retry-After" 1 "$(echo "$headers" | grep -ci '^retry-after:')"
  # Down long enough for the retries to reach their longest delay: recovery must not wait it out.
  sleep 6
  scripts/db.sh start >/dev/null
  back=$(date +%s%N)
  recovered=000
  for _ in $(seq 1 300); do recovered=$(status --max-time 5 http://127.0.0.1:$b/ready); [ "$recovered" = 200 ] && break; sleep 0.1; done
  check "/ready recovers once the database is back" 200 "$recovered"
  waited_ms=$(( ($(date +%s%N) - back) / 1000000 ))
  echo "# ready again ${waited_ms} ms after the database was"
  # Retries are at most 0.5 s apart; 2.5 s leaves room for a slow machine (it was 5-8 s).
  check "and within a couple of seconds of it" 1 "$([ "$waited_ms" -le 2500 ] && echo 1 || echo 0)"
  check "API calls work again without a restart" 200 "$(status -H "Authorization: Bearer $token" http://127.0.0.1:$b/api/v1/test/whoami)"
else
  echo "skip - database restart (needs the embedded database)"
fi

echo "e2e: $passed passed, $failed failed"
[ "$failed" = 0 ]
