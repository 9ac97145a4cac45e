#!/usr/bin/env python3
"""Independent reference check of ForecastLab's scenarios (docs/forecastlab-models.md, "Scenarios").

Builds three store/product series in a throw-away account of the given database (one transaction,
rolled back): seven months of daily sales with a weekly pattern, cheaper days that sell more, days
without sales, price_history rows (one reaching into the horizon), promotions (the store's, every
store's, one in the horizon), 'holiday' signals, a launch row, and wild sales after the training end
(77777 units at 123.45, which nothing may read); two short series whose every sale is at 0.00 (the
unit price falls back to the product's base price 4.00, and, with a base price of 0, to 1.0).
Another account's promotion, holiday and price on the same ids must not be seen either.

Through the SQL api functions (psql with the claims of a member, as a psql caller would) it trains
naive, seasonal_naive, moving_average, prophet_like and two regression configurations, predicts
each (POST /forecasting/predict), and simulates every model under eight assumption sets (empty; a
price cut; reversed price and promotion windows with a holiday listed twice, growth and inventory;
the high clamp; the low clamp; a one-day markdown; bundle with maturity; inventory alone), with
inventories chosen to reach every coverage verdict. Here, from the raw rows it inserted and the
contract's words (§11.2, §20), it recomputes:

  * the baselines of the three SQL baselines with numpy (last value, last season, window mean), and
    every model's baseline against predict's forecast (equal to the bit);
  * heuristic simulations: each day's factor (price (1 + change)^-1.2 clamped, promotion uplift,
    1.30 on a listed holiday, lifecycle; the product clamped to [0.1, 5]; windows normalised),
    scenario = max(0, baseline * factor), delta, the totals (added in date order), units_delta,
    units_delta_pct (a percentage, 0 on a zero baseline), unit_price_used (the last sale price > 0
    at or before the origin, else the base price > 0, else 1.0), the revenues and the verdict: all
    within 1e-12 relative (in practice bit-exact);
  * model_exogenous simulations (regression): the V1 training frame and the future frame with the
    assumptions laid over it (price_factor * (1 + change_pct) in the window, promo_active 1 in the
    promotion window, is_holiday 1 on the listed dates; lags only from the grid at or before the
    origin), scikit-learn's HistGradientBoostingRegressor fitted outside the database with the same
    parameters (one thread, seed 0), predicted on the overridden frame, times the lifecycle factor,
    max 0: within 1e-9 relative (observed bit-exact, as check_feature_models.py explains); and that
    an empty assumption set gives back the plain forecast exactly and a price cut changes it;
  * prophet_like stays heuristic.

Run:  PYTHONPATH=/work/main/.pylib /usr/bin/python3 bench/reference/check_scenarios.py --database-url "$URL"
(default URL: $DATABASE_URL). Exit 0 when every check passes, 1 otherwise.
"""
import datetime as dt
import json
import math
import sys
import uuid

# v1frame first: it pins one thread before numpy loads.
import v1frame
from v1frame import claims, context_inserts, day, grid, id_sql, lit, rows_in

import numpy as np

import refcommon

HEURISTIC_RTOL = 1e-12
MODEL_RTOL = 1e-9
D = dt.date
TRAIN_START, TRAIN_END = D(2025, 6, 1), D(2025, 12, 31)
SHORT_START, SHORT_END = D(2025, 12, 1), D(2025, 12, 31)
BASE_PRICE = {"SCA": "2.50", "SCB": "4.00", "SCC": "0"}
UPLIFT = {"pct_off": 1.25, "bogo": 1.40, "bundle": 1.15, "markdown": 1.30}
LIFECYCLE = {"launch": 1.2, "growth": 1.1, "maturity": 1.0, "decline": 0.85}


