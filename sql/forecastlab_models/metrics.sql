-- requires: forecastlab_models/common.sql
-- Forecast accuracy metrics (forecastlab-contract-details.md §9.3), for backtesting and anyone in
-- psql: A = actuals, F = forecasts, arrays of the same length (else a 422 naming `forecast`).
--   mae   = mean |A − F|                rmse = sqrt(mean (A − F)²)
--   smape = 100 · mean 2|A − F| / (|A| + |F|), a pair with A = F = 0 counting 0 (0 … 200)
--   wape  = 100 · Σ|A − F| / Σ|A|  (+Infinity when Σ|A| = 0)
--   bias  = mean (A − F)  (positive: under-forecast)
-- Empty arrays give NaN; a null element is an error (nothing is silently skipped).
--
-- The formulas live once, in metric_values, which reads the pairs in array order in one pass (the
-- sums, hence the floating-point results, do not depend on who asks). metrics and mae … bias check
-- the arrays, then read its columns; reading one column computes only that metric (the planner
-- drops the aggregates of unread columns), so mae is not refused for rmse's underflow.

-- True, or the 422 for arrays that cannot be scored: different lengths, or a null element.
create or replace function forecast_models.check_metric_arrays(actual double precision[], forecast double precision[]) returns boolean
language plpgsql immutable set search_path = '' as $$
begin
  if actual is null or forecast is null or coalesce(pg_catalog.cardinality(actual), 0) <> coalesce(pg_catalog.cardinality(forecast), 0) then
    raise exception 'actual and forecast must be arrays of the same length' using errcode = '22023',
      detail = pg_catalog.jsonb_build_object('errors', pg_catalog.jsonb_build_array(forecast_models.problem('forecast',
                 'actual and forecast must be arrays of the same length', 'value_error')))::text;
  end if;
  if pg_catalog.array_position(actual, null) is not null or pg_catalog.array_position(forecast, null) is not null then
    raise exception 'actual and forecast must not hold nulls' using errcode = '22023',
      detail = pg_catalog.jsonb_build_object('errors', pg_catalog.jsonb_build_array(forecast_models.problem('forecast',
                 'actual and forecast must not hold nulls', 'value_error')))::text;
  end if;
  return true;
end $$;

-- The five metrics of arrays the caller has checked (same length, no nulls), in one pass. No SET
-- clause, so that the planner inlines it where it is called (backtesting calls it per fold and
-- horizon bucket); everything in it is schema-qualified.
create or replace function forecast_models.metric_values(actual double precision[], forecast double precision[])
returns table (mae double precision, rmse double precision, smape double precision, wape double precision, bias double precision)
language sql immutable as $$
  select coalesce(pg_catalog.avg(pg_catalog.abs(u.a - u.f)), 'NaN'),
         coalesce(pg_catalog.sqrt(pg_catalog.avg((u.a - u.f) * (u.a - u.f))), 'NaN'),
         coalesce(100 * pg_catalog.avg(case when pg_catalog.abs(u.a) + pg_catalog.abs(u.f) = 0 then 0
                                             else 2 * pg_catalog.abs(u.a - u.f) / (pg_catalog.abs(u.a) + pg_catalog.abs(u.f)) end), 'NaN'),
         case when pg_catalog.count(*) = 0 then 'NaN'
              when pg_catalog.sum(pg_catalog.abs(u.a)) = 0 then 'Infinity'
              else 100 * pg_catalog.sum(pg_catalog.abs(u.a - u.f)) / pg_catalog.sum(pg_catalog.abs(u.a)) end,
         coalesce(pg_catalog.avg(u.a - u.f), 'NaN')
    from rows from (pg_catalog.unnest(actual), pg_catalog.unnest(forecast)) u(a, f)
$$;

-- All five at once, as backtesting reports them.
create or replace function forecast_models.metrics(actual double precision[], forecast double precision[])
returns table (mae double precision, rmse double precision, smape double precision, wape double precision, bias double precision)
language sql immutable set search_path = '' as $$
  select m.mae, m.rmse, m.smape, m.wape, m.bias
    from forecast_models.metric_values(actual, forecast) m where forecast_models.check_metric_arrays(actual, forecast)
$$;

create or replace function forecast_models.mae(actual double precision[], forecast double precision[]) returns double precision
language sql immutable set search_path = '' as $$
  select m.mae from forecast_models.metric_values(actual, forecast) m where forecast_models.check_metric_arrays(actual, forecast)
$$;

create or replace function forecast_models.rmse(actual double precision[], forecast double precision[]) returns double precision
language sql immutable set search_path = '' as $$
  select m.rmse from forecast_models.metric_values(actual, forecast) m where forecast_models.check_metric_arrays(actual, forecast)
$$;

create or replace function forecast_models.smape(actual double precision[], forecast double precision[]) returns double precision
language sql immutable set search_path = '' as $$
  select m.smape from forecast_models.metric_values(actual, forecast) m where forecast_models.check_metric_arrays(actual, forecast)
$$;

create or replace function forecast_models.wape(actual double precision[], forecast double precision[]) returns double precision
language sql immutable set search_path = '' as $$
  select m.wape from forecast_models.metric_values(actual, forecast) m where forecast_models.check_metric_arrays(actual, forecast)
$$;

create or replace function forecast_models.bias(actual double precision[], forecast double precision[]) returns double precision
language sql immutable set search_path = '' as $$
  select m.bias from forecast_models.metric_values(actual, forecast) m where forecast_models.check_metric_arrays(actual, forecast)
$$;

comment on function forecast_models.check_metric_arrays(double precision[], double precision[]) is
  'True, or 22023 (a 422 naming forecast) unless actual and forecast are arrays of the same length without nulls.';
comment on function forecast_models.metric_values(double precision[], double precision[]) is
  'MAE, RMSE, sMAPE, WAPE and bias of arrays already checked (same length, no nulls), in one pass; inlined by the planner.';
comment on function forecast_models.mae(double precision[], double precision[]) is 'Mean absolute error; NaN when empty.';
comment on function forecast_models.rmse(double precision[], double precision[]) is 'Root mean squared error; NaN when empty.';
comment on function forecast_models.smape(double precision[], double precision[]) is 'Symmetric MAPE in percent (0..200), A = F = 0 counting 0; NaN when empty.';
comment on function forecast_models.wape(double precision[], double precision[]) is 'Weighted APE in percent; +Infinity when the actuals sum to 0; NaN when empty.';
comment on function forecast_models.bias(double precision[], double precision[]) is 'Mean of actual − forecast (positive: under-forecast); NaN when empty.';
comment on function forecast_models.metrics(double precision[], double precision[]) is 'MAE, RMSE, sMAPE, WAPE and bias of a forecast.';

grant execute on function forecast_models.check_metric_arrays(double precision[], double precision[]),
  forecast_models.metric_values(double precision[], double precision[]),
  forecast_models.mae(double precision[], double precision[]), forecast_models.rmse(double precision[], double precision[]),
  forecast_models.smape(double precision[], double precision[]), forecast_models.wape(double precision[], double precision[]),
  forecast_models.bias(double precision[], double precision[]), forecast_models.metrics(double precision[], double precision[])
  to authenticated, service_role;
