-- requires: forecastlab/rollups.sql
-- requires: forecastlab/analytics.sql
-- The ForecastLab seeder: synthetic retail data generated in SQL, deterministic by seed (hash-based,
-- never random()): the same seed and settings give the same rows. Weekly and yearly seasonality,
-- promotions (a discount lifts demand), stockouts (no sales, an empty shelf in the snapshot) and
-- noise. Writers: admins and the service role.

-- A uniform number in [0, 1) from a key, a stream and the seed. Keys come from natural keys (codes,
-- SKUs, day offsets), never from generated ids, so the same seed gives the same data every time.
-- No SET clause, so the planner inlines it (it runs several times per generated row).
create or replace function forecast.rand(seed integer, stream integer, key bigint) returns double precision
language sql immutable parallel safe as $$
  select ((pg_catalog.hashint8extended(key, (seed::bigint << 8) | stream) & 9007199254740991)::double precision) / 9007199254740992.0
$$;

-- The settings the seeder accepts, defaults filled in and every value checked. `overrides` may
-- carry only the spec's seven knobs (an unknown one, or one out of range, is a 422).
create or replace function forecast.seeder_settings(seed integer, stores integer, products integer, start_date date, end_date date,
                                                    sparsity numeric, overrides jsonb)
returns jsonb
language plpgsql stable set search_path = '' as $$
declare
  knobs constant jsonb := '{"stores": [1, 100], "products": [1, 500], "window_days": [75, 365], "sparsity": [0, 0.9],
                            "promotion_intensity": [0, 0.5], "stockout_intensity": [0, 0.5], "noise_sigma": [0, 0.5]}';
  settings jsonb;
  knob text;
  value jsonb;
begin
  perform util.require_range('stores', stores, 1, 100);
  perform util.require_range('products', products, 1, 500);
  if sparsity is null or sparsity < 0 or sparsity > 0.9 then
    perform util.validation_error('sparsity', 'must be between 0 and 0.9');
  end if;
  if seed is null then
    perform util.validation_error('seed', 'required');
  end if;
  settings := pg_catalog.jsonb_build_object('seed', seed, 'stores', stores, 'products', products, 'sparsity', sparsity,
    'end_date', coalesce(end_date, current_date), 'promotion_intensity', 0.1, 'stockout_intensity', 0.02, 'noise_sigma', 0.15);
  settings := settings || pg_catalog.jsonb_build_object('start_date',
    coalesce(start_date, (settings ->> 'end_date')::date - 89));
  if overrides is not null then
    if pg_catalog.jsonb_typeof(overrides) <> 'object' then
      raise exception 'overrides must be an object' using errcode = 'PT422';
    end if;
    for knob, value in select * from pg_catalog.jsonb_each(overrides) loop
      if not knobs ? knob then
        raise exception 'unknown override %', knob using errcode = 'PT422',
          detail = pg_catalog.jsonb_build_object('errors', pg_catalog.jsonb_build_array(pg_catalog.jsonb_build_object(
                     'parameter', 'overrides.' || knob, 'message', 'not an allowed knob')), 'allowed', knobs)::text;
      end if;
      if pg_catalog.jsonb_typeof(value) <> 'number' or value::numeric < (knobs -> knob ->> 0)::numeric
         or value::numeric > (knobs -> knob ->> 1)::numeric
         or (knob in ('stores', 'products', 'window_days') and value::numeric <> pg_catalog.trunc(value::numeric)) then
        raise exception 'override % must be a number between % and %', knob, knobs -> knob ->> 0, knobs -> knob ->> 1
          using errcode = 'PT422',
          detail = pg_catalog.jsonb_build_object('errors', pg_catalog.jsonb_build_array(pg_catalog.jsonb_build_object(
                     'parameter', 'overrides.' || knob, 'message', 'out of range')))::text;
      end if;
      if knob = 'window_days' then
        -- The spec's rule: the window is recomputed back from end_date.
        settings := settings || pg_catalog.jsonb_build_object('start_date', (settings ->> 'end_date')::date - (value::integer - 1));
      else
        settings := settings || pg_catalog.jsonb_build_object(knob, value);
      end if;
    end loop;
  end if;
  if (settings ->> 'start_date')::date > (settings ->> 'end_date')::date then
    perform util.validation_error('start_date', 'must not be after end_date');
  end if;
  if (settings ->> 'end_date')::date - (settings ->> 'start_date')::date > 730 then
    perform util.validation_error('end_date', 'the range may span at most 730 days');
  end if;
  return settings;
