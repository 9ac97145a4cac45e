-- ForecastLab models (docs/forecastlab-models.md): model artifacts as rows, the model registry's
-- runs and aliases (forecastlab-contract-details.md §8, §12). Every row belongs to an account; RLS
-- is enabled and forced (policies: sql/forecastlab_models/policies.sql). The functions live in
-- sql/forecastlab_models/.

-- PL/Python runs the models that need a learning library (the ridge of trend_regression_baseline).
-- A server without it still migrates: the SQL baselines work, and training such a model answers a
-- 400 naming what is missing (sql/forecastlab_models/ridge.sql creates its function only when the
-- language exists).
do $$
begin
  if exists (select from pg_catalog.pg_available_extensions where name = 'plpython3u') then
    create extension if not exists plpython3u;
  else
    raise notice 'plpython3u is not available on this server: trend_regression_baseline will not train';
  end if;
end $$;

create schema forecast_models;
comment on schema forecast_models is 'ForecastLab models (private): artifacts, registry runs and aliases; read and write them through the api functions.';
revoke all on schema forecast_models from public;
grant usage on schema forecast_models to authenticated, service_role;

-- A trained model: what upstream wrote to ./artifacts/models/model_<key>.joblib, kept as a row.
-- `content` is the bundle (JSON bytes: the model type, its configuration, the training window and
-- what predict needs); `sha256` and `size_bytes` are computed from it when it is written. Rows are
-- never updated (no policy allows it): an artifact is immutable, and verify can tell if it changed.
create table forecast_models.artifacts (
  id               bigint generated always as identity primary key,
  account_id       uuid not null,
  artifact_key     text not null check (artifact_key ~ '^[0-9a-f]{12}$'),
  model_type       text not null,
  store_id         bigint not null,
  product_id       bigint not null,
  config           jsonb not null,
  config_hash      text not null,
  train_start_date date not null,
  train_end_date   date not null check (train_end_date > train_start_date),
  n_observations   integer not null check (n_observations >= 1),
  content          bytea not null,
  sha256           text not null check (sha256 ~ '^[0-9a-f]{64}$'),
  size_bytes       integer not null check (size_bytes >= 0),
  created_at       timestamptz not null default now(),
  unique (account_id, artifact_key)
);
comment on table forecast_models.artifacts is 'Model artifacts: bytes, SHA-256 and size, per account; immutable.';

-- The registry's model runs (§12.1). `run_id` is the external id (32 hex).
create table forecast_models.runs (
  id                  bigint generated always as identity primary key,
  account_id          uuid not null,
  run_id              text not null unique check (run_id ~ '^[0-9a-f]{32}$'),
  status              text not null default 'pending' check (status in ('pending', 'running', 'success', 'failed', 'archived')),
  model_type          text not null check (length(model_type) between 1 and 50),
  model_config        jsonb not null,
  feature_config      jsonb,
  config_hash         text not null check (config_hash ~ '^[0-9a-f]{16}$'),
  data_window_start   date not null,
  data_window_end     date not null,
  store_id            bigint not null check (store_id >= 1),
  product_id          bigint not null check (product_id >= 1),
  metrics             jsonb,
  artifact_uri        text check (length(artifact_uri) <= 500),
  artifact_hash       text check (artifact_hash ~ '^[0-9a-f]{64}$'),
  artifact_size_bytes bigint check (artifact_size_bytes >= 0),
  runtime_info        jsonb,
  agent_context       jsonb,
  git_sha             text check (length(git_sha) <= 40),
  error_message       text check (length(error_message) <= 2000),
  started_at          timestamptz,
  completed_at        timestamptz,
  created_at          timestamptz not null default now(),
  updated_at          timestamptz not null default now(),
  check (data_window_end >= data_window_start)
);
create index runs_account_created_idx on forecast_models.runs (account_id, created_at desc);
create index runs_account_duplicate_idx on forecast_models.runs (account_id, config_hash, store_id, product_id);
comment on table forecast_models.runs is 'Registry model runs (status machine: pending → running → success | failed; any → archived).';

-- Deployment aliases: a name per account pointing at a successful run.
create table forecast_models.aliases (
  id          bigint generated always as identity primary key,
  account_id  uuid not null,
  alias_name  text not null check (alias_name ~ '^[a-z0-9][a-z0-9_-]*$' and length(alias_name) <= 100),
  run_pk      bigint not null references forecast_models.runs (id) on delete cascade,
  description text check (length(description) <= 500),
  created_at  timestamptz not null default now(),
  updated_at  timestamptz not null default now(),
  unique (account_id, alias_name)
);
create index aliases_run_idx on forecast_models.aliases (run_pk);
comment on table forecast_models.aliases is 'Registry deployment aliases: a name per account for one successful run.';

alter table forecast_models.artifacts enable row level security, force row level security;
alter table forecast_models.runs enable row level security, force row level security;
alter table forecast_models.aliases enable row level security, force row level security;

-- Grants are the ceiling; the policies decide whose rows. Artifacts are never updated or deleted
-- by a caller; runs change only in the columns PATCH may set.
grant select, insert on forecast_models.artifacts to authenticated, service_role;
grant select, insert on forecast_models.runs to authenticated, service_role;
grant update (status, metrics, artifact_uri, artifact_hash, artifact_size_bytes, error_message, started_at, completed_at, updated_at)
  on forecast_models.runs to authenticated, service_role;
grant select, insert, update, delete on forecast_models.aliases to authenticated, service_role;
