#!/usr/bin/env python3
"""Independent reference check of ForecastLab's feature sets (docs/forecastlab-models.md, "Feature sets").

Builds a store and product with a sparse daily history (days without sales, price changes, promotions
for every store and for one, inventory snapshots with stockouts, holidays, other signals) plus noise
(another store and product, and wild rows dated after every cutoff) in a throw-away account of the
given database (one transaction, rolled back), computes feature frames through the SQL api functions
(psql, exactly as a psql caller would), loads the account's raw rows back from the same transaction,
recomputes every frame here with numpy from those rows and the contract's words (§7; written
without reading the SQL), and compares:

  * the rows' dates, feature_columns, row_count, null_counts;
  * every feature cell: equal to 1e-9 (relative above 1), null == NaN;
  * config_hash against Python's json.dumps(normalized config, sort_keys=True).

Run:  PYTHONPATH=/work/main/.pylib /usr/bin/python3 bench/reference/check_features.py --database-url "$URL"
(default URL: $DATABASE_URL). Exit 0 when every check passes, 1 otherwise.
"""
import datetime as dt
import hashlib
import json
import sys
import uuid

import numpy as np

import refcommon

TOLERANCE = 1e-9
FIRST = dt.date(2025, 1, 1)
DAYS = 420

# ── The cases: a config and a request ────────────────────────────────────────────────────────
ALL_AGGREGATIONS = ["mean", "std", "min", "max", "sum"]
CASES = [
    ("defaults, every aggregation", "compute", dt.date(2026, 1, 20), 365,
     {"name": "all", "lag_config": {}, "rolling_config": {"aggregations": ALL_AGGREGATIONS}, "calendar_config": {},
      "exogenous_config": {"include_inventory": True}, "imputation_config": {}}),
    ("mean and expanding mean, min_periods 1, cyclical off", "compute", dt.date(2025, 12, 31), 400,
     {"name": "mean", "lag_config": {"lags": [1, 3, 7], "fill_value": 0.5},
      "rolling_config": {"windows": [2, 5, 10], "aggregations": ["std", "min", "max", "sum", "mean"], "min_periods": 1},
      "calendar_config": {"use_cyclical_encoding": False, "include_year": True},
      "exogenous_config": {"price_lags": [1, 14], "include_inventory": True},
      "imputation_config": {"strategies": {"quantity": "mean", "unit_price": "ffill", "total_amount": "expanding_mean"}}}),
    ("no imputation (nulls through), min_periods 3", "compute", dt.date(2026, 1, 31), 200,
     {"name": "raw", "lag_config": {"lags": [1, 2]}, "rolling_config": {"windows": [4, 7], "aggregations": ALL_AGGREGATIONS, "min_periods": 3},
      "exogenous_config": {"price_lags": [3], "include_promo": False}}),
    ("drop, other targets", "compute", dt.date(2026, 1, 10), 120,
     {"name": "drop", "lag_config": {"lags": [1, 5], "target_column": "unit_price"},
      "rolling_config": {"windows": [3, 6], "aggregations": ["sum", "std", "max"], "target_column": "total_amount"},
      "calendar_config": {"include_day_of_week": False, "include_quarter": False}, "exogenous_config": {"include_price_change": False},
      "imputation_config": {"strategies": {"quantity": "drop", "unit_price": "ffill"}}}),
    ("ffill, a long window", "compute", dt.date(2025, 11, 15), 60,
     {"name": "ffill", "lag_config": {"lags": [28]}, "rolling_config": {"windows": [28], "aggregations": ALL_AGGREGATIONS},
      "exogenous_config": {"include_price": False, "include_inventory": True},
      "imputation_config": {"strategies": {"quantity": "ffill", "total_amount": "zero"}}}),
    ("preview of the defaults", "preview", dt.date(2026, 2, 14), 25,
     {"name": "preview", "lag_config": {}, "rolling_config": {}, "calendar_config": {}, "exogenous_config": {}, "imputation_config": {}}),
]

