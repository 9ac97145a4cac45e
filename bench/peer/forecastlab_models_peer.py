"""The upstream way of ForecastLab's model endpoints, for `make bench` (scripts/bench-models.sh) to
measure the SQL functions against: FastAPI + asyncpg (uvicorn, uvloop, httptools), Pydantic request
models (strict, extra=forbid), per request the store and product's daily series loaded from
PostgreSQL into Python and computed with numpy, as upstream's forecasting and backtesting services do.

  POST /forecasting/train    seasonal_naive or naive: load the series, fit, joblib.dump the bundle
                             (model, config, metadata) to PEER_ARTIFACT_DIR/<account>/model_<12 hex>.joblib
  POST /forecasting/predict  joblib.load the bundle, check store and product, forecast horizon days
  POST /backtesting/run      §9 of the contract: folds by index on the loaded rows (expanding or
                             sliding, gap), the main model and the naive and seasonal_naive(7)
                             baselines per fold, MAE/RMSE/sMAPE/WAPE/bias per fold and per horizon
                             bucket, means ignoring NaN, stability, comparison summary

Request and response shapes are ours (docs/forecastlab-models.md); NaN and ±∞ are answered as null,
as ours. Simplifications, both cheaper than ours: the token is checked with PyJWT (as the reads' peer,
forecastlab_peer.py) and its account scopes the query and the artifact folder, but there is no row-
level security: the peer connects as the database owner (PEER_DATABASE_URL) and filters on
account_id itself, as a single-tenant upstream service connects as its own user; store and product
are not checked beyond "no sales → 400". Not a product: a peer for the benchmark only.

Environment: PEER_DATABASE_URL (the owner's URI), JWT_SECRET, PEER_ARTIFACT_DIR (a folder the
benchmark creates and removes), PEER_POOL (connections per worker, default 2).
"""
import datetime as dt
import hashlib
import json
import math
import os
import re
import uuid
from pathlib import Path
from typing import Annotated, Literal, Optional, Union

import asyncpg
import joblib
import jwt
import numpy as np
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, model_validator

app = FastAPI()
state = {}

SERIES_SQL = """select date, quantity::double precision as quantity from forecast.sales_daily
                 where account_id = $1 and store_id = $2 and product_id = $3 and date between $4 and $5
                 order by date"""
PATH_SHAPE = re.compile(r"^(\./)?artifacts/models/model_([0-9a-f]{12})\.joblib$")
NAMES = ("mae", "rmse", "smape", "wape", "bias")
BUCKETS = (("h_1_7", 1, 7), ("h_8_14", 8, 14), ("h_15_28", 15, 28), ("h_29_plus", 29, 10 ** 9))


# Request models: upstream's Pydantic configs (frozen, extra=forbid), the two baselines served here.
class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class NaiveConfig(Strict):
    schema_version: str = "1.0"
    model_type: Literal["naive"]


class SeasonalNaiveConfig(Strict):
    schema_version: str = "1.0"
    model_type: Literal["seasonal_naive"]
    season_length: int = Field(7, ge=1, le=365)


ModelConfig = Annotated[Union[NaiveConfig, SeasonalNaiveConfig], Field(discriminator="model_type")]


class TrainRequest(Strict):
    store_id: int = Field(ge=1)
    product_id: int = Field(ge=1)
    train_start_date: dt.date = Field(strict=False)
    train_end_date: dt.date = Field(strict=False)
    config: ModelConfig
    feature_frame_version: int = Field(1, ge=1, le=2)
    feature_groups: Optional[list[str]] = None

    @model_validator(mode="after")
    def window(self):
        if self.train_end_date <= self.train_start_date:
            raise ValueError("train_end_date must be after train_start_date")
        return self


class PredictRequest(Strict):
    store_id: int = Field(ge=1)
    product_id: int = Field(ge=1)
    horizon: int = Field(ge=1, le=90)
    model_path: str


class SplitConfig(Strict):
    strategy: Literal["expanding", "sliding"] = "expanding"
    n_splits: int = Field(5, ge=2, le=20)
    min_train_size: int = Field(30, ge=7)
    gap: int = Field(0, ge=0, le=30)
    horizon: int = Field(14, ge=1, le=90)

    @model_validator(mode="after")
    def horizon_after_gap(self):
        if self.horizon <= self.gap:
            raise ValueError(f"horizon ({self.horizon}) must be greater than gap ({self.gap})")
        return self


