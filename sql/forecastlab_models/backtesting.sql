-- requires: forecastlab_models/models.sql
-- requires: forecastlab_models/metrics.sql
-- requires: forecastlab_models/ridge.sql
-- requires: forecastlab_models/feature_models.sql
-- POST /backtesting/run (forecastlab-contract-details.md §9): time-series cross-validation of one
-- model of any type, with naive and seasonal_naive(7) on the same folds. Stateless: it reads the
-- store and product's daily quantities in [start_date, end_date] (the rows as stored, in date
-- order, as training does), cuts folds by index (§9.2), fits and forecasts each fold with
-- forecast_models.fit_model / forecast_model (a feature-aware fold's frame ends at its last
-- training day), and scores with the formulas of forecast_models.metrics (§9.3).
--
-- The metrics are computed as exact double precision values (NaN and ∞ included) and written into
-- the answer once, NaN and ±∞ as null, since JSON numbers cannot be NaN or ∞ (docs: "Backtesting");
-- a JSON number written with extra_float_digits = 1 reads back as the same double precision.

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

-- Functions of the earlier internal text form, no longer used.
drop function if exists forecast_models.metric_texts(double precision[], double precision[]);
drop function if exists forecast_models.json_finite_object(jsonb);
drop function if exists forecast_models.nan_mean(double precision[]);
drop function if exists forecast_models.stability(double precision[]);
drop function if exists forecast_models.backtest_model_json(jsonb);

-- A metric on the wire: a JSON number, or null for NaN and ±∞. No SET clause and stable (as
-- to_jsonb is), so that the planner inlines it (it runs once per metric); to_jsonb writes the
-- number as float8out does, so callers set extra_float_digits = 1 (exact).
create or replace function forecast_models.json_finite(value double precision) returns jsonb
language sql stable as $$
  select case when value is null or value in ('NaN'::double precision, 'Infinity'::double precision, '-Infinity'::double precision)
              then 'null'::jsonb else pg_catalog.to_jsonb(value) end
$$;

-- The horizon buckets (1-based step within a fold, inclusive).
create or replace function forecast_models.horizon_buckets()
returns table (bucket text, first_step integer, last_step integer)
language sql immutable as $$
  values ('h_1_7', 1, 7), ('h_8_14', 8, 14), ('h_15_28', 15, 28), ('h_29_plus', 29, 2147483647)
$$;

-- One model on every fold: its ModelResult as answered (every metric a JSON number, or null where
-- it is NaN or ±∞). Each fold is fitted and forecast in the loop; then one statement scores every
-- fold and horizon bucket (metric_values, inlined), averages across folds and writes the JSON. A
-- fold the model cannot fit (too little data, no PL/Python) raises its 400.
--   aggregated_metrics: the mean across folds, NaN ignored (NaN when none is left; +∞ stays +∞);
--   <metric>_stability: 100 · population std / |mean| over the non-NaN fold values, NaN with fewer
--     than 2 of them, +∞ when the mean is 0 (an infinite value makes it NaN, as numpy);
--   bucketed_aggregated_metrics: per bucket, the mean across the folds that have it.
-- The cross-fold mean and deviation add the folds in order (order by i), as numpy does.
drop function if exists forecast_models.backtest_model(jsonb, date[], double precision[], jsonb, boolean);
create or replace function forecast_models.backtest_model(config jsonb, store_id bigint, product_id bigint, dates date[], y double precision[],
                                                          folds jsonb, store_fold_details boolean)
returns jsonb
language plpgsql volatile set search_path = '' set extra_float_digits = 1 as $$
declare
  fold jsonb;
  state jsonb;
  predicted double precision[];
  predictions double precision[] := '{}';  -- every fold's forecasts, one fold after the other
  offsets integer[] := '{}';               -- where each fold's forecasts start in predictions (0-based)
  ts integer;
  te integer;
  ss integer;
  se integer;
  result jsonb;
