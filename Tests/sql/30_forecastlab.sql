-- ForecastLab: ingest (idempotent, duplicates, unknown keys, all or nothing, the cap), rollups,
-- dimensions (filters, search, sort allow-list, 404), analytics (the 730-day rule, empty states),
-- the seeder (same seed, same data; overrides; phase 2) and tenant isolation.
begin;
select plan(61);

create temp table t_ids as select
  'f0000000-0000-4000-8000-00000000000a'::uuid as a, 'f0000000-0000-4000-8000-00000000000b'::uuid as b,
  'f0000000-0000-4000-8000-0000000000e0'::uuid as empty_account;
grant select on t_ids to authenticated, service_role;
create function pg_temp.as_member(account uuid, app_role text) returns void language plpgsql as $$
begin
  perform tests.clear_authentication();
  perform tests.authenticate_as('authenticated', gen_random_uuid(), account, app_role);
end $$;
grant execute on all functions in schema pg_temp to authenticated, service_role;

-- Account A: two stores, two products, known sales.
insert into forecast.stores (account_id, store_code, name, region, store_type)
  select a, 'S1', 'Downtown', 'North', 'flagship' from t_ids union all select a, 'S2', 'Airport 100%', 'South', 'express' from t_ids;
insert into forecast.products (account_id, sku, name, category, brand, base_price)
  select a, 'P1', 'Cola', 'beverages', 'Acme', 2.00 from t_ids union all select a, 'P2', 'Chips', 'snacks', 'Globex', 3.00 from t_ids;
insert into forecast.stores (account_id, store_code, name) select b, 'S1', 'B store' from t_ids;
insert into forecast.products (account_id, sku, name, base_price) select b, 'P1', 'B product', 1 from t_ids;
create temp table t_b_product as select id from forecast.products where account_id = (select b from t_ids);
grant select on t_b_product to authenticated;

-- ── Ingest ─────────────────────────────────────────────────────────────────────────────────────
select pg_temp.as_member((select a from t_ids), 'viewer');
select throws_ok($$select api.ingest_sales_daily('[]')$$, '42501', null, 'a viewer cannot ingest');
select pg_temp.as_member((select a from t_ids), 'admin');
create temp table t_batch as select '[
  {"store_code": "S1", "sku": "P1", "date": "2026-01-01", "quantity": 10, "unit_price": 2.00},
  {"store_code": "S1", "sku": "P2", "date": "2026-01-01", "quantity": 5, "unit_price": 3.00},
  {"store_code": "S2", "sku": "P1", "date": "2026-01-02", "quantity": 4, "unit_price": 2.00, "total_amount": 7.50},
  {"store_code": "S1", "sku": "P1", "date": "2026-01-01", "quantity": 12, "unit_price": 2.00}]'::jsonb as body;
grant select on t_batch to authenticated;
select is(api.ingest_sales_daily((select body from t_batch)),
  '{"received": 4, "inserted": 3, "updated": 0, "unchanged": 0, "duplicates": 1, "rejected": 0}', 'a batch is upserted; a duplicate key is counted');
select is((select quantity from forecast.sales_daily s join forecast.stores st on st.id = s.store_id join forecast.products p on p.id = s.product_id
            where st.store_code = 'S1' and p.sku = 'P1' and s.date = '2026-01-01'), 12, 'within a batch the last row for a key wins');
select is((select total_amount from forecast.sales_daily where date = '2026-01-02'), 7.50, 'a given total_amount is kept');
select is((select total_amount from forecast.sales_daily s join forecast.products p on p.id = s.product_id where p.sku = 'P2'), 15.00,
  'a missing total_amount is quantity × unit_price');
select is(api.ingest_sales_daily((select body from t_batch)),
  '{"received": 4, "inserted": 0, "updated": 0, "unchanged": 3, "duplicates": 1, "rejected": 0}', 'the same batch twice changes nothing');
select is(api.ingest_sales_daily('[{"store_code": "S1", "sku": "P2", "date": "2026-01-01", "quantity": 6, "unit_price": 3.00}]'),
  '{"received": 1, "inserted": 0, "updated": 1, "unchanged": 0, "duplicates": 0, "rejected": 0}', 'a changed row is updated');