class BacktestConfig(Strict):
    schema_version: str = "1.0"
    split_config: SplitConfig = SplitConfig()
    model_config_main: ModelConfig
    include_baselines: bool = True
    store_fold_details: bool = True


class BacktestRequest(Strict):
    store_id: int = Field(ge=1)
    product_id: int = Field(ge=1)
    start_date: dt.date = Field(strict=False)
    end_date: dt.date = Field(strict=False)
    config: BacktestConfig

    @model_validator(mode="after")
    def window(self):
        if self.end_date <= self.start_date:
            raise ValueError("end_date must be after start_date")
        return self


# The models, as upstream's forecasters: fit on an array, predict h steps.
class NaiveForecaster:
    def fit(self, y):
        self.last_ = float(y[-1])
        return self

    def predict(self, horizon):
        return np.full(horizon, self.last_)


class SeasonalNaiveForecaster:
    def __init__(self, season_length=7):
        self.season_length = season_length

    def fit(self, y):
        if len(y) < self.season_length:
            raise ValueError(f"seasonal_naive needs at least season_length = {self.season_length} observations, found {len(y)}")
        self.last_season_ = np.asarray(y[-self.season_length:], dtype=np.float64).copy()
        return self

    def predict(self, horizon):
        return self.last_season_[np.arange(horizon) % self.season_length]


def model_for(config):
    if config.model_type == "seasonal_naive":
        return SeasonalNaiveForecaster(config.season_length)
    return NaiveForecaster()


def config_hash(value):
    return hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()[:16]


def finite(value):
    value = float(value)
    return value if math.isfinite(value) else None


class Problem(Exception):
    def __init__(self, status, detail):
        self.status, self.detail = status, detail


@app.exception_handler(Problem)
async def problem(_, error: Problem):
    return JSONResponse({"detail": error.detail}, status_code=error.status)


@app.exception_handler(RequestValidationError)
async def invalid(_, error: RequestValidationError):
    return JSONResponse({"errors": [{"field": ".".join(str(p) for p in e["loc"][1:]), "message": e["msg"], "type": e["type"]}
                                    for e in error.errors()]}, status_code=422)


@app.on_event("startup")
async def startup():
    state["pool"] = await asyncpg.create_pool(os.environ["PEER_DATABASE_URL"], min_size=1,
                                              max_size=int(os.environ.get("PEER_POOL", "2")))
    state["secret"] = os.environ["JWT_SECRET"]
    state["artifacts"] = Path(os.environ["PEER_ARTIFACT_DIR"])


def claims_of(request: Request, admin=False):
    try:
        claims = jwt.decode(request.headers.get("authorization", "").removeprefix("Bearer "), state["secret"], algorithms=["HS256"])
        account = str(uuid.UUID(claims["app_metadata"]["account_id"]))
    except (jwt.PyJWTError, KeyError, TypeError, ValueError):
        raise Problem(401, "Unauthorized")
    if admin and claims["app_metadata"].get("app_role") != "admin":
        raise Problem(403, "Forbidden")
    return account


async def load_series(account, store_id, product_id, first_day, last_day):
    async with state["pool"].acquire() as connection:
        rows = await connection.fetch(SERIES_SQL, uuid.UUID(account), store_id, product_id, first_day, last_day)
    if not rows:
        raise Problem(400, f"No sales for store {store_id}, product {product_id} between {first_day} and {last_day}")
    return [r["date"] for r in rows], np.array([r["quantity"] for r in rows], dtype=np.float64)


@app.post("/forecasting/train")
async def train(body: TrainRequest, request: Request):
    started = dt.datetime.now()
    account = claims_of(request, admin=True)
    _, y = await load_series(account, body.store_id, body.product_id, body.train_start_date, body.train_end_date)
    try:
        model = model_for(body.config).fit(y)
    except ValueError as error:
        raise Problem(400, str(error))
    config = body.config.model_dump()
    key = uuid.uuid4().hex[:12]
    folder = state["artifacts"] / account
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"model_{key}.joblib"
    bundle = {"model": model, "config": config, "config_hash": config_hash(config), "store_id": body.store_id,
              "product_id": body.product_id, "train_start_date": body.train_start_date, "train_end_date": body.train_end_date,
              "n_observations": len(y)}
    joblib.dump(bundle, path)
    content = path.read_bytes()
    return {"store_id": body.store_id, "product_id": body.product_id, "model_type": config["model_type"],
            "model_path": f"artifacts/models/model_{key}.joblib", "config_hash": bundle["config_hash"], "n_observations": len(y),
            "train_start_date": body.train_start_date.isoformat(), "train_end_date": body.train_end_date.isoformat(),
            "artifact_hash": hashlib.sha256(content).hexdigest(), "artifact_size_bytes": len(content),
            "duration_ms": round((dt.datetime.now() - started).total_seconds() * 1000, 3)}


