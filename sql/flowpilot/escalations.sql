-- requires: flowpilot/sessions.sql
-- FlowPilot Escalation Mode: AI session steps, handoffs from the AI to a human, and the metric
-- "seconds from claim to first action".

-- A handoff's first action is the first step created on its session at or after the claim. The
-- triggers keep `first_action_at` exact as steps arrive and handoffs are claimed, so the metric
-- reads one index entry per handoff. They run as flowpilot_system: members cannot write the column.
create or replace function flowpilot.tg_session_handoffs__first_action() returns trigger
language plpgsql volatile security definer set search_path = '' as $$
begin
  new.first_action_at := case when new.claimed_at is not null then
    (select pg_catalog.min(st.created_at) from flowpilot.ai_session_steps st
      where st.session_id = new.session_id and st.created_at >= new.claimed_at) end;
  return new;
end $$;
drop trigger if exists tg_session_handoffs__first_action on flowpilot.session_handoffs;
create trigger tg_session_handoffs__first_action before insert or update of claimed_at, session_id on flowpilot.session_handoffs
  for each row execute function flowpilot.tg_session_handoffs__first_action();

create or replace function flowpilot.tg_ai_session_steps__first_action() returns trigger
language plpgsql volatile security definer set search_path = '' as $$
begin
  -- Per claimed handoff of the touched sessions: the earliest new step at or after its own claim
  -- (a session may have several handoffs, and a statement may add several steps).
  -- The touched sessions as an array, so their handoffs are found through the session index
  -- (a transition table has no statistics, and a join could otherwise scan every handoff).
  update flowpilot.session_handoffs h set first_action_at = f.first_at
    from (select c.id, pg_catalog.min(n.created_at) as first_at
            from flowpilot.session_handoffs c join new_steps n on n.session_id = c.session_id and n.created_at >= c.claimed_at
           where c.session_id = any (array(select distinct s.session_id from new_steps s))
           group by c.id) f
   where h.id = f.id and (h.first_action_at is null or h.first_action_at > f.first_at);
  return null;
end $$;
drop trigger if exists tg_ai_session_steps__first_action on flowpilot.ai_session_steps;
create trigger tg_ai_session_steps__first_action after insert on flowpilot.ai_session_steps
  referencing new table as new_steps for each statement execute function flowpilot.tg_ai_session_steps__first_action();
alter function flowpilot.tg_session_handoffs__first_action() owner to flowpilot_system;
alter function flowpilot.tg_ai_session_steps__first_action() owner to flowpilot_system;

create or replace function flowpilot.handoff_json(h flowpilot.session_handoffs) returns jsonb
language sql stable set search_path = '' as $$
  select pg_catalog.jsonb_build_object('id', h.id, 'session_id', h.session_id, 'reason', h.reason, 'created_by', h.created_by,
    'created_at', util.iso(h.created_at), 'status', case when h.claimed_at is null then 'open' else 'claimed' end,
    'claimed_by', h.claimed_by, 'claimed_at', util.iso(h.claimed_at), 'first_action_at', util.iso(h.first_action_at))
$$;

create or replace function api.add_session_step(session_id uuid, content text, actor text default 'ai') returns jsonb
language plpgsql volatile set search_path = '' as $$
declare
  s flowpilot.sessions := flowpilot.visible_session(session_id, false);
  step flowpilot.ai_session_steps;
begin
  if actor is null or actor not in ('ai', 'human') then
    perform util.validation_error('actor', 'must be ai or human');
  end if;
  insert into flowpilot.ai_session_steps (account_id, session_id, actor, content, created_by)
  values (s.account_id, s.id, actor, flowpilot.require_text('content', content, 20000), auth.uid())
  returning * into step;
  perform pg_catalog.set_config('response.status', '201', true);
  return pg_catalog.jsonb_build_object('id', step.id, 'session_id', step.session_id, 'actor', step.actor, 'content', step.content,
    'created_by', step.created_by, 'created_at', util.iso(step.created_at));
end $$;
comment on function api.add_session_step(uuid, text, text) is 'Records a step (by the AI or a human) on a session.';

create or replace function api.list_session_steps(session_id uuid) returns jsonb
language plpgsql volatile set search_path = '' as $$
declare
  s flowpilot.sessions := flowpilot.visible_session(session_id, false);
begin
  return coalesce((select pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object('id', st.id, 'actor', st.actor, 'content', st.content,
                                                 'created_by', st.created_by, 'created_at', util.iso(st.created_at)) order by st.created_at, st.id)
                     from flowpilot.ai_session_steps st where st.session_id = s.id), '[]');
end $$;
comment on function api.list_session_steps(uuid) is 'The steps of a session, oldest first.';

