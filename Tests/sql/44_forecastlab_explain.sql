-- ForecastLab explainability (docs/forecastlab-models.md, "Explainability"): the drivers of the five
-- baselines against hand-computed values, contributions summing to the forecast, the forecast equal
-- to train + predict's, the confidence rules, every reason code that has a producer, time safety
-- (rows planted after as_of_date change nothing), the 422 / 400 / 404 answers, two tenants and the
-- explanation of a registry run.
begin;
select plan(58);

create temp table t_ids as select
  'f4000000-0000-4000-8000-00000000000a'::uuid as a, 'f4000000-0000-4000-8000-00000000000b'::uuid as b;
grant select on t_ids to authenticated, service_role;

-- Account A: stores S1, S2; product P1 with 42 days from 2026-01-01 at both stores,
-- q_i = 10 + 3·(i mod 7) + i div 7 (i = 0 … 41; as_of_date 2026-02-11 is i = 41); product P2 with
-- 10 days at S1 alternating 1, 9. Account B: a store and product of its own, 42 days of 4 + i mod 3.
select tests.forecast_catalog(a, b, 1) from t_ids;
insert into forecast.sales_daily (account_id, store_id, product_id, date, quantity, unit_price, total_amount)
select (select a from t_ids), st, p, date '2026-01-01' + i, 10 + 3 * (i % 7) + i / 7, 1, 0 from t_a, unnest(array[t_a.s, t_a.s2]) st, generate_series(0, 41) i
union all
select (select a from t_ids), s, p2, date '2026-01-01' + i, case when i % 2 = 0 then 1 else 9 end, 1, 0 from t_a, generate_series(0, 9) i
union all
select (select b from t_ids), bs, bp, date '2026-01-01' + i, 4 + i % 3, 1, 0 from t_a, generate_series(0, 41) i;

create temp table t_ex (name text primary key, answer jsonb);
grant all on t_ex to authenticated, service_role;
create function pg_temp.drivers(answer jsonb) returns text[] language sql as $$
  select array(select d ->> 'name' from jsonb_array_elements(answer -> 'drivers') d)
$$;
create function pg_temp.driver(answer jsonb, name text) returns jsonb language sql as $$
  select d from jsonb_array_elements(answer -> 'drivers') d where d ->> 'name' = name
$$;
create function pg_temp.codes(answer jsonb) returns text[] language sql as $$
  select array(select c ->> 'code' from jsonb_array_elements(answer -> 'reason_codes') c)
$$;
create function pg_temp.contributions(answer jsonb) returns double precision language sql as $$
  select sum((d ->> 'contribution')::double precision) from jsonb_array_elements(answer -> 'drivers') d
$$;
grant execute on all functions in schema pg_temp to authenticated, service_role;

-- ── Drivers of the five baselines (as_of 2026-02-11, 42 observations) ────────────────────────────
select tests.as_member((select a from t_ids), 'viewer');
insert into t_ex
select 'naive', api.explain_forecast((select s from t_a), (select p from t_a), 'naive', '2026-02-11') union all
select 'seasonal_naive', api.explain_forecast((select s from t_a), (select p from t_a), 'seasonal_naive', '2026-02-11') union all
select 'seasonal_naive_30', api.explain_forecast((select s from t_a), (select p from t_a), 'seasonal_naive', '2026-02-11', season_length => 30) union all
select 'moving_average', api.explain_forecast((select s from t_a), (select p from t_a), 'moving_average', '2026-02-11') union all
select 'moving_average_3', api.explain_forecast((select s from t_a), (select p from t_a), 'moving_average', '2026-02-11', window_size => 3) union all
select 'weighted_moving_average', api.explain_forecast((select s from t_a), (select p from t_a), 'weighted_moving_average', '2026-02-11') union all
select 'weighted_moving_average_exp', api.explain_forecast((select s from t_a), (select p from t_a), 'weighted_moving_average', '2026-02-11',
                                                           window_size => 3, weight_strategy => 'exponential', decay => 0.5) union all
