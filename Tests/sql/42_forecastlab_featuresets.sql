-- ForecastLab feature sets (docs/forecastlab-models.md, "Feature sets"): POST /featuresets/compute
-- and /featuresets/preview's SQL functions on a hand-computed frame — lags, rolling windows (shift(1)
-- then rolling, sample std, min_periods), calendar, price, promotions, inventory, every imputation
-- strategy, the daily grid and the lookback window — time safety (rows planted after the cutoff
-- change nothing; a frame cut earlier is a prefix of a later one), every 422 the contract names,
-- 404s, and two tenants. The numerical reference check is bench/reference/check_features.py.
begin;
select plan(82);

create temp table t_ids as select
  'f4200000-0000-4000-8000-00000000000a'::uuid as a, 'f4200000-0000-4000-8000-00000000000b'::uuid as b;
grant select on t_ids to authenticated, service_role;

-- Account A: stores S1, S2; products P1 (sales below), P2 (sales 2026-01-29 … 02-02), P3 (none).
-- Account B: a store and product of its own, 10 days of 100 from 2026-01-01, a holiday on 01-09.
insert into forecast.stores (account_id, store_code, name) select a, code, 'A ' || code from t_ids, unnest(array['S1', 'S2']) code;
insert into forecast.products (account_id, sku, name, base_price) select a, sku, 'A ' || sku, 2 from t_ids, unnest(array['P1', 'P2', 'P3']) sku;
insert into forecast.stores (account_id, store_code, name) select b, 'S1', 'B store' from t_ids;
insert into forecast.products (account_id, sku, name, base_price) select b, 'P1', 'B one', 1 from t_ids;
create temp table t_a as select
  (select id from forecast.stores where account_id = (select a from t_ids) and store_code = 'S1') as s1,
  (select id from forecast.stores where account_id = (select a from t_ids) and store_code = 'S2') as s2,
  (select id from forecast.products where account_id = (select a from t_ids) and sku = 'P1') as p1,
  (select id from forecast.products where account_id = (select a from t_ids) and sku = 'P2') as p2,
  (select id from forecast.products where account_id = (select a from t_ids) and sku = 'P3') as p3,
  (select id from forecast.stores where account_id = (select b from t_ids)) as bs,
  (select id from forecast.products where account_id = (select b from t_ids)) as bp;
grant select on t_a to authenticated, service_role;

