#!/usr/bin/env python3
"""Independent reference check of ForecastLab's backtesting (docs/forecastlab-models.md, "Backtesting").

Builds a few daily series in a throw-away account of the given database (one transaction, rolled
back), runs POST /backtesting/run's SQL function (api.backtesting_run, through psql exactly as a psql
caller would) on several split configurations, and recomputes everything here, independently:

  * the folds of contract §9.2 (index-based on the loaded rows; expanding and sliding; gap; the
    n_splits reduction; step = max(1, (n − min_train − gap − horizon) // (n_splits − 1)); stop when
    the test end passes n): every fold's dates and sizes must be equal, exactly;
  * each fold's forecasts with check_models.reference_forecast (numpy, scikit-learn for the ridge)
    fitted on the fold's training rows and asked for len(test) steps: 1e-12 relative (ridge 1e-6);
  * the metrics of §9.3 with numpy: per fold, per horizon bucket (h_1_7, h_8_14, h_15_28,
    h_29_plus), aggregated (mean ignoring NaN), <metric>_stability (100·std/|mean|, population std;
    NaN under 2 folds, +∞ for a zero mean), bucketed_aggregated_metrics, comparison_summary: 1e-9
    relative; a value that is NaN or ±∞ here must be null in the answer (the documented encoding);
  * config_hash (json.dumps(normalized config, sort_keys=True)), backtest_id's shape, leakage check.

Cases: expanding and sliding, with and without gap, n_splits reduced (to 2 and to 1), a horizon
reaching h_29_plus, a ridge, and an intermittent series with zeros (WAPE = ∞ folds and buckets,
sMAPE 0/0 pairs, a baseline whose mean is 0 so the comparison leaves its percentage out).

Run:  PYTHONPATH=/work/main/.pylib /usr/bin/python3 bench/reference/check_backtest.py --database-url "$URL"
(default URL: $DATABASE_URL). Exit 0 when every check passes, 1 otherwise.
"""
import datetime as dt
import hashlib
import json
import math
import os
import re
import sys
import uuid
import warnings

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from check_models import DEFAULTS, reference_forecast, reference_metrics, sql_literal  # noqa: E402

import refcommon

METRIC_RTOL = 1e-9
BASELINE_RTOL = 1e-12
RIDGE_RTOL = 1e-6
NAMES = ["mae", "rmse", "smape", "wape", "bias"]
BUCKETS = [("h_1_7", 1, 7), ("h_8_14", 8, 14), ("h_15_28", 15, 28), ("h_29_plus", 29, 10 ** 9)]
SPLIT_DEFAULTS = {"strategy": "expanding", "n_splits": 5, "min_train_size": 30, "gap": 0, "horizon": 14}


def series_set():
    rng = np.random.default_rng(41)
    out = {}
    start = dt.date(2025, 1, 6)
    days = [start + dt.timedelta(days=i) for i in range(120)]
    out["weekly"] = (days, [int(max(0, round(20 + 0.05 * i + 6 * np.sin(2 * np.pi * i / 7) + rng.normal(0, 2)))) for i in range(120)])
    start = dt.date(2024, 11, 20)
    all_days = [start + dt.timedelta(days=i) for i in range(200)]
    keep = rng.random(200) > 0.15
    days = [d for d, k in zip(all_days, keep) if k]
    out["gaps"] = (days, [int(rng.poisson(8 + (3 if d.weekday() >= 4 else 0))) for d in days])
    start = dt.date(2025, 5, 1)
    out["short"] = ([start + dt.timedelta(days=i) for i in range(50)], [int(v) for v in rng.integers(0, 30, 50)])
    out["forty"] = ([start + dt.timedelta(days=i) for i in range(40)], [int(v) for v in rng.integers(5, 15, 40)])
    # Intermittent: a few sales, long runs of zeros (one covering a whole test window and a bucket).
    q = [int(v) if rng.random() < 0.3 else 0 for v in rng.integers(1, 6, 90)]
    for i in range(56, 80):
        q[i] = 0
    out["zeros"] = ([dt.date(2025, 2, 1) + dt.timedelta(days=i) for i in range(90)], q)
    return out


