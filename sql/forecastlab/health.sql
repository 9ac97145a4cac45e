-- requires: core/util.sql
-- GET /health/ready (forecastlab-contract-details.md §3): {status, database}. Answering at all means
-- the database is connected; when it is down the gateway cannot ask it and answers a 503 problem
-- itself (docs/forecastlab.md).
create or replace function api.health_ready() returns jsonb
language sql stable set search_path = '' as $$
  select '{"status": "ok", "database": "connected"}'::jsonb
$$;
comment on function api.health_ready() is 'Readiness: {status: ok, database: connected} when the database answers.';
grant execute on function api.health_ready() to anon, authenticated, service_role;
