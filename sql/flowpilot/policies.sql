-- requires: core/auth.sql
-- FlowPilot row-level security. Every rule starts with the caller's account; within it, what a
-- member may do depends on the application role (viewer < engineer < admin). The service role
-- acts for its account; flowpilot_system (login, tokens, derived columns) sees every account.
do $$
declare
  t text;
begin
  for t in select c.relname from pg_class c where c.relnamespace = 'flowpilot'::regnamespace and c.relkind = 'r' loop
    execute format('drop policy if exists "The system role manages every account" on flowpilot.%I', t);
    execute format('create policy "The system role manages every account" on flowpilot.%I for all to flowpilot_system
                      using (true) with check (true)', t);
  end loop;
  foreach t in array array['trees', 'sessions', 'ai_session_steps', 'session_handoffs', 'escalation_snapshots'] loop
    execute format('drop policy if exists "The service role acts for its account" on flowpilot.%I', t);
    execute format('create policy "The service role acts for its account" on flowpilot.%I for all to service_role
                      using (account_id = (select auth.account_id())) with check (account_id = (select auth.account_id()))', t);
  end loop;
end $$;

drop policy if exists "Members read their account" on flowpilot.accounts;
create policy "Members read their account" on flowpilot.accounts for select to authenticated, service_role
  using (id = (select auth.account_id()));

drop policy if exists "Members read their account's users" on flowpilot.users;
create policy "Members read their account's users" on flowpilot.users for select to authenticated, service_role
  using (account_id = (select auth.account_id()));
drop policy if exists "Admins change their account's users" on flowpilot.users;
create policy "Admins change their account's users" on flowpilot.users for update to authenticated
  using (account_id = (select auth.account_id()) and (select auth.has_app_role('admin')))
  with check (account_id = (select auth.account_id()));

drop policy if exists "Members read their account's trees" on flowpilot.trees;
create policy "Members read their account's trees" on flowpilot.trees for select to authenticated
  using (account_id = (select auth.account_id()));
drop policy if exists "Engineers write their account's trees" on flowpilot.trees;
create policy "Engineers write their account's trees" on flowpilot.trees for insert to authenticated
  with check (account_id = (select auth.account_id()) and (select auth.has_app_role('engineer', 'admin')));
drop policy if exists "Engineers edit their account's trees" on flowpilot.trees;
create policy "Engineers edit their account's trees" on flowpilot.trees for update to authenticated
  using (account_id = (select auth.account_id()) and (select auth.has_app_role('engineer', 'admin')))
  with check (account_id = (select auth.account_id()));
drop policy if exists "Admins delete their account's trees" on flowpilot.trees;
create policy "Admins delete their account's trees" on flowpilot.trees for delete to authenticated
  using (account_id = (select auth.account_id()) and (select auth.has_app_role('admin')));

drop policy if exists "Users read their sessions, engineers their account's" on flowpilot.sessions;
create policy "Users read their sessions, engineers their account's" on flowpilot.sessions for select to authenticated
  using (account_id = (select auth.account_id())
         and (user_id = (select auth.uid()) or (select auth.has_app_role('engineer', 'admin'))));
drop policy if exists "Users start their own sessions" on flowpilot.sessions;
create policy "Users start their own sessions" on flowpilot.sessions for insert to authenticated
  with check (account_id = (select auth.account_id()) and user_id = (select auth.uid()));
drop policy if exists "Users walk their own sessions" on flowpilot.sessions;
create policy "Users walk their own sessions" on flowpilot.sessions for update to authenticated
  using (account_id = (select auth.account_id()) and user_id = (select auth.uid()))
  with check (account_id = (select auth.account_id()) and user_id = (select auth.uid()));

-- Steps and handoffs follow their session: whoever may read the session may read and add to them.
drop policy if exists "Steps are seen with their session" on flowpilot.ai_session_steps;
create policy "Steps are seen with their session" on flowpilot.ai_session_steps for select to authenticated
  using (account_id = (select auth.account_id())
         and ((select auth.has_app_role('engineer', 'admin'))
              or exists (select from flowpilot.sessions s where s.id = session_id and s.user_id = (select auth.uid()))));
drop policy if exists "Steps are added to visible sessions" on flowpilot.ai_session_steps;
create policy "Steps are added to visible sessions" on flowpilot.ai_session_steps for insert to authenticated
  with check (account_id = (select auth.account_id())
              and exists (select from flowpilot.sessions s where s.id = session_id and s.account_id = (select auth.account_id())));

drop policy if exists "Handoffs are seen with their session" on flowpilot.session_handoffs;
create policy "Handoffs are seen with their session" on flowpilot.session_handoffs for select to authenticated
  using (account_id = (select auth.account_id())
         and ((select auth.has_app_role('engineer', 'admin'))
              or exists (select from flowpilot.sessions s where s.id = session_id and s.user_id = (select auth.uid()))));
drop policy if exists "Handoffs are raised on visible sessions" on flowpilot.session_handoffs;
create policy "Handoffs are raised on visible sessions" on flowpilot.session_handoffs for insert to authenticated
  with check (account_id = (select auth.account_id())
              and exists (select from flowpilot.sessions s where s.id = session_id and s.account_id = (select auth.account_id())));
drop policy if exists "Engineers claim their account's handoffs" on flowpilot.session_handoffs;
create policy "Engineers claim their account's handoffs" on flowpilot.session_handoffs for update to authenticated
  using (account_id = (select auth.account_id()) and (select auth.has_app_role('engineer', 'admin')))
  with check (account_id = (select auth.account_id()));

drop policy if exists "Engineers read their account's escalation snapshots" on flowpilot.escalation_snapshots;
create policy "Engineers read their account's escalation snapshots" on flowpilot.escalation_snapshots for select to authenticated
  using (account_id = (select auth.account_id()) and (select auth.has_app_role('engineer', 'admin')));
