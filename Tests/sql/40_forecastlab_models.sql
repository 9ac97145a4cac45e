-- ForecastLab models (docs/forecastlab-models.md): the registry (runs, the status machine,
-- duplicates detected, verify, aliases, compare), artifacts as rows (only the caller's own
-- artifacts/models/model_<key>.joblib resolves), training and prediction of the six target-only
-- models against hand-computed forecasts, every 4xx, two tenants, the missing-PL/Python path and
-- the metrics. The numerical reference check is bench/reference/check_models.py.
begin;
select plan(128);

create temp table t_ids as select
  'f1000000-0000-4000-8000-00000000000a'::uuid as a, 'f1000000-0000-4000-8000-00000000000b'::uuid as b;
grant select on t_ids to authenticated, service_role;
create function pg_temp.fields(call text) returns text[] language sql as $$
  select array(select e ->> 'field' from jsonb_array_elements(tests.error_of(call) -> 'errors') e)
$$;
create function pg_temp.status() returns text language sql as $$ select current_setting('response.status', true) $$;
create function pg_temp.values_of(answer jsonb) returns double precision[] language sql as $$
  select array(select (f ->> 'forecast')::double precision from jsonb_array_elements(answer -> 'forecasts') f)
$$;
grant execute on all functions in schema pg_temp to authenticated, service_role;

-- Account A: store S1; product P1 with 28 days from 2026-01-01, q_i = 10 + 2·(i mod 7) + i div 7, but
-- q_14 = 100 (an outlier); product P2 with y = 2t + 5 over 20 days (an exact line). Account B: a
-- store and product of its own with a few sales.
insert into forecast.stores (account_id, store_code, name) select a, 'S1', 'A store' from t_ids;
insert into forecast.products (account_id, sku, name, base_price) select a, 'P1', 'A one', 1 from t_ids union all select a, 'P2', 'A two', 1 from t_ids;
insert into forecast.stores (account_id, store_code, name) select b, 'S1', 'B store' from t_ids;
insert into forecast.products (account_id, sku, name, base_price) select b, 'P1', 'B one', 1 from t_ids;
create temp table t_a as select
  (select id from forecast.stores where account_id = (select a from t_ids)) as s,
  (select id from forecast.products where account_id = (select a from t_ids) and sku = 'P1') as p1,
  (select id from forecast.products where account_id = (select a from t_ids) and sku = 'P2') as p2,
  (select id from forecast.stores where account_id = (select b from t_ids)) as bs,
  (select id from forecast.products where account_id = (select b from t_ids)) as bp;
grant select on t_a to authenticated, service_role;
insert into forecast.sales_daily (account_id, store_id, product_id, date, quantity, unit_price, total_amount)
select (select a from t_ids), s, p1, date '2026-01-01' + i, q, 1, q
  from t_a, generate_series(0, 27) i, lateral (select case when i = 14 then 100 else 10 + 2 * (i % 7) + i / 7 end as q) x
union all
select (select a from t_ids), s, p2, date '2026-01-01' + i, 2 * i + 5, 1, 2 * i + 5 from t_a, generate_series(0, 19) i
union all
select (select b from t_ids), bs, bp, date '2026-01-01' + i, 3, 1, 3 from t_a, generate_series(0, 27) i;

create temp table t_runs (name text primary key, run_id text, answer jsonb);
create temp table t_models (name text primary key, answer jsonb);
grant all on t_runs, t_models to authenticated, service_role;

-- ── Unit ───────────────────────────────────────────────────────────────────────────────────────
select is((select count(*)::integer from gateway.routes where unit = 'forecastlab-models'), 28, 'the unit declares its 28 routes');
select is((select error_style from gateway.units where name = 'forecastlab-models'), 'fastapi', 'in the FastAPI error style');
select ok((select bool_and(c.relrowsecurity and c.relforcerowsecurity) from pg_class c
            where c.relnamespace = 'forecast_models'::regnamespace and c.relkind = 'r'), 'every table has RLS enabled and forced');

-- ── Training ───────────────────────────────────────────────────────────────────────────────────
select tests.as_member((select a from t_ids), 'viewer');
select throws_ok($$select api.forecasting_train((select s from t_a), (select p1 from t_a), '2026-01-01', '2026-01-28', '{"model_type": "naive"}')$$,
  '42501', null, 'a viewer cannot train');
select tests.as_member((select a from t_ids), 'admin');
insert into t_models
select name, api.forecasting_train((select s from t_a), (select p1 from t_a), '2026-01-01', '2026-01-28', config::jsonb)
  from (values ('naive', '{"model_type": "naive"}'),
               ('seasonal_naive', '{"model_type": "seasonal_naive"}'),
               ('moving_average', '{"model_type": "moving_average", "window_size": 4}'),
               ('wma_linear', '{"model_type": "weighted_moving_average", "window_size": 3}'),
               ('wma_exponential', '{"model_type": "weighted_moving_average", "window_size": 2, "weight_strategy": "exponential", "decay": 0.5}'),
               ('seasonal_average', '{"model_type": "seasonal_average"}'),
               ('seasonal_average_trim', '{"model_type": "seasonal_average", "trim_outliers": true}'),
               ('seasonal_average_3', '{"model_type": "seasonal_average", "lookback_cycles": 3}')) c(name, config);