select throws_ok($$select api.ingest_sales_daily('[{"store_code": "S1", "sku": "P1", "date": "2026-02-01", "quantity": 1, "unit_price": 1},
                                                   {"store_code": "S9", "sku": "P1", "date": "2026-02-01", "quantity": 1, "unit_price": 1},
                                                   {"store_code": "S1", "sku": "P9", "date": "2026-02-30", "quantity": 1, "unit_price": 1}]')$$,
  'PT422', '2 of 3 rows were rejected; nothing was written', 'unknown keys and bad dates reject the batch');
select is((select count(*)::int from forecast.sales_daily where date = '2026-02-01'), 0, '… and nothing of it is written');
create temp table t_rejected (detail jsonb);
do $$
begin
  perform api.ingest_sales_daily('[{"store_code": "S9", "sku": "P1", "date": "2026-02-01", "quantity": 1, "unit_price": 1},
                                   {"store_code": "S1", "sku": "P1", "date": "2026-02-01", "quantity": -1, "unit_price": 1}]');
exception when others then
  declare
    d text;
  begin
    get stacked diagnostics d = pg_exception_detail;
    insert into t_rejected values (d::jsonb);
  end;
end $$;
select is((select jsonb_path_query_array(detail, '$.rows[*].reason') from t_rejected),
  '["unknown store_code S9", "quantity must be a whole number >= 0"]', 'each rejected row is reported with its reason');
select throws_ok(format('select api.ingest_sales_daily(%L)', (select jsonb_agg(jsonb_build_object('store_code', 'S1', 'sku', 'P1',
    'date', '2026-01-01', 'quantity', 1, 'unit_price', 1)) from generate_series(1, 10001))), 'PT413', null, 'a batch over 10,000 rows is a 413');
select throws_ok($$select api.ingest_sales_daily('{"store_code": "S1"}')$$, '22023', null, 'records must be an array');
-- The fast path (casts) and the slow path (patterns, forecast.sales_row_problem) must agree on
-- every edge: each case is a one-row batch, undone after it is accepted.
create temp table t_edges (field text, value jsonb, accepted boolean);
insert into t_edges values
  ('date', '"2024-02-29"', true), ('date', '"0999-12-31"', true), ('date', '"2026-02-29"', false), ('date', '"2026-1-05"', false),
  ('date', '"20260105"', false), ('date', '"2026-01-05 "', false), ('date', '"10000-01-01"', false), ('date', '"0000-01-01"', false),
  ('date', '"2026-01-05T00:00"', false), ('date', '"Jan 5 2026"', false), ('date', '"today"', false), ('date', '20260105', false),
  ('quantity', '0', true), ('quantity', '999999999', true), ('quantity', '"7"', true), ('quantity', '1e2', true),
  ('quantity', '1000000000', false), ('quantity', '2147483648', false), ('quantity', '-1', false), ('quantity', '1.5', false),
  ('quantity', '"007"', false), ('quantity', '"+5"', false), ('quantity', '" 5"', false), ('quantity', 'true', false), ('quantity', '"abc"', false),
  ('unit_price', '0', true), ('unit_price', '1.5', true), ('unit_price', '"1.50"', true), ('unit_price', '99999999.99', true),
  ('unit_price', '1.234', false), ('unit_price', '-0.5', false), ('unit_price', '100000000', false), ('unit_price', '"1e2"', false),
  ('unit_price', '"NaN"', false), ('unit_price', '"Infinity"', false), ('unit_price', '"01.5"', false), ('unit_price', '".5"', false),
  ('unit_price', '"5."', false), ('unit_price', '"abc"', false),
  ('total_amount', '9999999999.99', true), ('total_amount', 'null', true), ('total_amount', '10000000000', false),
  ('total_amount', '1.001', false), ('total_amount', '"-1"', false),
  ('overflow', '{"quantity": 999999999, "unit_price": 99999999}', false), ('overflow', '{"quantity": 99, "unit_price": 99999999, "total_amount": 1}', true),
  ('row', '[1]', false), ('row', '"S1"', false), ('row', '5', false), ('row', '{"store_code": "S1"}', false),
  ('row', '{"store_code": "S1", "sku": "P404", "date": "2026-03-01", "quantity": 1, "unit_price": 1}', false);
create temp table t_edge_outcomes (field text, value jsonb, accepted boolean, outcome text, slow_path text);
grant select on t_edges to authenticated;
grant insert, select on t_edge_outcomes to authenticated;
do $$
declare
  edge record;
  example jsonb := '{"store_code": "S1", "sku": "P1", "date": "2026-03-01", "quantity": 1, "unit_price": 1}';
  row jsonb;
  outcome text;
  detail text;
