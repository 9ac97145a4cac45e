-- requires: forecastlab/rollups.sql
-- POST /ingest/sales-daily: a batch of daily sales by natural key (store_code, sku, date), upserted.
-- All or nothing: if any row is invalid or names an unknown store or product, nothing is written and
-- the 422 lists every rejected row. Idempotent: a row equal to what is stored is left alone (counted
-- `unchanged`), so the same batch twice changes nothing the second time. Within a batch the last row
-- for a key wins; the others are counted as `duplicates`.

create or replace function forecast.ingest_batch_limit() returns integer
language sql immutable set search_path = '' as $$
  select 10000
$$;

-- YYYY-MM-DD naming a real day (no 2026-02-30), without casting: a failed cast would need an
-- exception block, a subtransaction per row. No SET clause, so it is inlined.
create or replace function forecast.is_iso_date(value text) returns boolean
language sql immutable parallel safe as $$
  select case when value ~ '^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$' and pg_catalog.substr(value, 1, 4) <> '0000'
              then pg_catalog.substr(value, 9, 2)::integer <= pg_catalog.date_part('day',
                     pg_catalog.make_date(pg_catalog.substr(value, 1, 4)::integer, pg_catalog.substr(value, 6, 2)::integer, 1)
                     + interval '1 month - 1 day')
              else false end
$$;

create or replace function api.ingest_sales_daily(records jsonb) returns jsonb
language plpgsql volatile set search_path = '' set datestyle = 'ISO, YMD' as $$
declare
  account uuid := util.require_account();
  received integer;
  any_rejected boolean;
  distinct_rows integer;
  inserted integer;
  updated integer;
begin
  perform auth.require_app_role('admin');
  if records is null or pg_catalog.jsonb_typeof(records) <> 'array' then
    perform util.validation_error('records', 'must be an array of {store_code, sku, date, quantity, unit_price, total_amount?}');
  end if;
  received := pg_catalog.jsonb_array_length(records);
  if received > forecast.ingest_batch_limit() then
    raise exception 'a batch holds at most % rows; this one has %', forecast.ingest_batch_limit(), received
      using errcode = 'PT413', hint = 'split it into several batches';
  end if;

  -- The fast path: cast every value and compare it with its own text, which holds exactly the rules
  -- forecast.sales_row_problem spells out with patterns, at a fraction of their cost. If any row
  -- fails, or a value does not cast at all (class 22), nothing is written and the slow path names
  -- the rejected rows.
  begin
    with parsed as materialized (
      select r.n, s.id as store_id, p.id as product_id, f.*, f.date_text::date as day, f.quantity_text::integer as quantity,
             f.price_text::numeric as price, f.total_text::numeric as total
        from pg_catalog.jsonb_array_elements(records) with ordinality as r(v, n)
        cross join lateral (select r.v ->> 'store_code' as store_code, r.v ->> 'sku' as sku, r.v ->> 'date' as date_text,
                                   r.v ->> 'quantity' as quantity_text, r.v ->> 'unit_price' as price_text,
                                   r.v ->> 'total_amount' as total_text) f
        left join forecast.stores s on s.account_id = account and s.store_code = f.store_code
        left join forecast.products p on p.account_id = account and p.sku = f.sku
    ), checked as materialized (
      select x.*, coalesce(x.store_id is not null and x.product_id is not null and pg_catalog.length(x.date_text) = 10 and x.day::text = x.date_text
                  and x.quantity::text = x.quantity_text and x.quantity between 0 and 999999999
                  and x.price::text = x.price_text and x.price >= 0 and x.price < 100000000 and pg_catalog.scale(x.price) <= 2
                  and case when x.total_text is null then x.quantity * x.price < 10000000000
                           else x.total::text = x.total_text and x.total >= 0 and x.total < 10000000000 and pg_catalog.scale(x.total) <= 2 end,
                  false) as ok
        from parsed x
    ), rejected as (
      select from checked where not ok limit 1
    ), latest as (
      -- The last row of the batch wins for each key.
      select distinct on (c.store_id, c.product_id, c.day) c.*
        from checked c where not exists (select from rejected) order by c.store_id, c.product_id, c.day, c.n desc
    ), written as (
      insert into forecast.sales_daily as s (account_id, store_id, product_id, date, quantity, unit_price, total_amount)
      select account, l.store_id, l.product_id, l.day, l.quantity, l.price, coalesce(l.total, pg_catalog.round(l.quantity * l.price, 2))
        from latest l
      on conflict (store_id, product_id, date) do update
         set quantity = excluded.quantity, unit_price = excluded.unit_price, total_amount = excluded.total_amount
       where (s.quantity, s.unit_price, s.total_amount) is distinct from (excluded.quantity, excluded.unit_price, excluded.total_amount)
      returning (s.xmax = 0) as is_insert
    )
    select exists (select from rejected), (select pg_catalog.count(*) from latest),
           pg_catalog.count(*) filter (where w.is_insert), pg_catalog.count(*) filter (where not w.is_insert)
      into any_rejected, distinct_rows, inserted, updated
      from written w;
  exception when data_exception then
    perform forecast.reject_sales_rows(account, records);  -- raises PT422 naming the rows
    raise;  -- no row was at fault: the error stands as it is
  end;
  if any_rejected then
    perform forecast.reject_sales_rows(account, records);
    raise exception 'a row failed the ingest checks but no reason was found' using errcode = 'XX000';
  end if;
  return pg_catalog.jsonb_build_object('received', received, 'inserted', inserted, 'updated', updated,
    'unchanged', distinct_rows - inserted - updated, 'duplicates', received - distinct_rows, 'rejected', 0);
