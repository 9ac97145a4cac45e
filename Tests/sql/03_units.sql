-- Units: how a product registers with the core, and what restating a unit's file does.
begin;
select plan(23);

-- A unit of the test's own, with one of everything.
create function api.units_probe() returns jsonb language sql stable as $$ select '{}'::jsonb $$;
grant execute on function api.units_probe() to authenticated;
create function pg_temp.units_task_ok() returns jsonb language sql as $$ select '{"swept": 3}'::jsonb $$;
create function pg_temp.units_task_broken() returns jsonb language plpgsql as $$ begin return to_jsonb(1 / 0); end $$;
create function api.units_probe_await(resource jsonb, wait_seconds double precision) returns jsonb language sql stable as $$ select resource $$;
create procedure pg_temp.units_work_one(inout job_id text) language plpgsql as $$ begin job_id := null; end $$;

select lives_ok($$
  select gateway.restate_unit('probe', 'Probe', 'A unit for this test');
  insert into gateway.path_aliases (unit, prefix, alias) values ('probe', '/probe/v2/', '/probe/');
  insert into auth.app_roles (unit, name) values ('probe', 'auditor'), ('probe', 'clerk');
  insert into gateway.rate_policies (unit, name, requests, window_seconds) values ('probe', 'probe-policy', 5, 60);
  insert into gateway.routes (method, path, function_name, app_roles, rate_policy, unit) values
    ('GET', '/probe/v2/one', 'units_probe', '{auditor}', 'probe-policy', 'probe'),
    ('GET', '/probe/v2/two', 'units_probe', null, null, 'probe');
  insert into gateway.periodic_tasks (unit, name, function) values
    ('probe', 'a_broken', 'pg_temp.units_task_broken()'), ('probe', 'b_ok', 'pg_temp.units_task_ok()');
  insert into gateway.job_queues (unit, name, procedure, channel) values ('probe', 'work', 'pg_temp.units_work_one(text)', 'probe_jobs');
  insert into gateway.routes (method, path, function_name, unit, await_function) values ('POST', '/probe/v2/jobs', 'units_probe', 'probe', 'units_probe_await')
$$, 'a unit registers routes, policies, aliases, application roles, periodic tasks and job queues');

select is((select r ->> 'await_sql' from jsonb_array_elements(gateway.catalog()) r where r ->> 'path' = '/probe/v2/jobs'),
  'api.units_probe_await', 'a route that starts work names the function that awaits it');
select throws_ok($$
  insert into gateway.routes (method, path, function_name, unit, await_function) values ('POST', '/probe/v2/more', 'units_probe', 'probe', 'no_such_await')
$$, '42883', null, 'an await function must be one of the api schema');
select is((select call || ' ' || channel from gateway.job_queue_list() where queue = 'probe.work'),
  'call ' || pg_my_temp_schema()::regnamespace::text || '.units_work_one(null) probe_jobs', 'the worker loop is told the CALL and the channel of each queue');

select is(
  (select r -> 'aliases' from jsonb_array_elements(gateway.catalog()) r where r ->> 'path' = '/probe/v2/one'),
  '["/probe/one"]'::jsonb, 'a route answers on its unit''s aliases too');
select is(
  (select r -> 'aliases' from jsonb_array_elements(gateway.catalog()) r where r ->> 'path' = '/api/v1/test/whoami'),
  '["/api/test/whoami"]'::jsonb, 'another unit''s aliases apply to its own routes only');

select throws_ok($$
  insert into gateway.routes (method, path, function_name, app_roles, unit) values ('GET', '/probe/v2/three', 'units_probe', '{auditr}', 'probe')
$$, '23514', null, 'a route cannot gate on an application role its unit does not declare');
select throws_ok($$
  insert into gateway.routes (method, path, function_name, app_roles, unit) values ('GET', '/probe/v2/three', 'units_probe', '{engineer}', 'probe')
$$, '23514', null, 'nor on one only another unit declares');

-- An application role counts only while some unit declares it (read as a request role would).
set local role authenticated;
select set_config('request.jwt.claims', '{"role": "authenticated", "app_metadata": {"app_role": "clerk"}}', true);
select is(auth.app_role(), 'clerk', 'a declared application role is read from the token');
select set_config('request.jwt.claims', '{"role": "authenticated", "app_metadata": {"app_role": "overlord"}}', true);
select is(auth.app_role(), null, 'an undeclared one is no role at all');
reset role;

-- Maintenance runs every registered task; one failing does not stop or undo the others.
create temp table ticked as select * from gateway.maintenance();
select is((select failed from ticked), array['probe.a_broken'], 'a failing task is named in failed');
select is((select done -> 'probe.b_ok' from ticked), '{"swept": 3}'::jsonb, 'the tasks after it still run');
select is((select done -> 'probe.a_broken' ->> 'error' from ticked), 'division by zero', 'the failure says why');
select ok((select done ? 'hotdash.refresh_rollups' and done ? 'flowpilot.sweep_login_failures' from ticked),
  'the products'' own tasks are registered the same way');

-- Restating the unit with less: what it no longer declares is gone, other units untouched.
select lives_ok($$
  select gateway.restate_unit('probe', 'Probe again');
  insert into gateway.routes (method, path, function_name, unit) values ('GET', '/probe/v2/two', 'units_probe', 'probe')
$$, 'restating a unit starts from nothing');
select is((select array_agg(path) from gateway.routes where unit = 'probe'), array['/probe/v2/two'], 'routes it no longer declares are gone');
select is_empty($$ select from gateway.rate_policies where unit = 'probe' $$, 'so are its rate policies');
select is_empty($$ select from gateway.periodic_tasks where unit = 'probe' union all select from gateway.path_aliases where unit = 'probe'
                   union all select from auth.app_roles where unit = 'probe' union all select from gateway.job_queues where unit = 'probe' $$,
  'and its tasks, aliases, application roles and job queues');
select ok(exists (select from gateway.job_queue_list() where queue = 'forecastlab-models.jobs' and channel = 'forecastlab_jobs'),
  'ForecastLab registers its job queue like any unit');
select is((select title from gateway.units where name = 'probe'), 'Probe again', 'the unit''s own row is updated');
select ok((select count(*) from gateway.routes where unit = 'tests') > 10, 'other units keep theirs');

-- A policy another unit's route still names cannot be taken away by restating its owner.
insert into gateway.rate_policies (unit, name, requests, window_seconds) values ('probe', 'probe-shared', 1, 60);
update gateway.routes set rate_policy = 'probe-shared' where path = '/api/v1/test/whoami';
select throws_ok($$ select gateway.restate_unit('probe', 'Probe') $$, '23503', null,
  'restating fails rather than pull a policy from under another unit''s route');

-- The core names no product: none of its functions mentions one.
select is_empty($$
  select p.oid::regprocedure from pg_proc p
   where p.pronamespace in ('gateway'::regnamespace, 'auth'::regnamespace, 'util'::regnamespace)
     and p.prosrc ~* 'hotdash|flowpilot|forecast'
$$, 'no core function names a product');

select * from finish();
rollback;
