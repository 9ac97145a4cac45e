-- Every index on sales_daily is paid for by every ingested row: about 3 ms per 1,000 rows each on
-- the benchmark machine. Its primary key (store_id, product_id, date) is enough: the analytics read
-- the rollups, and since the reference trigger keeps every sales row in its store's and its
-- product's account, an account's sales, or a product's, are found through the account's stores
-- with the key's prefix (forecastlab_seeder.sql, forecastlab_references.sql).
drop index if exists forecast.sales_daily_account_date_idx;
drop index if exists forecast.sales_daily_product_date_idx;
