-- requires: forecastlab_models/common.sql
-- requires: forecastlab_models/models.sql
-- requires: forecastlab_models/registry.sql
-- Explainability (forecastlab-contract-details.md §10): POST /explain/forecast and
-- GET /explain/runs/{run_id}. A rule-based explanation of the h=1 forecast of one of the five
-- baselines, fitted on the series up to as_of_date with the same forecast_models.fit / forecast
-- that training and prediction use (so the value is the one train + predict would give): its
-- drivers (contributions summing to the forecast; context drivers carry 0), advisory reason codes
-- (correlation, not causation), a confidence band, caveats and a one-line summary for agents.
-- Nothing dated after as_of_date is read, except the calendar of the forecast date itself
-- (as_of_date + 1: is it a holiday?), which is known ahead. Security invoker: RLS keeps tenants apart,
-- and every read also names the caller's account.

-- The model types /explain serves (§2), in the contract's order.
create or replace function forecast_models.explainable_types() returns text[]
language sql immutable as $$
  select array['naive', 'seasonal_naive', 'moving_average', 'weighted_moving_average', 'seasonal_average']
$$;

-- The length of the trailing window the reason codes look at (stockouts, promotions): 28 days
-- ending on as_of_date, whatever the model.
create or replace function forecast_models.explain_trailing_days() returns integer
language sql immutable as $$ select 28 $$;

-- One driver as the explanation lists it.
create or replace function forecast_models.explain_driver(name text, feature_value double precision, contribution double precision,
                                                          direction text, description text) returns jsonb
language sql immutable as $$
  select pg_catalog.jsonb_build_object('name', name, 'feature_value', feature_value, 'contribution', contribution,
                                       'direction', direction, 'description', description)
$$;

-- The direction of a number: positive, negative or neutral (zero or unknown).
create or replace function forecast_models.explain_direction(value double precision) returns text
language sql immutable as $$
  select case when value > 0 then 'positive' when value < 0 then 'negative' else 'neutral' end
$$;

-- The ForecastExplanation of a normalized baseline configuration on the caller's series of a store
-- and product in [first_day, as_of]: 404 for a store or product not in the account, 400 for no
-- sales in the window or too few for the model (forecast_models.series and fit).
create or replace function forecast_models.explanation(account uuid, config jsonb, store_id bigint, product_id bigint,
                                                       first_day date, as_of date) returns jsonb
language plpgsql stable set search_path = '' set extra_float_digits = 1 as $$
declare
  model_type text := config ->> 'model_type';
  dates date[];
  y double precision[];
  n integer;
  state jsonb;
  forecast_value double precision;
  m integer;
  w integer;
  cycles integer;
  samples double precision[];
  dispersion double precision;
  trend double precision;
  drivers jsonb;
  codes jsonb := '[]';
  caveats jsonb;
  confidence text;
  needed integer;
  trailing_start date := as_of - (forecast_models.explain_trailing_days() - 1);
  stockout_days integer;
  promotions integer;
  promotions_active integer;
  holiday_label text;
  holiday boolean;
  launched date;
