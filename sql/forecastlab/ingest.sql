-- requires: forecastlab/common.sql
-- requires: forecastlab/rollups.sql
-- requires: forecastlab/references.sql
-- POST /ingest/sales-daily (forecastlab-contract-details.md §4): a batch of daily sales by natural
-- key (store_code, sku, date), upserted.
--
-- * A malformed batch (a missing field, a value of the wrong kind or out of bounds, no rows, more
--   than 10,000) is a 422 listing every problem as {field: "records.<i>.<name>", message, type}.
-- * A well-formed row whose store, product or date cannot be resolved is rejected with the
--   contract's code (UNKNOWN_STORE, UNKNOWN_PRODUCT, UNKNOWN_DATE, checked in that order) and the
--   other rows are written: 200 with the rejected rows in `errors`. With `all_or_nothing: true`
--   one rejected row writes nothing and answers 422 naming each.
-- * Idempotent: a row equal to what is stored is left alone (counted `unchanged`), so the same
--   batch twice writes nothing the second time. Within a batch the last row for a key wins.

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

-- What is wrong with one decimal field (unit_price, total_amount): at most 2 decimals, 0 or more,
-- under `bound`. Patterns, so nothing raises. Null when it is fine.
create or replace function forecast.decimal_problem(field text, value text, bound text) returns jsonb
language sql immutable parallel safe as $$
  select case
    when value !~ '^-?\d+(\.\d+)?$' then
      pg_catalog.jsonb_build_object('field', field, 'message', 'Input should be a valid decimal', 'type', 'decimal_parsing')
    when value ~ '^-' and value !~ '^-0+(\.0+)?$' then
      pg_catalog.jsonb_build_object('field', field, 'message', 'Input should be greater than or equal to 0', 'type', 'greater_than_equal')
    when value ~ '\.\d{3,}$' then
      pg_catalog.jsonb_build_object('field', field, 'message', 'Decimal input should have no more than 2 decimal places', 'type', 'decimal_max_places')
    when value !~ '^(0|[1-9]\d*)(\.\d{1,2})?$' then
      pg_catalog.jsonb_build_object('field', field, 'message', 'Input should be a valid decimal without leading zeros or signs', 'type', 'decimal_parsing')
    when pg_catalog.length(pg_catalog.split_part(value, '.', 1)) > pg_catalog.length(bound) - 1
         or pg_catalog.split_part(value, '.', 1)::numeric >= bound::numeric then
      pg_catalog.jsonb_build_object('field', field, 'message', pg_catalog.format('Input should be less than %s', bound), 'type', 'less_than')
  end
$$;