insert into t_models values ('ridge_line', api.forecasting_train((select s from t_a), (select p2 from t_a), '2026-01-01', '2026-01-31',
  '{"model_type": "trend_regression_baseline", "alpha": 0, "include_dow": false, "include_month": false}'));
insert into t_models values ('ridge_default', api.forecasting_train((select s from t_a), (select p1 from t_a), '2026-01-01', '2026-01-28',
  '{"model_type": "trend_regression_baseline"}'));
create temp table t_naive as select answer from t_models where name = 'naive';
grant select on t_naive to authenticated, service_role;

select ok((select answer ->> 'model_path' from t_naive) ~ '^artifacts/models/model_[0-9a-f]{12}\.joblib$', 'model_path keeps upstream''s shape');
select is((select answer - 'model_path' - 'duration_ms' - 'artifact_hash' - 'artifact_size_bytes' from t_naive),
  jsonb_build_object('store_id', (select s from t_a), 'product_id', (select p1 from t_a), 'model_type', 'naive',
                     'config_hash', forecast_models.config_hash('{"model_type": "naive", "schema_version": "1.0"}'),
                     'n_observations', 28, 'train_start_date', '2026-01-01', 'train_end_date', '2026-01-28'),
  'the train answer: store, product, type, config_hash of the normalized config, n_observations, window');
select is((select answer -> 'n_observations' from t_models where name = 'ridge_line'), '20', 'rows as stored: 20 days in a 31-day window');
select is((select a.sha256 = encode(sha256(a.content), 'hex') and a.size_bytes = octet_length(a.content) and a.account_id = (select a from t_ids)
             from forecast_models.artifacts a where forecast_models.artifact_path(a.artifact_key) = (select answer ->> 'model_path' from t_naive)),
  true, 'the artifact is a row of the account: bytes, their SHA-256 and size');
select is((select convert_from(a.content, 'UTF8')::jsonb -> 'state' from forecast_models.artifacts a
            where forecast_models.artifact_path(a.artifact_key) = (select answer ->> 'model_path' from t_models where name = 'moving_average')),
  '{"window": [19, 21, 23, 25]}', 'a SQL baseline''s artifact keeps what predict needs: the last window');