create or replace function api.create_handoff(session_id uuid, reason text default '') returns jsonb
language plpgsql volatile set search_path = '' as $$
declare
  s flowpilot.sessions := flowpilot.visible_session(session_id, false);
  created flowpilot.session_handoffs;
begin
  if pg_catalog.length(reason) > 5000 then
    perform util.validation_error('reason', 'at most 5000 characters');
  end if;
  insert into flowpilot.session_handoffs (account_id, session_id, reason, created_by)
  values (s.account_id, s.id, coalesce(reason, ''), auth.uid())
  returning * into created;
  perform pg_catalog.set_config('response.status', '201', true);
  perform pg_catalog.set_config('response.headers', pg_catalog.jsonb_build_object('Location', '/api/v1/handoffs/' || created.id)::text, true);
  return flowpilot.handoff_json(created);
end $$;
comment on function api.create_handoff(uuid, text) is 'Hands a session from the AI to a human: it joins the account''s queue.';

create or replace function api.list_handoffs(status text default 'open', page integer default 1, page_size integer default 50)
returns jsonb
language plpgsql stable set search_path = '' as $$
declare
  account uuid := util.require_account();
begin
  perform auth.require_app_role('engineer', 'admin');
  if status is null or status not in ('open', 'claimed', 'all') then
    perform util.validation_error('status', 'must be open, claimed or all');
  end if;
  perform util.require_range('page', page, 1, 100000);
  perform util.require_range('page_size', page_size, 1, 200);
  return coalesce((
    select pg_catalog.jsonb_agg(flowpilot.handoff_json(h) order by h.created_at, h.id)
      from (select * from flowpilot.session_handoffs h
             where h.account_id = account
               and (list_handoffs.status = 'all' or (h.claimed_at is null) = (list_handoffs.status = 'open'))
             order by h.created_at, h.id limit page_size offset (page - 1) * page_size) h), '[]');
end $$;
comment on function api.list_handoffs(text, integer, integer) is 'The account''s handoff queue, oldest first (engineer or admin).';

create or replace function api.claim_handoff(handoff_id uuid) returns jsonb
language plpgsql volatile set search_path = '' as $$
declare
  account uuid := util.require_account();
  claimed flowpilot.session_handoffs;
begin
  perform auth.require_app_role('engineer', 'admin');
  update flowpilot.session_handoffs h set claimed_at = pg_catalog.now(), claimed_by = auth.uid()
   where h.id = handoff_id and h.account_id = account and h.claimed_at is null
  returning * into claimed;
  if claimed.id is null then
    select * into claimed from flowpilot.session_handoffs h where h.id = handoff_id and h.account_id = account;
    if claimed.id is null then
      raise exception 'no such handoff' using errcode = 'PT404';
    end if;
    raise exception 'the handoff was already claimed' using errcode = 'PT409',
      detail = pg_catalog.jsonb_build_object('claimed_by', claimed.claimed_by, 'claimed_at', util.iso(claimed.claimed_at))::text;
  end if;
  return flowpilot.handoff_json(claimed);
end $$;
comment on function api.claim_handoff(uuid) is 'Claims an open handoff for the caller (engineer or admin); 409 if someone already did.';

-- The Escalation Mode metric of one account for the `days` before `window_end`. For each handoff
-- claimed in the window: seconds from claimed_at to the first step created on its session at or
-- after the claim. Unclaimed handoffs are left out; claimed ones without an action yet count in
-- n_handoffs_claimed only; a negative delta (clocks of two writers drifting) counts as 0.
-- percentile_cont interpolates, as numpy's percentile does. Runs as its caller (RLS applies). JIT
-- off: compiling costs more than the aggregate it would speed up; work_mem to sort a big account's
-- deltas in memory; date_part (double precision), not extract (numeric, several times slower).
create or replace function flowpilot.escalation_metrics(account uuid, period text, days integer, window_end timestamptz)
returns jsonb
language sql stable set jit = off set work_mem = '64MB' set search_path = '' as $$
  select pg_catalog.jsonb_build_object(
      'period', period,
      'window_start', util.iso(window_end - pg_catalog.make_interval(days => days)),
      'window_end', util.iso(window_end),
      'computed_at', util.iso(window_end),
      'n_handoffs_claimed', pg_catalog.count(*),
      'n_handoffs_with_action', pg_catalog.count(d.seconds),
      'avg_seconds', pg_catalog.round(pg_catalog.avg(d.seconds)::numeric, 2),
      'median_seconds', pg_catalog.round((pg_catalog.percentile_cont(0.5) within group (order by d.seconds))::numeric, 2),
      'p95_seconds', pg_catalog.round((pg_catalog.percentile_cont(0.95) within group (order by d.seconds))::numeric, 2))
    -- greatest() ignores nulls: without the case, a handoff with no action would count as 0 s.
    from (select case when h.first_action_at is not null
                      then greatest(0, pg_catalog.date_part('epoch', h.first_action_at - h.claimed_at)) end as seconds
            from flowpilot.session_handoffs h
           where h.account_id = account and h.claimed_at is not null
             and h.claimed_at >= window_end - pg_catalog.make_interval(days => days) and h.claimed_at <= window_end) d
