-- requires: core/catalog.sql
-- requires: hotdash/api.sql
-- requires: hotdash/export.sql
-- requires: hotdash/rollups.sql
-- Hot Dash as a unit of the core (hotdash-analytics-api.md): its routes, rate policies, path
-- alias and periodic task. Served under /api/v1/… and the spec's /api/….
-- Cache lifetimes follow the spec but are `private` (docs/hotdash.md): the numbers are a tenant's.

select gateway.restate_unit('hotdash', 'Hot Dash', 'Operations analytics for shops: dashboard, agent metrics, training-data export.');

insert into gateway.path_aliases (unit, prefix, alias) values ('hotdash', '/api/v1/', '/api/');

insert into gateway.rate_policies (unit, name, requests, window_seconds, description) values
  ('hotdash', 'hotdash-dashboard', 60, 60, 'Hot Dash dashboard endpoints: 60 per minute per user'),
  ('hotdash', 'hotdash-agent', 60, 60, 'Hot Dash agent metrics: 60 per minute per user'),
  ('hotdash', 'hotdash-export', 10, 3600, 'Hot Dash exports: 10 per hour per user');

insert into gateway.routes (method, path, function_name, min_role, rate_policy, cache_max_age, cache_swr, streaming, summary, tag, unit) values
  ('GET',  '/api/v1/analytics/dashboard/summary',   'get_dashboard_summary',         'authenticated', 'hotdash-dashboard', 300, 60, false, 'Dashboard summary (24 h with comparison)', 'hotdash', 'hotdash'),
  ('GET',  '/api/v1/analytics/dashboard/trends',    'get_hourly_trends',             'authenticated', 'hotdash-dashboard', 900, 60, false, 'Hourly trends', 'hotdash', 'hotdash'),
  ('GET',  '/api/v1/analytics/dashboard/anomalies', 'get_active_anomalies',          'authenticated', 'hotdash-dashboard', 300, 60, false, 'Active anomalies, most severe first', 'hotdash', 'hotdash'),
  ('GET',  '/api/v1/analytics/agent/queue',         'get_approval_queue_metrics',    'authenticated', 'hotdash-agent',     300, 60, false, 'Approval queue metrics', 'hotdash', 'hotdash'),
  ('GET',  '/api/v1/analytics/agent/accuracy',      'get_agent_accuracy_metrics',    'authenticated', 'hotdash-agent',     300, 60, false, 'Agent accuracy by agent type', 'hotdash', 'hotdash'),
  ('GET',  '/api/v1/analytics/agent/quality',       'get_training_quality_metrics',  'authenticated', 'hotdash-agent',     300, 60, false, 'Training data quality', 'hotdash', 'hotdash'),
  ('GET',  '/api/v1/analytics/agent/summary',       'get_agent_performance_summary', 'authenticated', 'hotdash-agent',     300, 60, false, 'Agent performance, last 24 h', 'hotdash', 'hotdash'),
  ('POST', '/api/v1/analytics/export/training-data', 'export_training_dataset',      'service_role',  'hotdash-export',    null, null, true, 'Training data export (service role)', 'hotdash', 'hotdash');

-- The rollups refresh what is stale on every maintenance tick (the function decides what is).
insert into gateway.periodic_tasks (unit, name, function) values ('hotdash', 'refresh_rollups', 'hotdash.refresh_rollups(boolean)');
grant usage on schema hotdash to authenticator;