# ── The data ─────────────────────────────────────────────────────────────────────────────────
def dataset():
    rng = np.random.default_rng(1111)
    sales, prices, promos, signals, lifecycle = [], [], [], [], []
    lift = [0, -3, -2, 1, 5, 10, 7]
    # Holidays every 8 days sell 20 more and promotions 8 more, on enough days (HistGradientBoosting's
    # leaves hold at least 20) that the learner splits on is_holiday and promo_active: a supplied
    # holiday or promotion then changes the re-forecast.
    holidays = [day(D(2025, 6, 9), 8 * k) for k in range(26)] + [D(2025, 12, 25)]
    for i in range((TRAIN_END - TRAIN_START).days + 1):
        d = day(TRAIN_START, i)
        if 0 < i and d != TRAIN_END and d not in holidays and rng.random() < 0.08:
            continue  # a day without a row sold nothing
        cheap = i % 5 == 0
        promo = D(2025, 7, 10) <= d <= D(2025, 7, 20) or D(2025, 9, 15) <= d <= D(2025, 9, 28) or D(2025, 11, 25) <= d <= D(2025, 11, 30)
        q = max(0, round(30 + lift[d.weekday()] + (15 if cheap else 0) + (8 if promo else 0) + (20 if d in holidays else 0)
                         + rng.normal(0, 3)))
        sales.append(dict(store="SCA", product="SCA", date=d, quantity=int(q), unit_price="2.00" if cheap else "2.50"))
    for i in range(45):  # wild rows after the origin: nothing may read them
        sales.append(dict(store="SCA", product="SCA", date=day(TRAIN_END, i + 1), quantity=77777, unit_price="123.45"))
    for product, q in (("SCB", 6), ("SCC", 3)):
        for i in range((SHORT_END - SHORT_START).days + 1):
            sales.append(dict(store="SCA", product=product, date=day(SHORT_START, i), quantity=q + i % 4, unit_price="0.00"))
        sales.append(dict(store="SCA", product=product, date=day(SHORT_END, 3), quantity=999, unit_price="55.00"))  # after the origin
    prices += [dict(store="SCA", product="SCA", valid_from=D(2025, 9, 1), valid_to=D(2025, 9, 14), price="2.30"),
               dict(store="SCA", product="SCA", valid_from=D(2026, 1, 5), valid_to=D(2026, 1, 20), price="2.20")]  # into the horizon
    promos += [dict(store=None, product="SCA", start=D(2025, 7, 10), end=D(2025, 7, 20)),
               dict(store="SCA", product="SCA", start=D(2025, 9, 15), end=D(2025, 9, 28)),
               dict(store="SCA", product="SCA", start=D(2025, 11, 25), end=D(2025, 11, 30)),
               dict(store=None, product="SCA", start=D(2026, 1, 10), end=D(2026, 1, 14))]  # in the horizon
    for d in holidays[:-1]:
        signals.append(dict(store="SCA", date=d, kind="holiday"))
    for d in (D(2025, 12, 25), D(2026, 1, 1)):
        signals.append(dict(store=None, date=d, kind="holiday"))
    lifecycle.append(dict(product="SCA", stage="launch", start=D(2025, 5, 20)))
    foreign = dict(prices=[dict(store="SCA", product="SCA", valid_from=D(2025, 12, 20), valid_to=None, price="0.01")],
                   promos=[dict(store=None, product="SCA", start=D(2026, 1, 1), end=D(2026, 1, 31))],
                   signals=[dict(store=None, date=D(2026, 1, 6), kind="holiday")], lifecycle=[])
    return dict(sales=sales, prices=prices, promos=promos, signals=signals, lifecycle=lifecycle), foreign


