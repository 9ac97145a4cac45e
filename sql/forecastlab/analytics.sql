-- requires: forecastlab/dimensions.sql
-- requires: forecastlab/rollups.sql
-- ForecastLab analytics (forecastlab-contract-details.md §6). They read the rollups kept by the
-- sales_daily triggers (a row per day, per store and day, per product and day), so a year over 18
-- million sales rows sums a few tens of thousands of rows; a filter that crosses the two (a store's
-- products, a product's stores) reads the sales rows by primary key (store_id, product_id, date).
-- Money is a decimal string with two decimals ("42.00"), as the contract prints decimals.

-- Both dates given, start <= end, at most 730 days apart (the spec's validate_date_range): a
-- missing date is a 422 (a required parameter), the other two a 400 with the spec's messages.
create or replace function forecast.validate_date_range(start_date date, end_date date) returns void
language plpgsql immutable set search_path = '' as $$
begin
  if start_date is null then
    perform forecast.invalid('start_date', 'Field required', 'missing');
  elsif end_date is null then
    perform forecast.invalid('end_date', 'Field required', 'missing');
  elsif end_date < start_date then
    raise exception 'end_date (%) must be >= start_date (%)', end_date, start_date using errcode = 'PT400';
  elsif end_date - start_date > 730 then
    raise exception 'Date range (% days) exceeds maximum allowed (730 days)', end_date - start_date using errcode = 'PT400';
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

-- Sales by store or by product (and day) in the range, for a drilldown: `by` is 'store' (store_id
-- filled), 'product' (product_id filled) or 'day' (neither). From the store or product rollup when
-- the other filter is absent, else from the sales rows by primary key: a product's sales in each of
-- the account's stores, or one store's sales of every product.
create or replace function forecast.sales_cells(account uuid, start_date date, end_date date, store bigint, product bigint, by text)
returns table (store_id bigint, product_id bigint, date date, revenue numeric, units bigint, transactions bigint)
language plpgsql stable set search_path = '' as $$
begin
  if by = 'day' then
    return query select null::bigint, null::bigint, d.date, d.revenue, d.units, d.transactions
                   from forecast.daily_sales(account, start_date, end_date, store, product, null) d;
  elsif by = 'store' and product is null then
    return query select r.store_id, null::bigint, r.date, r.revenue, r.units, r.transactions from forecast.sales_by_store_day r
                  where r.account_id = account and r.date between start_date and end_date and (store is null or r.store_id = store);
  elsif by = 'product' and store is null then
    return query select null::bigint, r.product_id, r.date, r.revenue, r.units, r.transactions from forecast.sales_by_product_day r
                  where r.account_id = account and r.date between start_date and end_date and (product is null or r.product_id = product);
  else
    return query select s.store_id, s.product_id, s.date, s.total_amount, s.quantity::bigint, 1::bigint from forecast.sales_daily s
                  where s.store_id in (select st.id from forecast.stores st where st.account_id = account and (store is null or st.id = store))
                    and (product is null or s.product_id = product)
                    and s.account_id = account and s.date between start_date and end_date;
  end if;
end $$;

-- §6: {metrics, start_date, end_date, store_id, product_id, category}.
drop function if exists api.get_kpis(date, date, bigint, bigint, text);
create function api.get_kpis(start_date date, end_date date, store_id bigint default null, product_id bigint default null,
                             category text default null)
returns jsonb
language plpgsql stable set search_path = '' as $$
declare
  account uuid := util.require_account();
  result jsonb;
begin
  perform forecast.validate_date_range(start_date, end_date);
  select pg_catalog.jsonb_build_object(
      'metrics', forecast.metrics_json(sum(d.revenue), sum(d.units), sum(d.transactions)),
      'start_date', start_date, 'end_date', end_date,
      'store_id', get_kpis.store_id, 'product_id', get_kpis.product_id, 'category', get_kpis.category)
    into result
    from forecast.daily_sales(account, start_date, end_date, get_kpis.store_id, get_kpis.product_id, get_kpis.category) d;
  return result;
end $$;
comment on function api.get_kpis(date, date, bigint, bigint, text) is
  'KPI metrics (revenue, units, transactions = sales rows, average unit price and basket value) over a date range of at most 730 days; optional store, product or category.';

-- §6: {dimension, items: [{dimension_value, dimension_id, metrics, rank, revenue_share_pct}],
-- total_items, start_date, end_date, store_id, product_id}; items by revenue, largest first (rank 1).
drop function if exists api.get_drilldowns(text, date, date, integer);
drop function if exists api.get_drilldowns(text, date, date, bigint, bigint, integer);
create function api.get_drilldowns(dimension text, start_date date, end_date date, store_id bigint default null,
                                   product_id bigint default null, max_items integer default 20)
returns jsonb
language plpgsql stable set search_path = '' as $$
declare
  account uuid := util.require_account();
  result jsonb;
begin
  if dimension is null then
    perform forecast.invalid('dimension', 'Field required', 'missing');
  elsif dimension not in ('store', 'product', 'category', 'region', 'date') then
    perform forecast.invalid('dimension', 'Input should be ''store'', ''product'', ''category'', ''region'' or ''date''', 'literal_error');
  end if;
  perform forecast.validate_date_range(start_date, end_date);
  perform forecast.require_between('max_items', max_items, 1, 100);
  with grouped as (
    select case dimension when 'store' then st.store_code when 'region' then st.region when 'product' then p.sku
                          when 'category' then p.category else c.date::text end as value,
           case dimension when 'store' then c.store_id when 'product' then c.product_id end as id,
           sum(c.revenue) as revenue, sum(c.units) as units, sum(c.transactions) as transactions
      from forecast.sales_cells(account, start_date, end_date, get_drilldowns.store_id, get_drilldowns.product_id,
                                case when dimension in ('store', 'region') then 'store' when dimension in ('product', 'category') then 'product' else 'day' end) c
      left join forecast.stores st on st.id = c.store_id
      left join forecast.products p on p.id = c.product_id
     group by 1, 2
  ), ranked as (
    select g.*, pg_catalog.row_number() over (order by g.revenue desc, g.value) as rank, sum(g.revenue) over () as all_revenue
      from grouped g
  )
  select pg_catalog.jsonb_build_object(
           'dimension', dimension,
           'items', coalesce(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
                      'dimension_value', r.value, 'dimension_id', r.id,
                      'metrics', forecast.metrics_json(r.revenue, r.units, r.transactions), 'rank', r.rank,
                      'revenue_share_pct', forecast.money_text(coalesce(r.revenue * 100 / nullif(r.all_revenue, 0), 0)))
                    order by r.rank) filter (where r.rank <= max_items), '[]'),
           'total_items', pg_catalog.count(r.*),
           'start_date', start_date, 'end_date', end_date,
           'store_id', get_drilldowns.store_id, 'product_id', get_drilldowns.product_id)
    into result from ranked r;
  return result;