$$;

-- An account with at least this many claims in 90 days is served from its snapshot.
create or replace function flowpilot.escalation_snapshot_threshold() returns integer
language sql immutable set search_path = '' as $$
  select 20000
$$;

-- Recomputes the snapshots of big accounts (and drops those of accounts no longer big). Run by
-- gateway.maintenance() every minute; one run at a time.
create or replace function flowpilot.refresh_escalation_snapshots(min_claims integer default null) returns integer
language plpgsql volatile security definer set jit = off set search_path = '' as $$
declare
  big uuid[];
  account uuid;
  period record;
  refreshed integer := 0;
begin
  if not pg_catalog.pg_try_advisory_xact_lock(pg_catalog.hashtext('flowpilot.refresh_escalation_snapshots')) then
    return 0;
  end if;
  big := array(select h.account_id from flowpilot.session_handoffs h
                where h.claimed_at is not null and h.claimed_at >= pg_catalog.now() - interval '90 days'
                group by h.account_id
               having pg_catalog.count(*) >= coalesce(min_claims, flowpilot.escalation_snapshot_threshold()));
  delete from flowpilot.escalation_snapshots s where s.account_id <> all (big);
  foreach account in array big loop
    for period in select * from (values ('7d', 7), ('30d', 30), ('90d', 90)) p(name, days) loop
      insert into flowpilot.escalation_snapshots (account_id, period, computed_at, result)
      values (account, period.name, pg_catalog.now(), flowpilot.escalation_metrics(account, period.name, period.days, pg_catalog.now()))
      on conflict on constraint escalation_snapshots_pkey
        do update set computed_at = excluded.computed_at, result = excluded.result;
      refreshed := refreshed + 1;
    end loop;
  end loop;
  return refreshed;
end $$;
alter function flowpilot.refresh_escalation_snapshots(integer) owner to flowpilot_system;
comment on function flowpilot.refresh_escalation_snapshots(integer) is
  'Recomputes the escalation metric of accounts with many claims; returns how many snapshots it wrote.';

-- Live for most accounts; from a snapshot at most 5 minutes old (refreshed every minute) for
-- accounts with 20,000 claims or more in 90 days, whose aggregate would cost a second per request.
-- `computed_at` says which.
create or replace function api.get_escalation_metrics(period text default '30d') returns jsonb
language plpgsql stable set search_path = '' as $$
declare
  account uuid := util.require_account();
  days integer := case period when '7d' then 7 when '30d' then 30 when '90d' then 90 end;
  result jsonb;
begin
  perform auth.require_app_role('engineer', 'admin');
  if days is null then
    perform util.validation_error('period', 'must be one of 7d, 30d, 90d');
  end if;
  select s.result into result from flowpilot.escalation_snapshots s
   where s.account_id = account and s.period = get_escalation_metrics.period and s.computed_at > pg_catalog.now() - interval '5 minutes';
  return coalesce(result, flowpilot.escalation_metrics(account, period, days, pg_catalog.now()))
         || pg_catalog.jsonb_build_object('metric_definition', flowpilot.escalation_metric_definition());
end $$;
comment on function api.get_escalation_metrics(text) is
  'Seconds from a handoff''s claim to the first action on its session: avg, median, p95 (engineer or admin).';

create or replace function flowpilot.escalation_metric_definition() returns jsonb
language sql immutable set search_path = '' as $$
  select pg_catalog.jsonb_build_object(
    'name', 'claim_to_first_action_seconds',
    'description', 'Seconds between a handoff''s claimed_at and the first AI session step created on the same session at or '
                   'after it, over handoffs claimed in the period. Unclaimed handoffs are excluded; claimed handoffs with no '
                   'action yet count in n_handoffs_claimed but not in n_handoffs_with_action; negative deltas count as 0.',
    'disclaimer', 'This is not "minutes recovered". It is the in-product half of a two-metric claim: pair it with the manual '
                  'baseline (the stopwatch on verbal handoffs) before stating any time saved.')
$$;

grant execute on function flowpilot.handoff_json(flowpilot.session_handoffs), flowpilot.escalation_metric_definition(),
  flowpilot.escalation_metrics(uuid, text, integer, timestamptz), flowpilot.escalation_snapshot_threshold()
  to authenticated, service_role, flowpilot_system;
grant execute on function api.add_session_step(uuid, text, text), api.list_session_steps(uuid), api.create_handoff(uuid, text),
  api.list_handoffs(text, integer, integer), api.claim_handoff(uuid), api.get_escalation_metrics(text) to authenticated, service_role;
