-- ForecastLab jobs (docs/forecastlab-models.md, "Jobs"; contract details §13): train, predict and
-- backtest run in the background. A job is stored pending and answered 202 at once; the gateways'
-- worker loops (or anyone calling forecast_models.work_one) take it with FOR UPDATE SKIP LOCKED,
-- under a lease, and run it as the caller who submitted it.

create table forecast_models.jobs (
  id               bigint generated always as identity primary key,
  account_id       uuid not null,
  job_id           text not null unique check (job_id ~ '^[0-9a-f]{32}$'),
  job_type         text not null check (job_type in ('train', 'predict', 'backtest')),
  status           text not null default 'pending' check (status in ('pending', 'running', 'completed', 'failed', 'cancelled')),
  params           jsonb not null check (jsonb_typeof(params) = 'object'),
  result           jsonb,
  error_message    text check (length(error_message) <= 2000),
  error_type       text check (length(error_type) <= 100),
  -- The registry run the job made (train) or used (predict, when the artifact has one).
  run_id           text check (length(run_id) <= 32),
  -- Who submitted it: the job runs as this database role with these token claims, so it sees and
  -- may do exactly what the submitter could. Never returned by the API.
  submitted_by     uuid,
  submitted_role   text not null check (submitted_role in ('authenticated', 'service_role')),
  submitted_claims jsonb not null,
  -- The lease: a job whose worker's session ended (killed, its connection lost) is taken back at
  -- the next claim (its advisory lock is free); one whose worker is stuck, once lease_expires_at
  -- has passed. It then runs again (attempts < max_attempts) or fails with error_type LeaseExpired.
  attempts         integer not null default 0 check (attempts >= 0),
  max_attempts     integer not null default 3 check (max_attempts between 1 and 10),
  lease_seconds    integer not null default 600 check (lease_seconds between 1 and 86400),
  lease_token      uuid,
  -- The advisory lock (forecast_models.job_lock_key(), lease_lock) the worker holds while it runs:
  -- one per claim, so a new worker never waits on the lock of the stuck one it replaces.
  lease_lock       integer,
  lease_expires_at timestamptz,
  worker           text,
  started_at       timestamptz,
  completed_at     timestamptz,
  created_at       timestamptz not null default now(),
  updated_at       timestamptz not null default now(),
  check ((status = 'running') = (lease_token is not null and lease_expires_at is not null))
);
comment on table forecast_models.jobs is 'Background jobs (train, predict, backtest): pending → running → completed | failed; pending → cancelled.';
-- The claim reads the oldest pending job; the reaper reads expired leases.
create index jobs_pending_idx on forecast_models.jobs (id) where status = 'pending';
create index jobs_leases_idx on forecast_models.jobs (lease_expires_at) where status = 'running';
create index jobs_account_created_idx on forecast_models.jobs (account_id, created_at desc);
create index jobs_type_status_idx on forecast_models.jobs (job_type, status);
create index jobs_params_idx on forecast_models.jobs using gin (params);
create index jobs_result_idx on forecast_models.jobs using gin (result);

create sequence forecast_models.job_lease_locks as integer cycle;

alter table forecast_models.jobs enable row level security, force row level security;

-- Callers read and submit their account's jobs and may cancel them (the columns a cancel sets);
-- the worker (the gateway's login, `authenticator`) claims, runs and finishes any account's.
grant select on forecast_models.jobs to authenticated, service_role;
grant insert (account_id, job_id, job_type, params, submitted_by, submitted_role, submitted_claims)
  on forecast_models.jobs to authenticated, service_role;
grant update (status, updated_at, completed_at) on forecast_models.jobs to authenticated, service_role;
grant usage on schema forecast_models to authenticator;
grant select, update on forecast_models.jobs to authenticator;
grant usage on sequence forecast_models.job_lease_locks to authenticator;
