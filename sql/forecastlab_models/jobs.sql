-- requires: core/gateway.sql
-- requires: forecastlab_models/forecasting.sql
-- requires: forecastlab_models/backtesting.sql
-- ForecastLab jobs (contract details §13; docs/forecastlab-models.md, "Jobs"): train, predict and
-- backtest in the background. POST /jobs stores a pending job and answers 202 at once; a worker
-- (every gateway runs a loop; `call forecast_models.work_one(null)` from psql does the same) takes
-- the oldest pending job with FOR UPDATE SKIP LOCKED under a lease, commits, and runs it as the
-- caller who submitted it, in one transaction with its completion: the work and the job's
-- `completed` commit together or not at all.

-- The contract's job object (never the submitter's claims or the lease).
create or replace function forecast_models.job_json(job forecast_models.jobs) returns jsonb
language sql stable set search_path = '' as $$
  select pg_catalog.jsonb_build_object(
    'job_id', job.job_id, 'job_type', job.job_type, 'status', job.status, 'params', job.params,
    'result', job.result, 'error_message', job.error_message, 'error_type', job.error_type, 'run_id', job.run_id,
    'started_at', util.iso(job.started_at), 'completed_at', util.iso(job.completed_at),
    'created_at', util.iso(job.created_at), 'updated_at', util.iso(job.updated_at))
$$;

-- The caller's job with this id, or a 404 (another account's job included).
create or replace function forecast_models.find_job(job_id text) returns forecast_models.jobs
language plpgsql stable set search_path = '' as $$
declare
  account uuid := util.require_account();
  job forecast_models.jobs;
begin
  select j.* into job from forecast_models.jobs j where j.account_id = account and j.job_id = find_job.job_id;
  if not found then
    raise exception 'Job % not found', pg_catalog.left(find_job.job_id, 64) using errcode = 'PT404';
  end if;
  return job;
end $$;

-- One integer parameter of a job: its value (the default when absent) and its problems.
create or replace function forecast_models.job_integer(params jsonb, name text, fallback integer, low integer, high integer,
                                                       out value integer, out problems jsonb)
language plpgsql immutable set search_path = '' as $$
declare
  given jsonb := params -> name;
begin
  problems := '[]';
  if given is null or pg_catalog.jsonb_typeof(given) = 'null' then
    value := fallback;
    if fallback is null then
      problems := pg_catalog.jsonb_build_array(forecast_models.problem('params.' || name, 'Field required', 'missing'));
    end if;
  elsif pg_catalog.jsonb_typeof(given) <> 'number' or given::text !~ '^-?[0-9]+$' then
    problems := pg_catalog.jsonb_build_array(forecast_models.problem('params.' || name, 'Input should be a valid integer', 'int_type'));
  elsif given::text::numeric not between low and high then
    problems := forecast_models.range_problems('params.' || name, least(greatest(given::text::numeric, -9e18), 9e18)::bigint, low, high);
  else
    value := given::text::integer;
  end if;
end $$;

-- One ISO date parameter (required): its value and its problems.
create or replace function forecast_models.job_date(params jsonb, name text, out value date, out problems jsonb)
language plpgsql immutable set search_path = '' as $$
begin
  problems := '[]';
  if params -> name is null or pg_catalog.jsonb_typeof(params -> name) = 'null' then
    problems := pg_catalog.jsonb_build_array(forecast_models.problem('params.' || name, 'Field required', 'missing'));
  elsif pg_catalog.jsonb_typeof(params -> name) <> 'string' or params ->> name !~ '^\d{4}-\d{2}-\d{2}$' then
    problems := pg_catalog.jsonb_build_array(forecast_models.problem('params.' || name, 'Input should be a valid date in the format YYYY-MM-DD', 'date_from_datetime_parsing'));
  else
    begin
      value := (params ->> name)::date;
    exception when others then
      problems := pg_catalog.jsonb_build_array(forecast_models.problem('params.' || name, 'Input should be a valid date', 'date_parsing'));
    end;
  end if;
