-- ForecastLab's feature-aware models (docs/forecastlab-models.md, "Feature-aware models"): the V1
-- frame against hand-computed cells, its time safety (lags never past the origin; rows planted
-- after it change nothing), training and prediction of the five types, the enable flags, their
-- 422s and 400s, two tenants, a hand-made artifact that cannot hang or run anything, the
-- missing-PL/Python path and a feature-aware backtest. The numbers themselves are checked against
-- scikit-learn, LightGBM and xgboost outside the database by bench/reference/check_feature_models.py.
begin;
select plan(42);

create temp table t_ids as select
  'f2000000-0000-4000-8000-00000000000a'::uuid as a, 'f2000000-0000-4000-8000-00000000000b'::uuid as b;
grant select on t_ids to authenticated, service_role;
create function pg_temp.values_of(answer jsonb) returns double precision[] language sql as $$
  select array(select (f ->> 'forecast')::double precision from jsonb_array_elements(answer -> 'forecasts') f)
$$;
grant execute on all functions in schema pg_temp to authenticated, service_role;

-- Account A: stores S1, S2; product P1 (base price 2) with 70 days from Thu 2026-01-01,
-- q_i = 10 + 3·(i mod 7) + i div 7, at price 2, except no row on day 20 (a gap: it sold nothing);
-- a price_history row at 3 from 2026-03-01 on; a promotion on 2026-03-05..06 for S1 and a
-- chain-wide one on 2026-03-15; holidays on 2026-01-06 (all stores) and 2026-01-07 (S2 only);
-- launched 2025-12-01. Product P2: 10 days only. Account B: a store and product of its own.
select tests.forecast_catalog(a, b, 2) from t_ids;
insert into forecast.sales_daily (account_id, store_id, product_id, date, quantity, unit_price, total_amount)
select (select a from t_ids), s, p, date '2026-01-01' + i, 10 + 3 * (i % 7) + i / 7, 2, 0 from t_a, generate_series(0, 69) i where i <> 20
union all
select (select a from t_ids), s, p2, date '2026-01-01' + i, 5, 2, 0 from t_a, generate_series(0, 9) i
union all
select (select b from t_ids), bs, bp, date '2026-01-01' + i, 4 + i % 3, 2, 0 from t_a, generate_series(0, 69) i;
insert into forecast.price_history (account_id, product_id, store_id, valid_from, price) select (select a from t_ids), p, s, '2026-03-01', 3 from t_a;
insert into forecast.promotions (account_id, product_id, store_id, start_date, end_date, discount_pct)
select (select a from t_ids), p, s, date '2026-03-05', date '2026-03-06', 10 from t_a
union all select (select a from t_ids), p, null, date '2026-03-15', date '2026-03-15', 20 from t_a;
insert into forecast.exogenous_signals (account_id, store_id, date, signal_type, value)
select (select a from t_ids), null::bigint, date '2026-01-06', 'holiday', 1 from t_a
union all select (select a from t_ids), s2, date '2026-01-07', 'holiday', 1 from t_a;
insert into forecast.product_lifecycle (account_id, product_id, stage, start_date) select (select a from t_ids), p, 'launch', '2025-12-01' from t_a;

create temp table t_grid as
select g.days, g.values_ from t_a, lateral (
  select s.dates, s.y from forecast_models.series((select a from t_ids), t_a.s, t_a.p, '2026-01-01', '2026-03-11') s) x,
  lateral forecast_models.daily_grid(x.dates, x.y, '2026-03-11') g;
create temp table t_models (name text primary key, answer jsonb);
grant all on t_grid, t_models to authenticated, service_role;

-- The frame's cell of a column on a day, computed with the grid as history and origin 2026-03-11.
create function pg_temp.cell(day date, column_name text, origin date default '2026-03-11', store bigint default null) returns double precision
language sql as $$
  select f.features[array_position(forecast_models.frame_v1_columns(), column_name)]
    from t_a, t_grid, forecast_models.frame_v1(coalesce(store, t_a.s), t_a.p, array[day], t_grid.days, t_grid.values_, origin) f
$$;
grant execute on all functions in schema pg_temp to authenticated, service_role;