select 'seasonal_average', api.explain_forecast((select s from t_a), (select p from t_a), 'seasonal_average', '2026-02-11') union all
select 'seasonal_average_12', api.explain_forecast((select s from t_a), (select p from t_a), 'seasonal_average', '2026-02-11',
                                                   lookback_cycles => 12, trim_outliers => true) union all
select 'p2_naive', api.explain_forecast((select s from t_a), (select p2 from t_a), 'naive', '2026-01-10') union all
select 'p2_moving_average', api.explain_forecast((select s from t_a), (select p2 from t_a), 'moving_average', '2026-01-10', window_size => 4);

select is((select answer - 'generated_at' - 'drivers' - 'reason_codes' - 'caveats' - 'agent_summary' from t_ex where name = 'naive'),
  jsonb_build_object('store_id', (select s from t_a), 'product_id', (select p from t_a), 'model_type', 'naive', 'method', 'rule_based',
                     'forecast_value', 33, 'confidence', 'medium', 'as_of_date', '2026-02-11'),
  'the explanation''s scalar fields: naive forecasts the last day, 10 + 18 + 5');
select ok((select answer ->> 'generated_at' ~ '^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$' from t_ex where name = 'naive'), 'generated_at is an ISO instant');
select is((select pg_temp.drivers(answer) from t_ex where name = 'naive'), array['last_observation', 'recent_trend'], 'naive: last_observation and recent_trend');
select is((select pg_temp.driver(answer, 'recent_trend') - 'description' from t_ex where name = 'naive'),
  '{"name": "recent_trend", "feature_value": 1, "contribution": 0, "direction": "positive"}'::jsonb,
  'recent_trend: mean of the last 7 (24) minus the mean of the 7 before (23), context only');
select is((select pg_temp.driver(answer, 'last_observation') - 'description' from t_ex where name = 'naive'),
  '{"name": "last_observation", "feature_value": 33, "contribution": 33, "direction": "positive"}'::jsonb, 'last_observation = y[-1] carries the forecast');
select is((select pg_temp.driver(answer, 'season_match') - 'description' from t_ex where name = 'seasonal_naive'),
  '{"name": "season_match", "feature_value": 15, "contribution": 15, "direction": "positive"}'::jsonb, 'seasonal_naive: season_match = y[-7] (day 35: 10 + 0 + 5)');
select is((select (pg_temp.driver(answer, 'season_match') ->> 'feature_value')::double precision from t_ex where name = 'seasonal_naive_30'),
  26::double precision, 'season_length 30: y[-30] (day 12: 10 + 15 + 1)');
select is((select array[pg_temp.driver(answer, 'window_mean') - 'description', pg_temp.driver(answer, 'window_dispersion') - 'description'] from t_ex where name = 'moving_average'),
  array['{"name": "window_mean", "feature_value": 24, "contribution": 24, "direction": "positive"}',
        '{"name": "window_dispersion", "feature_value": 6, "contribution": 0, "direction": "neutral"}']::jsonb[],
  'moving_average: window_mean of days 35..41 (24) and their population std (3 · 2)');
select ok((select abs((pg_temp.driver(answer, 'window_dispersion') ->> 'feature_value')::double precision - 3 * sqrt(2.0 / 3)) < 1e-12
             and (answer ->> 'forecast_value')::double precision = 30 from t_ex where name = 'moving_average_3'),
  'window_size 3: mean 30 of 27, 30, 33, std 3·√(2/3)');
select is((select array[pg_temp.driver(answer, 'weighted_window_mean') - 'description', pg_temp.driver(answer, 'window_dispersion') - 'description'] from t_ex where name = 'weighted_moving_average'),
  array['{"name": "weighted_window_mean", "feature_value": 27, "contribution": 27, "direction": "positive"}',
        '{"name": "window_dispersion", "feature_value": 6, "contribution": 0, "direction": "neutral"}']::jsonb[],
  'weighted_moving_average: linear weights 1..7 over 15, 18, …, 33 give (15·28 + 3·112) / 28 = 27');
select ok((select abs((answer ->> 'forecast_value')::double precision - (27 * 0.25 + 30 * 0.5 + 33) / 1.75) < 1e-12 from t_ex where name = 'weighted_moving_average_exp'),
  'exponential weights 0.25, 0.5, 1 over 27, 30, 33');
