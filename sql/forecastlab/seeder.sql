-- requires: forecastlab/common.sql
-- requires: forecastlab/rollups.sql
-- requires: forecastlab/references.sql
-- requires: forecastlab/analytics.sql
-- The ForecastLab seeder (forecastlab-contract-details.md §16): synthetic retail data generated in
-- SQL, deterministic by seed (hash-based, never random()): the same seed and settings give the same
-- rows. Weekly and yearly seasonality, promotions (a discount lifts demand), stockouts (no sales, an
-- empty shelf in the snapshot) and noise; scenarios are presets of those settings. Writers: admins
-- and the service role; every route is refused in production unless the deployment allows it.

-- The production guard (§16): every seeder route is a 403 when the deployment says it is production
-- (`forecastlab.app_env`) and does not allow the seeder there (`forecastlab.seeder_allow_production`).
-- Both are settings of the database, which no HTTP caller can change:
--   alter database <db> set forecastlab.app_env = 'production';
-- (new connections read it: restart the gateways, or wait for their pools to reconnect).
create or replace function forecast.require_seeder_allowed() returns void
language plpgsql stable set search_path = '' as $$
begin
  if pg_catalog.lower(pg_catalog.btrim(coalesce(pg_catalog.current_setting('forecastlab.app_env', true), ''))) in ('production', 'prod')
     and pg_catalog.lower(pg_catalog.btrim(coalesce(pg_catalog.current_setting('forecastlab.seeder_allow_production', true), '')))
         not in ('true', 'on', 'yes', '1') then
    raise exception 'The seeder is disabled in production' using errcode = 'PT403',
      hint = 'set forecastlab.seeder_allow_production = true for this database to allow it';
  end if;
end $$;
comment on function forecast.require_seeder_allowed() is
  'Raises PT403 when forecastlab.app_env is production and forecastlab.seeder_allow_production is not true.';

-- A uniform number in [0, 1) from a key, a stream and the seed. Keys come from natural keys (codes,
-- SKUs, day offsets), never from generated ids, so the same seed gives the same data every time.
-- No SET clause, so the planner inlines it (it runs several times per generated row).
create or replace function forecast.rand(seed integer, stream integer, key bigint) returns double precision
language sql immutable parallel safe as $$
  select ((pg_catalog.hashint8extended(key, (seed::bigint << 8) | stream) & 9007199254740991)::double precision) / 9007199254740992.0
$$;

-- The scenario presets (§16's ScenarioPreset values): what each generates unless the request says
-- otherwise. Each fits one HTTP request (at most forecast.seeder_http_cells() store-product-days).
create or replace function forecast.seeder_scenarios() returns jsonb
language sql immutable set search_path = '' as $$
  select '[
    {"name": "retail_standard", "description": "A year of a mid-sized chain: weekly and yearly seasonality, occasional promotions and stockouts.",
     "stores": 10, "products": 50, "start_date": "2024-01-01", "end_date": "2024-12-31",
     "sparsity": 0, "promotion_intensity": 0.1, "stockout_intensity": 0.02, "noise_sigma": 0.15},
    {"name": "holiday_rush", "description": "The last quarter of the year, promotions three times as frequent and busier shelves.",
     "stores": 10, "products": 50, "start_date": "2024-10-01", "end_date": "2024-12-31",
     "sparsity": 0, "promotion_intensity": 0.35, "stockout_intensity": 0.05, "noise_sigma": 0.2},
    {"name": "high_variance", "description": "A year of noisy demand: the largest day-to-day swings the generator makes.",
     "stores": 10, "products": 50, "start_date": "2024-01-01", "end_date": "2024-12-31",
     "sparsity": 0, "promotion_intensity": 0.1, "stockout_intensity": 0.02, "noise_sigma": 0.5},
    {"name": "stockout_heavy", "description": "A year in which a quarter of store-product-days are out of stock.",
     "stores": 10, "products": 50, "start_date": "2024-01-01", "end_date": "2024-12-31",
     "sparsity": 0, "promotion_intensity": 0.1, "stockout_intensity": 0.25, "noise_sigma": 0.15},
    {"name": "new_launches", "description": "A wide assortment with a short history: 100 products over half a year.",
     "stores": 5, "products": 100, "start_date": "2024-07-01", "end_date": "2024-12-31",
     "sparsity": 0.1, "promotion_intensity": 0.2, "stockout_intensity": 0.02, "noise_sigma": 0.2},
    {"name": "sparse", "description": "A year in which most store-product-days sell nothing (intermittent demand).",
     "stores": 10, "products": 50, "start_date": "2024-01-01", "end_date": "2024-12-31",
     "sparsity": 0.6, "promotion_intensity": 0.1, "stockout_intensity": 0.02, "noise_sigma": 0.15},
    {"name": "demo_minimal", "description": "The smallest useful set: 3 stores, 10 products, one quarter.",
     "stores": 3, "products": 10, "start_date": "2024-10-01", "end_date": "2024-12-31",
     "sparsity": 0, "promotion_intensity": 0.1, "stockout_intensity": 0.02, "noise_sigma": 0.15},
    {"name": "showcase_rich", "description": "A year with frequent promotions and stockouts, for the showcase.",
     "stores": 10, "products": 50, "start_date": "2024-01-01", "end_date": "2024-12-31",
     "sparsity": 0.05, "promotion_intensity": 0.25, "stockout_intensity": 0.05, "noise_sigma": 0.2}
  ]'::jsonb
$$;