end $$;

-- A job's model configuration: model_type (default naive) and the params no other field names,
-- checked as train checks a config, its problems named under params.
create or replace function forecast_models.job_model_config(params jsonb, fields text[], out config jsonb, out problems jsonb)
language plpgsql immutable set search_path = '' as $$
declare
  detail text;
begin
  problems := '[]';
  select pg_catalog.jsonb_build_object('model_type', coalesce(params -> 'model_type', '"naive"'))
         || coalesce(pg_catalog.jsonb_object_agg(p.key, p.value), '{}')
    into config
    from pg_catalog.jsonb_each(params) p
   where p.key <> 'model_type' and not p.key = any(fields);
  config := forecast_models.normalized_config(config);
exception when sqlstate '22023' then
  get stacked diagnostics detail = pg_exception_detail;
  config := null;
  problems := coalesce((select pg_catalog.jsonb_agg(e || pg_catalog.jsonb_build_object('field',
                                 pg_catalog.regexp_replace(pg_catalog.regexp_replace(e ->> 'field', '^config\.[a-z_]+\.', 'params.'), '^config', 'params'))
                               order by i)
                          from pg_catalog.jsonb_array_elements(detail::jsonb -> 'errors') with ordinality x(e, i)), '[]');
end $$;

-- The params of a job as it will run (defaults filled in), or a 422 naming every problem (§13).
-- Only their shape is checked here; what the data says (an unknown store, a missing artifact) is
-- the job's failure, as upstream's.
create or replace function forecast_models.job_params(job_type text, params jsonb) returns jsonb
language plpgsql stable set search_path = '' as $$
declare
  problems jsonb := '[]';
  checked record;
  normalized jsonb := '{}';
  name text;
  model record;
  window_start date;
begin
  if job_type is null then
    problems := problems || forecast_models.problem('job_type', 'Field required', 'missing');
  elsif job_type not in ('train', 'predict', 'backtest') then
    problems := problems || forecast_models.problem('job_type', 'Input should be ''train'', ''predict'' or ''backtest''', 'literal_error');
  end if;
  if params is null or pg_catalog.jsonb_typeof(params) = 'null' then
    problems := problems || forecast_models.problem('params', 'Field required', 'missing');
  elsif pg_catalog.jsonb_typeof(params) <> 'object' then
    problems := problems || forecast_models.problem('params', 'Input should be a valid dictionary', 'dict_type');
  end if;
  if pg_catalog.jsonb_array_length(problems) > 0 then
    perform forecast_models.invalid_all(problems);
  end if;

  if job_type = 'predict' then
    for name in select k from pg_catalog.jsonb_object_keys(params) k where k not in ('run_id', 'horizon') order by 1 loop
      problems := problems || forecast_models.problem('params.' || name, 'Extra inputs are not permitted', 'extra_forbidden');
    end loop;
    if params -> 'run_id' is null or pg_catalog.jsonb_typeof(params -> 'run_id') = 'null' then
      problems := problems || forecast_models.problem('params.run_id', 'Field required', 'missing');
    elsif pg_catalog.jsonb_typeof(params -> 'run_id') <> 'string' or params ->> 'run_id' !~ '^[0-9a-f]{12}$' then
      problems := problems || forecast_models.problem('params.run_id', 'Input should be the 12-hex run_id a train job or /forecasting/train answered', 'string_pattern_mismatch');
    else
      normalized := normalized || pg_catalog.jsonb_build_object('run_id', params -> 'run_id');
    end if;
    select * into checked from forecast_models.job_integer(params, 'horizon', 14, 1, 90);
    problems := problems || checked.problems;
    normalized := normalized || pg_catalog.jsonb_build_object('horizon', checked.value);
  else
    foreach name in array array['store_id', 'product_id'] loop
      select * into checked from forecast_models.job_integer(params, name, null, 1, 2147483647);
      problems := problems || checked.problems;
      normalized := normalized || pg_catalog.jsonb_build_object(name, checked.value);
    end loop;
    foreach name in array array['start_date', 'end_date'] loop
      select * into checked from forecast_models.job_date(params, name);
      problems := problems || checked.problems;
      normalized := normalized || pg_catalog.jsonb_build_object(name, checked.value);
      if name = 'start_date' then window_start := checked.value; end if;
      if name = 'end_date' and checked.value <= window_start then
        problems := problems || forecast_models.problem('params.end_date', 'end_date must be after start_date', 'value_error');
      end if;
    end loop;
    if job_type = 'backtest' then
      for checked in select r.name, i.value, i.problems
                       from (values ('n_splits', 5, 2, 20), ('test_size', 14, 1, 90), ('gap', 0, 0, 30)) r(name, fallback, low, high),
                            forecast_models.job_integer(params, r.name, r.fallback, r.low, r.high) i loop
        problems := problems || checked.problems;
        normalized := normalized || pg_catalog.jsonb_build_object(checked.name, checked.value);
      end loop;
    end if;
    select * into model from forecast_models.job_model_config(params, array['store_id', 'product_id', 'start_date', 'end_date']
                                                                        || case when job_type = 'backtest' then array['n_splits', 'test_size', 'gap'] end);
    problems := problems || model.problems;
    -- The model's own parameters with their defaults, flat as the contract's params are.
    normalized := normalized || coalesce(model.config - 'schema_version', '{}');
  end if;
  if pg_catalog.jsonb_array_length(problems) > 0 then
    perform forecast_models.invalid_all(problems);
  end if;
  return normalized;
