-- requires: core/catalog.sql
-- requires: forecastlab_models/policies.sql
-- requires: forecastlab_models/registry.sql
-- requires: forecastlab_models/forecasting.sql
-- requires: forecastlab_models/backtesting.sql
-- requires: forecastlab_models/featuresets.sql
-- requires: forecastlab_models/explain.sql
-- requires: forecastlab_models/scenarios.sql
-- requires: forecastlab_models/jobs.sql
-- ForecastLab's models as a unit of the core (docs/forecastlab-models.md): feature sets, training,
-- prediction and backtesting of the eleven model types and the model registry, at the spec's own paths
-- (/forecasting/…, /registry/…), also under /api/v1/…, with the data slice's FastAPI-style errors.

select gateway.restate_unit('forecastlab-models', 'ForecastLab models',
  'Forecasting models in the database: train, predict, artifacts as rows, the model registry.', 'fastapi');

insert into gateway.path_aliases (unit, prefix, alias) values ('forecastlab-models', '/', '/api/v1/');

insert into auth.app_roles (unit, name, description) values
  ('forecastlab-models', 'admin', 'Trains models and writes the account''s registry (runs, aliases)');

insert into gateway.rate_policies (unit, name, requests, window_seconds, description) values
  ('forecastlab-models', 'forecastlab-models-read', 600, 60, 'ForecastLab models reads and predictions: 600 per minute per user'),
  ('forecastlab-models', 'forecastlab-models-write', 120, 60, 'ForecastLab registry writes: 120 per minute per user'),
  ('forecastlab-models', 'forecastlab-models-train', 60, 60, 'ForecastLab model training: 60 per minute per user');

insert into gateway.routes (method, path, function_name, min_role, app_roles, rate_policy, summary, tag, unit) values
  ('POST',   '/forecasting/train',                     'forecasting_train',     'authenticated', '{admin}', 'forecastlab-models-train', 'Train a model (any of the eleven types); the artifact is kept in the database', 'forecastlab-forecasting', 'forecastlab-models'),
  ('POST',   '/forecasting/predict',                   'forecasting_predict',   'authenticated', null,      'forecastlab-models-read',  'Forecast from a trained model of the account', 'forecastlab-forecasting', 'forecastlab-models'),
  ('POST',   '/backtesting/run',                       'backtesting_run',       'authenticated', null,      'forecastlab-models-train', 'Backtest a model (expanding or sliding folds) against naive and seasonal_naive', 'forecastlab-backtesting', 'forecastlab-models'),
  ('POST',   '/featuresets/compute',                   'featuresets_compute',   'authenticated', null,      'forecastlab-models-read',  'Compute time-safe features of a store and product up to a cutoff date', 'forecastlab-featuresets', 'forecastlab-models'),
  ('POST',   '/featuresets/preview',                   'featuresets_preview',   'authenticated', null,      'forecastlab-models-read',  'Preview the last rows of a feature frame', 'forecastlab-featuresets', 'forecastlab-models'),
  ('POST',   '/registry/runs',                         'registry_create_run',   'authenticated', '{admin}', 'forecastlab-models-write', 'Create a model run (pending)', 'forecastlab-registry', 'forecastlab-models'),
  ('GET',    '/registry/runs',                         'registry_list_runs',    'authenticated', null,      'forecastlab-models-read',  'Model runs (paged, filtered, sorted)', 'forecastlab-registry', 'forecastlab-models'),
  ('GET',    '/registry/runs/{run_id}',                'registry_get_run',      'authenticated', null,      'forecastlab-models-read',  'One model run', 'forecastlab-registry', 'forecastlab-models'),
  ('PATCH',  '/registry/runs/{run_id}',                'registry_update_run',   'authenticated', '{admin}', 'forecastlab-models-write', 'Update a run''s status, metrics or artifact', 'forecastlab-registry', 'forecastlab-models'),
  ('GET',    '/registry/runs/{run_id}/verify',         'registry_verify_run',   'authenticated', null,      'forecastlab-models-read',  'Check the run''s artifact against its SHA-256', 'forecastlab-registry', 'forecastlab-models'),
  ('POST',   '/registry/aliases',                      'registry_create_alias', 'authenticated', '{admin}', 'forecastlab-models-write', 'Create or repoint an alias onto a successful run', 'forecastlab-registry', 'forecastlab-models'),
  ('GET',    '/registry/aliases',                      'registry_list_aliases', 'authenticated', null,      'forecastlab-models-read',  'Deployment aliases', 'forecastlab-registry', 'forecastlab-models'),
  ('GET',    '/registry/aliases/{alias_name}',         'registry_get_alias',    'authenticated', null,      'forecastlab-models-read',  'One deployment alias', 'forecastlab-registry', 'forecastlab-models'),
  ('DELETE', '/registry/aliases/{alias_name}',         'registry_delete_alias', 'authenticated', '{admin}', 'forecastlab-models-write', 'Delete a deployment alias', 'forecastlab-registry', 'forecastlab-models'),
  ('GET',    '/registry/compare/{run_id_a}/{run_id_b}', 'registry_compare_runs', 'authenticated', null,     'forecastlab-models-read',  'Compare two runs: configuration and metrics', 'forecastlab-registry', 'forecastlab-models'),
  ('POST',   '/explain/forecast',                      'explain_forecast',      'authenticated', null,      'forecastlab-models-read',  'Explain a baseline forecast: drivers, reason codes, confidence', 'forecastlab-explain', 'forecastlab-models'),
  ('GET',    '/explain/runs/{run_id}',                 'explain_run',           'authenticated', null,      'forecastlab-models-read',  'Explain a registry run of a baseline: drivers, reason codes, confidence', 'forecastlab-explain', 'forecastlab-models'),
  ('GET',    '/explain/jobs/{job_id}',                 'explain_job',           'authenticated', null,      'forecastlab-models-read',  'Explain the model a completed predict job used', 'forecastlab-explain', 'forecastlab-models'),
  ('GET',    '/jobs',                                  'jobs_list',             'authenticated', null,      'forecastlab-models-read',  'The account''s jobs (paged, filtered, sorted)', 'forecastlab-jobs', 'forecastlab-models'),
  ('GET',    '/jobs/{job_id}',                         'jobs_get',              'authenticated', null,      'forecastlab-models-read',  'One job', 'forecastlab-jobs', 'forecastlab-models'),
  ('DELETE', '/jobs/{job_id}',                         'jobs_cancel',           'authenticated', null,      'forecastlab-models-write', 'Cancel a pending job', 'forecastlab-jobs', 'forecastlab-models');