-- ── The V1 frame ───────────────────────────────────────────────────────────────────────────────
select tests.as_member((select a from t_ids), 'admin');
select is(forecast_models.frame_v1_columns(), array['lag_1', 'lag_7', 'lag_14', 'lag_28', 'dow_sin', 'dow_cos', 'month_sin', 'month_cos',
  'is_weekend', 'is_month_end', 'price_factor', 'promo_active', 'is_holiday', 'days_since_launch'], 'the 14 V1 columns, in order');
select is((select cardinality(days) from t_grid), 70, 'the grid has every day of the window, the gap included');
select is((select values_[21] from t_grid), 0::double precision, 'a day without a sales row sold nothing');
select is(array[pg_temp.cell('2026-01-30', 'lag_1'), pg_temp.cell('2026-01-30', 'lag_7'), pg_temp.cell('2026-01-30', 'lag_14'),
                pg_temp.cell('2026-01-30', 'lag_28')],
  array[10 + 3 * 0 + 4, 10 + 3 * 1 + 3, 10 + 3 * 1 + 2, 10 + 3 * 1 + 0]::double precision[],
  'lags read the target k days before (day 29: days 28, 22, 15, 1)');
select is(pg_temp.cell('2026-01-22', 'lag_1'), 0::double precision, 'the gap''s day is a zero lag');
select is(array[pg_temp.cell('2026-01-01', 'lag_1'), pg_temp.cell('2026-01-20', 'lag_28')], array[null, null]::double precision[],
  'a lag before the first day is missing');
select is(array[pg_temp.cell('2026-01-05', 'dow_sin'), pg_temp.cell('2026-01-05', 'dow_cos')], array[0, 1]::double precision[],
  'a Monday is day 0 of the week');
select ok(abs(pg_temp.cell('2026-01-07', 'dow_sin') - sin(2 * pi() * 2 / 7)) < 1e-15 and abs(pg_temp.cell('2026-03-01', 'month_cos') - cos(2 * pi() * 3 / 12)) < 1e-15,
  'cyclical weekday and month: 2π·dow/7, 2π·month/12');
select is(array[pg_temp.cell('2026-01-03', 'is_weekend'), pg_temp.cell('2026-01-04', 'is_weekend'), pg_temp.cell('2026-01-05', 'is_weekend')],
  array[1, 1, 0]::double precision[], 'Saturday and Sunday are the weekend');
select is(array[pg_temp.cell('2026-01-31', 'is_month_end'), pg_temp.cell('2026-02-28', 'is_month_end'), pg_temp.cell('2026-02-27', 'is_month_end')],
  array[1, 1, 0]::double precision[], 'the last day of a month');
select is(array[pg_temp.cell('2026-02-28', 'price_factor'), pg_temp.cell('2026-03-01', 'price_factor')], array[1, 1.5]::double precision[],
  'price over the base price: the sale''s, then price_history''s from its valid_from');
select is(array[pg_temp.cell('2026-03-04', 'promo_active'), pg_temp.cell('2026-03-05', 'promo_active'), pg_temp.cell('2026-03-15', 'promo_active')],
  array[0, 1, 1]::double precision[], 'promotions of the store and chain-wide ones');
select is(array[pg_temp.cell('2026-01-06', 'is_holiday'), pg_temp.cell('2026-01-07', 'is_holiday'), pg_temp.cell('2026-01-07', 'is_holiday', store => (select s2 from t_a))],
  array[1, 0, 1]::double precision[], 'holidays: global, and another store''s only for that store');
select is(pg_temp.cell('2026-01-01', 'days_since_launch'), 31::double precision, 'days since the lifecycle''s launch');

-- ── Time safety ────────────────────────────────────────────────────────────────────────────────
select is(array[pg_temp.cell('2026-03-12', 'lag_1'), pg_temp.cell('2026-03-13', 'lag_1'), pg_temp.cell('2026-03-18', 'lag_7'), pg_temp.cell('2026-03-19', 'lag_7')],
  array[(select values_[70] from t_grid), null, (select values_[70] from t_grid), null],
  'after the origin a lag is filled only from a day at or before it, never a prediction');
select is(pg_temp.cell('2026-01-30', 'lag_1', origin => '2026-01-20'), null, 'a frame never reads the target after its origin');
create temp table t_before as
select f.day, f.features from t_a, t_grid,
  forecast_models.frame_v1(t_a.s, t_a.p, t_grid.days || array(select date '2026-03-11' + h from generate_series(1, 35) h), t_grid.days, t_grid.values_, '2026-03-11') f;
