-- requires: forecastlab_models/common.sql
-- Forecast accuracy metrics (forecastlab-contract-details.md §9.3), for backtesting and anyone in
-- psql: A = actuals, F = forecasts, arrays of the same length (else a 422 naming `forecast`).
--   mae   = mean |A − F|                rmse = sqrt(mean (A − F)²)
--   smape = 100 · mean 2|A − F| / (|A| + |F|), a pair with A = F = 0 counting 0 (0 … 200)
--   wape  = 100 · Σ|A − F| / Σ|A|  (+Infinity when Σ|A| = 0)
--   bias  = mean (A − F)  (positive: under-forecast)
-- Empty arrays give NaN; a null element is an error (nothing is silently skipped).

create or replace function forecast_models.metric_pairs(actual double precision[], forecast double precision[])
returns table (a double precision, f double precision)
language plpgsql immutable set search_path = '' as $$
begin
  if actual is null or forecast is null or coalesce(pg_catalog.cardinality(actual), 0) <> coalesce(pg_catalog.cardinality(forecast), 0) then
    raise exception 'actual and forecast must be arrays of the same length' using errcode = '22023',
      detail = pg_catalog.jsonb_build_object('errors', pg_catalog.jsonb_build_array(forecast_models.problem('forecast',
                 'actual and forecast must be arrays of the same length', 'value_error')))::text;
  end if;
  if array_position(actual, null) is not null or array_position(forecast, null) is not null then
    raise exception 'actual and forecast must not hold nulls' using errcode = '22023',
      detail = pg_catalog.jsonb_build_object('errors', pg_catalog.jsonb_build_array(forecast_models.problem('forecast',
                 'actual and forecast must not hold nulls', 'value_error')))::text;
  end if;
  return query select u.a, u.f from unnest(actual, forecast) u(a, f);
end $$;

create or replace function forecast_models.mae(actual double precision[], forecast double precision[]) returns double precision
language sql immutable set search_path = '' as $$
  select coalesce(avg(abs(p.a - p.f)), 'NaN') from forecast_models.metric_pairs(actual, forecast) p
$$;

create or replace function forecast_models.rmse(actual double precision[], forecast double precision[]) returns double precision
language sql immutable set search_path = '' as $$
  select coalesce(sqrt(avg((p.a - p.f) * (p.a - p.f))), 'NaN') from forecast_models.metric_pairs(actual, forecast) p
$$;

create or replace function forecast_models.smape(actual double precision[], forecast double precision[]) returns double precision
language sql immutable set search_path = '' as $$
  select coalesce(100 * avg(case when abs(p.a) + abs(p.f) = 0 then 0 else 2 * abs(p.a - p.f) / (abs(p.a) + abs(p.f)) end), 'NaN')
    from forecast_models.metric_pairs(actual, forecast) p
$$;

create or replace function forecast_models.wape(actual double precision[], forecast double precision[]) returns double precision
language sql immutable set search_path = '' as $$
  select case when count(*) = 0 then 'NaN'
              when sum(abs(p.a)) = 0 then 'Infinity'
              else 100 * sum(abs(p.a - p.f)) / sum(abs(p.a)) end
    from forecast_models.metric_pairs(actual, forecast) p
$$;

create or replace function forecast_models.bias(actual double precision[], forecast double precision[]) returns double precision
language sql immutable set search_path = '' as $$
  select coalesce(avg(p.a - p.f), 'NaN') from forecast_models.metric_pairs(actual, forecast) p
$$;

-- All five at once, as backtesting reports them.
create or replace function forecast_models.metrics(actual double precision[], forecast double precision[])
returns table (mae double precision, rmse double precision, smape double precision, wape double precision, bias double precision)
language sql immutable set search_path = '' as $$
  select forecast_models.mae(actual, forecast), forecast_models.rmse(actual, forecast), forecast_models.smape(actual, forecast),
         forecast_models.wape(actual, forecast), forecast_models.bias(actual, forecast)
$$;

comment on function forecast_models.mae(double precision[], double precision[]) is 'Mean absolute error; NaN when empty.';
comment on function forecast_models.rmse(double precision[], double precision[]) is 'Root mean squared error; NaN when empty.';
comment on function forecast_models.smape(double precision[], double precision[]) is 'Symmetric MAPE in percent (0..200), A = F = 0 counting 0; NaN when empty.';
comment on function forecast_models.wape(double precision[], double precision[]) is 'Weighted APE in percent; +Infinity when the actuals sum to 0; NaN when empty.';
comment on function forecast_models.bias(double precision[], double precision[]) is 'Mean of actual − forecast (positive: under-forecast); NaN when empty.';
comment on function forecast_models.metrics(double precision[], double precision[]) is 'MAE, RMSE, sMAPE, WAPE and bias of a forecast.';

grant execute on function forecast_models.metric_pairs(double precision[], double precision[]),
  forecast_models.mae(double precision[], double precision[]), forecast_models.rmse(double precision[], double precision[]),
  forecast_models.smape(double precision[], double precision[]), forecast_models.wape(double precision[], double precision[]),
  forecast_models.bias(double precision[], double precision[]), forecast_models.metrics(double precision[], double precision[])
  to authenticated, service_role;