-- The settings of a generation: the scenario's, then the scalar parameters given (null: the
-- scenario's), then `overrides` (the spec's seven knobs, applied last). Every problem is a 422, all
-- of them at once, as {field, message, type}. Dates: both given, or one given and the scenario's
-- length kept, or the scenario's; `window_days` recomputes start_date = end_date − window_days.
drop function if exists forecast.seeder_settings(integer, integer, integer, date, date, numeric, jsonb);
create or replace function forecast.seeder_settings(seed integer default 42, stores integer default null, products integer default null,
                                                    start_date date default null, end_date date default null,
                                                    sparsity numeric default null, overrides jsonb default null,
                                                    scenario text default 'retail_standard')
returns jsonb
language plpgsql stable set search_path = '' as $$
declare
  knobs constant jsonb := '{"stores": [1, 100, "int"], "products": [1, 500, "int"], "window_days": [75, 365, "int"],
                            "sparsity": [0, 0.9, "float"], "promotion_intensity": [0, 0.5, "float"],
                            "stockout_intensity": [0, 0.5, "float"], "noise_sigma": [0, 0.5, "float"]}';
  preset jsonb := (select s from pg_catalog.jsonb_array_elements(forecast.seeder_scenarios()) s where s ->> 'name' = scenario);
  problems jsonb := '[]';
  settings jsonb;
  first_day date;
  last_day date;
  length integer;
  knob text;
  value jsonb;
  calendar_first date;
  calendar_last date;
begin
  if preset is null then
    problems := problems || pg_catalog.jsonb_build_object('field', 'scenario', 'type', 'enum', 'message', 'Input should be '
      || (select pg_catalog.string_agg(pg_catalog.format('''%s''', s ->> 'name'), ', ') from pg_catalog.jsonb_array_elements(forecast.seeder_scenarios()) s));
    preset := forecast.seeder_scenarios() -> 0;
  end if;
  if seed is null or seed < 0 then
    problems := problems || pg_catalog.jsonb_build_object('field', 'seed', 'type', 'greater_than_equal', 'message', 'Input should be greater than or equal to 0');
  end if;
  if stores < 1 or stores > 100 then
    problems := problems || pg_catalog.jsonb_build_object('field', 'stores', 'type', case when stores < 1 then 'greater_than_equal' else 'less_than_equal' end,
      'message', case when stores < 1 then 'Input should be greater than or equal to 1' else 'Input should be less than or equal to 100' end);
  end if;
  if products < 1 or products > 500 then
    problems := problems || pg_catalog.jsonb_build_object('field', 'products', 'type', case when products < 1 then 'greater_than_equal' else 'less_than_equal' end,
      'message', case when products < 1 then 'Input should be greater than or equal to 1' else 'Input should be less than or equal to 500' end);
  end if;
  if sparsity < 0 or sparsity > 1 then
    problems := problems || pg_catalog.jsonb_build_object('field', 'sparsity', 'type', case when sparsity < 0 then 'greater_than_equal' else 'less_than_equal' end,
      'message', case when sparsity < 0 then 'Input should be greater than or equal to 0' else 'Input should be less than or equal to 1' end);
  end if;

  length := (preset ->> 'end_date')::date - (preset ->> 'start_date')::date;
  first_day := coalesce(start_date, end_date - length, (preset ->> 'start_date')::date);
  last_day := coalesce(end_date, start_date + length, (preset ->> 'end_date')::date);
  settings := pg_catalog.jsonb_build_object('scenario', preset ->> 'name', 'seed', seed,
    'stores', coalesce(stores, (preset ->> 'stores')::integer), 'products', coalesce(products, (preset ->> 'products')::integer),
    'sparsity', coalesce(sparsity, (preset ->> 'sparsity')::numeric),
    'promotion_intensity', preset -> 'promotion_intensity', 'stockout_intensity', preset -> 'stockout_intensity',
    'noise_sigma', preset -> 'noise_sigma');

  if overrides is not null and pg_catalog.jsonb_typeof(overrides) <> 'null' then
    if pg_catalog.jsonb_typeof(overrides) <> 'object' then
      problems := problems || pg_catalog.jsonb_build_object('field', 'overrides', 'type', 'model_type', 'message', 'Input should be a valid object');
    else
      for knob, value in select * from pg_catalog.jsonb_each(overrides) order by 1 loop
        if not knobs ? knob then
          problems := problems || pg_catalog.jsonb_build_object('field', 'overrides.' || knob, 'type', 'extra_forbidden',
            'message', 'Extra inputs are not permitted');
        elsif pg_catalog.jsonb_typeof(value) = 'null' then
          continue;  -- null: unset
        elsif pg_catalog.jsonb_typeof(value) <> 'number'
              or (knobs -> knob ->> 2 = 'int' and value::text !~ '^-?\d+$') then
          problems := problems || pg_catalog.jsonb_build_object('field', 'overrides.' || knob,
            'type', case knobs -> knob ->> 2 when 'int' then 'int_type' else 'float_type' end,
            'message', case knobs -> knob ->> 2 when 'int' then 'Input should be a valid integer' else 'Input should be a valid number' end);
        elsif value::numeric < (knobs -> knob ->> 0)::numeric then
          problems := problems || pg_catalog.jsonb_build_object('field', 'overrides.' || knob, 'type', 'greater_than_equal',
            'message', pg_catalog.format('Input should be greater than or equal to %s', knobs -> knob ->> 0));
        elsif value::numeric > (knobs -> knob ->> 1)::numeric then
          problems := problems || pg_catalog.jsonb_build_object('field', 'overrides.' || knob, 'type', 'less_than_equal',
            'message', pg_catalog.format('Input should be less than or equal to %s', knobs -> knob ->> 1));
        elsif knob = 'window_days' then
          first_day := last_day - value::integer;  -- the spec's rule: start = end − window_days
        else
          settings := settings || pg_catalog.jsonb_build_object(knob, value);
        end if;
      end loop;
    end if;
  end if;

  select pg_catalog.min(c.date), pg_catalog.max(c.date) into calendar_first, calendar_last from forecast.calendar c;
  if last_day < first_day then
    problems := problems || pg_catalog.jsonb_build_object('field', 'end_date', 'type', 'value_error',
      'message', pg_catalog.format('end_date (%s) must be on or after start_date (%s)', last_day, first_day));
  end if;
  if first_day < calendar_first or last_day > calendar_last then
    problems := problems || pg_catalog.jsonb_build_object('field', case when first_day < calendar_first then 'start_date' else 'end_date' end,
      'type', 'value_error', 'message', pg_catalog.format('the dates must be within the calendar, %s to %s', calendar_first, calendar_last));
  end if;
  if pg_catalog.jsonb_array_length(problems) > 0 then
    perform forecast.invalid_all(pg_catalog.format('%s problem(s) in the seeder settings', pg_catalog.jsonb_array_length(problems)), problems);
  end if;
  return settings || pg_catalog.jsonb_build_object('start_date', first_day, 'end_date', last_day);
