-- A foreign key checks (and locks) each sales row's store and product on its own: two lookups per
-- row, about a third of a 10,000-row ingest. Statement triggers (sql/functions/forecastlab_references.sql)
-- now check and lock a whole statement's stores and products at once, also require them to be in
-- the row's own account (which the keys never did), and cascade deletes.
alter table forecast.sales_daily drop constraint sales_daily_store_id_fkey, drop constraint sales_daily_product_id_fkey;
