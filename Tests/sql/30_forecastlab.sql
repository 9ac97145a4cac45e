-- ForecastLab data slice (forecastlab-contract-details.md §4–§6): ingest (per-row rejection with the
-- contract's codes, all or nothing on request, 422 for malformed batches, idempotent, the cap),
-- rollups, dimensions (the contract's shapes, filters, search of at least 2 characters, sort
-- allow-list, 404), analytics (metrics objects, the 730-day rule as 400, quarters, drilldown items,
-- inventory {items, total_items}) and tenant isolation. The seeder is in 31_forecastlab_seeder.sql.
begin;
select plan(97);

create temp table t_ids as select
  'f0000000-0000-4000-8000-00000000000a'::uuid as a, 'f0000000-0000-4000-8000-00000000000b'::uuid as b;
grant select on t_ids to authenticated, service_role;
grant execute on all functions in schema pg_temp to authenticated, service_role;

-- Account A: two stores (S2 created before S1, so the default order by code is not the id order),
-- two products, known sales. Account B: a store S1 and a product P1 of its own.
insert into forecast.stores (account_id, store_code, name, region, store_type)
  select a, 'S2', 'Airport 100%', 'South', 'express' from t_ids union all select a, 'S1', 'Downtown', 'North', 'flagship' from t_ids;
insert into forecast.products (account_id, sku, name, category, brand, base_price)
  select a, 'P1', 'Cola', 'beverages', 'Acme', 2.00 from t_ids union all select a, 'P2', 'Chips', 'snacks', 'Globex', 3.00 from t_ids;
insert into forecast.stores (account_id, store_code, name) select b, 'S1', 'B store' from t_ids;
insert into forecast.products (account_id, sku, name, base_price) select b, 'P1', 'B product', 1 from t_ids;
create temp table t_b_product as select id from forecast.products where account_id = (select b from t_ids);
create temp table t_a as select
  (select id from forecast.stores where store_code = 'S1' and account_id = (select a from t_ids)) as s1,
  (select id from forecast.stores where store_code = 'S2' and account_id = (select a from t_ids)) as s2,
  (select id from forecast.products where sku = 'P1' and account_id = (select a from t_ids)) as p1,
  (select id from forecast.products where sku = 'P2' and account_id = (select a from t_ids)) as p2;
grant select on t_b_product, t_a to authenticated;

-- ── Ingest ─────────────────────────────────────────────────────────────────────────────────────
select tests.as_member((select a from t_ids), 'viewer');
select throws_ok($$select api.ingest_sales_daily('[]')$$, '42501', null, 'a viewer cannot ingest');
select tests.as_member((select a from t_ids), 'admin');
create temp table t_batch as select '[
  {"store_code": "S1", "sku": "P1", "date": "2026-01-01", "quantity": 10, "unit_price": 2.00},
  {"store_code": "S1", "sku": "P2", "date": "2026-01-01", "quantity": 5, "unit_price": 3.00},
  {"store_code": "S2", "sku": "P1", "date": "2026-01-02", "quantity": 4, "unit_price": 2.00, "total_amount": 7.50},
  {"store_code": "S1", "sku": "P1", "date": "2026-01-01", "quantity": 12, "unit_price": 2.00}]'::jsonb as body;
grant select on t_batch to authenticated;
create temp table t_answer as select api.ingest_sales_daily((select body from t_batch)) as answer;
grant select on t_answer to authenticated;
select is((select answer - 'duration_ms' from t_answer),
  '{"processed_count": 4, "rejected_count": 0, "total_received": 4, "errors": [],
    "inserted": 3, "updated": 0, "unchanged": 0, "duplicates": 1}', 'a batch is upserted: the contract''s counts, and what happened to each key');
select ok((select jsonb_typeof(answer -> 'duration_ms') = 'number' and (answer ->> 'duration_ms')::numeric >= 0 from t_answer),
  '… with duration_ms, a number of milliseconds');
select is((select quantity from forecast.sales_daily where store_id = (select s1 from t_a) and product_id = (select p1 from t_a) and date = '2026-01-01'),
  12, 'within a batch the last row for a key wins');