end $$;
comment on function api.get_drilldowns(text, date, date, bigint, bigint, integer) is
  'Sales grouped by store, product, category, region or date, largest revenue first (rank 1), with each group''s share of revenue in percent; max_items 1-100 (default 20) of total_items.';

-- §6: {granularity, points: [{period, metrics}], total_points, start_date, end_date, store_id,
-- product_id, category}. Every period of the range is present (zero metrics where nothing sold),
-- so a chart has no gaps; a period is named by its first day (weeks start on Monday).
drop function if exists api.get_timeseries(date, date, text, bigint, bigint);
drop function if exists api.get_timeseries(date, date, text, bigint, bigint, text);
create function api.get_timeseries(start_date date, end_date date, granularity text default 'day',
                                   store_id bigint default null, product_id bigint default null, category text default null)
returns jsonb
language plpgsql stable set search_path = '' as $$
declare
  account uuid := util.require_account();
  step interval := case granularity when 'day' then interval '1 day' when 'week' then interval '1 week'
                                    when 'month' then interval '1 month' when 'quarter' then interval '3 months' end;
  points jsonb;
  total integer;
begin
  if step is null then
    perform forecast.invalid('granularity', 'Input should be ''day'', ''week'', ''month'' or ''quarter''', 'literal_error');
  end if;
  perform forecast.validate_date_range(start_date, end_date);
  select coalesce(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
           'period', b.period::date, 'metrics', forecast.metrics_json(t.revenue, t.units, t.transactions)) order by b.period), '[]'),
         pg_catalog.count(*)
    into points, total
    from pg_catalog.generate_series(pg_catalog.date_trunc(granularity, start_date::timestamp), end_date::timestamp, step) as b(period)
    left join (select pg_catalog.date_trunc(granularity, d.date::timestamp) as period, sum(d.revenue) as revenue,
                      sum(d.units) as units, sum(d.transactions) as transactions
                 from forecast.daily_sales(account, start_date, end_date, get_timeseries.store_id, get_timeseries.product_id,
                                           get_timeseries.category) d
                group by 1) t on t.period = b.period;
  return pg_catalog.jsonb_build_object('granularity', granularity, 'points', points, 'total_points', total,
    'start_date', start_date, 'end_date', end_date,
    'store_id', get_timeseries.store_id, 'product_id', get_timeseries.product_id, 'category', get_timeseries.category);