# FeatureSetConfig's defaults (§7), to normalize a config here as the contract states them.
DEFAULTS = {
    "lag_config": {"schema_version": "1.0", "lags": [1, 7, 14, 28], "target_column": "quantity", "fill_value": None},
    "rolling_config": {"schema_version": "1.0", "windows": [7, 14, 28], "aggregations": ["mean", "std"], "target_column": "quantity", "min_periods": None},
    "calendar_config": {"schema_version": "1.0", "include_day_of_week": True, "include_month": True, "include_quarter": True, "include_year": False,
                        "include_is_weekend": True, "include_is_month_end": True, "include_is_holiday": True, "use_cyclical_encoding": True},
    "exogenous_config": {"schema_version": "1.0", "include_price": True, "price_lags": [7, 28], "include_price_change": True, "include_promo": True,
                         "include_inventory": False, "include_stockout_flag": True},
    "imputation_config": {"schema_version": "1.0", "strategies": {"quantity": "zero", "unit_price": "ffill", "total_amount": "zero"}},
}


def normalized(config):
    out = {"schema_version": "1.0", "name": config["name"], "description": None, "entity_columns": ["store_id", "product_id"],
           "date_column": "date", "target_column": "quantity"}
    for key, defaults in DEFAULTS.items():
        out[key] = None if config.get(key) is None else dict(defaults, **config[key])
    return out


# ── The data ─────────────────────────────────────────────────────────────────────────────────
def dataset():
    """Rows as (table, dict) for store 'F1' / product 'F1' (the series) and 'F2' (noise)."""
    rng = np.random.default_rng(42)
    rows = []
    days = [FIRST + dt.timedelta(days=i) for i in range(DAYS)]
    for store, product in (("F1", "F1"), ("F2", "F1"), ("F1", "F2")):
        main = (store, product) == ("F1", "F1")
        for i, d in enumerate(days):
            if main and rng.random() < 0.25:
                continue  # a day without sales
            q = int(rng.poisson(6 + 3 * (d.weekday() >= 5)))
            price = [2.50, 2.75, 2.40][0 if i < 150 else 1 if i < 300 else 2] - (0.25 if 200 <= i < 210 else 0)
            rows.append(("sales", dict(store=store, product=product, date=d, quantity=q, unit_price=round(price, 2), total_amount=round(q * price, 2))))
        for i, d in enumerate(days):
            if rng.random() < 0.6:
                out = rng.random() < 0.1
                rows.append(("inventory", dict(store=store, product=product, date=d, on_hand=0 if out else int(rng.integers(1, 80)),
                                               on_order=int(rng.integers(0, 30)), stockout=out)))
    # Prices of the series: an ended list price, then store prices with gaps between them.
    rows += [("price", dict(store="F1", product="F1", valid_from=dt.date(2024, 12, 1), valid_to=dt.date(2025, 1, 20), price=2.60)),
             ("price", dict(store="F1", product="F1", valid_from=dt.date(2025, 3, 1), valid_to=dt.date(2025, 5, 31), price=2.90)),
             ("price", dict(store="F1", product="F1", valid_from=dt.date(2025, 5, 15), valid_to=None, price=3.10)),
             ("price", dict(store="F1", product="F1", valid_from=dt.date(2025, 9, 1), valid_to=dt.date(2025, 10, 15), price=0.00)),
             ("price", dict(store="F1", product="F1", valid_from=dt.date(2025, 10, 20), valid_to=None, price=3.30)),
             ("price", dict(store="F2", product="F1", valid_from=dt.date(2025, 1, 1), valid_to=None, price=99.0))]
    for k in range(14):
        start = FIRST + dt.timedelta(days=int(rng.integers(0, DAYS)))
        store = [None, "F1", "F2"][k % 3]
        rows.append(("promo", dict(store=store, product="F1", start=start, end=start + dt.timedelta(days=int(rng.integers(0, 9))),
                                   discount=float(round(rng.uniform(5, 40), 2)))))
    rows.append(("promo", dict(store=None, product="F2", start=FIRST, end=FIRST + dt.timedelta(days=DAYS), discount=50.0)))
    for k in range(25):
        d = FIRST + dt.timedelta(days=int(rng.integers(0, DAYS)))
        rows.append(("signal", dict(store=[None, "F1", "F2"][k % 3], date=d, kind=["holiday", "holiday", "event"][k % 3] if k % 5 else "weather_temperature")))
    # Wild rows after the last cutoff (2026-02-24 is the last grid day): they must change nothing.
    last = FIRST + dt.timedelta(days=DAYS)
    for i in range(10):
        d = last + dt.timedelta(days=i)
        rows.append(("sales", dict(store="F1", product="F1", date=d, quantity=999999, unit_price=0.01, total_amount=9999.99)))
        rows.append(("inventory", dict(store="F1", product="F1", date=d, on_hand=99999, on_order=99999, stockout=True)))
        rows.append(("signal", dict(store=None, date=d, kind="holiday")))
    rows.append(("price", dict(store="F1", product="F1", valid_from=last, valid_to=None, price=12345.67)))
    rows.append(("promo", dict(store="F1", product="F1", start=last, end=last + dt.timedelta(days=30), discount=99.0)))
    return rows


