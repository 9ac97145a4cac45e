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
begin
  execute pg_catalog.format($q$
    insert into forecast.sales_by_store_day as r (account_id, store_id, date, revenue, units, transactions)
    select d.account_id, d.store_id, d.date, sum(d.revenue), sum(d.units), sum(d.transactions)
      from (%s) d group by d.account_id, d.store_id, d.date
    on conflict (account_id, date, store_id) do update
      set revenue = r.revenue + excluded.revenue, units = r.units + excluded.units, transactions = r.transactions + excluded.transactions
    $q$, delta);
  execute pg_catalog.format($q$
    insert into forecast.sales_by_product_day as r (account_id, product_id, date, revenue, units, transactions)
    select d.account_id, d.product_id, d.date, sum(d.revenue), sum(d.units), sum(d.transactions)
      from (%s) d group by d.account_id, d.product_id, d.date
    on conflict (account_id, date, product_id) do update
      set revenue = r.revenue + excluded.revenue, units = r.units + excluded.units, transactions = r.transactions + excluded.transactions
    $q$, delta);
  execute pg_catalog.format($q$
    insert into forecast.sales_by_day as r (account_id, date, revenue, units, transactions)
    select d.account_id, d.date, sum(d.revenue), sum(d.units), sum(d.transactions)
      from (%s) d group by d.account_id, d.date
    on conflict (account_id, date) do update
      set revenue = r.revenue + excluded.revenue, units = r.units + excluded.units, transactions = r.transactions + excluded.transactions
    $q$, delta);
  if tg_op = 'DELETE' then
    delete from forecast.sales_by_day r using old_rows o
     where r.account_id = o.account_id and r.date = o.date and r.transactions = 0;
    delete from forecast.sales_by_store_day r using old_rows o
     where r.account_id = o.account_id and r.date = o.date and r.store_id = o.store_id and r.transactions = 0;
    delete from forecast.sales_by_product_day r using old_rows o
     where r.account_id = o.account_id and r.date = o.date and r.product_id = o.product_id and r.transactions = 0;
  end if;
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