insert into t_models select 'regression', api.forecasting_train((select s from t_a), (select p from t_a), '2026-01-01', '2026-03-11',
                                                                 '{"model_type": "regression", "max_iter": 20}');
-- Rows after the origin, as if someone loaded later sales: wild quantities and prices.
reset role;
insert into forecast.sales_daily (account_id, store_id, product_id, date, quantity, unit_price, total_amount)
select (select a from t_ids), s, p, date '2026-03-12' + i, 9999, 77, 0 from t_a, generate_series(0, 40) i;
select tests.as_member((select a from t_ids), 'admin');
select is((select count(*)::integer from t_before b, t_a, t_grid,
             forecast_models.frame_v1(t_a.s, t_a.p, array[b.day], t_grid.days, t_grid.values_, '2026-03-11') f
            where f.features is not distinct from b.features), 105,
  'rows planted after the origin change no cell of the training or future frame');
insert into t_models select 'regression after planting', api.forecasting_train((select s from t_a), (select p from t_a), '2026-01-01', '2026-03-11',
                                                                                '{"model_type": "regression", "max_iter": 20}');
select is(pg_temp.values_of(api.forecasting_predict((select s from t_a), (select p from t_a), 35, (select answer ->> 'model_path' from t_models where name = 'regression after planting'))),
  pg_temp.values_of(api.forecasting_predict((select s from t_a), (select p from t_a), 35, (select answer ->> 'model_path' from t_models where name = 'regression'))),
  'a model trained after the planting forecasts exactly as one trained before it');
delete from t_models where name = 'regression after planting';

-- ── Training and prediction ────────────────────────────────────────────────────────────────────
set local forecastlab.forecast_enable_random_forest = on;
set local forecastlab.forecast_enable_lightgbm = on;
set local forecastlab.forecast_enable_xgboost = on;
insert into t_models
select name, api.forecasting_train((select s from t_a), (select p from t_a), '2026-01-01', '2026-03-11', config::jsonb)
  from (values ('prophet_like', '{"model_type": "prophet_like", "alpha": 10}'),
               ('random_forest', '{"model_type": "random_forest", "n_estimators": 10, "max_depth": null}'),
               ('lightgbm', '{"model_type": "lightgbm", "n_estimators": 10}'),
               ('xgboost', '{"model_type": "xgboost", "n_estimators": 10, "max_depth": 3}')) v(name, config);
select is((select array_agg(answer ->> 'model_type' order by name) from t_models), array['lightgbm', 'prophet_like', 'random_forest', 'regression', 'xgboost'],
  'the five feature-aware types train');
select is((select array_agg(distinct (answer ->> 'n_observations')::integer) from t_models), array[70], 'n_observations: the days of the frame');
select is((select answer #> '{config_hash}' from t_models where name = 'random_forest'),
  to_jsonb(forecast_models.config_hash('{"model_type": "random_forest", "schema_version": "1.0", "n_estimators": 10, "max_depth": null, "min_samples_leaf": 2, "feature_config_hash": null}')),
  'defaults fill the config (max_depth null kept: unlimited)');
select is((select array_agg(cardinality(v) order by name) from t_models, lateral (select pg_temp.values_of(
             api.forecasting_predict((select s from t_a), (select p from t_a), 35, answer ->> 'model_path')) v) x),
  array[35, 35, 35, 35, 35], 'each predicts 35 days');
select ok((select bool_and(f > 0 and f < 200) from t_models, lateral unnest(pg_temp.values_of(
             api.forecasting_predict((select s from t_a), (select p from t_a), 35, answer ->> 'model_path'))) f),
  'the forecasts are in the range of the target');
select is((select array_agg(f ->> 'date' order by f ->> 'date') from jsonb_array_elements(
             api.forecasting_predict((select s from t_a), (select p from t_a), 2, (select answer ->> 'model_path' from t_models where name = 'lightgbm')) -> 'forecasts') f),
  array['2026-03-12', '2026-03-13'], 'forecast dates follow the training window');
select is((select state #> '{feature_columns}' from (select convert_from(content, 'UTF8')::jsonb -> 'state' as state from forecast_models.artifacts
            where artifact_key = substring((select answer ->> 'model_path' from t_models where name = 'prophet_like') from 'model_([0-9a-f]{12})')) x),
  to_jsonb((forecast_models.frame_v1_columns())[5:14]), 'prophet_like: trend, seasonality, holidays, price and promotions, no lags');