end $$;

-- Promotions, sales and inventory snapshots of the account's stores and products for the days
-- first_day..last_day, from `settings`. Draws are keyed by natural keys and the day's offset from
-- first_day. With keep_existing (the seeder's append), a store-product-day that has sales or a
-- snapshot already keeps it. Returns {sales, inventory, promotions}: the rows it wrote.
create or replace function forecast.generate_facts(account uuid, settings jsonb, first_day date, last_day date, keep_existing boolean)
returns jsonb
language plpgsql volatile set search_path = '' as $$
declare
  seed constant integer := (settings ->> 'seed')::integer;
  sparsity constant double precision := (settings ->> 'sparsity')::double precision;
  promo constant double precision := (settings ->> 'promotion_intensity')::double precision;
  stockout constant double precision := (settings ->> 'stockout_intensity')::double precision;
  noise constant double precision := (settings ->> 'noise_sigma')::double precision;
  sales_rows bigint;
  snapshot_rows bigint;
  promotion_rows bigint;
begin
  -- Promotions: per product and 4-week block, with probability promotion_intensity, one week off.
  insert into forecast.promotions (account_id, product_id, start_date, end_date, discount_pct)
  select account, p.id, first_day + b * 28 + (forecast.rand(seed, 8, pg_catalog.hashtext(p.sku) * 1000::bigint + b) * 21)::integer,
         first_day + b * 28 + (forecast.rand(seed, 8, pg_catalog.hashtext(p.sku) * 1000::bigint + b) * 21)::integer + 6,
         pg_catalog.round((10 + forecast.rand(seed, 9, pg_catalog.hashtext(p.sku) * 1000::bigint + b) * 20)::numeric, 0)
    from forecast.products p, pg_catalog.generate_series(0, (last_day - first_day) / 28) b
   where p.account_id = account and forecast.rand(seed, 7, pg_catalog.hashtext(p.sku) * 1000::bigint + b) < promo;
  get diagnostics promotion_rows = row_count;

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
        -- The deepest discount of the day, should promotions overlap (appended ones may).
        left join (select pr.product_id, d::date as day, pg_catalog.max(pr.discount_pct) as discount_pct
                     from forecast.promotions pr, pg_catalog.generate_series(pr.start_date, pr.end_date, interval '1 day') d
                    where pr.account_id = account and pr.end_date >= first_day and pr.start_date <= last_day
                    group by 1, 2) pr on pr.product_id = p.id and pr.day = c.date
       where s.account_id = account
         and (not keep_existing or not exists (select from forecast.sales_daily d where d.store_id = s.id and d.product_id = p.id and d.date = c.date))
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
   where s.account_id = account
     and (not keep_existing or not exists (select from forecast.inventory_snapshot_daily v
                                            where v.store_id = s.id and v.product_id = p.id and v.date = d.day));
  get diagnostics snapshot_rows = row_count;

  return pg_catalog.jsonb_build_object('sales', sales_rows, 'inventory', snapshot_rows, 'promotions', promotion_rows);
end $$;

-- Replaces the account's data with generated data. Runs as the caller (RLS: admins and the
-- service role of that account). Returns {records_created: {table: rows}, settings}.
drop function if exists forecast.generate(uuid, jsonb);
create or replace function forecast.generate(account uuid, settings jsonb) returns jsonb
language plpgsql volatile set search_path = '' as $$
declare
  seed constant integer := (settings ->> 'seed')::integer;
  first_day constant date := (settings ->> 'start_date')::date;
  last_day constant date := (settings ->> 'end_date')::date;
  regions constant text[] := array['North', 'South', 'East', 'West'];
  store_types constant text[] := array['flagship', 'standard', 'express'];
  categories constant text[] := array['beverages', 'snacks', 'dairy', 'bakery', 'produce', 'household', 'personal care', 'frozen'];
  brands constant text[] := array['Acme', 'Northwind', 'Contoso', 'Fabrikam', 'Globex', 'Initech'];
  facts jsonb;
  price_rows bigint;