begin
  for fold in select f from pg_catalog.jsonb_array_elements(folds) f loop
    ts := (fold ->> 'train_start')::integer + 1;  -- 1-based, inclusive
    te := (fold ->> 'train_end')::integer;
    ss := (fold ->> 'test_start')::integer + 1;
    se := (fold ->> 'test_end')::integer;
    state := forecast_models.fit_model(config, store_id, product_id, dates[ts:te], y[ts:te], dates[te]);
    -- Asked for len(test) steps after the last training row (not shifted by the gap, as upstream).
    predicted := forecast_models.forecast_model(config, state, store_id, product_id, dates[te], se - ss + 1);
    perform forecast_models.check_metric_arrays(y[ss:se], predicted);  -- what metrics would refuse
    offsets := offsets || pg_catalog.cardinality(predictions);
    predictions := predictions || predicted;
  end loop;

  -- Each fold's rows, 1-based and inclusive as in the loop, and where its forecasts start.
  with bounds as (
    select x.i, x.spec -> 'fold_index' as fold_index, (x.spec ->> 'train_start')::integer + 1 as ts, (x.spec ->> 'train_end')::integer as te,
           (x.spec ->> 'test_start')::integer + 1 as ss, (x.spec ->> 'test_end')::integer as se, offsets[x.i::integer] as off
      from pg_catalog.jsonb_array_elements(folds) with ordinality x(spec, i)),
  -- Each fold's five metrics, one row each: on its whole test (bucket null) and on each bucket it reaches.
  scored as (
    select f.i, s.bucket, v.name, v.value
      from bounds f
      cross join lateral (select null::text, 1, f.se - f.ss + 1
                          union all
                          select b.bucket, b.first_step, least(b.last_step, f.se - f.ss + 1)
                            from forecast_models.horizon_buckets() b where b.first_step <= f.se - f.ss + 1) s(bucket, first_step, last_step)
      cross join lateral forecast_models.metric_values(y[f.ss + s.first_step - 1 : f.ss + s.last_step - 1],
                                                       predictions[f.off + s.first_step : f.off + s.last_step]) m
      cross join lateral (values ('mae', m.mae), ('rmse', m.rmse), ('smape', m.smape), ('wape', m.wape), ('bias', m.bias)) v(name, value)),
  -- The metrics object of each fold and bucket.
  sets as (
    select c.i, c.bucket, pg_catalog.jsonb_object_agg(c.name, forecast_models.json_finite(c.value)) as metrics
      from scored c group by c.i, c.bucket),
  -- Across folds, per bucket (null: the whole test) and metric, the non-NaN values in fold order.
  across as (
    select a.bucket, a.name, coalesce(a.mean, 'NaN') as mean,
           case when a.n < 2 then 'NaN' when a.mean = 0 then 'Infinity' else 100 * a.sd / pg_catalog.abs(a.mean) end as stability
      from (select c.bucket, c.name, pg_catalog.count(*) filter (where c.value <> 'NaN') as n,
                   pg_catalog.avg(c.value order by c.i) filter (where c.value <> 'NaN') as mean,
                   pg_catalog.stddev_pop(c.value order by c.i) filter (where c.value <> 'NaN') as sd
              from scored c group by c.bucket, c.name) a)
  select pg_catalog.jsonb_build_object(
    'model_type', config ->> 'model_type', 'config_hash', forecast_models.config_hash(config),
    'fold_results', coalesce((
      select pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
               'fold_index', f.fold_index,
               'split', pg_catalog.jsonb_build_object('fold_index', f.fold_index, 'train_start', dates[f.ts], 'train_end', dates[f.te],
                                                      'test_start', dates[f.ss], 'test_end', dates[f.se],
                                                      'train_size', f.te - f.ts + 1, 'test_size', f.se - f.ss + 1),
               'dates', case when store_fold_details then pg_catalog.to_jsonb(dates[f.ss:f.se]) else '[]'::jsonb end,
               'actuals', case when store_fold_details then pg_catalog.to_jsonb(y[f.ss:f.se]) else '[]'::jsonb end,
               'predictions', case when store_fold_details then pg_catalog.to_jsonb(predictions[f.off + 1 : f.off + f.se - f.ss + 1]) else '[]'::jsonb end,
               'metrics', (select t.metrics from sets t where t.i = f.i and t.bucket is null),
               'horizon_bucket_metrics', coalesce((select pg_catalog.jsonb_object_agg(t.bucket, t.metrics) from sets t
                                                    where t.i = f.i and t.bucket is not null), '{}'::jsonb)) order by f.i)
        from bounds f), '[]'::jsonb),
    'aggregated_metrics', coalesce((select pg_catalog.jsonb_object_agg(a.name, forecast_models.json_finite(a.mean)) from across a where a.bucket is null),
                                   '{"mae": null, "rmse": null, "smape": null, "wape": null, "bias": null}'::jsonb),
    'metric_std', coalesce((select pg_catalog.jsonb_object_agg(a.name || '_stability', forecast_models.json_finite(a.stability)) from across a where a.bucket is null),
                           '{"mae_stability": null, "rmse_stability": null, "smape_stability": null, "wape_stability": null, "bias_stability": null}'::jsonb),
    'bucketed_aggregated_metrics', (
      select pg_catalog.jsonb_object_agg(b.bucket, b.means)
        from (select a.bucket, pg_catalog.jsonb_object_agg(a.name, forecast_models.json_finite(a.mean)) as means
                from across a where a.bucket is not null group by a.bucket) b),
    'feature_aware', forecast_models.is_feature_aware(config ->> 'model_type'),
    -- Future promotions, prices and holidays of a fold come from the tables (supplied plans).
    'exogenous_policy', case when forecast_models.is_feature_aware(config ->> 'model_type') then 'supplied' end)
    into result;
  return result;
