-- requires: forecastlab_models/models.sql
-- requires: forecastlab_models/metrics.sql
-- requires: forecastlab_models/ridge.sql
-- requires: forecastlab_models/feature_models.sql
-- POST /backtesting/run (forecastlab-contract-details.md §9): time-series cross-validation of one
-- model of any type, with naive and seasonal_naive(7) on the same folds. Stateless: it reads the
-- store and product's daily quantities in [start_date, end_date] (the rows as stored, in date
-- order, as training does), cuts folds by index (§9.2), fits and forecasts each fold with
-- forecast_models.fit_model / forecast_model (a feature-aware fold's frame ends at its last
-- training day), and scores with forecast_models.metrics (§9.3).
--
-- Inside these functions a metric travels as the text of a double precision ('NaN', 'Infinity'
-- included, as float8out writes it with extra_float_digits = 1: exact), since JSON numbers cannot be
-- NaN or ∞; only the answer turns every non-finite value into null (docs: "Backtesting").

-- The folds of §9.2 on n rows, 0-based half-open index ranges [start, end). Fewer rows than
-- min_train_size + gap + horizon is a 400; n_splits shrinks when the rows cannot hold them all.
create or replace function forecast_models.backtest_folds(n integer, strategy text, n_splits integer,
                                                          min_train_size integer, gap integer, horizon integer)
returns table (fold_index integer, train_start integer, train_end integer, test_start integer, test_end integer)
language plpgsql immutable set search_path = '' as $$
declare
  splits integer := n_splits;
  step integer;
  i integer := 0;
begin
  if n < min_train_size + gap + horizon then
    raise exception 'Not enough data to backtest: % rows in the window, and the split needs at least min_train_size + gap + horizon = % + % + % = %',
      n, min_train_size, gap, horizon, min_train_size + gap + horizon
      using errcode = 'PT400', hint = 'widen the window or lower min_train_size, gap or horizon';
  end if;
  if n < min_train_size + gap + splits * horizon then
    splits := least(splits, greatest(1, (n - min_train_size - gap) / horizon));  -- non-negative: / floors
  end if;
  step := case when splits > 1 then greatest(1, (n - min_train_size - gap - horizon) / (splits - 1)) else horizon end;
  while i < splits loop
    fold_index := i;
    train_start := case when strategy = 'sliding' then i * step else 0 end;
    train_end := case when strategy = 'sliding' then i * step + min_train_size else min_train_size + i * step end;
    test_start := train_end + gap;
    test_end := test_start + horizon;
    exit when test_end > n;
    return next;
    i := i + 1;
  end loop;
end $$;
comment on function forecast_models.backtest_folds(integer, text, integer, integer, integer, integer) is
  'Backtest folds on n rows (§9.2): 0-based [train_start, train_end) and [test_start, test_end); 400 when n < min_train_size + gap + horizon.';

-- The five metrics of a forecast in the internal form: {mae, rmse, smape, wape, bias} as float8 texts.
create or replace function forecast_models.metric_texts(actual double precision[], forecast double precision[]) returns jsonb
language sql immutable set search_path = '' set extra_float_digits = 1 as $$
  select pg_catalog.jsonb_build_object('mae', m.mae::text, 'rmse', m.rmse::text, 'smape', m.smape::text,
                                       'wape', m.wape::text, 'bias', m.bias::text)
    from forecast_models.metrics(actual, forecast) m
$$;

-- A value of the internal form on the wire: a JSON number, or null for NaN and ±∞.
create or replace function forecast_models.json_finite(value double precision) returns jsonb
language sql immutable set search_path = '' set extra_float_digits = 1 as $$
  select case when value is null or value in ('NaN'::double precision, 'Infinity'::double precision, '-Infinity'::double precision)
              then 'null'::jsonb else pg_catalog.to_jsonb(value) end
$$;