begin
  select s.dates, s.y into dates, y
    from forecast_models.series(account, explanation.store_id, explanation.product_id, first_day, as_of) s;
  n := pg_catalog.cardinality(y);
  state := forecast_models.fit(config, dates, y);
  forecast_value := (forecast_models.forecast(config, state, as_of, 1))[1];

  case model_type
    when 'naive' then
      drivers := pg_catalog.jsonb_build_array(forecast_models.explain_driver('last_observation', y[n], forecast_value,
        forecast_models.explain_direction(forecast_value),
        pg_catalog.format('The last observed quantity (%s), carried forward as the forecast', dates[n])));
      if n >= 14 then
        trend := (select pg_catalog.avg(v) from pg_catalog.unnest(y[n - 6 : n]) v)
               - (select pg_catalog.avg(v) from pg_catalog.unnest(y[n - 13 : n - 7]) v);
        drivers := drivers || forecast_models.explain_driver('recent_trend', trend, 0, forecast_models.explain_direction(trend),
          'Mean of the last 7 observations minus the mean of the 7 before them (context: the naive forecast ignores it)');
      end if;
      needed := 14;
    when 'seasonal_naive' then
      m := (config ->> 'season_length')::integer;
      drivers := pg_catalog.jsonb_build_array(forecast_models.explain_driver('season_match', y[n - m + 1], forecast_value,
        forecast_models.explain_direction(forecast_value),
        pg_catalog.format('The observation one season (%s observations) before the forecast step, on %s', m, dates[n - m + 1])));
      needed := 2 * m;
    when 'moving_average', 'weighted_moving_average' then
      w := (config ->> 'window_size')::integer;
      samples := y[n - w + 1 : n];
      dispersion := (select pg_catalog.stddev_pop(v) from pg_catalog.unnest(samples) v);
      drivers := pg_catalog.jsonb_build_array(
        case when model_type = 'moving_average'
             then forecast_models.explain_driver('window_mean', forecast_value, forecast_value, forecast_models.explain_direction(forecast_value),
                    pg_catalog.format('Mean of the last %s observations', w))
             else forecast_models.explain_driver('weighted_window_mean', forecast_value, forecast_value, forecast_models.explain_direction(forecast_value),
                    pg_catalog.format('Weighted mean of the last %s observations (%s weights, newest heaviest)', w, config ->> 'weight_strategy')) end,
        forecast_models.explain_driver('window_dispersion', dispersion, 0, 'neutral',
          pg_catalog.format('Standard deviation of the last %s observations (context: how noisy the window is)', w)));
      needed := w;
    when 'seasonal_average' then
      m := (config ->> 'season_length')::integer;
      cycles := (config ->> 'lookback_cycles')::integer;
      samples := array(select y[n - m + 1 - k * m] from pg_catalog.generate_series(0, cycles - 1) k
                        where n - m + 1 - k * m >= 1 order by k);
      dispersion := (select pg_catalog.stddev_pop(v) from pg_catalog.unnest(samples) v);
      drivers := pg_catalog.jsonb_build_array(
        forecast_models.explain_driver('seasonal_window_mean', forecast_value, forecast_value, forecast_models.explain_direction(forecast_value),
          pg_catalog.format('Mean of the %s observations at the same seasonal position (season %s, up to %s cycles%s)', pg_catalog.cardinality(samples), m, cycles,
                            case when (config ->> 'trim_outliers')::boolean and pg_catalog.cardinality(samples) >= 4 then ', minimum and maximum dropped' else '' end)),
        forecast_models.explain_driver('sample_dispersion', dispersion, 0, 'neutral',
          'Standard deviation of those seasonal samples (context: how stable the seasonal position is)'));
      needed := m * cycles;
  end case;

  -- Confidence (§10): low on a history shorter than the model's minimum; the moving averages
  -- high when the window's coefficient of variation (std / mean) is below 0.5.
  confidence := case
    when n < needed then 'low'
    when model_type in ('moving_average', 'weighted_moving_average')
         and (select pg_catalog.avg(v) from pg_catalog.unnest(y[n - w + 1 : n]) v) > 0
         and dispersion / (select pg_catalog.avg(v) from pg_catalog.unnest(y[n - w + 1 : n]) v) < 0.5 then 'high'
    else 'medium' end;

  -- Reason codes (advisory), in the contract's order.
  select pg_catalog.count(*) into stockout_days
    from forecast.inventory_snapshot_daily i
   where i.account_id = account and i.store_id = explanation.store_id and i.product_id = explanation.product_id
     and i.is_stockout and i.date between trailing_start and as_of;
  if stockout_days > 0 then
    codes := codes || pg_catalog.jsonb_build_object('code', 'stockout_constrained', 'severity', 'warn',
      'detail', pg_catalog.format('%s stockout day(s) between %s and %s: sales there were capped by availability', stockout_days, trailing_start, as_of));
  end if;
  select pg_catalog.count(*), pg_catalog.count(*) filter (where as_of between p.start_date and p.end_date)
    into promotions, promotions_active
    from forecast.promotions p
   where p.account_id = account and p.product_id = explanation.product_id
     and (p.store_id is null or p.store_id = explanation.store_id)
     and p.start_date <= as_of and p.end_date >= trailing_start;
  if promotions > 0 then
    codes := codes || pg_catalog.jsonb_build_object('code', 'promotion_overlap', 'severity', 'info',
      'detail', pg_catalog.format('%s promotion(s) overlap %s to %s; %s active on %s', promotions, trailing_start, as_of, promotions_active, as_of));
  end if;
  select true, e.label into holiday, holiday_label
    from forecast.exogenous_signals e
   where e.account_id = account and e.signal_type = 'holiday' and e.date = as_of + 1
     and (e.store_id is null or e.store_id = explanation.store_id)
   order by e.store_id nulls last, e.id limit 1;
  if holiday then
    codes := codes || pg_catalog.jsonb_build_object('code', 'holiday_effect', 'severity', 'info',
      'detail', pg_catalog.format('The forecast date %s is a holiday%s; the baseline does not model it', as_of + 1,
                                  coalesce(' (' || holiday_label || ')', '')));
  end if;
  select pg_catalog.max(l.start_date) into launched
    from forecast.product_lifecycle l
   where l.account_id = account and l.product_id = explanation.product_id and l.stage = 'launch'
     and l.start_date between as_of - 29 and as_of;
  if launched is not null then
    codes := codes || pg_catalog.jsonb_build_object('code', 'lifecycle_decay', 'severity', 'info',
      'detail', pg_catalog.format('The product launched on %s, %s day(s) before %s: launch demand may not last', launched, as_of - launched, as_of));
  end if;
  if n < needed then
    codes := codes || pg_catalog.jsonb_build_object('code', 'insufficient_history', 'severity', 'warn',
      'detail', pg_catalog.format('%s observation(s) up to %s; %s needs %s for more than low confidence', n, as_of, model_type, needed));
  end if;

  caveats := pg_catalog.jsonb_build_array(
    'Drivers and reason codes are rule-based and describe correlations in the sales history, not causes.',
    case model_type
      when 'naive' then 'A naive forecast repeats the last observation: one unusual day moves it one for one.'
      when 'seasonal_naive' then 'A seasonal naive forecast repeats the value one season earlier: a one-off on that day repeats too.'
      when 'moving_average' then 'A moving average lags behind turning points and smooths promotions and holidays away.'
      when 'weighted_moving_average' then 'A weighted moving average leans on the newest days but still lags behind turning points.'
      else 'A seasonal average assumes the pattern of the last cycles holds on the forecast day.' end);
  if stockout_days > 0 then
    caveats := caveats || '"Stockout days in the trailing window understate demand: the forecast may be too low."'::jsonb;
  end if;
  if n < needed then
    caveats := caveats || pg_catalog.to_jsonb(pg_catalog.format('The history is short (%s of %s observations): treat the forecast as a rough guess.', n, needed));
  end if;

  return pg_catalog.jsonb_build_object(
    'store_id', explanation.store_id, 'product_id', explanation.product_id, 'model_type', model_type, 'method', 'rule_based',
    'forecast_value', forecast_value, 'drivers', drivers, 'reason_codes', codes, 'confidence', confidence, 'caveats', caveats,
    'agent_summary', pg_catalog.format('%s forecasts %s for store %s, product %s on %s (%s confidence, %s observations up to %s); %s. Advisory: correlation, not causation.',
      model_type, pg_catalog.round(forecast_value::numeric, 2), explanation.store_id, explanation.product_id, as_of + 1, confidence, n, as_of,
      coalesce('reason codes: ' || (select pg_catalog.string_agg(c ->> 'code', ', ' order by i)
                                      from pg_catalog.jsonb_array_elements(codes) with ordinality x(c, i)), 'no reason codes')),
    'as_of_date', as_of, 'generated_at', util.iso(pg_catalog.clock_timestamp()));
