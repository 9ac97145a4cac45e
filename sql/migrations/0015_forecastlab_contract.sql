-- ForecastLab speaks its upstream contract (forecastlab-contract-details.md §5, §16): stores and
-- products carry `updated_at` (kept by a trigger, sql/forecastlab/dimensions.sql), products a
-- `base_cost`; the daily rollup records when the account's sales last changed (the seeder status's
-- `last_updated`). A default of now() is evaluated once here, so existing rows take this moment
-- without a table rewrite.
alter table forecast.stores add column updated_at timestamptz not null default now();
alter table forecast.products
  add column base_cost numeric(10, 2) check (base_cost >= 0),
  add column updated_at timestamptz not null default now();
alter table forecast.sales_by_day add column updated_at timestamptz not null default now();

-- The rollups' foreign keys checked (and locked) their store or product once per rollup row an
-- ingest wrote: 1,100 checks, about a tenth of a 10,000-row batch. They guard nothing the sales rows
-- do not: a rollup row exists only while sales rows of its store or product do, the reference
-- trigger keeps those in their store's and product's account (sql/forecastlab/references.sql), and
-- deleting a store or product deletes its sales, whose trigger removes the rollup rows.
alter table forecast.sales_by_store_day drop constraint sales_by_store_day_store_id_fkey;
alter table forecast.sales_by_product_day drop constraint sales_by_product_day_product_id_fkey;