select tests.as_member((select a from t_ids), 'viewer');
select is(cardinality(pg_temp.values_of(api.forecasting_predict((select s from t_a), (select p from t_a), 3, (select answer ->> 'model_path' from t_models where name = 'xgboost')))),
  3, 'a viewer predicts');
select tests.as_member((select a from t_ids), 'admin');

-- ── Flags, 422s and 400s ───────────────────────────────────────────────────────────────────────
reset forecastlab.forecast_enable_random_forest;
select is(tests.error_of($$select api.forecasting_train((select s from t_a), (select p from t_a), '2026-01-01', '2026-03-11', '{"model_type": "random_forest"}')$$) ->> 'message',
  'model_type random_forest is disabled: it needs the setting forecast_enable_random_forest (forecastlab.forecast_enable_random_forest) to be on',
  'random_forest needs its flag');
select is(tests.error_of($$select api.forecasting_predict((select s from t_a), (select p from t_a), 3, (select answer ->> 'model_path' from t_models where name = 'random_forest'))$$) ->> 'sqlstate',
  'PT400', 'and so does predicting from a model trained while it was on');
set local forecastlab.forecast_enable_xgboost = off;
select is(tests.error_of($$select api.forecasting_train((select s from t_a), (select p from t_a), '2026-01-01', '2026-03-11', '{"model_type": "xgboost"}')$$) ->> 'sqlstate',
  'PT400', 'a flag set off is off');
select is(array(select e ->> 'field' from jsonb_array_elements(tests.error_of($$select api.forecasting_train((select s from t_a), (select p from t_a), '2026-01-01', '2026-03-11',
            '{"model_type": "random_forest", "n_estimators": 5, "max_depth": 65, "min_samples_leaf": 2.5, "feature_config_hash": 7, "extra": 1}')$$) -> 'errors') e order by 1),
  array['config.random_forest.extra', 'config.random_forest.feature_config_hash', 'config.random_forest.max_depth',
        'config.random_forest.min_samples_leaf', 'config.random_forest.n_estimators'],
  'random_forest''s bounds and types: every problem, before the flag');
select is(array(select e ->> 'field' from jsonb_array_elements(tests.error_of($$select api.forecasting_train((select s from t_a), (select p from t_a), '2026-01-01', '2026-03-11',
            '{"model_type": "regression", "max_iter": 1001, "learning_rate": 0, "max_depth": null}')$$) -> 'errors') e order by 1),
  array['config.regression.learning_rate', 'config.regression.max_depth', 'config.regression.max_iter'],
  'regression''s bounds; only random_forest''s max_depth may be null');
select is(tests.error_of($$select api.forecasting_train((select s from t_a), (select p from t_a), '2026-01-01', '2026-03-11', '{"model_type": "prophet_like", "alpha": 10001}')$$) #>> '{errors,0,type}',
  'less_than_equal', 'prophet_like''s alpha at most 10000');
select is(tests.error_of($$select api.forecasting_train((select s from t_a), (select p from t_a), '2026-01-01', '2026-03-11', '{"model_type": "regression"}', 2)$$) ->> 'message',
  'feature_frame_version 2 is not served yet: the feature-aware models train on the V1 frame (feature_frame_version 1)', 'the V2 frame is a 400');
select is(tests.error_of($$select api.forecasting_train((select s from t_a), (select p2 from t_a), '2026-01-01', '2026-01-10', '{"model_type": "prophet_like"}')$$) ->> 'message',
  'prophet_like needs at least 14 days from the first sale to the end of the training window, found 10', 'too little data is a 400');

-- ── Two tenants ────────────────────────────────────────────────────────────────────────────────
select tests.as_member((select b from t_ids), 'admin');
select is(tests.error_of($$select api.forecasting_predict((select s from t_a), (select p from t_a), 3, (select answer ->> 'model_path' from t_models where name = 'regression'))$$) ->> 'sqlstate',
  'PT404', 'another account''s model is not found');
select is(tests.error_of($$select api.forecasting_train((select s from t_a), (select p from t_a), '2026-01-01', '2026-03-11', '{"model_type": "regression"}')$$) ->> 'sqlstate',
  'PT404', 'another account''s store and product are not found');
select is((select f.features[12:13] from t_a, forecast_models.frame_v1(t_a.bs, t_a.bp, array[date '2026-01-06'], '{}', '{}', '2026-03-11') f),
  array[0, 0]::double precision[], 'account A''s holidays and promotions are not account B''s');

