-- The gateway's own schema: the route catalog, rate-limit policies and the shared rate-limit store.
-- Only `authenticator` (the gateway's login) reads it; no request role can.
create schema gateway;
comment on schema gateway is 'Route catalog, rate-limit policies and counters of the HTTP gateway.';
revoke all on schema gateway from public;
grant usage on schema gateway to authenticator;

create table gateway.rate_policies (
  name           text primary key,
  requests       integer not null check (requests > 0),
  window_seconds integer not null check (window_seconds > 0),
  description    text not null default ''
);
comment on table gateway.rate_policies is 'GCRA policies: `requests` per `window_seconds`, bursts up to `requests`.';

create table gateway.routes (
  method         text not null check (method in ('GET', 'POST', 'PUT', 'PATCH', 'DELETE')),
  -- Canonical path; `{name}` segments bind to the function argument of that name.
  -- `/api/v1/x` is also served as `/api/x`, and the other way round.
  path           text not null check (path ~ '^(/[A-Za-z0-9_.-]+|/\{[a-z_][a-z0-9_]*\})+$'),
  function_name  name not null,
  min_role       text not null default 'authenticated' check (min_role in ('anon', 'authenticated', 'service_role')),
  app_roles      text[] check (app_roles <@ array['viewer', 'engineer', 'admin']),
  rate_policy    text references gateway.rate_policies (name) on delete restrict,
  -- null: Cache-Control no-store. Tenant data is always `private` (never a shared cache).
  cache_max_age  integer check (cache_max_age >= 0),
  cache_swr      integer check (cache_swr >= 0),
  summary        text not null default '',
  tag            text not null default 'default',
  -- The file that declared the route, so a file can restate its routes wholesale.
  source         text not null,
  primary key (method, path)
);
comment on table gateway.routes is 'HTTP routes: each calls one function of the api schema.';

-- Shared by every gateway instance when RATE_LIMIT_STORE=postgres. Unlogged: losing it in a crash
-- only forgives some requests, and it spares the WAL on the hottest write path.
create unlogged table gateway.rate_limits (
  bucket text primary key,
  tat_ms double precision not null  -- GCRA theoretical arrival time, epoch milliseconds
);

alter table gateway.rate_policies enable row level security, force row level security;
alter table gateway.routes enable row level security, force row level security;
alter table gateway.rate_limits enable row level security, force row level security;
create policy "The gateway reads rate policies" on gateway.rate_policies for select to authenticator using (true);
create policy "The gateway reads routes" on gateway.routes for select to authenticator using (true);
create policy "The gateway keeps rate-limit buckets" on gateway.rate_limits for all to authenticator using (true) with check (true);
grant select on gateway.rate_policies, gateway.routes to authenticator;
grant select, insert, update, delete on gateway.rate_limits to authenticator;