end $$;

-- Replaces the account's data with generated data. Runs as the caller (RLS: admins and the
-- service role of that account). Returns what it wrote.
create or replace function forecast.generate(account uuid, settings jsonb) returns jsonb
language plpgsql volatile set search_path = '' as $$
declare
  seed constant integer := (settings ->> 'seed')::integer;
  first_day constant date := (settings ->> 'start_date')::date;
  last_day constant date := (settings ->> 'end_date')::date;
  sparsity constant double precision := (settings ->> 'sparsity')::double precision;
  promo constant double precision := (settings ->> 'promotion_intensity')::double precision;
  stockout constant double precision := (settings ->> 'stockout_intensity')::double precision;
  noise constant double precision := (settings ->> 'noise_sigma')::double precision;
  regions constant text[] := array['North', 'South', 'East', 'West'];
  store_types constant text[] := array['flagship', 'standard', 'express'];
  categories constant text[] := array['beverages', 'snacks', 'dairy', 'bakery', 'produce', 'household', 'personal care', 'frozen'];
  brands constant text[] := array['Acme', 'Northwind', 'Contoso', 'Fabrikam', 'Globex', 'Initech'];
  sales_rows bigint;
begin
  -- Through the stores: the primary key's store_id prefix finds an account's sales.
  delete from forecast.sales_daily where store_id in (select s.id from forecast.stores s where s.account_id = account);
  delete from forecast.stores where account_id = account;
  delete from forecast.products where account_id = account;
  delete from forecast.exogenous_signals where account_id = account;

  insert into forecast.stores (account_id, store_code, name, region, store_type, city)
  select account, 'S' || pg_catalog.lpad(i::text, 3, '0'), 'Store ' || i,
         regions[1 + (forecast.rand(seed, 1, i) * 4)::integer % 4], store_types[1 + (forecast.rand(seed, 2, i) * 3)::integer % 3],
         'City ' || (1 + (forecast.rand(seed, 3, i) * 40)::integer)
    from pg_catalog.generate_series(1, (settings ->> 'stores')::integer) i;
  insert into forecast.products (account_id, sku, name, category, brand, base_price)
  select account, 'SKU-' || pg_catalog.lpad(j::text, 5, '0'), 'Product ' || j,
         categories[1 + (forecast.rand(seed, 4, j) * 8)::integer % 8], brands[1 + (forecast.rand(seed, 5, j) * 6)::integer % 6],
         pg_catalog.round((2 + forecast.rand(seed, 6, j) * 48)::numeric, 2)
    from pg_catalog.generate_series(1, (settings ->> 'products')::integer) j;

  -- Promotions: per product and 4-week block, with probability promotion_intensity, one week off.
  insert into forecast.promotions (account_id, product_id, start_date, end_date, discount_pct)
  select account, p.id, first_day + b * 28 + (forecast.rand(seed, 8, pg_catalog.hashtext(p.sku) * 1000::bigint + b) * 21)::integer,
         first_day + b * 28 + (forecast.rand(seed, 8, pg_catalog.hashtext(p.sku) * 1000::bigint + b) * 21)::integer + 6,
         pg_catalog.round((10 + forecast.rand(seed, 9, pg_catalog.hashtext(p.sku) * 1000::bigint + b) * 20)::numeric, 0)
    from forecast.products p, pg_catalog.generate_series(0, (last_day - first_day) / 28) b
   where p.account_id = account and forecast.rand(seed, 7, pg_catalog.hashtext(p.sku) * 1000::bigint + b) < promo;

  -- Sales, a row per store, product and day that sold: a base demand per pair, times the weekday
  -- (weekends busier), the season (a yearly wave), a promotion's lift, and noise; stockout days and
  -- sparse pairs sell nothing.
  insert into forecast.sales_daily (account_id, store_id, product_id, date, quantity, unit_price, total_amount)
  select account, x.store_id, x.product_id, x.day, x.quantity, x.price, pg_catalog.round(x.quantity * x.price, 2)
    from (
      select s.id as store_id, p.id as product_id, c.date as day,
             pg_catalog.round(p.base_price * (1 - coalesce(pr.discount_pct, 0) / 100), 2) as price,
             greatest(0, pg_catalog.round(
               (1 + forecast.rand(seed, 10, k.key) * 12)
               * case c.day_of_week when 6 then 1.35 when 7 then 1.25 when 5 then 1.1 else 1 end
               * (1 + 0.2 * pg_catalog.sin(2 * pi() * extract(doy from c.date) / 365.25))
               * (1 + coalesce(pr.discount_pct, 0) / 50)
               * (1 + noise * (forecast.rand(seed, 11, k.key * 4000 + (c.date - first_day))
                               + forecast.rand(seed, 12, k.key * 4000 + (c.date - first_day)) - 1) * 1.7))::integer) as quantity,
             forecast.rand(seed, 13, k.key * 4000 + (c.date - first_day)) as draw
        from forecast.stores s
        join forecast.products p on p.account_id = account
        cross join lateral (select pg_catalog.hashtext(s.store_code || '/' || p.sku)::bigint as key) k
        join forecast.calendar c on c.date between first_day and last_day
        left join forecast.promotions pr on pr.account_id = account and pr.product_id = p.id and c.date between pr.start_date and pr.end_date
       where s.account_id = account
    ) x
   where x.quantity > 0 and x.draw >= sparsity + stockout;
  get diagnostics sales_rows = row_count;

  -- Inventory: the last 28 days, daily; a stockout draw empties the shelf.
  insert into forecast.inventory_snapshot_daily (account_id, store_id, product_id, date, on_hand_qty, on_order_qty, is_stockout)
  select account, s.id, p.id, d.day,
         case when forecast.rand(seed, 13, k.key * 4000 + (d.day - first_day)) between sparsity and sparsity + stockout then 0
              else 5 + (forecast.rand(seed, 14, k.key * 4000 + (d.day - first_day)) * 95)::integer end,
         (forecast.rand(seed, 15, k.key * 4000 + (d.day - first_day)) * 40)::integer,
         forecast.rand(seed, 13, k.key * 4000 + (d.day - first_day)) between sparsity and sparsity + stockout
    from forecast.stores s
    join forecast.products p on p.account_id = account
    cross join lateral (select pg_catalog.hashtext(s.store_code || '/' || p.sku)::bigint as key) k
    cross join lateral (select d::date as day from pg_catalog.generate_series(greatest(first_day, last_day - 27), last_day, interval '1 day') d) d
   where s.account_id = account;

  insert into forecast.price_history (account_id, product_id, store_id, valid_from, price)
  select account, p.id, s.id, first_day, p.base_price
    from forecast.stores s join forecast.products p on p.account_id = account where s.account_id = account;

  return pg_catalog.jsonb_build_object('settings', settings, 'stores', (settings ->> 'stores')::integer,
    'products', (settings ->> 'products')::integer, 'sales_rows', sales_rows,
    'promotions', (select pg_catalog.count(*) from forecast.promotions where account_id = account));