end $$;
comment on function api.ingest_sales_daily(jsonb) is
  'Upserts daily sales by (store_code, sku, date): all or nothing, idempotent, last row wins within a batch (admin or service role).';

-- Why a row cannot be ingested, or null. Patterns rather than casts, so no value can raise: this is
-- the authority the fast path's casts must agree with (the tests hold them to it).
create or replace function forecast.sales_row_problem(v jsonb, store_id bigint, product_id bigint) returns text
language sql stable parallel safe as $$  -- stable, as format() is: an immutable label would keep it from being inlined
  select case
    when pg_catalog.jsonb_typeof(v) <> 'object' then 'not an object'
    when v ->> 'store_code' is null or v ->> 'sku' is null or v ->> 'date' is null or v ->> 'quantity' is null or v ->> 'unit_price' is null
      then 'store_code, sku, date, quantity and unit_price are required'
    when not forecast.is_iso_date(v ->> 'date') then 'date must be a day, YYYY-MM-DD'
    when (v ->> 'quantity') !~ '^(0|[1-9]\d{0,8})$' then 'quantity must be a whole number >= 0'
    when (v ->> 'unit_price') !~ '^(0|[1-9]\d{0,7})(\.\d{1,2})?$' then 'unit_price must be a number >= 0 with at most 2 decimals'
    when (v ->> 'total_amount') !~ '^(0|[1-9]\d{0,9})(\.\d{1,2})?$' then 'total_amount must be a number >= 0 with at most 2 decimals'
    when v ->> 'total_amount' is null and (v ->> 'quantity')::numeric * (v ->> 'unit_price')::numeric >= 10000000000
      then 'quantity × unit_price must be under 10,000,000,000 (or give total_amount)'
    when store_id is null then pg_catalog.format('unknown store_code %s', v ->> 'store_code')
    when product_id is null then pg_catalog.format('unknown sku %s', v ->> 'sku')
  end
$$;

-- The slow path: raises PT422 listing every rejected row (the first 1000) with its reason, or
-- returns when there is none.
create or replace function forecast.reject_sales_rows(account uuid, records jsonb) returns void
language plpgsql stable set search_path = '' as $$
declare
  rejected_count integer;
  rejected jsonb;
begin
  with problems as materialized (
    select (r.n - 1)::integer as idx, r.v, forecast.sales_row_problem(r.v, s.id, p.id) as reason
      from pg_catalog.jsonb_array_elements(records) with ordinality as r(v, n)
      left join forecast.stores s on s.account_id = account and s.store_code = r.v ->> 'store_code'
      left join forecast.products p on p.account_id = account and p.sku = r.v ->> 'sku'
  )
  select (select pg_catalog.count(*) from problems where reason is not null),
         (select pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object('index', f.idx, 'store_code', f.v ->> 'store_code', 'sku', f.v ->> 'sku',
                   'date', f.v ->> 'date', 'reason', f.reason) order by f.idx)
            from (select * from problems where reason is not null order by idx limit 1000) f)
    into rejected_count, rejected;
  if rejected_count > 0 then
    raise exception '% of % rows were rejected; nothing was written', rejected_count, pg_catalog.jsonb_array_length(records)
      using errcode = 'PT422',
            detail = pg_catalog.jsonb_build_object('received', pg_catalog.jsonb_array_length(records), 'rejected', rejected_count,
                                                   'rows', rejected)::text,
            hint = 'fix or drop the rejected rows and send the batch again (at most the first 1000 are listed)';
  end if;
end $$;

drop function if exists forecast.try_date(text);

grant execute on function forecast.ingest_batch_limit(), forecast.is_iso_date(text), forecast.sales_row_problem(jsonb, bigint, bigint),
  forecast.reject_sales_rows(uuid, jsonb) to authenticated, service_role;
grant execute on function api.ingest_sales_daily(jsonb) to authenticated, service_role;