def sql_literal(value):
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def build_script(account, rows):
    acc = sql_literal(account)
    store = lambda code: f"(select id from forecast.stores where account_id = {acc} and store_code = '{code}')" if code else "null"
    product = lambda sku: f"(select id from forecast.products where account_id = {acc} and sku = '{sku}')"
    lines = ["\\set ON_ERROR_STOP 1", "begin;",
             f"insert into forecast.stores (account_id, store_code, name) values ({acc}, 'F1', 'one'), ({acc}, 'F2', 'two');",
             f"insert into forecast.products (account_id, sku, name, base_price) values ({acc}, 'F1', 'one', 2.5), ({acc}, 'F2', 'two', 4);"]
    inserts = {
        "sales": ("forecast.sales_daily (account_id, store_id, product_id, date, quantity, unit_price, total_amount)",
                  lambda r: f"({acc}, {store(r['store'])}, {product(r['product'])}, '{r['date']}', {r['quantity']}, {r['unit_price']}, {r['total_amount']})"),
        "inventory": ("forecast.inventory_snapshot_daily (account_id, store_id, product_id, date, on_hand_qty, on_order_qty, is_stockout)",
                      lambda r: f"({acc}, {store(r['store'])}, {product(r['product'])}, '{r['date']}', {r['on_hand']}, {r['on_order']}, {sql_literal(r['stockout'])})"),
        "price": ("forecast.price_history (account_id, store_id, product_id, valid_from, valid_to, price)",
                  lambda r: f"({acc}, {store(r['store'])}, {product(r['product'])}, '{r['valid_from']}', {sql_literal(r['valid_to'] and r['valid_to'].isoformat())}::date, {r['price']})"),
        "promo": ("forecast.promotions (account_id, store_id, product_id, start_date, end_date, discount_pct)",
                  lambda r: f"({acc}, {store(r['store'])}, {product(r['product'])}, '{r['start']}', '{r['end']}', {r['discount']})"),
        "signal": ("forecast.exogenous_signals (account_id, store_id, date, signal_type, value)",
                   lambda r: f"({acc}, {store(r['store'])}, '{r['date']}', '{r['kind']}', 1)"),
    }
    for table, (target, value) in inserts.items():
        values = [value(r) for t, r in rows if t == table]
        lines.append(f"insert into {target} values {', '.join(values)};")
    # The raw rows as stored, read back (this checker computes from these, not from its own draws).
    ids = f"(select id from forecast.stores where account_id = {acc} and store_code = 'F1'), (select id from forecast.products where account_id = {acc} and sku = 'F1')"
    lines.append(f"select 'I|' || json_build_array({ids})::text;")
    for tag, query in (
            ("sales", "select store_id, product_id, date, quantity, unit_price, total_amount from forecast.sales_daily"),
            ("inventory", "select store_id, product_id, date, on_hand_qty, on_order_qty, is_stockout from forecast.inventory_snapshot_daily"),
            ("price", "select store_id, product_id, valid_from, valid_to, price from forecast.price_history"),
            ("promo", "select store_id, product_id, start_date, end_date, discount_pct from forecast.promotions"),
            ("signal", "select store_id, date, signal_type from forecast.exogenous_signals")):
        lines.append(f"select 'R|{tag}|' || coalesce(jsonb_agg(t), '[]')::text from ({query} where account_id = {acc}) t;")
    claims = json.dumps({"sub": str(uuid.uuid4()), "role": "authenticated", "app_metadata": {"account_id": account, "app_role": "viewer"}})
    lines.append(f"select set_config('role', 'authenticated', true), set_config('request.jwt.claims', {sql_literal(claims)}, true);")
    for j, (_, kind, cutoff, n, config) in enumerate(CASES):
        cfg = sql_literal(json.dumps(config)) + "::jsonb"
        call = (f"api.featuresets_compute({ids}, '{cutoff}', {n}, {cfg})" if kind == "compute"
                else f"api.featuresets_preview({ids}, '{cutoff}', {n}, {cfg})")
        lines.append(f"select 'F|{j}|' || {call}::text;")
    lines.append("rollback;")
    return lines