end $$;

-- Over HTTP the statement timeout is 15 s and generation runs at about 30,000 sales rows/s on two
-- cores, so one request makes at most 250,000 store-product-days; bigger data sets are generated from psql
-- (select forecast.generate(…)), as `make bench` does.
create or replace function forecast.seeder_http_cells() returns bigint
language sql immutable set search_path = '' as $$
  select 250000::bigint
$$;

create or replace function api.seeder_generate(seed integer default 42, stores integer default 10, products integer default 50,
                                               start_date date default null, end_date date default null,
                                               sparsity numeric default 0, overrides jsonb default null)
returns jsonb
language plpgsql volatile set search_path = '' as $$
declare
  account uuid := util.require_account();
  settings jsonb;
  cells bigint;
begin
  perform auth.require_app_role('admin');
  settings := forecast.seeder_settings(seed, stores, products, start_date, end_date, sparsity, overrides);
  cells := (settings ->> 'stores')::bigint * (settings ->> 'products')::bigint
           * ((settings ->> 'end_date')::date - (settings ->> 'start_date')::date + 1);
  if cells > forecast.seeder_http_cells() then
    raise exception 'stores × products × days = % is more than this endpoint generates in one request (%)', cells, forecast.seeder_http_cells()
      using errcode = 'PT422', hint = 'generate it from psql: select forecast.generate(account, forecast.seeder_settings(…))';
  end if;
  perform pg_catalog.set_config('response.status', '201', true);
  return forecast.generate(account, settings);
