-- requires: core/catalog.sql
-- requires: forecastlab/dimensions.sql
-- requires: forecastlab/analytics.sql
-- requires: forecastlab/ingest.sql
-- requires: forecastlab/seeder.sql
-- ForecastLab as a unit of the core (forecastlab-api-reference.md): the spec's own paths
-- (/ingest/…, /dimensions/…, /analytics/…, /seeder/…), also served under /api/v1/….

select gateway.restate_unit('forecastlab', 'ForecastLab', 'Retail analytics and forecasting: ingest, dimensions, KPIs, seeded demo data.');

insert into gateway.path_aliases (unit, prefix, alias) values ('forecastlab', '/', '/api/v1/');

insert into auth.app_roles (unit, name, description) values
  ('forecastlab', 'admin', 'Writes the account''s data (ingest, seeder)');

insert into gateway.rate_policies (unit, name, requests, window_seconds, description) values
  ('forecastlab', 'forecastlab-read', 600, 60, 'ForecastLab reads: 600 per minute per user'),
  ('forecastlab', 'forecastlab-write', 120, 60, 'ForecastLab ingest and seeder: 120 per minute per user');

insert into gateway.routes (method, path, function_name, min_role, app_roles, rate_policy, cache_max_age, summary, tag, unit) values
  ('POST', '/ingest/sales-daily',              'ingest_sales_daily',       'authenticated', '{admin}', 'forecastlab-write', null, 'Upsert daily sales by natural key (all or nothing)', 'forecastlab-ingest', 'forecastlab'),
  ('GET',  '/dimensions/stores',               'list_stores',              'authenticated', null, 'forecastlab-read', 60, 'Stores (paged, filtered, searched, sorted)', 'forecastlab-dimensions', 'forecastlab'),
  ('GET',  '/dimensions/stores/{store_id}',    'get_store',                'authenticated', null, 'forecastlab-read', 60, 'One store', 'forecastlab-dimensions', 'forecastlab'),
  ('GET',  '/dimensions/products',             'list_products',            'authenticated', null, 'forecastlab-read', 60, 'Products (paged, filtered, searched, sorted)', 'forecastlab-dimensions', 'forecastlab'),
  ('GET',  '/dimensions/products/{product_id}', 'get_product',             'authenticated', null, 'forecastlab-read', 60, 'One product', 'forecastlab-dimensions', 'forecastlab'),
  ('GET',  '/analytics/kpis',                  'get_kpis',                 'authenticated', null, 'forecastlab-read', 60, 'Revenue, units, transactions, averages', 'forecastlab-analytics', 'forecastlab'),
  ('GET',  '/analytics/drilldowns',            'get_drilldowns',           'authenticated', null, 'forecastlab-read', 60, 'Sales by store, product, category, region or date', 'forecastlab-analytics', 'forecastlab'),
  ('GET',  '/analytics/timeseries',            'get_timeseries',           'authenticated', null, 'forecastlab-read', 60, 'Sales per day, week, month or quarter', 'forecastlab-analytics', 'forecastlab'),
  ('GET',  '/analytics/inventory-status',      'get_inventory_status',     'authenticated', null, 'forecastlab-read', 60, 'Latest inventory snapshot per store and product', 'forecastlab-analytics', 'forecastlab'),
  ('POST', '/seeder/generate',                 'seeder_generate',          'authenticated', '{admin}', 'forecastlab-write', null, 'Generate the account''s retail data (deterministic by seed)', 'forecastlab-seeder', 'forecastlab'),
  ('GET',  '/seeder/status',                   'seeder_status',            'authenticated', null, 'forecastlab-read', null, 'What the account''s retail data holds', 'forecastlab-seeder', 'forecastlab'),
  ('POST', '/seeder/phase2-enrichment',        'seeder_phase2_enrichment', 'authenticated', '{admin}', 'forecastlab-write', null, 'Add phase-2 data to existing sales', 'forecastlab-seeder', 'forecastlab');
