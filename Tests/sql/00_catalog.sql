-- Catalog rules every migration must keep. Each check first proves it catches a planted violation.
begin;
select plan(10);

-- The reviewed list of SECURITY DEFINER functions. Adding one means a row here, in review.
create temp table allowed_security_definer (fn text);
insert into allowed_security_definer values
  -- Hot Dash: owned by hotdash_rollup; refresh the rollups, or read them filtered by the caller's account.
  ('hotdash.refresh_rollups(boolean)'), ('api.get_dashboard_summary()'), ('api.get_hourly_trends(integer)'),
  ('api.get_active_anomalies()'), ('api.get_approval_queue_metrics(text,integer)'), ('api.get_agent_accuracy_metrics(integer,text)'),
  ('api.get_training_quality_metrics(integer)'), ('api.get_agent_performance_summary()'),
  -- FlowPilot: owned by flowpilot_system; act before login (register, login, refresh), on secrets members
  -- cannot read (refresh tokens, invitations), or on columns members cannot write (first_action_at).
  ('api.create_account(text,text,text,text)'), ('api.create_invitation(text,text,integer)'), ('api.register(text,text,text,text)'),
  ('api.login(text,text,text,text)'), ('api.refresh_token(text)'), ('api.logout(text)'),
  -- ForecastLab: the sales rollup trigger, owned by forecast_system (members read the rollups, never write them).
  ('forecast.tg_sales_daily__rollup()'),
  -- ForecastLab AI configuration: owned by ai_secrets, the only role that reads the providers' API keys;
  -- they write a key or report is_set and its masked form, never the key; embedding_settings tells any
  -- member the provider (not the key); resolve_secret hands a key to the gateway's outbound request
  -- (executable by authenticator alone).
  ('rag.ai_key_status()'), ('rag.ai_set_key(text,text)'), ('rag.embedding_settings()'), ('rag.resolve_secret(uuid,text)'),
  ('flowpilot.tg_users__revoke_tokens()'), ('flowpilot.sweep_login_failures()'), ('flowpilot.refresh_escalation_snapshots(integer)'), ('flowpilot.tg_session_handoffs__first_action()'), ('flowpilot.tg_ai_session_steps__first_action()');

-- RLS enabled and forced on every data table.
create schema planted;
create table planted.no_rls (id int);
select ok('planted.no_rls' in (select tests.tables_without_forced_rls()), 'the RLS check finds a table without RLS');
alter table planted.no_rls enable row level security;
select ok('planted.no_rls' in (select tests.tables_without_forced_rls()), 'the RLS check finds RLS enabled but not forced');
drop schema planted cascade;
select is_empty('select tests.tables_without_forced_rls()', 'every table in a data schema has RLS enabled and forced');

-- SECURITY DEFINER only on the allow-list, always with a pinned search_path.
create function public.planted_definer() returns int language sql security definer as 'select 1';
select ok('planted_definer()' in (select tests.security_definer_functions()), 'the definer check finds a planted function');
select ok('planted_definer()' in (select tests.security_definer_without_search_path()), 'the search_path check finds an unpinned definer');
drop function public.planted_definer();
select is_empty(
  'select tests.security_definer_functions() except select fn from allowed_security_definer',
  'every security definer function is on the reviewed allow-list');
select is_empty('select tests.security_definer_without_search_path()', 'every security definer function pins search_path');

-- Nothing is executable by PUBLIC unless a file grants it explicitly.
create function auth.planted_public() returns int language sql as 'select 1';
grant execute on function auth.planted_public() to public;
select ok('auth.planted_public()' in (select tests.functions_executable_by_public()), 'the PUBLIC check finds a granted function');
drop function auth.planted_public();
select is_empty('select tests.functions_executable_by_public()', 'no function of ours is executable by PUBLIC');

select is(
  (select count(*)::int from migrator.history where status = 'success' and kind = 'versioned'),
  (select count(distinct script)::int from migrator.history where kind = 'versioned'),
  'every versioned migration in this database applied successfully');

select * from finish();
rollback;