end $$;
comment on function forecast_models.explanation(uuid, jsonb, bigint, bigint, date, date) is
  'The ForecastExplanation (§10) of a normalized baseline configuration on the caller''s series in [first_day, as_of].';

grant execute on function forecast_models.explainable_types(), forecast_models.explain_trailing_days(),
  forecast_models.explain_driver(text, double precision, double precision, text, text), forecast_models.explain_direction(double precision),
  forecast_models.explanation(uuid, jsonb, bigint, bigint, date, date)
  to authenticated, service_role;

-- POST /explain/forecast (200, every member). 422: a missing or out-of-bounds field, an unknown
-- model_type; 400: a model type /explain does not serve, no sales up to as_of_date, too few for the
-- model; 404: a store or product not in the account. Parameters the model does not take are ignored.
create or replace function api.explain_forecast(store_id bigint default null, product_id bigint default null, model_type text default null,
                                                as_of_date date default null, season_length integer default null,
                                                window_size integer default null, weight_strategy text default null,
                                                decay double precision default null, lookback_cycles integer default null,
                                                trim_outliers boolean default null)
returns jsonb
language plpgsql stable set search_path = '' set extra_float_digits = 1 as $$
declare
  account uuid := util.require_account();
  problems jsonb;
  given jsonb;
  config jsonb;
