"""What check_feature_models.py and check_scenarios.py share: the V1 frame rebuilt from the raw
rows a check inserted and the contract's words (§20, the comments of frames.sql; not a port of the
SQL), the regression learner outside the database, and the psql lines that insert the rows the
frame reads. Pure Python, numpy and scikit-learn: nothing here asks the database.

Import it before numpy: it pins one thread first.
"""
import datetime as dt
import json
import math
import os
import uuid

# One thread, as the database's learners run (learners.sql, scripts/db.sh): the same summation order.
# Set before numpy loads its BLAS, which reads these once.
for _name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")

import numpy as np  # noqa: E402

COLUMNS = ["lag_1", "lag_7", "lag_14", "lag_28", "dow_sin", "dow_cos", "month_sin", "month_cos",
           "is_weekend", "is_month_end", "price_factor", "promo_active", "is_holiday", "days_since_launch"]
LAGS = (1, 7, 14, 28)
REGRESSION_DEFAULTS = {"max_iter": 200, "learning_rate": 0.05, "max_depth": 6}  # §8.1


def day(d, n):
    return d + dt.timedelta(days=n)


# ── The V1 frame, from the rules (§20 and the comments), not from the SQL ────────────────────
def rows_in(data, store, product, first, last):
    return sorted((r for r in data["sales"] if r["store"] == store and r["product"] == product and first <= r["date"] <= last),
                  key=lambda r: r["date"])


def grid(data, store, product, first_day, last_day):
    """The target the model learns: sales of the window, a day without a row sold 0, from the
    first day with a row to the window's end. A dict date -> quantity."""
    sold = {r["date"]: r["quantity"] for r in rows_in(data, store, product, first_day, last_day)}
    first = min(sold)
    return {day(first, i): float(sold.get(day(first, i), 0)) for i in range((last_day - first).days + 1)}


def frame(data, store, product, days, target, origin, base_price):
    """Rows of the 14 COLUMNS for `days`; `target` is a date -> quantity dict; nothing after
    `origin` of the target or of the sales is read. `base_price` is the product's (0 reads as 1)."""
    known = {d: v for d, v in target.items() if d <= origin}
    own_sales = sorted((r for r in data["sales"] if r["store"] == store and r["product"] == product), key=lambda r: r["date"])
    launches = [r["start"] for r in data["lifecycle"] if r["product"] == product and r["stage"] == "launch"]
    sold_by_origin = [r["date"] for r in own_sales if r["date"] <= origin]
    launch = min(launches) if launches else (sold_by_origin[0] if sold_by_origin else None)
    base = float(base_price) or 1.0
    rows = []
    for d in days:
        cells = [known.get(d - dt.timedelta(days=k), math.nan) for k in LAGS]
        w, m = d.weekday(), d.month  # Monday 0
        cells += [math.sin(2 * math.pi * w / 7), math.cos(2 * math.pi * w / 7),
                  math.sin(2 * math.pi * m / 12), math.cos(2 * math.pi * m / 12),
                  1.0 if w >= 5 else 0.0, 1.0 if (d + dt.timedelta(days=1)).month != m else 0.0]
        covering = [r for r in data["prices"] if r["store"] == store and r["product"] == product
                    and r["valid_from"] <= d and (r["valid_to"] is None or d <= r["valid_to"])]
        if covering:
            price = float(max(covering, key=lambda r: r["valid_from"])["price"])
        else:
            before = [r for r in own_sales if r["date"] <= d and r["date"] <= origin]
            price = float(before[-1]["unit_price"]) if before else None
        cells.append(1.0 if price is None else price / base)
        cells.append(1.0 if any(p["product"] == product and p["store"] in (None, store) and p["start"] <= d <= p["end"]
                                for p in data["promos"]) else 0.0)
        cells.append(1.0 if any(s["kind"] == "holiday" and s["date"] == d and s["store"] in (None, store)
                                for s in data["signals"]) else 0.0)
        cells.append(float(max((d - launch).days, 0)) if launch else 0.0)
        rows.append(cells)
    return np.array(rows, dtype=np.float64)


# ── The regression learner, outside the database ─────────────────────────────────────────────
def regression(config):
    """model_type regression, unfitted: the configuration's parameters over the defaults, seed 0."""
    from sklearn.ensemble import HistGradientBoostingRegressor
    c = dict(REGRESSION_DEFAULTS, **{k: v for k, v in config.items() if k in REGRESSION_DEFAULTS})
    return HistGradientBoostingRegressor(max_iter=c["max_iter"], learning_rate=c["learning_rate"], max_depth=c["max_depth"],
                                         early_stopping=False, random_state=0)


# ── The psql lines ───────────────────────────────────────────────────────────────────────────
def lit(value):
    if value is None:
        return "null"
    if isinstance(value, (int, float)):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def id_sql(acc):
    """Subqueries for a store's id (None: null, every store) and a product's, by code in account `acc` (a literal)."""
    sid = lambda code: "null" if code is None else f"(select id from forecast.stores where account_id = {acc} and store_code = {lit(code)})"
    pid = lambda sku: f"(select id from forecast.products where account_id = {acc} and sku = {lit(sku)})"
    return sid, pid


def claims(account, role):
    return json.dumps({"sub": str(uuid.uuid4()), "role": "authenticated", "app_metadata": {"account_id": account, "app_role": role}})


def context_inserts(owner, rows, sid, pid):
    """Inserts of the prices, promotions, signals and lifecycle rows, owned by `owner` (a literal)."""
    out = []
    for r in rows["prices"]:
        out.append(f"insert into forecast.price_history (account_id, product_id, store_id, valid_from, valid_to, price) values "
                   f"({owner}, {pid(r['product'])}, {sid(r['store'])}, {lit(r['valid_from'].isoformat())}, "
                   f"{lit(r['valid_to'] and r['valid_to'].isoformat())}, {r['price']});")
    for r in rows["promos"]:
        out.append(f"insert into forecast.promotions (account_id, product_id, store_id, start_date, end_date, discount_pct) values "
                   f"({owner}, {pid(r['product'])}, {sid(r['store'])}, {lit(r['start'].isoformat())}, {lit(r['end'].isoformat())}, 15);")
    for r in rows["signals"]:
        out.append(f"insert into forecast.exogenous_signals (account_id, store_id, date, signal_type, value) values "
                   f"({owner}, {sid(r['store'])}, {lit(r['date'].isoformat())}, {lit(r['kind'])}, 1);")
    for r in rows["lifecycle"]:
        out.append(f"insert into forecast.product_lifecycle (account_id, product_id, stage, start_date) values "
                   f"({owner}, {pid(r['product'])}, {lit(r['stage'])}, {lit(r['start'].isoformat())});")
    return out