-- Every problem of one row, as [{field, message, type}] (empty when it is well-formed). Patterns
-- rather than casts, so no value can raise: this is the authority the fast path's casts must agree
-- with (the tests hold them to it on some 60 edge values).
create or replace function forecast.sales_row_problems(v jsonb, idx integer) returns jsonb
language sql immutable parallel safe as $$
  select case when pg_catalog.jsonb_typeof(v) <> 'object' then
    pg_catalog.jsonb_build_array(pg_catalog.jsonb_build_object('field', 'records.' || idx, 'message', 'Input should be a valid object', 'type', 'model_type'))
  else coalesce((select pg_catalog.jsonb_agg(p.problem order by p.position) from (values
    (1, case
      when v ->> 'date' is null then pg_catalog.jsonb_build_object('field', x.f || 'date', 'message', 'Field required', 'type', 'missing')
      when not forecast.is_iso_date(v ->> 'date') then
        pg_catalog.jsonb_build_object('field', x.f || 'date', 'message', 'Input should be a valid date in the format YYYY-MM-DD', 'type', 'date_parsing')
      end),
    (2, case
      when v ->> 'store_code' is null then pg_catalog.jsonb_build_object('field', x.f || 'store_code', 'message', 'Field required', 'type', 'missing')
      when pg_catalog.length(v ->> 'store_code') < 1 then
        pg_catalog.jsonb_build_object('field', x.f || 'store_code', 'message', 'String should have at least 1 character', 'type', 'string_too_short')
      when pg_catalog.length(v ->> 'store_code') > 20 then
        pg_catalog.jsonb_build_object('field', x.f || 'store_code', 'message', 'String should have at most 20 characters', 'type', 'string_too_long')
      end),
    (3, case
      when v ->> 'sku' is null then pg_catalog.jsonb_build_object('field', x.f || 'sku', 'message', 'Field required', 'type', 'missing')
      when pg_catalog.length(v ->> 'sku') < 1 then
        pg_catalog.jsonb_build_object('field', x.f || 'sku', 'message', 'String should have at least 1 character', 'type', 'string_too_short')
      when pg_catalog.length(v ->> 'sku') > 50 then
        pg_catalog.jsonb_build_object('field', x.f || 'sku', 'message', 'String should have at most 50 characters', 'type', 'string_too_long')
      end),
    (4, case
      when v ->> 'quantity' is null then pg_catalog.jsonb_build_object('field', x.f || 'quantity', 'message', 'Field required', 'type', 'missing')
      when (v ->> 'quantity') ~ '^-[1-9]\d*$' then
        pg_catalog.jsonb_build_object('field', x.f || 'quantity', 'message', 'Input should be greater than or equal to 0', 'type', 'greater_than_equal')
      when (v ->> 'quantity') !~ '^(0|[1-9]\d*)$' then
        pg_catalog.jsonb_build_object('field', x.f || 'quantity', 'message', 'Input should be a valid integer', 'type', 'int_parsing')
      when pg_catalog.length(v ->> 'quantity') > 9 then
        pg_catalog.jsonb_build_object('field', x.f || 'quantity', 'message', 'Input should be less than or equal to 999999999', 'type', 'less_than_equal')
      end),
    (5, case
      when v ->> 'unit_price' is null then pg_catalog.jsonb_build_object('field', x.f || 'unit_price', 'message', 'Field required', 'type', 'missing')
      else forecast.decimal_problem(x.f || 'unit_price', v ->> 'unit_price', '100000000') end),
    (6, case
      when v ->> 'total_amount' is not null then forecast.decimal_problem(x.f || 'total_amount', v ->> 'total_amount', '10000000000')
      when (v ->> 'quantity') ~ '^(0|[1-9]\d{0,8})$' and (v ->> 'unit_price') ~ '^(0|[1-9]\d{0,7})(\.\d{1,2})?$'
           and (v ->> 'quantity')::numeric * (v ->> 'unit_price')::numeric >= 10000000000 then
        pg_catalog.jsonb_build_object('field', x.f || 'total_amount',
          'message', 'Field required when quantity × unit_price reaches 10000000000', 'type', 'missing')
      end)
    ) p(position, problem) where p.problem is not null), '[]') end
  from (select 'records.' || idx || '.' as f) x
$$;

-- The slow path: raises the 422 listing every problem of the batch (the first 1,000), or returns
-- when there is none.
create or replace function forecast.reject_malformed_sales_rows(records jsonb) returns void
language plpgsql stable set search_path = '' as $$
declare
  problems jsonb;
  total integer;
begin
  select pg_catalog.jsonb_agg(x.problem order by x.n, x.k), pg_catalog.max(x.total)
    into problems, total
    from (select p.problem, r.n, p.k, pg_catalog.count(*) over () as total
            from pg_catalog.jsonb_array_elements(records) with ordinality as r(v, n)
            cross join lateral pg_catalog.jsonb_array_elements(forecast.sales_row_problems(r.v, (r.n - 1)::integer)) with ordinality as p(problem, k)
           order by r.n, p.k limit 1000) x;
  if problems is not null then
    perform forecast.invalid_all(pg_catalog.format('%s problem(s) in the batch; nothing was written', total), problems);
  end if;
end $$;

drop function if exists api.ingest_sales_daily(jsonb);
create or replace function api.ingest_sales_daily(records jsonb, all_or_nothing boolean default false) returns jsonb
language plpgsql volatile set search_path = '' set datestyle = 'ISO, YMD' as $$
declare
  account uuid := util.require_account();
  received integer;
  first_day date;
  last_day date;
  upsert_all boolean := false;
  any_malformed boolean;
  accepted integer;
  distinct_rows integer;
  fresh integer;
  inserted integer;
  updated integer;
  rejections jsonb;