# (name, product, window, config, horizon)
MODELS = [
    ("naive", "SCA", (TRAIN_START, TRAIN_END), {"model_type": "naive"}, 21),
    ("seasonal_naive", "SCA", (TRAIN_START, TRAIN_END), {"model_type": "seasonal_naive", "season_length": 7}, 21),
    ("moving_average", "SCA", (TRAIN_START, TRAIN_END), {"model_type": "moving_average", "window_size": 10}, 21),
    ("prophet_like", "SCA", (TRAIN_START, TRAIN_END), {"model_type": "prophet_like"}, 21),
    ("regression", "SCA", (TRAIN_START, TRAIN_END), {"model_type": "regression"}, 35),
    ("regression_small", "SCA", (TRAIN_START, TRAIN_END), {"model_type": "regression", "max_iter": 60, "max_depth": 4, "learning_rate": 0.1}, 35),
    ("zero_priced", "SCB", (SHORT_START, SHORT_END), {"model_type": "naive"}, 7),
    ("zero_base", "SCC", (SHORT_START, SHORT_END), {"model_type": "naive"}, 7),
]

ASSUMPTIONS = [
    {},
    {"price": {"change_pct": -0.25, "start_date": "2026-01-03", "end_date": "2026-01-12"}},
    {"price": {"change_pct": 0.1, "start_date": "2026-01-08", "end_date": "2026-01-02"},
     "promotion": {"kind": "pct_off", "start_date": "2026-01-20", "end_date": "2026-01-15"},
     "holiday": {"dates": ["2026-01-06", "2026-01-06", "2026-03-30"]}, "lifecycle": {"stage": "growth"}, "inventory": {"on_hand_units": 900}},
    {"price": {"change_pct": -0.9, "start_date": "2026-01-01", "end_date": "2026-01-05"},
     "promotion": {"kind": "bogo", "start_date": "2026-01-04", "end_date": "2026-01-09"}, "lifecycle": {"stage": "launch"},
     "inventory": {"on_hand_units": 0}},
    {"price": {"change_pct": 5, "start_date": "2026-01-01", "end_date": "2026-01-31"}, "lifecycle": {"stage": "decline"},
     "inventory": {"on_hand_units": 100000}},
    {"promotion": {"kind": "markdown", "start_date": "2026-01-02", "end_date": "2026-01-02"}, "holiday": {"dates": ["2026-01-07"]},
     "inventory": {"on_hand_units": 10}},
    {"promotion": {"kind": "bundle", "start_date": "2026-01-01", "end_date": "2026-01-03"}, "holiday": {"dates": ["2026-01-01", "2026-01-02"]},
     "lifecycle": {"stage": "maturity"}, "inventory": {"on_hand_units": 700}},
    {"inventory": {"on_hand_units": 650}},
]


def iso(d):
    return dt.date.fromisoformat(d)


# ── The heuristic and the verdict (§11.2), from the contract's words ───────────────────────────
def heuristic_factor(d, a):
    f = 1.0
    if a.get("price"):
        lo, hi = sorted((iso(a["price"]["start_date"]), iso(a["price"]["end_date"])))
        if lo <= d <= hi:
            one = 1 + a["price"]["change_pct"]
            pf = 5.0 if one <= 0 else math.pow(one, -1.2)
            f *= min(max(pf, 0.1), 5.0)
    if a.get("promotion"):
        lo, hi = sorted((iso(a["promotion"]["start_date"]), iso(a["promotion"]["end_date"])))
        if lo <= d <= hi:
            f *= UPLIFT[a["promotion"]["kind"]]
    if a.get("holiday") and d.isoformat() in a["holiday"]["dates"]:
        f *= 1.30
    if a.get("lifecycle"):
        f *= LIFECYCLE[a["lifecycle"]["stage"]]
    return min(max(f, 0.1), 5.0)


def verdict(demand, a):
    if not a.get("inventory"):
        return "unknown"
    on_hand = float(a["inventory"]["on_hand_units"])
    if on_hand <= 0:
        return "stockout" if demand > 0 else "at_risk"
    if demand > on_hand * 1.10:
        return "stockout"
    if demand >= on_hand * 0.90:
        return "at_risk"
    return "covered"


