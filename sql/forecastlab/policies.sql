-- requires: core/auth.sql
-- ForecastLab row-level security, for every table of the schema with an account_id (so a new
-- table gets the same rules): any member of the account reads; admins and the service role
-- write; the rollups (sales_by_day, sales_by_store_day, sales_by_product_day) are written only by their
-- triggers (as forecast_system).
do $$
declare
  t text;
  rollup boolean;
begin
  for t in
    select c.relname from pg_class c
     where c.relnamespace = 'forecast'::regnamespace and c.relkind = 'r'
       and exists (select from pg_attribute a where a.attrelid = c.oid and a.attname = 'account_id' and not a.attisdropped)
  loop
    rollup := t like 'sales\_by\_%';
    execute format('drop policy if exists "Members read their account''s data" on forecast.%I', t);
    execute format('create policy "Members read their account''s data" on forecast.%I for select to authenticated, service_role
                      using (account_id = (select auth.account_id()))', t);
    execute format('drop policy if exists "Admins write their account''s data" on forecast.%I', t);
    execute format('drop policy if exists "Rollup triggers keep every account''s rollups" on forecast.%I', t);
    if rollup then
      execute format('create policy "Rollup triggers keep every account''s rollups" on forecast.%I for all to forecast_system
                        using (true) with check (true)', t);
    else
      execute format('create policy "Admins write their account''s data" on forecast.%I for all to authenticated, service_role
                        using (account_id = (select auth.account_id()) and (select auth.has_app_role(''admin'')))
                        with check (account_id = (select auth.account_id()) and (select auth.has_app_role(''admin'')))', t);
    end if;
  end loop;
end $$;

drop policy if exists "Everyone reads the calendar" on forecast.calendar;
create policy "Everyone reads the calendar" on forecast.calendar for select to authenticated, service_role, forecast_system using (true);
