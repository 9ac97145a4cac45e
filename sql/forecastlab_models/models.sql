-- requires: forecastlab_models/common.sql
-- The target-only models (forecastlab-contract-details.md §8.1): their configurations (defaults,
-- bounds, strict types), fitting (what predict needs, kept in the artifact) and forecasting. The
-- five baselines are plain SQL; trend_regression_baseline fits its ridge in PL/Python
-- (ridge.sql) and forecasts in SQL from the coefficients.

-- The eleven model types (§2), in the contract's order: six target-only, five feature-aware.
create or replace function forecast_models.model_types() returns text[]
language sql immutable as $$
  select array['naive', 'seasonal_naive', 'moving_average', 'weighted_moving_average', 'seasonal_average',
               'trend_regression_baseline', 'regression', 'prophet_like', 'random_forest', 'lightgbm', 'xgboost']
$$;

-- The models that learn from the feature frame rather than from the target alone.
create or replace function forecast_models.is_feature_aware(model_type text) returns boolean
language sql immutable as $$
  select model_type in ('regression', 'prophet_like', 'random_forest', 'lightgbm', 'xgboost')
$$;

-- Each model's parameters: kind, default, bounds (min/max inclusive, gt/lt exclusive), and
-- whether null is allowed.
create or replace function forecast_models.model_parameters() returns jsonb
language sql immutable as $$
  select '{
    "naive": {},
    "seasonal_naive": {"season_length": {"kind": "int", "default": 7, "min": 1, "max": 365}},
    "moving_average": {"window_size": {"kind": "int", "default": 7, "min": 1, "max": 90}},
    "weighted_moving_average": {"window_size": {"kind": "int", "default": 7, "min": 2, "max": 90},
                                "weight_strategy": {"kind": "enum", "default": "linear", "values": ["linear", "exponential"]},
                                "decay": {"kind": "float", "default": 0.7, "gt": 0, "lt": 1}},
    "seasonal_average": {"season_length": {"kind": "int", "default": 7, "min": 2, "max": 365},
                         "lookback_cycles": {"kind": "int", "default": 4, "min": 2, "max": 12},
                         "trim_outliers": {"kind": "bool", "default": false}},
    "trend_regression_baseline": {"alpha": {"kind": "float", "default": 1.0, "min": 0, "max": 1000},
                                  "include_dow": {"kind": "bool", "default": true},
                                  "include_month": {"kind": "bool", "default": true}},
    "random_forest": {"n_estimators": {"kind": "int", "default": 100, "min": 10, "max": 500},
                      "max_depth": {"kind": "int", "default": 10, "min": 2, "max": 64, "nullable": true},
                      "min_samples_leaf": {"kind": "int", "default": 2, "min": 1, "max": 50},
                      "feature_config_hash": {"kind": "string", "default": null, "nullable": true}},
    "lightgbm": {"n_estimators": {"kind": "int", "default": 100, "min": 10, "max": 1000},
                 "max_depth": {"kind": "int", "default": 6, "min": 1, "max": 20},
                 "learning_rate": {"kind": "float", "default": 0.1, "min": 0.001, "max": 1},
                 "feature_config_hash": {"kind": "string", "default": null, "nullable": true}},
    "xgboost": {"n_estimators": {"kind": "int", "default": 100, "min": 10, "max": 1000},
                "max_depth": {"kind": "int", "default": 6, "min": 1, "max": 20},
                "learning_rate": {"kind": "float", "default": 0.1, "min": 0.001, "max": 1},
                "feature_config_hash": {"kind": "string", "default": null, "nullable": true}},
    "regression": {"max_iter": {"kind": "int", "default": 200, "min": 10, "max": 1000},
                   "learning_rate": {"kind": "float", "default": 0.05, "min": 0.001, "max": 1},
                   "max_depth": {"kind": "int", "default": 6, "min": 1, "max": 20},
                   "feature_config_hash": {"kind": "string", "default": null, "nullable": true}},
    "prophet_like": {"alpha": {"kind": "float", "default": 1.0, "min": 0, "max": 10000},
                     "feature_config_hash": {"kind": "string", "default": null, "nullable": true}}
  }'::jsonb
$$;