begin
  perform auth.require_app_role('admin');
  if all_or_nothing is null then
    perform forecast.invalid('all_or_nothing', 'Input should be a valid boolean', 'bool_type');
  end if;
  if records is null or pg_catalog.jsonb_typeof(records) <> 'array' then
    perform forecast.invalid('records', 'Input should be a valid list', 'list_type');
  end if;
  received := pg_catalog.jsonb_array_length(records);
  if received = 0 then
    perform forecast.invalid('records', 'List should have at least 1 item after validation, not 0', 'too_short');
  elsif received > forecast.ingest_batch_limit() then
    perform forecast.invalid('records', pg_catalog.format('List should have at most %s items after validation, not %s',
                                                          forecast.ingest_batch_limit(), received), 'too_long');
  end if;
  -- The calendar is one unbroken run of days (migration 0009): a date is in it when it is within its ends.
  select pg_catalog.min(c.date), pg_catalog.max(c.date) into first_day, last_day from forecast.calendar c;

  -- One statement parses, checks, resolves and writes the batch. Each value is cast and compared
  -- with its own text, which holds exactly the rules forecast.sales_row_problems spells out with
  -- patterns, at a fraction of their cost; if a row is malformed, or a value does not cast at all
  -- (class 22), nothing is written and the slow path names every problem. Rows that may exist
  -- already go through ON CONFLICT; new rows are a plain INSERT, about a third cheaper. Should a
  -- concurrent batch insert one of those keys first (a unique violation), the statement is undone
  -- and run again with every row through ON CONFLICT.
  loop
    begin
      with parsed as materialized (
        select (r.n - 1)::integer as idx, r.store_code, r.sku, r.date_text, r.quantity_text, r.price_text, r.total_text,
               r.date_text::date as day, r.quantity_text::integer as quantity, r.price_text::numeric as price,
               coalesce(r.total_text::numeric, r.quantity_text::integer * r.price_text::numeric) as total
          from rows from (pg_catalog.jsonb_to_recordset(records)
                            as (store_code text, sku text, date text, quantity text, unit_price text, total_amount text))
               with ordinality as r(store_code, sku, date_text, quantity_text, price_text, total_text, n)
      ), checked as materialized (
        -- Without total_amount the total is quantity × unit_price, which has at most 2 decimals
        -- when the price has: it must fit total_amount's bound like a given one.
        select x.idx, x.store_code, x.sku, x.date_text, x.day, x.quantity, x.price, x.total, s.id as store_id, p.id as product_id,
               coalesce(pg_catalog.length(x.store_code) between 1 and 20 and pg_catalog.length(x.sku) between 1 and 50
                        and pg_catalog.length(x.date_text) = 10 and x.day::text = x.date_text
                        and x.quantity::text = x.quantity_text and x.quantity between 0 and 999999999
                        and x.price::text = x.price_text and x.price >= 0 and x.price < 100000000 and pg_catalog.scale(x.price) <= 2
                        and x.total < 10000000000
                        and (x.total_text is null or (x.total::text = x.total_text and x.total >= 0 and pg_catalog.scale(x.total) <= 2)),
                        false) as well_formed,
               case when s.id is null then 'UNKNOWN_STORE' when p.id is null then 'UNKNOWN_PRODUCT'
                    when not x.day between first_day and last_day then 'UNKNOWN_DATE' end as error_code
          from parsed x
          left join forecast.stores s on s.account_id = account and s.store_code = x.store_code
          left join forecast.products p on p.account_id = account and p.sku = x.sku
      ), verdict as materialized (
        select coalesce(pg_catalog.bool_or(not c.well_formed), false) as malformed,
               coalesce(pg_catalog.bool_or(c.well_formed and c.error_code is not null), false) as rejected,
               pg_catalog.min(c.day) filter (where c.well_formed) as batch_first, pg_catalog.max(c.day) filter (where c.well_formed) as batch_last
          from checked c
      ), latest as materialized (
        -- The last row of the batch wins for each key. A key can exist only if its product sold
        -- that day, which the product rollup says for the batch's days in one range read: rows of
        -- product-days with no sales yet (a loader's new days) are a plain INSERT, the others go
        -- through ON CONFLICT. Should the rollup ever disagree, the plain INSERT meets the key and
        -- the statement runs again with every row through ON CONFLICT.
        select distinct on (c.store_id, c.product_id, c.day) c.store_id, c.product_id, c.day, c.quantity, c.price, c.total,
               upsert_all or (c.product_id, c.day) in (select r.product_id, r.date from forecast.sales_by_product_day r, verdict v
                                                        where r.account_id = account and r.date between v.batch_first and v.batch_last) as present
          from checked c, verdict v
         where c.well_formed and c.error_code is null and not v.malformed and not (all_or_nothing and v.rejected)
         order by c.store_id, c.product_id, c.day, c.idx desc
      ), added as (
        insert into forecast.sales_daily (account_id, store_id, product_id, date, quantity, unit_price, total_amount)
        select account, l.store_id, l.product_id, l.day, l.quantity, l.price, l.total
          from latest l where not l.present order by l.store_id, l.product_id, l.day
        returning 1
      ), upserted as (
        insert into forecast.sales_daily as s (account_id, store_id, product_id, date, quantity, unit_price, total_amount)
        select account, l.store_id, l.product_id, l.day, l.quantity, l.price, l.total
          from latest l where l.present order by l.store_id, l.product_id, l.day
        on conflict (store_id, product_id, date) do update
           set quantity = excluded.quantity, unit_price = excluded.unit_price, total_amount = excluded.total_amount
         where (s.quantity, s.unit_price, s.total_amount) is distinct from (excluded.quantity, excluded.unit_price, excluded.total_amount)
        returning (s.xmax = 0) as is_insert
      )
      select v.malformed,
             (select pg_catalog.count(*) from checked c where c.well_formed and c.error_code is null),
             (select pg_catalog.count(*) from latest),
             (select pg_catalog.count(*) from added),
             (select pg_catalog.count(*) filter (where u.is_insert) from upserted u),
             (select pg_catalog.count(*) filter (where not u.is_insert) from upserted u),
             (select pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
                       'row_index', c.idx, 'store_code', c.store_code, 'sku', c.sku, 'date', c.date_text, 'error_code', c.error_code,
                       'error_message', case c.error_code
                         when 'UNKNOWN_STORE' then pg_catalog.format('Store code %s not found', c.store_code)
                         when 'UNKNOWN_PRODUCT' then pg_catalog.format('SKU %s not found', c.sku)
                         else pg_catalog.format('Date %s is not in the calendar (%s to %s)', c.date_text, first_day, last_day) end)
                     order by c.idx)
                from checked c where v.rejected and c.well_formed and c.error_code is not null)
        into any_malformed, accepted, distinct_rows, fresh, inserted, updated, rejections
        from verdict v;
      exit;
    exception
      when data_exception then
        perform forecast.reject_malformed_sales_rows(records);  -- raises the 422 naming the problems
        raise;  -- no row was at fault: the error stands as it is
      when unique_violation then
        if upsert_all then
          raise;
        end if;
        upsert_all := true;  -- a concurrent batch wrote one of the new keys first: once more, all through ON CONFLICT
    end;
  end loop;

  if any_malformed then
    perform forecast.reject_malformed_sales_rows(records);
    raise exception 'a row failed the ingest checks but no problem was found' using errcode = 'XX000';
  end if;
  if all_or_nothing and rejections is not null then
    perform forecast.invalid_all(pg_catalog.format('%s of %s rows name an unknown store, product or date; nothing was written',
                                                   pg_catalog.jsonb_array_length(rejections), received),
      (select pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
                'field', pg_catalog.format('records.%s.%s', e ->> 'row_index',
                                           case e ->> 'error_code' when 'UNKNOWN_STORE' then 'store_code' when 'UNKNOWN_PRODUCT' then 'sku' else 'date' end),
                'message', e ->> 'error_message', 'type', pg_catalog.lower(e ->> 'error_code')) order by n)
         from pg_catalog.jsonb_array_elements(rejections) with ordinality as r(e, n)));
  end if;
  inserted := inserted + fresh;
  return pg_catalog.jsonb_build_object(
    'processed_count', accepted, 'rejected_count', received - accepted, 'total_received', received,
    'errors', coalesce(rejections, '[]'),
    'duration_ms', pg_catalog.round((extract(epoch from pg_catalog.clock_timestamp() - pg_catalog.now()) * 1000)::numeric, 2),
    'inserted', inserted, 'updated', updated, 'unchanged', distinct_rows - inserted - updated, 'duplicates', accepted - distinct_rows);
end $$;
comment on function api.ingest_sales_daily(jsonb, boolean) is
  'Upserts daily sales by (store_code, sku, date), at most 10,000 rows: rows naming an unknown store, product or date are rejected and the rest written (or nothing, with all_or_nothing); idempotent; the last row for a key wins (admin or service role).';

drop function if exists forecast.sales_row_problem(jsonb, bigint, bigint);
drop function if exists forecast.reject_sales_rows(uuid, jsonb);
drop function if exists forecast.try_date(text);

grant execute on function forecast.ingest_batch_limit(), forecast.is_iso_date(text), forecast.decimal_problem(text, text, text),
  forecast.sales_row_problems(jsonb, integer), forecast.reject_malformed_sales_rows(jsonb) to authenticated, service_role;
grant execute on function api.ingest_sales_daily(jsonb, boolean) to authenticated, service_role;
