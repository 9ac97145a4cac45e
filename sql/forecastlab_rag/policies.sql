-- requires: core/auth.sql
-- ForecastLab knowledge base's row-level security: members read their account's sources and
-- chunks; admins (and the service role) index and delete them.

drop policy if exists "Members read their account's sources" on rag.sources;
create policy "Members read their account's sources" on rag.sources for select to authenticated, service_role
  using (account_id = (select auth.account_id()));
drop policy if exists "Admins write their account's sources" on rag.sources;
create policy "Admins write their account's sources" on rag.sources for all to authenticated, service_role
  using (account_id = (select auth.account_id()) and (select auth.has_app_role('admin')))
  with check (account_id = (select auth.account_id()) and (select auth.has_app_role('admin')));

drop policy if exists "Members read their account's chunks" on rag.chunks;
create policy "Members read their account's chunks" on rag.chunks for select to authenticated, service_role
  using (account_id = (select auth.account_id()));
drop policy if exists "Admins write their account's chunks" on rag.chunks;
create policy "Admins write their account's chunks" on rag.chunks for all to authenticated, service_role
  using (account_id = (select auth.account_id()) and (select auth.has_app_role('admin')))
  with check (account_id = (select auth.account_id()) and (select auth.has_app_role('admin'))
              and source_pk in (select s.id from rag.sources s where s.account_id = (select auth.account_id())));

-- The AI configuration is administrative: only the account's admins (and the service role) read
-- or change its overrides; members of other roles see no rows at all. (The API keys are in
-- rag_secrets.api_keys, which only ai_secrets may read: its owner functions check the same.)
drop policy if exists "Admins manage their account's AI settings" on rag.ai_settings;
create policy "Admins manage their account's AI settings" on rag.ai_settings for all to authenticated, service_role
  using (account_id = (select auth.account_id()) and (select auth.has_app_role('admin')))
  with check (account_id = (select auth.account_id()) and (select auth.has_app_role('admin')));

drop policy if exists "The secrets role manages the API keys" on rag_secrets.api_keys;
-- ai_secrets' functions pick the account themselves: the caller's (util.require_account()), or the
-- one the gateway names when it resolves a secret for an outbound request (no claims then).
create policy "The secrets role manages the API keys" on rag_secrets.api_keys for all to ai_secrets
  using (true) with check (true);
drop policy if exists "The secrets role reads the AI settings" on rag.ai_settings;
create policy "The secrets role reads the AI settings" on rag.ai_settings for select to ai_secrets using (true);