-- A model configuration checked and completed with its defaults: {model_type, schema_version,
-- parameters…}. Problems are a 422 ({field: config.<model_type>.<parameter>, as Pydantic's
-- discriminated union names them}).
create or replace function forecast_models.normalized_config(config jsonb) returns jsonb
language plpgsql immutable set search_path = '' as $$
declare
  parameters jsonb := forecast_models.model_parameters();
  model_type text;
  spec jsonb;
  problems jsonb := '[]';
  result jsonb;
  name text;
  rule jsonb;
  value jsonb;
  field text;
  number numeric;
begin
  if config is null or pg_catalog.jsonb_typeof(config) = 'null' then
    perform forecast_models.invalid_all(pg_catalog.jsonb_build_array(forecast_models.problem('config', 'Field required', 'missing')));
  elsif pg_catalog.jsonb_typeof(config) <> 'object' then
    perform forecast_models.invalid_all(pg_catalog.jsonb_build_array(forecast_models.problem('config', 'Input should be a valid dictionary', 'model_attributes_type')));
  elsif pg_catalog.jsonb_typeof(config -> 'model_type') is distinct from 'string' then
    perform forecast_models.invalid_all(pg_catalog.jsonb_build_array(forecast_models.problem('config',
      'Unable to extract tag using discriminator ''model_type''', 'union_tag_not_found')));
  end if;
  model_type := config ->> 'model_type';
  spec := parameters -> model_type;
  if spec is null then
    perform forecast_models.invalid_all(pg_catalog.jsonb_build_array(forecast_models.problem('config.model_type',
      pg_catalog.format('Input tag %L found using ''model_type'' does not match any of the expected tags: %s', pg_catalog.left(model_type, 50),
                        (select pg_catalog.string_agg(pg_catalog.quote_literal(t), ', ' order by i)
                           from pg_catalog.unnest(forecast_models.model_types()) with ordinality u(t, i))), 'union_tag_invalid')));
  end if;
  result := pg_catalog.jsonb_build_object('model_type', model_type, 'schema_version', coalesce(config -> 'schema_version', '"1.0"'));
  if config ? 'schema_version' and pg_catalog.jsonb_typeof(config -> 'schema_version') <> 'string' then
    problems := problems || forecast_models.problem('config.' || model_type || '.schema_version', 'Input should be a valid string', 'string_type');
  end if;
  for name in select k from pg_catalog.jsonb_object_keys(config) k where k not in ('model_type', 'schema_version') and not spec ? k order by 1 loop
    problems := problems || forecast_models.problem('config.' || model_type || '.' || name, 'Extra inputs are not permitted', 'extra_forbidden');
  end loop;
  for name, rule in select * from pg_catalog.jsonb_each(spec) loop
    field := 'config.' || model_type || '.' || name;
    value := coalesce(config -> name, rule -> 'default');
    if pg_catalog.jsonb_typeof(value) = 'null' and (rule ->> 'nullable')::boolean then
      result := result || pg_catalog.jsonb_build_object(name, value);
      continue;
    end if;
    case rule ->> 'kind'
      when 'string' then
        if pg_catalog.jsonb_typeof(value) <> 'string' then
          problems := problems || forecast_models.problem(field, 'Input should be a valid string', 'string_type');
          continue;
        end if;
      when 'int' then
        if pg_catalog.jsonb_typeof(value) <> 'number' or value::text !~ '^-?[0-9]+$' then
          problems := problems || forecast_models.problem(field, 'Input should be a valid integer', 'int_type');
          continue;
        end if;
      when 'float' then
        if pg_catalog.jsonb_typeof(value) <> 'number' then
          problems := problems || forecast_models.problem(field, 'Input should be a valid number', 'float_type');
          continue;
        end if;
      when 'bool' then
        if pg_catalog.jsonb_typeof(value) <> 'boolean' then
          problems := problems || forecast_models.problem(field, 'Input should be a valid boolean', 'bool_type');
          continue;
        end if;
      when 'enum' then
        if pg_catalog.jsonb_typeof(value) <> 'string' or not (rule -> 'values') @> value then
          problems := problems || forecast_models.problem(field, 'Input should be ''linear'' or ''exponential''', 'literal_error');
          continue;
        end if;
    end case;
    if rule ->> 'kind' in ('int', 'float') then
      number := (value #>> '{}')::numeric;
      if rule ? 'min' and number < (rule ->> 'min')::numeric then
        problems := problems || forecast_models.problem(field, pg_catalog.format('Input should be greater than or equal to %s', rule ->> 'min'), 'greater_than_equal');
      elsif rule ? 'max' and number > (rule ->> 'max')::numeric then
        problems := problems || forecast_models.problem(field, pg_catalog.format('Input should be less than or equal to %s', rule ->> 'max'), 'less_than_equal');
      elsif rule ? 'gt' and number <= (rule ->> 'gt')::numeric then
        problems := problems || forecast_models.problem(field, pg_catalog.format('Input should be greater than %s', rule ->> 'gt'), 'greater_than');
      elsif rule ? 'lt' and number >= (rule ->> 'lt')::numeric then
        problems := problems || forecast_models.problem(field, pg_catalog.format('Input should be less than %s', rule ->> 'lt'), 'less_than');
      end if;
    end if;
    result := result || pg_catalog.jsonb_build_object(name, value);
  end loop;
  if pg_catalog.jsonb_array_length(problems) > 0 then
    perform forecast_models.invalid_all(problems);
  end if;
  return result;
end $$;
comment on function forecast_models.normalized_config(jsonb) is
  'A model configuration checked (422 per problem) and completed with its defaults.';

-- What a model needs to forecast, fitted on y (the target in date order) and its dates: the
-- state kept in the artifact. Too little data for the model is a 400.
create or replace function forecast_models.fit(config jsonb, dates date[], y double precision[]) returns jsonb
language plpgsql volatile set search_path = '' as $$
declare
  model_type text := config ->> 'model_type';
  n integer := coalesce(pg_catalog.cardinality(y), 0);
  needed integer;
  t double precision[];
  dow integer[];
  month integer[];
  coefficients double precision[];
begin
  needed := case model_type
              when 'seasonal_naive' then (config ->> 'season_length')::integer
              when 'seasonal_average' then (config ->> 'season_length')::integer
              when 'moving_average' then (config ->> 'window_size')::integer
              when 'weighted_moving_average' then (config ->> 'window_size')::integer
              when 'trend_regression_baseline' then 2
              else 1 end;
  if n < needed then
    raise exception '% needs at least % observations in the training window, found %', model_type, needed, n
      using errcode = 'PT400';
  end if;
  case model_type
    when 'naive' then
      return pg_catalog.jsonb_build_object('last_value', y[n]);
    when 'seasonal_naive' then
      return pg_catalog.jsonb_build_object('last_season', pg_catalog.to_jsonb(y[n - needed + 1 : n]));
    when 'moving_average', 'weighted_moving_average' then
      return pg_catalog.jsonb_build_object('window', pg_catalog.to_jsonb(y[n - needed + 1 : n]));
    when 'seasonal_average' then
      return pg_catalog.jsonb_build_object('history', pg_catalog.to_jsonb(
        y[greatest(1, n - needed * (config ->> 'lookback_cycles')::integer + 1) : n]));
    when 'trend_regression_baseline' then
      if pg_catalog.to_regprocedure('forecast_models.ridge_fit(double precision[], integer[], integer[], double precision[], double precision, boolean, boolean)') is null then
        raise exception 'trend_regression_baseline needs PL/Python (the plpython3u extension, with numpy), which this database does not have; the SQL baselines (naive, seasonal_naive, moving_average, weighted_moving_average, seasonal_average) still work'
          using errcode = 'PT400', hint = 'install PostgreSQL''s plpython3u package and numpy for the server (scripts/setup.sh), then migrate';
      end if;
      select pg_catalog.array_agg((d - dates[1])::double precision order by i), pg_catalog.array_agg(extract(isodow from d)::integer - 1 order by i),
             pg_catalog.array_agg(extract(month from d)::integer order by i)
        into t, dow, month
        from pg_catalog.unnest(dates) with ordinality u(d, i);
      begin
        coefficients := forecast_models.ridge_fit(t, dow, month, y, (config ->> 'alpha')::double precision,
                                                  (config ->> 'include_dow')::boolean, (config ->> 'include_month')::boolean);
      exception when sqlstate 'PT503' then
        raise exception '%', sqlerrm using errcode = 'PT400',
          hint = 'install numpy where the database server''s Python finds it (scripts/setup.sh)';
      end;
      return pg_catalog.jsonb_build_object('first_date', dates[1], 'coefficients', pg_catalog.to_jsonb(coefficients));
  end case;
end $$;
comment on function forecast_models.fit(jsonb, date[], double precision[]) is
  'Fits a target-only model (normalized config) on y: the state its artifact keeps. 400 when there is too little data or PL/Python is missing.';

-- Forecasts for steps 0 … horizon−1 (dates train_end_date + step + 1) from a model's state: the
-- baselines and the ridge's prediction, all in SQL.
create or replace function forecast_models.forecast(config jsonb, state jsonb, train_end_date date, horizon integer)
returns double precision[]
language plpgsql immutable set search_path = '' as $$
declare
  model_type text := config ->> 'model_type';
  m integer;
  values_ double precision[];
  n integer;
  lookback integer;
  coefficients double precision[];
  value double precision;
begin
  case model_type
    when 'naive' then
      return pg_catalog.array_fill((state ->> 'last_value')::double precision, array[horizon]);
    when 'seasonal_naive' then
      values_ := array(select (e #>> '{}')::double precision from pg_catalog.jsonb_array_elements(state -> 'last_season') e);
      m := pg_catalog.cardinality(values_);
      return array(select values_[(h % m) + 1] from pg_catalog.generate_series(0, horizon - 1) h order by h);
    when 'moving_average' then
      select avg((e #>> '{}')::double precision) into value from pg_catalog.jsonb_array_elements(state -> 'window') e;
      return pg_catalog.array_fill(value, array[horizon]);
    when 'weighted_moving_average' then
      -- linear: weights 1 … w (newest heaviest); exponential: decay^(w−1) … decay^0.
      n := pg_catalog.jsonb_array_length(state -> 'window');
      select sum(w * v) / sum(w) into value
        from (select (e #>> '{}')::double precision as v,
                     case when config ->> 'weight_strategy' = 'exponential'
                          then pg_catalog.power((config ->> 'decay')::double precision, (n - i)::double precision)
                          else i::double precision end as w
                from pg_catalog.jsonb_array_elements(state -> 'window') with ordinality x(e, i)) weighted;
      return pg_catalog.array_fill(value, array[horizon]);
    when 'seasonal_average' then
      -- Step h: the values at the same seasonal position (as seasonal_naive's) in up to
      -- lookback_cycles past cycles; with trim_outliers and at least 4 of them, one minimum and
      -- one maximum are dropped.
      m := (config ->> 'season_length')::integer;
      lookback := (config ->> 'lookback_cycles')::integer;
      values_ := array(select (e #>> '{}')::double precision from pg_catalog.jsonb_array_elements(state -> 'history') e);
      n := pg_catalog.cardinality(values_);
      return array(
        select (select case when (config ->> 'trim_outliers')::boolean and count(*) >= 4
                            then (sum(s.v) - min(s.v) - max(s.v)) / (count(*) - 2)
                            else avg(s.v) end
                  from (select values_[n - m + (h % m) + 1 - k * m] as v
                          from pg_catalog.generate_series(0, lookback - 1) k
                         where n - m + (h % m) + 1 - k * m >= 1) s)
          from pg_catalog.generate_series(0, horizon - 1) h order by h);
    when 'trend_regression_baseline' then
      coefficients := array(select (e #>> '{}')::double precision from pg_catalog.jsonb_array_elements(state -> 'coefficients') e);
      return array(
        select coefficients[1] + coefficients[2] * (d - (state ->> 'first_date')::date)::double precision
               + case when (config ->> 'include_dow')::boolean then coefficients[3 + extract(isodow from d)::integer - 1] else 0 end
               + case when (config ->> 'include_month')::boolean
                      then coefficients[3 + case when (config ->> 'include_dow')::boolean then 7 else 0 end + extract(month from d)::integer - 1]
                      else 0 end
          from pg_catalog.generate_series(0, horizon - 1) h, lateral (select train_end_date + h + 1 as d) x
         order by h);
    else
      raise exception 'unknown model type %', model_type using errcode = 'PT400';
  end case;
end $$;
comment on function forecast_models.forecast(jsonb, jsonb, date, integer) is
  'The forecasts of a fitted target-only model for steps 0 … horizon−1 after train_end_date.';

grant execute on function forecast_models.model_types(), forecast_models.is_feature_aware(text), forecast_models.model_parameters(), forecast_models.normalized_config(jsonb),
  forecast_models.fit(jsonb, date[], double precision[]), forecast_models.forecast(jsonb, jsonb, date, integer)
  to authenticated, service_role;
