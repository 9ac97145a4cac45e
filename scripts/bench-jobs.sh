#!/usr/bin/env bash
# ForecastLab's job queue (docs/benchmarks.md, "ForecastLab jobs"). Sourced by scripts/bench.sh,
# which has started the gateways (the cold one runs the default two workers, the other none); also
# runs alone (`scripts/bench-jobs.sh`: release build, database bench_jobs, one gateway).
#
# One client, on a year of daily data of one store and product, a seasonal_naive model:
#   (a) queue overhead with the workers idle: a predict job submitted, then waited for; the time
#       from the submission's insert to the worker's claim (created_at → started_at, the
#       database's clock), per job;
#   (b) a predict job's whole round trip with `Prefer: wait=10` (submit, run, answer) beside the
#       same predict called directly (POST /forecasting/predict), alternating;
#   (c) throughput: BENCH_JOBS_BURST predict jobs submitted back to back, and how many the default
#       workers complete per second (first claim to last completion).
# BENCH_JOBS=0 skips it; BENCH_JOBS_ROUNDS (200) and BENCH_JOBS_BURST (500) set the counts.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  cd "$(dirname "$0")/.."
  . scripts/bench-alone.sh
  bench_alone jobs "ForecastLab jobs" ", 2 job workers; the client, the gateway and PostgreSQL share the machine."
fi

JOBS_ACCOUNT=55555555-0000-4000-8000-000000000004
psql "$ADMIN" -Xq -c "update gateway.rate_policies set requests = 1000000000 where name like 'forecastlab-models-%'"
if [ "$(psql "$ADMIN" -XtAc "select count(*) from forecast.stores where account_id = '$JOBS_ACCOUNT'")" = 0 ]; then
  psql "$ADMIN" -Xq -o /dev/null -v ON_ERROR_STOP=1 \
    -c "select forecast.generate('$JOBS_ACCOUNT', forecast.seeder_settings(12, 1, 1, date '2025-07-01', date '2026-06-30', 0, null))"
fi
jobs_store=$(psql "$ADMIN" -XtAc "select min(id) from forecast.stores where account_id = '$JOBS_ACCOUNT'")
jobs_product=$(psql "$ADMIN" -XtAc "select min(id) from forecast.products where account_id = '$JOBS_ACCOUNT'")
jobs_token=$(.build/release/Gateway token --role authenticated --account "$JOBS_ACCOUNT" --app-role admin --ttl 7200)