end $$;

-- Runs one job's work as the current caller: the api function its type names, with the result
-- shaped as §13 says, and the registry run it made (train) or used (predict).
create or replace function forecast_models.job_execute(job_type text, params jsonb, out result jsonb, out run_id text)
language plpgsql volatile set search_path = '' set extra_float_digits = 1 as $$
declare
  account uuid := util.require_account();
  config jsonb := params - array['store_id', 'product_id', 'start_date', 'end_date', 'n_splits', 'test_size', 'gap'];
  answer jsonb;
  key text;
  artifact forecast_models.artifacts;
  run forecast_models.runs;
begin
  if job_type = 'train' then
    answer := api.forecasting_train(store_id => (params ->> 'store_id')::bigint, product_id => (params ->> 'product_id')::bigint,
                                    train_start_date => (params ->> 'start_date')::date, train_end_date => (params ->> 'end_date')::date,
                                    config => config);
    key := forecast_models.artifact_key(answer ->> 'model_path', 'model_path');
    -- Every trained model is a registry run, so the registry, /explain/jobs and the job agree.
    insert into forecast_models.runs (account_id, run_id, status, model_type, model_config, config_hash, data_window_start, data_window_end,
                                      store_id, product_id, artifact_uri, artifact_hash, artifact_size_bytes, runtime_info,
                                      started_at, completed_at)
    select account, pg_catalog.replace(pg_catalog.gen_random_uuid()::text, '-', ''), 'success', a.model_type, a.config, a.config_hash,
           a.train_start_date, a.train_end_date, a.store_id, a.product_id, answer ->> 'model_path', a.sha256, a.size_bytes,
           pg_catalog.jsonb_build_object('engine', 'postgresql', 'postgresql_version', pg_catalog.current_setting('server_version'),
                                         'source', 'job', 'feature_frame_version',
                                         case when forecast_models.is_feature_aware(a.model_type) then 1 end),
           pg_catalog.now(), pg_catalog.clock_timestamp()
      from forecast_models.artifacts a where a.account_id = account and a.artifact_key = key
    returning * into run;
    run_id := run.run_id;
    result := pg_catalog.jsonb_build_object(
      'run_id', key, 'model_type', answer -> 'model_type', 'model_path', answer -> 'model_path', 'config_hash', answer -> 'config_hash',
      'n_observations', answer -> 'n_observations', 'train_start_date', answer -> 'train_start_date',
      'train_end_date', answer -> 'train_end_date', 'store_id', answer -> 'store_id', 'product_id', answer -> 'product_id',
      'registry_run_id', run.run_id, 'duration_ms', answer -> 'duration_ms');
  elsif job_type = 'predict' then
    artifact := forecast_models.resolve_artifact(forecast_models.artifact_path(params ->> 'run_id'), 'run_id');
    answer := api.forecasting_predict(store_id => artifact.store_id, product_id => artifact.product_id,
                                      horizon => (params ->> 'horizon')::integer,
                                      model_path => forecast_models.artifact_path(artifact.artifact_key));
    select r.run_id into run_id from forecast_models.runs r
     where r.account_id = account and r.artifact_uri = forecast_models.artifact_path(artifact.artifact_key)
     order by r.created_at desc, r.id desc limit 1;
    result := pg_catalog.jsonb_build_object(
      'store_id', answer -> 'store_id', 'product_id', answer -> 'product_id', 'model_type', answer -> 'model_type',
      'horizon', answer -> 'horizon', 'forecasts', answer -> 'forecasts', 'registry_run_id', run_id,
      'duration_ms', answer -> 'duration_ms');
  elsif job_type = 'backtest' then
    answer := api.backtesting_run(store_id => (params ->> 'store_id')::bigint, product_id => (params ->> 'product_id')::bigint,
                                  start_date => (params ->> 'start_date')::date, end_date => (params ->> 'end_date')::date,
                                  config => pg_catalog.jsonb_build_object(
                                    'split_config', pg_catalog.jsonb_build_object('n_splits', params -> 'n_splits',
                                                                                  'horizon', params -> 'test_size', 'gap', params -> 'gap'),
                                    'model_config_main', config, 'store_fold_details', false));
    result := pg_catalog.jsonb_build_object(
      'backtest_id', answer -> 'backtest_id', 'model_type', answer #> '{main_model_results,model_type}',
      'n_splits', pg_catalog.jsonb_array_length(answer #> '{main_model_results,fold_results}'),
      'aggregated_metrics', (select pg_catalog.jsonb_object_agg(m.key, m.value)
                               from pg_catalog.jsonb_each(answer #> '{main_model_results,aggregated_metrics}') m
                              where m.key in ('mae', 'smape', 'wape', 'bias')),
      'duration_ms', answer -> 'duration_ms');
  else
    raise exception 'Unknown job type %', pg_catalog.left(job_type, 20) using errcode = 'PT400';
  end if;
end $$;

drop function if exists forecast_models.job_failure(text, text, text);
-- What a failed job records: a class name as upstream's error_type (a Python exception's), and a
-- message that is the unit's own text, never PostgreSQL's: a message is kept only when the
-- innermost frame of `context` is a RAISE of our functions (PostgreSQL raises 42501 and 22023 too,
-- with its own words). Anything else is logged for the operator and recorded by its SQLSTATE.
create or replace function forecast_models.job_failure(state text, message text, detail text, context text,
                                                       out error_type text, out error_message text)
language plpgsql immutable set search_path = '' as $$
declare
  ours boolean := pg_catalog.split_part(coalesce(context, ''), E'\n', 1) ~ ' at RAISE$';
  listed text;
begin
  error_type := case
    when state = '57014' then 'TimeoutError'
    when not ours then 'InternalError'
    when state in ('22023', 'PT400', 'PT422') then 'ValueError'
    when state = 'PT404' then 'NotFoundError'
    when state = '42501' then 'PermissionError'
    when state = 'PT409' then 'ConflictError'
    else 'InternalError' end;
  if state = '22023' and ours then
    begin
      select pg_catalog.string_agg((e ->> 'field') || ': ' || (e ->> 'message'), '; ' order by i) into listed
        from pg_catalog.jsonb_array_elements(detail::jsonb -> 'errors') with ordinality x(e, i);
    exception when others then
      listed := null;  -- a detail of another shape: the message alone
    end;
  end if;
  error_message := pg_catalog.left(case
    when error_type = 'TimeoutError' then 'The job was stopped: it ran past the worker''s statement timeout, or an operator cancelled it'
    when error_type = 'InternalError' then
      pg_catalog.format('The job failed inside the database (SQLSTATE %s); the server log has the details', state)
    else message || coalesce(': ' || listed, '') end, 2000);
end $$;

-- The advisory lock a worker holds (session-level) while it runs a job, (this key, the claim's
-- lease_lock): taken in the claim's transaction, so no other session ever sees the job running
-- without it. A running job whose lock anyone can take has lost its worker's session (killed,
-- disconnected): it is returned at once, without waiting for the lease, which covers a worker that
-- is alive but stuck.
create or replace function forecast_models.job_lock_key() returns integer
language sql immutable as $$ select 1785250337 $$;  -- any fixed number: the first half of the lock's key