CASES = [
    ("weekly", {"model_config_main": {"model_type": "seasonal_average"}}),
    ("weekly", {"model_config_main": {"model_type": "weighted_moving_average", "window_size": 10, "weight_strategy": "exponential", "decay": 0.55},
                "split_config": {"strategy": "sliding", "n_splits": 4, "min_train_size": 21, "gap": 3, "horizon": 10}}),
    ("gaps", {"model_config_main": {"model_type": "trend_regression_baseline", "alpha": 2.5},
              "split_config": {"n_splits": 3, "min_train_size": 60, "gap": 5, "horizon": 30}}),
    ("gaps", {"model_config_main": {"model_type": "moving_average", "window_size": 5},
              "split_config": {"strategy": "sliding", "n_splits": 20, "min_train_size": 7, "gap": 0, "horizon": 1},
              "store_fold_details": False}),
    ("short", {"model_config_main": {"model_type": "seasonal_naive", "season_length": 5},
               "split_config": {"n_splits": 5, "min_train_size": 20, "gap": 2, "horizon": 10}}),
    ("forty", {"model_config_main": {"model_type": "naive"}, "split_config": {"horizon": 10}}),
    ("zeros", {"model_config_main": {"model_type": "naive"},
               "split_config": {"strategy": "sliding", "n_splits": 4, "min_train_size": 14, "gap": 1, "horizon": 12}}),
    ("zeros", {"model_config_main": {"model_type": "seasonal_average", "trim_outliers": True},
               "split_config": {"n_splits": 3, "min_train_size": 28, "gap": 0, "horizon": 20}, "include_baselines": True}),
    ("weekly", {"model_config_main": {"model_type": "naive"}, "include_baselines": False,
                "split_config": {"n_splits": 2, "min_train_size": 100, "horizon": 7}}),
]


