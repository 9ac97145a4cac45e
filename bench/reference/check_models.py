#!/usr/bin/env python3
"""Independent reference check of ForecastLab's models (docs/forecastlab-models.md).

Builds a few daily series in a throw-away account of the given database (one transaction, rolled
back), trains and predicts every target-only model through the SQL api functions (psql, exactly as
a psql caller would), recomputes the same forecasts here with numpy and scikit-learn, and compares:

  * the five SQL baselines: equal to 1e-12 relative (they are bit-exact except where the floating
    summation order of exponential weights differs; the count of bit-exact values is printed);
  * trend_regression_baseline: within 1e-6 relative of scikit-learn's Ridge(alpha, fit_intercept=True)
    on the same design matrix (elapsed-day index, day-of-week and month one-hots), built here from
    the dates independently;
  * the registry's config_hash against Python's json.dumps(config, sort_keys=True);
  * the artifact's stored SHA-256 against hashlib over its bytes;
  * the metric functions (MAE, RMSE, sMAPE, WAPE, bias) against numpy, to 1e-12 relative.

Run:  PYTHONPATH=/work/main/.pylib /usr/bin/python3 bench/reference/check_models.py --database-url "$URL"
(default URL: $DATABASE_URL). Exit 0 when every check passes, 1 otherwise.
"""
import datetime as dt
import hashlib
import json
import sys
import uuid

import numpy as np
from sklearn.linear_model import Ridge

import refcommon

BASELINE_RTOL = 1e-12
RIDGE_RTOL = 1e-6