-- POST /jobs answers 202 at once; with Prefer: wait=N the gateway waits (api.jobs_await) for the job.
insert into gateway.routes (method, path, function_name, min_role, app_roles, rate_policy, summary, tag, unit, await_function) values
  ('POST', '/jobs', 'jobs_create', 'authenticated', null, 'forecastlab-models-train', 'Submit a train, predict or backtest job (202); Prefer: wait=N waits for it', 'forecastlab-jobs', 'forecastlab-models', 'jobs_await');

-- Every gateway's worker loop runs this unit's jobs; POST /jobs notifies the channel.
insert into gateway.job_queues (unit, name, procedure, channel) values
  ('forecastlab-models', 'jobs', 'forecast_models.work_one(text)', 'forecastlab_jobs');

-- Scenarios (what-if planning, scenarios.sql): every member simulates, compares, saves and deletes.
insert into gateway.routes (method, path, function_name, min_role, app_roles, rate_policy, summary, tag, unit) values
  ('POST',   '/scenarios/simulate',       'scenarios_simulate', 'authenticated', null, 'forecastlab-models-read',  'Simulate a what-if scenario on a trained model: baseline vs scenario, units, revenue, coverage', 'forecastlab-scenarios', 'forecastlab-models'),
  ('POST',   '/scenarios',                'scenarios_create',   'authenticated', null, 'forecastlab-models-write', 'Simulate and save a named scenario plan', 'forecastlab-scenarios', 'forecastlab-models'),
  ('GET',    '/scenarios',                'scenarios_list',     'authenticated', null, 'forecastlab-models-read',  'Saved scenario plans, newest first (limit, offset, tags)', 'forecastlab-scenarios', 'forecastlab-models'),
  ('GET',    '/scenarios/{scenario_id}',  'scenarios_get',      'authenticated', null, 'forecastlab-models-read',  'One saved scenario plan with its comparison', 'forecastlab-scenarios', 'forecastlab-models'),
  ('DELETE', '/scenarios/{scenario_id}',  'scenarios_delete',   'authenticated', null, 'forecastlab-models-write', 'Delete a saved scenario plan', 'forecastlab-scenarios', 'forecastlab-models'),
  ('POST',   '/scenarios/compare',        'scenarios_compare',  'authenticated', null, 'forecastlab-models-read',  'Rank 2 to 5 saved scenario plans and merge their chart series', 'forecastlab-scenarios', 'forecastlab-models');
