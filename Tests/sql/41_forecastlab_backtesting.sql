-- ForecastLab backtesting (docs/forecastlab-models.md, "Backtesting"): POST /backtesting/run's SQL
-- function on hand-computed series — the folds of §9.2 (expanding, sliding, gap, n_splits reduced),
-- the metrics of §9.3 (per fold, buckets, aggregated, stability), baselines and the comparison, NaN
-- and ∞ answered as null, every 4xx, two tenants, and the ridge without PL/Python. The numerical
-- reference check is bench/reference/check_backtest.py.
begin;
select plan(67);

create temp table t_ids as select
  'f4100000-0000-4000-8000-00000000000a'::uuid as a, 'f4100000-0000-4000-8000-00000000000b'::uuid as b;
grant select on t_ids to authenticated, service_role;
grant execute on all functions in schema pg_temp to authenticated, service_role;

-- Account A: store S1; P1, 28 days from 2026-01-01 with q_i = 10 + 2·(i mod 7) + i div 7 (a weekly
-- pattern rising by 1 a week); P2, 14 days of 5 then 7 days of 0; P3, 21 days of 0; P4, no sales.
-- Account B: a store and product of its own, 28 days of 3.
insert into forecast.stores (account_id, store_code, name) select a, 'S1', 'A store' from t_ids;
insert into forecast.products (account_id, sku, name, base_price)
select a, sku, 'A ' || sku, 1 from t_ids, unnest(array['P1', 'P2', 'P3', 'P4']) sku;
insert into forecast.stores (account_id, store_code, name) select b, 'S1', 'B store' from t_ids;
insert into forecast.products (account_id, sku, name, base_price) select b, 'P1', 'B one', 1 from t_ids;
create temp table t_a as select
  (select id from forecast.stores where account_id = (select a from t_ids)) as s,
  (select id from forecast.products where account_id = (select a from t_ids) and sku = 'P1') as p1,
  (select id from forecast.products where account_id = (select a from t_ids) and sku = 'P2') as p2,
  (select id from forecast.products where account_id = (select a from t_ids) and sku = 'P3') as p3,
  (select id from forecast.products where account_id = (select a from t_ids) and sku = 'P4') as p4,
  (select id from forecast.stores where account_id = (select b from t_ids)) as bs,
  (select id from forecast.products where account_id = (select b from t_ids)) as bp;
grant select on t_a to authenticated, service_role;
insert into forecast.sales_daily (account_id, store_id, product_id, date, quantity, unit_price, total_amount)
select (select a from t_ids), s, p1, date '2026-01-01' + i, 10 + 2 * (i % 7) + i / 7, 1, 1 from t_a, generate_series(0, 27) i
union all
select (select a from t_ids), s, p2, date '2026-01-01' + i, case when i < 14 then 5 else 0 end, 1, 1 from t_a, generate_series(0, 20) i
union all
select (select a from t_ids), s, p3, date '2026-01-01' + i, 0, 1, 1 from t_a, generate_series(0, 20) i
union all
select (select b from t_ids), bs, bp, date '2026-01-01' + i, 3, 1, 3 from t_a, generate_series(0, 27) i;

-- A backtest of account A's store and a product over January, with this config.
create function pg_temp.bt(product bigint, config text) returns jsonb language sql as $$
  select api.backtesting_run((select s from t_a), product, '2026-01-01', '2026-01-31', config::jsonb)
$$;
grant execute on function pg_temp.bt(bigint, text) to authenticated, service_role;
create function pg_temp.fields(config text, product text default '(select p1 from t_a)') returns text[] language sql as $$
  select array(select e ->> 'field' from jsonb_array_elements(tests.error_of(format('select pg_temp.bt(%s, %L)', product, config)) -> 'errors') e)
$$;
grant execute on function pg_temp.fields(text, text) to authenticated, service_role;
create temp table t_bt (name text primary key, answer jsonb);
grant all on t_bt to authenticated, service_role;

-- ── Unit ───────────────────────────────────────────────────────────────────────────────────────
select is((select row(function_name, min_role, app_roles, rate_policy)::text from gateway.routes
            where unit = 'forecastlab-models' and method = 'POST' and path = '/backtesting/run'),
  '(backtesting_run,authenticated,,forecastlab-models-train)', 'POST /backtesting/run: any member, under the training rate policy');