select is((select jsonb_array_length(convert_from(a.content, 'UTF8')::jsonb #> '{state,coefficients}') from forecast_models.artifacts a
            where forecast_models.artifact_path(a.artifact_key) = (select answer ->> 'model_path' from t_models where name = 'ridge_default')),
  21, 'the ridge''s artifact keeps its coefficients: intercept, trend, 7 weekdays, 12 months');

-- The forecasts, computed by hand from the series.
select tests.as_member((select a from t_ids), 'viewer');
create function pg_temp.predict(name text, horizon integer default 3) returns jsonb language sql as $$
  select api.forecasting_predict((select s from t_a), (select case when name like 'ridge_line' then p2 else p1 end from t_a), horizon,
                                 (select answer ->> 'model_path' from t_models m where m.name = predict.name))
$$;
grant execute on function pg_temp.predict(text, integer) to authenticated, service_role;
select is(pg_temp.predict('naive') - 'duration_ms',
  jsonb_build_object('store_id', (select s from t_a), 'product_id', (select p1 from t_a), 'horizon', 3, 'model_type', 'naive',
                     'config_hash', (select answer ->> 'config_hash' from t_naive),
                     'forecasts', '[{"date": "2026-01-29", "forecast": 25}, {"date": "2026-01-30", "forecast": 25}, {"date": "2026-01-31", "forecast": 25}]'::jsonb),
  'a member predicts: naive repeats the last value from the day after train_end_date');
select is(pg_temp.values_of(pg_temp.predict('seasonal_naive', 9)), '{13,15,17,19,21,23,25,13,15}', 'seasonal_naive cycles the last 7 values');
select is(pg_temp.values_of(pg_temp.predict('moving_average')), '{22,22,22}', 'moving_average: the mean of the last 4');
select is(pg_temp.values_of(pg_temp.predict('wma_linear', 1)), array[142.0 / 6]::double precision[], 'weighted_moving_average, linear weights 1, 2, 3');
select is(pg_temp.values_of(pg_temp.predict('wma_exponential', 1)), array[(0.5 * 23 + 25) / 1.5]::double precision[], '… exponential weights 0.5, 1');
select is(pg_temp.values_of(pg_temp.predict('seasonal_average', 2)), '{33.5,13.5}', 'seasonal_average: same weekday over 4 cycles (with the outlier)');
select is(pg_temp.values_of(pg_temp.predict('seasonal_average_trim', 2)), '{12,13.5}', '… trimmed: min and max dropped from 4 samples');
select is(pg_temp.values_of(pg_temp.predict('seasonal_average_3', 1)), '{41.333333333333336}', '… over 3 cycles');
select ok((select bool_and(abs(v - (67 + 2 * (i - 1))) < 1e-9) from unnest(pg_temp.values_of(pg_temp.predict('ridge_line', 4))) with ordinality u(v, i)),
  'trend_regression_baseline recovers an exact line (alpha 0, no calendar columns), from the day after train_end_date');
select is(jsonb_array_length(pg_temp.predict('ridge_default', 90) -> 'forecasts'), 90, 'the ridge with its calendar columns forecasts 90 days');

-- Training's 4xx.
select tests.as_member((select a from t_ids), 'admin');
select is(pg_temp.fields($$select api.forecasting_train((select s from t_a), (select p1 from t_a), '2026-01-28', '2026-01-28', '{"model_type": "naive"}')$$),
  '{train_end_date}', 'train_end_date must be strictly after train_start_date (422)');
select is(pg_temp.fields($$select api.forecasting_train(0, null, null, null, '{"model_type": "naive"}', 3, '{calendar}')$$),
  '{store_id,product_id,train_start_date,train_end_date,feature_frame_version,feature_groups}', 'every problem of the body at once');
select is(pg_temp.fields($$select api.forecasting_train((select s from t_a), (select p1 from t_a), '2026-01-01', '2026-01-28', '{"model_type": "naive"}', 1, '{calendar}')$$),
  '{feature_groups}', 'feature_groups only with feature_frame_version 2');
select is((tests.error_of($$select api.forecasting_train((select s from t_a), (select p1 from t_a), '2026-01-01', '2026-01-28', '{"model_type": "prophet"}')$$) #> '{errors,0}') - 'message',
  '{"field": "config.model_type", "type": "union_tag_invalid"}', 'an unknown model_type is a 422');
select is(tests.error_of($$select api.forecasting_train((select s from t_a), (select p1 from t_a), '2026-01-01', '2026-01-28', '{"window_size": 3}')$$) #>> '{errors,0,type}',
  'union_tag_not_found', 'a config without model_type is a 422');
select is(tests.error_of($$select api.forecasting_train((select s from t_a), (select p1 from t_a), '2026-01-01', '2026-01-28', '"naive"')$$) #>> '{errors,0,field}',
  'config', 'a config that is not an object is a 422');
select is(tests.error_of($$select api.forecasting_train((select s from t_a), (select p1 from t_a), '2026-01-01', '2026-01-28',
                                                            '{"model_type": "weighted_moving_average", "window_size": 1, "decay": 1, "weight_strategy": "cubic", "colour": 1}')$$) -> 'errors',
  '[{"field": "config.weighted_moving_average.colour", "message": "Extra inputs are not permitted", "type": "extra_forbidden"},
    {"field": "config.weighted_moving_average.decay", "message": "Input should be less than 1", "type": "less_than"},
    {"field": "config.weighted_moving_average.window_size", "message": "Input should be greater than or equal to 2", "type": "greater_than_equal"},
    {"field": "config.weighted_moving_average.weight_strategy", "message": "Input should be ''linear'' or ''exponential''", "type": "literal_error"}]',
  'parameters: unknown, bounds (exclusive and inclusive), literal');
select is(pg_temp.fields($$select api.forecasting_train((select s from t_a), (select p1 from t_a), '2026-01-01', '2026-01-28',
                                                           '{"model_type": "seasonal_average", "season_length": 7.5, "trim_outliers": "yes", "lookback_cycles": 13}')$$),
  '{config.seasonal_average.season_length,config.seasonal_average.trim_outliers,config.seasonal_average.lookback_cycles}',
  'strict types: 7.5 is no integer, "yes" no boolean; lookback_cycles at most 12');
select is(pg_temp.fields($$select api.forecasting_train((select s from t_a), (select p1 from t_a), '2026-01-01', '2026-01-28',
                                                           '{"model_type": "trend_regression_baseline", "alpha": 1001, "include_dow": null}')$$),
  '{config.trend_regression_baseline.alpha,config.trend_regression_baseline.include_dow}', 'alpha at most 1000; null is no boolean');
select is(tests.error_of($$select api.forecasting_train((select s from t_a), (select p1 from t_a), '2026-01-01', '2026-01-28', '{"model_type": "lightgbm"}')$$) - 'errors',
  '{"sqlstate": "PT400", "message": "model_type lightgbm is disabled: it needs the setting forecast_enable_lightgbm (forecastlab.forecast_enable_lightgbm) to be on"}',
  'an opt-in model whose flag is off is a 400 naming the flag');
select is(tests.error_of($$select api.forecasting_train((select s from t_a), (select p1 from t_a), '2026-01-01', '2026-01-28', '{"model_type": "seasonal_naive", "season_length": 60}')$$),
  '{"sqlstate": "PT400", "message": "seasonal_naive needs at least 60 observations in the training window, found 28", "errors": null}', 'too little data is a 400');
select is(tests.error_of($$select api.forecasting_train((select s from t_a), (select p1 from t_a), '2025-01-01', '2025-12-31', '{"model_type": "naive"}')$$) ->> 'sqlstate',
  'PT400', 'no sales in the window is a 400');
select is(tests.error_of($$select api.forecasting_train((select bs from t_a), (select p1 from t_a), '2026-01-01', '2026-01-28', '{"model_type": "naive"}')$$) ->> 'message',
  format('Store %s not found', (select bs from t_a)), 'another account''s store is a 404');
select is(tests.error_of($$select api.forecasting_train((select s from t_a), (select bp from t_a), '2026-01-01', '2026-01-28', '{"model_type": "naive"}')$$) ->> 'sqlstate',
  'PT404', 'another account''s product is a 404');

-- Prediction's 4xx.
select tests.as_member((select a from t_ids), 'viewer');
select is(pg_temp.fields($$select api.forecasting_predict(0, (select p1 from t_a), 91, null)$$), '{store_id,horizon,model_path}', 'predict''s body: ids, horizon 1..90, model_path');
select is(pg_temp.fields($$select api.forecasting_predict((select s from t_a), (select p1 from t_a), 0, (select answer ->> 'model_path' from t_naive))$$), '{horizon}', 'horizon 0 is a 422');
select is(tests.error_of(format('select api.forecasting_predict(%s, %s, 3, %L)', (select s from t_a), (select p1 from t_a), path)) ->> 'sqlstate', 'PT400',
          format('%s is a 400, never a file read', path))
  from unnest(array['/etc/passwd', '../../etc/passwd.joblib', 'artifacts/models/model_' || substring((select answer ->> 'model_path' from t_naive) from 'model_([0-9a-f]{12})') || '.pkl',
                    '/srv/' || (select answer ->> 'model_path' from t_naive), 'artifacts/models/../models/model_0123456789ab.joblib',
                    'artifacts/models/model_0123456789AB.joblib']) path;
select is(tests.error_of(format('select api.forecasting_predict(%s, %s, 3, %L)', (select s from t_a), (select p1 from t_a), './' || (select answer ->> 'model_path' from t_naive))) , null,
  'upstream''s ./ prefix names the same artifact');
select is(tests.error_of($$select api.forecasting_predict((select s from t_a), (select p1 from t_a), 3, 'artifacts/models/model_0123456789ab.joblib')$$),
  '{"sqlstate": "PT404", "message": "Model artifact not found: artifacts/models/model_0123456789ab.joblib", "errors": null}', 'an unknown key is a 404');
select is(tests.error_of($$select api.forecasting_predict((select s from t_a), (select p2 from t_a), 3, (select answer ->> 'model_path' from t_naive))$$) ->> 'sqlstate',
  'PT400', 'a model trained for another product is a 400');
select tests.as_member((select b from t_ids), 'admin');
select is(tests.error_of($$select api.forecasting_predict((select s from t_a), (select p1 from t_a), 3, (select answer ->> 'model_path' from t_naive))$$) ->> 'sqlstate',
  'PT404', 'another account''s model_path is a 404');
select is_empty($$select 1 from forecast_models.artifacts where account_id = (select a from t_ids)$$, 'another account reads none of A''s artifacts');
select throws_ok($$insert into forecast_models.artifacts (account_id, artifact_key, model_type, store_id, product_id, config, config_hash, train_start_date, train_end_date, n_observations, content, sha256, size_bytes)
                   values ((select a from t_ids), '0123456789ab', 'naive', 1, 1, '{}', 'x', '2026-01-01', '2026-01-02', 1, '\x00', repeat('0', 64), 1)$$,
  '42501', null, 'nor writes an artifact into A''s account');
select tests.as_member((select a from t_ids), 'admin');
select throws_ok($$update forecast_models.artifacts set content = '\x00'$$, '42501', null, 'nobody updates an artifact (no grant, no policy)');

-- ── Registry: runs ─────────────────────────────────────────────────────────────────────────────
select tests.as_member((select a from t_ids), 'viewer');
select throws_ok($$select api.registry_create_run('naive', '{}', '2026-01-01', '2026-01-28', 1, 1)$$, '42501', null, 'a viewer cannot create a run');
select tests.as_member((select a from t_ids), 'admin');
insert into t_runs select 'first', r ->> 'run_id', r
  from api.registry_create_run('naive', '{"model_type": "naive", "window": [1, 2.5], "a": "x"}', '2026-01-01', '2026-01-28', (select s from t_a), (select p1 from t_a),
                               agent_context => '{"agent_id": "ag-1"}', git_sha => 'abc123', runtime_info_extras => '{"postgresql_version": "mine", "feature_frame_version": 1}') r;
select is(pg_temp.status(), '201', 'creating a run answers 201');
select ok((select run_id ~ '^[0-9a-f]{32}$' from t_runs where name = 'first'), 'run_id: 32 hex');
select is((select answer ->> 'status' from t_runs where name = 'first'), 'pending', 'a new run is pending');
select is((select answer ->> 'config_hash' from t_runs where name = 'first'),
  left(encode(sha256(convert_to('{"a": "x", "model_type": "naive", "window": [1, 2.5]}', 'UTF8')), 'hex'), 16),
  'config_hash: SHA-256 of json.dumps(model_config, sort_keys=True), 16 hex');
select is((select answer -> 'runtime_info' ->> 'postgresql_version' from t_runs where name = 'first'), 'mine', 'runtime_info_extras win over the captured runtime');
select is((select answer -> 'feature_frame_version' from t_runs where name = 'first'), '1', 'feature_frame_version is read from runtime_info');
select is((select answer ->> 'model_family' from t_runs where name = 'first'), 'baseline', 'model_family from the taxonomy');
select is((select answer -> 'duplicate_of' from t_runs where name = 'first'), '[]', 'the first of its kind duplicates nothing');
insert into t_runs select 'second', r ->> 'run_id', r
  from api.registry_create_run('naive', '{"a": "x", "window": [1, 2.5], "model_type": "naive"}', '2026-01-01', '2026-01-28', (select s from t_a), (select p1 from t_a)) r;
select is((select answer -> 'duplicate_of' from t_runs where name = 'second'), (select jsonb_build_array(run_id) from t_runs where name = 'first'),
  'policy detect: a duplicate is created and names the run it duplicates');
insert into t_runs select 'ridge', r ->> 'run_id', r
  from api.registry_create_run('trend_regression_baseline', '{"model_type": "trend_regression_baseline", "alpha": 2}', '2026-01-01', '2026-01-28', (select s from t_a), (select p2 from t_a)) r;
select is((select answer ->> 'model_family' from t_runs where name = 'ridge'), 'additive', 'trend_regression_baseline is additive');
select is(pg_temp.fields($$select api.registry_create_run('', '[]', '2026-02-01', '2026-01-01', 0, null, agent_context => '{"agent": 1}', git_sha => repeat('a', 41))$$),
  '{model_type,model_config,data_window_end,store_id,product_id,agent_context.agent,git_sha}', 'every problem of a run body at once (422)');

select tests.as_member((select a from t_ids), 'viewer');
select is((select (r ->> 'total')::integer from api.registry_list_runs() r), 3, 'a member lists the account''s runs');
select is((select jsonb_path_query_array(r, '$.runs[*].run_id') from api.registry_list_runs(page_size => 2) r),
  (select jsonb_agg(run_id order by array_position(array['ridge', 'second'], name)) from t_runs where name <> 'first'),
  'newest first (ties in created_at: the later run first), paged');
select is((select jsonb_path_query_array(r, '$.runs[*].model_type') from api.registry_list_runs(sort_by => 'model_type', sort_order => 'desc') r),
  '["trend_regression_baseline", "naive", "naive"]', 'sorted by an allow-listed column');
select is((select jsonb_path_query_array(r, '$.runs[*].run_id') from api.registry_list_runs(sort_by => 'account_id; drop table x', sort_order => 'asc') r),
  (select jsonb_agg(run_id order by array_position(array['ridge', 'second', 'first'], name)) from t_runs),
  'an unknown sort_by falls back to created_at desc');
select is((select (r ->> 'total')::integer from api.registry_list_runs(model_type => 'naive', product_id => (select p1 from t_a)) r), 2, 'filters');
select is(pg_temp.fields($$select api.registry_list_runs(page => 0, page_size => 101, status => 'done')$$), '{page,page_size,status}', 'page, page_size and status are checked (422)');
select is((select api.registry_get_run(run_id) ->> 'run_id' from t_runs where name = 'first'), (select run_id from t_runs where name = 'first'), 'get one run');
select is(tests.error_of($$select api.registry_get_run('0123456789abcdef0123456789abcdef')$$) ->> 'sqlstate', 'PT404', 'an unknown run is a 404');
select throws_ok(format('select api.registry_update_run(%L, status => ''running'')', (select run_id from t_runs where name = 'first')), '42501', null, 'a viewer cannot update a run');

-- The status machine.
select tests.as_member((select a from t_ids), 'admin');
select is(tests.error_of(format('select api.registry_update_run(%L, status => ''success'')', (select run_id from t_runs where name = 'first'))),
  '{"sqlstate": "PT400", "message": "Invalid status transition: pending -> success", "errors": null}', 'pending → success is a 400');
select is(tests.error_of(format('select api.registry_update_run(%L, status => ''pending'')', (select run_id from t_runs where name = 'first'))) ->> 'sqlstate',
  'PT400', 'staying pending is no transition');
select is(pg_temp.fields(format('select api.registry_update_run(%L, status => ''done'', metrics => ''[1]'', artifact_hash => ''xyz'', artifact_size_bytes => -1)', (select run_id from t_runs where name = 'first'))),
  '{status,metrics,artifact_hash,artifact_size_bytes}', 'a PATCH body''s problems (422)');
select is((select r ->> 'status' from api.registry_update_run((select run_id from t_runs where name = 'first'), status => 'running') r), 'running', 'pending → running');
select ok((select r ->> 'started_at' is not null and r ->> 'completed_at' is null from api.registry_get_run((select run_id from t_runs where name = 'first')) r),
  'running stamps started_at');
-- The artifact of a run: only the caller's own, by upstream's path shape.
select is(tests.error_of(format('select api.registry_update_run(%L, artifact_uri => %L)', (select run_id from t_runs where name = 'first'), '/tmp/model.joblib')) ->> 'sqlstate',
  'PT400', 'an artifact_uri of another shape is a 400');
select is(tests.error_of(format('select api.registry_update_run(%L, artifact_uri => %L)', (select run_id from t_runs where name = 'first'), 'artifacts/models/model_0123456789ab.joblib')) ->> 'sqlstate',
  'PT404', 'an unknown artifact is a 404');
update t_runs set answer = api.registry_update_run(run_id, status => 'success', metrics => '{"mae": 1.5, "wape": 10, "note": "x"}',
                                                   artifact_uri => (select answer ->> 'model_path' from t_naive))
 where name = 'first';
select is((select answer ->> 'status' from t_runs where name = 'first'), 'success', 'running → success');
select ok((select answer ->> 'completed_at' is not null from t_runs where name = 'first'), 'success stamps completed_at');
select is((select jsonb_build_array(answer -> 'artifact_hash', answer -> 'artifact_size_bytes', answer -> 'artifact_uri') from t_runs where name = 'first'),
  (select jsonb_build_array(a.sha256, a.size_bytes, forecast_models.artifact_path(a.artifact_key)) from forecast_models.artifacts a
    where forecast_models.artifact_path(a.artifact_key) = (select answer ->> 'model_path' from t_naive)),
  'the artifact''s hash and size are taken from its row');
select is(tests.error_of(format('select api.registry_update_run(%L, status => ''running'')', (select run_id from t_runs where name = 'first'))) ->> 'message',
  'Invalid status transition: success -> running', 'success → running is a 400');

-- Verify.
select tests.as_member((select a from t_ids), 'viewer');
select is((select api.registry_verify_run(run_id) from t_runs where name = 'first'),
  (select jsonb_build_object('verified', true, 'run_id', run_id, 'artifact_uri', answer ->> 'artifact_uri', 'stored_hash', answer ->> 'artifact_hash',
                             'computed_hash', answer ->> 'artifact_hash') from t_runs where name = 'first'), 'verify recomputes the SHA-256: verified');
select is(tests.error_of(format('select api.registry_verify_run(%L)', (select run_id from t_runs where name = 'second'))),
  format('{"sqlstate": "PT400", "message": "Run %s has no artifact_uri", "errors": null}', (select run_id from t_runs where name = 'second'))::jsonb, 'no artifact_uri is a 400');
select is(tests.error_of($$select api.registry_verify_run('nope')$$) ->> 'sqlstate', 'PT404', 'verify of an unknown run is a 404');
-- Tamper with the bytes (as the database owner could): verify and predict notice.
select tests.clear_authentication();
update forecast_models.artifacts set content = content || '\x20'::bytea
 where forecast_models.artifact_path(artifact_key) = (select answer ->> 'model_path' from t_naive);
select tests.as_member((select a from t_ids), 'viewer');
select is((select api.registry_verify_run(run_id) -> 'verified' from t_runs where name = 'first'), 'false', 'changed bytes: verified false');
select ok((select api.registry_verify_run(run_id) ->> 'error' like 'Hash mismatch: stored %' from t_runs where name = 'first'), '… with the error');
select is(tests.error_of($$select api.forecasting_predict((select s from t_a), (select p1 from t_a), 3, (select answer ->> 'model_path' from t_naive))$$) ->> 'sqlstate',
  'PT409', 'predict refuses an artifact whose bytes changed (409)');

-- ── Registry: aliases ──────────────────────────────────────────────────────────────────────────
select throws_ok($$select api.registry_create_alias('prod', (select run_id from t_runs where name = 'first'))$$, '42501', null, 'a viewer cannot create an alias');
select tests.as_member((select a from t_ids), 'admin');
select is(tests.error_of($$select api.registry_create_alias('prod', (select run_id from t_runs where name = 'second'))$$) ->> 'sqlstate', 'PT400', 'an alias onto a pending run is a 400');
select is(tests.error_of($$select api.registry_create_alias('prod', '0123456789abcdef0123456789abcdef')$$) ->> 'sqlstate', 'PT400', 'an alias onto a missing run is a 400');
select is(pg_temp.fields($$select api.registry_create_alias('Prod!', null, repeat('d', 501))$$), '{alias_name,run_id,description}', 'alias body problems (422)');
select is((select r - 'created_at' - 'updated_at' from api.registry_create_alias('prod', (select run_id from t_runs where name = 'first'), 'live') r),
  (select jsonb_build_object('alias_name', 'prod', 'run_id', run_id, 'run_status', 'success', 'model_type', 'naive', 'description', 'live') from t_runs where name = 'first'),
  'an alias onto a successful run');
select is(pg_temp.status(), '201', '… answered 201');
-- Make the second run successful too, and repoint.
select api.registry_update_run((select run_id from t_runs where name = 'second'), status => 'running');
select api.registry_update_run((select run_id from t_runs where name = 'second'), status => 'success', metrics => '{"mae": 1.0, "rmse": 2}');
select is((select r - 'created_at' - 'updated_at' from api.registry_create_alias('prod', (select run_id from t_runs where name = 'second')) r),
  (select jsonb_build_object('alias_name', 'prod', 'run_id', run_id, 'run_status', 'success', 'model_type', 'naive', 'description', 'live') from t_runs where name = 'second'),
  'repointing keeps the description');
select tests.as_member((select a from t_ids), 'viewer');
select is((select jsonb_path_query_array(api.registry_list_aliases(), '$[*].alias_name')), '["prod"]', 'a member lists the aliases');
select is(api.registry_get_alias('prod') ->> 'run_id', (select run_id from t_runs where name = 'second'), 'get an alias');
select is(tests.error_of($$select api.registry_get_alias('staging')$$) ->> 'sqlstate', 'PT404', 'an unknown alias is a 404');
select throws_ok($$select api.registry_delete_alias('prod')$$, '42501', null, 'a viewer cannot delete an alias');

-- ── Registry: compare ──────────────────────────────────────────────────────────────────────────
select is((select api.registry_compare_runs((select run_id from t_runs where name = 'first'), (select run_id from t_runs where name = 'ridge')) -> 'config_diff'),
  '{"a": {"a": "x", "b": null}, "alpha": {"a": null, "b": 2}, "window": {"a": [1, 2.5], "b": null},
    "model_type": {"a": "naive", "b": "trend_regression_baseline"}}', 'config_diff: the top-level keys that differ');
select is((select api.registry_compare_runs((select run_id from t_runs where name = 'first'), (select run_id from t_runs where name = 'second')) -> 'metrics_diff'),
  '{"mae": {"a": 1.5, "b": 1.0, "diff": -0.5}, "wape": {"a": 10}, "rmse": {"b": 2}, "note": {"a": "x"}}', 'metrics_diff: b − a where both are numbers');
select is((select api.registry_compare_runs((select run_id from t_runs where name = 'first'), (select run_id from t_runs where name = 'first')) -> 'config_diff'),
  '{}', 'a run equals itself');
select is(tests.error_of($$select api.registry_compare_runs((select run_id from t_runs where name = 'first'), 'nope')$$) ->> 'sqlstate', 'PT404', 'compare with a missing run is a 404');

-- ── Two tenants ────────────────────────────────────────────────────────────────────────────────
select tests.as_member((select b from t_ids), 'admin');
select is((select (r ->> 'total')::integer from api.registry_list_runs() r), 0, 'another account lists none of A''s runs');
select is(tests.error_of($$select api.registry_get_run((select run_id from t_runs where name = 'first'))$$) ->> 'sqlstate', 'PT404', '… cannot read one');
select is(tests.error_of($$select api.registry_update_run((select run_id from t_runs where name = 'second'), status => 'archived')$$) ->> 'sqlstate', 'PT404', '… nor update one');
select is(tests.error_of($$select api.registry_verify_run((select run_id from t_runs where name = 'first'))$$) ->> 'sqlstate', 'PT404', '… nor verify one');
select is(tests.error_of($$select api.registry_compare_runs((select run_id from t_runs where name = 'first'), (select run_id from t_runs where name = 'second'))$$) ->> 'sqlstate', 'PT404', '… nor compare them');
select is(tests.error_of($$select api.registry_create_alias('prod', (select run_id from t_runs where name = 'first'))$$) ->> 'sqlstate', 'PT400', '… nor point an alias at one');
select is(api.registry_list_aliases(), '[]', '… and sees none of A''s aliases');
select is(tests.error_of($$select api.registry_delete_alias('prod')$$) ->> 'sqlstate', 'PT404', '… nor deletes them');
insert into t_runs select 'b', r ->> 'run_id', r from api.registry_create_run('naive', '{}', '2026-01-01', '2026-01-28', (select bs from t_a), (select bp from t_a)) r;
select is(tests.error_of(format('select api.registry_update_run(%L, artifact_uri => %L)', (select run_id from t_runs where name = 'b'), (select answer ->> 'model_path' from t_naive))) ->> 'sqlstate',
  'PT404', 'A''s artifact is not B''s to name (404)');
select is_empty($$select 1 from forecast_models.runs where account_id = (select a from t_ids) union all select 1 from forecast_models.aliases where account_id = (select a from t_ids)$$,
  'RLS: B''s tables show none of A''s rows');
select tests.as_member((select a from t_ids), 'viewer');
select throws_ok($$insert into forecast_models.runs (account_id, run_id, model_type, model_config, config_hash, data_window_start, data_window_end, store_id, product_id)
                   values ((select a from t_ids), repeat('a', 32), 'naive', '{}', repeat('0', 16), '2026-01-01', '2026-01-02', 1, 1)$$,
  '42501', null, 'RLS: a viewer cannot write runs directly');

-- Delete the alias (admin): 204, then 404.
select tests.as_member((select a from t_ids), 'admin');
select is(api.registry_delete_alias('prod'), null, 'delete an alias');
select is(pg_temp.status(), '204', '… answered 204');
select is(tests.error_of($$select api.registry_delete_alias('prod')$$) ->> 'sqlstate', 'PT404', 'deleting it again is a 404');
select is((select r ->> 'status' from api.registry_update_run((select run_id from t_runs where name = 'first'), status => 'archived') r), 'archived', 'success → archived');
select is(tests.error_of(format('select api.registry_update_run(%L, status => ''running'')', (select run_id from t_runs where name = 'first'))) ->> 'message',
  'Invalid status transition: archived -> running', 'archived is terminal');

-- ── Metrics ────────────────────────────────────────────────────────────────────────────────────
select is((select row(m.mae, m.rmse, m.bias)::text from forecast_models.metrics('{3,0,5,2}', '{2,0,7,2}') m), '(0.75,1.118033988749895,-0.25)', 'MAE, RMSE, bias');
select ok(abs(forecast_models.smape('{3,0,5,2}', '{2,0,7,2}') - 100 * (2.0 / 5 + 0 + 4.0 / 12 + 0) / 4) < 1e-12, 'sMAPE: a pair with A = F = 0 counts 0');
select is(forecast_models.wape('{3,0,5,2}', '{2,0,7,2}'), 30::double precision, 'WAPE: 100 · Σ|A − F| / Σ|A|');
select is(forecast_models.wape('{0,0}', '{1,0}'), 'Infinity'::double precision, 'WAPE of zero actuals is +Infinity');
select is(forecast_models.mae('{}', '{}')::text, 'NaN', 'empty arrays give NaN');
select is(tests.error_of($$select forecast_models.mae('{1,2}', '{1}')$$) ->> 'sqlstate', '22023', 'arrays of different lengths are refused');

-- ── Without PL/Python ──────────────────────────────────────────────────────────────────────────
-- As on a server without plpython3u, where ridge.sql creates no function (undone by the rollback).
create temp table t_ridge_before as select pg_temp.values_of(pg_temp.predict('ridge_default', 2)) as v;
grant select on t_ridge_before to authenticated;
select tests.clear_authentication();
drop function forecast_models.ridge_fit(double precision[], integer[], integer[], double precision[], double precision, boolean, boolean);
select tests.as_member((select a from t_ids), 'admin');
select is(tests.error_of($$select api.forecasting_train((select s from t_a), (select p1 from t_a), '2026-01-01', '2026-01-28', '{"model_type": "trend_regression_baseline"}')$$) ->> 'sqlstate',
  'PT400', 'without PL/Python trend_regression_baseline is a 400 …');
select ok(tests.error_of($$select api.forecasting_train((select s from t_a), (select p1 from t_a), '2026-01-01', '2026-01-28', '{"model_type": "trend_regression_baseline"}')$$) ->> 'message'
            like '%needs PL/Python (the plpython3u extension, with numpy)%', '… naming what is missing');
select is(tests.error_of($$select api.forecasting_train((select s from t_a), (select p1 from t_a), '2026-01-01', '2026-01-28', '{"model_type": "moving_average"}')$$), null,
  '… while the SQL baselines still train');
select is(pg_temp.values_of(pg_temp.predict('ridge_default', 2)), (select v from t_ridge_before), '… and a trained ridge still predicts (in SQL), the same');

select * from finish();
rollback;