-- Runs the next pending job, if any; job_id comes back as its id (null: nothing to do). Three
-- transactions: jobs whose worker is gone are returned (or failed) and one job is claimed; the job
-- runs as its submitter and records its outcome, both under the lease's token. A worker presumed
-- dead whose job was given to another finds its token gone and rolls back: a job's work commits
-- once.
--
-- A procedure, so that it can commit between the steps (no SET clause: it would forbid COMMIT;
-- every name is schema-qualified instead). The caller needs to read and update every account's
-- jobs (the gateway's login, `authenticator`, has a policy for it) and to switch into the
-- submitter's role.
create or replace procedure forecast_models.work_one(inout job_id text default null)
language plpgsql as $$
declare
  job forecast_models.jobs;
  token uuid := pg_catalog.gen_random_uuid();
  outcome record;
  failure record;
  state text;
  message text;
  detail text;
  context text;
begin
  job_id := null;
  update forecast_models.jobs j
     set status = case when j.attempts >= j.max_attempts then 'failed' else 'pending' end,
         error_type = case when j.attempts >= j.max_attempts then 'LeaseExpired' end,
         error_message = case when j.attempts >= j.max_attempts then pg_catalog.format(
           'The worker running this job stopped before it finished (its session ended, or its %s s lease ran out), on each of %s attempts',
           j.lease_seconds, j.attempts) end,
         completed_at = case when j.attempts >= j.max_attempts then pg_catalog.clock_timestamp() end,
         lease_token = null, lease_lock = null, lease_expires_at = null, worker = null, updated_at = pg_catalog.clock_timestamp()
   where j.id in (select e.id from forecast_models.jobs e
                   where e.status = 'running'
                     and (e.lease_expires_at < pg_catalog.clock_timestamp()
                          or pg_catalog.pg_try_advisory_xact_lock(forecast_models.job_lock_key(), e.lease_lock))
                   for update skip locked);
  update forecast_models.jobs j
     set status = 'running', attempts = j.attempts + 1, lease_token = token,
         lease_lock = pg_catalog.nextval('forecast_models.job_lease_locks')::integer,
         -- Never shorter than this worker's statement_timeout: a healthy job is never taken from it.
         lease_expires_at = pg_catalog.clock_timestamp() + pg_catalog.make_interval(secs => greatest(j.lease_seconds,
           extract(epoch from pg_catalog.current_setting('statement_timeout')::interval) + 30)),
         worker = pg_catalog.left(pg_catalog.current_setting('application_name') || ' pid ' || pg_catalog.pg_backend_pid(), 200),
         started_at = pg_catalog.clock_timestamp(), updated_at = pg_catalog.clock_timestamp()
   where j.id = (select p.id from forecast_models.jobs p where p.status = 'pending' order by p.id limit 1 for update skip locked)
  returning j.* into job;
  if job.id is not null then
    perform pg_catalog.pg_advisory_lock(forecast_models.job_lock_key(), job.lease_lock);
  end if;
  commit;
  if job.id is null then
    return;
  end if;
  job_id := job.job_id;

  begin
    perform gateway.begin_request(job.submitted_role, job.submitted_claims::text, false, null);
    select * into outcome from forecast_models.job_execute(job.job_type, job.params);
    perform pg_catalog.set_config('role', 'none', true);
  exception
    -- Everything the job did is rolled back with this block, the role switch included.
    when query_canceled then
      get stacked diagnostics state = returned_sqlstate, message = message_text, detail = pg_exception_detail, context = pg_exception_context;
    when others then
      get stacked diagnostics state = returned_sqlstate, message = message_text, detail = pg_exception_detail, context = pg_exception_context;
  end;

  if state is null then
    update forecast_models.jobs j
       set status = 'completed', result = outcome.result, run_id = outcome.run_id, completed_at = pg_catalog.clock_timestamp(),
           lease_token = null, lease_lock = null, lease_expires_at = null, updated_at = pg_catalog.clock_timestamp()
     where j.id = job.id and j.lease_token = token;
  else
    select * into failure from forecast_models.job_failure(state, message, detail, context);
    if failure.error_type in ('InternalError', 'TimeoutError') then
      raise warning 'job % (%) failed: [%] % %', job.job_id, job.job_type, state, message, coalesce(detail, '');
    end if;
    update forecast_models.jobs j
       set status = 'failed', error_type = failure.error_type, error_message = failure.error_message,
           completed_at = pg_catalog.clock_timestamp(), lease_token = null, lease_lock = null, lease_expires_at = null,
           updated_at = pg_catalog.clock_timestamp()
     where j.id = job.id and j.lease_token = token;
  end if;
  if not found then
    rollback;
    perform pg_catalog.pg_advisory_unlock(forecast_models.job_lock_key(), job.lease_lock);
    raise warning 'job % lost its lease while it ran; its work was rolled back (another attempt owns it)', job.job_id;
    return;
  end if;
  commit;
  perform pg_catalog.pg_advisory_unlock(forecast_models.job_lock_key(), job.lease_lock);
end $$;
comment on procedure forecast_models.work_one(text) is
  'Runs the next pending ForecastLab job (claimed with SKIP LOCKED under a lease) as its submitter; returns its job_id, or null when none was waiting.';

-- How many jobs one account may have pending or running at once.
create or replace function forecast_models.jobs_per_account() returns integer
language sql immutable as $$ select 100 $$;

-- POST /jobs (202, every member; train needs the admin role as /forecasting/train does): the job,
-- pending. Workers are woken by NOTIFY at commit.
create or replace function api.jobs_create(job_type text default null, params jsonb default null)
returns jsonb
language plpgsql volatile set search_path = '' as $$
declare
  account uuid := util.require_account();
  normalized jsonb := forecast_models.job_params(jobs_create.job_type, jobs_create.params);
  job forecast_models.jobs;
begin
  if jobs_create.job_type = 'train' then
    perform auth.require_app_role('admin');
  end if;
  -- One account cannot fill the shared queue: its unfinished jobs are capped.
  if (select count(*) from forecast_models.jobs j where j.account_id = account and j.status in ('pending', 'running'))
     >= forecast_models.jobs_per_account() then
    raise exception 'This account already has % jobs pending or running; wait for some to finish', forecast_models.jobs_per_account()
      using errcode = 'PT429';
  end if;
  insert into forecast_models.jobs (account_id, job_id, job_type, params, submitted_by, submitted_role, submitted_claims)
  values (account, pg_catalog.replace(pg_catalog.gen_random_uuid()::text, '-', ''), jobs_create.job_type, normalized,
          auth.uid(), current_user, auth.jwt())
  returning * into job;
  perform pg_catalog.pg_notify('forecastlab_jobs', '');
  perform pg_catalog.set_config('response.status', '202', true);
  perform pg_catalog.set_config('response.headers', pg_catalog.jsonb_build_object('Location', '/jobs/' || job.job_id)::text, true);
  return forecast_models.job_json(job);
end $$;
comment on function api.jobs_create(text, jsonb) is
  'Submits a train, predict or backtest job (202, pending); a worker runs it as the caller. Send Prefer: wait=N to get it finished when it is done within N seconds.';

-- The await of POST /jobs (Prefer: wait=N), for the gateway and for psql: the job once it is
-- finished (completed, failed or cancelled), or null if it is not within `wait_seconds` (0..10).
-- The gateway asks with 0, between short sleeps of its own, so no pooled connection sleeps; a psql
-- caller may wait here, in short growing sleeps, each check one index lookup in a fresh snapshot.
create or replace function api.jobs_await(job jsonb, wait_seconds double precision default 0)
returns jsonb
language plpgsql volatile set search_path = '' as $$
declare
  found_job forecast_models.jobs := forecast_models.find_job(jobs_await.job ->> 'job_id');
  deadline timestamptz := pg_catalog.clock_timestamp()
                          + pg_catalog.make_interval(secs => least(greatest(coalesce(jobs_await.wait_seconds, 0), 0), 10));
  pause double precision := 0.002;
begin
  while found_job.status in ('pending', 'running') and pg_catalog.clock_timestamp() < deadline loop
    perform pg_catalog.pg_sleep(least(pause, extract(epoch from deadline - pg_catalog.clock_timestamp())::double precision));
    pause := least(pause * 1.5, 0.05);
    select j.* into found_job from forecast_models.jobs j where j.id = found_job.id;
  end loop;
  return case when found_job.status not in ('pending', 'running') then forecast_models.job_json(found_job) end;
end $$;
comment on function api.jobs_await(jsonb, double precision) is
  'The job {job_id} once finished, waiting up to wait_seconds (0..10) for it; null while it is still pending or running.';

-- GET /jobs: {jobs, total, page, page_size}, newest first unless sort_by names an allowed column
-- (created_at, completed_at, job_type, status; anything else is created_at descending).
create or replace function api.jobs_list(page integer default 1, page_size integer default 20, job_type text default null,
                                         status text default null, sort_by text default 'created_at', sort_order text default 'desc')
returns jsonb
language plpgsql stable set search_path = '' as $$
declare
  account uuid := util.require_account();
  problems jsonb := forecast_models.range_problems('page', jobs_list.page, 1, null)
                 || forecast_models.range_problems('page_size', jobs_list.page_size, 1, 100);
  column_name text := case when jobs_list.sort_by in ('created_at', 'completed_at', 'job_type', 'status') then jobs_list.sort_by else 'created_at' end;
  direction text := case when jobs_list.sort_by in ('created_at', 'completed_at', 'job_type', 'status') and lower(jobs_list.sort_order) = 'asc'
                         then 'asc' else 'desc' end;
  rows_ jsonb;
  total bigint;
begin
  if jsonb_array_length(problems) > 0 then
    perform forecast_models.invalid_all(problems);
  end if;
  select count(*) into total from forecast_models.jobs j
   where j.account_id = account and (jobs_list.job_type is null or j.job_type = jobs_list.job_type)
     and (jobs_list.status is null or j.status = jobs_list.status);
  execute pg_catalog.format(
    'select coalesce(pg_catalog.jsonb_agg(forecast_models.job_json(x) order by x.%1$I %2$s nulls last, x.id %2$s), ''[]'')
       from (select j.* from forecast_models.jobs j
              where j.account_id = $1 and ($2::text is null or j.job_type = $2) and ($3::text is null or j.status = $3)
              order by j.%1$I %2$s nulls last, j.id %2$s limit $4 offset $5) x', column_name, direction)
    into rows_ using account, jobs_list.job_type, jobs_list.status, jobs_list.page_size, (jobs_list.page - 1)::bigint * jobs_list.page_size;
  return jsonb_build_object('jobs', rows_, 'total', total, 'page', jobs_list.page, 'page_size', jobs_list.page_size);
end $$;
comment on function api.jobs_list(integer, integer, text, text, text, text) is
  'The account''s jobs, paged (page_size 1..100), filtered by job_type and status, sorted by an allowed column.';

-- GET /jobs/{job_id}.
create or replace function api.jobs_get(job_id text) returns jsonb
language sql stable set search_path = '' as $$
  select forecast_models.job_json(forecast_models.find_job(job_id))
$$;
comment on function api.jobs_get(text) is 'One job of the account; 404 when it has none by that id.';

-- DELETE /jobs/{job_id} (200 with the cancelled job): only a pending job can be cancelled, by the
-- member who submitted it or an admin; 400 for any other status. The claim and the cancel take
-- the same row lock, so a job is either cancelled before a worker takes it or not cancelled.
create or replace function api.jobs_cancel(job_id text) returns jsonb
language plpgsql volatile set search_path = '' as $$
declare
  job forecast_models.jobs := forecast_models.find_job(jobs_cancel.job_id);
begin
  if job.submitted_by is distinct from auth.uid() and not auth.has_app_role('admin') then
    raise exception 'Only the member who submitted job % or an admin may cancel it', job.job_id using errcode = '42501';
  end if;
  update forecast_models.jobs j set status = 'cancelled', completed_at = pg_catalog.clock_timestamp(), updated_at = pg_catalog.clock_timestamp()
   where j.id = job.id and j.status = 'pending'
  returning j.* into job;
  if not found then
    select j.* into job from forecast_models.jobs j where j.id = job.id;
    raise exception 'Job % cannot be cancelled: it is %, and only a pending job can be', job.job_id, job.status using errcode = 'PT400';
  end if;
  return forecast_models.job_json(job);
end $$;
comment on function api.jobs_cancel(text) is 'Cancels a pending job (its submitter or an admin); 400 when it is no longer pending.';

-- GET /explain/jobs/{job_id}: the explanation of a completed predict job's model (the same object
-- GET /explain/runs/{run_id} gives for the registry run the job names). 404: no such job; 400: not
-- a completed predict job.
create or replace function api.explain_job(job_id text) returns jsonb
language plpgsql stable set search_path = '' set extra_float_digits = 1 as $$
declare
  account uuid := util.require_account();
  job forecast_models.jobs := forecast_models.find_job(explain_job.job_id);
  artifact forecast_models.artifacts;
begin
  if job.job_type <> 'predict' or job.status <> 'completed' then
    raise exception 'Job % is a % job that is %: only a completed predict job can be explained', job.job_id, job.job_type, job.status
      using errcode = 'PT400';
  end if;
  if job.run_id is not null then
    return api.explain_run(job.run_id);
  end if;
  artifact := forecast_models.resolve_artifact(forecast_models.artifact_path(job.params ->> 'run_id'), 'run_id');
  if not artifact.model_type = any(forecast_models.explainable_types()) then
    raise exception 'Job %''s model has type %, which is not explainable: /explain explains naive, seasonal_naive, moving_average, weighted_moving_average and seasonal_average',
      job.job_id, artifact.model_type using errcode = 'PT400';
  end if;
  return forecast_models.explanation(account, artifact.config, artifact.store_id, artifact.product_id,
                                     artifact.train_start_date, artifact.train_end_date);
end $$;
comment on function api.explain_job(text) is
  'The explanation (as POST /explain/forecast) of the model a completed predict job used: its config, store, product and training window.';

grant execute on function forecast_models.job_json(forecast_models.jobs), forecast_models.find_job(text),
  forecast_models.job_integer(jsonb, text, integer, integer, integer), forecast_models.job_date(jsonb, text),
  forecast_models.job_model_config(jsonb, text[]), forecast_models.job_params(text, jsonb),
  forecast_models.job_execute(text, jsonb), forecast_models.job_failure(text, text, text, text),
  forecast_models.jobs_per_account(), api.jobs_create(text, jsonb), api.jobs_await(jsonb, double precision), api.jobs_list(integer, integer, text, text, text, text),
  api.jobs_get(text), api.jobs_cancel(text), api.explain_job(text)
  to authenticated, service_role;
grant execute on function forecast_models.job_failure(text, text, text, text), forecast_models.job_json(forecast_models.jobs),
  forecast_models.job_lock_key() to authenticator;
grant execute on procedure forecast_models.work_one(text) to authenticator;
