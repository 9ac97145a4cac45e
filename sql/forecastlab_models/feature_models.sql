-- requires: forecastlab_models/models.sql
-- requires: forecastlab_models/frames.sql
-- requires: forecastlab_models/learners.sql
-- The feature-aware models (§8.1: regression, prophet_like, random_forest, lightgbm, xgboost):
-- their enable flags, fitting on the V1 frame and forecasting from a future frame; and the two
-- functions train, predict and backtest call for any of the eleven types.

-- The setting that enables an opt-in model type (null: always on). A deployment setting, as
-- upstream's environment flags: `alter database … set forecastlab.forecast_enable_lightgbm = on`.
create or replace function forecast_models.enable_flag(model_type text) returns text
language sql immutable as $$
  select case when model_type in ('random_forest', 'lightgbm', 'xgboost') then 'forecast_enable_' || model_type end
$$;

-- A 400 naming the flag when the model type is opt-in and its flag is not on.
create or replace function forecast_models.require_enabled(model_type text) returns void
language plpgsql stable set search_path = '' as $$
declare
  flag text := forecast_models.enable_flag(model_type);
begin
  if flag is not null
     and pg_catalog.lower(coalesce(pg_catalog.current_setting('forecastlab.' || flag, true), '')) not in ('on', 'true', '1', 'yes') then
    raise exception 'model_type % is disabled: it needs the setting % (forecastlab.%) to be on', model_type, flag, flag
      using errcode = 'PT400', hint = pg_catalog.format('alter database … set forecastlab.%s = on', flag);
  end if;
end $$;

-- The frame's cells of the chosen columns, row by row, as the learners take them (flattened), with
-- a supplied plan laid over each row (frame_v1_supplied; null: the frame as it is).
create or replace function forecast_models.frame_cells(store_id bigint, product_id bigint, days date[], history_days date[],
                                                       history_values double precision[], origin date, columns text[], supplied jsonb)
returns double precision[]
language sql stable set search_path = '' as $$
  select pg_catalog.array_agg(s.features[pg_catalog.array_position(forecast_models.frame_v1_columns(), c.name)] order by f.day, c.i)
    from forecast_models.frame_v1(store_id, product_id, days, history_days, history_values, origin) f
         cross join lateral (select forecast_models.frame_v1_supplied(f.day, f.features, supplied) as features) s,
         pg_catalog.unnest(columns) with ordinality c(name, i)
$$;

-- The frame's cells as they are (training, and forecasts without a plan).
create or replace function forecast_models.frame_cells(store_id bigint, product_id bigint, days date[], history_days date[],
                                                       history_values double precision[], origin date, columns text[])
returns double precision[]
language sql stable set search_path = '' as $$
  select forecast_models.frame_cells(store_id, product_id, days, history_days, history_values, origin, columns, null)
$$;

-- Fits a feature-aware model on the target from its first observed day to last_day (a gap-free
-- daily grid: a day without sales sold nothing). The state keeps the columns, the last 90 days of
-- the target (for the lags of a future frame) and the learner's JSON model.
create or replace function forecast_models.fit_features(config jsonb, store_id bigint, product_id bigint,
                                                        dates date[], y double precision[], last_day date)
returns jsonb
language plpgsql volatile set search_path = '' as $$
declare
  model_type text := config ->> 'model_type';
  -- prophet_like is additive in trend (days since launch), seasonality, holidays, price and
  -- promotions: the frame without its lags, which a linear model cannot take missing.
  columns text[] := case when model_type = 'prophet_like' then (forecast_models.frame_v1_columns())[5:14]
                         else forecast_models.frame_v1_columns() end;
  grid record;
  n integer;
  model text;
  minimum constant integer := 14;
begin
  perform forecast_models.require_enabled(model_type);
  select g.days, g.values_ into grid from forecast_models.daily_grid(dates, y, last_day) g;
  n := coalesce(pg_catalog.cardinality(grid.days), 0);
  if n < minimum then
    raise exception '% needs at least % days from the first sale to the end of the training window, found %', model_type, minimum, n
      using errcode = 'PT400';
  end if;
  if pg_catalog.to_regprocedure('forecast_models.learner_fit(text, text, integer, double precision[], double precision[])') is null then
    raise exception '% needs PL/Python (the plpython3u extension, with scikit-learn, LightGBM and xgboost), which this database does not have; the SQL baselines (naive, seasonal_naive, moving_average, weighted_moving_average, seasonal_average) still work', model_type
      using errcode = 'PT400', hint = 'install PostgreSQL''s plpython3u package and the libraries for the server (scripts/setup.sh), then migrate';
  end if;
  begin
    model := forecast_models.learner_fit(model_type, config::text, pg_catalog.cardinality(columns),
                                         forecast_models.frame_cells(store_id, product_id, grid.days, grid.days, grid.values_, last_day, columns),
                                         grid.values_);
  -- PL/Python prefixes the exception's type; the caller reads only the message.
  exception
    when sqlstate 'PT503' then
      raise exception '%', pg_catalog.regexp_replace(sqlerrm, '^plpy\.Error: ', '') using errcode = 'PT400',
        hint = 'install the library where the database server''s Python finds it (scripts/setup.sh)';
    when sqlstate 'PT400' then
      raise exception '%', pg_catalog.regexp_replace(sqlerrm, '^plpy\.Error: ', '') using errcode = 'PT400';
  end;
  return pg_catalog.jsonb_build_object(
    'feature_frame_version', 1, 'feature_columns', pg_catalog.to_jsonb(columns), 'n_rows', n,
    'history_days', pg_catalog.to_jsonb(grid.days[greatest(1, n - 89):n]),
    'history_values', pg_catalog.to_jsonb(grid.values_[greatest(1, n - 89):n]),
    -- The learner's JSON as a string: kept as it came, not parsed into jsonb for nothing.
    'model', pg_catalog.to_jsonb(model));