-- ── A hand-made artifact ───────────────────────────────────────────────────────────────────────
-- An admin may write an artifact row by hand: it is data, never code. A tree whose node points
-- back at itself is refused at once (a walk that never ended would hold the backend for good).
select tests.as_member((select a from t_ids), 'admin');
insert into forecast_models.artifacts (account_id, artifact_key, model_type, store_id, product_id, config, config_hash,
                                       train_start_date, train_end_date, n_observations, content, sha256, size_bytes)
select (select a from t_ids), 'abcdefabcdef', 'regression', t_a.s, t_a.p, c -> 'config', 'x', '2026-01-01', '2026-03-11', 70,
       convert_to(c::text, 'UTF8'), encode(sha256(convert_to(c::text, 'UTF8')), 'hex'), octet_length(convert_to(c::text, 'UTF8'))
  from t_a, (select jsonb_build_object('model_type', 'regression', 'config', '{"model_type": "regression"}'::jsonb, 'store_id', t_a.s, 'product_id', t_a.p,
                                       'train_end_date', '2026-03-11', 'state', jsonb_build_object(
                                         'feature_columns', to_jsonb(forecast_models.frame_v1_columns()), 'history_days', '[]'::jsonb, 'history_values', '[]'::jsonb,
                                         -- one node, its own left child: arrays as learner_fit writes them (base64 of little-endian bytes)
                                         'model', to_jsonb('{"kind": "tree_sum", "base": 0, "float32": false, "trees": [{"left": "AAAAAA==", "right": "AAAAAA==", "feature": "AAAAAA==", "threshold": "AAAAAAAA8D8=", "value": "AAAAAAAA8D8=", "missing_left": "AQ=="}]}'::text))) c
               from t_a) x;
select is(tests.error_of($$select api.forecasting_predict((select s from t_a), (select p from t_a), 3, 'artifacts/models/model_abcdefabcdef.joblib')$$),
  '{"sqlstate": "PT400", "message": "the model artifact holds a malformed tree", "errors": null}', 'a cyclic tree is a 400, not a hung backend');
reset role;
update forecast_models.artifacts set content = convert_to(replace(convert_from(content, 'UTF8'), 'AQ==', 'A!=='), 'UTF8') where artifact_key = 'abcdefabcdef';
update forecast_models.artifacts set sha256 = encode(sha256(content), 'hex') where artifact_key = 'abcdefabcdef';
select tests.as_member((select a from t_ids), 'admin');
select is(tests.error_of($$select api.forecasting_predict((select s from t_a), (select p from t_a), 3, 'artifacts/models/model_abcdefabcdef.joblib')$$) ->> 'message',
  'the model artifact holds a malformed tree', 'so is an array that is not base64');

-- ── Backtesting ────────────────────────────────────────────────────────────────────────────────
create temp table t_bt as select api.backtesting_run((select s from t_a), (select p from t_a), '2026-01-01', '2026-03-11',
  '{"model_config_main": {"model_type": "regression", "max_iter": 20}, "split_config": {"n_splits": 2, "min_train_size": 28, "horizon": 7}}') as answer;
select is((select jsonb_build_array(answer #> '{main_model_results,feature_aware}', answer #> '{main_model_results,exogenous_policy}',
                                    jsonb_array_length(answer #> '{main_model_results,fold_results}'), answer -> 'leakage_check_passed') from t_bt),
  '[true, "supplied", 2, true]', 'a feature-aware model backtests, each fold''s frame ending at its training end');
select ok((select (answer #>> '{main_model_results,aggregated_metrics,mae}')::double precision >= 0 from t_bt), 'with its metrics');

-- ── Without PL/Python ──────────────────────────────────────────────────────────────────────────
reset role;
drop function forecast_models.learner_fit(text, text, integer, double precision[], double precision[]);
select tests.as_member((select a from t_ids), 'admin');
select ok(tests.error_of($$select api.forecasting_train((select s from t_a), (select p from t_a), '2026-01-01', '2026-03-11', '{"model_type": "regression"}')$$) ->> 'message'
            like 'regression needs PL/Python (the plpython3u extension, with scikit-learn, LightGBM and xgboost)%',
  'without PL/Python a feature-aware model is a 400 naming what is missing');

select * from finish();
rollback;