select is((select array[pg_temp.driver(answer, 'seasonal_window_mean') ->> 'feature_value', pg_temp.driver(answer, 'seasonal_window_mean') ->> 'contribution',
                        pg_temp.driver(answer, 'sample_dispersion') ->> 'contribution'] from t_ex where name = 'seasonal_average'),
  array['13.5', '13.5', '0'], 'seasonal_average: the mean of days 35, 28, 21, 14 (15, 14, 13, 12)');
select ok((select abs((pg_temp.driver(answer, 'sample_dispersion') ->> 'feature_value')::double precision - sqrt(1.25)) < 1e-12 from t_ex where name = 'seasonal_average'),
  'sample_dispersion: their population std, √1.25');
select is((select (answer ->> 'forecast_value')::double precision from t_ex where name = 'seasonal_average_12'), 12.5::double precision,
  'lookback 12 on 42 days: six samples 15 … 10, trimmed to 14 … 11, mean 12.5');
select is((select count(*)::integer from t_ex where pg_temp.contributions(answer) = (answer ->> 'forecast_value')::double precision),
  (select count(*)::integer from t_ex), 'every explanation''s contributions sum to its forecast_value');
select is((select count(*)::integer from t_ex, jsonb_array_elements(answer -> 'drivers') d
            where d ->> 'name' in ('recent_trend', 'window_dispersion', 'sample_dispersion') and (d ->> 'contribution')::double precision <> 0),
  0, 'context drivers carry 0');
select is((select pg_temp.drivers(answer) from t_ex where name = 'p2_naive'), array['last_observation'], 'no recent_trend under 14 observations');

-- ── The forecast is train + predict's first forecast ─────────────────────────────────────────────
select tests.as_member((select a from t_ids), 'admin');
create temp table t_trained as
select x.name, x.config, api.forecasting_train((select s from t_a), (select p from t_a), '2026-01-01', '2026-02-11', x.config) ->> 'model_path' as path
  from (values ('naive', '{"model_type": "naive"}'::jsonb), ('seasonal_naive_30', '{"model_type": "seasonal_naive", "season_length": 30}'),
               ('moving_average_3', '{"model_type": "moving_average", "window_size": 3}'),
               ('weighted_moving_average_exp', '{"model_type": "weighted_moving_average", "window_size": 3, "weight_strategy": "exponential", "decay": 0.5}'),
               ('seasonal_average_12', '{"model_type": "seasonal_average", "lookback_cycles": 12, "trim_outliers": true}')) x(name, config);
