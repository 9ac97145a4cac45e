-- Refreshes the Hot Dash rollups that are older than their max_age (or all of them with force),
-- each CONCURRENTLY so readers are never blocked. The gateway calls it every minute through
-- gateway.maintenance(); pg_cron or psql can call it too. Concurrent callers do not queue: the
-- second one returns at once, since the first is already doing the work.
create or replace function hotdash.refresh_rollups(force boolean default false) returns jsonb
language plpgsql volatile security definer set search_path = '' as $$
declare
  rollup text;
  started timestamptz;
  refreshed jsonb := '[]';
begin
  if not pg_catalog.pg_try_advisory_xact_lock(pg_catalog.hashtext('hotdash.refresh_rollups')) then
    return pg_catalog.jsonb_build_object('refreshed', refreshed, 'skipped', 'another refresh is running');
  end if;
  for rollup in
    select r.name from hotdash.rollups r
     where force or r.refreshed_at is null or r.refreshed_at <= pg_catalog.now() - r.max_age
     order by r.position
  loop
    started := pg_catalog.clock_timestamp();
    execute pg_catalog.format('refresh materialized view concurrently hotdash.%I', rollup);
    -- now(), not the clock: the views were computed as of the transaction's start.
    update hotdash.rollups r
       set refreshed_at = pg_catalog.now(),
           duration_ms = round(extract(epoch from pg_catalog.clock_timestamp() - started)::numeric * 1000, 1)
     where r.name = rollup;
    refreshed := refreshed || pg_catalog.to_jsonb(rollup);
  end loop;
  return pg_catalog.jsonb_build_object('refreshed', refreshed);
end $$;
alter function hotdash.refresh_rollups(boolean) owner to hotdash_rollup;
comment on function hotdash.refresh_rollups(boolean) is 'Refreshes the stale Hot Dash materialized views (all with force => true).';

-- When a rollup was last refreshed: the "as of" time of the numbers read from it.
create or replace function hotdash.refreshed_at(rollup text) returns timestamptz
language sql stable set search_path = '' as $$
  select r.refreshed_at from hotdash.rollups r where r.name = rollup
$$;
alter function hotdash.refreshed_at(text) owner to hotdash_rollup;

revoke all on function hotdash.refresh_rollups(boolean), hotdash.refreshed_at(text) from public;
grant execute on function hotdash.refresh_rollups(boolean) to authenticator, service_role;
