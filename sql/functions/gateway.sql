-- The gateway's entry points. Only `authenticator` may call them.

-- Every change to routes or policies wakes the gateways, which reload the catalog without a restart.
create or replace function gateway.tg_catalog__notify() returns trigger
language plpgsql volatile set search_path = '' as $$
begin
  perform pg_catalog.pg_notify('gateway_catalog', tg_table_name);
  return null;
end $$;

drop trigger if exists tg_routes__notify on gateway.routes;
create trigger tg_routes__notify after insert or update or delete or truncate on gateway.routes
  for each statement execute function gateway.tg_catalog__notify();
drop trigger if exists tg_rate_policies__notify on gateway.rate_policies;
create trigger tg_rate_policies__notify after insert or update or delete or truncate on gateway.rate_policies
  for each statement execute function gateway.tg_catalog__notify();

-- A route must name exactly one function of the api schema, so the catalog never points nowhere.
create or replace function gateway.tg_routes__check_function() returns trigger
language plpgsql stable set search_path = '' as $$
begin
  if (select count(*) from pg_catalog.pg_proc
       where proname = new.function_name and pronamespace = 'api'::regnamespace) <> 1 then
    raise exception 'route % % names api.%, which is not exactly one function of the api schema',
      new.method, new.path, new.function_name using errcode = '42883';
  end if;
  return new;
end $$;
drop trigger if exists tg_routes__check_function on gateway.routes;
create trigger tg_routes__check_function before insert or update on gateway.routes
  for each row execute function gateway.tg_routes__check_function();

-- Input arguments of a function, in order: name, SQL type, whether it has a default, and the
-- quoted identifier the gateway uses in named notation (`name => $1->>'name'`).
create or replace function gateway.function_arguments(fn oid) returns jsonb
language sql stable set search_path = '' as $$
  with args as (
    select a.name, a.type, a.mode, a.ord,
           row_number() over (partition by a.mode in ('i', 'b', 'v') order by a.ord) as in_position
      from pg_catalog.pg_proc f,
           unnest(coalesce(f.proallargtypes, f.proargtypes::oid[]),
                  coalesce(f.proargmodes, array_fill('i'::"char", array[f.pronargs])),
                  coalesce(f.proargnames, array_fill(''::text, array[f.pronargs])))
             with ordinality as a(type, mode, name, ord)
     where f.oid = fn
  )
  select coalesce(jsonb_agg(jsonb_build_object(
      'name', args.name,
      'type', pg_catalog.format_type(args.type, null),
      'sql_name', pg_catalog.quote_ident(args.name),
      'has_default', args.in_position > f.pronargs - f.pronargdefaults
    ) order by args.ord), '[]'::jsonb)
  from args, pg_catalog.pg_proc f
  where f.oid = fn and args.mode in ('i', 'b', 'v')
$$;

-- Output columns of a function returning a table, in order, as quoted identifiers ([] otherwise).
create or replace function gateway.function_columns(fn oid) returns jsonb
language sql stable set search_path = '' as $$
  select coalesce(jsonb_agg(pg_catalog.quote_ident(a.name) order by a.ord), '[]'::jsonb)
    from pg_catalog.pg_proc f,
         unnest(f.proallargtypes, f.proargmodes, f.proargnames) with ordinality as a(type, mode, name, ord)
   where f.oid = fn and a.mode in ('o', 't', 'b')
$$;

-- The whole catalog as the gateway loads it: routes, policies, and each function's signature.
create or replace function gateway.catalog() returns jsonb
language sql stable set search_path = '' as $$
  select coalesce(jsonb_agg(jsonb_build_object(
      'method', r.method,
      'path', r.path,
      'function', r.function_name,
      'function_sql', pg_catalog.format('api.%I', r.function_name),
      'min_role', r.min_role,
      'app_roles', r.app_roles,
      'rate_policy', case when p.name is not null then jsonb_build_object(
          'name', p.name, 'requests', p.requests, 'window_seconds', p.window_seconds) end,
      'cache_max_age', r.cache_max_age,
      'cache_swr', r.cache_swr,
      'summary', r.summary,
      'tag', r.tag,
      'description', coalesce(pg_catalog.obj_description(f.oid, 'pg_proc'), ''),
      'volatile', f.provolatile = 'v',
      'returns_set', f.proretset,
      'streaming', r.streaming,
      'issues_token', r.issues_token,
      'columns', gateway.function_columns(f.oid),
      'return_type', pg_catalog.format_type(f.prorettype, null),
      'args', gateway.function_arguments(f.oid)
    ) order by r.path, r.method), '[]'::jsonb)
  from gateway.routes r
  join pg_catalog.pg_proc f on f.proname = r.function_name and f.pronamespace = 'api'::regnamespace
  left join gateway.rate_policies p on p.name = r.rate_policy
