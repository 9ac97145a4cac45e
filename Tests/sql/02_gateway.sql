-- The gateway's SQL: gateway.invoke, the catalog, the rate-limit store, the OpenAPI document.
begin;
select plan(33);

-- Only the gateway's login may use the gateway schema.
select ok(not has_schema_privilege('anon', 'gateway', 'usage'), 'anon cannot use the gateway schema');
select ok(not has_schema_privilege('authenticated', 'gateway', 'usage'), 'authenticated cannot use the gateway schema');
select ok(not has_function_privilege('service_role', 'gateway.invoke(text, text, boolean, text, jsonb, text)', 'execute'), 'service_role cannot call gateway.invoke');
select ok(has_function_privilege('authenticator', 'gateway.invoke(text, text, boolean, text, jsonb, text)', 'execute'), 'authenticator can call gateway.invoke');

-- The catalog
select is(
  (select r -> 'args' from jsonb_array_elements(gateway.catalog()) r where r ->> 'path' = '/api/v1/test/typed' and r ->> 'method' = 'GET') -> 0,
  '{"name": "n", "type": "integer", "sql_name": "n", "has_default": false}'::jsonb,
  'the catalog gives each argument''s name, type and default');
select is(
  (select (r -> 'args' -> 1 ->> 'has_default')::boolean from jsonb_array_elements(gateway.catalog()) r where r ->> 'path' = '/api/v1/test/typed' and r ->> 'method' = 'GET'),
  true, 'arguments with defaults are marked');
select is(
  (select r -> 'rate_policy' from jsonb_array_elements(gateway.catalog()) r where r ->> 'path' = '/api/v1/test/limited'),
  '{"name": "test-minute", "requests": 2, "window_seconds": 60}'::jsonb, 'routes carry their rate policy');
select throws_ok(
  $$ insert into gateway.routes (method, path, function_name, unit) values ('GET', '/nowhere', 'no_such_function', 'tests') $$,
  '42883', null, 'a route must name a function of the api schema');
select throws_ok(
  $$ insert into gateway.routes (method, path, function_name, unit) values ('GET', '/bad path', 'test_whoami', 'tests') $$,
  '23514', null, 'route paths are checked');
select has_trigger('gateway', 'routes', 'tg_routes__notify', 'changing routes notifies the gateways');

-- The shared rate limit: a sliding window, exact for every window (times given as now_ms)
create temp table takes (n int, allowed boolean, retry double precision);
insert into takes select 1, allowed, retry_after_ms from gateway.rate_limit_take('pgtap-bucket', 2, 60000, 0);
insert into takes select 2, allowed, retry_after_ms from gateway.rate_limit_take('pgtap-bucket', 2, 60000, 1000);
insert into takes select 3, allowed, retry_after_ms from gateway.rate_limit_take('pgtap-bucket', 2, 60000, 2000);
select is((select array_agg(allowed order by n) from takes), array[true, true, false], 'two requests pass, the third in the same minute is refused');
select is((select retry from takes where n = 3), 59000::double precision, 'the refusal says when the oldest has left the window');
select ok(not (select allowed from gateway.rate_limit_take('pgtap-bucket', 2, 60000, 60999)), 'still refused while both are within a minute');
select ok((select allowed from gateway.rate_limit_take('pgtap-bucket', 2, 60000, 61000)), 'one more once the first has left');
-- 60 per minute with twice that demand for five minutes: never more than 60 in any 60 s.
create temp table admitted as
  select t from generate_series(0, 299500, 500) t
   where (select allowed from gateway.rate_limit_take('pgtap-sixty', 60, 60000, t));
select is((select max((select count(*) from admitted b where b.t > a.t - 60000 and b.t <= a.t)) from admitted a)::int, 60,
  'no 60-second window holds more than 60 requests');
select ok((select count(*) from admitted) >= 290, 'and the limit is used: about 60 a minute get through');
-- A bucket kept from a shorter window (slot numbers twice as large) starts afresh, not an error.
select ok((select allowed from gateway.rate_limit_take('pgtap-sixty', 60, 120000, 299600)), 'a bucket of another window starts afresh');

