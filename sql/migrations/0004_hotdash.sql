-- Hot Dash: a shop's orders, customers, storefront sessions and its AI agent's work.
-- Every row belongs to an account (a shop); RLS is forced, so a shop only ever sees its own rows,
-- whether it asks over HTTP or from psql.

-- Owns the rollups (materialized views) and the few SECURITY DEFINER functions that refresh and
-- read them. It cannot log in; it reads every shop's rows only through the policies below.
do $$
begin
  if not exists (select from pg_roles where rolname = 'hotdash_rollup') then
    create role hotdash_rollup nologin noinherit;
  end if;
end $$;
-- The migrating user must be able to create objects owned by it (a no-op for a superuser).
grant hotdash_rollup to current_user;

create schema hotdash;
comment on schema hotdash is 'Hot Dash data (private): read it through the api functions.';
revoke all on schema hotdash from public;
grant usage on schema hotdash to authenticated, service_role, hotdash_rollup;
grant create on schema hotdash to hotdash_rollup;

-- Helpers shared by every product's api functions.
create schema util;
comment on schema util is 'Helpers for api functions: validation errors and the like.';
revoke all on schema util from public;
grant usage on schema util to anon, authenticated, service_role, hotdash_rollup;

create table hotdash.shops (
  account_id uuid primary key,
  name       text not null,
  created_at timestamptz not null default now()
);
comment on table hotdash.shops is 'One row per shop; the account id is the tenant key of every other table.';

create table hotdash.customers (
  id         bigint generated always as identity primary key,
  account_id uuid not null references hotdash.shops on delete cascade,
  name       text not null,
  email      text,
  phone      text,
  -- A customer is "new" in a period when they were created in it, "returning" otherwise.
  created_at timestamptz not null default now()
);
create index customers_account_idx on hotdash.customers (account_id);

create table hotdash.orders (
  id                 bigint generated always as identity primary key,
  account_id         uuid not null references hotdash.shops on delete cascade,
  customer_id        bigint references hotdash.customers on delete set null,
  created_at         timestamptz not null default now(),
  total_amount       numeric(12, 2) not null check (total_amount >= 0),
  -- Cancelled orders count nowhere: not in volume, revenue nor fulfillment.
  status             text not null default 'paid' check (status in ('pending', 'paid', 'refunded', 'cancelled')),
  fulfillment_status text not null default 'unfulfilled' check (fulfillment_status in ('unfulfilled', 'partial', 'fulfilled')),
  fulfilled_at       timestamptz
);
create index orders_account_created_idx on hotdash.orders (account_id, created_at);
create index orders_customer_idx on hotdash.orders (customer_id);
-- The rollups scan recent orders of every shop at once.
create index orders_created_idx on hotdash.orders (created_at);

create table hotdash.storefront_sessions (
  id          bigint generated always as identity primary key,
  account_id  uuid not null references hotdash.shops on delete cascade,
  customer_id bigint references hotdash.customers on delete set null,
  started_at  timestamptz not null default now()
);
create index storefront_sessions_started_idx on hotdash.storefront_sessions (started_at);
create index storefront_sessions_account_idx on hotdash.storefront_sessions (account_id, started_at);
create index storefront_sessions_customer_idx on hotdash.storefront_sessions (customer_id);

create table hotdash.approval_queue (
  id          bigint generated always as identity primary key,
  account_id  uuid not null references hotdash.shops on delete cascade,
  agent_type  text not null,
  status      text not null default 'pending' check (status in ('pending', 'approved', 'rejected', 'edited')),
  priority    text not null default 'normal' check (priority in ('urgent', 'high', 'normal', 'low')),
  confidence  numeric(5, 2) not null check (confidence between 0 and 100),
  created_at  timestamptz not null default now(),
  resolved_at timestamptz,
  check ((status = 'pending') = (resolved_at is null))
);
create index approval_queue_created_idx on hotdash.approval_queue (created_at);
create index approval_queue_account_idx on hotdash.approval_queue (account_id, created_at);

create table hotdash.agent_queries (
  id                bigint generated always as identity primary key,
  account_id        uuid not null references hotdash.shops on delete cascade,
  agent_type        text not null,
  created_at        timestamptz not null default now(),
  approved          boolean not null default false,
  human_edited      boolean not null default false,
  latency_ms        integer not null check (latency_ms >= 0),
  accuracy_score    numeric(3, 2) check (accuracy_score between 1 and 5),
  helpfulness_score numeric(3, 2) check (helpfulness_score between 1 and 5),
  tone_score        numeric(3, 2) check (tone_score between 1 and 5),
  safe_to_send      boolean not null default false
);
create index agent_queries_created_idx on hotdash.agent_queries (created_at);
create index agent_queries_account_idx on hotdash.agent_queries (account_id, created_at);

create table hotdash.training_examples (
  id                bigint generated always as identity primary key,
  account_id        uuid not null references hotdash.shops on delete cascade,
  conversation_id   bigint not null,
  -- The customer in the conversation: their name is redacted from the texts of a PII-free export.
  customer_id       bigint references hotdash.customers on delete set null,
  input_text        text not null,
  model_draft       text not null,
  notes             text,
  safe_to_send      boolean not null,
  category          text not null,
  sentiment         text not null check (sentiment in ('positive', 'neutral', 'negative')),
  tone              text not null,
  accuracy_score    numeric(3, 2) not null check (accuracy_score between 1 and 5),
  helpfulness_score numeric(3, 2) not null check (helpfulness_score between 1 and 5),
  tone_score        numeric(3, 2) not null check (tone_score between 1 and 5),
  confidence        numeric(4, 3) not null check (confidence between 0 and 1),
  response_time_ms  integer not null check (response_time_ms >= 0),
  annotator         text not null,
  created_at        timestamptz not null default now(),
  -- The texts with PII replaced, kept up to date by a trigger (functions/hotdash_export.sql):
  -- redaction runs once per write, so an export is a plain read.
  input_text_redacted  text,
  model_draft_redacted text,
  notes_redacted       text
);
create index training_examples_created_idx on hotdash.training_examples (created_at);
create index training_examples_account_idx on hotdash.training_examples (account_id, created_at);
create index training_examples_customer_idx on hotdash.training_examples (customer_id);

-- RLS is forced on every table; the policies are in policies/hotdash.sql (they call auth.*).
do $$
declare
  t text;
begin
  foreach t in array array['shops', 'customers', 'orders', 'storefront_sessions', 'approval_queue',
                           'agent_queries', 'training_examples'] loop
    execute format('alter table hotdash.%I enable row level security, force row level security', t);
    execute format('grant select on hotdash.%I to authenticated, hotdash_rollup', t);
    execute format('grant select, insert, update, delete on hotdash.%I to service_role', t);
  end loop;
end $$;