select is((select total_amount from forecast.sales_daily where date = '2026-01-02'), 7.50, 'a given total_amount is kept');
select is((select total_amount from forecast.sales_daily where product_id = (select p2 from t_a)), 15.00, 'a missing total_amount is quantity × unit_price');
select is(api.ingest_sales_daily((select body from t_batch)) - 'duration_ms',
  '{"processed_count": 4, "rejected_count": 0, "total_received": 4, "errors": [],
    "inserted": 0, "updated": 0, "unchanged": 3, "duplicates": 1}', 'the same batch twice changes nothing');
select is(api.ingest_sales_daily('[{"store_code": "S1", "sku": "P2", "date": "2026-01-01", "quantity": 6, "unit_price": 3.00}]')
            - 'duration_ms' - 'errors',
  '{"processed_count": 1, "rejected_count": 0, "total_received": 1, "inserted": 0, "updated": 1, "unchanged": 0, "duplicates": 0}',
  'a changed row is updated');

-- One batch that writes new product-days (plain INSERT), a new key of a product-day that sold
-- (through ON CONFLICT) and a change: the rollups count each once.
select api.ingest_sales_daily('[{"store_code": "S1", "sku": "P1", "date": "2026-02-05", "quantity": 1, "unit_price": 1}]');
select is(api.ingest_sales_daily('[{"store_code": "S2", "sku": "P1", "date": "2026-02-05", "quantity": 2, "unit_price": 1},
                                   {"store_code": "S1", "sku": "P2", "date": "2026-02-05", "quantity": 4, "unit_price": 1},
                                   {"store_code": "S1", "sku": "P1", "date": "2026-02-05", "quantity": 8, "unit_price": 1}]') - 'duration_ms' - 'errors',
  '{"processed_count": 3, "rejected_count": 0, "total_received": 3, "inserted": 2, "updated": 1, "unchanged": 0, "duplicates": 0}',
  'new product-days, a new key of a sold product-day and a change in one batch');
select results_eq($$select 'day', null::bigint, units::int, transactions::int from forecast.sales_by_day where date = '2026-02-05'
                    union all select 'store', store_id, units::int, transactions::int from forecast.sales_by_store_day where date = '2026-02-05'
                    union all select 'product', product_id, units::int, transactions::int from forecast.sales_by_product_day where date = '2026-02-05'
                    order by 1, 2$$,
  $$select 'day', null::bigint, 14, 3 union all select 'product', p1, 10, 2 from t_a union all select 'product', p2, 4, 1 from t_a
    union all select 'store', s1, 12, 2 from t_a union all select 'store', s2, 2, 1 from t_a order by 1, 2$$,
  '… and every rollup counts each row once');

-- Rows that name an unknown store, product or date are rejected with the contract's codes; the
-- others are written, and the answer is a 200.
create temp table t_mixed as select '[
  {"store_code": "S1", "sku": "P1", "date": "2026-02-01", "quantity": 1, "unit_price": 1},
  {"store_code": "S9", "sku": "P1", "date": "2026-02-01", "quantity": 1, "unit_price": 1},
  {"store_code": "S1", "sku": "P9", "date": "2026-02-01", "quantity": 1, "unit_price": 1},
  {"store_code": "S1", "sku": "P1", "date": "2099-01-01", "quantity": 1, "unit_price": 1},
  {"store_code": "S9", "sku": "P9", "date": "1999-01-01", "quantity": 1, "unit_price": 1},
  {"store_code": "S2", "sku": "P9", "date": "1999-01-01", "quantity": 1, "unit_price": 1},
  {"store_code": "S2", "sku": "P2", "date": "2026-02-01", "quantity": 2, "unit_price": 1}]'::jsonb as body;
grant select on t_mixed to authenticated;
select is(tests.error_of($$select api.ingest_sales_daily((select body from t_mixed), all_or_nothing => true)$$) -> 'errors',
  '[{"field": "records.1.store_code", "message": "Store code S9 not found", "type": "unknown_store"},
    {"field": "records.2.sku", "message": "SKU P9 not found", "type": "unknown_product"},
    {"field": "records.3.date", "message": "Date 2099-01-01 is not in the calendar (2015-01-01 to 2040-12-31)", "type": "unknown_date"},
    {"field": "records.4.store_code", "message": "Store code S9 not found", "type": "unknown_store"},
    {"field": "records.5.sku", "message": "SKU P9 not found", "type": "unknown_product"}]',
  'all_or_nothing: one unresolved row is a 422 naming every rejected row and field');