-- OpenAPI
select is(
  (select count(*) from jsonb_each(gateway.openapi() -> 'paths') p, jsonb_each(p.value) o)::int,
  (select count(distinct o.value ->> 'operationId') from jsonb_each(gateway.openapi() -> 'paths') p, jsonb_each(p.value) o)::int,
  'every operation id is unique');

-- invoke (last: read-only calls leave this test's one transaction read-only)
set local role authenticator;
select is(
  (select body from gateway.invoke('anon', '', false, 'select auth.client_address()', '{}', '192.0.2.7')),
  '192.0.2.7', 'invoke hands the client address to auth.client_address()');
set local role authenticator;
select is(
  (select body from gateway.invoke('anon', '', false, 'select auth.client_address()', '{}')),
  null, 'no address (psql, or none given) reads as null');
set local role authenticator;
select is(
  (select array[status::text, body::jsonb ->> 'code', headers::jsonb ->> 'Retry-After']
     from gateway.invoke('anon', '', false, 'select util.answer_error(429, ''RATE_LIMIT_EXCEEDED'', ''slow down'', headers => ''{"Retry-After": "7"}'')::text', '{}')),
  array['429', 'RATE_LIMIT_EXCEEDED', '7'], 'util.answer_error answers an error with its status and headers, without raising');
select is(util.found('{"id": 1}', 'no such thing'), '{"id": 1}'::jsonb, 'util.found passes a value through');
select throws_ok($$select util.found(null, 'no such thing')$$, 'PT404', 'no such thing', '… and makes a missing one a 404 with its message');
set local role authenticator;
-- the call runs as the request's role, with its claims
select is(
  (select body::jsonb ->> 'user' from gateway.invoke('authenticated', '{"sub":"11111111-1111-1111-1111-111111111111","app_metadata":{"account_id":"aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa"}}', true, 'select api.test_whoami()::text', '{}')),
  'authenticated', 'invoke switches to the token''s role');
set local role authenticator;
select is(
  (select body::jsonb ->> 'account' from gateway.invoke('authenticated', '{"app_metadata":{"account_id":"aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa"}}', true, 'select api.test_whoami()::text', '{}')),
  'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'invoke passes the claims to auth.account_id()');
set local role authenticator;
select is(
  (select body::jsonb -> 'claims' from gateway.invoke('anon', '', true, 'select api.test_whoami()::text', '{}')),
  '{}'::jsonb, 'anonymous calls see no claims');
set local role authenticator;
select is(
  (select body::jsonb ->> 'read_only' from gateway.invoke('anon', '', true, 'select api.test_whoami()::text', '{}')),
  'on', 'read_only makes the transaction read-only');
set local role authenticator;
select is(
  (select body::jsonb from gateway.invoke('authenticated', '', false, 'select api.test_typed(n => ($1->>''n'')::integer)::text', '{"n": "5"}')) ->> 'label',
  'x', 'arguments left out take their defaults');
set local role authenticator;
select results_eq(
  $$ select status, headers::jsonb from gateway.invoke('authenticated', '', false, 'select api.test_create(name => ($1->>''name'')::text)::text', '{"name": "a"}') $$,
  $$ values (201, '{"Location": "/api/v1/test/things/a", "Content-Length": "1"}'::jsonb) $$,
  'a function sets the status and headers');
set local role authenticator;
select throws_ok(
  $$ select gateway.invoke('authenticated', '', true, 'select api.test_write_on_get()::text', '{}') $$,
  '25006', null, 'a read-only call cannot write');
set local role authenticator;
select throws_ok(
  $$ select gateway.invoke('anon', '', false, 'select api.test_create(name => ''x'')::text', '{}') $$,
  '42501', null, 'a role without EXECUTE is refused by the database itself');
set local role authenticator;
select throws_ok(
  $$ select gateway.invoke('postgres', '', false, 'select 1::text', '{}') $$,
  '28000', 'unknown request role', 'only the three request roles can be assumed');
set local role authenticator;
select is(current_setting('request.jwt.claims', true), '', 'claims set by invoke end with the statement''s transaction in the gateway (here: cleared by the next call)');
reset role;

select * from finish();
rollback;
