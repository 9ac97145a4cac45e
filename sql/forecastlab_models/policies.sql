-- requires: core/auth.sql
-- ForecastLab models' row-level security: members read their account's artifacts, runs and
-- aliases; admins (and the service role) write them. Nobody updates or deletes an artifact, and
-- runs are never deleted: no policy allows it.

-- Jobs: members read their account's jobs and submit jobs as themselves (the claims a job runs
-- with are the submitter's own, so nobody can queue work as someone else; train needs admin). A
-- pending job is cancelled by its submitter or an admin. The worker (`authenticator`, the
-- gateway's login, which may act as any role anyway) claims and finishes any account's job.
drop policy if exists "Members read their account's jobs" on forecast_models.jobs;
create policy "Members read their account's jobs" on forecast_models.jobs for select to authenticated, service_role
  using (account_id = (select auth.account_id()));
drop policy if exists "Members submit jobs as themselves" on forecast_models.jobs;
create policy "Members submit jobs as themselves" on forecast_models.jobs for insert to authenticated, service_role
  with check (account_id = (select auth.account_id()) and submitted_role = current_user and submitted_claims = (select auth.jwt())
              and submitted_by is not distinct from (select auth.uid())
              and status = 'pending' and attempts = 0 and lease_token is null and result is null
              and (job_type <> 'train' or (select auth.has_app_role('admin'))));
drop policy if exists "Submitters and admins cancel pending jobs" on forecast_models.jobs;
create policy "Submitters and admins cancel pending jobs" on forecast_models.jobs for update to authenticated, service_role
  using (account_id = (select auth.account_id()) and status = 'pending'
         and (submitted_by = (select auth.uid()) or (select auth.has_app_role('admin'))))
  with check (account_id = (select auth.account_id()) and status = 'cancelled');
drop policy if exists "The worker runs every account's jobs" on forecast_models.jobs;
create policy "The worker runs every account's jobs" on forecast_models.jobs for all to authenticator
  using (true) with check (true);

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

-- Scenario plans (scenarios.sql): every member of the account reads, saves and deletes the
-- account's plans, as upstream lets any caller (a plan is a what-if note, not a model or a
-- registry record); nobody updates one (no policy, no grant). Another account's plans are neither
-- seen nor deleted, and no plan can be written into another account.
drop policy if exists "Members read their account's scenario plans" on forecast_models.scenario_plans;
create policy "Members read their account's scenario plans" on forecast_models.scenario_plans for select to authenticated, service_role
  using (account_id = (select auth.account_id()));
drop policy if exists "Members save scenario plans in their account" on forecast_models.scenario_plans;
create policy "Members save scenario plans in their account" on forecast_models.scenario_plans for insert to authenticated, service_role
  with check (account_id = (select auth.account_id()));
drop policy if exists "Members delete their account's scenario plans" on forecast_models.scenario_plans;
create policy "Members delete their account's scenario plans" on forecast_models.scenario_plans for delete to authenticated, service_role
  using (account_id = (select auth.account_id()));