jobs_results=$(/usr/bin/python3 - "$COLD_PORT" "$jobs_token" "$jobs_store" "$jobs_product" \
  "${BENCH_JOBS_ROUNDS:-200}" "${BENCH_JOBS_BURST:-500}" <<'PY'
import http.client, json, statistics, sys, time

port, token, store, product = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
rounds, burst = int(sys.argv[5]), int(sys.argv[6])
connection = http.client.HTTPConnection("127.0.0.1", int(port), timeout=120)

def call(method, path, body=None, prefer=None):
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    if prefer:
        headers["Prefer"] = prefer
    connection.request(method, path, json.dumps(body) if body is not None else None, headers)
    response = connection.getresponse()
    data = json.loads(response.read())
    if response.status >= 300:
        raise SystemExit(f"{method} {path}: {response.status} {data}")
    return data

trained = call("POST", "/jobs", {"job_type": "train", "params": {"model_type": "seasonal_naive", "store_id": store, "product_id": product,
                                                                 "start_date": "2025-07-01", "end_date": "2026-06-30"}}, "wait=10")
assert trained["status"] == "completed", trained
key = trained["result"]["run_id"]
predict_job = {"job_type": "predict", "params": {"run_id": key, "horizon": 14}}
predict_direct = {"store_id": store, "product_id": product, "horizon": 14, "model_path": trained["result"]["model_path"]}

# (b), and (a) from the same jobs: the workers are idle before each one.
jobs, direct, waited, ids = [], [], [], []
for i in range(rounds + 5):
    for kind in (("job", "direct") if i % 2 == 0 else ("direct", "job")):
        start = time.perf_counter()
        if kind == "job":
            answer = call("POST", "/jobs", predict_job, "wait=10")
            assert answer["status"] == "completed", answer
            elapsed = time.perf_counter() - start
            if i >= 5:
                waited.append(elapsed * 1000); ids.append(answer["job_id"])
        else:
            answer = call("POST", "/forecasting/predict", predict_direct)
            if i >= 5:
                direct.append((time.perf_counter() - start) * 1000)
        assert len(answer.get("forecasts", answer.get("result", {}).get("forecasts", []))) == 14
    time.sleep(0.01)  # the workers go back to waiting

# (c): a burst, then wait for the last one.
burst_ids = [call("POST", "/jobs", predict_job)["job_id"] for _ in range(burst)]
deadline = time.time() + 300
while time.time() < deadline:
    if call("GET", f"/jobs/{burst_ids[-1]}")["status"] in ("completed", "failed"):
        break
    time.sleep(0.05)
print(json.dumps({"waited": waited, "direct": direct, "ids": ids, "burst_ids": burst_ids}))
PY
)
printf '%s' "$jobs_results" | python3 -c 'import json,sys; d=json.load(sys.stdin); print("\n".join(d["ids"]))' > "$OUT/jobs-latency-ids.txt"
printf '%s' "$jobs_results" | python3 -c 'import json,sys; d=json.load(sys.stdin); print("\n".join(d["burst_ids"]))' > "$OUT/jobs-burst-ids.txt"
# The database's clock: claim delay per job (a), and the burst's span (c).
jobs_overhead=$(psql "$ADMIN" -XtA -F ' ' -v ON_ERROR_STOP=1 -c "create temp table ids (id text)" \
  -c "\\copy ids from '$OUT/jobs-latency-ids.txt'" -c "
  select round((percentile_cont(0.5) within group (order by ms))::numeric, 2), round((percentile_cont(0.99) within group (order by ms))::numeric, 2),
         round((percentile_cont(0.5) within group (order by run))::numeric, 2)
    from (select extract(epoch from started_at - created_at) * 1000 as ms, extract(epoch from completed_at - started_at) * 1000 as run
            from forecast_models.jobs where job_id in (select id from ids)) x" | tail -1)
jobs_burst=$(psql "$ADMIN" -XtA -F ' ' -v ON_ERROR_STOP=1 -c "create temp table ids (id text)" \
  -c "\\copy ids from '$OUT/jobs-burst-ids.txt'" -c "
  select count(*) filter (where status = 'completed'), count(*),
         round((count(*) filter (where status = 'completed') / extract(epoch from max(completed_at) - min(started_at)))::numeric, 0),
         count(distinct split_part(worker, ' pid ', 1))
    from forecast_models.jobs where job_id in (select id from ids)" | tail -1)
read -r jobs_p50 jobs_p99 jobs_run_p50 <<< "$jobs_overhead"
read -r jobs_done jobs_total jobs_rate jobs_workers <<< "$jobs_burst"
read -r waited_p50 waited_p99 direct_p50 direct_p99 ratio_p50 <<< "$(printf '%s' "$jobs_results" | python3 -c '
import json, statistics, sys
d = json.load(sys.stdin)
waited, direct = d["waited"], d["direct"]
def q(v, p): v = sorted(v); return v[min(len(v) - 1, int(p * len(v)))]
ratio = statistics.median(w / x for w, x in zip(waited, direct))
print(f"{statistics.median(waited):.2f} {q(waited, 0.99):.2f} {statistics.median(direct):.2f} {q(direct, 0.99):.2f} {ratio:.2f}")')"
echo "bench: jobs: claim p50 $jobs_p50 ms, Prefer wait p50 $waited_p50 ms (direct $direct_p50 ms), burst $jobs_done/$jobs_total at $jobs_rate jobs/s"
{
  echo
  echo "## ForecastLab jobs"
  echo
  echo "A predict job (seasonal_naive, 14 days, one year of daily data) through the queue, on the gateway's default two workers; one client."
  echo
  echo "| Measure | p50 | p99 |"
  echo "|---|---:|---:|"
  echo "| Queue overhead: submission to a worker's claim, workers idle (database clock, $((${BENCH_JOBS_ROUNDS:-200})) jobs) | $jobs_p50 ms | $jobs_p99 ms |"
  echo "| The job's own run (claim to completion) | $jobs_run_p50 ms | |"
  echo "| \`POST /jobs\` with \`Prefer: wait=10\`, whole round trip | $waited_p50 ms | $waited_p99 ms |"
  echo "| The same predict called directly, \`POST /forecasting/predict\` (alternating) | $direct_p50 ms | $direct_p99 ms |"
  echo
  echo "Through the queue ÷ direct, median of the pairs: $ratio_p50. Burst: $jobs_done of $jobs_total predict jobs completed at **$jobs_rate jobs/s** by $jobs_workers workers (first claim to last completion)."
} >> "$REPORT"