begin
  for edge in select * from t_edges loop
    row := case edge.field when 'row' then edge.value when 'overflow' then example || edge.value
                           else pg_catalog.jsonb_set(example, array[edge.field], edge.value) end;
    begin
      perform api.ingest_sales_daily(pg_catalog.jsonb_build_array(row));
      raise exception 'accepted' using errcode = 'PT200';  -- undone: only the outcome matters
    exception
      when sqlstate 'PT200' then outcome := 'accepted';
      when sqlstate 'PT422' then
        get stacked diagnostics detail = pg_exception_detail;
        outcome := detail::jsonb #>> '{rows,0,reason}';
    end;
    insert into t_edge_outcomes values (edge.field, edge.value, edge.accepted, outcome,
      coalesce((select forecast.sales_row_problem(row, s.id, p.id)
                  from (select) x left join forecast.stores s on s.store_code = row ->> 'store_code'
                  left join forecast.products p on p.sku = row ->> 'sku'), 'accepted'));
  end loop;
end $$;
select is((select count(*)::int from t_edge_outcomes), (select count(*)::int from t_edges), 'every edge case was tried');
select is_empty($$select field, value, outcome from t_edge_outcomes where (outcome = 'accepted') <> accepted$$,
  'each edge value is accepted or rejected as the contract says');
select is_empty($$select field, value, outcome, slow_path from t_edge_outcomes where outcome is distinct from slow_path$$,
  'the fast path and the named reasons agree on every edge');
select pg_temp.as_member((select b from t_ids), 'admin');
select throws_ok($$select api.ingest_sales_daily('[{"store_code": "S2", "sku": "P2", "date": "2026-01-01", "quantity": 1, "unit_price": 1}]')$$,
  'PT422', null, 'another account''s stores and products are unknown keys');

-- ── Rollups ────────────────────────────────────────────────────────────────────────────────────
select tests.clear_authentication();
select results_eq($$select date, sum(revenue), sum(units)::int, sum(transactions)::int from forecast.sales_by_store_day
                     where account_id = (select a from t_ids) group by date order by date$$,
  $$values ('2026-01-01'::date, 42.00::numeric, 18, 2), ('2026-01-02'::date, 7.50::numeric, 4, 1)$$, 'the store rollup follows inserts and updates');
select results_eq($$select date, revenue, units::int, transactions::int from forecast.sales_by_day where account_id = (select a from t_ids) order by date$$,
  $$values ('2026-01-01'::date, 42.00::numeric, 18, 2), ('2026-01-02'::date, 7.50::numeric, 4, 1)$$, '… and so does the daily rollup');
delete from forecast.sales_daily where date = '2026-01-02';
select is((select count(*)::int from forecast.sales_by_product_day where date = '2026-01-02'), 0, 'a deleted day leaves the rollups');

-- References: a sales row's store and product must exist in its own account; deleting a store deletes its sales.
select throws_ok(format('insert into forecast.sales_daily (account_id, store_id, product_id, date, quantity, unit_price, total_amount)
                         values (%L, %s, %s, %L, 1, 1, 1)', (select a from t_ids),
                        (select id from forecast.stores where account_id = (select b from t_ids)),
                        (select id from forecast.products where account_id = (select a from t_ids) and sku = 'P1'), '2026-01-05'),
  '23503', null, 'a sales row cannot point at another account''s store');
insert into forecast.stores (account_id, store_code, name) select a, 'S3', 'Closing soon' from t_ids;
insert into forecast.sales_daily (account_id, store_id, product_id, date, quantity, unit_price, total_amount)
  select a, (select id from forecast.stores where store_code = 'S3'), (select id from forecast.products where account_id = a and sku = 'P1'), '2026-01-05', 1, 1, 1 from t_ids;
delete from forecast.stores where store_code = 'S3';
select is((select count(*)::int from forecast.sales_daily where account_id = (select a from t_ids) and date = '2026-01-05'), 0, 'deleting a store deletes its sales');
select is((select count(*)::int from forecast.sales_by_day where account_id = (select a from t_ids) and date = '2026-01-05'), 0, '… and its rollups');
insert into forecast.products (account_id, sku, name, base_price) select a, 'P3', 'Discontinued', 1 from t_ids;
insert into forecast.sales_daily (account_id, store_id, product_id, date, quantity, unit_price, total_amount)
  select t.a, st.id, p.id, '2020-01-06', 1, 1, 1 from t_ids t
    join forecast.stores st on st.account_id = t.a join forecast.products p on p.account_id = t.a and p.sku in ('P1', 'P3');