end $$;
comment on function api.seeder_generate(integer, integer, integer, date, date, numeric, jsonb) is
  'Replaces the account''s retail data with generated data, deterministic by seed (admin or service role).';

create or replace function api.seeder_status() returns jsonb
language plpgsql stable set search_path = '' as $$
declare
  account uuid := util.require_account();
begin
  return pg_catalog.jsonb_build_object(
    'stores', (select pg_catalog.count(*) from forecast.stores where account_id = account),
    'products', (select pg_catalog.count(*) from forecast.products where account_id = account),
    -- Exact without counting millions of rows: the rollup counts a transaction per sales row.
    'sales_rows', (select coalesce(sum(transactions), 0) from forecast.sales_by_day where account_id = account),
    'first_date', (select pg_catalog.min(date) from forecast.sales_by_day where account_id = account),
    'last_date', (select pg_catalog.max(date) from forecast.sales_by_day where account_id = account),
    'inventory_snapshots', (select pg_catalog.count(*) from forecast.inventory_snapshot_daily where account_id = account),
    'promotions', (select pg_catalog.count(*) from forecast.promotions where account_id = account),
    'phase2', pg_catalog.jsonb_build_object(
      'product_lifecycle', (select pg_catalog.count(*) from forecast.product_lifecycle where account_id = account),
      'replenishment_orders', (select pg_catalog.count(*) from forecast.replenishment_orders where account_id = account),
      'exogenous_signals', (select pg_catalog.count(*) from forecast.exogenous_signals where account_id = account),
      'returns', (select pg_catalog.count(*) from forecast.returns where account_id = account)));
end $$;
comment on function api.seeder_status() is 'What the account''s retail data holds: counts and the sales date range.';

-- Phase 2 on top of existing sales: lifecycle stages, weekly replenishment orders, holidays and
-- temperatures, and returns of about 1 % of sales. Replaces earlier phase-2 rows; 422 with no sales.
create or replace function api.seeder_phase2_enrichment(seed integer default 42) returns jsonb
language plpgsql volatile set search_path = '' as $$
declare
  account uuid := util.require_account();
  first_day date;
  last_day date;
