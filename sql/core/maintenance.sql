-- Periodic work the gateway runs (every MAINTENANCE_INTERVAL seconds): whatever the units register
-- in gateway.periodic_tasks. Several gateways may tick at once; a task that must run alone takes an
-- advisory lock of its own. pg_cron can run the same: select * from gateway.maintenance();
--
-- Each task runs in a subtransaction of its own, so one unit's failing task neither rolls back nor
-- stops the others; it is named in `failed`, with its error in `done`. The caller (the gateway
-- runs it as `authenticator`) needs EXECUTE on each task: the unit grants it, and a missing grant
-- shows up here as that task's failure.
drop function if exists gateway.maintenance();
create or replace function gateway.maintenance(out done jsonb, out failed text[])
language plpgsql volatile set search_path = '' as $$
declare
  task record;
  result jsonb;
begin
  done := '{}';
  failed := '{}';
  for task in
    select t.unit || '.' || t.name as name,
           pg_catalog.format('select pg_catalog.to_jsonb(%I.%I())', n.nspname, p.proname) as call
      from gateway.periodic_tasks t
      join pg_catalog.pg_proc p on p.oid = t.function
      join pg_catalog.pg_namespace n on n.oid = p.pronamespace
     order by t.unit, t.name
  loop
    begin
      execute task.call into result;
      done := done || pg_catalog.jsonb_build_object(task.name, result);
    exception when others then
      done := done || pg_catalog.jsonb_build_object(task.name, pg_catalog.jsonb_build_object('error', sqlerrm));
      failed := failed || task.name;
    end;
  end loop;
end $$;
comment on function gateway.maintenance() is
  'Runs every registered periodic task; returns what each did and which failed.';
grant execute on function gateway.maintenance() to authenticator;