def unit_price(data, store, product, origin):
    sold = sorted((r for r in data["sales"] if r["store"] == store and r["product"] == product
                   and r["date"] <= origin and float(r["unit_price"]) > 0), key=lambda r: r["date"])
    if sold:
        return float(sold[-1]["unit_price"])
    base = float(BASE_PRICE[product])
    return base if base > 0 else 1.0


# ── The baselines of the SQL models, with numpy ──────────────────────────────────────────────
def baseline_forecast(config, y, horizon):
    kind = config["model_type"]
    if kind == "naive":
        return np.full(horizon, y[-1])
    if kind == "seasonal_naive":
        m = config["season_length"]
        return np.array([y[len(y) - m + (h % m)] for h in range(horizon)])
    if kind == "moving_average":
        return np.full(horizon, float(np.mean(y[-config["window_size"]:])))
    return None


# ── The V1 frame with a supplied plan laid over it (§11.2, model_exogenous) ─────────────────
PRICE, PROMO, HOLIDAY = (v1frame.COLUMNS.index(c) for c in ("price_factor", "promo_active", "is_holiday"))


def frame(data, store, product, days, target, origin, plan=None):
    """v1frame's frame (shared with check_feature_models.py), then the plan's price, promotion and holiday cells."""
    X = v1frame.frame(data, store, product, days, target, origin, BASE_PRICE[product])
    plan = plan or {}
    for r, d in enumerate(days):
        if plan.get("price"):
            lo, hi = sorted((iso(plan["price"]["start_date"]), iso(plan["price"]["end_date"])))
            if lo <= d <= hi:
                X[r, PRICE] = X[r, PRICE] * (1 + plan["price"]["change_pct"])
        if plan.get("promotion"):
            lo, hi = sorted((iso(plan["promotion"]["start_date"]), iso(plan["promotion"]["end_date"])))
            if lo <= d <= hi:
                X[r, PROMO] = 1.0
        if plan.get("holiday") and d.isoformat() in plan["holiday"]["dates"]:
            X[r, HOLIDAY] = 1.0
    return X


# ── The psql script ──────────────────────────────────────────────────────────────────────────
def build_script(account, other, data, foreign):
    acc, oth = lit(account), lit(other)
    sid, pid = id_sql(acc)
    lines = ["\\set ON_ERROR_STOP 1", "begin;",
             f"insert into forecast.stores (account_id, store_code, name) values ({acc}, 'SCA', 'reference SCA');"]
    for code, price in BASE_PRICE.items():
        lines.append(f"insert into forecast.products (account_id, sku, name, base_price) values ({acc}, {lit(code)}, 'reference {code}', {price});")
    values = ",\n".join(f"({acc}, {sid(r['store'])}, {pid(r['product'])}, {lit(r['date'].isoformat())}, {r['quantity']}, {r['unit_price']}, 0)"
                        for r in data["sales"])
    lines.append(f"insert into forecast.sales_daily (account_id, store_id, product_id, date, quantity, unit_price, total_amount) values {values};")

    lines += context_inserts(acc, data, sid, pid) + context_inserts(oth, foreign, sid, pid)
    lines.append("create temp table trained (i integer, r jsonb); grant all on trained to authenticated;")
    lines.append(f"select set_config('role', 'authenticated', true), set_config('request.jwt.claims', {lit(claims(account, 'admin'))}, true);")
    lines.append("\\o /dev/null")
    for i, (name, product, (first, last), config, horizon) in enumerate(MODELS):
        lines.append(f"insert into pg_temp.trained values ({i}, api.forecasting_train({sid('SCA')}, {pid(product)}, "
                     f"{lit(first.isoformat())}, {lit(last.isoformat())}, {lit(json.dumps(config))}::jsonb));")
    lines.append("\\o")
    # Simulations and predictions as a member without the admin role (scenarios are every member's).
    lines.append(f"select set_config('request.jwt.claims', {lit(claims(account, 'viewer'))}, true) is null;")
    for i, (name, product, _, config, horizon) in enumerate(MODELS):
        key = "substring(t.r ->> 'model_path' from 'model_([0-9a-f]{12})')"
        lines.append(f"select 'P|{i}|' || jsonb_build_object('train', t.r, 'predict', api.forecasting_predict({sid('SCA')}, {pid(product)}, "
                     f"{horizon}, t.r ->> 'model_path'), 'key', {key})::text from pg_temp.trained t where t.i = {i};")
        for j, assumptions in enumerate(ASSUMPTIONS):
            lines.append(f"select 'S|{i}|{j}|' || api.scenarios_simulate({key}, {horizon}, {lit(json.dumps(assumptions))}::jsonb)::text "
                         f"from pg_temp.trained t where t.i = {i};")
    lines.append("rollback;")
    return lines