begin
  perform forecast.delete_data(account, 'all');

  insert into forecast.stores (account_id, store_code, name, region, store_type, city)
  select account, 'S' || pg_catalog.lpad(i::text, 3, '0'), 'Store ' || i,
         regions[1 + (forecast.rand(seed, 1, i) * 4)::integer % 4], store_types[1 + (forecast.rand(seed, 2, i) * 3)::integer % 3],
         'City ' || (1 + (forecast.rand(seed, 3, i) * 40)::integer)
    from pg_catalog.generate_series(1, (settings ->> 'stores')::integer) i;
  -- base_cost: 45–70 % of the base price.
  insert into forecast.products (account_id, sku, name, category, brand, base_price, base_cost)
  select account, 'SKU-' || pg_catalog.lpad(j::text, 5, '0'), 'Product ' || j,
         categories[1 + (forecast.rand(seed, 4, j) * 8)::integer % 8], brands[1 + (forecast.rand(seed, 5, j) * 6)::integer % 6],
         x.price, pg_catalog.round(x.price * (0.45 + forecast.rand(seed, 16, j) * 0.25)::numeric, 2)
    from pg_catalog.generate_series(1, (settings ->> 'products')::integer) j
    cross join lateral (select pg_catalog.round((2 + forecast.rand(seed, 6, j) * 48)::numeric, 2) as price) x;

  facts := forecast.generate_facts(account, settings, first_day, last_day, false);

  insert into forecast.price_history (account_id, product_id, store_id, valid_from, price)
  select account, p.id, s.id, first_day, p.base_price
    from forecast.stores s join forecast.products p on p.account_id = account where s.account_id = account;
  get diagnostics price_rows = row_count;

  return pg_catalog.jsonb_build_object('records_created', pg_catalog.jsonb_build_object(
      'stores', (settings ->> 'stores')::integer, 'products', (settings ->> 'products')::integer,
      'sales', facts -> 'sales', 'inventory', facts -> 'inventory', 'price_history', price_rows, 'promotions', facts -> 'promotions'),
    'settings', settings);
end $$;

-- Over HTTP the statement timeout is 15 s and generation runs at about 30,000 sales rows/s on two
-- cores, so one request makes at most 250,000 store-product-days; bigger data sets are generated from psql
-- (select forecast.generate(…)), as `make bench` does.
create or replace function forecast.seeder_http_cells() returns bigint
language sql immutable set search_path = '' as $$
  select 250000::bigint
$$;

create or replace function forecast.require_http_size(stores bigint, products bigint, first_day date, last_day date) returns void
language plpgsql immutable set search_path = '' as $$
declare
  cells constant bigint := stores * products * (last_day - first_day + 1);
begin
  if cells > forecast.seeder_http_cells() then
    raise exception 'stores × products × days = % is more than one request generates (%)', cells, forecast.seeder_http_cells()
      using errcode = 'PT422', hint = 'generate it from psql: select forecast.generate(account, forecast.seeder_settings(…))';
  end if;
end $$;

-- POST /seeder/generate (201): {success, records_created, duration_seconds, message, seed}, and
-- the settings it used. With dry_run, the same generation runs and is undone: the counts are exact.
drop function if exists api.seeder_generate(integer, integer, integer, date, date, numeric, jsonb);
create or replace function api.seeder_generate(scenario text default 'retail_standard', seed integer default 42,
                                               stores integer default null, products integer default null,
                                               start_date date default null, end_date date default null,
                                               sparsity numeric default null, dry_run boolean default false,
                                               overrides jsonb default null)
returns jsonb
language plpgsql volatile set search_path = '' as $$
declare
  account uuid := util.require_account();
  settings jsonb;
  result jsonb;
begin
  perform forecast.require_seeder_allowed();
  perform auth.require_app_role('admin');
  settings := forecast.seeder_settings(seed, stores, products, start_date, end_date, sparsity, overrides, coalesce(scenario, ''));
  perform forecast.require_http_size((settings ->> 'stores')::bigint, (settings ->> 'products')::bigint,
                                     (settings ->> 'start_date')::date, (settings ->> 'end_date')::date);
  if coalesce(dry_run, false) then
    begin
      result := forecast.generate(account, settings);
      raise exception 'dry run' using errcode = 'PT299';  -- undoes the generation; the counts stay in `result`
    exception when sqlstate 'PT299' then
      null;
    end;
  else
    result := forecast.generate(account, settings);
  end if;
  perform pg_catalog.set_config('response.status', '201', true);
  return pg_catalog.jsonb_build_object('success', true, 'records_created', result -> 'records_created',
    'duration_seconds', pg_catalog.round(extract(epoch from pg_catalog.clock_timestamp() - pg_catalog.now())::numeric, 3),
    'message', case when coalesce(dry_run, false)
                    then pg_catalog.format('Dry run: the %s scenario would create these rows; nothing was written', settings ->> 'scenario')
                    else pg_catalog.format('Generated the %s scenario, %s to %s', settings ->> 'scenario', settings ->> 'start_date', settings ->> 'end_date') end,
    'seed', (settings ->> 'seed')::integer, 'dry_run', coalesce(dry_run, false), 'settings', settings);
end $$;
comment on function api.seeder_generate(text, integer, integer, integer, date, date, numeric, boolean, jsonb) is
  'Replaces the account''s retail data with generated data, deterministic by seed: a scenario preset, then the scalar parameters given, then overrides (admin or service role); dry_run counts without writing.';

-- GET /seeder/scenarios: the presets.
create or replace function api.seeder_scenarios() returns jsonb
language plpgsql stable set search_path = '' as $$
begin
  perform forecast.require_seeder_allowed();
  return forecast.seeder_scenarios();
end $$;
comment on function api.seeder_scenarios() is 'The scenario presets of the seeder: name, description, size, dates and demand settings.';

-- POST /seeder/append (201): more days of sales (with their promotions and the last 28 days'
-- snapshots) for the account's existing stores and products. A store-product-day that already has
-- sales keeps them: append never overwrites.
create or replace function api.seeder_append(start_date date, end_date date, seed integer default 43) returns jsonb
language plpgsql volatile set search_path = '' as $$
declare
  account uuid := util.require_account();
  settings jsonb;
  store_count bigint;
  product_count bigint;
  facts jsonb;