end $$;
comment on function forecast_models.backtest_model(jsonb, bigint, bigint, date[], double precision[], jsonb, boolean) is
  'One model fitted and scored on each backtest fold: fold results, aggregated metrics, stability, horizon buckets (NaN and ±∞ as null).';

-- comparison_summary (§9.4) from ModelResults as answered: per metric {main, naive?,
-- seasonal_naive?, vs_naive_pct?, vs_seasonal_pct?}; improvement = (baseline − main) / baseline ·
-- 100, bias by absolute values; a percentage is left out when the baseline is 0, NaN or ±∞ or the
-- main value not finite (NaN and ±∞ are the nulls of the answers; a number reads back exactly).
create or replace function forecast_models.backtest_comparison(main jsonb, baselines jsonb) returns jsonb
language sql immutable set search_path = '' set extra_float_digits = 1 as $$
  select pg_catalog.jsonb_object_agg(n.name, pg_catalog.jsonb_build_object('main', main -> 'aggregated_metrics' -> n.name) || coalesce((
           select pg_catalog.jsonb_object_agg(k.key, k.value) from (
             select b ->> 'model_type' as key, b -> 'aggregated_metrics' -> n.name as value
               from pg_catalog.jsonb_array_elements(baselines) b
             union all
             select case b ->> 'model_type' when 'naive' then 'vs_naive_pct' else 'vs_seasonal_pct' end,
                    pg_catalog.to_jsonb((x.bv - x.mv) / x.bv * 100)
               from pg_catalog.jsonb_array_elements(baselines) b,
                    lateral (select case when n.name = 'bias' then pg_catalog.abs((b -> 'aggregated_metrics' ->> n.name)::double precision)
                                         else (b -> 'aggregated_metrics' ->> n.name)::double precision end as bv,
                                    case when n.name = 'bias' then pg_catalog.abs((main -> 'aggregated_metrics' ->> n.name)::double precision)
                                         else (main -> 'aggregated_metrics' ->> n.name)::double precision end as mv) x
              where x.bv <> 0 and x.mv is not null) k), '{}'::jsonb))
    from pg_catalog.unnest(array['mae', 'rmse', 'smape', 'wape', 'bias']) n(name)
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
    'main_model_results', main,
    'baseline_results', case when (normalized ->> 'include_baselines')::boolean then baselines end,
    'comparison_summary', case when jsonb_array_length(baselines) > 0 then forecast_models.backtest_comparison(main, baselines) end,
    'duration_ms', forecast_models.elapsed_ms(started),
    'leakage_check_passed', leakage_free);
end $$;
comment on function api.backtesting_run(bigint, bigint, date, date, jsonb) is
  'Backtests any model type on a store and product''s daily quantities (expanding or sliding folds, gap, horizon), with naive and seasonal_naive(7) baselines on the same folds; metrics that are NaN or infinite are null.';

grant execute on function forecast_models.backtest_folds(integer, text, integer, integer, integer, integer),
  forecast_models.json_finite(double precision), forecast_models.horizon_buckets(),
  forecast_models.backtest_model(jsonb, bigint, bigint, date[], double precision[], jsonb, boolean),
  forecast_models.backtest_comparison(jsonb, jsonb),
  api.backtesting_run(bigint, bigint, date, date, jsonb)
  to authenticated, service_role;
