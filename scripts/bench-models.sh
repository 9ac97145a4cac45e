#!/usr/bin/env bash
# ForecastLab's models beside the upstream way of doing the same work (docs/benchmarks.md,
# "ForecastLab models"). Sourced by scripts/bench.sh, which has started the gateways; also runs
# alone (`scripts/bench-models.sh`: release build, its own database bench_models, its own gateway).
#
# One client, sequential, the two servers alternating request by request (which goes first
# alternates too), medians of the pairs:
#   (a) train + predict of seasonal_naive over HTTP, two years of daily data: the gateway (the SQL
#       functions) against a FastAPI + asyncpg + numpy peer (bench/peer/forecastlab_models_peer.py)
#       that loads the series into Python, fits, joblib.dumps the artifact and loads it to predict;
#   (b) a five-fold expanding backtest of seasonal_naive with both baselines, the same two;
#   (c) `regression` (HistGradientBoostingRegressor) trained over HTTP on a warm backend (warm-up
#       trains first, so PL/Python's imports are not counted) against scikit-learn fitting the same
#       frame outside the database (Debian's Python, .pylib, OMP_NUM_THREADS=1: one thread, as the
#       database's backends); and where the database's time goes (the frame, the learner).
# BENCH_MODELS=0 skips it; BENCH_MODELS_ROUNDS (200), BENCH_MODELS_REGRESSION_ROUNDS (20) set the counts.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  # Alone: what bench.sh would have set up, on a database of its own.
  set -euo pipefail
  cd "$(dirname "$0")/.."
  . scripts/bench-alone.sh
  # BENCH_REUSE=1 keeps the database of the run before (as bench.sh does).
  bench_alone models "ForecastLab models" "; the client, both servers and PostgreSQL share the machine." "${BENCH_REUSE:-0}"
fi

MODELS_ACCOUNT=55555555-0000-4000-8000-000000000003
MODELS_PEER_PORT=$((PORT + 6))
MODELS_FIRST=2024-07-01
MODELS_LAST=2026-06-30
psql "$ADMIN" -Xq -c "update gateway.rate_policies set requests = 1000000000 where name like 'forecastlab-models-%'"

# Two years of daily data: 2 stores × 3 products, 2024-07-01 … 2026-06-30 (the seeder's standard
# retail scenario without sparsity: a row per day that sold, about 98 % of the days).
if [ "$(psql "$ADMIN" -XtAc "select count(*) from forecast.stores where account_id = '$MODELS_ACCOUNT'")" = 0 ]; then
  psql "$ADMIN" -Xq -o /dev/null -v ON_ERROR_STOP=1 \
    -c "select forecast.generate('$MODELS_ACCOUNT', forecast.seeder_settings(11, 2, 3, date '$MODELS_FIRST', date '$MODELS_LAST', 0, null))"
  psql "$ADMIN" -Xq -c "analyze forecast.sales_daily"
fi
models_store=$(psql "$ADMIN" -XtAc "select min(id) from forecast.stores where account_id = '$MODELS_ACCOUNT'")
models_product=$(psql "$ADMIN" -XtAc "select min(id) from forecast.products where account_id = '$MODELS_ACCOUNT'")
models_rows=$(psql "$ADMIN" -XtAc "select count(*) from forecast.sales_daily where store_id = $models_store and product_id = $models_product and date between '$MODELS_FIRST' and '$MODELS_LAST'")
models_token=$(.build/release/Gateway token --role authenticated --account "$MODELS_ACCOUNT" --app-role admin --ttl 7200)
echo "bench: forecastlab models on store $models_store, product $models_product: $models_rows daily rows"

# The peer: FastAPI + asyncpg + numpy + joblib in .bench-venv (gitignored), its artifacts in a
# folder of its own, removed at the end.
if [ ! -x .bench-venv/bin/uvicorn ]; then
  echo "bench: installing the peers' packages into .bench-venv"
  python3 -m venv .bench-venv
  .bench-venv/bin/pip install -q fastapi 'uvicorn[standard]' asyncpg pyjwt
