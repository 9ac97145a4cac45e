-- The route catalog: what the gateway serves, as the units register it, and gateway.catalog(),
-- the one document the gateway loads (and reloads when NOTIFY says the catalog changed).

-- Every change to routes, policies or aliases wakes the gateways, which reload the catalog without a restart.
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
  if new.await_function is not null and (select count(*) from pg_catalog.pg_proc
       where proname = new.await_function and pronamespace = 'api'::regnamespace) <> 1 then
    raise exception 'route % % awaits with api.%, which is not exactly one function of the api schema',
      new.method, new.path, new.await_function using errcode = '42883';
  end if;
  return new;
end $$;
drop trigger if exists tg_routes__check_function on gateway.routes;
create trigger tg_routes__check_function before insert or update on gateway.routes
  for each row execute function gateway.tg_routes__check_function();

-- How a product (a unit) registers with the core. A unit's file (sql/<unit>/unit.sql) starts with
--   select gateway.restate_unit('name', 'Title', 'What it is');
-- and then inserts its rows into gateway.rate_policies, gateway.routes, gateway.periodic_tasks,
-- gateway.job_queues,
-- gateway.path_aliases and auth.app_roles. The Migrator runs the file in one transaction, so the
-- gateways (woken at commit) see the old registration or the new one, never half of either.

drop function if exists gateway.restate_unit(text, text, text);
drop function if exists gateway.restate_unit(text, text, text, text);
create or replace function gateway.restate_unit(unit text, title text, description text default '',
                                                error_style text default 'problem', docs_path text default null) returns void
language plpgsql volatile set search_path = '' as $$
begin
  -- Routes first: they name the unit's rate policies and application roles.
  delete from gateway.routes r where r.unit = restate_unit.unit;
  delete from gateway.periodic_tasks t where t.unit = restate_unit.unit;
  delete from gateway.job_queues q where q.unit = restate_unit.unit;
  delete from gateway.path_aliases a where a.unit = restate_unit.unit;
  delete from auth.app_roles a where a.unit = restate_unit.unit;
  -- A policy another unit's route still names stops this (foreign key): say which, rather than
  -- silently taking it away from that unit.
  delete from gateway.rate_policies p where p.unit = restate_unit.unit;
  insert into gateway.units as u (name, title, description, error_style, docs_path)
    values (unit, title, description, error_style, docs_path)
    on conflict (name) do update set title = excluded.title, description = excluded.description,
                                     error_style = excluded.error_style, docs_path = excluded.docs_path;
end $$;
comment on function gateway.restate_unit(text, text, text, text, text) is
  'Forgets everything the unit registered and (re)creates the unit; its file then declares the rest.';

-- A route may gate on application roles its own unit declares, and nothing else: a typo in a
-- route's app_roles would otherwise lock everyone out of it without a word.
create or replace function gateway.tg_routes__check_app_roles() returns trigger
language plpgsql stable set search_path = '' as $$
declare
  undeclared text[];
begin
  select pg_catalog.array_agg(r) into undeclared
    from pg_catalog.unnest(new.app_roles) r
   where not exists (select from auth.app_roles a where a.unit = new.unit and a.name = r);
  if undeclared is not null then
    raise exception 'route % % gates on application roles its unit % does not declare: %',
      new.method, new.path, new.unit, pg_catalog.array_to_string(undeclared, ', ')
      using errcode = '23514', hint = 'insert them into auth.app_roles in the unit''s file first';
  end if;
  return new;
end $$;
drop trigger if exists tg_routes__check_app_roles on gateway.routes;
create trigger tg_routes__check_app_roles before insert or update on gateway.routes
  for each row execute function gateway.tg_routes__check_app_roles();

-- Registration changes that alter what the gateway serves wake the gateways too.
drop trigger if exists tg_path_aliases__notify on gateway.path_aliases;
create trigger tg_path_aliases__notify after insert or update or delete or truncate on gateway.path_aliases
  for each statement execute function gateway.tg_catalog__notify();

-- A unit's routes answer on their own path and on every alias its prefixes give.
create or replace function gateway.route_aliases(unit text, path text) returns jsonb
language sql stable set search_path = '' as $$
  select coalesce(pg_catalog.jsonb_agg(distinct a.alias || pg_catalog.substr(path, pg_catalog.length(a.prefix) + 1)), '[]')
    from gateway.path_aliases a
   where a.unit = route_aliases.unit and pg_catalog.starts_with(path, a.prefix)
$$;
comment on function gateway.route_aliases(text, text) is 'The other paths a route of the unit answers on (gateway.path_aliases).';
grant execute on function gateway.route_aliases(text, text) to authenticator;

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
      'aliases', gateway.route_aliases(r.unit, r.path),
      'unit', r.unit,
      'error_style', u.error_style,
      'docs_path', u.docs_path,
      'function', r.function_name,
      'function_sql', pg_catalog.format('api.%I', r.function_name),
      'min_role', r.min_role,
      -- Who may call it: at least min_role, and granted EXECUTE. The gateway refuses the rest
      -- itself, so a caller never passes the gateway only to be refused by the database.
      'roles', (select coalesce(pg_catalog.jsonb_agg(role order by n), '[]')
                  from pg_catalog.unnest(array['anon', 'authenticated', 'service_role']) with ordinality as request(role, n)
                 where n >= pg_catalog.array_position(array['anon', 'authenticated', 'service_role'], r.min_role)
                   and pg_catalog.has_function_privilege(role, f.oid, 'execute')),
      'app_roles', r.app_roles,
      'rate_policy', case when p.name is not null then jsonb_build_object(
          'name', p.name, 'requests', p.requests, 'window_seconds', p.window_seconds) end,
      'cache_max_age', r.cache_max_age,
      'cache_swr', r.cache_swr,
      'summary', r.summary,
      'tag', r.tag,
      'description', coalesce(pg_catalog.obj_description(f.oid, 'pg_proc'), ''),
      'returns_set', f.proretset,
      'streaming', r.streaming,
      'issues_token', r.issues_token,
      'await_sql', case when r.await_function is not null then pg_catalog.format('api.%I', r.await_function) end,
      'columns', gateway.function_columns(f.oid),
      'args', gateway.function_arguments(f.oid)
    ) order by r.path, r.method), '[]'::jsonb)
  from gateway.routes r
  join pg_catalog.pg_proc f on f.proname = r.function_name and f.pronamespace = 'api'::regnamespace
  join gateway.units u on u.name = r.unit
  left join gateway.rate_policies p on p.name = r.rate_policy
$$;

grant execute on function gateway.catalog(), gateway.function_arguments(oid), gateway.function_columns(oid) to authenticator;

-- What the gateways' worker loops serve: per queue, the CALL that runs its next job and the channel
-- that says one is waiting. A change wakes the gateways like any catalog change.
create or replace function gateway.job_queue_list() returns table (queue text, call text, channel text)
language sql stable set search_path = '' as $$
  select q.unit || '.' || q.name, pg_catalog.format('call %I.%I(null)', n.nspname, p.proname), q.channel
    from gateway.job_queues q
    join pg_catalog.pg_proc p on p.oid = q.procedure
    join pg_catalog.pg_namespace n on n.oid = p.pronamespace
   order by q.unit, q.name
$$;
comment on function gateway.job_queue_list() is 'The registered job queues: the CALL that runs the next job, and the channel that wakes workers.';
grant execute on function gateway.job_queue_list() to authenticator;

drop trigger if exists tg_job_queues__notify on gateway.job_queues;
create trigger tg_job_queues__notify after insert or update or delete or truncate on gateway.job_queues
  for each statement execute function gateway.tg_catalog__notify();
