-- ForecastLab sales rollups: per day, per store and day, per product and day, kept exact by statement
-- triggers on sales_daily from their transition tables (one statement per sales statement, however
-- many rows it wrote). They run as forecast_system, so members read the rollups but cannot write them.

create or replace function forecast.tg_sales_daily__rollup() returns trigger
language plpgsql volatile security definer set search_path = '' as $$
declare
  -- The change as signed rows: new rows count up, old rows (updated or deleted) count down. Only
  -- the transition tables of this event exist, hence the query text per event.
  -- Units and transactions are integers, whose sums accumulate in bigint (numeric's cost only for revenue).
  added constant text := 'select n.account_id, n.store_id, n.product_id, n.date, n.total_amount as revenue, n.quantity as units, 1 as transactions from new_rows n';
  removed constant text := 'select o.account_id, o.store_id, o.product_id, o.date, -o.total_amount as revenue, -o.quantity as units, -1 as transactions from old_rows o';
  delta text := case tg_op when 'INSERT' then added when 'DELETE' then removed else added || ' union all ' || removed end;
  grain record;
begin
  -- One pass over the change sums it per store and day and per product and day (grouping sets);
  -- the day's totals are the store grain's summed again. Each rollup then takes its rows in key
  -- order, and every statement writes the rollups in the same order, so two concurrent loaders
  -- touching the same days queue behind each other instead of deadlocking. The daily rollup also
  -- records when the account's sales last changed (the seeder status's last_updated).
  execute pg_catalog.format($q$
    with sums as materialized (
      select d.account_id, d.date, d.store_id, d.product_id, grouping(d.store_id, d.product_id) as grain,
             sum(d.revenue) as revenue, sum(d.units) as units, sum(d.transactions) as transactions
        from (%s) d
       group by grouping sets ((d.account_id, d.date, d.store_id), (d.account_id, d.date, d.product_id))
    ), by_day as (
      insert into forecast.sales_by_day as r (account_id, date, revenue, units, transactions)
      select s.account_id, s.date, sum(s.revenue), sum(s.units), sum(s.transactions) from sums s where s.grain = 1
       group by s.account_id, s.date order by s.account_id, s.date
      on conflict (account_id, date) do update
        set revenue = r.revenue + excluded.revenue, units = r.units + excluded.units, transactions = r.transactions + excluded.transactions,
            updated_at = now()
    ), by_store as (
      insert into forecast.sales_by_store_day as r (account_id, date, store_id, revenue, units, transactions)
      select s.account_id, s.date, s.store_id, s.revenue, s.units, s.transactions from sums s where s.grain = 1
       order by s.account_id, s.date, s.store_id
      on conflict (account_id, date, store_id) do update
        set revenue = r.revenue + excluded.revenue, units = r.units + excluded.units, transactions = r.transactions + excluded.transactions
    )
    insert into forecast.sales_by_product_day as r (account_id, date, product_id, revenue, units, transactions)
    select s.account_id, s.date, s.product_id, s.revenue, s.units, s.transactions from sums s where s.grain = 2
     order by s.account_id, s.date, s.product_id
    on conflict (account_id, date, product_id) do update
      set revenue = r.revenue + excluded.revenue, units = r.units + excluded.units, transactions = r.transactions + excluded.transactions
    $q$, delta);
  -- A rollup row whose sales are all gone is dropped rather than left at zero.
  if tg_op = 'DELETE' then
    for grain in select * from (values ('sales_by_day', ''), ('sales_by_store_day', ', store_id'),
                                       ('sales_by_product_day', ', product_id')) g(rollup, keys) loop
      execute pg_catalog.format('delete from forecast.%I r where r.transactions = 0
                                   and (r.account_id, r.date%s) in (select account_id, date%s from old_rows)',
                                grain.rollup, pg_catalog.replace(grain.keys, ', ', ', r.'), grain.keys);
    end loop;
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