end $$;
comment on function api.get_timeseries(date, date, text, bigint, bigint, text) is
  'KPI metrics per day, week (from Monday), month or quarter, every period present (zeros included); optional store, product or category.';

-- §6: the newest snapshot of each (store, product), DISTINCT ON over the snapshot index, as
-- {items, total_items, store_id, product_id}; `limit` (an addition) caps the items, never total_items.
drop function if exists api.get_inventory_status(bigint, bigint, integer);
create function api.get_inventory_status(store_id bigint default null, product_id bigint default null, "limit" integer default 1000)
returns jsonb
language plpgsql stable set search_path = '' as $$
declare
  account uuid := util.require_account();
  result jsonb;
begin
  perform forecast.require_between('limit', "limit", 1, 10000);
  select pg_catalog.jsonb_build_object(
           'items', coalesce(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object('store_id', i.store_id, 'product_id', i.product_id,
                      'date', i.date, 'on_hand_qty', i.on_hand_qty, 'on_order_qty', i.on_order_qty, 'is_stockout', i.is_stockout)
                    order by i.store_id, i.product_id) filter (where i.n <= "limit"), '[]'),
           'total_items', pg_catalog.count(*),
           'store_id', get_inventory_status.store_id, 'product_id', get_inventory_status.product_id)
    into result
    from (select l.*, pg_catalog.row_number() over (order by l.store_id, l.product_id) as n
            from (select distinct on (v.store_id, v.product_id) v.*
                    from forecast.inventory_snapshot_daily v
                   where v.account_id = account and (get_inventory_status.store_id is null or v.store_id = get_inventory_status.store_id)
                     and (get_inventory_status.product_id is null or v.product_id = get_inventory_status.product_id)
                   order by v.store_id, v.product_id, v.date desc) l) i;
  return result;
end $$;
comment on function api.get_inventory_status(bigint, bigint, integer) is
  'The latest inventory snapshot per store and product (optional filters) and how many there are; items empty (never a 404) when there is none.';

drop function if exists forecast.money(numeric);
grant execute on function forecast.validate_date_range(date, date), forecast.daily_sales(uuid, date, date, bigint, bigint, text),
  forecast.sales_cells(uuid, date, date, bigint, bigint, text) to authenticated, service_role;
grant execute on function api.get_kpis(date, date, bigint, bigint, text), api.get_drilldowns(text, date, date, bigint, bigint, integer),
  api.get_timeseries(date, date, text, bigint, bigint, text), api.get_inventory_status(bigint, bigint, integer) to authenticated, service_role;