select is((select count(*)::int from forecast.sales_daily where date = '2026-02-01'), 0, '… and nothing of that batch is written');
create temp table t_mixed_answer as select api.ingest_sales_daily((select body from t_mixed)) as answer;
grant select on t_mixed_answer to authenticated;
select is((select answer - 'duration_ms' - 'errors' from t_mixed_answer),
  '{"processed_count": 2, "rejected_count": 5, "total_received": 7, "inserted": 2, "updated": 0, "unchanged": 0, "duplicates": 0}',
  'by default the resolvable rows are written and the others rejected, with a 200');
select is((select answer -> 'errors' from t_mixed_answer),
  '[{"row_index": 1, "store_code": "S9", "sku": "P1", "date": "2026-02-01", "error_code": "UNKNOWN_STORE", "error_message": "Store code S9 not found"},
    {"row_index": 2, "store_code": "S1", "sku": "P9", "date": "2026-02-01", "error_code": "UNKNOWN_PRODUCT", "error_message": "SKU P9 not found"},
    {"row_index": 3, "store_code": "S1", "sku": "P1", "date": "2099-01-01", "error_code": "UNKNOWN_DATE",
     "error_message": "Date 2099-01-01 is not in the calendar (2015-01-01 to 2040-12-31)"},
    {"row_index": 4, "store_code": "S9", "sku": "P9", "date": "1999-01-01", "error_code": "UNKNOWN_STORE", "error_message": "Store code S9 not found"},
    {"row_index": 5, "store_code": "S2", "sku": "P9", "date": "1999-01-01", "error_code": "UNKNOWN_PRODUCT", "error_message": "SKU P9 not found"}]',
  '… each rejected row named by its 0-based index with the first code of store, product, date');
select results_eq($$select store_id, product_id, quantity from forecast.sales_daily where date = '2026-02-01' order by store_id$$,
  $$select s1, p1, 1 from t_a union all select s2, p2, 2 from t_a order by 1$$, 'the resolvable rows are written');
select is((select count(*)::int from forecast.sales_daily where date not between '2015-01-01' and '2040-12-31'), 0,
  'a date outside the calendar is never written');
select is(api.ingest_sales_daily((select body from t_mixed)) - 'duration_ms' - 'errors',
  '{"processed_count": 2, "rejected_count": 5, "total_received": 7, "inserted": 0, "updated": 0, "unchanged": 2, "duplicates": 0}',
  'the same mixed batch again writes nothing new');
select is(api.ingest_sales_daily('[{"store_code": "S1", "sku": "P1", "date": "2026-02-02", "quantity": 1, "unit_price": 1}]', all_or_nothing => true)
            -> 'processed_count', '1', 'all_or_nothing writes a batch whose every row resolves');

-- A malformed batch is a 422 listing every problem, Pydantic-style; nothing is written.
select is(tests.error_of($$select api.ingest_sales_daily('[
    {"store_code": "S1", "sku": "P1", "date": "2026-03-01", "quantity": -1, "unit_price": 1},
    {"store_code": "S1", "date": "2026-03-01", "quantity": 1, "unit_price": 1},
    {"store_code": "S1", "sku": "P1", "date": "2026-03-01", "quantity": 1, "unit_price": 1.234},
    {"store_code": "S9", "sku": "P1", "date": "2026-03-01", "quantity": 1, "unit_price": 1},
    {"store_code": "S1", "sku": "P1", "date": "2026-02-30", "quantity": "x", "unit_price": 1, "total_amount": -2}, 7]')$$),
  '{"sqlstate": "22023", "message": "7 problem(s) in the batch; nothing was written", "errors": [
    {"field": "records.0.quantity", "message": "Input should be greater than or equal to 0", "type": "greater_than_equal"},
    {"field": "records.1.sku", "message": "Field required", "type": "missing"},
    {"field": "records.2.unit_price", "message": "Decimal input should have no more than 2 decimal places", "type": "decimal_max_places"},
    {"field": "records.4.date", "message": "Input should be a valid date in the format YYYY-MM-DD", "type": "date_parsing"},
    {"field": "records.4.quantity", "message": "Input should be a valid integer", "type": "int_parsing"},
    {"field": "records.4.total_amount", "message": "Input should be greater than or equal to 0", "type": "greater_than_equal"},
    {"field": "records.5", "message": "Input should be a valid object", "type": "model_type"}]}',
  'a malformed batch is a 422 naming every field at fault (an unknown store is not one of them)');