def series_set():
    """Three series: weekly season + trend + noise (no gaps); a longer one with gaps across months
    and a spike; a short one (fewer days than lookback_cycles * season_length)."""
    rng = np.random.default_rng(20)
    out = []
    start = dt.date(2025, 1, 6)
    days = [start + dt.timedelta(days=i) for i in range(120)]
    q = [int(max(0, round(20 + 0.05 * i + 6 * np.sin(2 * np.pi * i / 7) + rng.normal(0, 2)))) for i in range(120)]
    out.append(("weekly", days, q))
    start = dt.date(2024, 11, 20)
    all_days = [start + dt.timedelta(days=i) for i in range(200)]
    keep = rng.random(200) > 0.15
    days = [d for d, k in zip(all_days, keep) if k]
    q = [int(rng.poisson(8 + (3 if d.weekday() >= 4 else 0))) for d in days]
    q[len(q) // 2] = 90  # an outlier for trim_outliers
    out.append(("gaps", days, q))
    start = dt.date(2025, 3, 1)
    days = [start + dt.timedelta(days=i) for i in range(17)]
    q = [int(v) for v in rng.integers(0, 15, 17)]
    out.append(("short", days, q))
    return out


CONFIGS = [
    {"model_type": "naive"},
    {"model_type": "seasonal_naive"},
    {"model_type": "seasonal_naive", "season_length": 5},
    {"model_type": "moving_average"},
    {"model_type": "moving_average", "window_size": 13},
    {"model_type": "weighted_moving_average"},
    {"model_type": "weighted_moving_average", "window_size": 10, "weight_strategy": "exponential", "decay": 0.55},
    {"model_type": "seasonal_average"},
    {"model_type": "seasonal_average", "season_length": 7, "lookback_cycles": 6, "trim_outliers": True},
    {"model_type": "seasonal_average", "season_length": 3, "lookback_cycles": 12, "trim_outliers": True},
    {"model_type": "trend_regression_baseline"},
    {"model_type": "trend_regression_baseline", "alpha": 0.5, "include_month": False},
    {"model_type": "trend_regression_baseline", "alpha": 25, "include_dow": False},
    {"model_type": "trend_regression_baseline", "alpha": 0, "include_dow": False, "include_month": False},
]
HORIZON = 30

DEFAULTS = {
    "seasonal_naive": {"season_length": 7},
    "moving_average": {"window_size": 7},
    "weighted_moving_average": {"window_size": 7, "weight_strategy": "linear", "decay": 0.7},
    "seasonal_average": {"season_length": 7, "lookback_cycles": 4, "trim_outliers": False},
    "trend_regression_baseline": {"alpha": 1.0, "include_dow": True, "include_month": True},
}


def reference_forecast(config, days, y, horizon):
    c = dict(DEFAULTS.get(config["model_type"], {}), **config)
    y = np.asarray(y, dtype=np.float64)
    n = len(y)
    kind = c["model_type"]
    if kind == "naive":
        return np.full(horizon, y[-1])
    if kind == "seasonal_naive":
        m = c["season_length"]
        return np.array([y[n - m + (h % m)] for h in range(horizon)])
    if kind == "moving_average":
        return np.full(horizon, np.mean(y[-c["window_size"]:]))
    if kind == "weighted_moving_average":
        w = c["window_size"]
        weights = (np.arange(1, w + 1, dtype=np.float64) if c["weight_strategy"] == "linear"
                   else c["decay"] ** np.arange(w - 1, -1, -1, dtype=np.float64))
        return np.full(horizon, np.dot(weights, y[-w:]) / weights.sum())
    if kind == "seasonal_average":
        m, cycles = c["season_length"], c["lookback_cycles"]
        out = []
        for h in range(horizon):
            samples = [y[n - m + (h % m) - k * m] for k in range(cycles) if n - m + (h % m) - k * m >= 0]
            samples = np.sort(samples)
            if c["trim_outliers"] and len(samples) >= 4:
                samples = samples[1:-1]
            out.append(np.mean(samples))
        return np.array(out)
    if kind == "trend_regression_baseline":
        def design(dates):
            cols = [np.array([(d - days[0]).days for d in dates], dtype=np.float64)]
            if c["include_dow"]:
                cols.append(np.array([[1.0 if d.weekday() == j else 0.0 for j in range(7)] for d in dates]))
            if c["include_month"]:
                cols.append(np.array([[1.0 if d.month == j else 0.0 for j in range(1, 13)] for d in dates]))
            return np.column_stack(cols)
        model = Ridge(alpha=float(c["alpha"]), fit_intercept=True).fit(design(days), y)
        future = [days[-1] + dt.timedelta(days=h + 1) for h in range(horizon)]
        return model.predict(design(future))
    raise ValueError(kind)


def reference_metrics(a, f):
    a, f = np.asarray(a, dtype=np.float64), np.asarray(f, dtype=np.float64)
    denom = np.abs(a) + np.abs(f)
    smape_terms = np.where(denom == 0, 0.0, 2 * np.abs(a - f) / np.where(denom == 0, 1, denom))
    total = np.sum(np.abs(a))
    return {"mae": np.mean(np.abs(a - f)), "rmse": np.sqrt(np.mean((a - f) ** 2)),
            "smape": 100 * np.mean(smape_terms),
            "wape": (100 * np.sum(np.abs(a - f)) / total) if total != 0 else float("inf"),
            "bias": np.mean(a - f)}


def sql_literal(value):
    return "'" + str(value).replace("'", "''") + "'"


def build_script(account, data):
    claims = json.dumps({"sub": str(uuid.uuid4()), "role": "authenticated",
                         "app_metadata": {"account_id": account, "app_role": "admin"}})
    lines = ["\\set ON_ERROR_STOP 1", "begin;"]
    for i, (name, days, q) in enumerate(data):
        lines.append(f"insert into forecast.stores (account_id, store_code, name) values ({sql_literal(account)}, 'REF{i}', {sql_literal(name)});")
        lines.append(f"insert into forecast.products (account_id, sku, name, base_price) values ({sql_literal(account)}, 'REF{i}', {sql_literal(name)}, 1);")
        values = ", ".join(
            f"({sql_literal(account)}, (select id from forecast.stores where account_id = {sql_literal(account)} and store_code = 'REF{i}'), "
            f"(select id from forecast.products where account_id = {sql_literal(account)} and sku = 'REF{i}'), '{d.isoformat()}', {v}, 1, {v})"
            for d, v in zip(days, q))
        lines.append(f"insert into forecast.sales_daily (account_id, store_id, product_id, date, quantity, unit_price, total_amount) values {values};")
    lines.append("create temp table trained (i integer, j integer, r jsonb); grant all on trained to authenticated;")
    lines.append(f"select set_config('role', 'authenticated', true), set_config('request.jwt.claims', {sql_literal(claims)}, true);")
    for i, (name, days, q) in enumerate(data):
        ids = (f"(select id from forecast.stores where store_code = 'REF{i}' and account_id = {sql_literal(account)}), "
               f"(select id from forecast.products where sku = 'REF{i}' and account_id = {sql_literal(account)})")
        for j, config in enumerate(CONFIGS):
            train = (f"api.forecasting_train({ids}, '{days[0].isoformat()}', '{days[-1].isoformat()}', "
                     f"{sql_literal(json.dumps(config))}::jsonb)")
            lines.append(f"insert into pg_temp.trained values ({i}, {j}, {train});")
            lines.append(f"select 'F|{i}|{j}|' || jsonb_build_object('train', t.r, "
                         f"'predict', api.forecasting_predict({ids}, {HORIZON}, t.r ->> 'model_path'), "
                         f"'artifact', (select jsonb_build_object('hex', encode(a.content, 'hex'), 'sha256', a.sha256, 'size', a.size_bytes) "
                         f"from forecast_models.artifacts a where a.artifact_key = substring(t.r ->> 'model_path' from 'model_([0-9a-f]{{12}})')))::text "
                         f"from pg_temp.trained t where t.i = {i} and t.j = {j};")
    for j, config in enumerate(CONFIGS[:4]):
        body = {**config, "nested": {"b": [1, 2.5, "x"], "a": None}}
        lines.append(f"select 'H|{j}|' || (api.registry_create_run(model_type => 'naive', model_config => {sql_literal(json.dumps(body))}::jsonb, "
                     f"data_window_start => '2025-01-01', data_window_end => '2025-02-01', store_id => 1, product_id => 1) ->> 'config_hash');")
    return lines


def metric_cases():
    rng = np.random.default_rng(7)
    cases = [([3, 0, 5, 2], [2.5, 0, 7, 2]), ([0, 0, 0], [1, 0, 2]), ([0, 0], [0, 0]),
             (list(rng.integers(0, 50, 40)), list(rng.normal(20, 8, 40)))]
    return cases


def run(url):
    account = str(uuid.uuid4())
    data = series_set()
    lines = build_script(account, data)
    for k, (a, f) in enumerate(metric_cases()):
        arr_a = "array[" + ",".join(repr(float(v)) for v in a) + "]::float8[]"
        arr_f = "array[" + ",".join(repr(float(v)) for v in f) + "]::float8[]"
        lines.append(f"select 'M|{k}|' || jsonb_build_object('mae', forecast_models.mae({arr_a}, {arr_f})::text, "
                     f"'rmse', forecast_models.rmse({arr_a}, {arr_f})::text, 'smape', forecast_models.smape({arr_a}, {arr_f})::text, "
                     f"'wape', forecast_models.wape({arr_a}, {arr_f})::text, 'bias', forecast_models.bias({arr_a}, {arr_f})::text)::text;")
    lines.append("rollback;")
    done = refcommon.psql(url, lines)
    if done.returncode != 0:
        print(done.stderr, file=sys.stderr)
        return 1
    failures = 0
    exact = total = 0
    worst = {"baseline": 0.0, "ridge": 0.0, "metrics": 0.0}
    for line in done.stdout.splitlines():
        tag, _, rest = line.partition("|")
        if tag == "F":
            i, j, payload = rest.split("|", 2)
            i, j = int(i), int(j)
            result = json.loads(payload)
            name, days, q = data[i]
            config = CONFIGS[j]
            got = np.array([p["forecast"] for p in result["predict"]["forecasts"]], dtype=np.float64)
            dates = [p["date"] for p in result["predict"]["forecasts"]]
            want = reference_forecast(config, days, q, HORIZON)
            want_dates = [(days[-1] + dt.timedelta(days=h + 1)).isoformat() for h in range(HORIZON)]
            ridge = config["model_type"] == "trend_regression_baseline"
            rtol = RIDGE_RTOL if ridge else BASELINE_RTOL
            err = float(np.max(np.abs(got - want) / np.maximum(1.0, np.abs(want))))
            key = "ridge" if ridge else "baseline"
            worst[key] = max(worst[key], err)
            exact += int(np.sum(got == want))
            total += len(want)
            if err > rtol or dates != want_dates or result["train"]["n_observations"] != len(q):
                failures += 1
                print(f"FAIL {name} {config}: max relative error {err:.3g} (tolerance {rtol}); got {got[:5]} want {want[:5]}")
            content = bytes.fromhex(result["artifact"]["hex"])
            if (hashlib.sha256(content).hexdigest() != result["artifact"]["sha256"] or len(content) != result["artifact"]["size"]
                    or result["train"]["artifact_hash"] != result["artifact"]["sha256"]):
                failures += 1
                print(f"FAIL artifact hash/size of {name} {config}")
        elif tag == "H":
            j, got_hash = rest.split("|", 1)
            body = {**CONFIGS[int(j)], "nested": {"b": [1, 2.5, "x"], "a": None}}
            want_hash = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:16]
            if got_hash != want_hash:
                failures += 1
                print(f"FAIL registry config_hash of {body}: {got_hash} != {want_hash}")
        elif tag == "M":
            k, payload = rest.split("|", 1)
            got = {name: float(v) for name, v in json.loads(payload).items()}
            a, f = metric_cases()[int(k)]
            want = reference_metrics(a, f)
            for name, w in want.items():
                g = got[name]
                same = (np.isinf(w) and np.isinf(g)) or abs(g - w) <= BASELINE_RTOL * max(1.0, abs(w))
                if not np.isinf(w):
                    worst["metrics"] = max(worst["metrics"], abs(g - w) / max(1.0, abs(w)))
                if not same:
                    failures += 1
                    print(f"FAIL metric {name} case {k}: {g} != {w}")
    expected_lines = len(data) * len(CONFIGS)
    seen = sum(1 for line in done.stdout.splitlines() if line.startswith("F|"))
    if seen != expected_lines:
        failures += 1
        print(f"FAIL expected {expected_lines} forecast results, got {seen}")
    print(f"forecasts: {len(data)} series x {len(CONFIGS)} configurations x {HORIZON} steps; "
          f"{exact}/{total} values bit-exact; worst relative error: baselines {worst['baseline']:.3g} (tolerance {BASELINE_RTOL}), "
          f"ridge {worst['ridge']:.3g} (tolerance {RIDGE_RTOL}), metrics {worst['metrics']:.3g}")
    print("OK" if failures == 0 else f"{failures} FAILURE(S)")
    return 0 if failures == 0 else 1


if __name__ == "__main__":
    refcommon.main(run, __doc__)
