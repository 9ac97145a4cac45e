-- Loaded once into the throw-away test database before pg_prove runs the files in Tests/sql/.
create extension if not exists pgtap;
-- The Migrator revokes EXECUTE from PUBLIC by default; test files call pgTAP after switching roles.
-- pgTAP's functions only: a grant on every function of public would also hide a missing grant on
-- another extension's (pgvector's), which the request roles must get from the migrations.
do $$
declare
  fn regprocedure;
begin
  for fn in select p.oid::regprocedure from pg_proc p
              join pg_depend d on d.classid = 'pg_proc'::regclass and d.objid = p.oid and d.deptype = 'e'
              join pg_extension e on e.oid = d.refobjid and e.extname = 'pgtap' loop
    execute format('grant execute on function %s to anon, authenticated, service_role, authenticator', fn);
  end loop;
end $$;

create schema if not exists tests;
grant usage on schema tests to anon, authenticated, service_role;

-- Act as a given user of a given account, exactly as the gateway does for a verified token:
-- claims and role are transaction-local, so the test's final rollback forgets them.
create or replace function tests.authenticate_as(
  db_role text, user_id uuid default null, account uuid default null, app_role text default null
) returns void language plpgsql as $$
begin
  perform set_config('request.jwt.claims', jsonb_strip_nulls(jsonb_build_object(
    'sub', user_id, 'role', db_role,
    'app_metadata', nullif(jsonb_strip_nulls(jsonb_build_object('account_id', account, 'app_role', app_role)), '{}'::jsonb)
  ))::text, true);
  perform set_config('role', db_role, true);
end $$;

create or replace function tests.clear_authentication() returns void language plpgsql as $$
begin
  perform set_config('role', 'none', true);
  perform set_config('request.jwt.claims', '', true);
end $$;
grant execute on all functions in schema tests to anon, authenticated, service_role;

-- Schemas that hold no product data and so need no row-level security.
create or replace function tests.exempt_schemas() returns text[] language sql immutable as $$
  select array['pg_catalog', 'information_schema', 'pg_toast', 'migrator', 'tests']
$$;

create or replace function tests.tables_without_forced_rls() returns setof text language sql stable as $$
  select format('%I.%I', n.nspname, c.relname)
    from pg_class c join pg_namespace n on n.oid = c.relnamespace
   where c.relkind in ('r', 'p')
     and n.nspname <> all (tests.exempt_schemas()) and n.nspname not like 'pg\_temp%' and n.nspname not like 'pg\_toast%'
     and not (c.relrowsecurity and c.relforcerowsecurity)
     -- extension-owned tables (pgTAP's) are not ours
     and not exists (select from pg_depend d where d.objid = c.oid and d.deptype = 'e')
   order by 1
$$;

create or replace function tests.security_definer_functions() returns setof text language sql stable as $$
  select p.oid::regprocedure::text
    from pg_proc p join pg_namespace n on n.oid = p.pronamespace
   where p.prosecdef and n.nspname <> all (tests.exempt_schemas())
     and not exists (select from pg_depend d where d.objid = p.oid and d.deptype = 'e')
   order by 1
$$;

create or replace function tests.security_definer_without_search_path() returns setof text language sql stable as $$
  select p.oid::regprocedure::text
    from pg_proc p join pg_namespace n on n.oid = p.pronamespace
   where p.prosecdef and n.nspname <> all (tests.exempt_schemas())
     and not exists (select from unnest(p.proconfig) c where c like 'search\_path=%')
   order by 1
$$;

-- Our functions that PUBLIC (every role, present and future) may execute.
create or replace function tests.functions_executable_by_public() returns setof text language sql stable as $$
  select p.oid::regprocedure::text
    from pg_proc p join pg_namespace n on n.oid = p.pronamespace
   where n.nspname <> all (tests.exempt_schemas() || array['public'])
     and not exists (select from pg_depend d where d.objid = p.oid and d.deptype = 'e')
     and (p.proacl is null or exists (select from aclexplode(p.proacl) a where a.grantee = 0 and a.privilege_type = 'EXECUTE'))
   order by 1
$$;

-- Acts as a member of an account with an application role, the state of any earlier call cleared.
create or replace function tests.as_member(account uuid, app_role text) returns void language plpgsql as $$
begin
  perform tests.clear_authentication();
  perform set_config('response.status', '', true);
  perform tests.authenticate_as('authenticated', gen_random_uuid(), account, app_role);
end $$;

-- What a call raised: {sqlstate, message, errors} (errors from a JSON detail), or null when it did not.
create or replace function tests.error_of(call text) returns jsonb language plpgsql as $$
declare
  state text;
  message text;
  detail text;
begin
  execute call;
  return null;
exception when others then
  get stacked diagnostics state = returned_sqlstate, message = message_text, detail = pg_exception_detail;
  return jsonb_build_object('sqlstate', state, 'message', message,
                            'errors', case when detail like '{%' then detail::jsonb -> 'errors' end);
end $$;
-- The fields a 422 named, in order ({errors: [{field, …}]} as tests.error_of returns it).
create or replace function tests.error_fields(error jsonb) returns text[] language sql immutable as $$
  select array(select e ->> 'field' from jsonb_array_elements(error -> 'errors') e)
$$;
grant execute on function tests.as_member(uuid, text), tests.error_of(text), tests.error_fields(jsonb) to anon, authenticated, service_role;

-- Two accounts' ForecastLab catalog as the model tests use it: account a has stores S1 and S2 and
-- products P1 and P2, account b one store and one product; their ids in the temp table t_a
-- (s, s2, p, p2, bs, bp), readable by the request roles.
create or replace function tests.forecast_catalog(a uuid, b uuid, base_price numeric) returns void language plpgsql as $$
begin
  insert into forecast.stores (account_id, store_code, name) select a, code, code from unnest(array['S1', 'S2']) code;
  insert into forecast.products (account_id, sku, name, base_price) select a, sku, sku, forecast_catalog.base_price from unnest(array['P1', 'P2']) sku;
  insert into forecast.stores (account_id, store_code, name) values (b, 'S1', 'B');
  insert into forecast.products (account_id, sku, name, base_price) values (b, 'P1', 'B', forecast_catalog.base_price);
  create temp table t_a as select
    (select id from forecast.stores where account_id = a and store_code = 'S1') as s,
    (select id from forecast.stores where account_id = a and store_code = 'S2') as s2,
    (select id from forecast.products where account_id = a and sku = 'P1') as p,
    (select id from forecast.products where account_id = a and sku = 'P2') as p2,
    (select id from forecast.stores where account_id = b) as bs,
    (select id from forecast.products where account_id = b) as bp;
  grant select on t_a to authenticated, service_role;
end $$;