end $$;
comment on function forecast_models.fit_features(jsonb, bigint, bigint, date[], double precision[], date) is
  'Fits a feature-aware model (normalized config) on the V1 frame of a store and product''s target: the state its artifact keeps.';

-- Forecasts for the days origin + 1 … origin + horizon from a feature-aware model's state: the
-- future frame's lags read only the stored target at or before the origin (missing beyond it).
-- `supplied`: a plan laid over the future frame's price_factor, promo_active and is_holiday
-- (frames.sql, frame_v1_supplied; scenarios' model_exogenous method); null for the plain forecast.
create or replace function forecast_models.forecast_features(config jsonb, state jsonb, store_id bigint, product_id bigint,
                                                             origin date, horizon integer, supplied jsonb)
returns double precision[]
language plpgsql stable set search_path = '' as $$
declare
  columns text[] := array(select pg_catalog.jsonb_array_elements_text(state -> 'feature_columns'));
begin
  perform forecast_models.require_enabled(config ->> 'model_type');
  if pg_catalog.to_regprocedure('forecast_models.learner_predict(text, integer, double precision[])') is null then
    raise exception '% needs PL/Python (the plpython3u extension), which this database does not have', config ->> 'model_type'
      using errcode = 'PT400';
  end if;
  begin
    return forecast_models.learner_predict(state ->> 'model', pg_catalog.cardinality(columns),
      forecast_models.frame_cells(store_id, product_id,
                                  array(select origin + h from pg_catalog.generate_series(1, horizon) h order by h),
                                  array(select (d #>> '{}')::date from pg_catalog.jsonb_array_elements(state -> 'history_days') d),
                                  array(select (v #>> '{}')::double precision from pg_catalog.jsonb_array_elements(state -> 'history_values') v),
                                  origin, columns, supplied));
  -- PL/Python prefixes the exception's type; the caller reads only the message.
  exception
    when sqlstate 'PT503' then
      raise exception '%', pg_catalog.regexp_replace(sqlerrm, '^plpy\.Error: ', '') using errcode = 'PT400',
        hint = 'install the library where the database server''s Python finds it (scripts/setup.sh)';
    when sqlstate 'PT400' then
      raise exception '%', pg_catalog.regexp_replace(sqlerrm, '^plpy\.Error: ', '') using errcode = 'PT400';
  end;
end $$;
comment on function forecast_models.forecast_features(jsonb, jsonb, bigint, bigint, date, integer, jsonb) is
  'The forecasts of a fitted feature-aware model for the horizon days after origin, with a supplied plan laid over the future frame (null: none).';

-- The plain forecast, as predict, backtests and every caller before scenarios ask for it.
create or replace function forecast_models.forecast_features(config jsonb, state jsonb, store_id bigint, product_id bigint,
                                                             origin date, horizon integer)
returns double precision[]
language sql stable set search_path = '' as $$
  select forecast_models.forecast_features(config, state, store_id, product_id, origin, horizon, null)
$$;
comment on function forecast_models.forecast_features(jsonb, jsonb, bigint, bigint, date, integer) is
  'The forecasts of a fitted feature-aware model for the horizon days after origin.';

-- Any model type: the state of a fit on y (dates in order) ending at last_day.
create or replace function forecast_models.fit_model(config jsonb, store_id bigint, product_id bigint,
                                                     dates date[], y double precision[], last_day date)
returns jsonb
language sql volatile set search_path = '' as $$
  select case when forecast_models.is_feature_aware(config ->> 'model_type')
              then forecast_models.fit_features(config, store_id, product_id, dates, y, last_day)
              else forecast_models.fit(config, dates, y) end
$$;

-- Any model type: forecasts for the horizon days after origin.
create or replace function forecast_models.forecast_model(config jsonb, state jsonb, store_id bigint, product_id bigint,
                                                          origin date, horizon integer)
returns double precision[]
language sql stable set search_path = '' as $$
  select case when forecast_models.is_feature_aware(config ->> 'model_type')
              then forecast_models.forecast_features(config, state, store_id, product_id, origin, horizon)
              else forecast_models.forecast(config, state, origin, horizon) end
$$;

grant execute on function forecast_models.enable_flag(text), forecast_models.require_enabled(text),
  forecast_models.frame_cells(bigint, bigint, date[], date[], double precision[], date, text[]),
  forecast_models.frame_cells(bigint, bigint, date[], date[], double precision[], date, text[], jsonb),
  forecast_models.fit_features(jsonb, bigint, bigint, date[], double precision[], date),
  forecast_models.forecast_features(jsonb, jsonb, bigint, bigint, date, integer),
  forecast_models.forecast_features(jsonb, jsonb, bigint, bigint, date, integer, jsonb),
  forecast_models.fit_model(jsonb, bigint, bigint, date[], double precision[], date),
  forecast_models.forecast_model(jsonb, jsonb, bigint, bigint, date, integer)
  to authenticated, service_role;
