-- requires: core/catalog.sql
-- requires: forecastlab/health.sql
-- requires: forecastlab/dimensions.sql
-- requires: forecastlab/analytics.sql
-- requires: forecastlab/ingest.sql
-- requires: forecastlab/seeder.sql
-- ForecastLab as a unit of the core (forecastlab-api-reference.md): the spec's own paths
-- (/ingest/…, /dimensions/…, /analytics/…, /seeder/…), also served under /api/v1/…. Its clients
-- were written against a FastAPI service, so its errors are in the `fastapi` style: validation is a
-- 422 with a top-level `errors: [{field, message, type}]`, types are `/errors/…`.

select gateway.restate_unit('forecastlab', 'ForecastLab',
  'Retail analytics and forecasting: ingest, dimensions, KPIs, seeded demo data.', 'fastapi', docs_path => '/docs');

insert into gateway.path_aliases (unit, prefix, alias) values ('forecastlab', '/', '/api/v1/');

insert into auth.app_roles (unit, name, description) values
  ('forecastlab', 'admin', 'Writes the account''s data (ingest, seeder)');

insert into gateway.rate_policies (unit, name, requests, window_seconds, description) values
  ('forecastlab', 'forecastlab-read', 600, 60, 'ForecastLab reads: 600 per minute per user'),
  ('forecastlab', 'forecastlab-write', 120, 60, 'ForecastLab ingest and seeder: 120 per minute per user'),
  ('forecastlab', 'forecastlab-probe', 600, 60, 'ForecastLab readiness: 600 per minute per client');

-- No cache lifetimes: the data changes with every ingest or seeder write, and no cache (another
-- gateway's, a browser's) can know of a write it did not see; a reader always sees the last one.
insert into gateway.routes (method, path, function_name, min_role, app_roles, rate_policy, cache_max_age, summary, tag, unit) values
  ('GET',    '/health/ready',                     'health_ready',             'anon',          null, 'forecastlab-probe', null, 'Readiness: the database answers', 'forecastlab-health', 'forecastlab'),
  ('POST',   '/ingest/sales-daily',               'ingest_sales_daily',       'authenticated', '{admin}', 'forecastlab-write', null, 'Upsert daily sales by natural key; unknown keys rejected per row', 'forecastlab-ingest', 'forecastlab'),
  ('GET',    '/dimensions/stores',                'list_stores',              'authenticated', null, 'forecastlab-read', null, 'Stores (paged, filtered, searched, sorted)', 'forecastlab-dimensions', 'forecastlab'),
  ('GET',    '/dimensions/stores/{store_id}',     'get_store',                'authenticated', null, 'forecastlab-read', null, 'One store', 'forecastlab-dimensions', 'forecastlab'),
  ('GET',    '/dimensions/products',              'list_products',            'authenticated', null, 'forecastlab-read', null, 'Products (paged, filtered, searched, sorted)', 'forecastlab-dimensions', 'forecastlab'),
  ('GET',    '/dimensions/products/{product_id}', 'get_product',              'authenticated', null, 'forecastlab-read', null, 'One product', 'forecastlab-dimensions', 'forecastlab'),
  ('GET',    '/analytics/kpis',                   'get_kpis',                 'authenticated', null, 'forecastlab-read', null, 'Revenue, units, transactions, averages', 'forecastlab-analytics', 'forecastlab'),
  ('GET',    '/analytics/drilldowns',             'get_drilldowns',           'authenticated', null, 'forecastlab-read', null, 'Sales by store, product, category, region or date', 'forecastlab-analytics', 'forecastlab'),
  ('GET',    '/analytics/timeseries',             'get_timeseries',           'authenticated', null, 'forecastlab-read', null, 'Sales per day, week, month or quarter', 'forecastlab-analytics', 'forecastlab'),
  ('GET',    '/analytics/inventory-status',       'get_inventory_status',     'authenticated', null, 'forecastlab-read', null, 'Latest inventory snapshot per store and product', 'forecastlab-analytics', 'forecastlab'),
  ('GET',    '/seeder/status',                    'seeder_status',            'authenticated', null, 'forecastlab-read', null, 'What the account''s retail data holds', 'forecastlab-seeder', 'forecastlab'),
  ('GET',    '/seeder/scenarios',                 'seeder_scenarios',         'authenticated', null, 'forecastlab-read', null, 'The scenario presets', 'forecastlab-seeder', 'forecastlab'),
  ('POST',   '/seeder/generate',                  'seeder_generate',          'authenticated', '{admin}', 'forecastlab-write', null, 'Generate the account''s retail data (deterministic by seed)', 'forecastlab-seeder', 'forecastlab'),
  ('POST',   '/seeder/append',                    'seeder_append',            'authenticated', '{admin}', 'forecastlab-write', null, 'Generate more days of sales for the existing stores and products', 'forecastlab-seeder', 'forecastlab'),
  ('DELETE', '/seeder/data',                      'seeder_delete_data',       'authenticated', '{admin}', 'forecastlab-write', null, 'Delete the account''s facts, dimensions or all of its data', 'forecastlab-seeder', 'forecastlab'),
  ('POST',   '/seeder/verify',                    'seeder_verify',            'authenticated', null, 'forecastlab-read', null, 'Check the account''s data', 'forecastlab-seeder', 'forecastlab'),
  ('POST',   '/seeder/phase2-enrichment',         'seeder_phase2_enrichment', 'authenticated', '{admin}', 'forecastlab-write', null, 'Add phase-2 data to existing sales', 'forecastlab-seeder', 'forecastlab');