# ── The reference frame, from the contract's words ──────────────────────────────────────────
def load(raw, store_id, product_id):
    """The series' rows as numpy-friendly dicts, every table as read from the database."""
    day = dt.date.fromisoformat
    mine = lambda r: r["store_id"] == store_id and r["product_id"] == product_id
    return {
        "sales": {day(r["date"]): (float(r["quantity"]), float(r["unit_price"]), float(r["total_amount"])) for r in raw["sales"] if mine(r)},
        "inventory": {day(r["date"]): (float(r["on_hand_qty"]), float(r["on_order_qty"]), 1.0 if r["is_stockout"] else 0.0)
                      for r in raw["inventory"] if mine(r)},
        "price": [(day(r["valid_from"]), day(r["valid_to"]) if r["valid_to"] else None, float(r["price"])) for r in raw["price"] if mine(r)],
        "promo": [(day(r["start_date"]), day(r["end_date"]), float(r["discount_pct"])) for r in raw["promo"]
                  if r["product_id"] == product_id and r["store_id"] in (None, store_id)],
        "holiday": {day(r["date"]) for r in raw["signal"] if r["signal_type"] == "holiday" and r["store_id"] in (None, store_id)},
    }


def ffill(x):
    out = x.copy()
    for i in range(1, len(out)):
        if np.isnan(out[i]):
            out[i] = out[i - 1]
    return out


def impute(x, strategy):
    x = x.copy()
    gaps = np.isnan(x)
    if strategy == "zero":
        x[gaps] = 0.0
    elif strategy == "ffill":
        x = ffill(x)
    elif strategy == "mean":
        x[gaps] = np.nanmean(x) if (~gaps).any() else np.nan
    elif strategy == "expanding_mean":
        valid = np.where(gaps, 0.0, x)
        sums = np.concatenate([[0.0], np.cumsum(valid)[:-1]])
        counts = np.concatenate([[0], np.cumsum(~gaps)[:-1]])
        with np.errstate(invalid="ignore", divide="ignore"):
            earlier = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
        x[gaps] = earlier[gaps]
    return x


def shifted(x, k):
    out = np.full(len(x), np.nan)
    if k < len(x):
        out[k:] = x[:len(x) - k]
    return out


def rolling(x, window, min_periods, agg):
    out = np.full(len(x), np.nan)
    for i in range(len(x)):
        values = x[max(0, i - window):i]          # shift(1): the window ends at the previous row
        values = values[~np.isnan(values)]
        if len(values) < min_periods:
            continue
        if agg == "std":
            out[i] = np.std(values, ddof=1) if len(values) >= 2 else np.nan
        else:
            out[i] = {"mean": np.mean, "min": np.min, "max": np.max, "sum": np.sum}[agg](values)
    return out


