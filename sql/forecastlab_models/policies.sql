-- requires: core/auth.sql
-- ForecastLab models' row-level security: members read their account's artifacts, runs and
-- aliases; admins (and the service role) write them. Nobody updates or deletes an artifact, and
-- runs are never deleted: no policy allows it.

drop policy if exists "Members read their account's artifacts" on forecast_models.artifacts;
create policy "Members read their account's artifacts" on forecast_models.artifacts for select to authenticated, service_role
  using (account_id = (select auth.account_id()));
drop policy if exists "Admins add their account's artifacts" on forecast_models.artifacts;
create policy "Admins add their account's artifacts" on forecast_models.artifacts for insert to authenticated, service_role
  with check (account_id = (select auth.account_id()) and (select auth.has_app_role('admin')));

drop policy if exists "Members read their account's runs" on forecast_models.runs;
create policy "Members read their account's runs" on forecast_models.runs for select to authenticated, service_role
  using (account_id = (select auth.account_id()));
drop policy if exists "Admins add their account's runs" on forecast_models.runs;
create policy "Admins add their account's runs" on forecast_models.runs for insert to authenticated, service_role
  with check (account_id = (select auth.account_id()) and (select auth.has_app_role('admin')));
drop policy if exists "Admins update their account's runs" on forecast_models.runs;
create policy "Admins update their account's runs" on forecast_models.runs for update to authenticated, service_role
  using (account_id = (select auth.account_id()) and (select auth.has_app_role('admin')))
  with check (account_id = (select auth.account_id()) and (select auth.has_app_role('admin')));

drop policy if exists "Members read their account's aliases" on forecast_models.aliases;
create policy "Members read their account's aliases" on forecast_models.aliases for select to authenticated, service_role
  using (account_id = (select auth.account_id()));
drop policy if exists "Admins write their account's aliases" on forecast_models.aliases;
create policy "Admins write their account's aliases" on forecast_models.aliases for all to authenticated, service_role
  using (account_id = (select auth.account_id()) and (select auth.has_app_role('admin')))
  with check (account_id = (select auth.account_id()) and (select auth.has_app_role('admin'))
              and run_pk in (select r.id from forecast_models.runs r where r.account_id = (select auth.account_id())));
