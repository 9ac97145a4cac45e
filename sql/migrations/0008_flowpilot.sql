-- FlowPilot: accounts and their users, troubleshooting decision trees, the sessions that walk
-- them, AI session steps, and AI-to-human handoffs (Escalation Mode). Every row belongs to an
-- account; RLS is forced (policies: sql/policies/flowpilot.sql).

-- Owns the few SECURITY DEFINER functions that act before anyone is logged in (register, login,
-- refresh), on secrets no member may read (refresh tokens, invitations), or on derived columns
-- members must not write (a handoff's first action). It cannot log in.
do $$
begin
  if not exists (select from pg_roles where rolname = 'flowpilot_system') then
    create role flowpilot_system nologin noinherit;
  end if;
end $$;
grant flowpilot_system to current_user;

-- bcrypt (crypt/gen_salt), random bytes and SHA-256 for refresh tokens. Only flowpilot_system may
-- use the schema, so no request role can call these directly.
create schema if not exists extensions;
revoke all on schema extensions from public;
create extension if not exists pgcrypto with schema extensions;
grant usage on schema extensions to flowpilot_system;
grant execute on function extensions.crypt(text, text), extensions.gen_salt(text, integer),
  extensions.gen_random_bytes(integer), extensions.digest(text, text) to flowpilot_system;

create schema flowpilot;
comment on schema flowpilot is 'FlowPilot data (private): read and write it through the api functions.';
revoke all on schema flowpilot from public;
grant usage on schema flowpilot to authenticated, service_role, flowpilot_system;
grant usage on schema util, auth to flowpilot_system;

create table flowpilot.accounts (
  id         uuid primary key default gen_random_uuid(),
  name       text not null check (length(name) between 1 and 200),
  created_at timestamptz not null default now()
);

create table flowpilot.users (
  id            uuid primary key default gen_random_uuid(),
  account_id    uuid not null references flowpilot.accounts on delete cascade,
  -- Stored lower-cased: one address, one user, whatever the caller's capitalisation.
  email         text not null unique check (email = lower(email) and email ~ '^[^@\s]+@[^@\s]+$'),
  full_name     text not null default '',
  password_hash text not null,
  role          text not null default 'viewer' check (role in ('viewer', 'engineer', 'admin')),
  is_active     boolean not null default true,
  created_at    timestamptz not null default now(),
  updated_at    timestamptz not null default now()
);
create index users_account_idx on flowpilot.users (account_id);

-- An admin invites an address with a role; registering with the code joins that account with
-- that role. The code itself is never stored, only its SHA-256.
create table flowpilot.invitations (
  id          uuid primary key default gen_random_uuid(),
  account_id  uuid not null references flowpilot.accounts on delete cascade,
  email       text not null check (email = lower(email)),
  role        text not null check (role in ('viewer', 'engineer', 'admin')),
  code_hash   bytea not null unique,
  created_by  uuid references flowpilot.users on delete set null,
  created_at  timestamptz not null default now(),
  expires_at  timestamptz not null,
  accepted_at timestamptz
);
create index invitations_account_idx on flowpilot.invitations (account_id);
create index invitations_created_by_idx on flowpilot.invitations (created_by);

-- Refresh tokens: random, stored as SHA-256, single use. Each login starts a family; every
-- refresh replaces the token with the next of its family. Presenting a used token again means it
-- was stolen (or replayed): the whole family is revoked.
create table flowpilot.refresh_tokens (
  id         uuid primary key default gen_random_uuid(),
  family_id  uuid not null,
  user_id    uuid not null references flowpilot.users on delete cascade,
  account_id uuid not null references flowpilot.accounts on delete cascade,
  token_hash bytea not null unique,
  created_at timestamptz not null default now(),
  expires_at timestamptz not null,
  used_at    timestamptz,
  revoked_at timestamptz
);
create index refresh_tokens_family_idx on flowpilot.refresh_tokens (family_id);
create index refresh_tokens_user_idx on flowpilot.refresh_tokens (user_id);
create index refresh_tokens_account_idx on flowpilot.refresh_tokens (account_id);

-- Failed logins, keyed by the address tried AND the client that tried it: a client that keeps
-- failing is slowed down, but cannot lock the owner (another client) out.
create table flowpilot.login_failures (
  email       text not null,
  client_addr text not null,
  failed_at   timestamptz not null default now()
);
create index login_failures_key_idx on flowpilot.login_failures (email, client_addr, failed_at);

-- A decision tree: nodes [{id, text, kind: question|solution, options: [{label, next}]}]. The
-- root is the one node no option leads to; the structure is checked on every write.
create table flowpilot.trees (
  id           uuid primary key default gen_random_uuid(),
  account_id   uuid not null references flowpilot.accounts on delete cascade,
  title        text not null check (length(title) between 1 and 200),
  description  text not null default '',
  category     text not null default 'general' check (length(category) between 1 and 100),
  nodes        jsonb not null,
  root_node_id text not null,
  -- Optimistic concurrency: an update names the version it read; a stale one is a 409.
  version      integer not null default 1,
  created_by   uuid references flowpilot.users on delete set null,
  created_at   timestamptz not null default now(),
  updated_at   timestamptz not null default now(),
  search       tsvector generated always as (
    setweight(to_tsvector('english', title), 'A') ||
    setweight(to_tsvector('english', description), 'B') ||
    setweight(to_tsvector('english', coalesce(jsonb_path_query_array(nodes, '$[*].text')::text, '')), 'C')
  ) stored
);
create index trees_account_title_idx on flowpilot.trees (account_id, title);
create index trees_account_category_idx on flowpilot.trees (account_id, category);
create index trees_created_by_idx on flowpilot.trees (created_by);
create index trees_search_idx on flowpilot.trees using gin (search);

-- A walk through a tree. The nodes are copied at the start, so editing the tree later never
-- breaks a session in progress.
create table flowpilot.sessions (
  id              uuid primary key default gen_random_uuid(),
  account_id      uuid not null references flowpilot.accounts on delete cascade,
  user_id         uuid not null references flowpilot.users on delete cascade,
  tree_id         uuid references flowpilot.trees on delete set null,
  tree_title      text not null,
  tree_version    integer not null,
  nodes           jsonb not null,
  current_node_id text not null,
  -- [{node_id, question, answer, at}], in order.
  path            jsonb not null default '[]',
  notes           text not null default '',
  status          text not null default 'in_progress' check (status in ('in_progress', 'completed')),
  resolution      text,
  started_at      timestamptz not null default now(),
  updated_at      timestamptz not null default now(),
  completed_at    timestamptz
);
create index sessions_account_user_idx on flowpilot.sessions (account_id, user_id, started_at desc);
create index sessions_account_started_idx on flowpilot.sessions (account_id, started_at desc);
create index sessions_user_idx on flowpilot.sessions (user_id);
create index sessions_tree_idx on flowpilot.sessions (tree_id);

-- What the AI (or a human) did in a session, in order. Append-only.
create table flowpilot.ai_session_steps (
  id         bigint generated always as identity primary key,
  account_id uuid not null references flowpilot.accounts on delete cascade,
  session_id uuid not null references flowpilot.sessions on delete cascade,
  actor      text not null check (actor in ('ai', 'human')),
  content    text not null,
  created_by uuid references flowpilot.users on delete set null,
  created_at timestamptz not null default now()
);
create index ai_session_steps_session_created_idx on flowpilot.ai_session_steps (session_id, created_at);
create index ai_session_steps_account_idx on flowpilot.ai_session_steps (account_id);
create index ai_session_steps_created_by_idx on flowpilot.ai_session_steps (created_by);

-- A handoff from the AI to a human. `first_action_at` is the first step created on the session
-- at or after `claimed_at`, kept by triggers (flowpilot_escalations.sql), so the escalation metric
-- reads one row per handoff instead of searching the steps.
create table flowpilot.session_handoffs (
  id              uuid primary key default gen_random_uuid(),
  account_id      uuid not null references flowpilot.accounts on delete cascade,
  session_id      uuid not null references flowpilot.sessions on delete cascade,
  reason          text not null default '',
  created_by      uuid references flowpilot.users on delete set null,
  created_at      timestamptz not null default now(),
  claimed_by      uuid references flowpilot.users on delete set null,
  claimed_at      timestamptz,
  first_action_at timestamptz
);
create index session_handoffs_session_idx on flowpilot.session_handoffs (session_id);
create index session_handoffs_created_by_idx on flowpilot.session_handoffs (created_by);
create index session_handoffs_claimed_by_idx on flowpilot.session_handoffs (claimed_by);
-- The metric: the account's claims in a window, answered from the index alone (session_id is
-- what the row-level policy reads).
create index session_handoffs_account_claimed_idx on flowpilot.session_handoffs (account_id, claimed_at)
  include (first_action_at, session_id) where claimed_at is not null;