begin
  perform forecast.require_seeder_allowed();
  perform auth.require_app_role('admin');
  if start_date is null then
    perform forecast.invalid('start_date', 'Field required', 'missing');
  elsif end_date is null then
    perform forecast.invalid('end_date', 'Field required', 'missing');
  end if;
  settings := forecast.seeder_settings(seed, null, null, start_date, end_date, null, null, 'retail_standard');
  select pg_catalog.count(*) into store_count from forecast.stores where account_id = account;
  select pg_catalog.count(*) into product_count from forecast.products where account_id = account;
  if store_count = 0 or product_count = 0 then
    raise exception 'there are no stores or products to append sales to: generate some first' using errcode = 'PT422';
  end if;
  perform forecast.require_http_size(store_count, product_count, start_date, end_date);
  facts := forecast.generate_facts(account, settings, start_date, end_date, true);
  perform pg_catalog.set_config('response.status', '201', true);
  return pg_catalog.jsonb_build_object('success', true, 'records_created', facts,
    'duration_seconds', pg_catalog.round(extract(epoch from pg_catalog.clock_timestamp() - pg_catalog.now())::numeric, 3),
    'message', pg_catalog.format('Appended %s to %s for %s stores and %s products', start_date, end_date, store_count, product_count),
    'seed', seed);
end $$;
comment on function api.seeder_append(date, date, integer) is
  'Adds generated sales for more days to the account''s existing stores and products, never overwriting (admin or service role).';

-- What DELETE /seeder/data removes, or would remove: `facts` (sales, snapshots, prices, promotions
-- and the phase-2 tables), `dimensions` (stores and products, refused with a 409 while facts refer to
-- them), or `all`. Sales are counted from the rollup (exact: a transaction per sales row).
create or replace function forecast.delete_data(account uuid, scope text, dry_run boolean default false) returns jsonb
language plpgsql volatile set search_path = '' as $$
declare
  counts jsonb;
  facts bigint;
  n bigint;
begin
  select pg_catalog.jsonb_build_object(
      'sales', (select coalesce(sum(transactions), 0) from forecast.sales_by_day where account_id = account),
      'inventory', (select pg_catalog.count(*) from forecast.inventory_snapshot_daily where account_id = account),
      'price_history', (select pg_catalog.count(*) from forecast.price_history where account_id = account),
      'promotions', (select pg_catalog.count(*) from forecast.promotions where account_id = account),
      'exogenous_signals', (select pg_catalog.count(*) from forecast.exogenous_signals where account_id = account),
      'sales_returns', (select pg_catalog.count(*) from forecast.returns where account_id = account),
      'replenishment_events', (select pg_catalog.count(*) from forecast.replenishment_orders where account_id = account),
      'product_lifecycle', (select pg_catalog.count(*) from forecast.product_lifecycle where account_id = account))
    into counts;
  select sum(v::bigint) into facts from pg_catalog.jsonb_each_text(counts) e(k, v);
  if scope = 'dimensions' and facts > 0 then
    raise exception 'the account''s stores and products still have % fact rows; delete scope facts first, or scope all', facts
      using errcode = 'PT409';
  end if;
  if scope = 'dimensions' then
    counts := '{}';
  end if;
  if scope in ('dimensions', 'all') then
    counts := counts || pg_catalog.jsonb_build_object(
      'stores', (select pg_catalog.count(*) from forecast.stores where account_id = account),
      'products', (select pg_catalog.count(*) from forecast.products where account_id = account));
  end if;
  if dry_run then
    return counts;
  end if;
  if scope in ('facts', 'all') then
    -- Through the stores: the primary key's store_id prefix finds an account's sales.
    delete from forecast.sales_daily where store_id in (select s.id from forecast.stores s where s.account_id = account);
    get diagnostics n = row_count;
    counts := counts || pg_catalog.jsonb_build_object('sales', n);
    delete from forecast.inventory_snapshot_daily where account_id = account;
    delete from forecast.price_history where account_id = account;
    delete from forecast.promotions where account_id = account;
    delete from forecast.exogenous_signals where account_id = account;
    delete from forecast.returns where account_id = account;
    delete from forecast.replenishment_orders where account_id = account;
    delete from forecast.product_lifecycle where account_id = account;
  end if;
  if scope in ('dimensions', 'all') then
    delete from forecast.stores where account_id = account;
    delete from forecast.products where account_id = account;
  end if;
  return counts;
end $$;

