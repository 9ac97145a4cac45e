#!/usr/bin/env python3
"""Independent reference check of ForecastLab's five feature-aware models (docs/forecastlab-models.md).

Builds three store/product series in a throw-away account of the given database (one transaction,
rolled back): two years of daily sales with a weekly season, a trend and noise; a year with days
without sales, a varying unit_price, price_history rows (overlapping ones, one supplying a price
for days after the training end), promotions (for the store, for every store, for another store,
in the horizon), 'holiday' signals (global and per store, plus an 'event' that is no holiday),
'launch' rows in product_lifecycle; a short series whose first sale falls inside its window. Noise
that must change nothing: sales dated before a training window and after every training end with
wild quantities and prices, another store's prices and promotions, another account's promotion,
holiday, price and launch on the same store and products.

Through the SQL api functions (psql, exactly as a psql caller would, the opt-in flags set in the
session) it trains regression, prophet_like, random_forest, lightgbm and xgboost (defaults and a
non-default configuration each) and predicts 35 days (past lag 28: the last days have no lag at
all); it also fetches, as the same role, the V1 frames the models read (forecast_models.frame_v1
on the series' daily grid, and on the artifact's stored history for the future days). Here it
builds the V1 frame again from the raw rows it inserted and the contract's words (§20, the
comments of frames.sql: lags from a date -> quantity dict, calendar from datetime, price from the
raw price_history and sales rows; written without porting the SQL; v1frame.py, shared with
check_scenarios.py), fits the same learner with the library outside the database and predicts
with the library's own .predict, and compares:

  * every frame cell, training and future days: equal to 1e-12 (relative above 1), null == NaN;
    plus the grid's length (n_observations) and the artifact's 90-day history tail;
  * the forecasts of the tree learners (HistGradientBoostingRegressor for regression,
    RandomForestRegressor, LGBMRegressor, XGBRegressor): within 1e-9 (relative above 1): same
    library, same data, same seed, and the database's own tree walker follows scikit-learn's rule;
    the count of bit-exact values is printed;
  * prophet_like (scikit-learn's Ridge on the 10 columns without lags): within 1e-6;
  * the forecast dates (train_end_date + 1 … + 35) and the stored configuration (the §8.1 defaults);
  * the disabled path: with the flag reset, training lightgbm, and predicting with a lightgbm
    artifact, are PT400 naming forecast_enable_lightgbm, while regression and prophet_like still
    train (always on).

Why these tolerances: the database's PL/Python imports the same .pylib (same scikit-learn,
LightGBM, xgboost, numpy), both sides run one thread with seed 0, and the frames are equal to the
bit (so the learners see the same bytes); the trees' only remaining difference is the prediction
path (the database walks the JSON arrays itself, LightGBM's model text and xgboost's JSON are
reloaded), which keeps the same comparisons and summation order, so 1e-9 is room for a rounding
in a future library, not an expected gap (0 is what a run measures). The ridge's prediction is a
BLAS dot product on both sides, whose order may change with the BLAS kernel: 1e-6.

Run:  PYTHONPATH=/work/main/.pylib /usr/bin/python3 bench/reference/check_feature_models.py --database-url "$URL"
(default URL: $DATABASE_URL). Exit 0 when every check passes, 1 otherwise.
"""
import datetime as dt
import json
import math
import sys
import uuid
import warnings

# v1frame first: it pins one thread before numpy loads.
from v1frame import COLUMNS, REGRESSION_DEFAULTS, claims, context_inserts, day, frame, grid, id_sql, lit, regression

import numpy as np

import refcommon

FRAME_RTOL = 1e-12
TREE_RTOL = 1e-9
RIDGE_RTOL = 1e-6
HORIZON = 35
D = dt.date


# ── The data ─────────────────────────────────────────────────────────────────────────────────
# (name, store, product, train_start, train_end). Store codes and SKUs; ids are the database's.
SERIES = [
    ("weekly", "FMA", "FMA", D(2024, 1, 1), D(2025, 12, 15)),
    ("gaps", "FMB", "FMB", D(2024, 12, 20), D(2026, 2, 10)),
    ("short", "FMC", "FMC", D(2025, 8, 15), D(2025, 11, 20)),
]
BASE_PRICE = {"FMA": "2.50", "FMB": "4.99", "FMC": "10.00"}