def reference(data, cutoff, lookback, config):
    """(dates, {column: values}) in column order."""
    start = cutoff - dt.timedelta(days=lookback)
    sold = sorted(d for d in data["sales"] if start <= d <= cutoff)    # nothing after the cutoff
    if not sold:
        return None
    dates = [sold[0] + dt.timedelta(days=i) for i in range((cutoff - sold[0]).days + 1)]
    n = len(dates)
    col = lambda f: np.array([f(d) for d in dates], dtype=np.float64)
    q = col(lambda d: data["sales"][d][0] if d in data["sales"] else np.nan)
    up = col(lambda d: data["sales"][d][1] if d in data["sales"] else np.nan)
    ta = col(lambda d: data["sales"][d][2] if d in data["sales"] else np.nan)

    def listed(d):
        covering = [(f, p) for f, t, p in data["price"] if f <= d <= cutoff and (t is None or d <= t)]
        return max(covering)[1] if covering else np.nan
    price = col(listed)
    price = np.where(np.isnan(price), ffill(up), price)
    promo = col(lambda d: 1.0 if any(s <= d <= e for s, e, _ in data["promo"] if s <= cutoff) else 0.0)
    discount = col(lambda d: max([p for s, e, p in data["promo"] if s <= d <= e and s <= cutoff], default=0.0))
    snap = lambda d, k: data["inventory"][d][k] if d in data["inventory"] and d <= cutoff else np.nan
    on_hand, on_order, stockout = (col(lambda d, k=k: snap(d, k)) for k in range(3))
    holiday = col(lambda d: 1.0 if d in data["holiday"] and d <= cutoff else 0.0)

    strategies = (config.get("imputation_config") or {}).get("strategies", {})
    keep = np.ones(n, dtype=bool)
    for name, values in (("quantity", q), ("unit_price", up), ("total_amount", ta)):
        if strategies.get(name) == "drop":
            keep &= ~np.isnan(values)
    pick = lambda x: x[keep]
    dates = [d for d, k in zip(dates, keep) if k]
    q, up, ta, price, promo, discount, on_hand, on_order, stockout, holiday = map(
        pick, (q, up, ta, price, promo, discount, on_hand, on_order, stockout, holiday))
    target = {"quantity": impute(q, strategies.get("quantity")), "unit_price": impute(up, strategies.get("unit_price")),
              "total_amount": impute(ta, strategies.get("total_amount"))}

    out = {}
    lag = config.get("lag_config")
    if lag is not None:
        for k in lag["lags"]:
            values = shifted(target[lag["target_column"]], k)
            if lag["fill_value"] is not None:
                values = np.where(np.isnan(values), lag["fill_value"], values)
            out[f"lag_{k}"] = values
    roll = config.get("rolling_config")
    if roll is not None:
        for w in roll["windows"]:
            for agg in roll["aggregations"]:
                mp = roll["min_periods"] if roll["min_periods"] is not None else w
                out[f"rolling_{agg}_{w}"] = rolling(target[roll["target_column"]], w, mp, agg)
    cal = config.get("calendar_config")
    if cal is not None:
        dow = np.array([d.weekday() for d in dates], dtype=np.float64)
        month = np.array([d.month for d in dates], dtype=np.float64)
        if cal["include_day_of_week"]:
            if cal["use_cyclical_encoding"]:
                out["dow_sin"], out["dow_cos"] = np.sin(2 * np.pi * dow / 7), np.cos(2 * np.pi * dow / 7)
            else:
                out["day_of_week"] = dow
        if cal["include_month"]:
            if cal["use_cyclical_encoding"]:
                out["month_sin"], out["month_cos"] = np.sin(2 * np.pi * month / 12), np.cos(2 * np.pi * month / 12)
            else:
                out["month"] = month
        if cal["include_quarter"]:
            out["quarter"] = (month - 1) // 3 + 1
        if cal["include_year"]:
            out["year"] = np.array([d.year for d in dates], dtype=np.float64)
        if cal["include_is_weekend"]:
            out["is_weekend"] = (dow >= 5).astype(np.float64)
        if cal["include_is_month_end"]:
            out["is_month_end"] = np.array([(d + dt.timedelta(days=1)).month != d.month for d in dates], dtype=np.float64)
        if cal["include_is_holiday"]:
            out["is_holiday"] = holiday
    exo = config.get("exogenous_config")
    if exo is not None:
        if exo["include_price"]:
            for k in exo["price_lags"]:
                out[f"price_lag_{k}"] = shifted(price, k)
            if exo["include_price_change"]:
                now, before = shifted(price, 1), shifted(price, 8)
                with np.errstate(invalid="ignore", divide="ignore"):
                    change = (now - before) / before
                out["price_pct_change_7d"] = np.where(np.isfinite(change), change, np.nan)
        if exo["include_promo"]:
            out["promo_active"], out["promo_discount_pct"] = promo, discount
        if exo["include_inventory"]:
            out["on_hand_qty_lag_1"], out["on_order_qty_lag_1"] = shifted(on_hand, 1), shifted(on_order, 1)
        if exo["include_stockout_flag"]:
            out["stockout_lag_1"] = shifted(stockout, 1)
    return dates, out


