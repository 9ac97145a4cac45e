-- requires: functions/forecastlab_rollups.sql
-- POST /ingest/sales-daily: a batch of daily sales by natural key (store_code, sku, date), upserted.
-- All or nothing: if any row is invalid or names an unknown store or product, nothing is written and
-- the 422 lists every rejected row. Idempotent: a row equal to what is stored is left alone (counted
-- `unchanged`), so the same batch twice changes nothing the second time. Within a batch the last row
-- for a key wins; the others are counted as `duplicates`.

create or replace function forecast.ingest_batch_limit() returns integer
language sql immutable set search_path = '' as $$
  select 10000
$$;

create or replace function api.ingest_sales_daily(records jsonb) returns jsonb
language plpgsql volatile set search_path = '' as $$
declare
  account uuid := util.require_account();
  received integer;
  rejected jsonb;
  rejected_count integer;
  duplicate_count integer;
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

  create temp table ingest_rows on commit drop as
  with raw as (
    select (r.n - 1)::integer as idx, r.value as v from pg_catalog.jsonb_array_elements(records) with ordinality as r(value, n)
  ), fields as (
    select idx, v ->> 'store_code' as store_code, v ->> 'sku' as sku, v ->> 'date' as date_text,
           v ->> 'quantity' as quantity_text, v ->> 'unit_price' as price_text, v ->> 'total_amount' as total_text,
           pg_catalog.jsonb_typeof(v) as kind
      from raw
  )
  select f.*, s.id as store_id, p.id as product_id,
         case
           when f.kind <> 'object' then 'not an object'
           when f.store_code is null or f.sku is null or f.date_text is null or f.quantity_text is null or f.price_text is null
             then 'store_code, sku, date, quantity and unit_price are required'
           when not forecast.is_iso_date(f.date_text) then 'date must be a day, YYYY-MM-DD'
           when f.quantity_text !~ '^\d{1,9}$' then 'quantity must be a whole number >= 0'
           when f.price_text !~ '^\d{1,8}(\.\d{1,2})?$' then 'unit_price must be a number >= 0 with at most 2 decimals'
           when f.total_text is not null and f.total_text !~ '^\d{1,10}(\.\d{1,2})?$' then 'total_amount must be a number >= 0 with at most 2 decimals'
           when s.id is null then pg_catalog.format('unknown store_code %s', f.store_code)
           when p.id is null then pg_catalog.format('unknown sku %s', f.sku)
         end as problem
    from fields f
    left join forecast.stores s on s.account_id = account and s.store_code = f.store_code
    left join forecast.products p on p.account_id = account and p.sku = f.sku;

  select pg_catalog.count(*) into rejected_count from ingest_rows where problem is not null;
  if rejected_count > 0 then
    select pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object('index', i.idx, 'store_code', i.store_code, 'sku', i.sku,
             'date', i.date_text, 'reason', i.problem) order by i.idx)
      into rejected
      from (select * from ingest_rows where problem is not null order by idx limit 1000) i;
    raise exception '% of % rows were rejected; nothing was written', rejected_count, received
      using errcode = 'PT422',
            detail = pg_catalog.jsonb_build_object('received', received, 'rejected', rejected_count, 'rows', rejected)::text,
            hint = 'fix or drop the rejected rows and send the batch again (at most the first 1000 are listed)';
  end if;

  -- The last row of the batch wins for each key.
  with latest as (
    select distinct on (i.store_id, i.product_id, i.date_text) i.*
      from ingest_rows i order by i.store_id, i.product_id, i.date_text, i.idx desc
  ), written as (
    insert into forecast.sales_daily as s (account_id, store_id, product_id, date, quantity, unit_price, total_amount)
    select account, l.store_id, l.product_id, l.date_text::date, l.quantity_text::integer, l.price_text::numeric,
           coalesce(l.total_text::numeric, pg_catalog.round(l.quantity_text::integer * l.price_text::numeric, 2))
      from latest l
    on conflict (store_id, product_id, date) do update
       set quantity = excluded.quantity, unit_price = excluded.unit_price, total_amount = excluded.total_amount
     where (s.quantity, s.unit_price, s.total_amount) is distinct from (excluded.quantity, excluded.unit_price, excluded.total_amount)
    returning (s.xmax = 0) as is_insert
  )
  select pg_catalog.count(*) filter (where is_insert), pg_catalog.count(*) filter (where not is_insert) into inserted, updated from written;
  duplicate_count := received - (select pg_catalog.count(distinct (i.store_id, i.product_id, i.date_text)) from ingest_rows i);
  drop table ingest_rows;
  return pg_catalog.jsonb_build_object('received', received, 'inserted', inserted, 'updated', updated,
    'unchanged', received - duplicate_count - inserted - updated, 'duplicates', duplicate_count, 'rejected', 0);
end $$;
comment on function api.ingest_sales_daily(jsonb) is
  'Upserts daily sales by (store_code, sku, date): all or nothing, idempotent, last row wins within a batch (admin or service role).';

-- YYYY-MM-DD naming a real day (no 2026-02-30), without casting: a failed cast would need an
-- exception block, a subtransaction per row. No SET clause, so it is inlined.
create or replace function forecast.is_iso_date(value text) returns boolean
language sql immutable parallel safe as $$
  select case when value ~ '^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$'
              then pg_catalog.substr(value, 9, 2)::integer <= pg_catalog.date_part('day',
                     pg_catalog.make_date(pg_catalog.substr(value, 1, 4)::integer, pg_catalog.substr(value, 6, 2)::integer, 1)
                     + interval '1 month - 1 day')
              else false end
$$;
drop function if exists forecast.try_date(text);

grant execute on function forecast.ingest_batch_limit(), forecast.is_iso_date(text) to authenticated, service_role;
grant execute on function api.ingest_sales_daily(jsonb) to authenticated, service_role;