delete from forecast.products where account_id = (select a from t_ids) and sku = 'P3';
select results_eq($$select p.sku, count(*)::int from forecast.sales_daily s join forecast.products p on p.id = s.product_id
                     where s.account_id = (select a from t_ids) and s.date = '2020-01-06' group by p.sku$$,
  $$values ('P1'::text, 2)$$, 'deleting a product deletes its sales in every store, and only its own');
select is((select sum(transactions)::int from forecast.sales_by_day where account_id = (select a from t_ids) and date = '2020-01-06'), 2,
  '… and the rollups follow');

-- ── Dimensions ─────────────────────────────────────────────────────────────────────────────────
select pg_temp.as_member((select a from t_ids), 'viewer');
select is(jsonb_path_query_array(api.list_stores(sort_by => 'name'), '$.stores[*].store_code'), '["S2", "S1"]', 'stores sorted by name');
select is(jsonb_path_query_array(api.list_stores(sort_by => 'name', sort_order => 'desc'), '$.stores[*].store_code'), '["S1", "S2"]', '… descending');
select is(jsonb_path_query_array(api.list_stores(sort_by => 'password; drop table x', sort_order => 'sideways'), '$.stores[*].store_code'),
  '["S1", "S2"]', 'an unknown sort_by or sort_order falls back to the default (id ascending)');
