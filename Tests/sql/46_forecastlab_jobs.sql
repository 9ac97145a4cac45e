-- ForecastLab jobs (docs/forecastlab-models.md, "Jobs"): submission (202, defaults, the 422s, train
-- for admins), the policies that keep a caller from queueing work as someone else or finishing a
-- job by hand, list / get / cancel / await, the work a job does as its submitter (train makes a
-- registry run, predict finds it), /explain/jobs, the failure record, and two tenants. The queue
-- itself (work_one commits, so it cannot run inside this test's transaction) is exercised by
-- Tests/GatewayTests/ForecastLabJobsTests.swift: four workers, a dead worker, a cancelled job.
begin;
select plan(54);

create temp table t_ids as select
  'f6000000-0000-4000-8000-00000000000a'::uuid as a, 'f6000000-0000-4000-8000-00000000000b'::uuid as b,
  'f6000000-0000-4000-8000-0000000000a1'::uuid as viewer1, 'f6000000-0000-4000-8000-0000000000a2'::uuid as viewer2;
grant select on t_ids to authenticated, service_role;
insert into forecast.stores (account_id, store_code, name) select a, 'S1', 'S1' from t_ids union all select b, 'S1', 'B' from t_ids;
insert into forecast.products (account_id, sku, name, base_price) select a, 'P1', 'P1', 1 from t_ids union all select b, 'P1', 'B', 1 from t_ids;
create temp table t_a as select
  (select id from forecast.stores where account_id = (select a from t_ids)) as s,
  (select id from forecast.products where account_id = (select a from t_ids)) as p;
grant select on t_a to authenticated, service_role;
-- 42 days of 10 + (i mod 7) from 2026-01-01.
insert into forecast.sales_daily (account_id, store_id, product_id, date, quantity, unit_price, total_amount)
select (select a from t_ids), s, p, date '2026-01-01' + i, 10 + i % 7, 1, 0 from t_a, generate_series(0, 41) i;
create temp table t_jobs (name text primary key, answer jsonb);
grant all on t_jobs to authenticated, service_role;

-- Submission: pending at once, 202 with a Location, the params as they will run (defaults filled).
select tests.authenticate_as('authenticated', (select viewer1 from t_ids), (select a from t_ids), 'viewer');
insert into t_jobs select 'predict', api.jobs_create('predict', '{"run_id": "0123456789ab"}');
select is((select answer ->> 'status' from t_jobs where name = 'predict'), 'pending', 'a new job is pending');
select is(current_setting('response.status'), '202', 'POST /jobs answers 202');
select is(current_setting('response.headers')::jsonb ->> 'Location', '/jobs/' || (select answer ->> 'job_id' from t_jobs where name = 'predict'),
          'with the job''s Location');
select is((select answer -> 'params' from t_jobs where name = 'predict'), '{"run_id": "0123456789ab", "horizon": 14}', 'horizon defaults to 14');
insert into t_jobs select 'backtest', api.jobs_create('backtest', jsonb_build_object('model_type', 'moving_average', 'store_id', (select s from t_a),
  'product_id', (select p from t_a), 'start_date', '2026-01-01', 'end_date', '2026-02-11'));
select is((select (answer -> 'params') - 'store_id'::text - 'product_id'::text from t_jobs where name = 'backtest'),
          '{"gap": 0, "n_splits": 5, "test_size": 14, "window_size": 7, "model_type": "moving_average", "start_date": "2026-01-01", "end_date": "2026-02-11"}'::jsonb,
          'a backtest''s split and model defaults are filled in, flat as the contract''s params');
select ok(not (select answer ?| array['submitted_claims', 'submitted_role', 'lease_token', 'attempts'] from t_jobs where name = 'predict'),
          'the job object carries neither the submitter''s claims nor the lease');

-- The 422s: every problem named, under params.
select is(tests.error_fields(tests.error_of($$select api.jobs_create('forecast', '[]')$$)), array['job_type', 'params'], 'an unknown type and params not an object');
select is(tests.error_fields(tests.error_of($$select api.jobs_create(null, null)$$)), array['job_type', 'params'], 'both missing');
select is(tests.error_fields(tests.error_of($$select api.jobs_create('predict', '{"run_id": "x", "horizon": 0, "store_id": 1}')$$)),
          array['params.store_id', 'params.run_id', 'params.horizon'], 'predict: an extra field, a run_id not 12 hex, a horizon below 1');
select is(tests.error_fields(tests.error_of($$select api.jobs_create('backtest', '{"model_type": "naive", "store_id": "1", "product_id": 0, "start_date": "2026-02-01", "end_date": "2026-01-01", "gap": 31, "test_size": 1.5}')$$)),
          array['params.store_id', 'params.product_id', 'params.end_date', 'params.test_size', 'params.gap'],
          'backtest: ids, a reversed window, split bounds');
select is(tests.error_fields(tests.error_of($$select api.jobs_create('backtest', '{"model_type": "moving_average", "window_size": 0, "colour": 1, "store_id": 1, "product_id": 1, "start_date": "2026-01-01", "end_date": "2026-01-31"}')$$)),
          array['params.colour', 'params.window_size'], 'the model''s own parameters are checked as train checks them, named under params');
select is(tests.error_of($$select api.jobs_create('train', '{"model_type": "naive", "store_id": 1, "product_id": 1, "start_date": "2026-01-01", "end_date": "2026-01-31"}')$$) ->> 'sqlstate',
          '42501', 'a viewer may not queue training');
select is(tests.error_fields(tests.error_of($$select api.jobs_create('train', '{"model_type": "naive", "store_id": 2147483648, "product_id": 2147483647, "start_date": "2026-01-01", "end_date": "2026-01-31", "n_splits": 5}')$$)),
          array['params.store_id', 'params.n_splits'], 'train: ids up to 2^31 - 1, and the backtest''s split fields are not its own');

-- Nobody queues work as someone else: the row's claims must be the caller's own.
select is(tests.error_of($$insert into forecast_models.jobs (account_id, job_id, job_type, params, submitted_role, submitted_claims, submitted_by)
                            select a, md5('forged'), 'predict', '{}', 'authenticated', '{"role": "authenticated", "app_metadata": {"account_id": "f6000000-0000-4000-8000-00000000000a", "app_role": "admin"}}', viewer1 from t_ids$$) ->> 'sqlstate',
          '42501', 'a job with claims other than the caller''s is refused (no impersonation of an admin)');
select is(tests.error_of($$insert into forecast_models.jobs (account_id, job_id, job_type, params, submitted_role, submitted_claims, submitted_by)
                            select a, md5('train'), 'train', '{}', 'authenticated', auth.jwt(), viewer1 from t_ids$$) ->> 'sqlstate',
          '42501', 'nor a train job by a viewer written directly');
select is(tests.error_of($$update forecast_models.jobs set status = 'completed' where job_id = (select answer ->> 'job_id' from t_jobs where name = 'predict')$$) ->> 'sqlstate',
          '42501', 'a caller cannot mark a job completed');
select is(tests.error_of($$update forecast_models.jobs set result = '{}' where job_id = (select answer ->> 'job_id' from t_jobs where name = 'predict')$$) ->> 'sqlstate',
          '42501', 'nor write its result');

-- Get, list, await.
select is(api.jobs_get((select answer ->> 'job_id' from t_jobs where name = 'predict')) ->> 'job_type', 'predict', 'GET /jobs/{id}');
select is(tests.error_of($$select api.jobs_get('0123456789abcdef0123456789abcdef')$$) ->> 'sqlstate', 'PT404', 'an unknown job is a 404');
select is((api.jobs_list() -> 'total')::integer, 2, 'the list counts the account''s jobs');
select is((select array_agg(j ->> 'job_type') from jsonb_array_elements(api.jobs_list(sort_by => 'job_type', sort_order => 'asc') -> 'jobs') j),
          array['backtest', 'predict'], 'sorted by an allowed column');
select is((select array_agg(j ->> 'job_type') from jsonb_array_elements(api.jobs_list(sort_by => 'params', sort_order => 'asc') -> 'jobs') j),
          array['backtest', 'predict'], 'an unknown sort column is created_at descending (newest first)');
select is(api.jobs_list(job_type => 'predict', page_size => 1, page => 1) -> 'total', '1', 'filtered by type');
select is(jsonb_array_length(api.jobs_list(page => 2, page_size => 1) -> 'jobs'), 1, 'paged');
select is(tests.error_fields(tests.error_of($$select api.jobs_list(page => 0, page_size => 101)$$)), array['page', 'page_size'], 'page bounds');
select is(api.jobs_await((select answer from t_jobs where name = 'predict'), 0.05), null,
          'await is null while the job is unfinished, once the wait is over');

-- Cancel: only pending, only by its submitter or an admin.
select tests.authenticate_as('authenticated', (select viewer2 from t_ids), (select a from t_ids), 'viewer');
select is(tests.error_of($$select api.jobs_cancel((select answer ->> 'job_id' from t_jobs where name = 'predict'))$$) ->> 'sqlstate',
          '42501', 'another viewer may not cancel it');
select tests.authenticate_as('authenticated', (select viewer1 from t_ids), (select a from t_ids), 'viewer');
select is(api.jobs_cancel((select answer ->> 'job_id' from t_jobs where name = 'predict')) ->> 'status', 'cancelled', 'its submitter may');
select is(tests.error_of($$select api.jobs_cancel((select answer ->> 'job_id' from t_jobs where name = 'predict'))$$) ->> 'sqlstate',
          'PT400', 'a job no longer pending cannot be cancelled');
select tests.as_member((select a from t_ids), 'admin');
select is(api.jobs_cancel((select answer ->> 'job_id' from t_jobs where name = 'backtest')) ->> 'status', 'cancelled', 'an admin may cancel anyone''s');
select is(api.jobs_await((select answer from t_jobs where name = 'backtest')) ->> 'status', 'cancelled', 'await returns a finished job at once');

-- One account cannot fill the shared queue: at most jobs_per_account() unfinished jobs.
select lives_ok($$select count(api.jobs_create('predict', '{"run_id": "0123456789ab"}')) from generate_series(1, forecast_models.jobs_per_account())$$,
                'an account may have 100 jobs waiting');
select is(tests.error_of($$select api.jobs_create('predict', '{"run_id": "0123456789ab"}')$$) ->> 'sqlstate', 'PT429', 'but not 101 (429)');
reset role;
update forecast_models.jobs set status = 'cancelled' where account_id = (select a from t_ids) and status = 'pending';
select tests.as_member((select a from t_ids), 'admin');

-- Another tenant sees and touches none of it.
select tests.as_member((select b from t_ids), 'admin');
select is((api.jobs_list() -> 'total')::integer, 0, 'the other account''s list is empty');
select is(tests.error_of($$select api.jobs_get((select answer ->> 'job_id' from t_jobs where name = 'predict'))$$) ->> 'sqlstate', 'PT404',
          'another account''s job is a 404');
select is(tests.error_of($$select api.jobs_await((select answer from t_jobs where name = 'predict'), 0)$$) ->> 'sqlstate', 'PT404', 'also to await');
select is(tests.error_of($$select api.jobs_cancel((select answer ->> 'job_id' from t_jobs where name = 'predict'))$$) ->> 'sqlstate', 'PT404', 'and to cancel');
select is(tests.error_of($$call forecast_models.work_one(null)$$) ->> 'sqlstate', '42501', 'a request role cannot run the queue');

-- The work a job does, as its submitter: train makes an artifact and a successful registry run.
select tests.as_member((select a from t_ids), 'admin');
insert into t_jobs select 'train-work', to_jsonb(e) from forecast_models.job_execute('train', forecast_models.job_params('train',
  jsonb_build_object('model_type', 'seasonal_naive', 'store_id', (select s from t_a), 'product_id', (select p from t_a),
                     'start_date', '2026-01-01', 'end_date', '2026-02-11'))) e;
select is((select answer #>> '{result,model_path}' from t_jobs where name = 'train-work'),
          'artifacts/models/model_' || (select answer #>> '{result,run_id}' from t_jobs where name = 'train-work') || '.joblib',
          'train''s result: run_id is the artifact key its model_path names (as upstream)');
select is((select r.status || ' ' || r.artifact_uri || ' ' || r.artifact_hash from forecast_models.runs r
            where r.run_id = (select answer ->> 'run_id' from t_jobs where name = 'train-work')),
          'success ' || (select answer #>> '{result,model_path}' from t_jobs where name = 'train-work') || ' '
            || (select a.sha256 from forecast_models.artifacts a where a.artifact_key = (select answer #>> '{result,run_id}' from t_jobs where name = 'train-work')),
          'and a successful registry run names the artifact and its hash');
select is((select answer #>> '{result,registry_run_id}' from t_jobs where name = 'train-work'), (select answer ->> 'run_id' from t_jobs where name = 'train-work'),
          'the result carries the registry run too');
insert into t_jobs select 'predict-work', to_jsonb(e) from forecast_models.job_execute('predict',
  jsonb_build_object('run_id', (select answer #>> '{result,run_id}' from t_jobs where name = 'train-work'), 'horizon', 2)) e;
select is((select answer #> '{result,forecasts}' from t_jobs where name = 'predict-work'),
          '[{"date": "2026-02-12", "forecast": 10}, {"date": "2026-02-13", "forecast": 11}]',
          'predict forecasts from it: days 42 and 43 repeat days 35 and 36 (10 + 0, 10 + 1)');
select is((select answer ->> 'run_id' from t_jobs where name = 'predict-work'), (select answer ->> 'run_id' from t_jobs where name = 'train-work'),
          'and finds the registry run of its model');

-- /explain/jobs: a completed predict job's model, the same as its registry run's explanation.
insert into t_jobs select 'explained', api.jobs_create('predict', jsonb_build_object('run_id', (select answer #>> '{result,run_id}' from t_jobs where name = 'train-work')));
select is(tests.error_of($$select api.explain_job((select answer ->> 'job_id' from t_jobs where name = 'explained'))$$) ->> 'sqlstate', 'PT400',
          'a pending predict job cannot be explained');
reset role;
update forecast_models.jobs j set status = 'completed', result = w.answer -> 'result', run_id = w.answer ->> 'run_id', completed_at = now()
  from t_jobs w where w.name = 'predict-work' and j.job_id = (select answer ->> 'job_id' from t_jobs where name = 'explained');
select tests.as_member((select a from t_ids), 'viewer');
select is(api.explain_job((select answer ->> 'job_id' from t_jobs where name = 'explained')),
          api.explain_run((select answer ->> 'run_id' from t_jobs where name = 'train-work')) - 'generated_at'
            || jsonb_build_object('generated_at', api.explain_job((select answer ->> 'job_id' from t_jobs where name = 'explained')) -> 'generated_at'),
          'the job''s explanation is its registry run''s');
select is((api.explain_job((select answer ->> 'job_id' from t_jobs where name = 'explained')) -> 'forecast_value')::numeric, 10::numeric,
          'whose forecast is the job''s first');
select is(tests.error_of($$select api.explain_job((select answer ->> 'job_id' from t_jobs where name = 'backtest'))$$) ->> 'sqlstate', 'PT400',
          'a backtest job is not explained');
select tests.as_member((select b from t_ids), 'viewer');
select is(tests.error_of($$select api.explain_job((select answer ->> 'job_id' from t_jobs where name = 'explained'))$$) ->> 'sqlstate', 'PT404',
          'another account''s job is a 404');

-- What a failure records: a class name, and the unit's own text or none.
select is((select to_jsonb(f) from forecast_models.job_failure('PT404', 'Store 9 not found', null,
            E'PL/pgSQL function forecast_models.require_store_product(uuid,bigint,bigint) line 4 at RAISE\nPL/pgSQL function x line 1 at PERFORM') f),
          '{"error_type": "NotFoundError", "error_message": "Store 9 not found"}', 'a 404 we raised is a NotFoundError with its message');
select is((select to_jsonb(f) from forecast_models.job_failure('XX000', 'relation "forecast.secret" does not exist', 'select * from x', 'SQL statement "select 1"') f),
          '{"error_type": "InternalError", "error_message": "The job failed inside the database (SQLSTATE XX000); the server log has the details"}',
          'an unexpected error records no PostgreSQL text');
select is((select to_jsonb(f) from forecast_models.job_failure('42501', 'new row violates row-level security policy for table "runs"', null,
            E'SQL statement "insert into forecast_models.runs …"\nPL/pgSQL function forecast_models.job_execute(text,jsonb) line 12 at SQL statement') f),
          '{"error_type": "InternalError", "error_message": "The job failed inside the database (SQLSTATE 42501); the server log has the details"}',
          'nor does one PostgreSQL raised with a code our own errors use too');
select is((select to_jsonb(f) ->> 'error_message' from forecast_models.job_failure('22023', 'Request validation failed with 1 error(s)',
            '{"errors": [{"field": "config.window_size", "message": "Input should be greater than or equal to 1"}]}',
            'PL/pgSQL function forecast_models.invalid_all(jsonb) line 3 at RAISE') f),
          'Request validation failed with 1 error(s): config.window_size: Input should be greater than or equal to 1',
          'a validation failure names its fields');
select is((select to_jsonb(f) ->> 'error_type' from forecast_models.job_failure('22023', 'x', '{not json', 'PL/pgSQL function f() line 3 at RAISE') f),
          'ValueError', 'a detail of another shape does not break the record');

reset role;
select is(array(select method || ' ' || path || ' ' || function_name || ' ' || coalesce(await_function, '-') from gateway.routes
                 where tag = 'forecastlab-jobs' order by path, method),
  array['GET /jobs jobs_list -', 'POST /jobs jobs_create jobs_await', 'DELETE /jobs/{job_id} jobs_cancel -', 'GET /jobs/{job_id} jobs_get -'],
  'the jobs routes; POST /jobs is awaited with Prefer: wait');

select * from finish();
rollback;