begin
  problems := forecast_models.range_problems('store_id', explain_forecast.store_id, 1, null)
           || forecast_models.range_problems('product_id', explain_forecast.product_id, 1, null);
  if explain_forecast.model_type is null then
    problems := problems || forecast_models.problem('model_type', 'Field required', 'missing');
  elsif not explain_forecast.model_type = any(forecast_models.model_types()) then
    problems := problems || forecast_models.problem('model_type',
      'Input should be ''naive'', ''seasonal_naive'', ''moving_average'', ''weighted_moving_average'' or ''seasonal_average''', 'literal_error');
  end if;
  if explain_forecast.as_of_date is null then
    problems := problems || forecast_models.problem('as_of_date', 'Field required', 'missing');
  end if;
  if explain_forecast.season_length is not null then
    problems := problems || forecast_models.range_problems('season_length', explain_forecast.season_length,
                                                           case when explain_forecast.model_type = 'seasonal_average' then 2 else 1 end, 365);
  end if;
  if explain_forecast.window_size is not null then
    problems := problems || forecast_models.range_problems('window_size', explain_forecast.window_size,
                                                           case when explain_forecast.model_type = 'weighted_moving_average' then 2 else 1 end, 90);
  end if;
  if explain_forecast.weight_strategy is not null and explain_forecast.weight_strategy not in ('linear', 'exponential') then
    problems := problems || forecast_models.problem('weight_strategy', 'Input should be ''linear'' or ''exponential''', 'literal_error');
  end if;
  if explain_forecast.decay <= 0 then
    problems := problems || forecast_models.problem('decay', 'Input should be greater than 0', 'greater_than');
  elsif explain_forecast.decay >= 1 then
    problems := problems || forecast_models.problem('decay', 'Input should be less than 1', 'less_than');
  end if;
  if explain_forecast.lookback_cycles is not null then
    problems := problems || forecast_models.range_problems('lookback_cycles', explain_forecast.lookback_cycles, 2, 12);
  end if;
  if pg_catalog.jsonb_array_length(problems) > 0 then
    perform forecast_models.invalid_all(problems);
  end if;
  if not explain_forecast.model_type = any(forecast_models.explainable_types()) then
    raise exception 'Model type % is not explainable: /explain/forecast explains naive, seasonal_naive, moving_average, weighted_moving_average and seasonal_average',
      explain_forecast.model_type using errcode = 'PT400', hint = 'use one of the five baselines';
  end if;

  given := pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object(
    'season_length', explain_forecast.season_length, 'window_size', explain_forecast.window_size,
    'weight_strategy', explain_forecast.weight_strategy, 'decay', explain_forecast.decay,
    'lookback_cycles', explain_forecast.lookback_cycles, 'trim_outliers', explain_forecast.trim_outliers));
  select pg_catalog.jsonb_build_object('model_type', explain_forecast.model_type)
         || coalesce(pg_catalog.jsonb_object_agg(g.key, g.value), '{}')
    into config
    from pg_catalog.jsonb_each(given) g
   where (forecast_models.model_parameters() -> explain_forecast.model_type) ? g.key;
  config := forecast_models.normalized_config(config);
  return forecast_models.explanation(account, config, explain_forecast.store_id, explain_forecast.product_id,
                                     '-infinity'::date, explain_forecast.as_of_date);
end $$;
comment on function api.explain_forecast(bigint, bigint, text, date, integer, integer, text, double precision, integer, boolean) is
  'Rule-based explanation of the h=1 forecast of a baseline (naive, seasonal_naive, moving_average, weighted_moving_average, seasonal_average) on the series up to as_of_date: drivers, reason codes, confidence, caveats.';

-- GET /explain/runs/{run_id} (200, every member): the same explanation for a registry run, its
-- model_type and model_config (the model's own parameters; other keys ignored), store, product and
-- data window (cutoff data_window_end). 404: no such run in the account; 400: a type /explain does
-- not serve, or a model_config the model would refuse.
create or replace function api.explain_run(run_id text)
returns jsonb
language plpgsql stable set search_path = '' set extra_float_digits = 1 as $$
declare
  account uuid := util.require_account();
  run forecast_models.runs := forecast_models.find_run(explain_run.run_id);
  config jsonb;
  problems text;
begin
  if not run.model_type = any(forecast_models.explainable_types()) then
    raise exception 'Run % has model type %, which is not explainable: /explain explains naive, seasonal_naive, moving_average, weighted_moving_average and seasonal_average',
      run.run_id, pg_catalog.left(run.model_type, 50) using errcode = 'PT400';
  end if;
  select pg_catalog.jsonb_build_object('model_type', run.model_type) || coalesce(pg_catalog.jsonb_object_agg(c.key, c.value), '{}')
    into config
    from pg_catalog.jsonb_each(run.model_config) c
   where (forecast_models.model_parameters() -> run.model_type) ? c.key;
  begin
    config := forecast_models.normalized_config(config);
  exception when sqlstate '22023' then
    get stacked diagnostics problems = pg_exception_detail;
    raise exception 'Run %''s model_config is not a valid % configuration: %', run.run_id, run.model_type,
      (select pg_catalog.string_agg((e ->> 'field') || ': ' || (e ->> 'message'), '; ')
         from pg_catalog.jsonb_array_elements(problems::jsonb -> 'errors') e)
      using errcode = 'PT400';
  end;
  return forecast_models.explanation(account, config, run.store_id, run.product_id, run.data_window_start, run.data_window_end);
end $$;
comment on function api.explain_run(text) is
  'The explanation (as POST /explain/forecast) of a registry run of a baseline: its config, store, product and data window (cutoff data_window_end).';

grant execute on function api.explain_forecast(bigint, bigint, text, date, integer, integer, text, double precision, integer, boolean),
  api.explain_run(text) to authenticated, service_role;