select is(api.list_stores(search => 'dOwNt') -> 'total', '1', 'search is case-insensitive');
select is(api.list_stores(search => '100%') -> 'total', '1', '… and % is a literal character');
select is(api.list_stores(search => '%') -> 'total', '1', '… even alone');
select is(api.list_stores(region => 'South', store_type => 'express') -> 'total', '1', 'region and store_type filter');
select is(jsonb_path_query_array(api.list_stores(page => 2, page_size => 1), '$.stores[*].store_code'), '["S2"]', 'pages are 1-indexed');
select is(api.list_products(category => 'snacks') #>> '{products,0,sku}', 'P2', 'products filter by category');
select is(api.list_products(search => 'p1', brand => 'Acme') -> 'total', '1', 'products search sku, filter brand');
select throws_ok($$select api.get_store(999999999)$$, 'PT404', null, 'a missing store is a 404');
select throws_ok(format('select api.get_product(%s)', (select id from t_b_product)),
  'PT404', null, 'another account''s product is a 404');
select throws_ok($$select api.list_stores(page => 0)$$, '22023', null, 'page 0 is a 400');

-- ── Analytics ──────────────────────────────────────────────────────────────────────────────────
select is(api.get_kpis('2026-01-01', '2026-01-31') - 'start_date' - 'end_date' - 'store_id' - 'product_id' - 'category',
  '{"total_revenue": 42.00, "total_units": 18, "total_transactions": 2, "avg_unit_price": 2.33, "avg_basket_value": 21.00}', 'KPIs over the range');
select is((api.get_kpis('2026-01-01', '2026-01-31', product_id => (select id from forecast.products where sku = 'P2' and account_id = (select a from t_ids)))
           ->> 'total_revenue')::numeric, 18.00, 'KPIs for one product');
select is((api.get_kpis('2026-01-01', '2026-01-31', category => 'beverages') ->> 'total_units')::int, 12, 'KPIs for a category');
select is((api.get_kpis('2026-01-01', '2026-01-31', store_id => (select id from forecast.stores where store_code = 'S1' and account_id = (select a from t_ids)),
                        category => 'snacks') ->> 'total_units')::int, 6, 'KPIs for a store and a category (from the sales rows)');
select throws_ok($$select api.get_kpis('2026-02-01', '2026-01-01')$$, '22023', 'start_date: must not be after end_date', 'an inverted range is a 400');
select throws_ok($$select api.get_timeseries('2024-01-01', '2026-01-01')$$, '22023', 'end_date: the range may span at most 730 days', 'over 730 days is a 400');
select lives_ok($$select api.get_timeseries('2024-01-01', '2025-12-31')$$, 'exactly 730 days is allowed');
select is(jsonb_array_length(api.get_timeseries('2026-01-01', '2026-01-07') -> 'points'), 7, 'a daily series has every day, zeros included');
select is(api.get_timeseries('2025-12-01', '2026-02-15', 'month') #> '{points,1}',
  '{"period_start": "2026-01-01", "revenue": 42.00, "units": 18, "transactions": 2}', 'monthly buckets');
select throws_ok($$select api.get_timeseries('2026-01-01', '2026-01-07', 'hour')$$, '22023', null, 'an unknown granularity is a 400');
select is(jsonb_path_query_array(api.get_drilldowns('category', '2026-01-01', '2026-01-31'), '$.items[*].key'), '["beverages", "snacks"]',
  'drilldown by category, largest revenue first');
select throws_ok($$select api.get_drilldowns('color', '2026-01-01', '2026-01-31')$$, '22023', null, 'an unknown dimension is a 400');
select is(api.get_inventory_status(), '[]', 'no snapshots: [] (never a 404)');
reset role;
insert into forecast.inventory_snapshot_daily (account_id, store_id, product_id, date, on_hand_qty)
  select a, s.id, p.id, d, 10 + extract(day from d)::int from t_ids, forecast.stores s, forecast.products p, generate_series(date '2026-01-01', date '2026-01-03', interval '1 day') d
   where s.account_id = a and p.account_id = a;
select pg_temp.as_member((select a from t_ids), 'viewer');
select is(jsonb_path_query_array(api.get_inventory_status(), '$[*].on_hand_qty'), '[13, 13, 13, 13]', 'the latest snapshot per store and product');

-- ── Seeder ─────────────────────────────────────────────────────────────────────────────────────
select pg_temp.as_member((select empty_account from t_ids), 'admin');
select throws_ok($$select api.seeder_phase2_enrichment()$$, 'PT422', null, 'phase 2 on an empty account is a 422');
select throws_ok($$select api.seeder_generate(overrides => '{"stores": 3, "colour": 1}')$$, 'PT422', 'unknown override colour', 'an unknown knob is a 422');
select throws_ok($$select api.seeder_generate(overrides => '{"noise_sigma": 0.9}')$$, 'PT422', null, 'a knob out of range is a 422');
select throws_ok($$select api.seeder_generate(stores => 100, products => 500, overrides => '{"window_days": 365}')$$, 'PT422', null,
  'a data set too big for one request is refused up front');
create temp table t_runs (run int, rows jsonb);
grant insert, select on t_runs to authenticated;
select api.seeder_generate(seed => 11, stores => 3, products => 4, end_date => '2026-03-31', overrides => '{"window_days": 80, "promotion_intensity": 0.4}');
insert into t_runs select 1, jsonb_agg(jsonb_build_array(st.store_code, st.region, p.sku, p.base_price, s.date, s.quantity, s.unit_price) order by st.store_code, p.sku, s.date)
  from forecast.sales_daily s join forecast.stores st on st.id = s.store_id join forecast.products p on p.id = s.product_id
 where s.account_id = (select empty_account from t_ids);
select api.seeder_generate(seed => 11, stores => 3, products => 4, end_date => '2026-03-31', overrides => '{"window_days": 80, "promotion_intensity": 0.4}');
insert into t_runs select 2, jsonb_agg(jsonb_build_array(st.store_code, st.region, p.sku, p.base_price, s.date, s.quantity, s.unit_price) order by st.store_code, p.sku, s.date)
  from forecast.sales_daily s join forecast.stores st on st.id = s.store_id join forecast.products p on p.id = s.product_id
 where s.account_id = (select empty_account from t_ids);
select is((select rows from t_runs where run = 2), (select rows from t_runs where run = 1), 'the same seed gives the same data');
select is((api.seeder_status() ->> 'first_date'), '2026-01-11', 'window_days counts back from end_date');
select api.seeder_generate(seed => 12, stores => 3, products => 4, end_date => '2026-03-31', overrides => '{"window_days": 80, "promotion_intensity": 0.4}');
select isnt((select jsonb_agg(s.quantity order by st.store_code, p.sku, s.date) from forecast.sales_daily s join forecast.stores st on st.id = s.store_id
               join forecast.products p on p.id = s.product_id where s.account_id = (select empty_account from t_ids)),
            (select jsonb_path_query_array(rows, '$[*][5]') from t_runs where run = 1), 'another seed gives other data');
select ok((api.seeder_phase2_enrichment() #>> '{phase2,returns}')::int > 0, 'phase 2 adds returns (and the rest) to seeded sales');

select pg_temp.as_member((select b from t_ids), 'viewer');
select is((api.get_kpis('2026-01-01', '2026-01-31') ->> 'total_transactions')::int, 0, 'another account sees none of A''s sales');
select is(jsonb_path_query_array(api.list_stores(), '$.stores[*].name'), '["B store"]', '… nor its stores');

select * from finish();
rollback;