-- The queue: unclaimed handoffs, oldest first.
create index session_handoffs_account_open_idx on flowpilot.session_handoffs (account_id, created_at)
  where claimed_at is null;

-- The escalation metric of accounts too big to aggregate on every request, computed by
-- gateway.maintenance() each minute (flowpilot.refresh_escalation_snapshots); smaller accounts are
-- always computed live.
create table flowpilot.escalation_snapshots (
  account_id  uuid not null references flowpilot.accounts on delete cascade,
  period      text not null check (period in ('7d', '30d', '90d')),
  computed_at timestamptz not null,
  result      jsonb not null,
  primary key (account_id, period)
);

do $$
declare
  t text;
begin
  for t in select c.relname from pg_class c where c.relnamespace = 'flowpilot'::regnamespace and c.relkind = 'r' loop
    execute format('alter table flowpilot.%I enable row level security, force row level security', t);
  end loop;
end $$;

-- Column-narrow grants: what each role may touch at all; the policies decide which rows.
grant select on flowpilot.accounts, flowpilot.trees, flowpilot.sessions, flowpilot.ai_session_steps,
  flowpilot.session_handoffs, flowpilot.escalation_snapshots to authenticated, service_role;
grant select (id, account_id, email, full_name, role, is_active, created_at, updated_at) on flowpilot.users to authenticated, service_role;
grant update (full_name, role, is_active, updated_at) on flowpilot.users to authenticated, service_role;
grant insert (account_id, title, description, category, nodes, root_node_id, created_by) on flowpilot.trees to authenticated, service_role;
grant update (title, description, category, nodes, root_node_id, version, updated_at) on flowpilot.trees to authenticated, service_role;
grant delete on flowpilot.trees to authenticated, service_role;
grant insert (account_id, user_id, tree_id, tree_title, tree_version, nodes, current_node_id) on flowpilot.sessions to authenticated, service_role;
grant update (current_node_id, path, notes, status, resolution, updated_at, completed_at) on flowpilot.sessions to authenticated, service_role;
grant insert (account_id, session_id, actor, content, created_by) on flowpilot.ai_session_steps to authenticated, service_role;
grant insert (account_id, session_id, reason, created_by) on flowpilot.session_handoffs to authenticated, service_role;
grant update (claimed_by, claimed_at) on flowpilot.session_handoffs to authenticated, service_role;
grant select, insert, update, delete on all tables in schema flowpilot to flowpilot_system;