@app.post("/forecasting/predict")
async def predict(body: PredictRequest, request: Request):
    started = dt.datetime.now()
    account = claims_of(request)
    shape = PATH_SHAPE.match(body.model_path)
    if shape is None:
        raise Problem(400, "model_path must be artifacts/models/model_<12 hex>.joblib")
    path = state["artifacts"] / account / f"model_{shape.group(2)}.joblib"
    if not path.is_file():
        raise Problem(404, f"Model file not found: {body.model_path}")
    bundle = joblib.load(path)
    if bundle["store_id"] != body.store_id or bundle["product_id"] != body.product_id:
        raise Problem(400, f"Model was trained for store {bundle['store_id']}, product {bundle['product_id']}")
    forecasts = bundle["model"].predict(body.horizon)
    end = bundle["train_end_date"]
    return {"store_id": body.store_id, "product_id": body.product_id,
            "forecasts": [{"date": (end + dt.timedelta(days=h + 1)).isoformat(), "forecast": float(f)} for h, f in enumerate(forecasts)],
            "model_type": bundle["config"]["model_type"], "config_hash": bundle["config_hash"], "horizon": body.horizon,
            "duration_ms": round((dt.datetime.now() - started).total_seconds() * 1000, 3)}


def folds_of(n, split):
    """§9.2: index-based folds [train), [test) on the n loaded rows."""
    if n < split.min_train_size + split.gap + split.horizon:
        raise Problem(400, f"Not enough data to backtest: {n} rows, need min_train_size + gap + horizon = "
                           f"{split.min_train_size + split.gap + split.horizon}")
    n_splits = split.n_splits
    if n < split.min_train_size + split.gap + n_splits * split.horizon:
        n_splits = min(n_splits, max(1, (n - split.min_train_size - split.gap) // split.horizon))
    step = max(1, (n - split.min_train_size - split.gap - split.horizon) // (n_splits - 1)) if n_splits > 1 else split.horizon
    folds = []
    for i in range(n_splits):
        train = (i * step, i * step + split.min_train_size) if split.strategy == "sliding" else (0, split.min_train_size + i * step)
        test = (train[1] + split.gap, train[1] + split.gap + split.horizon)
        if test[1] > n:
            break
        folds.append((train, test))
    return folds


def metrics(a, f):
    """§9.3: NaN for empty arrays; WAPE +∞ when Σ|A| = 0; an A = F = 0 pair counts 0 in sMAPE."""
    if len(a) == 0:
        return dict.fromkeys(NAMES, float("nan"))
    error = a - f
    denominator = np.abs(a) + np.abs(f)
    smape = np.where(denominator == 0, 0.0, 2 * np.abs(error) / np.where(denominator == 0, 1, denominator))
    total = np.sum(np.abs(a))
    return {"mae": float(np.mean(np.abs(error))), "rmse": float(np.sqrt(np.mean(error ** 2))), "smape": float(100 * np.mean(smape)),
            "wape": float(100 * np.sum(np.abs(error)) / total) if total != 0 else float("inf"), "bias": float(np.mean(error))}


def nan_mean(values):
    kept = [v for v in values if not math.isnan(v)]
    return float(np.mean(kept)) if kept else float("nan")


def stability(values):
    kept = np.array([v for v in values if not math.isnan(v)])
    if len(kept) < 2:
        return float("nan")
    mean = np.mean(kept)
    if mean == 0:
        return float("inf")
    with np.errstate(invalid="ignore"):
        return float(100 * np.std(kept) / abs(mean))


def run_model(config, dates, y, folds, details):
    results = []
    for index, ((a, b), (c, d)) in enumerate(folds):
        forecast = model_for(config).fit(y[a:b]).predict(d - c)
        actual = y[c:d]
        buckets = {name: metrics(actual[lo - 1:min(hi, d - c)], forecast[lo - 1:min(hi, d - c)])
                   for name, lo, hi in BUCKETS if lo <= d - c}
        results.append({
            "fold_index": index,
            "split": {"fold_index": index, "train_start": dates[a].isoformat(), "train_end": dates[b - 1].isoformat(),
                      "test_start": dates[c].isoformat(), "test_end": dates[d - 1].isoformat(), "train_size": b - a, "test_size": d - c},
            "dates": [x.isoformat() for x in dates[c:d]] if details else [],
            "actuals": actual.tolist() if details else [], "predictions": forecast.tolist() if details else [],
            "metrics": metrics(actual, forecast), "horizon_bucket_metrics": buckets})
    aggregated = {m: nan_mean([r["metrics"][m] for r in results]) for m in NAMES}
    spread = {m + "_stability": stability([r["metrics"][m] for r in results]) for m in NAMES}
    bucketed = {}
    for name, _, _ in BUCKETS:
        emitted = [r["horizon_bucket_metrics"][name] for r in results if name in r["horizon_bucket_metrics"]]
        if emitted:
            bucketed[name] = {m: nan_mean([e[m] for e in emitted]) for m in NAMES}
    dumped = config.model_dump()
    return {"model_type": dumped["model_type"], "config_hash": config_hash(dumped), "fold_results": results,
            "aggregated_metrics": aggregated, "metric_std": spread, "bucketed_aggregated_metrics": bucketed or None,
            "feature_aware": False, "exogenous_policy": None}


def wire(result):
    """A model result with every metric a number or null (NaN, ±∞)."""
    def clean(values):
        return {k: clean(v) if isinstance(v, dict) else finite(v) for k, v in values.items()}
    return {**result,
            "fold_results": [{**r, "metrics": clean(r["metrics"]), "horizon_bucket_metrics": clean(r["horizon_bucket_metrics"])}
                             for r in result["fold_results"]],
            "aggregated_metrics": clean(result["aggregated_metrics"]), "metric_std": clean(result["metric_std"]),
            "bucketed_aggregated_metrics": clean(result["bucketed_aggregated_metrics"]) if result["bucketed_aggregated_metrics"] else None}


def comparison(main, baselines):
    summary = {}
    for m in NAMES:
        entry = {"main": finite(main["aggregated_metrics"][m])}
        for b in baselines:
            kind = b["model_type"]
            entry[kind] = finite(b["aggregated_metrics"][m])
            bv, mv = b["aggregated_metrics"][m], main["aggregated_metrics"][m]
            if m == "bias":
                bv, mv = abs(bv), abs(mv)
            if bv != 0 and math.isfinite(bv) and math.isfinite(mv):
                entry["vs_naive_pct" if kind == "naive" else "vs_seasonal_pct"] = (bv - mv) / bv * 100
        summary[m] = entry
    return summary


@app.post("/backtesting/run")
async def backtest(body: BacktestRequest, request: Request):
    started = dt.datetime.now()
    account = claims_of(request)
    dates, y = await load_series(account, body.store_id, body.product_id, body.start_date, body.end_date)
    config = body.config
    folds = folds_of(len(y), config.split_config)
    try:
        main = run_model(config.model_config_main, dates, y, folds, config.store_fold_details)
    except ValueError as error:
        raise Problem(400, str(error))
    baselines = []
    if config.include_baselines:
        for baseline in (NaiveConfig(model_type="naive"), SeasonalNaiveConfig(model_type="seasonal_naive", season_length=7)):
            try:
                baselines.append(run_model(baseline, dates, y, folds, config.store_fold_details))
            except ValueError:
                pass  # a baseline that cannot run on these folds is skipped (§9.2)
    leakage_free = all(dates[b - 1] < dates[c] and c - b >= config.split_config.gap and a < b for (a, b), (c, _) in folds)
    return {"backtest_id": uuid.uuid4().hex[:16], "store_id": body.store_id, "product_id": body.product_id,
            "config_hash": config_hash(config.model_dump(mode="json")), "split_config": config.split_config.model_dump(),
            "main_model_results": wire(main),
            "baseline_results": [wire(b) for b in baselines] if config.include_baselines else None,
            "comparison_summary": comparison(main, baselines) if baselines else None,
            "duration_ms": round((dt.datetime.now() - started).total_seconds() * 1000, 3),
            "leakage_check_passed": leakage_free}