$$;

-- Switches the current transaction to the request's role and claims (both transaction-local, so
-- nothing survives into the next request on this connection) and optionally makes it read-only.
-- `client_addr` is the caller's network address (auth.client_address()), for throttles that must
-- not let one caller lock out another. gateway.invoke does this for ordinary calls; a streamed call
-- runs it inside its own transaction.
drop function if exists gateway.invoke(text, text, boolean, text, jsonb);
drop function if exists gateway.begin_request(text, text, boolean);
create or replace function gateway.begin_request(request_role text, claims text, read_only boolean, client_addr text default null) returns void
language plpgsql volatile as $$
begin
  if request_role is null or request_role not in ('anon', 'authenticated', 'service_role') then
    raise exception 'unknown request role' using errcode = '28000';
  end if;
  perform set_config('role', request_role, true);
  perform set_config('request.jwt.claims', coalesce(claims, ''), true);
  perform set_config('request.client_addr', coalesce(client_addr, ''), true);
  perform set_config('response.status', '', true);
  perform set_config('response.headers', '', true);
  if read_only then
    perform set_config('transaction_read_only', 'on', true);
  end if;
end $$;
comment on function gateway.begin_request(text, text, boolean, text) is
  'Sets role, claims, client address and read-only for the rest of the caller''s transaction.';

-- One request, one round trip: gateway.begin_request, then the call the gateway built from the
-- catalog, in the single statement's own transaction. A function may set `response.status` (e.g.
-- 201) and `response.headers` (a JSON object) with set_config(…, true), as in PostgREST. A status of
-- 400 or more with a body {code, message, details} is an error that still commits (util.answer_error).
create or replace function gateway.invoke(
  request_role text, claims text, read_only boolean, call text, args jsonb, client_addr text default null,
  out body text, out status integer, out headers text
)
language plpgsql volatile as $$
begin
  perform gateway.begin_request(request_role, claims, read_only, client_addr);
  execute call into body using args;
  status := nullif(current_setting('response.status', true), '')::integer;
  headers := nullif(current_setting('response.headers', true), '');
end $$;
comment on function gateway.invoke(text, text, boolean, text, jsonb, text) is
  'Runs one API call as the request''s role and claims, in the caller''s (single-statement) transaction.';

-- GCRA over the shared table, atomically: `requests` per `window_ms`, bursts up to `requests`.
create or replace function gateway.rate_limit_take(
  bucket text, requests integer, window_ms double precision,
  out allowed boolean, out remaining integer, out retry_after_ms double precision, out reset_ms double precision
)
language plpgsql volatile set search_path = '' as $$
declare
  now_ms constant double precision := extract(epoch from pg_catalog.clock_timestamp()) * 1000;
  interval_ms constant double precision := window_ms / requests;
  tat double precision;
  next_tat double precision;
begin
  insert into gateway.rate_limits as l (bucket, tat_ms) values (rate_limit_take.bucket, now_ms)
    on conflict on constraint rate_limits_pkey do nothing;
  select greatest(l.tat_ms, now_ms) into tat from gateway.rate_limits l where l.bucket = rate_limit_take.bucket for update;
  next_tat := tat + interval_ms;
  if next_tat - now_ms > window_ms then
    allowed := false;
    retry_after_ms := next_tat - now_ms - window_ms;
    remaining := 0;
    reset_ms := tat - now_ms;
  else
    update gateway.rate_limits l set tat_ms = next_tat where l.bucket = rate_limit_take.bucket;
    allowed := true;
    retry_after_ms := 0;
    remaining := floor((window_ms - (next_tat - now_ms)) / interval_ms)::integer;
    reset_ms := next_tat - now_ms;
  end if;
end $$;

-- Buckets whose arrival time has passed carry no state worth keeping.
create or replace function gateway.rate_limit_sweep() returns integer
language sql volatile set search_path = '' as $$
  with gone as (
    delete from gateway.rate_limits where tat_ms < extract(epoch from pg_catalog.clock_timestamp()) * 1000 returning 1
  )
  select count(*)::integer from gone
$$;

grant execute on function gateway.catalog(), gateway.function_arguments(oid), gateway.function_columns(oid),
  gateway.begin_request(text, text, boolean, text), gateway.invoke(text, text, boolean, text, jsonb, text),
  gateway.rate_limit_take(text, integer, double precision), gateway.rate_limit_sweep() to authenticator;
