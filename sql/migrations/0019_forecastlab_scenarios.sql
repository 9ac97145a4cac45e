-- ForecastLab scenarios (docs/forecastlab-models.md, "Scenarios"; forecastlab-contract-details.md
-- §11.4): saved what-if plans, each the assumptions a caller gave and the full comparison computed
-- when it was saved (a snapshot: comparing plans later never re-forecasts). Every row belongs to an
-- account; RLS is enabled and forced (policies: sql/forecastlab_models/policies.sql, at its end);
-- the functions live in sql/forecastlab_models/scenarios.sql.

-- §11.4's scenario_plan, adapted as the unit's other tables are: a bigint identity id, the account,
-- text with checks for the varchar lengths. `scenario_id` is the external id (32 hex, unique per
-- account); `run_id` is the model artifact key the plan was simulated with (12 hex; the contract's
-- varchar(32) kept as the bound). `source`, `agent_session_id` and the approval columns are the
-- contract's, for the agent flow that does not exist yet: the api writes their defaults.
create table forecast_models.scenario_plans (
  id                bigint generated always as identity primary key,
  account_id        uuid not null,
  scenario_id       text not null check (scenario_id ~ '^[0-9a-f]{32}$'),
  name              text not null check (length(name) between 1 and 200),
  store_id          bigint not null,
  product_id        bigint not null,
  run_id            text not null check (length(run_id) between 1 and 32),
  horizon           integer not null check (horizon between 1 and 90),
  assumptions       jsonb not null check (jsonb_typeof(assumptions) = 'object'),
  comparison        jsonb not null check (jsonb_typeof(comparison) = 'object'),
  method            text not null default 'heuristic' check (method in ('heuristic', 'model_exogenous')),
  tags              jsonb not null default '[]' check (jsonb_typeof(tags) = 'array'),
  cloned_from       text check (length(cloned_from) <= 32),
  source            text not null default 'user' check (source in ('user', 'agent')),
  agent_session_id  text check (length(agent_session_id) <= 32),
  approved_by       text check (length(approved_by) <= 120),
  approved_at       timestamptz,
  approval_decision text check (approval_decision in ('approved', 'rejected')),
  created_at        timestamptz not null default now(),
  updated_at        timestamptz not null default now(),
  unique (account_id, scenario_id)
);
-- The list (newest first) and every policy filter on the account; the contract's indexes on the
-- store, the product and both, and GIN on the JSON columns (tags: the list's containment filter).
create index scenario_plans_account_created_idx on forecast_models.scenario_plans (account_id, created_at desc, id desc);
create index scenario_plans_store_idx on forecast_models.scenario_plans (store_id);
create index scenario_plans_product_idx on forecast_models.scenario_plans (product_id);
create index scenario_plans_store_product_idx on forecast_models.scenario_plans (store_id, product_id);
create index scenario_plans_assumptions_idx on forecast_models.scenario_plans using gin (assumptions);
create index scenario_plans_comparison_idx on forecast_models.scenario_plans using gin (comparison);
create index scenario_plans_tags_idx on forecast_models.scenario_plans using gin (tags);
comment on table forecast_models.scenario_plans is 'Saved what-if scenario plans: assumptions and the comparison snapshot, per account.';

alter table forecast_models.scenario_plans enable row level security, force row level security;

-- Grants are the ceiling; the policies decide whose rows. A plan is never updated (no endpoint
-- changes one: a new plan, cloned_from the old, is the edit), so there is no update grant.
grant select, delete on forecast_models.scenario_plans to authenticated, service_role;
grant insert (account_id, scenario_id, name, store_id, product_id, run_id, horizon, assumptions, comparison, method, tags, cloned_from)
  on forecast_models.scenario_plans to authenticated, service_role;
