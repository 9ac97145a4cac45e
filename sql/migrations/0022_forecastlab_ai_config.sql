-- ForecastLab's AI configuration (contract details §18; docs/forecastlab-rag.md, Configuration):
-- per account and administrative. The settings an admin overrides live in rag.ai_settings (one row
-- per overridden key, `{"v": <scalar>}` as upstream's app_config); the providers' API keys live
-- apart, in rag_secrets.api_keys, which no request role can read: only the role ai_secrets, which
-- owns the few SECURITY DEFINER functions (sql/forecastlab_rag/config.sql) that write a key and
-- report whether one is set and its masked form, never the key itself.

-- Owns the secrets functions; cannot log in.
do $$
begin
  if not exists (select from pg_roles where rolname = 'ai_secrets') then
    create role ai_secrets nologin noinherit;
  end if;
end $$;
grant ai_secrets to current_user;
grant usage on schema util, auth to ai_secrets;

create table rag.ai_settings (
  account_id uuid not null,
  key        text not null check (key in ('agent_default_model', 'agent_fallback_model', 'agent_temperature', 'agent_max_tokens',
                                          'agent_thinking_budget', 'rag_embedding_provider', 'rag_embedding_model',
                                          'rag_embedding_dimension', 'ollama_base_url', 'ollama_embedding_model')),
  -- upstream's envelope: {"v": <scalar>}
  value      jsonb not null check (jsonb_typeof(value) = 'object' and value ? 'v'),
  updated_at timestamptz not null default now(),
  primary key (account_id, key)
);
comment on table rag.ai_settings is 'An account''s overrides of the AI configuration''s defaults (agent models, embedding provider, Ollama); admins only.';
alter table rag.ai_settings enable row level security, force row level security;
grant select, delete on rag.ai_settings to authenticated, service_role;
grant insert (account_id, key, value, updated_at) on rag.ai_settings to authenticated, service_role;
grant update (value, updated_at) on rag.ai_settings to authenticated, service_role;

-- The secrets: a schema of their own that only ai_secrets may use. No request role has USAGE on
-- it, let alone SELECT on the table.
create schema rag_secrets;
comment on schema rag_secrets is 'Providers'' API keys per account (write-only: only the role ai_secrets reads them).';
revoke all on schema rag_secrets from public;
grant usage on schema rag_secrets to ai_secrets;

create table rag_secrets.api_keys (
  account_id uuid not null,
  provider   text not null check (provider in ('openai', 'anthropic', 'google')),
  api_key    text not null check (length(api_key) between 1 and 500),
  updated_at timestamptz not null default now(),
  primary key (account_id, provider)
);
comment on table rag_secrets.api_keys is 'Providers'' API keys per account; never returned raw (is_set and a masked form only).';
alter table rag_secrets.api_keys enable row level security, force row level security;
grant select, insert, update, delete on rag_secrets.api_keys to ai_secrets;