-- ── The folds (§9.2) ───────────────────────────────────────────────────────────────────────────
select is((select array_agg(array[train_start, train_end, test_start, test_end] order by fold_index)
             from forecast_models.backtest_folds(100, 'expanding', 5, 30, 0, 14) f),
  '{{0,30,30,44},{0,44,44,58},{0,58,58,72},{0,72,72,86},{0,86,86,100}}', 'expanding: step (100 − 30 − 14) div 4 = 14');
select is((select array_agg(array[train_start, train_end, test_start, test_end] order by fold_index)
             from forecast_models.backtest_folds(28, 'sliding', 3, 10, 2, 5) f),
  '{{0,10,12,17},{5,15,17,22},{10,20,22,27}}', 'sliding with a gap: the window moves by (28 − 10 − 2 − 5) div 2 = 5, test after the gap');
select is((select array_agg(array[train_start, train_end, test_start, test_end] order by fold_index)
             from forecast_models.backtest_folds(50, 'expanding', 5, 20, 2, 10) f),
  '{{0,20,22,32},{0,38,40,50}}', 'n_splits reduced to (50 − 20 − 2) div 10 = 2 when the rows cannot hold 5 tests');
select is((select array_agg(array[train_start, train_end, test_start, test_end] order by fold_index)
             from forecast_models.backtest_folds(40, 'expanding', 5, 30, 0, 10) f),
  '{{0,30,30,40}}', '… and to 1 fold when exactly min_train_size + gap + horizon rows');
select is((select array_agg(array[train_start, train_end, test_start, test_end] order by fold_index)
             from forecast_models.backtest_folds(30, 'expanding', 4, 7, 0, 7) f),
  '{{0,7,7,14},{0,15,15,22},{0,23,23,30}}', 'n_splits 4 reduced to (30 − 7) div 7 = 3, step (30 − 7 − 7) div 2 = 8: the last test ends at n');
select is(tests.error_of($$select * from forecast_models.backtest_folds(20, 'expanding', 5, 14, 0, 7)$$),
  '{"sqlstate": "PT400", "message": "Not enough data to backtest: 20 rows in the window, and the split needs at least min_train_size + gap + horizon = 14 + 0 + 7 = 21", "errors": null}',
  'fewer rows than min_train_size + gap + horizon is a 400 saying so');

-- ── A backtest computed by hand ────────────────────────────────────────────────────────────────
-- P1, expanding, min_train 14, horizon 7, 2 splits: step (28 − 14 − 7) div 1 = 7; folds train
-- [0, 14) test [14, 21) and train [0, 21) test [21, 28). Naive forecasts the last training value
-- (23, then 24): errors A − F = −11, −9, … , 1 in both folds (MAE 37/7, bias −5); seasonal_naive(7)
-- forecasts last week's value: A − F = 1 everywhere.
select tests.as_member((select a from t_ids), 'viewer');
insert into t_bt values ('naive', pg_temp.bt((select p1 from t_a),
  '{"model_config_main": {"model_type": "naive"}, "split_config": {"n_splits": 2, "min_train_size": 14, "horizon": 7}}'));
select ok((select answer ->> 'backtest_id' ~ '^[0-9a-f]{16}$' from t_bt where name = 'naive'), 'a member backtests: backtest_id is 16 hex');
select is((select answer -> 'split_config' from t_bt where name = 'naive'),
  '{"strategy": "expanding", "n_splits": 2, "min_train_size": 14, "gap": 0, "horizon": 7}', 'split_config: the request''s, defaults filled');
select is((select answer ->> 'config_hash' from t_bt where name = 'naive'),
  left(encode(sha256(convert_to('{"include_baselines": true, "model_config_main": {"model_type": "naive", "schema_version": "1.0"}, "schema_version": "1.0", '
                                || '"split_config": {"gap": 0, "horizon": 7, "min_train_size": 14, "n_splits": 2, "strategy": "expanding"}, "store_fold_details": true}', 'UTF8')), 'hex'), 16),
  'config_hash: SHA-256 of the normalized config with sorted keys, 16 hex');