begin
  perform auth.require_app_role('admin');
  select pg_catalog.min(date), pg_catalog.max(date) into first_day, last_day from forecast.sales_by_day where account_id = account;
  if first_day is null then
    raise exception 'there are no sales to enrich: generate or ingest some first' using errcode = 'PT422';
  end if;
  delete from forecast.product_lifecycle where account_id = account;
  delete from forecast.replenishment_orders where account_id = account;
  delete from forecast.exogenous_signals where account_id = account;
  delete from forecast.returns where account_id = account;

  insert into forecast.product_lifecycle (account_id, product_id, stage, start_date)
  select account, p.id, (array['launch', 'growth', 'mature', 'decline'])[1 + (forecast.rand(seed, 20, pg_catalog.hashtext(p.sku)) * 4)::integer % 4], first_day
    from forecast.products p where p.account_id = account;
  insert into forecast.replenishment_orders (account_id, store_id, product_id, order_date, received_date, quantity, lead_time_days)
  select account, s.id, p.id, w.day, w.day + l.days, 20 + (forecast.rand(seed, 22, pg_catalog.hashtext(s.store_code || '/' || p.sku)) * 80)::integer, l.days
    from forecast.stores s join forecast.products p on p.account_id = account
    cross join lateral (select d::date as day from pg_catalog.generate_series(greatest(first_day, last_day - 55), last_day, interval '7 days') d) w
    cross join lateral (select 2 + (forecast.rand(seed, 21, pg_catalog.hashtext(s.store_code || '/' || p.sku)) * 5)::integer as days) l
   where s.account_id = account;
  insert into forecast.exogenous_signals (account_id, date, signal_type, value, label)
  select account, c.date, 'holiday', 1, h.label
    from forecast.calendar c
    join (values (1, 1, 'New Year''s Day'), (2, 14, 'Valentine''s Day'), (7, 4, 'Independence Day'), (10, 31, 'Halloween'),
                 (12, 24, 'Christmas Eve'), (12, 25, 'Christmas Day'), (12, 31, 'New Year''s Eve')) h(month, day, label)
      on c.month = h.month and extract(day from c.date) = h.day
   where c.date between first_day and last_day;
  insert into forecast.exogenous_signals (account_id, store_id, date, signal_type, value)
  select account, s.id, c.date, 'weather_temperature',
         pg_catalog.round((12 - 10 * pg_catalog.cos(2 * pi() * extract(doy from c.date) / 365.25) + forecast.rand(seed, 23, pg_catalog.hashtext(s.store_code) * 4000::bigint + (c.date - first_day)) * 6)::numeric, 1)
    from forecast.stores s join forecast.calendar c on c.date between first_day and last_day
   where s.account_id = account;
  insert into forecast.returns (account_id, store_id, product_id, date, quantity, reason)
  select account, x.store_id, x.product_id, x.date + 1 + (forecast.rand(seed, 25, x.key) * 6)::integer,
         greatest(1, (x.quantity * 0.3)::integer), (array['damaged', 'wrong item', 'changed mind', 'expired'])[1 + (forecast.rand(seed, 26, x.key) * 4)::integer % 4]
    from (select s.*, pg_catalog.hashtext(st.store_code || '/' || p.sku) * 4000::bigint + (s.date - first_day) as key
            from forecast.stores st join forecast.sales_daily s on s.store_id = st.id join forecast.products p on p.id = s.product_id
           where st.account_id = account) x
   where forecast.rand(seed, 24, x.key) < 0.01;
  return api.seeder_status();
end $$;
comment on function api.seeder_phase2_enrichment(integer) is
  'Adds lifecycle, replenishment, exogenous signals and returns to existing sales (admin or service role); 422 without sales.';

grant execute on function forecast.rand(integer, integer, bigint),
  forecast.seeder_settings(integer, integer, integer, date, date, numeric, jsonb), forecast.generate(uuid, jsonb),
  forecast.seeder_http_cells() to authenticated, service_role;
grant execute on function api.seeder_generate(integer, integer, integer, date, date, numeric, jsonb), api.seeder_status(),
  api.seeder_phase2_enrichment(integer) to authenticated, service_role;