select is((select count(*)::int from forecast.sales_daily where date = '2026-03-01'), 0, '… and nothing of it is written');
select is(tests.error_of($$select api.ingest_sales_daily('[]')$$) -> 'errors',
  '[{"field": "records", "message": "List should have at least 1 item after validation, not 0", "type": "too_short"}]', 'records: [] is a 422');
select is(tests.error_of(format('select api.ingest_sales_daily(%L)', (select jsonb_agg(jsonb_build_object('store_code', 'S1', 'sku', 'P1',
    'date', '2026-01-01', 'quantity', 1, 'unit_price', 1)) from generate_series(1, 10001)))) -> 'errors',
  '[{"field": "records", "message": "List should have at most 10000 items after validation, not 10001", "type": "too_long"}]',
  'a batch over 10,000 rows is a 422');
select is(tests.error_of($$select api.ingest_sales_daily('{"store_code": "S1"}')$$) #>> '{errors,0,type}', 'list_type', 'records must be a list');
select is(tests.error_of($$select api.ingest_sales_daily('[{"store_code": "S1", "sku": "P1", "date": "2026-01-01", "quantity": 1, "unit_price": 1}]',
                                                            all_or_nothing => null)$$) #>> '{errors,0,field}', 'all_or_nothing', 'all_or_nothing must be a boolean');

-- The fast path (casts) and the slow path (patterns, forecast.sales_row_problems) must agree on
-- every edge: each case is a one-row batch, undone after it is accepted.
create temp table t_edges (field text, value jsonb, accepted boolean);
insert into t_edges values
  ('date', '"2024-02-29"', true), ('date', '"0999-12-31"', false), ('date', '"2041-01-01"', false), ('date', '"2026-02-29"', false), ('date', '"2026-1-05"', false),
  ('date', '"20260105"', false), ('date', '"2026-01-05 "', false), ('date', '"10000-01-01"', false), ('date', '"0000-01-01"', false),
  ('date', '"2026-01-05T00:00"', false), ('date', '"Jan 5 2026"', false), ('date', '"today"', false), ('date', '20260105', false),
  ('quantity', '0', true), ('quantity', '999999999', true), ('quantity', '"7"', true), ('quantity', '1e2', true),
  ('quantity', '1000000000', false), ('quantity', '2147483648', false), ('quantity', '-1', false), ('quantity', '1.5', false),
  ('quantity', '"007"', false), ('quantity', '"+5"', false), ('quantity', '" 5"', false), ('quantity', 'true', false), ('quantity', '"abc"', false),
  ('quantity', '"-0"', false), ('quantity', '{"n": 1}', false),
  ('unit_price', '0', true), ('unit_price', '1.5', true), ('unit_price', '"1.50"', true), ('unit_price', '99999999.99', true),
  ('unit_price', '1.234', false), ('unit_price', '-0.5', false), ('unit_price', '100000000', false), ('unit_price', '"1e2"', false),
  ('unit_price', '"NaN"', false), ('unit_price', '"Infinity"', false), ('unit_price', '"01.5"', false), ('unit_price', '".5"', false),
  ('unit_price', '"5."', false), ('unit_price', '"abc"', false), ('unit_price', '"-0"', false), ('unit_price', 'null', false),
  ('total_amount', '9999999999.99', true), ('total_amount', 'null', true), ('total_amount', '10000000000', false),
  ('total_amount', '1.001', false), ('total_amount', '"-1"', false),
  ('store_code', '""', false), ('store_code', '"S1234567890123456789X"', false), ('sku', '""', false),
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
  answer jsonb;
  outcome text;
  detail text;
begin
  for edge in select * from t_edges loop
    row := case edge.field when 'row' then edge.value when 'overflow' then example || edge.value
                           else pg_catalog.jsonb_set(example, array[edge.field], edge.value) end;
    begin
      answer := api.ingest_sales_daily(pg_catalog.jsonb_build_array(row));
      outcome := coalesce(answer #>> '{errors,0,error_code}', 'accepted');
      raise exception 'undo' using errcode = 'PT200';  -- only the outcome matters
    exception
      when sqlstate 'PT200' then null;
      when sqlstate '22023' then
        get stacked diagnostics detail = pg_exception_detail;
        outcome := detail::jsonb #>> '{errors,0,type}';
    end;
    insert into t_edge_outcomes values (edge.field, edge.value, edge.accepted, outcome,
      coalesce(forecast.sales_row_problems(row, 0) #>> '{0,type}',
               case when not exists (select from forecast.stores s where s.store_code = row ->> 'store_code') then 'UNKNOWN_STORE'
                    when not exists (select from forecast.products p where p.sku = row ->> 'sku') then 'UNKNOWN_PRODUCT'
                    when not exists (select from forecast.calendar c where c.date = (row ->> 'date')::date) then 'UNKNOWN_DATE'
                    else 'accepted' end));
  end loop;
end $$;
select is((select count(*)::int from t_edge_outcomes), (select count(*)::int from t_edges), 'every edge case was tried');
select is_empty($$select field, value, outcome from t_edge_outcomes where (outcome = 'accepted') <> accepted$$,
  'each edge value is accepted or rejected as the contract says');
select is_empty($$select field, value, outcome, slow_path from t_edge_outcomes where outcome is distinct from slow_path$$,
  'the fast path and the named problems agree on every edge');
select tests.as_member((select b from t_ids), 'admin');
select is(api.ingest_sales_daily('[{"store_code": "S2", "sku": "P2", "date": "2026-01-01", "quantity": 1, "unit_price": 1}]') #>> '{errors,0,error_code}',
  'UNKNOWN_STORE', 'another account''s stores and products are unknown keys');
select is((select count(*)::int from forecast.sales_daily where account_id = (select b from t_ids)), 0, '… and nothing is written for them');

-- ── Rollups ────────────────────────────────────────────────────────────────────────────────────
select tests.clear_authentication();
-- Account A's sales only (through its stores, the primary key's prefix): the database may hold others.
create temp table t_a_stores as select id from forecast.stores where account_id = (select a from t_ids);
delete from forecast.sales_daily where store_id in (select id from t_a_stores) and date >= '2026-02-01';
select results_eq($$select date, sum(revenue), sum(units)::int, sum(transactions)::int from forecast.sales_by_store_day
                     where account_id = (select a from t_ids) group by date order by date$$,
  $$values ('2026-01-01'::date, 42.00::numeric, 18, 2), ('2026-01-02'::date, 7.50::numeric, 4, 1)$$, 'the store rollup follows inserts and updates');
select results_eq($$select date, revenue, units::int, transactions::int from forecast.sales_by_day where account_id = (select a from t_ids) order by date$$,
  $$values ('2026-01-01'::date, 42.00::numeric, 18, 2), ('2026-01-02'::date, 7.50::numeric, 4, 1)$$, '… and so does the daily rollup');
select results_eq($$select product_id, sum(revenue), sum(transactions)::int from forecast.sales_by_product_day
                     where account_id = (select a from t_ids) group by product_id order by product_id$$,
  $$select p1, 31.50::numeric, 2 from t_a union all select p2, 18.00, 1 from t_a order by 1$$, '… and the product rollup');
delete from forecast.sales_daily where store_id in (select id from t_a_stores) and date = '2026-01-02';
select is((select count(*)::int from forecast.sales_by_product_day where account_id = (select a from t_ids) and date = '2026-01-02'), 0,
  'a deleted day leaves the rollups');

-- References: a sales row's store and product must exist in its own account; deleting a store deletes its sales.
select throws_ok(format('insert into forecast.sales_daily (account_id, store_id, product_id, date, quantity, unit_price, total_amount)
                         values (%L, %s, %s, %L, 1, 1, 1)', (select a from t_ids),
                        (select id from forecast.stores where account_id = (select b from t_ids)), (select p1 from t_a), '2026-01-05'),
  '23503', null, 'a sales row cannot point at another account''s store');
select throws_ok(format('insert into forecast.sales_daily (account_id, store_id, product_id, date, quantity, unit_price, total_amount)
                         values (%L, %s, %s, %L, 1, 1, 1)', (select a from t_ids), (select s1 from t_a), (select id from t_b_product), '2026-01-05'),
  '23503', null, '… nor at another account''s product');
insert into forecast.stores (account_id, store_code, name) select a, 'S3', 'Closing soon' from t_ids;
insert into forecast.sales_daily (account_id, store_id, product_id, date, quantity, unit_price, total_amount)
  select a, (select id from forecast.stores where store_code = 'S3'), (select p1 from t_a), '2026-01-05', 1, 1, 1 from t_ids;
delete from forecast.stores where store_code = 'S3';
select is((select count(*)::int from forecast.sales_daily where account_id = (select a from t_ids) and date = '2026-01-05'), 0, 'deleting a store deletes its sales');
select is((select count(*)::int from forecast.sales_by_day where account_id = (select a from t_ids) and date = '2026-01-05')
          + (select count(*)::int from forecast.sales_by_store_day where account_id = (select a from t_ids) and date = '2026-01-05'), 0,
  '… and its rollups');
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
select is((select count(*)::int from forecast.sales_by_product_day where account_id = (select a from t_ids) and date = '2020-01-06'), 1,
  '… the deleted product''s rollup rows included');
delete from forecast.sales_daily where store_id in (select id from forecast.stores where account_id = (select a from t_ids)) and date = '2020-01-06';

-- ── Dimensions ─────────────────────────────────────────────────────────────────────────────────
select tests.as_member((select a from t_ids), 'viewer');
select is((select array_agg(k order by k) from jsonb_object_keys(api.get_store((select s1 from t_a))) k),
  array['city', 'code', 'created_at', 'id', 'name', 'region', 'store_type', 'updated_at'], 'a store is {id, code, name, region, city, store_type, created_at, updated_at}');
select is(api.get_store((select s1 from t_a)) ->> 'code', 'S1', '… its code is the store code');
select is((select array_agg(k order by k) from jsonb_object_keys(api.get_product((select p1 from t_a))) k),
  array['base_cost', 'base_price', 'brand', 'category', 'created_at', 'id', 'name', 'sku', 'updated_at'],
  'a product is {id, sku, name, category, brand, base_price, base_cost, created_at, updated_at}');
select is(api.get_product((select p1 from t_a)) -> 'base_price', '"2.00"', '… base_price is a decimal string');
select is(jsonb_path_query_array(api.list_stores(), '$.stores[*].code'), '["S1", "S2"]', 'stores are ordered by code by default (not by id)');
select is(jsonb_path_query_array(api.list_stores(sort_by => 'name'), '$.stores[*].code'), '["S2", "S1"]', 'stores sorted by name');
select is(jsonb_path_query_array(api.list_stores(sort_by => 'name', sort_order => 'desc'), '$.stores[*].code'), '["S1", "S2"]', '… descending');
select is(jsonb_path_query_array(api.list_stores(sort_by => 'password; drop table x', sort_order => 'sideways'), '$.stores[*].code'),
  '["S1", "S2"]', 'an unknown sort_by or sort_order falls back to the default (code ascending)');
select is(api.list_stores(search => 'dOwNt') -> 'total', '1', 'search is case-insensitive');
select is(api.list_stores(search => '0%') -> 'total', '1', '… and % is a literal character');
select is(tests.error_of($$select api.list_stores(search => 'S')$$) -> 'errors',
  '[{"field": "search", "message": "String should have at least 2 characters", "type": "string_too_short"}]', 'a one-character search is a 422');
select is(tests.error_of($$select api.list_products(search => '')$$) #>> '{errors,0,type}', 'string_too_short', '… and so is an empty one, for products too');
select is(api.list_stores(region => 'South', store_type => 'express') -> 'total', '1', 'region and store_type filter');
select is(jsonb_path_query_array(api.list_stores(page => 2, page_size => 1), '$.stores[*].code'), '["S2"]', 'pages are 1-indexed');
select is(jsonb_path_query_array(api.list_products(), '$.products[*].sku'), '["P1", "P2"]', 'products are ordered by sku by default');
select is(jsonb_path_query_array(api.list_products(sort_by => 'base_price', sort_order => 'desc'), '$.products[*].sku'), '["P2", "P1"]', 'products sort by base_price');
select is(api.list_products(category => 'snacks') #>> '{products,0,sku}', 'P2', 'products filter by category');
select is(api.list_products(search => 'p1', brand => 'Acme') -> 'total', '1', 'products search sku, filter brand');
select throws_ok($$select api.get_store(999999999)$$, 'PT404', 'Store 999999999 not found', 'a missing store is a 404');
select throws_ok(format('select api.get_product(%s)', (select id from t_b_product)), 'PT404', null, 'another account''s product is a 404');
select is(tests.error_of($$select api.list_stores(page => 0)$$) -> 'errors',
  '[{"field": "page", "message": "Input should be greater than or equal to 1", "type": "greater_than_equal"}]', 'page 0 is a 422');
select is(tests.error_of($$select api.list_products(page_size => 101)$$) #>> '{errors,0,type}', 'less_than_equal', 'page_size 101 is a 422');
select tests.as_member((select a from t_ids), 'admin');
update forecast.stores set created_at = '2020-01-01', updated_at = '2020-01-01' where id = (select s2 from t_a);
update forecast.stores set name = 'Airport' where id = (select s2 from t_a);
select ok((api.get_store((select s2 from t_a)) ->> 'updated_at')::timestamptz > (api.get_store((select s2 from t_a)) ->> 'created_at')::timestamptz,
  'updated_at follows a change');

-- ── Analytics ──────────────────────────────────────────────────────────────────────────────────
select tests.as_member((select a from t_ids), 'viewer');
select is(api.get_kpis('2026-01-01', '2026-01-31'),
  '{"metrics": {"total_revenue": "42.00", "total_units": 18, "total_transactions": 2, "avg_unit_price": "2.33", "avg_basket_value": "21.00"},
    "start_date": "2026-01-01", "end_date": "2026-01-31", "store_id": null, "product_id": null, "category": null}',
  'KPIs are {metrics, start_date, end_date, store_id, product_id, category}, decimals as strings');
select is(api.get_kpis('2025-01-01', '2025-01-31') -> 'metrics',
  '{"total_revenue": "0.00", "total_units": 0, "total_transactions": 0, "avg_unit_price": null, "avg_basket_value": null}', 'no sales: zeros and null averages');
select is(api.get_kpis('2026-01-01', '2026-01-31', product_id => (select p2 from t_a)) #>> '{metrics,total_revenue}', '18.00', 'KPIs for one product');
select is((api.get_kpis('2026-01-01', '2026-01-31', category => 'beverages') #>> '{metrics,total_units}')::int, 12, 'KPIs for a category');
select is((api.get_kpis('2026-01-01', '2026-01-31', store_id => (select s1 from t_a), category => 'snacks') #>> '{metrics,total_units}')::int, 6,
  'KPIs for a store and a category (from the sales rows)');
select throws_ok($$select api.get_kpis('2026-02-01', '2026-01-01')$$, 'PT400', 'end_date (2026-01-01) must be >= start_date (2026-02-01)',
  'an inverted range is a 400 with the spec''s message');
select throws_ok($$select api.get_timeseries('2024-01-01', '2026-01-01')$$, 'PT400', 'Date range (731 days) exceeds maximum allowed (730 days)',
  'over 730 days is a 400 with the spec''s message');
select lives_ok($$select api.get_timeseries('2024-01-01', '2025-12-31')$$, 'exactly 730 days is allowed');
select is(tests.error_of($$select api.get_kpis(null, '2026-01-01')$$) #>> '{errors,0,type}', 'missing', 'a missing date is a 422');
select is(api.get_timeseries('2026-01-01', '2026-01-07') - 'points',
  '{"granularity": "day", "total_points": 7, "start_date": "2026-01-01", "end_date": "2026-01-07", "store_id": null, "product_id": null, "category": null}',
  'a daily series has every day (total_points), zeros included');
select is(api.get_timeseries('2025-12-01', '2026-02-15', 'month') #> '{points,1}',
  '{"period": "2026-01-01", "metrics": {"total_revenue": "42.00", "total_units": 18, "total_transactions": 2, "avg_unit_price": "2.33", "avg_basket_value": "21.00"}}',
  'points are {period, metrics}');
select is(jsonb_path_query_array(api.get_timeseries('2025-11-15', '2026-04-01', 'quarter'), '$.points[*].period'), '["2025-10-01", "2026-01-01", "2026-04-01"]',
  'quarterly buckets');
select is(api.get_timeseries('2025-11-15', '2026-04-01', 'quarter') #>> '{points,1,metrics,total_revenue}', '42.00', '… holding their quarter''s sales');
select is(jsonb_path_query_array(api.get_timeseries('2026-01-01', '2026-01-12', 'week'), '$.points[*].period'), '["2025-12-29", "2026-01-05", "2026-01-12"]',
  'weeks start on Monday');
select is(api.get_timeseries('2026-01-01', '2026-01-01', category => 'snacks') #>> '{points,0,metrics,total_revenue}', '18.00', 'a series for a category');
select is(tests.error_of($$select api.get_timeseries('2026-01-01', '2026-01-07', 'hour')$$) #>> '{errors,0,type}', 'literal_error',
  'an unknown granularity is a 422');
select is(api.get_drilldowns('category', '2026-01-01', '2026-01-31') #> '{items}',
  '[{"dimension_value": "beverages", "dimension_id": null, "rank": 1, "revenue_share_pct": "57.14",
     "metrics": {"total_revenue": "24.00", "total_units": 12, "total_transactions": 1, "avg_unit_price": "2.00", "avg_basket_value": "24.00"}},
    {"dimension_value": "snacks", "dimension_id": null, "rank": 2, "revenue_share_pct": "42.86",
     "metrics": {"total_revenue": "18.00", "total_units": 6, "total_transactions": 1, "avg_unit_price": "3.00", "avg_basket_value": "18.00"}}]',
  'drilldown items are {dimension_value, dimension_id, metrics, rank, revenue_share_pct}, largest revenue first');
select is(api.get_drilldowns('store', '2026-01-01', '2026-01-31', max_items => 1) - 'items',
  format('{"dimension": "store", "total_items": 1, "start_date": "2026-01-01", "end_date": "2026-01-31", "store_id": null, "product_id": null}')::jsonb,
  'a drilldown says total_items, start_date, end_date, store_id, product_id');
select is(api.get_drilldowns('store', '2025-12-01', '2026-01-31') #> '{items,0,dimension_id}', to_jsonb((select s1 from t_a)), 'a store''s dimension_id is its id');
select is(api.get_drilldowns('store', '2025-12-01', '2026-01-31') #>> '{items,0,dimension_value}', 'S1', '… and its value its code');
select is(jsonb_array_length(api.get_drilldowns('product', '2026-01-01', '2026-01-31', max_items => 1) -> 'items'), 1, 'max_items caps the items');
select is(api.get_drilldowns('product', '2026-01-01', '2026-01-31', max_items => 1) -> 'total_items', '2', '… not total_items');
select is(jsonb_path_query_array(api.get_drilldowns('product', '2026-01-01', '2026-01-31', store_id => (select s1 from t_a)), '$.items[*].dimension_value'),
  '["P1", "P2"]', 'a drilldown by product for one store');
select is(jsonb_path_query_array(api.get_drilldowns('region', '2026-01-01', '2026-01-31', product_id => (select p2 from t_a)), '$.items[*].dimension_value'),
  '["North"]', '… by region for one product');
select is(tests.error_of($$select api.get_drilldowns('store', '2026-01-01', '2026-01-31', max_items => 101)$$) #>> '{errors,0,type}', 'less_than_equal',
  'max_items over 100 is a 422');
select is(tests.error_of($$select api.get_drilldowns('color', '2026-01-01', '2026-01-31')$$) #>> '{errors,0,type}', 'literal_error', 'an unknown dimension is a 422');
select is(api.get_inventory_status(), '{"items": [], "total_items": 0, "store_id": null, "product_id": null}', 'no snapshots: {items: [], total_items: 0} (never a 404)');
reset role;
insert into forecast.inventory_snapshot_daily (account_id, store_id, product_id, date, on_hand_qty)
  select a, s.id, p.id, d, 10 + extract(day from d)::int from t_ids, forecast.stores s, forecast.products p, generate_series(date '2026-01-01', date '2026-01-03', interval '1 day') d
   where s.account_id = a and p.account_id = a;
select tests.as_member((select a from t_ids), 'viewer');
select is(jsonb_path_query_array(api.get_inventory_status(), '$.items[*].on_hand_qty'), '[13, 13, 13, 13]', 'the latest snapshot per store and product');
select is(api.get_inventory_status(store_id => (select s1 from t_a)) - 'items',
  format('{"total_items": 2, "store_id": %s, "product_id": null}', (select s1 from t_a))::jsonb, '… filtered by store, with total_items');
select is(api.get_inventory_status("limit" => 1) -> 'total_items', '4', '`limit` caps the items, never total_items');

select tests.as_member((select b from t_ids), 'viewer');
select is((api.get_kpis('2026-01-01', '2026-01-31') #>> '{metrics,total_transactions}')::int, 0, 'another account sees none of A''s sales');
select is(api.get_drilldowns('store', '2026-01-01', '2026-01-31') -> 'total_items', '0', '… in no drilldown');
select is(api.get_inventory_status() -> 'total_items', '0', '… nor its inventory');
select is(jsonb_path_query_array(api.list_stores(), '$.stores[*].name'), '["B store"]', '… nor its stores');

select * from finish();
rollback;
