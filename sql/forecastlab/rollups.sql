-- ForecastLab sales rollups: per day, per store and day, per product and day, kept exact by statement
-- triggers on sales_daily from their transition tables (one grouped upsert per statement, however
-- many rows it wrote). They run as forecast_system, so members read the rollups but cannot write them.

create or replace function forecast.tg_sales_daily__rollup() returns trigger
language plpgsql volatile security definer set search_path = '' as $$
declare
  -- The change as signed rows: new rows count up, old rows (updated or deleted) count down. Only
  -- the transition tables of this event exist, hence the query text per event.
  added constant text := 'select n.account_id, n.store_id, n.product_id, n.date, n.total_amount as revenue, n.quantity::bigint as units, 1::bigint as transactions from new_rows n';
  removed constant text := 'select o.account_id, o.store_id, o.product_id, o.date, -o.total_amount as revenue, -o.quantity::bigint as units, -1::bigint as transactions from old_rows o';
  delta text := case tg_op when 'INSERT' then added when 'DELETE' then removed else added || ' union all ' || removed end;
  grain record;
begin
  -- Each rollup: its table and the key columns after (account_id, date); identifiers are fixed here.
  -- Every statement takes the rollups in this order and their rows in key order, so two concurrent
  -- loaders touching the same days queue behind each other instead of deadlocking.
  for grain in select * from (values ('sales_by_day', ''), ('sales_by_store_day', ', store_id'),
                                     ('sales_by_product_day', ', product_id')) g(rollup, keys) loop
    execute pg_catalog.format($q$
      insert into forecast.%1$I as r (account_id, date%2$s, revenue, units, transactions)
      select account_id, date%2$s, sum(revenue), sum(units), sum(transactions)
        from (%3$s) d group by account_id, date%2$s order by account_id, date%2$s
      on conflict (account_id, date%2$s) do update
        set revenue = r.revenue + excluded.revenue, units = r.units + excluded.units, transactions = r.transactions + excluded.transactions
      $q$, grain.rollup, grain.keys, delta);
    -- A rollup row whose sales are all gone is dropped rather than left at zero.
    if tg_op = 'DELETE' then
      execute pg_catalog.format('delete from forecast.%I r where r.transactions = 0
                                   and (r.account_id, r.date%s) in (select account_id, date%s from old_rows)',
                                grain.rollup, pg_catalog.replace(grain.keys, ', ', ', r.'), grain.keys);
    end if;
  end loop;
  return null;
end $$;
alter function forecast.tg_sales_daily__rollup() owner to forecast_system;

drop trigger if exists tg_sales_daily__rollup_insert on forecast.sales_daily;
create trigger tg_sales_daily__rollup_insert after insert on forecast.sales_daily
  referencing new table as new_rows for each statement execute function forecast.tg_sales_daily__rollup();
drop trigger if exists tg_sales_daily__rollup_update on forecast.sales_daily;
create trigger tg_sales_daily__rollup_update after update on forecast.sales_daily
  referencing old table as old_rows new table as new_rows for each statement execute function forecast.tg_sales_daily__rollup();
drop trigger if exists tg_sales_daily__rollup_delete on forecast.sales_daily;
create trigger tg_sales_daily__rollup_delete after delete on forecast.sales_daily
  referencing old table as old_rows for each statement execute function forecast.tg_sales_daily__rollup();