select is((select answer -> 'leakage_check_passed' from t_bt where name = 'naive'), 'true', 'leakage_check_passed');
select is((select jsonb_path_query_array(answer, '$.main_model_results.fold_results[*].split') from t_bt where name = 'naive'),
  '[{"fold_index": 0, "train_start": "2026-01-01", "train_end": "2026-01-14", "test_start": "2026-01-15", "test_end": "2026-01-21", "train_size": 14, "test_size": 7},
    {"fold_index": 1, "train_start": "2026-01-01", "train_end": "2026-01-21", "test_start": "2026-01-22", "test_end": "2026-01-28", "train_size": 21, "test_size": 7}]',
  'each fold''s split: first and last dates of train and test, sizes');
select is((select (answer #> '{main_model_results,fold_results,0}') - 'split' - 'metrics' - 'horizon_bucket_metrics' from t_bt where name = 'naive'),
  '{"fold_index": 0, "dates": ["2026-01-15", "2026-01-16", "2026-01-17", "2026-01-18", "2026-01-19", "2026-01-20", "2026-01-21"],
    "actuals": [12, 14, 16, 18, 20, 22, 24], "predictions": [23, 23, 23, 23, 23, 23, 23]}',
  'fold details: the test dates, actuals and the model''s predictions');
select ok((select abs((m ->> 'mae')::float8 - 37.0 / 7) < 1e-12 and (m ->> 'bias')::float8 = -5
                  and abs((m ->> 'rmse')::float8 - sqrt((121 + 81 + 49 + 25 + 9 + 1 + 1) / 7.0)) < 1e-12
                  and abs((m ->> 'wape')::float8 - 100 * 37.0 / 126) < 1e-12
                  and abs((m ->> 'smape')::float8 - 100.0 / 7 * (22.0/35 + 18.0/37 + 14.0/39 + 10.0/41 + 6.0/43 + 2.0/45 + 2.0/47)) < 1e-12
             from t_bt, lateral (select answer #> '{main_model_results,fold_results,0,metrics}' as m) x where name = 'naive'),
  'fold metrics: MAE, RMSE, sMAPE, WAPE and bias, by hand');
select is((select answer #> '{main_model_results,fold_results,0,horizon_bucket_metrics}' from t_bt where name = 'naive'),
  (select jsonb_build_object('h_1_7', answer #> '{main_model_results,fold_results,0,metrics}') from t_bt where name = 'naive'),
  'a 7-day horizon fills only the h_1_7 bucket, the whole fold');
select is((select (answer #> '{main_model_results,aggregated_metrics}') - 'wape' - 'smape' from t_bt where name = 'naive'),
  (select (answer #> '{main_model_results,fold_results,1,metrics}') - 'wape' - 'smape' from t_bt where name = 'naive'),
  'aggregated_metrics: the mean across folds (rmse too); both folds have the same errors');
select ok((select abs((answer #>> '{main_model_results,aggregated_metrics,wape}')::float8 - (3700.0 / 126 + 3700.0 / 133) / 2) < 1e-12 from t_bt where name = 'naive'),
  '… and WAPE, whose Σ|A| differs, is the mean of the two folds'' WAPE');
select is((select (answer #> '{main_model_results,metric_std}') - 'smape_stability' - 'wape_stability' from t_bt where name = 'naive'),
  '{"mae_stability": 0, "rmse_stability": 0, "bias_stability": 0}', 'metric_std: <metric>_stability, 0 where every fold agrees');
select ok((select abs((answer #>> '{main_model_results,metric_std,wape_stability}')::float8
                      - 100 * abs(100 * 37.0 / 126 - 100 * 37.0 / 133) / 2 / ((100 * 37.0 / 126 + 100 * 37.0 / 133) / 2)) < 1e-9 from t_bt where name = 'naive'),
  '… 100 · population std / |mean| (WAPE: Σ|A| 126 then 133)');
select is((select answer #> '{main_model_results,bucketed_aggregated_metrics}' from t_bt where name = 'naive'),
  (select jsonb_build_object('h_1_7', answer #> '{main_model_results,aggregated_metrics}') from t_bt where name = 'naive'),
  'bucketed_aggregated_metrics: per bucket, the mean across folds');
select is((select jsonb_build_array(answer #> '{main_model_results,model_type}', answer #> '{main_model_results,feature_aware}', answer #> '{main_model_results,exogenous_policy}',
                                    answer #> '{main_model_results,config_hash}') from t_bt where name = 'naive'),
  jsonb_build_array('naive', false, null, forecast_models.config_hash('{"model_type": "naive", "schema_version": "1.0"}')), 'the model result''s type, family flags and config_hash');
select is((select jsonb_path_query_array(answer, '$.baseline_results[*].model_type') from t_bt where name = 'naive'),
  '["naive", "seasonal_naive"]', 'baselines: naive and seasonal_naive on the same folds');
select is((select (answer #> '{baseline_results,1,aggregated_metrics}') - 'wape' - 'smape' from t_bt where name = 'naive'),
  '{"mae": 1, "rmse": 1, "bias": 1}', 'seasonal_naive(7): last week''s values, one below each actual');
select ok((select abs((answer #>> '{baseline_results,1,aggregated_metrics,wape}')::float8 - (700.0 / 126 + 700.0 / 133) / 2) < 1e-12 from t_bt where name = 'naive'),
  '… WAPE: the mean of 100 · 7 / 126 and 100 · 7 / 133');
select is((select jsonb_path_query_array(answer, '$.baseline_results[1].fold_results[*].split') from t_bt where name = 'naive'),
  (select jsonb_path_query_array(answer, '$.main_model_results.fold_results[*].split') from t_bt where name = 'naive'), '… on the main model''s folds');
select is((select answer #> '{comparison_summary,mae}' from t_bt where name = 'naive'),
  jsonb_build_object('main', (37.0 / 7)::float8, 'naive', (37.0 / 7)::float8, 'seasonal_naive', 1, 'vs_naive_pct', 0,
                     'vs_seasonal_pct', (1 - (37.0 / 7)::float8) / 1 * 100),
  'comparison_summary: (baseline − main) / baseline · 100');
select is((select answer #> '{comparison_summary,bias}' from t_bt where name = 'naive'),
  '{"main": -5, "naive": -5, "seasonal_naive": 1, "vs_naive_pct": 0, "vs_seasonal_pct": -400}', '… bias compared by absolute value');
select is((select array(select jsonb_object_keys(answer -> 'comparison_summary') order by 1) from t_bt where name = 'naive'),
  '{bias,mae,rmse,smape,wape}', '… for every metric');

-- Sliding with a gap, details off, no baselines.
insert into t_bt values ('sliding', pg_temp.bt((select p1 from t_a),
  '{"model_config_main": {"model_type": "moving_average", "window_size": 3}, "include_baselines": false, "store_fold_details": false,
    "split_config": {"strategy": "sliding", "n_splits": 3, "min_train_size": 10, "gap": 2, "horizon": 5}}'));
select is((select jsonb_path_query_array(answer, '$.main_model_results.fold_results[*].split.train_start') from t_bt where name = 'sliding'),
  '["2026-01-01", "2026-01-06", "2026-01-11"]', 'sliding: the training window moves by the step');
select is((select jsonb_path_query_array(answer, '$.main_model_results.fold_results[*].split.test_start') from t_bt where name = 'sliding'),
  '["2026-01-13", "2026-01-18", "2026-01-23"]', '… and the test starts gap rows after it ends');
select is((select jsonb_path_query_array(answer, '$.main_model_results.fold_results[*].split.train_size') from t_bt where name = 'sliding'),
  '[10, 10, 10]', '… of min_train_size rows');
select is((select answer #> '{main_model_results,fold_results,0}' -> 'actuals' from t_bt where name = 'sliding'), '[]', 'store_fold_details false: no dates, actuals, predictions');
select ok((select abs((answer #>> '{main_model_results,fold_results,0,metrics,mae}')::float8 - 4.6) < 1e-12 from t_bt where name = 'sliding'),
  'fold 0: moving_average(3) of rows 7 … 9 (11, 13, 15: 13) against rows 12 … 16 (21, 23, 12, 14, 16): MAE 23 / 5');
select is((select jsonb_build_array(answer -> 'baseline_results', answer -> 'comparison_summary') from t_bt where name = 'sliding'),
  '[null, null]', 'include_baselines false: baseline_results and comparison_summary are null');

-- Zeros: non-finite metrics are null. P2: train 14 days of 5, test 7 days of 0 (one fold).
insert into t_bt values ('zeros', pg_temp.bt((select p2 from t_a),
  '{"model_config_main": {"model_type": "naive"}, "split_config": {"n_splits": 2, "min_train_size": 14, "horizon": 7}}'));
select is((select answer #> '{main_model_results,fold_results,0,metrics}' from t_bt where name = 'zeros'),
  '{"mae": 5, "rmse": 5, "smape": 200, "wape": null, "bias": -5}', 'WAPE with zero actuals is +∞, answered as null');
select is((select jsonb_array_length(answer #> '{main_model_results,fold_results}') from t_bt where name = 'zeros'), 1, 'n_splits reduced to 1 (21 rows)');
select is((select answer #> '{main_model_results,metric_std}' from t_bt where name = 'zeros'),
  '{"mae_stability": null, "rmse_stability": null, "smape_stability": null, "wape_stability": null, "bias_stability": null}',
  'stability of one fold is NaN, answered as null');
select is((select answer #> '{comparison_summary,wape}' from t_bt where name = 'zeros'),
  '{"main": null, "naive": null, "seasonal_naive": null}', 'no improvement against an infinite baseline');
-- P3: all zeros; naive forecasts 0: sMAPE pairs of 0 and 0 count 0, WAPE ∞, the baselines' MAE 0.
insert into t_bt values ('all_zeros', pg_temp.bt((select p3 from t_a),
  '{"model_config_main": {"model_type": "seasonal_naive"}, "split_config": {"n_splits": 2, "min_train_size": 7, "horizon": 7}}'));
select is((select answer #> '{main_model_results,aggregated_metrics}' from t_bt where name = 'all_zeros'),
  '{"mae": 0, "rmse": 0, "smape": 0, "wape": null, "bias": 0}', 'zero actuals and forecasts: sMAPE 0, WAPE null');
select is((select answer #> '{main_model_results,metric_std,mae_stability}' from t_bt where name = 'all_zeros'), 'null',
  'stability with a zero mean is +∞, answered as null');
select is((select answer #> '{comparison_summary,mae}' from t_bt where name = 'all_zeros'),
  '{"main": 0, "naive": 0, "seasonal_naive": 0}', 'no percentage against a zero baseline');

-- Horizon buckets and the ridge: P1 over 28 rows, horizon 20 reaches h_15_28.
insert into t_bt values ('ridge', pg_temp.bt((select p1 from t_a),
  '{"model_config_main": {"model_type": "trend_regression_baseline", "alpha": 0.5}, "split_config": {"n_splits": 2, "min_train_size": 7, "horizon": 20}}'));
select is((select array(select jsonb_object_keys(answer #> '{main_model_results,fold_results,0,horizon_bucket_metrics}') order by 1) from t_bt where name = 'ridge'),
  '{h_15_28,h_1_7,h_8_14}', 'a 20-day horizon: buckets h_1_7, h_8_14 and h_15_28 (h_29_plus left out)');
select ok((select abs((answer #>> '{main_model_results,fold_results,0,horizon_bucket_metrics,h_15_28,mae}')::float8
                      - forecast_models.mae(array(select (v #>> '{}')::float8 from jsonb_array_elements(answer #> '{main_model_results,fold_results,0,actuals}') with ordinality x(v, i) where i > 14),
                                            array(select (v #>> '{}')::float8 from jsonb_array_elements(answer #> '{main_model_results,fold_results,0,predictions}') with ordinality x(v, i) where i > 14))) < 1e-12
             from t_bt where name = 'ridge'),
  'h_15_28: the metrics of steps 15 … 20');
select is((select jsonb_array_length(answer #> '{main_model_results,fold_results}') from t_bt where name = 'ridge'), 1, 'one fold fits 28 rows');
select is((select answer #>> '{main_model_results,model_type}' from t_bt where name = 'ridge'), 'trend_regression_baseline', 'the ridge backtests (PL/Python)');

-- ── 422: the body ──────────────────────────────────────────────────────────────────────────────
select is(pg_temp.fields('{"model_config_main": {"model_type": "naive"}, "split_config": {"gap": 7, "horizon": 7}}'),
  '{config.split_config}', 'horizon must be greater than gap (422)');
select is(tests.error_of($$select api.backtesting_run((select s from t_a), (select p1 from t_a), '2026-01-31', '2026-01-31', '{"model_config_main": {"model_type": "naive"}}')$$) -> 'errors',
  '[{"field": "end_date", "message": "end_date must be after start_date", "type": "value_error"}]', 'end_date strictly after start_date (422)');
select is(pg_temp.fields('{"model_config_main": {"model_type": "naive"}, "split_config": {"n_splits": 1, "gap": 31, "min_train_size": 6, "horizon": 0}}'),
  '{config.split_config.gap,config.split_config.horizon,config.split_config.n_splits,config.split_config.min_train_size}', 'n_splits ≥ 2, gap ≤ 30, min_train_size ≥ 7, horizon ≥ 1');
select is(tests.error_of($$select pg_temp.bt((select p1 from t_a), '{"model_config_main": {"model_type": "naive"}, "split_config": {"n_splits": 21, "gap": -1, "horizon": 91}}')$$) -> 'errors',
  '[{"field": "config.split_config.gap", "message": "Input should be greater than or equal to 0", "type": "greater_than_equal"},
    {"field": "config.split_config.horizon", "message": "Input should be less than or equal to 90", "type": "less_than_equal"},
    {"field": "config.split_config.n_splits", "message": "Input should be less than or equal to 20", "type": "less_than_equal"}]',
  'n_splits ≤ 20, gap ≥ 0, horizon ≤ 90, as Pydantic words them');
select is(pg_temp.fields('{"model_config_main": {"model_type": "naive"}, "split_config": {"strategy": "rolling", "n_splits": 2.5, "folds": 3}, "include_baselines": "yes", "colour": 1}'),
  '{config.colour,config.include_baselines,config.split_config.folds,config.split_config.strategy,config.split_config.n_splits}',
  'strict and closed: unknown keys, a strategy not expanding|sliding, 2.5 for an integer, "yes" for a boolean');
select is(pg_temp.fields('{"split_config": {}}'), '{config.model_config_main}', 'model_config_main is required');
select is(pg_temp.fields('{"model_config_main": {"model_type": "moving_average", "window_size": 0}}'), '{config.model_config_main.moving_average.window_size}',
  'the main model''s parameters are checked as training checks them, named under config.model_config_main');
select is(pg_temp.fields('{"model_config_main": {"model_type": "prophet"}}'), '{config.model_config_main.model_type}', 'an unknown model type is a 422');
select is(tests.error_of($$select api.backtesting_run(0, null, null, null, null)$$) -> 'errors',
  '[{"field": "store_id", "message": "Input should be greater than or equal to 1", "type": "greater_than_equal"},
    {"field": "product_id", "message": "Field required", "type": "missing"},
    {"field": "start_date", "message": "Field required", "type": "missing"},
    {"field": "end_date", "message": "Field required", "type": "missing"},
    {"field": "config", "message": "Field required", "type": "missing"}]', 'every problem of the body at once');
select is(pg_temp.fields('{"model_config_main": {"model_type": "lightgbm"}, "split_config": {"horizon": 0}}'), '{config.split_config.horizon}',
  'a disabled model type waits for the body''s 422s');

-- ── 400 ────────────────────────────────────────────────────────────────────────────────────────
select is(tests.error_of($$select pg_temp.bt((select p1 from t_a), '{"model_config_main": {"model_type": "lightgbm"}}')$$) - 'errors',
  '{"sqlstate": "PT400", "message": "model_type lightgbm is disabled: it needs the setting forecast_enable_lightgbm (forecastlab.forecast_enable_lightgbm) to be on"}',
  'an opt-in model whose flag is off is a 400 naming the flag');
select is(tests.error_of($$select pg_temp.bt((select p4 from t_a), '{"model_config_main": {"model_type": "naive"}}')$$),
  format('{"sqlstate": "PT400", "message": "No sales for store %s, product %s between 2026-01-01 and 2026-01-31", "errors": null}', (select s from t_a), (select p4 from t_a))::jsonb,
  'no rows is a 400');
select is(tests.error_of($$select pg_temp.bt((select p1 from t_a), '{"model_config_main": {"model_type": "naive"}, "split_config": {"min_train_size": 20, "gap": 2, "horizon": 7}}')$$),
  '{"sqlstate": "PT400", "message": "Not enough data to backtest: 28 rows in the window, and the split needs at least min_train_size + gap + horizon = 20 + 2 + 7 = 29", "errors": null}',
  'too few rows for the split is a 400 saying how many it needs');
select is(tests.error_of($$select pg_temp.bt((select p1 from t_a), '{"model_config_main": {"model_type": "seasonal_naive", "season_length": 10}, "split_config": {"min_train_size": 7, "horizon": 7}}')$$),
  '{"sqlstate": "PT400", "message": "seasonal_naive needs at least 10 observations in the training window, found 7", "errors": null}',
  'a main model that cannot fit a fold is a 400');

-- ── Two tenants ────────────────────────────────────────────────────────────────────────────────
select tests.as_member((select b from t_ids), 'admin');
select is(tests.error_of($$select pg_temp.bt((select p1 from t_a), '{"model_config_main": {"model_type": "naive"}}')$$),
  format('{"sqlstate": "PT404", "message": "Store %s not found", "errors": null}', (select s from t_a))::jsonb, 'another account cannot backtest A''s store (404)');
select is(tests.error_of($$select api.backtesting_run((select bs from t_a), (select p1 from t_a), '2026-01-01', '2026-01-31', '{"model_config_main": {"model_type": "naive"}}')$$),
  format('{"sqlstate": "PT404", "message": "Product %s not found", "errors": null}', (select p1 from t_a))::jsonb, '… nor A''s product with its own store');
select is((select api.backtesting_run((select bs from t_a), (select bp from t_a), '2026-01-01', '2026-01-31',
                                      '{"model_config_main": {"model_type": "naive"}, "split_config": {"min_train_size": 14, "horizon": 7}}')
                  #> '{main_model_results,aggregated_metrics}'),
  '{"mae": 0, "rmse": 0, "smape": 0, "wape": 0, "bias": 0}', 'and backtests its own series (a constant 3: naive is exact)');
select tests.as_member((select a from t_ids), 'viewer');
select is(tests.error_of($$select api.backtesting_run((select bs from t_a), (select bp from t_a), '2026-01-01', '2026-01-31', '{"model_config_main": {"model_type": "naive"}}')$$) ->> 'sqlstate',
  'PT404', 'nor can A backtest B''s');
select tests.clear_authentication();
select tests.authenticate_as('authenticated', gen_random_uuid(), null, null);
select is(tests.error_of($$select api.backtesting_run(1, 1, '2026-01-01', '2026-01-31', '{"model_config_main": {"model_type": "naive"}}')$$) ->> 'sqlstate',
  '42501', 'a token without an account is refused');
select tests.clear_authentication();
select tests.authenticate_as('anon');
select throws_ok($$select api.backtesting_run(1, 1, '2026-01-01', '2026-01-31', '{"model_config_main": {"model_type": "naive"}}')$$,
  '42501', null, 'anonymous callers cannot call it');

-- ── Without PL/Python ──────────────────────────────────────────────────────────────────────────
select tests.clear_authentication();
drop function forecast_models.ridge_fit(double precision[], integer[], integer[], double precision[], double precision, boolean, boolean);
select tests.as_member((select a from t_ids), 'viewer');
select ok(tests.error_of($$select pg_temp.bt((select p1 from t_a), '{"model_config_main": {"model_type": "trend_regression_baseline"}, "split_config": {"n_splits": 2, "min_train_size": 7, "horizon": 7}}')$$) ->> 'message'
            like 'trend_regression_baseline needs PL/Python (the plpython3u extension, with numpy)%', 'without PL/Python the ridge is a 400 naming what is missing');
select is(tests.error_of($$select pg_temp.bt((select p1 from t_a), '{"model_config_main": {"model_type": "seasonal_average"}, "split_config": {"n_splits": 2, "min_train_size": 7, "horizon": 7}}')$$), null,
  '… while the SQL baselines still backtest');

select * from finish();
rollback;