# ── Compare ──────────────────────────────────────────────────────────────────────────────────
def compare(label, answer, dates, frame, config, kind, sample):
    problems = []
    columns = list(frame)
    null_counts = {c: int(np.sum(np.isnan(v))) for c, v in frame.items()}
    if kind == "preview":
        dates, frame = dates[-sample:], {c: v[-sample:] for c, v in frame.items()}
    want_hash = hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()[:16]
    if answer["feature_columns"] != columns:
        problems.append(f"feature_columns {answer['feature_columns']} != {columns}")
    if answer["config_hash"] != want_hash:
        problems.append(f"config_hash {answer['config_hash']} != {want_hash}")
    if answer["null_counts"] != null_counts:
        problems.append(f"null_counts {answer['null_counts']} != {null_counts}")
    if answer["row_count"] != len(dates) or [r["date"] for r in answer["rows"]] != [d.isoformat() for d in dates]:
        problems.append(f"rows: {answer['row_count']} answered, {len(dates)} expected, or other dates")
        return problems, 0, 0.0
    cells, worst = 0, 0.0
    for i, row in enumerate(answer["rows"]):
        for c in columns:
            got, want = row["features"].get(c), frame[c][i]
            cells += 1
            if got is None or np.isnan(want):
                if not (got is None and np.isnan(want)):
                    problems.append(f"{row['date']} {c}: {got} != {want}")
                continue
            error = abs(got - want) / max(1.0, abs(want))
            worst = max(worst, error)
            if error > TOLERANCE:
                problems.append(f"{row['date']} {c}: {got} != {want}")
    return problems, cells, worst


def run(url):
    account = str(uuid.uuid4())
    lines = build_script(account, dataset())
    done = refcommon.psql(url, lines)
    if done.returncode != 0:
        print(done.stderr, file=sys.stderr)
        return 1
    raw, answers, ids = {}, {}, None
    for line in done.stdout.splitlines():
        tag, _, rest = line.partition("|")
        if tag == "I":
            ids = json.loads(rest)
        elif tag == "R":
            table, payload = rest.split("|", 1)
            raw[table] = json.loads(payload)
        elif tag == "F":
            j, payload = rest.split("|", 1)
            answers[int(j)] = json.loads(payload)
    data = load(raw, *ids)
    failures = 0
    total_cells, worst_all = 0, 0.0
    for j, (label, kind, cutoff, n, config) in enumerate(CASES):
        if j not in answers:
            failures += 1
            print(f"FAIL {label}: no answer")
            continue
        full = normalized(config)
        lookback = n if kind == "compute" else 365
        dates, frame = reference(data, cutoff, lookback, full)
        problems, cells, worst = compare(label, answers[j], dates, frame, full, kind, n)
        total_cells += cells
        worst_all = max(worst_all, worst)
        status = "ok" if not problems else "FAIL"
        print(f"{status:4} {label}: {answers[j]['row_count']} rows x {len(frame)} columns, {cells} cells, worst relative error {worst:.3g}")
        for p in problems[:10]:
            print(f"     {p}")
        failures += bool(problems)
    print(f"feature frames: {len(CASES)} cases, {total_cells} cells compared with numpy; worst relative error {worst_all:.3g} (tolerance {TOLERANCE})")
    print("OK" if failures == 0 else f"{failures} FAILURE(S)")
    return 0 if failures == 0 else 1


if __name__ == "__main__":
    refcommon.main(run, __doc__)
