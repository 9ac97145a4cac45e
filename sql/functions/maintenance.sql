-- requires: functions/gateway.sql
-- requires: functions/hotdash_rollups.sql
-- requires: functions/flowpilot_auth.sql
-- requires: functions/flowpilot_escalations.sql
-- Periodic work the gateway runs (every MAINTENANCE_INTERVAL seconds, one instance at a time by
-- advisory lock inside each job). pg_cron can run the same: select gateway.maintenance();
create or replace function gateway.maintenance() returns jsonb
language sql volatile set search_path = '' as $$
  select pg_catalog.jsonb_build_object('hotdash', hotdash.refresh_rollups(),
                                    'flowpilot_login_failures_swept', flowpilot.sweep_login_failures(),
                                    'flowpilot_escalation_snapshots', flowpilot.refresh_escalation_snapshots())
$$;
comment on function gateway.maintenance() is 'Refreshes whatever is stale; returns what each job did.';

grant usage on schema hotdash to authenticator;
grant usage on schema flowpilot to authenticator;
grant execute on function flowpilot.sweep_login_failures(), flowpilot.refresh_escalation_snapshots(integer) to authenticator;
grant execute on function gateway.maintenance() to authenticator;