-- DELETE /seeder/data: {success, records_deleted: {table: rows}, message, dry_run}. `scope` has no
-- default (the contract's is `all`): see docs/forecastlab.md.
create or replace function api.seeder_delete_data(scope text, dry_run boolean default false) returns jsonb
language plpgsql volatile set search_path = '' as $$
declare
  account uuid := util.require_account();
  deleted jsonb;
begin
  perform forecast.require_seeder_allowed();
  perform auth.require_app_role('admin');
  if scope is null then
    perform forecast.invalid('scope', 'Field required: all, facts or dimensions (there is no default)', 'missing');
  elsif scope not in ('all', 'facts', 'dimensions') then
    perform forecast.invalid('scope', 'Input should be ''all'', ''facts'' or ''dimensions''', 'enum');
  end if;
  if dry_run is null then
    perform forecast.invalid('dry_run', 'Input should be a valid boolean', 'bool_type');
  end if;
  deleted := forecast.delete_data(account, scope, dry_run);
  return pg_catalog.jsonb_build_object('success', true, 'records_deleted', deleted,
    'message', pg_catalog.format(case when dry_run then 'Dry run: scope %s would delete these rows; nothing was deleted'
                                      else 'Deleted the account''s %s' end,
                                 case scope when 'all' then 'data' else scope end),
    'dry_run', dry_run);
end $$;
comment on function api.seeder_delete_data(text, boolean) is
  'Deletes the account''s facts, dimensions or all of its retail data (scope is required), or with dry_run counts what it would (admin or service role).';

-- GET /seeder/status: the counts of §16, the sales date range (exact, from the rollups) and when
-- the data last changed.
drop function if exists api.seeder_status();
create or replace function api.seeder_status() returns jsonb
language plpgsql stable set search_path = '' as $$
declare
  account uuid := util.require_account();
begin
  perform forecast.require_seeder_allowed();
  return (
    select pg_catalog.jsonb_build_object(
      'stores', (select pg_catalog.count(*) from forecast.stores where account_id = account),
      'products', (select pg_catalog.count(*) from forecast.products where account_id = account),
      'calendar', (select pg_catalog.count(*) from forecast.calendar),
      -- Exact without counting millions of rows: the rollup counts a transaction per sales row.
      'sales', coalesce(sum(d.transactions), 0),
      'inventory', (select pg_catalog.count(*) from forecast.inventory_snapshot_daily where account_id = account),
      'price_history', (select pg_catalog.count(*) from forecast.price_history where account_id = account),
      'promotions', (select pg_catalog.count(*) from forecast.promotions where account_id = account),
      'exogenous_signals', (select pg_catalog.count(*) from forecast.exogenous_signals where account_id = account),
      'sales_returns', (select pg_catalog.count(*) from forecast.returns where account_id = account),
      'replenishment_events', (select pg_catalog.count(*) from forecast.replenishment_orders where account_id = account),
      'product_lifecycle', (select pg_catalog.count(*) from forecast.product_lifecycle where account_id = account),
      'date_range_start', pg_catalog.min(d.date), 'date_range_end', pg_catalog.max(d.date),
      'last_updated', util.iso(greatest(pg_catalog.max(d.updated_at),
                                        (select pg_catalog.max(updated_at) from forecast.stores where account_id = account),
                                        (select pg_catalog.max(updated_at) from forecast.products where account_id = account))))
      from forecast.sales_by_day d where d.account_id = account);
end $$;
comment on function api.seeder_status() is 'What the account''s retail data holds: counts per table, the sales date range and when it last changed.';

-- POST /seeder/verify: checks of the account's data, each passed, warning or failed.
create or replace function api.seeder_verify() returns jsonb
language plpgsql stable set search_path = '' as $$
declare
  account uuid := util.require_account();
  checks jsonb := '[]';
  stores bigint;
  products bigint;
  sales record;
  rolled record;
  by_store_rows bigint;
  by_store_revenue numeric;
  by_product_rows bigint;
  by_product_revenue numeric;
  first_day date;
  last_day date;
  sold_days bigint;
  calendar_first date;
  calendar_last date;
  n bigint;
begin
  perform forecast.require_seeder_allowed();
  select pg_catalog.count(*) into stores from forecast.stores where account_id = account;
  select pg_catalog.count(*) into products from forecast.products where account_id = account;
  checks := checks || pg_catalog.jsonb_build_object('name', 'dimensions_present',
    'status', case when stores > 0 and products > 0 then 'passed' else 'failed' end,
    'message', pg_catalog.format('%s stores and %s products', stores, products),
    'details', pg_catalog.jsonb_build_object('stores', stores, 'products', products));

  -- One pass over the sales rows (through the stores, the primary key's prefix).
  select pg_catalog.count(*) as rows, coalesce(sum(s.total_amount), 0) as revenue, coalesce(sum(s.quantity), 0)::bigint as units,
         pg_catalog.count(*) filter (where pg_catalog.abs(s.total_amount - pg_catalog.round(s.quantity * s.unit_price, 2)) > 0.01) as off_total
    into sales
    from forecast.sales_daily s where s.store_id in (select st.id from forecast.stores st where st.account_id = account);
  checks := checks || pg_catalog.jsonb_build_object('name', 'sales_present',
    'status', case when sales.rows > 0 then 'passed' else 'failed' end,
    'message', pg_catalog.format('%s sales rows', sales.rows), 'details', pg_catalog.jsonb_build_object('sales', sales.rows));

  select coalesce(sum(d.transactions), 0)::bigint as rows, coalesce(sum(d.revenue), 0) as revenue, coalesce(sum(d.units), 0)::bigint as units,
         pg_catalog.min(d.date) as first_day, pg_catalog.max(d.date) as last_day, pg_catalog.count(*) as days
    into rolled from forecast.sales_by_day d where d.account_id = account;
  select coalesce(sum(r.transactions), 0)::bigint, coalesce(sum(r.revenue), 0) into by_store_rows, by_store_revenue
    from forecast.sales_by_store_day r where r.account_id = account;
  select coalesce(sum(r.transactions), 0)::bigint, coalesce(sum(r.revenue), 0) into by_product_rows, by_product_revenue
    from forecast.sales_by_product_day r where r.account_id = account;
  checks := checks || pg_catalog.jsonb_build_object('name', 'rollups_match_sales',
    'status', case when rolled.rows = sales.rows and rolled.revenue = sales.revenue and rolled.units = sales.units
                        and by_store_rows = sales.rows and by_store_revenue = sales.revenue
                        and by_product_rows = sales.rows and by_product_revenue = sales.revenue
                   then 'passed' else 'failed' end,
    'message', 'the daily, store and product rollups add up to the sales rows',
    'details', pg_catalog.jsonb_build_object('sales_rows', sales.rows, 'sales_revenue', forecast.money_text(sales.revenue),
                                            'rollup_rows', rolled.rows, 'rollup_revenue', forecast.money_text(rolled.revenue)));

  select pg_catalog.min(c.date), pg_catalog.max(c.date) into calendar_first, calendar_last from forecast.calendar c;
  checks := checks || pg_catalog.jsonb_build_object('name', 'sales_dates_in_calendar',
    'status', case when rolled.first_day is null or (rolled.first_day >= calendar_first and rolled.last_day <= calendar_last)
                   then 'passed' else 'failed' end,
    'message', pg_catalog.format('sales from %s to %s; the calendar runs %s to %s',
                                 coalesce(rolled.first_day::text, '-'), coalesce(rolled.last_day::text, '-'), calendar_first, calendar_last));

  checks := checks || pg_catalog.jsonb_build_object('name', 'date_coverage',
    'status', case when rolled.first_day is null or rolled.days = rolled.last_day - rolled.first_day + 1 then 'passed' else 'warning' end,
    'message', case when rolled.first_day is null then 'no sales'
                    else pg_catalog.format('%s of %s days between the first and the last sale have sales', rolled.days,
                                           rolled.last_day - rolled.first_day + 1) end,
    'details', pg_catalog.jsonb_build_object('missing_days', coalesce(rolled.last_day - rolled.first_day + 1 - rolled.days, 0)));

  checks := checks || pg_catalog.jsonb_build_object('name', 'total_amount_consistent',
    'status', case when sales.off_total = 0 then 'passed' else 'warning' end,
    'message', pg_catalog.format('%s sales rows whose total_amount differs from quantity × unit_price by more than 0.01', sales.off_total),
    'details', pg_catalog.jsonb_build_object('rows', sales.off_total));

  select pg_catalog.count(*) into n from forecast.inventory_snapshot_daily where account_id = account;
  checks := checks || pg_catalog.jsonb_build_object('name', 'inventory_present',
    'status', case when n > 0 then 'passed' else 'warning' end, 'message', pg_catalog.format('%s inventory snapshots', n));

  select stores * products - pg_catalog.count(distinct (h.store_id, h.product_id)) into n
    from forecast.price_history h where h.account_id = account;
  checks := checks || pg_catalog.jsonb_build_object('name', 'prices_cover_assortment',
    'status', case when n = 0 then 'passed' else 'warning' end,
    'message', pg_catalog.format('%s store-product pairs without a price', n));

  select pg_catalog.count(*) into n from forecast.promotions pr
   where pr.account_id = account and not exists (select from forecast.products p where p.id = pr.product_id and p.account_id = account);
  checks := checks || pg_catalog.jsonb_build_object('name', 'promotions_reference_products',
    'status', case when n = 0 then 'passed' else 'failed' end,
    'message', pg_catalog.format('%s promotions name a product outside the account', n));

  return (select pg_catalog.jsonb_build_object('passed', pg_catalog.count(*) filter (where c ->> 'status' = 'failed') = 0,
            'checks', checks, 'total_checks', pg_catalog.count(*),
            'passed_count', pg_catalog.count(*) filter (where c ->> 'status' = 'passed'),
            'warning_count', pg_catalog.count(*) filter (where c ->> 'status' = 'warning'),
            'failed_count', pg_catalog.count(*) filter (where c ->> 'status' = 'failed'))
            from pg_catalog.jsonb_array_elements(checks) c);
end $$;
comment on function api.seeder_verify() is
  'Checks the account''s data (dimensions and sales present, rollups exact, dates in the calendar, coverage, totals, inventory, prices, promotions); passed when none failed.';

-- POST /seeder/phase2-enrichment on top of existing sales: lifecycle stages (a product is
-- discontinued with probability discontinue_probability), weekly replenishment orders for the last 8
-- weeks, holidays and daily temperatures, and returns (a sales row is returned with probability
-- returns_probability). Replaces earlier phase-2 rows; 422 with no sales. {success, records_created,
-- duration_ms}.
drop function if exists api.seeder_phase2_enrichment(integer);
create or replace function api.seeder_phase2_enrichment(seed integer default 42, returns_probability numeric default 0.02,
                                                        discontinue_probability numeric default 0.10) returns jsonb
language plpgsql volatile set search_path = '' as $$
declare
  account uuid := util.require_account();
  problems jsonb := '[]';
  first_day date;
  last_day date;
  lifecycle_rows bigint;
  replenishment_rows bigint;
  signal_rows bigint;
  n bigint;
  return_rows bigint;
begin
  perform forecast.require_seeder_allowed();
  perform auth.require_app_role('admin');
  if seed is null or seed < 0 then
    problems := problems || pg_catalog.jsonb_build_object('field', 'seed', 'type', 'greater_than_equal', 'message', 'Input should be greater than or equal to 0');
  end if;
  if returns_probability is null or returns_probability < 0 or returns_probability > 1 then
    problems := problems || pg_catalog.jsonb_build_object('field', 'returns_probability',
      'type', case when returns_probability < 0 then 'greater_than_equal' when returns_probability > 1 then 'less_than_equal' else 'float_type' end,
      'message', case when returns_probability < 0 then 'Input should be greater than or equal to 0'
                      when returns_probability > 1 then 'Input should be less than or equal to 1' else 'Input should be a valid number' end);
  end if;
  if discontinue_probability is null or discontinue_probability < 0 or discontinue_probability > 1 then
    problems := problems || pg_catalog.jsonb_build_object('field', 'discontinue_probability',
      'type', case when discontinue_probability < 0 then 'greater_than_equal' when discontinue_probability > 1 then 'less_than_equal' else 'float_type' end,
      'message', case when discontinue_probability < 0 then 'Input should be greater than or equal to 0'
                      when discontinue_probability > 1 then 'Input should be less than or equal to 1' else 'Input should be a valid number' end);
  end if;
  if pg_catalog.jsonb_array_length(problems) > 0 then
    perform forecast.invalid_all(pg_catalog.format('%s problem(s) in the phase-2 settings', pg_catalog.jsonb_array_length(problems)), problems);
  end if;
  select pg_catalog.min(date), pg_catalog.max(date) into first_day, last_day from forecast.sales_by_day where account_id = account;
  if first_day is null then
    raise exception 'there are no sales to enrich: generate or ingest some first' using errcode = 'PT422';
  end if;
  delete from forecast.product_lifecycle where account_id = account;
  delete from forecast.replenishment_orders where account_id = account;
  delete from forecast.exogenous_signals where account_id = account;
  delete from forecast.returns where account_id = account;

  -- A discontinued product is mature until a day in the last third of the sales, then discontinued;
  -- the others are in one stage throughout.
  insert into forecast.product_lifecycle (account_id, product_id, stage, start_date, end_date)
  select account, p.id, s.stage, s.start_date, s.end_date
    from forecast.products p
    cross join lateral (select forecast.rand(seed, 27, pg_catalog.hashtext(p.sku)) < discontinue_probability as discontinued,
                               last_day - ((last_day - first_day) / 3 * forecast.rand(seed, 28, pg_catalog.hashtext(p.sku)))::integer as day) d
    cross join lateral (
      select (array['launch', 'growth', 'mature', 'decline'])[1 + (forecast.rand(seed, 20, pg_catalog.hashtext(p.sku)) * 4)::integer % 4] as stage,
             first_day as start_date, null::date as end_date where not d.discontinued
      union all select 'mature', first_day, d.day - 1 where d.discontinued and d.day > first_day
      union all select 'discontinued', d.day, null where d.discontinued) s
   where p.account_id = account;
  get diagnostics lifecycle_rows = row_count;
  insert into forecast.replenishment_orders (account_id, store_id, product_id, order_date, received_date, quantity, lead_time_days)
  select account, s.id, p.id, w.day, w.day + l.days, 20 + (forecast.rand(seed, 22, pg_catalog.hashtext(s.store_code || '/' || p.sku)) * 80)::integer, l.days
    from forecast.stores s join forecast.products p on p.account_id = account
    cross join lateral (select d::date as day from pg_catalog.generate_series(greatest(first_day, last_day - 55), last_day, interval '7 days') d) w
    cross join lateral (select 2 + (forecast.rand(seed, 21, pg_catalog.hashtext(s.store_code || '/' || p.sku)) * 5)::integer as days) l
   where s.account_id = account;
  get diagnostics replenishment_rows = row_count;
  insert into forecast.exogenous_signals (account_id, date, signal_type, value, label)
  select account, c.date, 'holiday', 1, h.label
    from forecast.calendar c
    join (values (1, 1, 'New Year''s Day'), (2, 14, 'Valentine''s Day'), (7, 4, 'Independence Day'), (10, 31, 'Halloween'),
                 (12, 24, 'Christmas Eve'), (12, 25, 'Christmas Day'), (12, 31, 'New Year''s Eve')) h(month, day, label)
      on c.month = h.month and extract(day from c.date) = h.day
   where c.date between first_day and last_day;
  get diagnostics signal_rows = row_count;
  insert into forecast.exogenous_signals (account_id, store_id, date, signal_type, value)
  select account, s.id, c.date, 'weather_temperature',
         pg_catalog.round((12 - 10 * pg_catalog.cos(2 * pi() * extract(doy from c.date) / 365.25) + forecast.rand(seed, 23, pg_catalog.hashtext(s.store_code) * 4000::bigint + (c.date - first_day)) * 6)::numeric, 1)
    from forecast.stores s join forecast.calendar c on c.date between first_day and last_day
   where s.account_id = account;
  get diagnostics n = row_count;
  signal_rows := signal_rows + n;
  insert into forecast.returns (account_id, store_id, product_id, date, quantity, reason)
  select account, x.store_id, x.product_id, x.date + 1 + (forecast.rand(seed, 25, x.key) * 6)::integer,
         greatest(1, (x.quantity * 0.3)::integer), (array['damaged', 'wrong item', 'changed mind', 'expired'])[1 + (forecast.rand(seed, 26, x.key) * 4)::integer % 4]
    from (select s.*, pg_catalog.hashtext(st.store_code || '/' || p.sku) * 4000::bigint + (s.date - first_day) as key
            from forecast.stores st join forecast.sales_daily s on s.store_id = st.id join forecast.products p on p.id = s.product_id
           where st.account_id = account) x
   where forecast.rand(seed, 24, x.key) < returns_probability;
  get diagnostics return_rows = row_count;
  return pg_catalog.jsonb_build_object('success', true,
    'records_created', pg_catalog.jsonb_build_object('product_lifecycle', lifecycle_rows, 'replenishment_events', replenishment_rows,
                                                     'exogenous_signals', signal_rows, 'sales_returns', return_rows),
    'duration_ms', pg_catalog.round((extract(epoch from pg_catalog.clock_timestamp() - pg_catalog.now()) * 1000)::numeric, 2));
end $$;
comment on function api.seeder_phase2_enrichment(integer, numeric, numeric) is
  'Adds lifecycle, replenishment, exogenous signals and returns to existing sales (admin or service role); 422 without sales.';

grant execute on function forecast.require_seeder_allowed(), forecast.rand(integer, integer, bigint), forecast.seeder_scenarios(),
  forecast.seeder_settings(integer, integer, integer, date, date, numeric, jsonb, text), forecast.generate_facts(uuid, jsonb, date, date, boolean),
  forecast.generate(uuid, jsonb), forecast.seeder_http_cells(), forecast.require_http_size(bigint, bigint, date, date),
  forecast.delete_data(uuid, text, boolean) to authenticated, service_role;
grant execute on function api.seeder_generate(text, integer, integer, integer, date, date, numeric, boolean, jsonb), api.seeder_scenarios(),
  api.seeder_append(date, date, integer), api.seeder_delete_data(text, boolean), api.seeder_status(), api.seeder_verify(),
  api.seeder_phase2_enrichment(integer, numeric, numeric) to authenticated, service_role;
