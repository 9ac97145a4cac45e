-- requires: forecastlab/dimensions.sql
-- requires: forecastlab/rollups.sql
-- ForecastLab analytics. Without a store-and-product filter they read the rollups kept by the
-- sales_daily triggers (a row per store or product and day), so a year over 18 million sales rows
-- sums a few tens of thousands of rows; with both filters, the sales rows of that pair by primary key.

-- Both dates given, start <= end, at most 730 days (the spec's validate_date_range): else 400.
create or replace function forecast.validate_date_range(start_date date, end_date date) returns void
language plpgsql immutable set search_path = '' as $$
begin
  if start_date is null then
    perform util.validation_error('start_date', 'required');
  elsif end_date is null then
    perform util.validation_error('end_date', 'required');
  elsif start_date > end_date then
    perform util.validation_error('start_date', 'must not be after end_date');
  elsif end_date - start_date > 730 then
    perform util.validation_error('end_date', 'the range may span at most 730 days');
  end if;
end $$;

-- Sales per day in the range from the cheapest source for the filters given: the account's daily
-- rollup, one store's, one product's, a category's products', or the sales rows of one store (by
-- primary key) when a store is combined with a product or category. One static query per case, so
-- each keeps its index under a cached plan (an `x is null or col = x` filter would not).
drop function if exists forecast.daily_sales(uuid, date, date, bigint, bigint, text);
create function forecast.daily_sales(account uuid, start_date date, end_date date, store bigint, product bigint, category text)
returns table (date date, revenue numeric, units bigint, transactions bigint)
language plpgsql stable set search_path = '' as $$
begin
  if store is null and product is null and category is null then
    return query select r.date, r.revenue, r.units, r.transactions from forecast.sales_by_day r
                  where r.account_id = account and r.date between start_date and end_date;
  elsif product is null and category is null then
    return query select r.date, r.revenue, r.units, r.transactions from forecast.sales_by_store_day r
                  where r.store_id = store and r.account_id = account and r.date between start_date and end_date;
  elsif store is null then
    return query select r.date, r.revenue, r.units, r.transactions from forecast.sales_by_product_day r
                  where r.product_id in (select p.id from forecast.products p where p.account_id = account
                                            and (product is null or p.id = product) and (daily_sales.category is null or p.category = daily_sales.category))
                    and r.account_id = account and r.date between start_date and end_date;
  else
    return query select s.date, s.total_amount, s.quantity::bigint, 1::bigint from forecast.sales_daily s
                  where s.store_id = store and s.account_id = account and s.date between start_date and end_date
                    and s.product_id in (select p.id from forecast.products p where p.account_id = account
                                            and (product is null or p.id = product) and (daily_sales.category is null or p.category = daily_sales.category));
  end if;
end $$;

create or replace function forecast.money(value numeric) returns numeric
language sql immutable set search_path = '' as $$
  select pg_catalog.round(value, 2)
$$;

create or replace function api.get_kpis(start_date date, end_date date, store_id bigint default null, product_id bigint default null,
                                        category text default null)
returns jsonb
language plpgsql stable set search_path = '' as $$
declare
  account uuid := util.require_account();
  result jsonb;
begin
  perform forecast.validate_date_range(start_date, end_date);
  select pg_catalog.jsonb_build_object(
      'start_date', start_date, 'end_date', end_date,
      'store_id', get_kpis.store_id, 'product_id', get_kpis.product_id, 'category', get_kpis.category,
      'total_revenue', coalesce(forecast.money(sum(d.revenue)), 0),
      'total_units', coalesce(sum(d.units), 0),
      'total_transactions', coalesce(sum(d.transactions), 0),
      'avg_unit_price', forecast.money(sum(d.revenue) / nullif(sum(d.units), 0)),
      'avg_basket_value', forecast.money(sum(d.revenue) / nullif(sum(d.transactions), 0)))
    into result
    from forecast.daily_sales(account, start_date, end_date, get_kpis.store_id, get_kpis.product_id, get_kpis.category) d;
  return result;
end $$;
comment on function api.get_kpis(date, date, bigint, bigint, text) is
  'Revenue, units, transactions (sales rows), average unit price and basket value over a date range (at most 730 days).';

create or replace function api.get_drilldowns(dimension text, start_date date, end_date date, "limit" integer default 50)
returns jsonb
language plpgsql stable set search_path = '' as $$
declare
  account uuid := util.require_account();
  items jsonb;
begin
  if dimension is null or dimension not in ('store', 'product', 'category', 'region', 'date') then
    perform util.validation_error('dimension', 'must be store, product, category, region or date');
  end if;
  perform forecast.validate_date_range(start_date, end_date);
  perform util.require_range('limit', "limit", 1, 1000);
  with facts as (
    select case dimension when 'store' then r.store_id::text when 'region' then s.region else r.date::text end as key,
           case dimension when 'store' then s.name when 'region' then s.region else r.date::text end as label,
           r.revenue, r.units, r.transactions
      from forecast.sales_by_store_day r join forecast.stores s on s.id = r.store_id
     where dimension in ('store', 'region', 'date') and r.account_id = account and r.date between start_date and end_date
    union all
    select case dimension when 'product' then r.product_id::text else p.category end,
           case dimension when 'product' then p.name else p.category end,
           r.revenue, r.units, r.transactions
      from forecast.sales_by_product_day r join forecast.products p on p.id = r.product_id
     where dimension in ('product', 'category') and r.account_id = account and r.date between start_date and end_date
  ), grouped as (
    select f.key, f.label, sum(f.revenue) as revenue, sum(f.units) as units, sum(f.transactions) as transactions
      from facts f group by f.key, f.label
  ), ranked as (
    select g.*, sum(g.revenue) over () as all_revenue from grouped g
     order by case when dimension = 'date' then g.key end, g.revenue desc, g.key
     limit "limit"
  )
  select coalesce(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
           'key', r.key, 'label', r.label, 'revenue', forecast.money(r.revenue), 'units', r.units, 'transactions', r.transactions,
           'revenue_share', pg_catalog.round(r.revenue / nullif(r.all_revenue, 0), 4))
         order by case when dimension = 'date' then r.key end, r.revenue desc, r.key), '[]')
    into items from ranked r;
  return pg_catalog.jsonb_build_object('dimension', dimension, 'start_date', start_date, 'end_date', end_date, 'items', items);