-- An object of the internal form ({name: float8 text}, possibly nested) on the wire.
create or replace function forecast_models.json_finite_object(metrics jsonb) returns jsonb
language sql immutable set search_path = '' set extra_float_digits = 1 as $$
  select case when metrics is null or pg_catalog.jsonb_typeof(metrics) <> 'object' then 'null'::jsonb
              else coalesce((select pg_catalog.jsonb_object_agg(e.key,
                                      case when pg_catalog.jsonb_typeof(e.value) = 'object' then forecast_models.json_finite_object(e.value)
                                           else forecast_models.json_finite((e.value #>> '{}')::double precision) end)
                               from pg_catalog.jsonb_each(metrics) e), '{}'::jsonb) end
$$;

-- Mean across folds ignoring NaN (NaN when none is left; +∞ stays +∞), as float8 text.
create or replace function forecast_models.nan_mean(values_ double precision[]) returns text
language sql immutable set search_path = '' set extra_float_digits = 1 as $$
  select coalesce(avg(v), 'NaN'::double precision)::text
    from pg_catalog.unnest(values_) v where v <> 'NaN'::double precision
$$;

-- Coefficient of variation in percent, 100 · population std / |mean| over the non-NaN values:
-- NaN with fewer than 2 of them, +∞ when the mean is 0 (an infinite value makes it NaN, as numpy).
create or replace function forecast_models.stability(values_ double precision[]) returns text
language sql immutable set search_path = '' set extra_float_digits = 1 as $$
  select (case when count(v) < 2 then 'NaN'::double precision
               when avg(v) = 0 then 'Infinity'::double precision
               else 100 * stddev_pop(v) / abs(avg(v)) end)::text
    from pg_catalog.unnest(values_) v where v <> 'NaN'::double precision
$$;

-- The horizon buckets (1-based step within a fold, inclusive).
create or replace function forecast_models.horizon_buckets()
returns table (bucket text, first_step integer, last_step integer)
language sql immutable as $$
  values ('h_1_7', 1, 7), ('h_8_14', 8, 14), ('h_15_28', 15, 28), ('h_29_plus', 29, 2147483647)
$$;

-- One model on every fold: its ModelResult in the internal form (metrics as float8 texts). A fold
-- the model cannot fit (too little data, no PL/Python) raises its 400.
drop function if exists forecast_models.backtest_model(jsonb, date[], double precision[], jsonb, boolean);
create or replace function forecast_models.backtest_model(config jsonb, store_id bigint, product_id bigint, dates date[], y double precision[],
                                                          folds jsonb, store_fold_details boolean)
returns jsonb
language plpgsql volatile set search_path = '' set extra_float_digits = 1 as $$
declare
  fold jsonb;
  state jsonb;
  actual double precision[];
  predicted double precision[];
  test_dates date[];
  results jsonb := '[]';
  ts integer;
  te integer;
  ss integer;
  se integer;
  names text[] := array['mae', 'rmse', 'smape', 'wape', 'bias'];
  aggregated jsonb;
  spread jsonb;
  bucketed jsonb;
begin
  for fold in select f from pg_catalog.jsonb_array_elements(folds) f loop
    ts := (fold ->> 'train_start')::integer + 1;  -- 1-based, inclusive
    te := (fold ->> 'train_end')::integer;
    ss := (fold ->> 'test_start')::integer + 1;
    se := (fold ->> 'test_end')::integer;
    state := forecast_models.fit_model(config, store_id, product_id, dates[ts:te], y[ts:te], dates[te]);
    -- Asked for len(test) steps after the last training row (not shifted by the gap, as upstream).
    predicted := forecast_models.forecast_model(config, state, store_id, product_id, dates[te], se - ss + 1);
    actual := y[ss:se];
    test_dates := dates[ss:se];
    results := results || pg_catalog.jsonb_build_array(pg_catalog.jsonb_build_object(
      'fold_index', fold -> 'fold_index',
      'split', pg_catalog.jsonb_build_object('fold_index', fold -> 'fold_index', 'train_start', dates[ts], 'train_end', dates[te],
                                             'test_start', dates[ss], 'test_end', dates[se],
                                             'train_size', te - ts + 1, 'test_size', se - ss + 1),
      'dates', case when store_fold_details then pg_catalog.to_jsonb(test_dates) else '[]'::jsonb end,
      'actuals', case when store_fold_details then pg_catalog.to_jsonb(actual) else '[]'::jsonb end,
      'predictions', case when store_fold_details then pg_catalog.to_jsonb(predicted) else '[]'::jsonb end,
      'metrics', forecast_models.metric_texts(actual, predicted),
      'horizon_bucket_metrics', coalesce((
        select pg_catalog.jsonb_object_agg(b.bucket, forecast_models.metric_texts(actual[b.first_step : least(b.last_step, se - ss + 1)],
                                                                                  predicted[b.first_step : least(b.last_step, se - ss + 1)]))
          from forecast_models.horizon_buckets() b where b.first_step <= se - ss + 1), '{}'::jsonb)));
  end loop;

  select pg_catalog.jsonb_object_agg(name, forecast_models.nan_mean(v)),
         pg_catalog.jsonb_object_agg(name || '_stability', forecast_models.stability(v))
    into aggregated, spread
    from (select name, array(select (r -> 'metrics' ->> name)::double precision
                               from pg_catalog.jsonb_array_elements(results) with ordinality x(r, i) order by i) v
            from pg_catalog.unnest(names) name) per_metric;
  select pg_catalog.jsonb_object_agg(bucket, means) into bucketed
    from (select b.bucket, (select pg_catalog.jsonb_object_agg(name, forecast_models.nan_mean(
                                     array(select (r -> 'horizon_bucket_metrics' -> b.bucket ->> name)::double precision
                                             from pg_catalog.jsonb_array_elements(results) with ordinality x(r, i)
                                            where r -> 'horizon_bucket_metrics' ? b.bucket order by i)))
                              from pg_catalog.unnest(names) name) means
            from forecast_models.horizon_buckets() b
           where exists (select from pg_catalog.jsonb_array_elements(results) r where r -> 'horizon_bucket_metrics' ? b.bucket)) buckets;
  return pg_catalog.jsonb_build_object(
    'model_type', config ->> 'model_type', 'config_hash', forecast_models.config_hash(config),
    'fold_results', results, 'aggregated_metrics', aggregated, 'metric_std', spread,
    'bucketed_aggregated_metrics', bucketed,
    'feature_aware', forecast_models.is_feature_aware(config ->> 'model_type'),
    -- Future promotions, prices and holidays of a fold come from the tables (supplied plans).
    'exogenous_policy', case when forecast_models.is_feature_aware(config ->> 'model_type') then 'supplied' end);
end $$;
comment on function forecast_models.backtest_model(jsonb, bigint, bigint, date[], double precision[], jsonb, boolean) is
  'One model fitted and scored on each backtest fold: fold results, aggregated metrics, stability, horizon buckets (metrics as float8 texts).';

-- A ModelResult on the wire: every metric a JSON number, or null where it is NaN or ±∞.
create or replace function forecast_models.backtest_model_json(result jsonb) returns jsonb
language sql immutable set search_path = '' as $$
  select result || pg_catalog.jsonb_build_object(
    'fold_results', coalesce((select pg_catalog.jsonb_agg(f || pg_catalog.jsonb_build_object(
                                       'metrics', forecast_models.json_finite_object(f -> 'metrics'),
                                       'horizon_bucket_metrics', forecast_models.json_finite_object(f -> 'horizon_bucket_metrics')) order by i)
                                from pg_catalog.jsonb_array_elements(result -> 'fold_results') with ordinality x(f, i)), '[]'::jsonb),
    'aggregated_metrics', forecast_models.json_finite_object(result -> 'aggregated_metrics'),
    'metric_std', forecast_models.json_finite_object(result -> 'metric_std'),
    'bucketed_aggregated_metrics', forecast_models.json_finite_object(result -> 'bucketed_aggregated_metrics'))
$$;

-- comparison_summary (§9.4) from internal ModelResults: per metric {main, naive?, seasonal_naive?,
-- vs_naive_pct?, vs_seasonal_pct?}; improvement = (baseline − main) / baseline · 100, bias by absolute
-- values; a percentage is left out when the baseline is 0, NaN or ±∞ or the main value not finite.
create or replace function forecast_models.backtest_comparison(main jsonb, baselines jsonb) returns jsonb
language sql immutable set search_path = '' set extra_float_digits = 1 as $$
  select pg_catalog.jsonb_object_agg(name, pg_catalog.jsonb_build_object(
           'main', forecast_models.json_finite(m)) || coalesce((
           select pg_catalog.jsonb_object_agg(k.key, k.value) from (
             select b ->> 'model_type' as key, forecast_models.json_finite((b -> 'aggregated_metrics' ->> name)::double precision) as value
               from pg_catalog.jsonb_array_elements(baselines) b
             union all
             select case b ->> 'model_type' when 'naive' then 'vs_naive_pct' else 'vs_seasonal_pct' end,
                    pg_catalog.to_jsonb((bv - mv) / bv * 100)
               from pg_catalog.jsonb_array_elements(baselines) b,
                    lateral (select case when name = 'bias' then abs((b -> 'aggregated_metrics' ->> name)::double precision)
                                         else (b -> 'aggregated_metrics' ->> name)::double precision end as bv,
                                    case when name = 'bias' then abs(m) else m end as mv) x
              where bv <> 0 and bv not in ('NaN'::double precision, 'Infinity'::double precision, '-Infinity'::double precision)
                and mv not in ('NaN'::double precision, 'Infinity'::double precision, '-Infinity'::double precision)) k), '{}'::jsonb))
    from pg_catalog.unnest(array['mae', 'rmse', 'smape', 'wape', 'bias']) with ordinality n(name, ordinal),
         lateral (select (main -> 'aggregated_metrics' ->> name)::double precision as m) main_value
$$;

-- POST /backtesting/run (200, every member of the account).
create or replace function api.backtesting_run(store_id bigint default null, product_id bigint default null,
                                               start_date date default null, end_date date default null,
                                               config jsonb default null)
returns jsonb
language plpgsql volatile set search_path = '' set extra_float_digits = 1 as $$
declare
  account uuid := util.require_account();
  started timestamptz := clock_timestamp();
  problems jsonb := '[]';
  split_rules jsonb := '{"n_splits": {"default": 5, "min": 2, "max": 20}, "min_train_size": {"default": 30, "min": 7},
                         "gap": {"default": 0, "min": 0, "max": 30}, "horizon": {"default": 14, "min": 1, "max": 90}}';
  split jsonb := '{"strategy": "expanding"}';
  name text;
  rule jsonb;
  value jsonb;
  field text;
  main_config jsonb;
  detail text;
  normalized jsonb;
  dates date[];
  y double precision[];
  folds jsonb;
  main jsonb;
  baselines jsonb := '[]';
  baseline jsonb;
  leakage_free boolean;
begin
  problems := forecast_models.range_problems('store_id', backtesting_run.store_id, 1, null)
           || forecast_models.range_problems('product_id', backtesting_run.product_id, 1, null);
  problems := problems || forecast_models.window_problems('start_date', backtesting_run.start_date,
                                                          'end_date', backtesting_run.end_date);

  -- config (BacktestConfig: strict, unknown keys refused).
  if config is null or jsonb_typeof(config) = 'null' then
    problems := problems || forecast_models.problem('config', 'Field required', 'missing');
  elsif jsonb_typeof(config) <> 'object' then
    problems := problems || forecast_models.problem('config', 'Input should be a valid dictionary', 'model_attributes_type');
  else
    for name in select k from jsonb_object_keys(config) k
                 where k not in ('schema_version', 'split_config', 'model_config_main', 'include_baselines', 'store_fold_details') order by 1 loop
      problems := problems || forecast_models.problem('config.' || name, 'Extra inputs are not permitted', 'extra_forbidden');
    end loop;
    if config ? 'schema_version' and jsonb_typeof(config -> 'schema_version') <> 'string' then
      problems := problems || forecast_models.problem('config.schema_version', 'Input should be a valid string', 'string_type');
    end if;
    foreach name in array array['include_baselines', 'store_fold_details'] loop
      if config ? name and jsonb_typeof(config -> name) <> 'boolean' then
        problems := problems || forecast_models.problem('config.' || name, 'Input should be a valid boolean', 'bool_type');
      end if;
    end loop;
    -- split_config (SplitConfig).
    if config ? 'split_config' and jsonb_typeof(config -> 'split_config') <> 'object' then
      problems := problems || forecast_models.problem('config.split_config', 'Input should be a valid dictionary', 'model_attributes_type');
    else
      for name in select k from jsonb_object_keys(coalesce(config -> 'split_config', '{}')) k
                   where k not in ('strategy', 'n_splits', 'min_train_size', 'gap', 'horizon') order by 1 loop
        problems := problems || forecast_models.problem('config.split_config.' || name, 'Extra inputs are not permitted', 'extra_forbidden');
      end loop;
      value := coalesce(config #> '{split_config,strategy}', '"expanding"');
      if jsonb_typeof(value) <> 'string' or value #>> '{}' not in ('expanding', 'sliding') then
        problems := problems || forecast_models.problem('config.split_config.strategy', 'Input should be ''expanding'' or ''sliding''', 'literal_error');
      else
        split := jsonb_build_object('strategy', value);
      end if;
      for name, rule in select * from jsonb_each(split_rules) loop
        field := 'config.split_config.' || name;
        value := coalesce(config -> 'split_config' -> name, rule -> 'default');
        if jsonb_typeof(value) <> 'number' or value::text !~ '^-?[0-9]+$' then
          problems := problems || forecast_models.problem(field, 'Input should be a valid integer', 'int_type');
        elsif (value::text)::numeric < (rule ->> 'min')::numeric then
          problems := problems || forecast_models.problem(field, format('Input should be greater than or equal to %s', rule ->> 'min'), 'greater_than_equal');
        elsif rule ? 'max' and (value::text)::numeric > (rule ->> 'max')::numeric then
          problems := problems || forecast_models.problem(field, format('Input should be less than or equal to %s', rule ->> 'max'), 'less_than_equal');
        else
          split := split || jsonb_build_object(name, value);
        end if;
      end loop;
      if split ? 'gap' and split ? 'horizon' and (split ->> 'horizon')::integer <= (split ->> 'gap')::integer then
        problems := problems || forecast_models.problem('config.split_config',
          format('Value error, horizon (%s) must be greater than gap (%s)', split ->> 'horizon', split ->> 'gap'), 'value_error');
      end if;
    end if;
    -- model_config_main: any of the eleven model configurations, its problems named under
    -- config.model_config_main.
    if not config ? 'model_config_main' then
      problems := problems || forecast_models.problem('config.model_config_main', 'Field required', 'missing');
    else
      begin
        main_config := forecast_models.normalized_config(config -> 'model_config_main');
      exception
        when sqlstate '22023' then
          get stacked diagnostics detail = pg_exception_detail;
          problems := problems || coalesce((
            select jsonb_agg(e || jsonb_build_object('field', regexp_replace(e ->> 'field', '^config', 'config.model_config_main')) order by i)
              from jsonb_array_elements(detail::jsonb -> 'errors') with ordinality x(e, i)), '[]');
      end;
    end if;
  end if;
  if jsonb_array_length(problems) > 0 then
    perform forecast_models.invalid_all(problems);
  end if;
  perform forecast_models.require_enabled(main_config ->> 'model_type');
  normalized := jsonb_build_object('schema_version', coalesce(config -> 'schema_version', '"1.0"'), 'split_config', split,
                                   'model_config_main', main_config,
                                   'include_baselines', coalesce(config -> 'include_baselines', 'true'),
                                   'store_fold_details', coalesce(config -> 'store_fold_details', 'true'));

  select s.dates, s.y into dates, y
    from forecast_models.series(account, backtesting_run.store_id, backtesting_run.product_id,
                                backtesting_run.start_date, backtesting_run.end_date) s;
  select coalesce(jsonb_agg(to_jsonb(f) order by f.fold_index), '[]') into folds
    from forecast_models.backtest_folds(cardinality(y), split ->> 'strategy', (split ->> 'n_splits')::integer,
                                        (split ->> 'min_train_size')::integer, (split ->> 'gap')::integer,
                                        (split ->> 'horizon')::integer) f;
  -- Every fold: training ends before its test starts, in dates and by at least gap rows, no overlap.
  select coalesce(bool_and(dates[(f ->> 'train_end')::integer] < dates[(f ->> 'test_start')::integer + 1]
                           and (f ->> 'test_start')::integer - (f ->> 'train_end')::integer >= (split ->> 'gap')::integer
                           and (f ->> 'train_start')::integer < (f ->> 'train_end')::integer), false)
    into leakage_free from jsonb_array_elements(folds) f;

  main := forecast_models.backtest_model(main_config, backtesting_run.store_id, backtesting_run.product_id, dates, y, folds, (normalized ->> 'store_fold_details')::boolean);
  if (normalized ->> 'include_baselines')::boolean then
    foreach baseline in array array['{"model_type": "naive", "schema_version": "1.0"}'::jsonb,
                                    '{"model_type": "seasonal_naive", "schema_version": "1.0", "season_length": 7}'::jsonb] loop
      begin
        baselines := baselines || jsonb_build_array(
          forecast_models.backtest_model(baseline, backtesting_run.store_id, backtesting_run.product_id, dates, y, folds, (normalized ->> 'store_fold_details')::boolean));
      exception when sqlstate 'PT400' then
        null;  -- a baseline that cannot run on these folds is skipped (§9.2)
      end;
    end loop;
  end if;

  return jsonb_build_object(
    'backtest_id', left(replace(gen_random_uuid()::text, '-', ''), 16),
    'store_id', backtesting_run.store_id, 'product_id', backtesting_run.product_id,
    'config_hash', forecast_models.config_hash(normalized), 'split_config', split,
    'main_model_results', forecast_models.backtest_model_json(main),
    'baseline_results', case when (normalized ->> 'include_baselines')::boolean
                             then coalesce((select jsonb_agg(forecast_models.backtest_model_json(b) order by i)
                                              from jsonb_array_elements(baselines) with ordinality x(b, i)), '[]') end,
    'comparison_summary', case when jsonb_array_length(baselines) > 0 then forecast_models.backtest_comparison(main, baselines) end,
    'duration_ms', round(extract(epoch from clock_timestamp() - started)::numeric * 1000, 3),
    'leakage_check_passed', leakage_free);
end $$;
comment on function api.backtesting_run(bigint, bigint, date, date, jsonb) is
  'Backtests any model type on a store and product''s daily quantities (expanding or sliding folds, gap, horizon), with naive and seasonal_naive(7) baselines on the same folds; metrics that are NaN or infinite are null.';

grant execute on function forecast_models.backtest_folds(integer, text, integer, integer, integer, integer),
  forecast_models.metric_texts(double precision[], double precision[]), forecast_models.json_finite(double precision),
  forecast_models.json_finite_object(jsonb), forecast_models.nan_mean(double precision[]),
  forecast_models.stability(double precision[]), forecast_models.horizon_buckets(),
  forecast_models.backtest_model(jsonb, bigint, bigint, date[], double precision[], jsonb, boolean),
  forecast_models.backtest_model_json(jsonb), forecast_models.backtest_comparison(jsonb, jsonb),
  api.backtesting_run(bigint, bigint, date, date, jsonb)
  to authenticated, service_role;