grant select on t_trained to authenticated, service_role;
select is((select array_agg((e.answer ->> 'forecast_value')::double precision order by t.name) from t_trained t join t_ex e using (name)),
  (select array_agg((api.forecasting_predict((select s from t_a), (select p from t_a), 1, t.path) #>> '{forecasts,0,forecast}')::double precision order by t.name) from t_trained t),
  'each model''s forecast_value is what forecasting_train + forecasting_predict give for the same config and window');
select is((select api.forecasting_predict((select s from t_a), (select p from t_a), 1, path) #>> '{forecasts,0,date}' from t_trained where name = 'naive'),
  '2026-02-12', 'for the same forecast date, as_of_date + 1');

-- ── Confidence ───────────────────────────────────────────────────────────────────────────────────
select tests.as_member((select a from t_ids), 'viewer');
select is(array(select answer ->> 'confidence' from t_ex where name in ('naive', 'p2_naive') order by name), array['medium', 'low'],
  'naive: medium from 14 observations, low under (10)');
select is(array(select answer ->> 'confidence' from t_ex where name in ('seasonal_naive', 'seasonal_naive_30') order by name), array['medium', 'low'],
  'seasonal_naive: medium from 2·m observations (42 ≥ 14), low under (42 < 60)');
select is(array(select answer ->> 'confidence' from t_ex where name in ('moving_average', 'moving_average_3', 'weighted_moving_average', 'p2_moving_average') order by name),
  array['high', 'high', 'medium', 'high'], 'the moving averages: high when std / mean < 0.5 (6/24), medium when not (1, 9, 1, 9: 4/5)');
select is(array(select answer ->> 'confidence' from t_ex where name in ('seasonal_average', 'seasonal_average_12') order by name), array['medium', 'low'],
  'seasonal_average: medium from m·lookback_cycles observations (42 ≥ 28), low under (42 < 84)');
select is(array(select pg_temp.codes(answer)::text from t_ex where name in ('p2_naive', 'seasonal_naive_30', 'seasonal_average_12', 'naive') order by name),
  array['{}', '{insufficient_history}', '{insufficient_history}', '{insufficient_history}'], 'insufficient_history (warn) exactly when the history is short');
select is((select answer -> 'reason_codes' -> 0 ->> 'severity' from t_ex where name = 'p2_naive'), 'warn', 'insufficient_history is a warning');
select is((select jsonb_array_length(answer -> 'caveats') from t_ex where name = 'p2_naive'), 3, 'a short history adds a caveat');
select is(array(select answer -> 'caveats' ->> 0 from t_ex where name in ('naive', 'seasonal_average') order by name),
  array['Drivers and reason codes are rule-based and describe correlations in the sales history, not causes.',
        'Drivers and reason codes are rule-based and describe correlations in the sales history, not causes.'],
  'caveats start with the correlation-not-causation sentence');
select is((select count(distinct answer -> 'caveats' ->> 1)::integer from t_ex where name in ('naive', 'seasonal_naive', 'moving_average', 'weighted_moving_average', 'seasonal_average')),
  5, 'then a caveat of the model''s own');
select ok((select answer ->> 'agent_summary' like 'naive forecasts 33.00 for store %, product % on 2026-02-12 (medium confidence%' from t_ex where name = 'naive'),
  'the agent summary names the model, the value, the date and the confidence');

-- ── Reason codes ─────────────────────────────────────────────────────────────────────────────────
-- In the trailing 28 days (2026-01-15 … 2026-02-11) of S1 / P1: a stockout day on 2026-02-01 (and a
-- stocked day); a promotion at S1 on 2026-02-05 … 2026-02-20 (active on as_of) and a chain-wide one
-- on 2026-01-10 … 2026-01-16 (overlapping, not active); one on 2026-01-01 … 2026-01-14 (before the
-- window). A holiday for every store on 2026-02-12 (the forecast date); launched 2026-02-01 (10 days).
-- A stockout row of account A on B's store and product, which B must not see.
select tests.clear_authentication();
insert into forecast.inventory_snapshot_daily (account_id, store_id, product_id, date, on_hand_qty, is_stockout)
select (select a from t_ids), s, p, date '2026-02-01', 0, true from t_a union all
select (select a from t_ids), s, p, '2026-02-02', 5, false from t_a union all
select (select a from t_ids), bs, bp, '2026-02-01', 0, true from t_a;
insert into forecast.promotions (account_id, product_id, store_id, start_date, end_date, discount_pct)
select (select a from t_ids), p, s, date '2026-02-05', date '2026-02-20', 10 from t_a union all
select (select a from t_ids), p, null, date '2026-01-10', date '2026-01-16', 20 from t_a union all
select (select a from t_ids), p, null, date '2026-01-01', date '2026-01-14', 20 from t_a;
insert into forecast.exogenous_signals (account_id, store_id, date, signal_type, value, label)
select (select a from t_ids), null::bigint, date '2026-02-12', 'holiday', 1, 'Planted day' from t_a;
insert into forecast.product_lifecycle (account_id, product_id, stage, start_date) select (select a from t_ids), p, 'launch', '2026-02-01' from t_a;
select tests.as_member((select a from t_ids), 'viewer');
insert into t_ex
select 'coded', api.explain_forecast((select s from t_a), (select p from t_a), 'moving_average', '2026-02-11') union all
select 'coded_s2', api.explain_forecast((select s2 from t_a), (select p from t_a), 'moving_average', '2026-02-11') union all
select 'coded_naive', api.explain_forecast((select s from t_a), (select p from t_a), 'naive', '2026-02-11');
select is((select pg_temp.codes(answer) from t_ex where name = 'coded'),
  array['stockout_constrained', 'promotion_overlap', 'holiday_effect', 'lifecycle_decay'], 'S1: every planted code, in the contract''s order');
select is((select array(select c - 'detail' from jsonb_array_elements(answer -> 'reason_codes') c) from t_ex where name = 'coded'),
  array['{"code": "stockout_constrained", "severity": "warn"}', '{"code": "promotion_overlap", "severity": "info"}',
        '{"code": "holiday_effect", "severity": "info"}', '{"code": "lifecycle_decay", "severity": "info"}']::jsonb[],
  'stockouts warn; promotions, holidays and launches inform');
select ok((select answer #>> '{reason_codes,0,detail}' like '1 stockout day(s)%' from t_ex where name = 'coded'), 'the stockout detail counts the days');
select ok((select answer #>> '{reason_codes,1,detail}' like '2 promotion(s) overlap 2026-01-15 to 2026-02-11; 1 active on 2026-02-11' from t_ex where name = 'coded'),
  'the promotion detail counts the overlapping promotions and those active on as_of');
select ok((select answer #>> '{reason_codes,2,detail}' like '%2026-02-12 is a holiday (Planted day)%'
              and answer #>> '{reason_codes,3,detail}' like '%2026-02-01, 10 day(s) before%' from t_ex where name = 'coded'),
  'the holiday and launch details name their dates');
select is((select answer -> 'caveats' ->> 2 from t_ex where name = 'coded'),
  'Stockout days in the trailing window understate demand: the forecast may be too low.', 'a stockout adds its caveat');
select is((select pg_temp.codes(answer) from t_ex where name = 'coded_s2'),
  array['promotion_overlap', 'holiday_effect', 'lifecycle_decay'], 'S2: no stockout of its own, only the chain-wide promotion');
select ok((select answer #>> '{reason_codes,0,detail}' like '1 promotion(s)%; 0 active%' from t_ex where name = 'coded_s2'), 'S2 counts only the chain-wide promotion');
select is((select (answer - 'generated_at' - 'reason_codes' - 'caveats' - 'agent_summary') = ((select answer from t_ex where name = 'moving_average') - 'generated_at' - 'reason_codes' - 'caveats' - 'agent_summary')
             from t_ex where name = 'coded'), true, 'reason codes are advisory: the forecast and drivers do not change');
select is(array[pg_temp.codes(api.explain_forecast((select s from t_a), (select p from t_a), 'naive', '2026-03-02'))::text,
                pg_temp.codes(api.explain_forecast((select s from t_a), (select p from t_a), 'naive', '2026-03-03'))::text],
  array['{promotion_overlap,lifecycle_decay}', '{promotion_overlap}'], 'a launch 29 days before as_of is recent, 30 days is not');
select is(pg_temp.codes(api.explain_forecast((select s from t_a), (select p from t_a), 'naive', '2026-02-10')),
  array['stockout_constrained', 'promotion_overlap', 'lifecycle_decay'], 'no holiday_effect when the forecast date is not a holiday');
select is(pg_temp.codes(api.explain_forecast((select s from t_a), (select p from t_a), 'naive', '2026-01-31')),
  array['promotion_overlap'], 'nothing dated after as_of_date is read: the stockout, the later promotion and the launch are not seen');

-- ── Time safety: rows planted after as_of_date change nothing ────────────────────────────────────
select tests.clear_authentication();
insert into forecast.sales_daily (account_id, store_id, product_id, date, quantity, unit_price, total_amount)
select (select a from t_ids), s, p, date '2026-02-12' + i, 1000, 1, 0 from t_a, generate_series(0, 6) i;
insert into forecast.inventory_snapshot_daily (account_id, store_id, product_id, date, on_hand_qty, is_stockout)
select (select a from t_ids), s2, p, '2026-02-12', 0, true from t_a;
insert into forecast.promotions (account_id, product_id, store_id, start_date, end_date, discount_pct)
select (select a from t_ids), p, s2, date '2026-02-12', date '2026-02-14', 50 from t_a;
insert into forecast.exogenous_signals (account_id, store_id, date, signal_type, value)
select (select a from t_ids), s2, date '2026-02-13', 'holiday', 1 from t_a;
insert into forecast.product_lifecycle (account_id, product_id, stage, start_date) select (select a from t_ids), p, 'launch', '2026-02-12' from t_a;
select tests.as_member((select a from t_ids), 'viewer');
select is((select count(*)::integer from t_ex e
            where e.name in ('coded', 'coded_s2', 'coded_naive')
              and (e.answer - 'generated_at') = (case e.name
                     when 'coded' then api.explain_forecast((select s from t_a), (select p from t_a), 'moving_average', '2026-02-11')
                     when 'coded_s2' then api.explain_forecast((select s2 from t_a), (select p from t_a), 'moving_average', '2026-02-11')
                     else api.explain_forecast((select s from t_a), (select p from t_a), 'naive', '2026-02-11') end) - 'generated_at'),
  3, 'sales, stockouts, promotions, holidays and launches dated after as_of_date (the forecast date''s holiday aside) change nothing');

-- ── 422, 400, 404 ────────────────────────────────────────────────────────────────────────────────
select is(tests.error_of($$select api.explain_forecast()$$) -> 'errors',
  '[{"field": "store_id", "message": "Field required", "type": "missing"}, {"field": "product_id", "message": "Field required", "type": "missing"},
    {"field": "model_type", "message": "Field required", "type": "missing"}, {"field": "as_of_date", "message": "Field required", "type": "missing"}]'::jsonb,
  'every missing field, one 422');
select is(tests.error_of($$select api.explain_forecast((select s from t_a), (select p from t_a), 'arima', '2026-02-11')$$) #>> '{errors,0,type}',
  'literal_error', 'an unknown model_type is a 422');
select is(array(select e ->> 'field' from jsonb_array_elements(tests.error_of($$select api.explain_forecast(0, (select p from t_a), 'naive', '2026-02-11',
            season_length => 366, window_size => 0, weight_strategy => 'cubic', decay => 1, lookback_cycles => 1)$$) -> 'errors') e),
  array['store_id', 'season_length', 'window_size', 'weight_strategy', 'decay', 'lookback_cycles'], 'each out-of-bounds field, one 422');
select is(array[tests.error_of($$select api.explain_forecast((select s from t_a), (select p from t_a), 'weighted_moving_average', '2026-02-11', window_size => 1)$$) #>> '{errors,0,field}',
                tests.error_of($$select api.explain_forecast((select s from t_a), (select p from t_a), 'seasonal_average', '2026-02-11', season_length => 1)$$) #>> '{errors,0,field}',
                tests.error_of($$select api.explain_forecast((select s from t_a), (select p from t_a), 'moving_average', '2026-02-11', decay => 0)$$) ->> 'sqlstate'],
  array['window_size', 'season_length', '22023'], 'the model''s own bounds (a weighted window of 2, a season of 2) and decay > 0 are 422s too');
select is(array(select tests.error_of(format('select api.explain_forecast(%s, %s, %L, %L)', (select s from t_a), (select p from t_a), t, '2026-02-11')) ->> 'sqlstate'
                  from unnest(array['trend_regression_baseline', 'regression', 'prophet_like', 'lightgbm']) t),
  array['PT400', 'PT400', 'PT400', 'PT400'], 'a model type /explain does not serve is a 400');
select is(tests.error_of($$select api.explain_forecast((select s from t_a), (select p2 from t_a), 'moving_average', '2026-01-05')$$) ->> 'message',
  'moving_average needs at least 7 observations in the training window, found 5', 'a series too short for the model is a 400');
select is(tests.error_of($$select api.explain_forecast((select s from t_a), (select p from t_a), 'naive', '2025-12-31')$$) ->> 'sqlstate',
  'PT400', 'no sales up to as_of_date is a 400, as training''s empty window');
select is(array[tests.error_of($$select api.explain_forecast((select bs from t_a), (select p from t_a), 'naive', '2026-02-11')$$) ->> 'sqlstate',
                tests.error_of($$select api.explain_forecast((select s from t_a), (select bp from t_a), 'naive', '2026-02-11')$$) ->> 'sqlstate',
                tests.error_of($$select api.explain_forecast((select s from t_a), 999999999, 'naive', '2026-02-11')$$) ->> 'sqlstate'],
  array['PT404', 'PT404', 'PT404'], 'another account''s store or product, or an unknown one, is a 404');

-- ── Two tenants ──────────────────────────────────────────────────────────────────────────────────
select tests.as_member((select b from t_ids), 'viewer');
select is(tests.error_of($$select api.explain_forecast((select s from t_a), (select p from t_a), 'naive', '2026-02-11')$$) ->> 'sqlstate',
  'PT404', 'B cannot explain A''s store and product');
select is((select array[answer ->> 'forecast_value', (pg_temp.codes(answer))::text]
             from (select api.explain_forecast((select bs from t_a), (select bp from t_a), 'naive', '2026-02-11') as answer) x),
  array['6', '{}'], 'B explains its own series (day 41: 4 + 2) and sees no reason code planted by A');

-- ── Registry runs ────────────────────────────────────────────────────────────────────────────────
select tests.as_member((select a from t_ids), 'admin');
create temp table t_runs as
select 'wma' as name, api.registry_create_run('weighted_moving_average', '{"window_size": 7, "weight_strategy": "linear", "note": "ignored"}',
                                              '2026-01-01', '2026-02-11', (select s from t_a), (select p from t_a)) ->> 'run_id' as run_id
union all select 'late', api.registry_create_run('naive', '{}', '2026-01-29', '2026-02-11', (select s from t_a), (select p from t_a)) ->> 'run_id'
union all select 'ridge', api.registry_create_run('trend_regression_baseline', '{}', '2026-01-01', '2026-02-11', (select s from t_a), (select p from t_a)) ->> 'run_id'
union all select 'bad', api.registry_create_run('moving_average', '{"window_size": 0}', '2026-01-01', '2026-02-11', (select s from t_a), (select p from t_a)) ->> 'run_id';
grant select on t_runs to authenticated, service_role;
select tests.as_member((select a from t_ids), 'viewer');
select is((select api.explain_run(run_id) - 'generated_at' from t_runs where name = 'wma'),
  api.explain_forecast((select s from t_a), (select p from t_a), 'weighted_moving_average', '2026-02-11', window_size => 7) - 'generated_at',
  'a run is explained with its model_type, model_config, store, product and cutoff data_window_end (other config keys ignored)');
select is((select array[answer ->> 'forecast_value', answer ->> 'confidence', pg_temp.drivers(answer)::text]
             from t_runs, lateral (select api.explain_run(run_id) as answer) x where name = 'late'),
  array['33', 'medium', '{last_observation,recent_trend}'], 'the run''s window starts the series: 14 days from 2026-01-29');
select is(array(select tests.error_of(format('select api.explain_run(%L)', run_id)) ->> 'sqlstate' from t_runs where name in ('ridge', 'bad') order by name),
  array['PT400', 'PT400'], 'a non-baseline run, or a config the model refuses, is a 400');
select is(tests.error_of($$select api.explain_run('0123456789abcdef0123456789abcdef')$$) ->> 'sqlstate', 'PT404', 'an unknown run is a 404');
select tests.as_member((select b from t_ids), 'viewer');
select is((select tests.error_of(format('select api.explain_run(%L)', run_id)) ->> 'sqlstate' from t_runs where name = 'wma'),
  'PT404', 'another account''s run is a 404');

-- ── Routes ───────────────────────────────────────────────────────────────────────────────────────
select tests.clear_authentication();
select is(array(select method || ' ' || path || ' ' || function_name || ' ' || rate_policy from gateway.routes where tag = 'forecastlab-explain' order by path),
  array['POST /explain/forecast explain_forecast forecastlab-models-read', 'GET /explain/jobs/{job_id} explain_job forecastlab-models-read',
        'GET /explain/runs/{run_id} explain_run forecastlab-models-read'],
  'the three explain routes, open to every member');

select * from finish();
rollback;