-- P1 at S1, 2026-01-01 (a Thursday) … 01-10 without sales on 01-05 and 01-06:
--   quantity 4 6 8 2 – – 10 3 5 7, unit price 2.00 until 01-04 and 2.50 from 01-07.
-- price_history: 9.99 over December (ended), 3.00 from 01-08 → the day's price 2 2 2 2 2 2 2.5 3 3 3
-- (no row covering: the last sale's unit price). Promotions: every store 01-02…03 at 10 %, S1
-- 01-03…04 at 25 %, S2 only 01-07 at 50 %. Snapshots: 01-03 (5 on hand, 0 on order), 01-04 (0, 10,
-- stockout), 01-07 (12, 0). Holidays: 01-01 (every store); 01-06 only at S2; an 'event' on 01-02.
insert into forecast.sales_daily (account_id, store_id, product_id, date, quantity, unit_price, total_amount)
select (select a from t_ids), s1, p1, d, q, p, q * p
  from t_a, (values (date '2026-01-01', 4, 2.00), ('2026-01-02', 6, 2.00), ('2026-01-03', 8, 2.00), ('2026-01-04', 2, 2.00),
                    ('2026-01-07', 10, 2.50), ('2026-01-08', 3, 2.50), ('2026-01-09', 5, 2.50), ('2026-01-10', 7, 2.50)) v(d, q, p)
union all
select (select a from t_ids), s1, p2, date '2026-01-29' + i, 1, 1, 1 from t_a, generate_series(0, 4) i
union all
select (select b from t_ids), bs, bp, date '2026-01-01' + i, 100, 1, 100 from t_a, generate_series(0, 9) i;
insert into forecast.price_history (account_id, product_id, store_id, valid_from, valid_to, price)
select (select a from t_ids), p1, s1, date '2025-12-01', date '2025-12-31', 9.99 from t_a
union all select (select a from t_ids), p1, s1, date '2026-01-08', null, 3.00 from t_a;
insert into forecast.promotions (account_id, product_id, store_id, start_date, end_date, discount_pct)
select (select a from t_ids), p1, null, date '2026-01-02', date '2026-01-03', 10 from t_a
union all select (select a from t_ids), p1, s1, date '2026-01-03', date '2026-01-04', 25 from t_a
union all select (select a from t_ids), p1, s2, date '2026-01-07', date '2026-01-07', 50 from t_a;
insert into forecast.inventory_snapshot_daily (account_id, store_id, product_id, date, on_hand_qty, on_order_qty, is_stockout)
select (select a from t_ids), s1, p1, d, h, o, k
  from t_a, (values (date '2026-01-03', 5, 0, false), ('2026-01-04', 0, 10, true), ('2026-01-07', 12, 0, false)) v(d, h, o, k);
insert into forecast.exogenous_signals (account_id, store_id, date, signal_type, value, label)
select (select a from t_ids), null, date '2026-01-01', 'holiday', 1, 'New Year' from t_a
union all select (select a from t_ids), s2, date '2026-01-06', 'holiday', 1, 'S2 only' from t_a
union all select (select a from t_ids), null, date '2026-01-02', 'event', 1, 'not a holiday' from t_a
union all select (select b from t_ids), null, date '2026-01-09', 'holiday', 1, 'B''s' from t_a;

-- A compute of account A's S1 and a product; one feature of every row; arrays equal to 1e-12.
create function pg_temp.fc(product bigint, cutoff date, lookback integer, config text) returns jsonb language sql as $$
  select api.featuresets_compute((select s1 from t_a), product, cutoff, lookback, config::jsonb)
$$;
create function pg_temp.col(answer jsonb, name text) returns double precision[] language sql as $$
  select array(select (r -> 'features' ->> name)::double precision from jsonb_array_elements(answer -> 'rows') with ordinality x(r, o) order by o)
$$;
create function pg_temp.near(got double precision[], want double precision[]) returns boolean language sql as $$
  select cardinality(got) = cardinality(want)
     and not exists (select from unnest(got, want) u(g, w) where (g is null) <> (w is null) or abs(g - w) > 1e-12)
$$;
create function pg_temp.fields(call text) returns text[] language sql as $$
  select array(select e ->> 'field' from jsonb_array_elements(tests.error_of(call) -> 'errors') e)
$$;
create function pg_temp.fields_of(config text) returns text[] language sql as $$
  select pg_temp.fields(format('select pg_temp.fc((select p1 from t_a), %L, 30, %L)', '2026-01-10', config))
$$;
grant execute on all functions in schema pg_temp to authenticated, service_role;
create temp table t_fs (name text primary key, answer jsonb);
grant all on t_fs to authenticated, service_role;

-- ── Unit ───────────────────────────────────────────────────────────────────────────────────────
select is((select array_agg(row(method, path, function_name, min_role, app_roles, rate_policy, tag)::text order by path) from gateway.routes
            where unit = 'forecastlab-models' and path like '/featuresets/%'),
  array['(POST,/featuresets/compute,featuresets_compute,authenticated,,forecastlab-models-read,forecastlab-featuresets)',
        '(POST,/featuresets/preview,featuresets_preview,authenticated,,forecastlab-models-read,forecastlab-featuresets)'],
  'POST /featuresets/compute and /preview: any member, under the read rate policy');
select is((select array_agg(row(p.proname, p.provolatile, p.prosecdef)::text order by p.proname) from pg_proc p
            where p.pronamespace = 'api'::regnamespace and p.proname like 'featuresets\_%'),
  array['(featuresets_compute,s,f)', '(featuresets_preview,s,f)'], 'both are stable and run as the caller (RLS applies)');

-- ── The frame, by hand ─────────────────────────────────────────────────────────────────────────
select tests.as_member((select a from t_ids), 'viewer');
insert into t_fs values ('happy', pg_temp.fc((select p1 from t_a), '2026-01-10', 30,
  '{"name": "happy", "lag_config": {"lags": [1, 2]},
    "rolling_config": {"windows": [3], "aggregations": ["mean", "std", "min", "max", "sum"], "min_periods": 2},
    "calendar_config": {}, "exogenous_config": {"price_lags": [1, 7], "include_inventory": true}, "imputation_config": {}}'));
create temp table t_happy as select answer as h from t_fs where name = 'happy';
grant select on t_happy to authenticated, service_role;

select is((select h -> 'feature_columns' from t_happy),
  '["lag_1", "lag_2", "rolling_mean_3", "rolling_std_3", "rolling_min_3", "rolling_max_3", "rolling_sum_3",
    "dow_sin", "dow_cos", "month_sin", "month_cos", "quarter", "is_weekend", "is_month_end", "is_holiday",
    "price_lag_1", "price_lag_7", "price_pct_change_7d", "promo_active", "promo_discount_pct",
    "on_hand_qty_lag_1", "on_order_qty_lag_1", "stockout_lag_1"]',
  'feature_columns: lags, rolling (window × aggregation), calendar, exogenous, in order');
select is((select array(select r ->> 'date' from jsonb_array_elements(h -> 'rows') r) from t_happy),
  array['2026-01-01', '2026-01-02', '2026-01-03', '2026-01-04', '2026-01-05', '2026-01-06', '2026-01-07', '2026-01-08', '2026-01-09', '2026-01-10'],
  'a row per day from the first sale to the cutoff: the days without sales are rows too');
select is((select h - 'rows' - 'duration_ms' - 'null_counts' - 'feature_columns' from t_happy),
  jsonb_build_object('config_hash', forecast_models.config_hash('{"schema_version": "1.0", "name": "happy", "description": null,
      "entity_columns": ["store_id", "product_id"], "date_column": "date", "target_column": "quantity",
      "lag_config": {"schema_version": "1.0", "lags": [1, 2], "target_column": "quantity", "fill_value": null},
      "rolling_config": {"schema_version": "1.0", "windows": [3], "aggregations": ["mean", "std", "min", "max", "sum"], "target_column": "quantity", "min_periods": 2},
      "calendar_config": {"schema_version": "1.0", "include_day_of_week": true, "include_month": true, "include_quarter": true, "include_year": false,
                          "include_is_weekend": true, "include_is_month_end": true, "include_is_holiday": true, "use_cyclical_encoding": true},
      "exogenous_config": {"schema_version": "1.0", "include_price": true, "price_lags": [1, 7], "include_price_change": true, "include_promo": true,
                           "include_inventory": true, "include_stockout_flag": true},
      "imputation_config": {"schema_version": "1.0", "strategies": {"quantity": "zero", "unit_price": "ffill", "total_amount": "zero"}}}'),
    'cutoff_date', '2026-01-10', 'row_count', 10),
  'config_hash of the normalized config (every default filled), the cutoff, row_count');
select ok((select (h ->> 'duration_ms')::numeric >= 0 from t_happy), 'duration_ms');
select ok((select bool_and((r ->> 'store_id')::bigint = (select s1 from t_a) and (r ->> 'product_id')::bigint = (select p1 from t_a)
                           and array(select jsonb_object_keys(r -> 'features') order by 1)
                               = array(select jsonb_array_elements_text(h -> 'feature_columns') order by 1))
             from t_happy, jsonb_array_elements(h -> 'rows') r), 'every row: store, product and a value (or null) for every feature column');
-- Default imputation: quantity 4 6 8 2 0 0 10 3 5 7.
select is((select pg_temp.col(h, 'lag_1') from t_happy), '{NULL,4,6,8,2,0,0,10,3,5}', 'lag_1: the previous row''s quantity (gaps imputed 0)');
select is((select pg_temp.col(h, 'lag_2') from t_happy), '{NULL,NULL,4,6,8,2,0,0,10,3}', 'lag_2: two rows back');
select ok((select pg_temp.near(pg_temp.col(h, 'rolling_mean_3'), array[null, null, 5, 6, 16.0 / 3, 10.0 / 3, 2.0 / 3, 10.0 / 3, 13.0 / 3, 6]) from t_happy),
  'rolling_mean_3: the 3 rows before (shift(1) then rolling), null with fewer than min_periods 2');
select ok((select pg_temp.near(pg_temp.col(h, 'rolling_std_3'),
                               array[null, null, sqrt(2), 2, sqrt(28.0 / 3), sqrt(52.0 / 3), sqrt(4.0 / 3), sqrt(100.0 / 3), sqrt(79.0 / 3), sqrt(13)]) from t_happy),
  'rolling_std_3: the sample standard deviation (ddof 1), by hand');
select is((select array[pg_temp.col(h, 'rolling_min_3'), pg_temp.col(h, 'rolling_max_3'), pg_temp.col(h, 'rolling_sum_3')] from t_happy),
  '{{NULL,NULL,4,4,2,0,0,0,0,3},{NULL,NULL,6,8,8,8,2,10,10,10},{NULL,NULL,10,18,16,10,2,10,13,18}}', 'rolling min, max and sum');
select ok((select pg_temp.near(pg_temp.col(h, 'dow_sin'), array(select sin(2 * pi() * d / 7) from unnest(array[3, 4, 5, 6, 0, 1, 2, 3, 4, 5]) with ordinality x(d, o) order by o))
              and pg_temp.near(pg_temp.col(h, 'dow_cos'), array(select cos(2 * pi() * d / 7) from unnest(array[3, 4, 5, 6, 0, 1, 2, 3, 4, 5]) with ordinality x(d, o) order by o))
             from t_happy), 'dow_sin, dow_cos: 2π·dow/7 with Monday 0 (2026-01-01 is a Thursday, 3)');
select ok((select pg_temp.near(pg_temp.col(h, 'month_sin'), array_fill(0.5::float8, array[10]))
              and pg_temp.near(pg_temp.col(h, 'month_cos'), array_fill(sqrt(3) / 2, array[10])) from t_happy), 'month_sin, month_cos: 2π·1/12');
select is((select array[pg_temp.col(h, 'quarter'), pg_temp.col(h, 'is_weekend'), pg_temp.col(h, 'is_month_end'), pg_temp.col(h, 'is_holiday')] from t_happy),
  '{{1,1,1,1,1,1,1,1,1,1},{0,0,1,1,0,0,0,0,0,1},{0,0,0,0,0,0,0,0,0,0},{1,0,0,0,0,0,0,0,0,0}}',
  'quarter, is_weekend (Saturday, Sunday), is_month_end, is_holiday (the account''s holidays of every store or this one, not an event, not B''s)');
select is((select array[pg_temp.col(h, 'price_lag_1'), pg_temp.col(h, 'price_lag_7'), pg_temp.col(h, 'price_pct_change_7d')] from t_happy),
  '{{NULL,2,2,2,2,2,2,2.5,3,3},{NULL,NULL,NULL,NULL,NULL,NULL,NULL,2,2,2},{NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,0.5,0.5}}',
  'price lags (price_history, else the last sale''s price) and (p[t−1] − p[t−8]) / p[t−8]');
select is((select array[pg_temp.col(h, 'promo_active'), pg_temp.col(h, 'promo_discount_pct')] from t_happy),
  '{{0,1,1,1,0,0,0,0,0,0},{0,10,25,25,0,0,0,0,0,0}}', 'promotions covering the day (every store or this one), the deepest discount; S2''s does not count');
select is((select array[pg_temp.col(h, 'on_hand_qty_lag_1'), pg_temp.col(h, 'on_order_qty_lag_1'), pg_temp.col(h, 'stockout_lag_1')] from t_happy),
  '{{NULL,NULL,NULL,5,0,NULL,NULL,12,NULL,NULL},{NULL,NULL,NULL,0,10,NULL,NULL,0,NULL,NULL},{NULL,NULL,NULL,0,1,NULL,NULL,0,NULL,NULL}}',
  'inventory and the stockout flag of the previous row (null without a snapshot)');
select is((select h -> 'null_counts' from t_happy),
  '{"lag_1": 1, "lag_2": 2, "rolling_mean_3": 2, "rolling_std_3": 2, "rolling_min_3": 2, "rolling_max_3": 2, "rolling_sum_3": 2,
    "dow_sin": 0, "dow_cos": 0, "month_sin": 0, "month_cos": 0, "quarter": 0, "is_weekend": 0, "is_month_end": 0, "is_holiday": 0,
    "price_lag_1": 1, "price_lag_7": 7, "price_pct_change_7d": 8, "promo_active": 0, "promo_discount_pct": 0,
    "on_hand_qty_lag_1": 7, "on_order_qty_lag_1": 7, "stockout_lag_1": 7}', 'null_counts per column');

-- Calendar without cyclical encoding, with the year, across a month end (P2, 01-29 … 02-02).
insert into t_fs values ('calendar', pg_temp.fc((select p2 from t_a), '2026-02-02', 30,
  '{"name": "plain calendar", "calendar_config": {"use_cyclical_encoding": false, "include_year": true, "include_is_holiday": false}}'));
select is((select answer -> 'feature_columns' from t_fs where name = 'calendar'),
  '["day_of_week", "month", "quarter", "year", "is_weekend", "is_month_end"]', 'plain day_of_week and month; year; no is_holiday when off');
select is((select array[pg_temp.col(answer, 'day_of_week'), pg_temp.col(answer, 'month'), pg_temp.col(answer, 'year'),
                        pg_temp.col(answer, 'is_weekend'), pg_temp.col(answer, 'is_month_end')] from t_fs where name = 'calendar'),
  '{{3,4,5,6,0},{1,1,1,2,2},{2026,2026,2026,2026,2026},{0,0,1,1,0},{0,0,1,0,0}}', 'Thursday 01-29 is 3, Monday 0; 01-31 ends the month');

-- ── Imputation, lags and rolling options ───────────────────────────────────────────────────────
insert into t_fs
select name, pg_temp.fc((select p1 from t_a), '2026-01-10', 30, config)
  from (values ('none', '{"name": "n", "lag_config": {"lags": [1]}, "rolling_config": {"windows": [3], "aggregations": ["mean", "sum"], "min_periods": 1}}'),
               ('none_default_periods', '{"name": "n", "rolling_config": {"windows": [3], "aggregations": ["mean"]}}'),
               ('drop', '{"name": "n", "lag_config": {"lags": [1]}, "imputation_config": {"strategies": {"quantity": "drop"}}}'),
               ('mean', '{"name": "n", "lag_config": {"lags": [1]}, "imputation_config": {"strategies": {"quantity": "mean"}}}'),
               ('expanding_mean', '{"name": "n", "lag_config": {"lags": [1]}, "imputation_config": {"strategies": {"quantity": "expanding_mean"}}}'),
               ('ffill', '{"name": "n", "lag_config": {"lags": [1]}, "imputation_config": {"strategies": {"quantity": "ffill"}}}'),
               ('fill_value', '{"name": "n", "lag_config": {"lags": [1], "fill_value": -1}}'),
               ('targets', '{"name": "n", "lag_config": {"lags": [1], "target_column": "unit_price"},
                             "rolling_config": {"windows": [2], "aggregations": ["sum"], "target_column": "total_amount"}, "imputation_config": {}}'),
               ('exogenous_some', '{"name": "n", "exogenous_config": {"include_price": false, "include_promo": false}}'),
               ('nothing', '{"name": "n", "lag_config": null}')) c(name, config);
select is((select pg_temp.col(answer, 'lag_1') from t_fs where name = 'none'), '{NULL,4,6,8,2,NULL,NULL,10,3,5}',
  'without imputation_config a day without sales stays null');
select ok((select pg_temp.near(pg_temp.col(answer, 'rolling_mean_3'), array[null, 4, 5, 6, 16.0 / 3, 5, 2, 10, 6.5, 6])
              and pg_temp.col(answer, 'rolling_sum_3') = '{NULL,4,10,18,16,10,2,10,13,18}' from t_fs where name = 'none'),
  'rolling skips nulls: min_periods 1 needs one value in the window');
select ok((select pg_temp.near(pg_temp.col(answer, 'rolling_mean_3'), array[null, null, null, 6, 16.0 / 3, null, null, null, null, 6])
             from t_fs where name = 'none_default_periods'), 'min_periods defaults to the window: 3 values needed');
select is((select array[to_jsonb(array(select r ->> 'date' from jsonb_array_elements(answer -> 'rows') r)), to_jsonb(pg_temp.col(answer, 'lag_1'))]
             from t_fs where name = 'drop'),
  array['["2026-01-01", "2026-01-02", "2026-01-03", "2026-01-04", "2026-01-07", "2026-01-08", "2026-01-09", "2026-01-10"]'::jsonb,
        '[null, 4, 6, 8, 2, 10, 3, 5]'], 'drop: the days without sales leave the frame, lags shift over the rows kept');
select is((select pg_temp.col(answer, 'lag_1') from t_fs where name = 'mean'), '{NULL,4,6,8,2,5.625,5.625,10,3,5}',
  'mean: the frame''s mean quantity, 45 / 8');
select is((select pg_temp.col(answer, 'lag_1') from t_fs where name = 'expanding_mean'), '{NULL,4,6,8,2,5,5,10,3,5}',
  'expanding_mean: the mean of the earlier rows only (20 / 4 on both gap days)');
select is((select pg_temp.col(answer, 'lag_1') from t_fs where name = 'ffill'), '{NULL,4,6,8,2,2,2,10,3,5}', 'ffill: the last value');
select is((select pg_temp.col(answer, 'lag_1') from t_fs where name = 'fill_value'), '{-1,4,6,8,2,-1,-1,10,3,5}', 'fill_value replaces a lag''s nulls');
select is((select array[pg_temp.col(answer, 'lag_1'), pg_temp.col(answer, 'rolling_sum_2')] from t_fs where name = 'targets'),
  '{{NULL,2,2,2,2,2,2,2.5,2.5,2.5},{NULL,NULL,20,28,20,4,0,25,32.5,20}}',
  'lag and rolling targets: unit_price (ffill) and total_amount (zero)');
select is((select answer -> 'feature_columns' from t_fs where name = 'exogenous_some'), '["stockout_lag_1"]',
  'without the price, no price lags nor price change; promotions off; inventory off by default');
select is((select jsonb_build_array(answer -> 'feature_columns', answer -> 'null_counts', answer #> '{rows,0,features}', answer -> 'row_count')
             from t_fs where name = 'nothing'), '[[], {}, {}, 10]', 'every sub-config off (absent or null): rows without features');
select is((select array(select r ->> 'date' from jsonb_array_elements(pg_temp.fc((select p1 from t_a), '2026-01-10', 5, '{"name": "n", "lag_config": {"lags": [1]}}') -> 'rows') r)),
  array['2026-01-07', '2026-01-08', '2026-01-09', '2026-01-10'], 'lookback_days 5: from the first sale on or after 01-05');
select is((select pg_temp.col(pg_temp.fc((select p1 from t_a), '2026-01-10', 5, '{"name": "n", "lag_config": {"lags": [1]}}'), 'lag_1')),
  '{NULL,10,3,5}', '… and nothing before the window is read');

-- ── Preview ────────────────────────────────────────────────────────────────────────────────────
insert into t_fs values ('preview', api.featuresets_preview((select s1 from t_a), (select p1 from t_a), '2026-01-10', 3,
  '{"name": "happy", "lag_config": {"lags": [1, 2]},
    "rolling_config": {"windows": [3], "aggregations": ["mean", "std", "min", "max", "sum"], "min_periods": 2},
    "calendar_config": {}, "exogenous_config": {"price_lags": [1, 7], "include_inventory": true}, "imputation_config": {}}'));
select is((select answer -> 'rows' from t_fs where name = 'preview'), (select jsonb_path_query_array(h, '$.rows[7 to 9]') from t_happy),
  'preview: the last sample_rows rows of the same frame');
select is((select answer - 'rows' - 'duration_ms' from t_fs where name = 'preview'),
  (select h - 'rows' - 'duration_ms' || '{"row_count": 3}' from t_happy), '… row_count of the rows answered, null_counts of the whole frame');
select is((select jsonb_array_length(api.featuresets_preview((select s1 from t_a), (select p1 from t_a), '2026-01-09', config => '{"name": "n"}') -> 'rows')),
  9, 'sample_rows defaults to 10 (9 days here)');

-- ── Time safety ────────────────────────────────────────────────────────────────────────────────
-- A frame cut at 01-07 is the first rows of the frame cut at 01-10: what came after changes nothing.
select is((select jsonb_path_query_array(answer, '$.rows[*]') from (select pg_temp.fc((select p1 from t_a), '2026-01-07', 30,
  '{"name": "happy", "lag_config": {"lags": [1, 2]},
    "rolling_config": {"windows": [3], "aggregations": ["mean", "std", "min", "max", "sum"], "min_periods": 2},
    "calendar_config": {}, "exogenous_config": {"price_lags": [1, 7], "include_inventory": true}, "imputation_config": {}}') as answer) x),
  (select jsonb_path_query_array(h, '$.rows[0 to 6]') from t_happy), 'a frame cut earlier is a prefix of a later one');
-- Rows dated after the cutoff, with wild values, in every source the frame reads.
insert into t_fs values ('before_preview', api.featuresets_preview((select s1 from t_a), (select p1 from t_a), '2026-01-10', 10,
  '{"name": "all", "lag_config": {}, "rolling_config": {"aggregations": ["mean", "std", "min", "max", "sum"], "min_periods": 1},
    "calendar_config": {"include_year": true}, "exogenous_config": {"include_inventory": true}, "imputation_config": {"strategies": {"quantity": "mean", "unit_price": "expanding_mean", "total_amount": "zero"}}}'));
select tests.clear_authentication();
insert into forecast.sales_daily (account_id, store_id, product_id, date, quantity, unit_price, total_amount)
select (select a from t_ids), s1, p1, date '2026-01-11' + i, 999999, 0.01, 9999.99 from t_a, generate_series(0, 40) i;
insert into forecast.price_history (account_id, product_id, store_id, valid_from, price)
select (select a from t_ids), p1, s1, date '2026-01-11', 99999.99 from t_a;
insert into forecast.promotions (account_id, product_id, store_id, start_date, end_date, discount_pct)
select (select a from t_ids), p1, s1, date '2026-01-11', date '2026-03-01', 99 from t_a
union all select (select a from t_ids), p1, null, date '2026-01-12', date '2026-01-12', 100 from t_a;
insert into forecast.inventory_snapshot_daily (account_id, store_id, product_id, date, on_hand_qty, on_order_qty, is_stockout)
select (select a from t_ids), s1, p1, date '2026-01-11' + i, 99999, 99999, true from t_a, generate_series(0, 9) i;
insert into forecast.exogenous_signals (account_id, store_id, date, signal_type, value, label)
select (select a from t_ids), null, date '2026-01-11' + i, 'holiday', 1, 'planted' from t_a, generate_series(0, 9) i;
select tests.as_member((select a from t_ids), 'viewer');
select is((select pg_temp.fc((select p1 from t_a), '2026-01-10', 30,
  '{"name": "happy", "lag_config": {"lags": [1, 2]},
    "rolling_config": {"windows": [3], "aggregations": ["mean", "std", "min", "max", "sum"], "min_periods": 2},
    "calendar_config": {}, "exogenous_config": {"price_lags": [1, 7], "include_inventory": true}, "imputation_config": {}}') - 'duration_ms'),
  (select h - 'duration_ms' from t_happy), 'planted rows after the cutoff (sales, prices, promotions, snapshots, holidays) change no value');
select is((select api.featuresets_preview((select s1 from t_a), (select p1 from t_a), '2026-01-10', 10,
  '{"name": "all", "lag_config": {}, "rolling_config": {"aggregations": ["mean", "std", "min", "max", "sum"], "min_periods": 1},
    "calendar_config": {"include_year": true}, "exogenous_config": {"include_inventory": true}, "imputation_config": {"strategies": {"quantity": "mean", "unit_price": "expanding_mean", "total_amount": "zero"}}}') - 'duration_ms'),
  (select answer - 'duration_ms' from t_fs where name = 'before_preview'), '… nor in a preview of every feature, mean imputation included');
select ok((select (pg_temp.fc((select p1 from t_a), '2026-01-11', 30, '{"name": "n", "exogenous_config": {}}') #>> '{rows,10,features,promo_active}') = '1'),
  'the same rows count once the cutoff reaches them: the comparison can fail');
-- A row on the cutoff day itself is read (only where a feature reads the day itself: promotions).
select tests.clear_authentication();
insert into forecast.promotions (account_id, product_id, store_id, start_date, end_date, discount_pct)
select (select a from t_ids), p1, s1, date '2026-01-10', date '2026-01-10', 5 from t_a;
select tests.as_member((select a from t_ids), 'viewer');
select is((select pg_temp.col(pg_temp.fc((select p1 from t_a), '2026-01-10', 30, '{"name": "n", "exogenous_config": {}}'), 'promo_discount_pct')),
  '{0,10,25,25,0,0,0,0,0,5}', 'a promotion on the cutoff day counts on that day');

-- ── 404 ────────────────────────────────────────────────────────────────────────────────────────
select is(tests.error_of($$select pg_temp.fc((select p3 from t_a), '2026-01-10', 30, '{"name": "n"}')$$),
  format('{"sqlstate": "PT404", "message": "No sales for store %s, product %s between 2025-12-11 and 2026-01-10", "errors": null}',
         (select s1 from t_a), (select p3 from t_a))::jsonb, 'a product without sales: 404');
select is(tests.error_of($$select pg_temp.fc((select p1 from t_a), '2025-12-31', 365, '{"name": "n"}')$$) ->> 'sqlstate', 'PT404',
  'a cutoff before the first sale: 404');
select is(tests.error_of($$select pg_temp.fc((select p1 from t_a), '2026-04-01', 10, '{"name": "n"}')$$) ->> 'sqlstate', 'PT404',
  'a window without sales: 404');
select is(tests.error_of($$select api.featuresets_preview((select s1 from t_a), (select p3 from t_a), '2026-01-10', 5, '{"name": "n"}')$$) ->> 'sqlstate', 'PT404',
  'preview: no data, 404');
select is(tests.error_of($$select api.featuresets_compute((select bs from t_a), (select p1 from t_a), '2026-01-10', 30, '{"name": "n"}')$$),
  format('{"sqlstate": "PT404", "message": "Store %s not found", "errors": null}', (select bs from t_a))::jsonb, 'another account''s store: 404');
select is(tests.error_of($$select api.featuresets_compute((select s1 from t_a), (select bp from t_a), '2026-01-10', 30, '{"name": "n"}')$$),
  format('{"sqlstate": "PT404", "message": "Product %s not found", "errors": null}', (select bp from t_a))::jsonb, 'another account''s product: 404');
select is(tests.error_of($$select api.featuresets_preview((select bs from t_a), (select bp from t_a), '2026-01-10', 5, '{"name": "n"}')$$) ->> 'sqlstate', 'PT404',
  'preview: another account''s store and product, 404');
select is(tests.error_of($$select api.featuresets_compute(9223372036854775807, (select p1 from t_a), '2026-01-10', 30, '{"name": "n"}')$$) ->> 'message',
  'Store 9223372036854775807 not found', 'an unknown store: 404');

-- ── Two tenants ────────────────────────────────────────────────────────────────────────────────
select tests.as_member((select b from t_ids), 'viewer');
select is((select array[pg_temp.col(x, 'lag_1'), pg_temp.col(x, 'is_holiday'), pg_temp.col(x, 'promo_active')]
             from api.featuresets_compute((select bs from t_a), (select bp from t_a), '2026-01-10', 30,
                                          '{"name": "b", "lag_config": {"lags": [1]}, "calendar_config": {}, "exogenous_config": {}}') x),
  '{{NULL,100,100,100,100,100,100,100,100,100},{0,0,0,0,0,0,0,0,1,0},{0,0,0,0,0,0,0,0,0,0}}',
  'B computes its own frame: its own holiday, none of A''s, nor A''s promotions');
select is(tests.error_of($$select pg_temp.fc((select p1 from t_a), '2026-01-10', 30, '{"name": "n"}')$$),
  format('{"sqlstate": "PT404", "message": "Store %s not found", "errors": null}', (select s1 from t_a))::jsonb, 'B cannot read A''s store');
select is(tests.error_of($$select api.featuresets_preview((select bs from t_a), (select p1 from t_a), '2026-01-10', 5, '{"name": "n"}')$$) ->> 'message',
  format('Product %s not found', (select p1 from t_a)), '… nor A''s product with its own store');
select tests.clear_authentication();
select tests.authenticate_as('authenticated', gen_random_uuid(), null, null);
select is(tests.error_of($$select api.featuresets_compute(1, 1, '2026-01-10', 30, '{"name": "n"}')$$) ->> 'sqlstate', '42501',
  'a token without an account is refused');
select tests.clear_authentication();
select tests.authenticate_as('anon');
select throws_ok($$select api.featuresets_preview(1, 1, '2026-01-10', 5, '{"name": "n"}')$$, '42501', null, 'anonymous callers cannot call it');

-- ── 422 ────────────────────────────────────────────────────────────────────────────────────────
select tests.clear_authentication();
select tests.as_member((select a from t_ids), 'viewer');
select is(pg_temp.fields($$select api.featuresets_compute(0, null, null, 0, '{"name": "n"}')$$),
  '{store_id,product_id,cutoff_date,lookback_days}', 'store_id ≥ 1, product_id and cutoff_date required, lookback_days ≥ 1');
select is(tests.error_of($$select api.featuresets_compute(1, 1, '2026-01-10', 1096, '{"name": "n"}')$$),
  '{"sqlstate": "22023", "message": "Request validation failed with 1 error(s)", "errors": [{"field": "lookback_days", "message": "Input should be less than or equal to 1095", "type": "less_than_equal"}]}',
  'lookback_days ≤ 1095, checked before any 404');
select is(pg_temp.fields($$select api.featuresets_compute(1, 1, '2026-01-10', null, '{"name": "n"}')$$), '{lookback_days}', 'lookback_days null: not an integer');
select is(pg_temp.fields($$select api.featuresets_preview(1, 1, '2026-01-10', 0, '{"name": "n"}')$$), '{sample_rows}', 'sample_rows ≥ 1');
select is(pg_temp.fields($$select api.featuresets_preview(1, 1, '2026-01-10', 101, null)$$), '{sample_rows,config}', 'sample_rows ≤ 100; config required');
select is(tests.error_of($$select api.featuresets_compute(1, 1, '2026-01-10', 30, '[]')$$) -> 'errors',
  '[{"field": "config", "message": "Input should be a valid dictionary", "type": "model_attributes_type"}]', 'config: an object');
select is(pg_temp.fields_of('{}'), '{config.name}', 'name required');
select is(tests.error_of(format('select pg_temp.fc((select p1 from t_a), %L, 30, %L)', '2026-01-10', json_build_object('name', repeat('x', 101)))) -> 'errors',
  '[{"field": "config.name", "message": "String should have at most 100 characters", "type": "string_too_long"}]', 'name at most 100 characters');
select is(pg_temp.fields_of('{"name": "", "description": 5, "schema_version": "v1"}'),
  '{config.schema_version,config.name,config.description}', 'name at least 1 character; description a string; schema_version a version');
select is(tests.error_of($$select pg_temp.fc((select p1 from t_a), '2026-01-10', 30, '{"name": "n", "color": "red", "lag_config": {"lag": [1]}}')$$) -> 'errors',
  '[{"field": "config.lag_config.lag", "message": "Extra inputs are not permitted", "type": "extra_forbidden"},
    {"field": "config.color", "message": "Extra inputs are not permitted", "type": "extra_forbidden"}]', 'unknown keys, at every level');
select is(pg_temp.fields_of('{"name": "n", "entity_columns": ["store"], "date_column": "day", "target_column": "sales"}'),
  '{config.entity_columns.0,config.date_column,config.target_column}', 'entity, date and target columns are the frame''s');
select is(pg_temp.fields_of('{"name": "n", "entity_columns": []}'), '{config.entity_columns}', 'entity_columns not empty');
select is(tests.error_of($$select pg_temp.fc((select p1 from t_a), '2026-01-10', 30, '{"name": "n", "lag_config": {"lags": "7"}}')$$) -> 'errors',
  '[{"field": "config.lag_config.lags", "message": "Input should be a valid tuple", "type": "tuple_type"}]', 'lags: a list');
select is(pg_temp.fields_of('{"name": "n", "lag_config": {"lags": [1, 7.5, "2", true], "fill_value": "x", "target_column": 1}}'),
  '{config.lag_config.lags.1,config.lag_config.lags.2,config.lag_config.lags.3,config.lag_config.target_column,config.lag_config.fill_value}',
  'lags: integers (7.5, "2", true are not); fill_value a number; target_column one of the columns');
select is(tests.error_of($$select pg_temp.fc((select p1 from t_a), '2026-01-10', 30, '{"name": "n", "lag_config": {"lags": []}}')$$) -> 'errors',
  '[{"field": "config.lag_config.lags", "message": "Value error, At least one lag must be specified", "type": "value_error"}]', 'lags not empty');
select is(tests.error_of($$select pg_temp.fc((select p1 from t_a), '2026-01-10', 30, '{"name": "n", "lag_config": {"lags": [7, 0, -1]}}')$$) -> 'errors',
  '[{"field": "config.lag_config.lags", "message": "Value error, All lags must be positive integers (no future leakage)", "type": "value_error"}]', 'lags > 0');
select is(pg_temp.fields_of('{"name": "n", "lag_config": {"lags": [7, 7]}, "rolling_config": {"windows": [7, 7]}, "exogenous_config": {"price_lags": [1, 1]}}'),
  '{config.lag_config.lags,config.rolling_config.windows,config.exogenous_config.price_lags}', 'no repeated lag, window or price lag (two columns of one name)');
select is(pg_temp.fields_of('{"name": "n", "lag_config": {"lags": [2147483648], "fill_value": 1e400}}'), '{config.lag_config.lags.0,config.lag_config.fill_value}',
  'a lag fits an integer, fill_value a double');
select is(pg_temp.fields_of('{"name": "n", "rolling_config": {"windows": [], "aggregations": ["mean", "median"], "min_periods": 1.5}}'),
  '{config.rolling_config.windows,config.rolling_config.aggregations.1,config.rolling_config.min_periods}',
  'windows not empty; aggregations mean, std, min, max, sum; min_periods an integer');
select is(pg_temp.fields_of('{"name": "n", "rolling_config": {"windows": [0, 3]}, "exogenous_config": {"price_lags": [-7]}}'),
  '{config.rolling_config.windows,config.exogenous_config.price_lags}', 'windows and price lags > 0');
select is(tests.error_of($$select pg_temp.fc((select p1 from t_a), '2026-01-10', 30, '{"name": "n", "rolling_config": {"min_periods": 0}}')$$) -> 'errors',
  '[{"field": "config.rolling_config.min_periods", "message": "Input should be greater than or equal to 1", "type": "greater_than_equal"}]', 'min_periods ≥ 1');
select is(tests.error_of($$select pg_temp.fc((select p1 from t_a), '2026-01-10', 30, '{"name": "n", "rolling_config": {"windows": [14, 7], "min_periods": 8}}')$$) -> 'errors',
  '[{"field": "config.rolling_config.min_periods", "message": "Value error, min_periods (8) must not exceed the smallest window (7)", "type": "value_error"}]',
  'min_periods at most the smallest window');
select is(pg_temp.fields_of('{"name": "n", "calendar_config": {"include_year": "yes", "use_cyclical_encoding": 1, "schema_version": 1},
                              "exogenous_config": {"include_promo": null}}'),
  '{config.calendar_config.schema_version,config.calendar_config.include_year,config.calendar_config.use_cyclical_encoding,config.exogenous_config.include_promo}',
  'booleans are booleans (not "yes", 1 or null); schema_version a string');
select is(pg_temp.fields_of('{"name": "n", "calendar_config": [], "exogenous_config": "on", "imputation_config": {"strategies": "zero"}}'),
  '{config.calendar_config,config.exogenous_config,config.imputation_config.strategies}', 'sub-configs are objects, strategies a map');
select is(tests.error_of($$select pg_temp.fc((select p1 from t_a), '2026-01-10', 30, '{"name": "n", "imputation_config": {"strategies": {"quantity": "bfill"}}}')$$) -> 'errors',
  '[{"field": "config.imputation_config.strategies.quantity", "type": "value_error",
     "message": "Value error, bfill is refused: it fills a day from a later day, so a lag or rolling feature of the next row could read that row''s own target; use ffill or expanding_mean"}]',
  'bfill is refused (it would copy a later day, up to the row''s own target, into a lag)');
select is(tests.error_of($$select pg_temp.fc((select p1 from t_a), '2026-01-10', 30, '{"name": "n", "imputation_config": {"strategies": {"price": "zero", "quantity": "median"}}}')$$) -> 'errors',
  '[{"field": "config.imputation_config.strategies.price.[key]", "message": "Input should be ''quantity'', ''unit_price'' or ''total_amount''", "type": "literal_error"},
    {"field": "config.imputation_config.strategies.quantity", "message": "Input should be ''zero'', ''ffill'', ''mean'', ''expanding_mean'' or ''drop''", "type": "literal_error"}]',
  'strategies: the frame''s sales columns, the known strategies');
select is(jsonb_array_length(tests.error_of($$select api.featuresets_compute(-1, -1, null, 2000,
  '{"name": 1, "foo": 1, "lag_config": {"lags": [0]}, "rolling_config": {"aggregations": ["x"]}, "calendar_config": {"include_month": "no"},
    "exogenous_config": {"price_lags": "7"}, "imputation_config": {"strategies": {"unit_price": "bfill"}}}')$$) -> 'errors'), 11,
  'every problem of the body, listed in one 422');

select * from finish();
rollback;