fi
.bench-venv/bin/python -c 'import numpy, joblib' 2>/dev/null || .bench-venv/bin/pip install -q numpy joblib
MODELS_ARTIFACTS=$(mktemp -d)
PEER_DATABASE_URL="$ADMIN" PEER_ARTIFACT_DIR="$MODELS_ARTIFACTS" PEER_POOL=2 \
  .bench-venv/bin/uvicorn --app-dir bench/peer forecastlab_models_peer:app \
  --host 127.0.0.1 --port "$MODELS_PEER_PORT" --workers 2 --loop uvloop --http httptools --log-level warning \
  > "$OUT/models-peer.log" 2>&1 &
MODELS_PEER_PID=$!
trap 'kill ${GATEWAY_PID:-} ${COLD_PID:-} ${PEER_PID:-} $MODELS_PEER_PID 2>/dev/null; rm -rf "$MODELS_ARTIFACTS"' EXIT
for _ in $(seq 1 100); do
  [ "$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' -d '{}' "http://127.0.0.1:$MODELS_PEER_PORT/forecasting/predict")" = 422 ] && break
  sleep 0.2
done

# The database's share of (a) and (b): the statement the gateway sends (gateway.invoke, the body as
# $1, as ParameterBinder binds it), as the gateway's login, one client, pgbench's average over 5 s.
models_claims="{\"role\": \"authenticated\", \"sub\": \"00000000-0000-4000-8000-0000000000be\", \"app_metadata\": {\"account_id\": \"$MODELS_ACCOUNT\", \"app_role\": \"admin\"}}"
models_invoke() {  # models_invoke CALL BODY: one gateway.invoke statement, quoted for SQL
  local call=${1//\'/\'\'} body=${2//\'/\'\'}
  echo "select length(body) from gateway.invoke('authenticated', '$models_claims', false, '$call', '$body'::jsonb);"
}
models_train_call="select (api.forecasting_train(store_id => (\$1->>'store_id')::bigint, product_id => (\$1->>'product_id')::bigint, train_start_date => (\$1->>'train_start_date')::date, train_end_date => (\$1->>'train_end_date')::date, config => (\$1->'config')::jsonb))::text"
models_predict_call="select (api.forecasting_predict(store_id => (\$1->>'store_id')::bigint, product_id => (\$1->>'product_id')::bigint, horizon => (\$1->>'horizon')::integer, model_path => (\$1->>'model_path')::text))::text"
models_backtest_call="select (api.backtesting_run(store_id => (\$1->>'store_id')::bigint, product_id => (\$1->>'product_id')::bigint, start_date => (\$1->>'start_date')::date, end_date => (\$1->>'end_date')::date, config => (\$1->'config')::jsonb))::text"
models_invoke "$models_train_call" "{\"store_id\": $models_store, \"product_id\": $models_product, \"train_start_date\": \"$MODELS_FIRST\", \"train_end_date\": \"$MODELS_LAST\", \"config\": {\"model_type\": \"seasonal_naive\"}}" > "$OUT/models-train.sql"
models_path=$(psql "$AUTH" -XtA -v ON_ERROR_STOP=1 -f "$OUT/models-train.sql" >/dev/null && \
  psql "$ADMIN" -XtAc "select 'artifacts/models/model_' || artifact_key || '.joblib' from forecast_models.artifacts where account_id = '$MODELS_ACCOUNT' and model_type = 'seasonal_naive' and store_id = $models_store and product_id = $models_product order by id desc limit 1")
models_invoke "$models_predict_call" "{\"store_id\": $models_store, \"product_id\": $models_product, \"horizon\": 14, \"model_path\": \"$models_path\"}" > "$OUT/models-predict.sql"
models_invoke "$models_backtest_call" "{\"store_id\": $models_store, \"product_id\": $models_product, \"start_date\": \"$MODELS_FIRST\", \"end_date\": \"$MODELS_LAST\", \"config\": {\"model_config_main\": {\"model_type\": \"seasonal_naive\"}, \"split_config\": {\"n_splits\": 5}, \"include_baselines\": true}}" > "$OUT/models-backtest.sql"
models_sql_ms() {  # models_sql_ms SCRIPT: pgbench's average latency, ms
  pgbench "$AUTH" -n -M extended -c 1 -T 5 -f "$OUT/models-$1.sql" 2>&1 | awk '/^latency average/{print $4}'
}
models_sql_train=$(models_sql_ms train)
models_sql_predict=$(models_sql_ms predict)
models_sql_backtest=$(models_sql_ms backtest)

# Where the database's time goes in a regression train: 5 trains in one session after a warm-up
# train (scikit-learn imported), per train from PostgreSQL's function statistics (track_functions):
# the whole function, the learner (fit and trees to JSON, PL/Python), the V1 frame (SQL), the
# learner's JSON parsed into jsonb with the rest of fit_features, and train's own part (the
# artifact's bundle, SHA-256 and row).
models_split=$(psql "$ADMIN" -XqtA -F ' ' -v ON_ERROR_STOP=1 <<SQL
set track_functions = 'all';
select set_config('request.jwt.claims', '$models_claims', false) is null;
set role authenticated;
select length(api.forecasting_train(store_id => $models_store, product_id => $models_product, train_start_date => '$MODELS_FIRST',
                                    train_end_date => '$MODELS_LAST', config => '{"model_type": "regression"}')::text) is null;
begin;
select count(api.forecasting_train(store_id => $models_store, product_id => $models_product, train_start_date => '$MODELS_FIRST',
                                   train_end_date => '$MODELS_LAST', config => '{"model_type": "regression"}')) from generate_series(1, 5);
select round((sum(total_time) filter (where funcname = 'forecasting_train') / 5)::numeric, 1),
       round((sum(total_time) filter (where funcname = 'learner_fit') / 5)::numeric, 1),
       round((sum(total_time) filter (where funcname = 'frame_cells') / 5)::numeric, 1),
       round((sum(self_time) filter (where funcname = 'fit_features') / 5)::numeric, 1),
       round((sum(self_time) filter (where funcname = 'forecasting_train') / 5)::numeric, 1)
  from pg_stat_xact_user_functions where schemaname in ('api', 'forecast_models');
rollback;
SQL
)
read -r models_fn_ms models_learner_ms models_frame_ms models_parse_ms models_artifact_ms <<< "$(tail -1 <<< "$models_split")"

# The same frame for scikit-learn outside the database, fetched once.
psql "$ADMIN" -XtA -v ON_ERROR_STOP=1 > "$OUT/models-frame.json" <<SQL
with s as (select array_agg(date order by date) d, array_agg(quantity::float8 order by date) y from forecast.sales_daily
            where store_id = $models_store and product_id = $models_product and date between '$MODELS_FIRST' and '$MODELS_LAST'),
     g as (select g.* from s, forecast_models.daily_grid(s.d, s.y, '$MODELS_LAST') g)
select json_build_object('x', forecast_models.frame_cells($models_store, $models_product, g.days, g.days, g.values_, '$MODELS_LAST', forecast_models.frame_v1_columns()),
                         'y', g.values_, 'columns', cardinality(forecast_models.frame_v1_columns())) from g;
SQL

# The client: Debian's Python with .pylib (scikit-learn, for (c) in the same process, one thread).
models_results=$(OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 PYTHONPATH=.pylib /usr/bin/python3 - \
  "$COLD_PORT" "$MODELS_PEER_PORT" "$models_token" "$models_store" "$models_product" "$MODELS_FIRST" "$MODELS_LAST" \
  "$OUT/models-frame.json" "${BENCH_MODELS_ROUNDS:-200}" "${BENCH_MODELS_REGRESSION_ROUNDS:-20}" "${POOL:-3}" <<'PY'
import http.client, json, math, statistics, sys, time
import numpy as np
from sklearn.ensemble import HistGradientBoostingRegressor

ours_port, peer_port, token, store, product, first, last, frame_file = sys.argv[1:9]
rounds, regression_rounds, pool = int(sys.argv[9]), int(sys.argv[10]), int(sys.argv[11])
store, product = int(store), int(product)
connections = {name: http.client.HTTPConnection("127.0.0.1", int(port), timeout=120)
               for name, port in (("ours", ours_port), ("peer", peer_port))}

def post(server, path, body):
    c = connections[server]
    c.request("POST", path, json.dumps(body), {"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    r = c.getresponse()
    data = r.read()
    if r.status != 200:
        raise SystemExit(f"{server} {path}: {r.status} {data[:300]!r}")
    # The gateway's Server-Timing: db (the round trip to PostgreSQL) and total, ms.
    timing = dict(part.split(";dur=") for part in (r.getheader("Server-Timing") or "").replace(" ", "").split(",") if ";dur=" in part)
    spent[0] += float(timing.get("db", "nan")); spent[1] += float(timing.get("total", "nan"))
    return json.loads(data)
spent = [0.0, 0.0]

def train_predict(server):
    trained = post(server, "/forecasting/train", {"store_id": store, "product_id": product, "train_start_date": first,
                                                  "train_end_date": last, "config": {"model_type": "seasonal_naive"}})
    return post(server, "/forecasting/predict", {"store_id": store, "product_id": product, "horizon": 14,
                                                 "model_path": trained["model_path"]})

backtest_body = {"store_id": store, "product_id": product, "start_date": first, "end_date": last,
                 "config": {"model_config_main": {"model_type": "seasonal_naive"}, "split_config": {"n_splits": 5},
                            "include_baselines": True}}
def backtest(server):
    return post(server, "/backtesting/run", backtest_body)

# The two do the same work: equal forecasts, equal folds and metrics.
a, b = train_predict("ours"), train_predict("peer")
assert [f["forecast"] for f in a["forecasts"]] == [f["forecast"] for f in b["forecasts"]], "train+predict answers differ"
assert [f["date"] for f in a["forecasts"]] == [f["date"] for f in b["forecasts"]], "forecast dates differ"
a, b = backtest("ours"), backtest("peer")
for x, y in zip([a["main_model_results"]] + a["baseline_results"], [b["main_model_results"]] + b["baseline_results"]):
    assert [f["split"] for f in x["fold_results"]] == [f["split"] for f in y["fold_results"]], "folds differ"
    for name, value in x["aggregated_metrics"].items():
        assert math.isclose(value, y["aggregated_metrics"][name], rel_tol=1e-9), (name, value, y["aggregated_metrics"][name])
folds = len(a["main_model_results"]["fold_results"])

def alternate(work, n, warmup=5):
    for i in range(warmup):
        work("ours"), work("peer")
    times = {"ours": [], "peer": [], "db": [], "gateway": []}
    for i in range(n):
        for server in (("ours", "peer") if i % 2 == 0 else ("peer", "ours")):
            spent[:] = [0.0, 0.0]
            started = time.perf_counter()
            work(server)
            times[server].append((time.perf_counter() - started) * 1000)
            if server == "ours":
                times["db"].append(spent[0])
                times["gateway"].append(spent[1])
    return times

def p(values, q):
    return float(np.percentile(values, q))

lines = []
for label, work in (("train+predict", train_predict), ("backtest", backtest)):
    times = alternate(work, rounds if label == "train+predict" else max(rounds // 2, 1))
    ratios = [o / q for o, q in zip(times["ours"], times["peer"])]
    lines.append(["pair", label, len(times["ours"]), p(times["ours"], 50), p(times["ours"], 95),
                  p(times["peer"], 50), p(times["peer"], 95), statistics.median(ratios), p(times["db"], 50), p(times["gateway"], 50)])

# (c) regression: warm every pooled connection's backend (its first train imports scikit-learn).
frame = json.load(open(frame_file))
X = np.array([np.nan if v is None else v for v in frame["x"]], dtype=np.float64).reshape(-1, frame["columns"])
y = np.array(frame["y"], dtype=np.float64)
regression_body = {"store_id": store, "product_id": product, "train_start_date": first, "train_end_date": last,
                   "config": {"model_type": "regression"}}
warm = []
for _ in range(2 * pool + 1):
    started = time.perf_counter()
    answer = post("ours", "/forecasting/train", regression_body)
    warm.append((time.perf_counter() - started) * 1000)
assert answer["n_observations"] == len(y), (answer["n_observations"], len(y))
def fit():
    return HistGradientBoostingRegressor(max_iter=200, learning_rate=0.05, max_depth=6, early_stopping=False, random_state=0).fit(X, y)
fit()
ours, outside = [], []
for i in range(regression_rounds):
    for side in (("ours", "outside") if i % 2 == 0 else ("outside", "ours")):
        started = time.perf_counter()
        post("ours", "/forecasting/train", regression_body) if side == "ours" else fit()
        (ours if side == "ours" else outside).append((time.perf_counter() - started) * 1000)
lines.append(["regression", len(y), X.shape[1], len(ours), p(ours, 50), p(ours, 95), p(outside, 50), p(outside, 95),
              statistics.median(o / q for o, q in zip(ours, outside)), max(warm), min(warm)])
lines.append(["folds", folds])
for line in lines:
    print(" ".join(f"{v:.2f}" if isinstance(v, float) else str(v) for v in line))
PY
)
kill $MODELS_PEER_PID 2>/dev/null
echo "$models_results" | sed 's/^/bench: forecastlab models: /'

read -r _ _ tp_n tp_ours50 tp_ours95 tp_peer50 tp_peer95 tp_ratio tp_db tp_gw < <(grep '^pair train+predict' <<< "$models_results")
read -r _ _ bt_n bt_ours50 bt_ours95 bt_peer50 bt_peer95 bt_ratio bt_db bt_gw < <(grep '^pair backtest' <<< "$models_results")
read -r _ rg_rows rg_cols rg_n rg_ours50 rg_ours95 rg_out50 rg_out95 rg_ratio rg_warm_max rg_warm_min < <(grep '^regression' <<< "$models_results")
read -r _ bt_folds < <(grep '^folds' <<< "$models_results")
verdict() { python3 -c "print('met' if $1 else 'MISSED')"; }
{
  echo
  echo "## ForecastLab models beside the upstream way (one client, sequential, the servers alternating; $models_rows daily rows, $MODELS_FIRST … $MODELS_LAST)"
  echo
  echo "Ours: the gateway and the SQL functions; in the gateway / in PostgreSQL: the gateway's Server-Timing (total, and its round trip to PostgreSQL), summed over the pair. Peer: FastAPI + asyncpg loading the series into numpy (train joblib.dumps the artifact, predict loads it)."
  echo
  echo "| work | requests each | ours p50 ms | ours p95 ms | ours in the gateway / in PostgreSQL, p50 ms | peer p50 ms | peer p95 ms | ours ÷ peer (median of pairs) | target |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---|"
  echo "| train + predict, seasonal_naive | $tp_n | $tp_ours50 | $tp_ours95 | $tp_gw / $tp_db | $tp_peer50 | $tp_peer95 | $tp_ratio | $(verdict "$tp_ours50 < 20 and $tp_ratio < 1") (p50 < 20, ahead of the peer: ratio < 1) |"
  echo "| backtest, $bt_folds folds, seasonal_naive + 2 baselines | $bt_n | $bt_ours50 | $bt_ours95 | $bt_gw / $bt_db | $bt_peer50 | $bt_peer95 | $bt_ratio | $(verdict "$bt_ours50 < 100 and $bt_ratio < 1") (p50 < 100, ahead of the peer: ratio < 1) |"
  echo
  echo "The database's share (the same statements through gateway.invoke as the gateway's login, pgbench, one client, average ms): train $models_sql_train, predict $models_sql_predict, backtest $models_sql_backtest."
  echo
  echo "## ForecastLab regression training ($rg_rows days × $rg_cols columns; HistGradientBoostingRegressor, 200 iterations, one thread)"
  echo
  echo "Ours: POST /forecasting/train on warm backends (after $((2 * ${POOL:-3} + 1)) warm-up trains, $rg_warm_min–$rg_warm_max ms, the first ones importing scikit-learn). Outside: the same frame, fetched once, fitted by scikit-learn in the client's process. Inside the database, per train (5 in one session, PostgreSQL's function statistics): $models_fn_ms ms in api.forecasting_train = the learner (fit and trees to JSON, PL/Python) $models_learner_ms + the V1 frame (SQL) $models_frame_ms + the learner's JSON into jsonb $models_parse_ms + the artifact (bundle, SHA-256, row) $models_artifact_ms + the rest."
  echo
  echo "| runs each | ours p50 ms | ours p95 ms | scikit-learn outside p50 ms | p95 ms | ours ÷ outside (median of pairs) | target |"
  echo "|---:|---:|---:|---:|---:|---:|---|"
  echo "| $rg_n | $rg_ours50 | $rg_ours95 | $rg_out50 | $rg_out95 | $rg_ratio | $(verdict "$rg_ours50 < 2000 and $rg_ratio <= 1.5") (p50 < 2 s, ≤ 1.5 × outside) |"
} >> "$REPORT"
[ "${BASH_SOURCE[0]}" = "$0" ] && { echo; cat "$REPORT"; }
true