def dataset():
    """The account's rows (dicts by table) and another account's (which the frame must not see)."""
    rng = np.random.default_rng(2031)
    sales, prices, promos, signals, lifecycle = [], [], [], [], []
    # 1. Two years, weekly season + trend + noise, every day sold; promotions lift it.
    start, end = SERIES[0][3], SERIES[0][4]
    weekday_lift = [0, -2, -1, 1, 4, 9, 6]
    for i in range((end - start).days + 1):
        d = day(start, i)
        promo = D(2024, 5, 10) <= d <= D(2024, 5, 20) or D(2024, 11, 25) <= d <= D(2024, 11, 30)
        q = max(0, round(30 + 0.02 * i + weekday_lift[d.weekday()] + 6 * math.sin(2 * math.pi * d.month / 12)
                         + (12 if promo else 0) + rng.normal(0, 3)))
        price = "2.25" if promo else ("2.50" if i < 400 else "2.65")
        sales.append(dict(store="FMA", product="FMA", date=d, quantity=int(q), unit_price=price))
    for d in (D(2023, 12, 20), D(2023, 12, 21), D(2023, 12, 22)):  # before the window: not in its grid
        sales.append(dict(store="FMA", product="FMA", date=d, quantity=5000, unit_price="99.99"))
    # 2. A year with gaps (the first window day sold, the last did not) and a varying price.
    start, end = D(2025, 1, 1), SERIES[1][4]
    levels = ["4.49", "4.99", "5.29", "5.49", "4.79"]
    for i in range((end - start).days + 1):
        d = day(start, i)
        if (i > 0 and rng.random() < 0.2) or d == end:
            continue
        q = int(rng.poisson(9 + 5 * (d.weekday() >= 4) + 0.01 * i))
        sales.append(dict(store="FMB", product="FMB", date=d, quantity=q, unit_price=levels[(i // 29 + int(rng.random() < 0.1)) % 5]))
    # 3. Short: the first sale inside the window.
    start, end = D(2025, 9, 3), SERIES[2][4]
    for i in range((end - start).days + 1):
        d = day(start, i)
        if 0 < i and (end - d).days > 0 and rng.random() < 0.1:
            continue
        sales.append(dict(store="FMC", product="FMC", date=d, quantity=int(rng.poisson(4 + 3 * (d.weekday() >= 5))),
                          unit_price=["9.50", "10.00", "10.50"][(i // 20) % 3]))
    # Wild sales after every training end (the frame must not read them), and of other stores.
    for store, product, first in (("FMA", "FMA", D(2025, 12, 16)), ("FMB", "FMB", D(2026, 2, 11)), ("FMC", "FMC", D(2025, 11, 21))):
        for i in range(50):
            sales.append(dict(store=store, product=product, date=day(first, i), quantity=77777 + i, unit_price="123.45"))
    for i in range(30):
        sales.append(dict(store="FMA", product="FMB", date=day(D(2024, 11, 1), i), quantity=999, unit_price="0.01"))
    prices += [
        dict(store="FMA", product="FMA", valid_from=D(2024, 3, 1), valid_to=D(2024, 3, 31), price="2.40"),
        dict(store="FMA", product="FMA", valid_from=D(2025, 12, 10), valid_to=D(2025, 12, 31), price="2.20"),  # into the horizon
        dict(store="FMB", product="FMA", valid_from=D(2025, 12, 1), valid_to=None, price="9.99"),              # another store
        dict(store="FMB", product="FMB", valid_from=D(2025, 2, 15), valid_to=D(2025, 3, 15), price="4.79"),
        dict(store="FMB", product="FMB", valid_from=D(2025, 3, 1), valid_to=D(2025, 3, 5), price="3.99"),     # the later start wins
        dict(store="FMB", product="FMB", valid_from=D(2025, 9, 1), valid_to=D(2025, 9, 30), price="5.19"),
        dict(store="FMB", product="FMB", valid_from=D(2026, 2, 5), valid_to=D(2026, 2, 25), price="4.59"),    # a supplied future price
        dict(store="FMA", product="FMB", valid_from=D(2025, 1, 1), valid_to=None, price="1.11"),              # another store
    ]
    promos += [
        dict(store=None, product="FMA", start=D(2024, 5, 10), end=D(2024, 5, 20)),
        dict(store="FMA", product="FMA", start=D(2024, 11, 25), end=D(2024, 11, 30)),
        dict(store="FMB", product="FMA", start=D(2025, 2, 1), end=D(2025, 2, 10)),     # another store
        dict(store=None, product="FMA", start=D(2025, 12, 20), end=D(2025, 12, 27)),   # in the horizon
        dict(store="FMB", product="FMB", start=D(2025, 4, 1), end=D(2025, 4, 7)),
        dict(store=None, product="FMB", start=D(2025, 7, 4), end=D(2025, 7, 6)),
        dict(store="FMA", product="FMB", start=D(2025, 5, 1), end=D(2025, 5, 31)),     # another store
        dict(store=None, product="FMB", start=D(2026, 2, 14), end=D(2026, 2, 20)),     # in the horizon
        dict(store="FMB", product="FMB", start=D(2026, 3, 1), end=D(2026, 3, 3)),      # in the horizon
        dict(store="FMC", product="FMC", start=D(2025, 10, 10), end=D(2025, 10, 12)),
    ]
    for d in (D(2024, 1, 1), D(2024, 12, 25), D(2025, 1, 1), D(2025, 4, 18), D(2025, 11, 27), D(2025, 12, 25), D(2026, 1, 1)):
        signals.append(dict(store=None, date=d, kind="holiday"))
    signals += [dict(store="FMA", date=D(2024, 7, 14), kind="holiday"), dict(store="FMB", date=D(2025, 3, 17), kind="holiday"),
                dict(store="FMB", date=D(2026, 2, 16), kind="holiday"), dict(store="FMC", date=D(2025, 12, 8), kind="holiday"),
                dict(store="FMA", date=D(2025, 3, 17), kind="holiday"),  # another store's
                dict(store=None, date=D(2024, 8, 15), kind="event"), dict(store=None, date=D(2025, 10, 3), kind="event"),
                dict(store="FMB", date=D(2025, 6, 1), kind="weather_temperature")]
    lifecycle += [dict(product="FMA", stage="growth", start=D(2024, 6, 1)),   # not a launch: FMA falls back to its first sale
                  dict(product="FMB", stage="launch", start=D(2025, 1, 10)),  # after the first sale: clamped to 0 before it
                  dict(product="FMB", stage="launch", start=D(2025, 6, 1)),
                  dict(product="FMB", stage="mature", start=D(2025, 8, 1))]
    # Another account's rows on the same store and products: row-level security must hide them.
    foreign = dict(
        promos=[dict(store=None, product="FMA", start=D(2025, 7, 1), end=D(2025, 7, 31)),
                dict(store="FMB", product="FMB", start=D(2026, 2, 21), end=D(2026, 3, 10))],
        signals=[dict(store=None, date=D(2025, 5, 1), kind="holiday"), dict(store="FMC", date=D(2025, 12, 1), kind="holiday")],
        prices=[dict(store="FMA", product="FMA", valid_from=D(2025, 12, 12), valid_to=None, price="0.01")],
        lifecycle=[dict(product="FMC", stage="launch", start=D(2020, 1, 1))])
    return dict(sales=sales, prices=prices, promos=promos, signals=signals, lifecycle=lifecycle), foreign


# ── The configurations (§8.1 defaults, completed here as the contract states them) ─────────
DEFAULTS = {
    "regression": dict(REGRESSION_DEFAULTS, feature_config_hash=None),
    "prophet_like": {"alpha": 1.0, "feature_config_hash": None},
    "random_forest": {"n_estimators": 100, "max_depth": 10, "min_samples_leaf": 2, "feature_config_hash": None},
    "lightgbm": {"n_estimators": 100, "max_depth": 6, "learning_rate": 0.1, "feature_config_hash": None},
    "xgboost": {"n_estimators": 100, "max_depth": 6, "learning_rate": 0.1, "feature_config_hash": None},
}
CONFIGS = [
    {"model_type": "regression"},
    {"model_type": "regression", "max_iter": 50, "max_depth": 3, "learning_rate": 0.2},
    {"model_type": "prophet_like"},
    {"model_type": "prophet_like", "alpha": 10},
    {"model_type": "prophet_like", "alpha": 0},
    {"model_type": "random_forest"},
    {"model_type": "random_forest", "max_depth": None, "n_estimators": 20, "min_samples_leaf": 1},
    {"model_type": "lightgbm"},
    {"model_type": "lightgbm", "n_estimators": 50, "max_depth": 3, "learning_rate": 0.3},
    {"model_type": "xgboost"},
    {"model_type": "xgboost", "n_estimators": 60, "max_depth": 2, "learning_rate": 0.5},
]


def completed(config):
    return dict(DEFAULTS[config["model_type"]], **config, schema_version="1.0")


# ── The learners, outside the database ───────────────────────────────────────────────────────
def reference_forecast(config, X, y, Xf):
    c = completed(config)
    kind = c["model_type"]
    if kind == "regression":
        m = regression(c)
    elif kind == "random_forest":
        from sklearn.ensemble import RandomForestRegressor
        m = RandomForestRegressor(n_estimators=c["n_estimators"], max_depth=c["max_depth"], min_samples_leaf=c["min_samples_leaf"],
                                  n_jobs=1, random_state=0)
    elif kind == "prophet_like":
        from sklearn.linear_model import Ridge
        m = Ridge(alpha=c["alpha"])
        X, Xf = X[:, 4:], Xf[:, 4:]  # the ten columns without lags
    elif kind == "lightgbm":
        import lightgbm
        m = lightgbm.LGBMRegressor(n_estimators=c["n_estimators"], max_depth=c["max_depth"], learning_rate=c["learning_rate"],
                                   random_state=0, n_jobs=1, deterministic=True, force_row_wise=True, verbose=-1)
    else:
        import xgboost
        m = xgboost.XGBRegressor(n_estimators=c["n_estimators"], max_depth=c["max_depth"], learning_rate=c["learning_rate"],
                                 random_state=0, n_jobs=1, tree_method="hist")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Ridge(alpha=0) on near-collinear columns: the database sees the same warning
        m.fit(X, y)
        return np.asarray(m.predict(Xf), dtype=np.float64)


# ── The psql script ──────────────────────────────────────────────────────────────────────────
def build_script(account, other, data, foreign):
    acc, oth = lit(account), lit(other)
    sid, pid = id_sql(acc)
    admin = claims(account, "admin")
    lines = ["\\set ON_ERROR_STOP 1", "begin;"]
    for code in ("FMA", "FMB", "FMC"):
        lines.append(f"insert into forecast.stores (account_id, store_code, name) values ({acc}, {lit(code)}, 'reference {code}');")
        lines.append(f"insert into forecast.products (account_id, sku, name, base_price) values ({acc}, {lit(code)}, 'reference {code}', {BASE_PRICE[code]});")
    values = ",\n".join(f"({acc}, {sid(r['store'])}, {pid(r['product'])}, {lit(r['date'].isoformat())}, {r['quantity']}, {r['unit_price']}, "
                        f"round({r['quantity']} * {r['unit_price']}, 2))" for r in data["sales"])
    lines.append(f"insert into forecast.sales_daily (account_id, store_id, product_id, date, quantity, unit_price, total_amount) values {values};")

    lines += context_inserts(acc, data, sid, pid) + context_inserts(oth, foreign, sid, pid)
    lines.append("create temp table trained (i integer, j integer, r jsonb); create temp table outcomes (tag text, state text, message text);")
    lines.append("grant all on trained, outcomes to authenticated;")
    lines.append(f"select set_config('role', 'authenticated', true), set_config('request.jwt.claims', {lit(admin)}, true);")
    lines.append("\\o /dev/null")
    lines += ["set forecastlab.forecast_enable_random_forest = on;", "set forecastlab.forecast_enable_lightgbm = on;",
              "set forecastlab.forecast_enable_xgboost = on;"]
    lines.append("\\o")
    artifact = lambda path: (f"(select convert_from(a.content, 'UTF8')::jsonb from forecast_models.artifacts a "
                             f"where a.artifact_key = substring({path} from 'model_([0-9a-f]{{12}})'))")
    stored = artifact("t.r ->> 'model_path'")
    for i, (name, store, product, start, end) in enumerate(SERIES):
        ids = f"{sid(store)}, {pid(product)}"
        for j, config in enumerate(CONFIGS):
            lines.append(f"insert into pg_temp.trained values ({i}, {j}, api.forecasting_train({ids}, {lit(start.isoformat())}, "
                         f"{lit(end.isoformat())}, {lit(json.dumps(config))}::jsonb));")
            lines.append(f"select 'F|{i}|{j}|' || jsonb_build_object('train', t.r, 'predict', api.forecasting_predict({ids}, {HORIZON}, t.r ->> 'model_path'), "
                         f"'config', {stored} -> 'config')::text from pg_temp.trained t where t.i = {i} and t.j = {j};")
        # The frames the models read, as the same role: the training grid's, and the future days' on
        # the history the artifact keeps.
        lines.append(f"select 'T|{i}|' || jsonb_agg(jsonb_build_object('day', f.day, 'features', f.features) order by f.day)::text "
                     f"from forecast_models.series({acc}, {ids}, {lit(start.isoformat())}, {lit(end.isoformat())}) s, "
                     f"forecast_models.daily_grid(s.dates, s.y, {lit(end.isoformat())}) g, "
                     f"forecast_models.frame_v1({ids}, g.days, g.days, g.values_, {lit(end.isoformat())}) f;")
        lines.append(f"select 'U|{i}|' || jsonb_build_object('n_rows', b.s -> 'n_rows', 'history_days', b.s -> 'history_days', "
                     f"'history_values', b.s -> 'history_values', 'frame', (select jsonb_agg(jsonb_build_object('day', f.day, 'features', f.features) order by f.day) "
                     f"from forecast_models.frame_v1({ids}, array(select {lit(end.isoformat())}::date + h from generate_series(1, {HORIZON}) h order by h), "
                     f"array(select (d #>> '{{}}')::date from jsonb_array_elements(b.s -> 'history_days') d), "
                     f"array(select (v #>> '{{}}')::double precision from jsonb_array_elements(b.s -> 'history_values') v), "
                     f"{lit(end.isoformat())}) f))::text "
                     f"from (select {stored} -> 'state' s from pg_temp.trained t where t.i = {i} and t.j = 0) b;")

    # The disabled path: the flag reset, lightgbm is a PT400 naming it (training and predicting);
    # the always-on types still train.
    store, product, start, end = SERIES[0][1:]
    ids = f"{sid(store)}, {pid(product)}"
    lightgbm_path = f"(select t.r ->> 'model_path' from pg_temp.trained t where t.i = 0 and t.r ->> 'model_type' = 'lightgbm' limit 1)"
    attempts = [
        ("train lightgbm, flag reset", f"perform api.forecasting_train({ids}, {lit(start.isoformat())}, {lit(end.isoformat())}, '{{\"model_type\": \"lightgbm\"}}'::jsonb)"),
        ("predict lightgbm, flag reset", f"perform api.forecasting_predict({ids}, {HORIZON}, {lightgbm_path})"),
        ("train regression, every flag reset", f"perform api.forecasting_train({ids}, {lit(start.isoformat())}, {lit(end.isoformat())}, '{{\"model_type\": \"regression\", \"max_iter\": 10}}'::jsonb)"),
        ("train prophet_like, every flag reset", f"perform api.forecasting_train({ids}, {lit(start.isoformat())}, {lit(end.isoformat())}, '{{\"model_type\": \"prophet_like\"}}'::jsonb)"),
    ]
    lines.append("\\o /dev/null")
    lines.append("reset forecastlab.forecast_enable_lightgbm;")
    lines.append("\\o")
    for k, (tag, statement) in enumerate(attempts):
        if k == 2:
            lines += ["\\o /dev/null", "reset forecastlab.forecast_enable_random_forest;", "reset forecastlab.forecast_enable_xgboost;", "\\o"]
        lines.append(f"do $do$ declare st text; msg text; begin {statement}; insert into pg_temp.outcomes values ({lit(tag)}, 'ok', null); "
                     f"exception when others then get stacked diagnostics st = returned_sqlstate, msg = message_text; "
                     f"insert into pg_temp.outcomes values ({lit(tag)}, st, msg); end $do$;")
    lines.append("select 'D|' || jsonb_agg(jsonb_build_object('tag', tag, 'state', state, 'message', message))::text from pg_temp.outcomes;")
    lines.append("rollback;")
    return lines


# ── Comparison ───────────────────────────────────────────────────────────────────────────────
def cells_of(rows):
    return [r["day"] for r in rows], np.array([[math.nan if v is None else v for v in r["features"]] for r in rows], dtype=np.float64)


def frame_error(got, want):
    """Worst |got - want| / max(1, |want|) over cells both non-missing; inf when missingness differs."""
    if got.shape != want.shape:
        return math.inf, [("shape", got.shape, want.shape)]
    bad = []
    worst = 0.0
    for r, c in zip(*np.nonzero(~((np.isnan(got) & np.isnan(want)) | (got == want)))):
        g, w = got[r, c], want[r, c]
        err = math.inf if (math.isnan(g) or math.isnan(w)) else abs(g - w) / max(1.0, abs(w))
        worst = max(worst, err)
        if err > FRAME_RTOL:
            bad.append((r, COLUMNS[c], g, w))
    return worst, bad


def run(url):
    account, other = str(uuid.uuid4()), str(uuid.uuid4())
    data, foreign = dataset()
    lines = build_script(account, other, data, foreign)
    done = refcommon.psql(url, lines)
    if done.returncode != 0:
        print(done.stderr, file=sys.stderr)
        return 1
    failures = 0

    def fail(message):
        nonlocal failures
        failures += 1
        print("FAIL " + message)

    # The reference frames and forecasts.
    frames = {}
    for i, (name, store, product, start, end) in enumerate(SERIES):
        target = grid(data, store, product, start, end)
        days = sorted(target)
        future = [day(end, h) for h in range(1, HORIZON + 1)]
        X = frame(data, store, product, days, target, end, BASE_PRICE[product])
        Xf = frame(data, store, product, future, target, end, BASE_PRICE[product])
        if not np.isnan(Xf[28:, :4]).all():  # past lag 28 no lag cell may be known
            fail(f"{name}: the reference future frame has a lag past day 28")
        frames[i] = dict(days=days, future=future, X=X, Xf=Xf, y=np.array([target[d] for d in days]))
        # The frame reads nothing of the wild rows (quantities from 5000, prices 99.99 and 123.45).
        if np.nanmax(np.abs(np.concatenate([X[:, :4], Xf[:, :4]]))) >= 5000:
            fail(f"{name}: the reference frame itself reads a wild row")

    worst = {t: 0.0 for t in DEFAULTS}
    exact = {t: [0, 0] for t in DEFAULTS}
    worst_frame = 0.0
    frame_cells = 0
    seen = {"F": 0, "T": 0, "U": 0, "D": 0}
    for line in done.stdout.splitlines():
        tag, _, rest = line.partition("|")
        if tag not in seen:
            continue
        seen[tag] += 1
        if tag == "F":
            i, j, payload = rest.split("|", 2)
            i, j = int(i), int(j)
            result = json.loads(payload)
            name, config, ref = SERIES[i][0], CONFIGS[j], frames[i]
            kind = config["model_type"]
            got = np.array([p["forecast"] for p in result["predict"]["forecasts"]], dtype=np.float64)
            dates = [p["date"] for p in result["predict"]["forecasts"]]
            try:
                want = reference_forecast(config, ref["X"], ref["y"], ref["Xf"])
            except Exception as error:  # noqa: BLE001 - a reference that cannot fit is a failure to report
                fail(f"{name} {config}: the reference fit failed: {str(error).splitlines()[0]}")
                continue
            err = float(np.max(np.abs(got - want) / np.maximum(1.0, np.abs(want)))) if got.shape == want.shape else math.inf
            rtol = RIDGE_RTOL if kind == "prophet_like" else TREE_RTOL
            worst[kind] = max(worst[kind], err)
            exact[kind][0] += int(np.sum(got == want)) if got.shape == want.shape else 0
            exact[kind][1] += len(want)
            if not err <= rtol:
                fail(f"{name} {config}: forecasts' max relative error {err:.3g} (tolerance {rtol}); got {got[:4]} want {want[:4]}")
            if dates != [d.isoformat() for d in ref["future"]]:
                fail(f"{name} {config}: forecast dates {dates[:2]}… want {ref['future'][0]}…")
            if result["train"]["n_observations"] != len(ref["days"]):
                fail(f"{name} {config}: n_observations {result['train']['n_observations']}, want {len(ref['days'])}")
            if result["config"] != completed(config):
                fail(f"{name} {config}: stored config {result['config']}, want {completed(config)}")
            if result["predict"]["model_type"] != kind or result["predict"]["horizon"] != HORIZON:
                fail(f"{name} {config}: predict answered {result['predict']['model_type']} / {result['predict']['horizon']}")
        elif tag in ("T", "U"):
            i, payload = rest.split("|", 1)
            i = int(i)
            name, ref = SERIES[i][0], frames[i]
            result = json.loads(payload)
            if tag == "T":
                got_days, got = cells_of(result)
                want_days, want = ref["days"], ref["X"]
                if result and len(result[0]["features"]) != len(COLUMNS):
                    fail(f"{name}: the frame has {len(result[0]['features'])} columns")
            else:
                got_days, got = cells_of(result["frame"])
                want_days, want = ref["future"], ref["Xf"]
                tail = ref["days"][-90:]
                if result["n_rows"] != len(ref["days"]):
                    fail(f"{name}: the artifact's n_rows {result['n_rows']}, want {len(ref['days'])}")
                if (result["history_days"] != [d.isoformat() for d in tail]
                        or result["history_values"] != [float(v) for v in ref["y"][-90:]]):
                    fail(f"{name}: the artifact's history tail differs from the last 90 grid days")
            if got_days != [d.isoformat() for d in want_days]:
                fail(f"{name} {'training' if tag == 'T' else 'future'} frame days: {got_days[:2]}…{got_days[-1:]} want "
                     f"{want_days[0]}…{want_days[-1]} ({len(got_days)} vs {len(want_days)})")
                continue
            err, bad = frame_error(got, want)
            worst_frame = max(worst_frame, err)
            frame_cells += want.size
            for r, column, g, w in bad[:8]:
                fail(f"{name} {'training' if tag == 'T' else 'future'} frame {want_days[r]} {column}: got {g!r} want {w!r}")
            if len(bad) > 8:
                fail(f"{name}: … {len(bad) - 8} more frame cells")
            if np.isin(got[:, :4], [77777 + k for k in range(50)] + [5000.0, 999.0]).any():
                fail(f"{name}: a lag cell holds a wild quantity dated outside the window")
            if np.isclose(got[:, 10], 123.45 / float(BASE_PRICE[SERIES[i][2]]), rtol=1e-12, atol=0).any():
                fail(f"{name}: a price_factor cell reads a sale dated after the training end")
        elif tag == "D":
            outcomes = {o["tag"]: o for o in json.loads(rest)}
            for t in ("train lightgbm, flag reset", "predict lightgbm, flag reset"):
                o = outcomes.get(t)
                if not o or o["state"] != "PT400" or "forecast_enable_lightgbm" not in (o["message"] or ""):
                    fail(f"{t}: {o} (want PT400 naming forecast_enable_lightgbm)")
                else:
                    print(f"disabled: {t} -> {o['state']} {o['message']}")
            for t in ("train regression, every flag reset", "train prophet_like, every flag reset"):
                o = outcomes.get(t)
                if not o or o["state"] != "ok":
                    fail(f"{t}: {o} (want it to train: the type is always on)")
    want_seen = {"F": len(SERIES) * len(CONFIGS), "T": len(SERIES), "U": len(SERIES), "D": 1}
    if seen != want_seen:
        fail(f"expected result lines {want_seen}, got {seen}")
    print(f"frames: {len(SERIES)} series, training and {HORIZON} future days, {frame_cells} cells; "
          f"worst relative error {worst_frame:.3g} (tolerance {FRAME_RTOL})")
    for kind in DEFAULTS:
        rtol = RIDGE_RTOL if kind == "prophet_like" else TREE_RTOL
        print(f"{kind}: {exact[kind][0]}/{exact[kind][1]} forecasts bit-exact; worst relative error {worst[kind]:.3g} (tolerance {rtol})")
    print("OK" if failures == 0 else f"{failures} FAILURE(S)")
    return 0 if failures == 0 else 1


if __name__ == "__main__":
    refcommon.main(run, __doc__)