def reference_folds(n, strategy, n_splits, min_train, gap, horizon):
    """§9.2, written from the contract's words."""
    if n < min_train + gap + horizon:
        return None
    if n < min_train + gap + n_splits * horizon:
        n_splits = min(n_splits, max(1, (n - min_train - gap) // horizon))
    step = max(1, (n - min_train - gap - horizon) // (n_splits - 1)) if n_splits > 1 else horizon
    folds = []
    for i in range(n_splits):
        if strategy == "expanding":
            train = (0, min_train + i * step)
        else:
            train = (i * step, i * step + min_train)
        test = (train[1] + gap, train[1] + gap + horizon)
        if test[1] > n:
            break
        folds.append((train, test))
    return folds


def nan_mean(values):
    kept = [v for v in values if not math.isnan(v)]
    return float(np.mean(kept)) if kept else float("nan")


def stability(values):
    kept = [v for v in values if not math.isnan(v)]
    if len(kept) < 2:
        return float("nan")
    mean = np.mean(kept)
    if mean == 0:
        return float("inf")
    return float(100 * np.std(kept) / abs(mean))


def reference_model(config, days, y, folds):
    y = np.asarray(y, dtype=np.float64)
    fold_results = []
    for k, ((a, b), (c, d)) in enumerate(folds):
        forecast = reference_forecast(config, days[a:b], y[a:b], d - c)
        actual = y[c:d]
        buckets = {}
        for name, lo, hi in BUCKETS:
            if lo <= d - c:
                buckets[name] = reference_metrics(actual[lo - 1:min(hi, d - c)], forecast[lo - 1:min(hi, d - c)])
        fold_results.append({
            "split": {"fold_index": k, "train_start": days[a].isoformat(), "train_end": days[b - 1].isoformat(),
                      "test_start": days[c].isoformat(), "test_end": days[d - 1].isoformat(), "train_size": b - a, "test_size": d - c},
            "dates": [x.isoformat() for x in days[c:d]], "actuals": actual, "predictions": forecast,
            "metrics": reference_metrics(actual, forecast), "horizon_bucket_metrics": buckets})
    aggregated = {m: nan_mean([f["metrics"][m] for f in fold_results]) for m in NAMES}
    spread = {m + "_stability": stability([f["metrics"][m] for f in fold_results]) for m in NAMES}
    bucketed = {}
    for name, _, _ in BUCKETS:
        emitted = [f["horizon_bucket_metrics"][name] for f in fold_results if name in f["horizon_bucket_metrics"]]
        if emitted:
            bucketed[name] = {m: nan_mean([e[m] for e in emitted]) for m in NAMES}
    return {"model_type": config["model_type"], "fold_results": fold_results, "aggregated_metrics": aggregated,
            "metric_std": spread, "bucketed_aggregated_metrics": bucketed or None}


def reference_comparison(main, baselines):
    out = {}
    for m in NAMES:
        entry = {"main": main["aggregated_metrics"][m]}
        for b in baselines:
            kind = b["model_type"]
            entry[kind] = b["aggregated_metrics"][m]
            bv, mv = b["aggregated_metrics"][m], main["aggregated_metrics"][m]
            if m == "bias":
                bv, mv = abs(bv), abs(mv)
            if bv != 0 and math.isfinite(bv) and math.isfinite(mv):
                entry["vs_naive_pct" if kind == "naive" else "vs_seasonal_pct"] = (bv - mv) / bv * 100
        out[m] = entry
    return out


def normalized_model(config):
    return {**DEFAULTS.get(config["model_type"], {}), **config, "schema_version": "1.0"}


def config_hash(value):
    return hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()[:16]


class Checker:
    def __init__(self):
        self.failures = 0
        self.compared = 0
        self.nulls = 0
        self.worst = 0.0

    def fail(self, message):
        self.failures += 1
        if self.failures <= 40:
            print("FAIL " + message)

    def number(self, where, got, want, rtol=METRIC_RTOL):
        """want: a float (NaN/±∞ must arrive as null); got: what the JSON held."""
        self.compared += 1
        if not math.isfinite(want):
            self.nulls += 1
            if got is not None:
                self.fail(f"{where}: {got} where the reference is {want} (must be null)")
            return
        if got is None or isinstance(got, bool) or not isinstance(got, (int, float)):
            self.fail(f"{where}: {got!r}, want {want}")
            return
        err = abs(got - want) / abs(want) if want != 0 else abs(got - want)
        self.worst = max(self.worst, err) if rtol == METRIC_RTOL else self.worst
        if err > rtol:
            self.fail(f"{where}: {got} != {want} (relative error {err:.3g} > {rtol})")

    def metrics(self, where, got, want):
        if got is None or set(got) != set(want):
            self.fail(f"{where}: keys {None if got is None else sorted(got)} != {sorted(want)}")
            return
        for name, value in want.items():
            if isinstance(value, dict):
                self.metrics(f"{where}.{name}", got[name], value)
            else:
                self.number(f"{where}.{name}", got[name], value)

    def model(self, where, got, want, config, details):
        ridge = config["model_type"] == "trend_regression_baseline"
        if got["model_type"] != want["model_type"] or got["config_hash"] != config_hash(normalized_model(config)):
            self.fail(f"{where}: model_type/config_hash {got['model_type']} {got['config_hash']}")
        if got["feature_aware"] is not False or got["exogenous_policy"] is not None:
            self.fail(f"{where}: feature_aware/exogenous_policy")
        if len(got["fold_results"]) != len(want["fold_results"]):
            self.fail(f"{where}: {len(got['fold_results'])} folds, want {len(want['fold_results'])}")
            return
        for k, (g, w) in enumerate(zip(got["fold_results"], want["fold_results"])):
            at = f"{where}.fold[{k}]"
            if g["split"] != w["split"] or g["fold_index"] != k:
                self.fail(f"{at}: split {g['split']} != {w['split']}")
            if details:
                if g["dates"] != w["dates"] or g["actuals"] != [float(v) for v in w["actuals"]]:
                    self.fail(f"{at}: dates or actuals differ")
                for h, (gp, wp) in enumerate(zip(g["predictions"], w["predictions"])):
                    self.number(f"{at}.predictions[{h}]", gp, float(wp), RIDGE_RTOL if ridge else BASELINE_RTOL)
                if len(g["predictions"]) != len(w["predictions"]):
                    self.fail(f"{at}: {len(g['predictions'])} predictions")
            elif g["dates"] != [] or g["actuals"] != [] or g["predictions"] != []:
                self.fail(f"{at}: store_fold_details false must leave dates, actuals, predictions empty")
            self.metrics(f"{at}.metrics", g["metrics"], w["metrics"])
            self.metrics(f"{at}.horizon_bucket_metrics", g["horizon_bucket_metrics"], w["horizon_bucket_metrics"])
        self.metrics(f"{where}.aggregated_metrics", got["aggregated_metrics"], want["aggregated_metrics"])
        self.metrics(f"{where}.metric_std", got["metric_std"], want["metric_std"])
        if want["bucketed_aggregated_metrics"] is None:
            if got["bucketed_aggregated_metrics"] is not None:
                self.fail(f"{where}: bucketed_aggregated_metrics should be null")
        else:
            self.metrics(f"{where}.bucketed_aggregated_metrics", got["bucketed_aggregated_metrics"], want["bucketed_aggregated_metrics"])


def run(url):
    account = str(uuid.uuid4())
    data = series_set()
    names = list(data)
    acc = sql_literal(account)
    claims = json.dumps({"sub": str(uuid.uuid4()), "role": "authenticated", "app_metadata": {"account_id": account, "app_role": "viewer"}})
    lines = ["\\set ON_ERROR_STOP 1", "begin;"]
    for i, name in enumerate(names):
        days, q = data[name]
        lines.append(f"insert into forecast.stores (account_id, store_code, name) values ({acc}, 'BT{i}', {sql_literal(name)});")
        lines.append(f"insert into forecast.products (account_id, sku, name, base_price) values ({acc}, 'BT{i}', {sql_literal(name)}, 1);")
        values = ", ".join(
            f"({acc}, (select id from forecast.stores where account_id = {acc} and store_code = 'BT{i}'), "
            f"(select id from forecast.products where account_id = {acc} and sku = 'BT{i}'), '{d.isoformat()}', {v}, 1, {v})"
            for d, v in zip(days, q))
        lines.append(f"insert into forecast.sales_daily (account_id, store_id, product_id, date, quantity, unit_price, total_amount) values {values};")
    lines.append(f"select set_config('role', 'authenticated', true), set_config('request.jwt.claims', {sql_literal(claims)}, true);")
    for k, (name, config) in enumerate(CASES):
        i = names.index(name)
        days, _ = data[name]
        ids = (f"(select id from forecast.stores where store_code = 'BT{i}' and account_id = {acc}), "
               f"(select id from forecast.products where sku = 'BT{i}' and account_id = {acc})")
        # The window: a day before the first sale to the last (rows, not days, make the folds).
        lines.append(f"select 'B|{k}|' || api.backtesting_run({ids}, '{(days[0] - dt.timedelta(days=1)).isoformat()}', "
                     f"'{days[-1].isoformat()}', {sql_literal(json.dumps(config))}::jsonb)::text;")
    lines.append("rollback;")
    done = refcommon.psql(url, lines)
    if done.returncode != 0:
        print(done.stderr, file=sys.stderr)
        return 1
    check = Checker()
    seen = 0
    folds_total = 0
    reduced = []
    for line in done.stdout.splitlines():
        tag, _, rest = line.partition("|")
        if tag != "B":
            continue
        seen += 1
        k, payload = rest.split("|", 1)
        k = int(k)
        name, config = CASES[k]
        days, q = data[name]
        got = json.loads(payload)
        split = {**SPLIT_DEFAULTS, **config.get("split_config", {})}
        folds = reference_folds(len(q), split["strategy"], split["n_splits"], split["min_train_size"], split["gap"], split["horizon"])
        folds_total += len(folds)
        if len(folds) < split["n_splits"]:
            reduced.append(f"{name}:{split['n_splits']}->{len(folds)}")
        include = config.get("include_baselines", True)
        details = config.get("store_fold_details", True)
        main_config = config["model_config_main"]
        normalized = {"schema_version": "1.0", "split_config": split, "model_config_main": normalized_model(main_config),
                      "include_baselines": include, "store_fold_details": details}
        where = f"case {k} ({name}, {main_config['model_type']}, {split['strategy']})"
        if not re.fullmatch(r"[0-9a-f]{16}", got["backtest_id"]) or got["config_hash"] != config_hash(normalized):
            check.fail(f"{where}: backtest_id {got['backtest_id']} / config_hash {got['config_hash']} != {config_hash(normalized)}")
        if got["split_config"] != split or got["leakage_check_passed"] is not True:
            check.fail(f"{where}: split_config {got['split_config']} or leakage_check_passed {got['leakage_check_passed']}")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # inf − inf in np.std, as intended (NaN)
            main = reference_model(main_config, days, q, folds)
            baselines = [reference_model(c, days, q, folds) for c in ({"model_type": "naive"}, {"model_type": "seasonal_naive"})] if include else []
        check.model(f"{where}.main", got["main_model_results"], main, main_config, details)
        if include:
            if len(got["baseline_results"] or []) != 2:
                check.fail(f"{where}: {len(got['baseline_results'] or [])} baselines, want 2")
            else:
                for g, w, c in zip(got["baseline_results"], baselines, ({"model_type": "naive"}, {"model_type": "seasonal_naive"})):
                    check.model(f"{where}.{c['model_type']}", g, w, c, details)
            want = reference_comparison(main, baselines)
            if got["comparison_summary"] is None or {m: set(v) for m, v in got["comparison_summary"].items()} != {m: set(v) for m, v in want.items()}:
                check.fail(f"{where}: comparison keys {got['comparison_summary']} != {want}")
            else:
                check.metrics(f"{where}.comparison_summary", got["comparison_summary"], want)
        elif got["baseline_results"] is not None or got["comparison_summary"] is not None:
            check.fail(f"{where}: without baselines, baseline_results and comparison_summary are null")
    if seen != len(CASES):
        check.fail(f"expected {len(CASES)} backtests, got {seen}")
    print(f"backtests: {seen} cases, {folds_total} folds (n_splits reduced: {', '.join(reduced) or 'none'}); "
          f"{check.compared} numbers compared, {check.nulls} of them non-finite (null); "
          f"worst metric relative error {check.worst:.3g} (tolerance {METRIC_RTOL})")
    print("OK" if check.failures == 0 else f"{check.failures} FAILURE(S)")
    return 0 if check.failures == 0 else 1


if __name__ == "__main__":
    refcommon.main(run, __doc__)