end $$;
comment on function api.get_drilldowns(text, date, date, integer) is
  'Sales grouped by store, product, category, region (largest revenue first) or date (in order).';

create or replace function api.get_timeseries(start_date date, end_date date, granularity text default 'day',
                                              store_id bigint default null, product_id bigint default null)
returns jsonb
language plpgsql stable set search_path = '' as $$
declare
  account uuid := util.require_account();
  unit text := case granularity when 'day' then 'day' when 'week' then 'week' when 'month' then 'month' when 'quarter' then 'quarter' end;
  points jsonb;
begin
  if unit is null then
    perform util.validation_error('granularity', 'must be day, week, month or quarter');
  end if;
  perform forecast.validate_date_range(start_date, end_date);
  -- Every period of the range is present (zeros where nothing sold), so a chart has no gaps.
  select coalesce(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
           'period_start', b.period_start::date, 'revenue', coalesce(forecast.money(t.revenue), 0),
           'units', coalesce(t.units, 0), 'transactions', coalesce(t.transactions, 0)) order by b.period_start), '[]')
    into points
    from pg_catalog.generate_series(pg_catalog.date_trunc(unit, start_date::timestamp), end_date::timestamp,
                                    pg_catalog.concat('1 ', unit)::interval) as b(period_start)
    left join (select pg_catalog.date_trunc(unit, d.date::timestamp) as period_start, sum(d.revenue) as revenue,
                      sum(d.units) as units, sum(d.transactions) as transactions
                 from forecast.daily_sales(account, start_date, end_date, get_timeseries.store_id, get_timeseries.product_id, null) d
                group by 1) t on t.period_start = b.period_start;
  return pg_catalog.jsonb_build_object('granularity', unit, 'start_date', start_date, 'end_date', end_date, 'points', points);
end $$;
comment on function api.get_timeseries(date, date, text, bigint, bigint) is
  'Revenue, units and transactions per day, week, month or quarter (period_start), zeros included.';

-- The newest snapshot of each (store, product): DISTINCT ON over the snapshot index.
create or replace function api.get_inventory_status(store_id bigint default null, product_id bigint default null,
                                                    "limit" integer default 1000)
returns jsonb
language plpgsql stable set search_path = '' as $$
declare
  account uuid := util.require_account();
begin
  perform util.require_range('limit', "limit", 1, 10000);
  return coalesce((
    select pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object('store_id', i.store_id, 'product_id', i.product_id, 'date', i.date,
             'on_hand_qty', i.on_hand_qty, 'on_order_qty', i.on_order_qty, 'is_stockout', i.is_stockout)
           order by i.store_id, i.product_id)
      from (select distinct on (v.store_id, v.product_id) v.*
              from forecast.inventory_snapshot_daily v
             where v.account_id = account and (get_inventory_status.store_id is null or v.store_id = get_inventory_status.store_id)
               and (get_inventory_status.product_id is null or v.product_id = get_inventory_status.product_id)
             order by v.store_id, v.product_id, v.date desc
             limit "limit") i), '[]');
end $$;
comment on function api.get_inventory_status(bigint, bigint, integer) is
  'The latest inventory snapshot per store and product (optional filters); [] when there is none.';

grant execute on function forecast.validate_date_range(date, date), forecast.daily_sales(uuid, date, date, bigint, bigint, text),
  forecast.money(numeric) to authenticated, service_role;
grant execute on function api.get_kpis(date, date, bigint, bigint, text), api.get_drilldowns(text, date, date, integer),
  api.get_timeseries(date, date, text, bigint, bigint), api.get_inventory_status(bigint, bigint, integer) to authenticated, service_role;