# ── Comparison ───────────────────────────────────────────────────────────────────────────────
def rel(got, want):
    if got == want:
        return 0.0
    return abs(got - want) / max(1.0, abs(want))


def run(url):
    account, other = str(uuid.uuid4()), str(uuid.uuid4())
    data, foreign = dataset()
    done = refcommon.psql(url, build_script(account, other, data, foreign))
    if done.returncode != 0:
        print(done.stderr, file=sys.stderr)
        return 1
    failures = 0

    def fail(message):
        nonlocal failures
        failures += 1
        print("FAIL " + message)

    predicted, simulated = {}, {}
    for line in done.stdout.splitlines():
        tag, _, rest = line.partition("|")
        if tag == "P":
            i, payload = rest.split("|", 1)
            predicted[int(i)] = json.loads(payload)
        elif tag == "S":
            i, j, payload = rest.split("|", 2)
            simulated[(int(i), int(j))] = json.loads(payload)
    if len(predicted) != len(MODELS) or len(simulated) != len(MODELS) * len(ASSUMPTIONS):
        fail(f"expected {len(MODELS)} predictions and {len(MODELS) * len(ASSUMPTIONS)} simulations, got {len(predicted)} and {len(simulated)}")

    worst = {"heuristic": 0.0, "model_exogenous": 0.0}
    exact = {"heuristic": [0, 0], "model_exogenous": [0, 0]}
    verdicts = {}
    for i, (name, product, (first, last), config, horizon) in enumerate(MODELS):
        if i not in predicted:
            continue
        origin = last
        days = [day(origin, h) for h in range(1, horizon + 1)]
        predict = np.array([p["forecast"] for p in predicted[i]["predict"]["forecasts"]], dtype=np.float64)
        y = np.array([float(r["quantity"]) for r in rows_in(data, "SCA", product, first, last)])
        reference_baseline = baseline_forecast(config, y, horizon)
        if reference_baseline is not None and not np.array_equal(reference_baseline, predict):
            fail(f"{name}: predict's forecast {predict[:3]} is not numpy's {reference_baseline[:3]}")
        model = None
        if config["model_type"] == "regression":
            target = grid(data, "SCA", product, first, last)
            train_days = sorted(target)
            model = v1frame.regression(config).fit(frame(data, "SCA", product, train_days, target, origin),
                                                   np.array([target[d] for d in train_days]))
            plain = np.asarray(model.predict(frame(data, "SCA", product, days, target, origin)), dtype=np.float64)
            if np.max(np.abs(plain - predict) / np.maximum(1.0, np.abs(predict))) > MODEL_RTOL:
                fail(f"{name}: predict's forecast {predict[:3]} is not scikit-learn's {plain[:3]}")
        price = unit_price(data, "SCA", product, origin)
        for j, assumptions in enumerate(ASSUMPTIONS):
            got = simulated.get((i, j))
            if got is None:
                continue
            method = "model_exogenous" if config["model_type"] == "regression" else "heuristic"
            baseline = predict
            if method == "model_exogenous":
                lf = LIFECYCLE[assumptions["lifecycle"]["stage"]] if assumptions.get("lifecycle") else 1.0
                modeled = np.asarray(model.predict(frame(data, "SCA", product, days, target, origin, assumptions)), dtype=np.float64)
                factors = [lf] * horizon
                scenario = [max(float(v) * lf, 0.0) for v in modeled]
            else:
                factors = [heuristic_factor(d, assumptions) for d in days]
                scenario = [max(float(b) * f, 0.0) for b, f in zip(baseline, factors)]
            baseline_total = 0.0
            scenario_total = 0.0
            for b, s in zip(baseline, scenario):
                baseline_total += float(b)
                scenario_total += s
            units_delta = scenario_total - baseline_total
            want = {
                "baseline_total_units": baseline_total, "scenario_total_units": scenario_total, "units_delta": units_delta,
                "units_delta_pct": 0.0 if baseline_total == 0 else units_delta / baseline_total * 100,
                "unit_price_used": price, "baseline_revenue": baseline_total * price, "scenario_revenue": scenario_total * price,
                "revenue_delta": scenario_total * price - baseline_total * price,
            }
            tol = MODEL_RTOL if method == "model_exogenous" else HEURISTIC_RTOL
            label = f"{name} × assumptions {j}"
            for key in ("method", "model_type", "horizon"):
                expected = {"method": method, "model_type": config["model_type"], "horizon": horizon}[key]
                if got.get(key) != expected:
                    fail(f"{label}: {key} {got.get(key)!r}, want {expected!r}")
            if [p["date"] for p in got["points"]] != [d.isoformat() for d in days]:
                fail(f"{label}: dates {[p['date'] for p in got['points']][:2]}…")
                continue
            errors = []
            for k, p in enumerate(got["points"]):
                pairs = [("baseline", p["baseline"], float(baseline[k]), 0.0), ("scenario", p["scenario"], scenario[k], tol),
                         ("delta", p["delta"], scenario[k] - float(baseline[k]), tol), ("applied_factor", p["applied_factor"], factors[k], tol)]
                for field, g, w, t in pairs:
                    e = rel(g, w)
                    worst[method] = max(worst[method], e)
                    exact[method][0] += int(g == w)
                    exact[method][1] += 1
                    if e > t:
                        errors.append(f"{days[k]} {field}: got {g!r} want {w!r}")
            for field, w in want.items():
                e = rel(got[field], w)
                worst[method] = max(worst[method], e)
                exact[method][0] += int(got[field] == w)
                exact[method][1] += 1
                if e > tol:
                    errors.append(f"{field}: got {got[field]!r} want {w!r}")
            expected_verdict = verdict(scenario_total, assumptions)
            verdicts[expected_verdict] = verdicts.get(expected_verdict, 0) + 1
            if got["coverage_verdict"] != expected_verdict:
                errors.append(f"coverage_verdict {got['coverage_verdict']} want {expected_verdict} (demand {scenario_total})")
            for message in errors[:6]:
                fail(f"{label}: {message}")
            if method == "model_exogenous" and j == 0 and [p["scenario"] for p in got["points"]] != list(predict):
                fail(f"{label}: an empty assumption set is not the plain forecast")
            if method == "model_exogenous" and j in (1, 5, 6) and got["units_delta"] == 0:
                fail(f"{label}: a price cut, a promotion or a holiday changed nothing")
    for v in ("unknown", "covered", "at_risk", "stockout"):
        if v not in verdicts:
            fail(f"no simulation reached the verdict {v}: {verdicts}")
    print(f"simulations: {len(simulated)} ({len(MODELS)} models × {len(ASSUMPTIONS)} assumption sets); verdicts {verdicts}")
    for method in worst:
        tol = MODEL_RTOL if method == "model_exogenous" else HEURISTIC_RTOL
        print(f"{method}: {exact[method][0]}/{exact[method][1]} values bit-exact; worst relative error {worst[method]:.3g} (tolerance {tol})")
    print("OK" if failures == 0 else f"{failures} FAILURE(S)")
    return 0 if failures == 0 else 1


if __name__ == "__main__":
    refcommon.main(run, __doc__)
