-- Products are units: each registers in the catalog what the core serves and runs for it (routes,
-- rate policies, periodic tasks, path aliases, application roles), so the core names no product.
-- A unit's file restates its registration whole (gateway.restate_unit in sql/core/units.sql).

create table gateway.units (
  name        text primary key check (name ~ '^[a-z][a-z0-9_-]*$'),
  title       text not null,
  description text not null default '',
  -- How the unit's errors look to its clients. `problem`: 400 VALIDATION_ERROR with
  -- `details.errors: [{parameter, message}]`, types `/problems/<code>`. `fastapi`: what clients of a
  -- FastAPI + Pydantic service read: 422 with a top-level `errors: [{field, message, type}]`,
  -- types `/errors/<name>`, titles from the code, `instance` `/requests/<request id>`.
  error_style text not null default 'problem' check (error_style in ('problem', 'fastapi')),
  -- Where the unit's clients expect the API's docs page (the gateway serves /api/docs for all).
  docs_path   text check (docs_path ~ '^(/[A-Za-z0-9_.-]+)+$')
);
comment on table gateway.units is 'Products (and the tests'' fixtures) registered with the core.';

-- Routes already declared by their file (`source`): that file is their unit now.
insert into gateway.units (name, title) select distinct source, source from gateway.routes;
alter table gateway.routes rename column source to unit;
alter table gateway.routes add foreign key (unit) references gateway.units on delete cascade;
comment on column gateway.routes.unit is 'The unit that declared the route; restating the unit replaces its routes.';

-- Application roles are whatever the units declare, not a list fixed here (0003 fixed one).
alter table gateway.routes drop constraint routes_app_roles_check;

-- A policy belongs to the unit whose routes use it; one no route uses is dropped. Deleting a policy
-- a route still names fails at the end of the statement (not at once), so a unit's cascade can
-- delete its routes and policies together.
alter table gateway.rate_policies add column unit text references gateway.units on delete cascade;
update gateway.rate_policies p
   set unit = (select min(r.unit) from gateway.routes r where r.rate_policy = p.name);
delete from gateway.rate_policies where unit is null;
alter table gateway.rate_policies alter column unit set not null;
alter table gateway.routes drop constraint routes_rate_policy_fkey;
alter table gateway.routes add constraint routes_rate_policy_fkey
  foreign key (rate_policy) references gateway.rate_policies (name) on delete no action;

-- Work the gateway's maintenance tick runs for a unit: a function of no required arguments that
-- returns what it did (gateway.maintenance() calls each in a subtransaction of its own).
create table gateway.periodic_tasks (
  unit     text not null references gateway.units on delete cascade,
  name     text not null check (name ~ '^[a-z][a-z0-9_]*$'),
  function regprocedure not null,
  primary key (unit, name)
);
comment on table gateway.periodic_tasks is 'Functions gateway.maintenance() runs on every tick, per unit.';

-- A unit's routes whose path starts with `prefix` are also served with `alias` in its place
-- (`/api/v1/` → `/api/`: the same route under a spec's older path).
create table gateway.path_aliases (
  unit   text not null references gateway.units on delete cascade,
  prefix text not null check (prefix ~ '^/([A-Za-z0-9_.-]+/)*$'),
  alias  text not null check (alias ~ '^/([A-Za-z0-9_.-]+/)*$'),
  primary key (unit, prefix, alias),
  check (prefix <> alias)
);
comment on table gateway.path_aliases is 'Other paths a unit''s routes answer on: prefix replaced by alias.';

-- Application roles within an account (a token's app_metadata.app_role), declared by the units that
-- gate on them. auth.app_role() reads this, so every request role may read it (nothing secret).
create table auth.app_roles (
  unit        text not null references gateway.units on delete cascade,
  name        text not null check (name ~ '^[a-z][a-z0-9_]*$'),
  description text not null default '',
  primary key (unit, name)
);
comment on table auth.app_roles is 'Application roles the units declare; a token''s app_role counts only if declared here.';
create index on auth.app_roles (name);
insert into auth.app_roles (unit, name)
  select u.unit, r.name from (select distinct unit from gateway.routes where app_roles is not null) u,
       unnest(array['viewer', 'engineer', 'admin']) r(name);

alter table gateway.units enable row level security, force row level security;
alter table gateway.periodic_tasks enable row level security, force row level security;
alter table gateway.path_aliases enable row level security, force row level security;
alter table auth.app_roles enable row level security, force row level security;
create policy "The gateway reads units" on gateway.units for select to authenticator using (true);
create policy "The gateway reads periodic tasks" on gateway.periodic_tasks for select to authenticator using (true);
create policy "The gateway reads path aliases" on gateway.path_aliases for select to authenticator using (true);
-- Whoever is granted SELECT (request roles here; a unit grants its own definer roles) reads all.
create policy "Everyone granted reads the application roles" on auth.app_roles for select using (true);
grant select on gateway.units, gateway.periodic_tasks, gateway.path_aliases to authenticator;
grant select on auth.app_roles to anon, authenticated, service_role;
