-- requires: core/auth.sql
-- requires: core/util.sql
-- requires: hotdash/rollups.sql
-- Hot Dash reads. Materialized views cannot carry RLS, so these run as their owner
-- (hotdash_rollup, SECURITY DEFINER) and filter every view by the caller's account themselves:
-- the account comes from the verified claims, never from a parameter. Undefined ratios (no orders
-- in the period) are null rather than a misleading 0.

grant usage on schema auth to hotdash_rollup;
grant execute on function auth.jwt(), auth.try_uuid(text), auth.account_id() to hotdash_rollup;
grant usage on schema util to hotdash_rollup;
grant execute on function util.validation_error(text, text), util.require_range(text, integer, integer, integer),
  util.iso(timestamptz), util.require_account(), util.found(jsonb, text) to hotdash_rollup;

create or replace function api.get_dashboard_summary() returns jsonb
language sql stable security definer set search_path = '' as $$
  select pg_catalog.jsonb_build_object(
    'orders_last_hour', coalesce(d.orders_last_hour, 0),
    'revenue_last_hour', coalesce(d.revenue_last_hour, 0),
    'orders_last_24h', coalesce(d.orders_last_24h, 0),
    'revenue_last_24h', coalesce(d.revenue_last_24h, 0),
    'avg_order_value_24h', round(d.revenue_last_24h / nullif(d.orders_last_24h, 0), 2),
    'orders_prev_24h', coalesce(d.orders_prev_24h, 0),
    'revenue_prev_24h', coalesce(d.revenue_prev_24h, 0),
    'fulfillment_rate_24h', round(100.0 * d.fulfilled_24h / nullif(d.orders_last_24h, 0), 1),
    'orders_pending_24h', coalesce(d.orders_last_24h - d.fulfilled_24h, 0),
    'new_customers_24h', coalesce(d.new_customers_24h, 0),
    'active_customers_24h', coalesce(d.active_customers_24h, 0),
    'returning_customers_24h', coalesce(d.active_customers_24h - d.new_customers_24h, 0),
    'last_updated', util.iso(hotdash.refreshed_at('dashboard_summary')))
  from (select util.require_account() as account_id) caller
  left join hotdash.dashboard_summary d using (account_id)
$$;
comment on function api.get_dashboard_summary() is
  'The shop''s last 24 hours against the 24 before, as of the last refresh of the summary (every 5 minutes).';

create or replace function api.get_hourly_trends(hours integer default 24) returns jsonb
language plpgsql stable security definer set search_path = '' as $$
declare
  shop constant uuid := util.require_account();
  result jsonb;
begin
  perform util.require_range('hours', hours, 1, 168);
  with series as (
    select m.*,
           lag(m.total_orders) over (order by m.hour_start) as prev_orders,
           lag(m.total_revenue) over (order by m.hour_start) as prev_revenue,
           max(m.hour_start) over () as last_hour
      from hotdash.hourly_metrics m
     where m.account_id = shop
  ),
  wanted as (
    select * from series s where s.hour_start > s.last_hour - pg_catalog.make_interval(hours => hours)
  )
  select coalesce(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
           'hour_start', util.iso(w.hour_start),
           'total_orders', w.total_orders,
           'total_revenue', w.total_revenue,
           'avg_order_value', round(w.total_revenue / nullif(w.total_orders, 0), 2),
           'fulfillment_rate_pct', round(100.0 * w.orders_fulfilled / nullif(w.total_orders, 0), 1),
           'orders_fulfilled', w.orders_fulfilled,
           'orders_pending', w.orders_pending,
           'new_customers', w.new_customers,
           'active_customers', w.active_customers,
           'returning_customers', w.active_customers - w.new_customers,
           'total_sessions', w.total_sessions,
           'orders_hoh_pct_change', round(100.0 * (w.total_orders - w.prev_orders) / nullif(w.prev_orders, 0), 1),
           'revenue_hoh_pct_change', round(100.0 * (w.total_revenue - w.prev_revenue) / nullif(w.prev_revenue, 0), 1)
         ) order by w.hour_start), '[]')
    into result
    from wanted w
   -- A shop with no orders and no visits in the whole period gets the empty state, not a row of zeros per hour.
   where exists (select from wanted a where a.total_orders > 0 or a.total_sessions > 0);
  return result;
end $$;
comment on function api.get_hourly_trends(integer) is
  'One row per hour, oldest first, for the last `hours` hours (1 to 168, default 24); hours without orders are zeros.';

create or replace function api.get_active_anomalies() returns jsonb
language sql stable security definer set search_path = '' as $$
  select coalesce(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
           'hour_start', util.iso(a.hour_start),
           'anomaly_type', a.anomaly_type,
           'deviation_pct', a.deviation_pct,
           'severity', a.severity,
           'total_orders', a.total_orders,
           'avg_orders_24h', a.avg_orders_24h,
           'total_revenue', a.total_revenue,
           'avg_revenue_24h', a.avg_revenue_24h,
           'fulfillment_rate_pct', a.fulfillment_rate_pct,
           'avg_fulfillment_24h', a.avg_fulfillment_24h)
         order by pg_catalog.array_position(array['critical', 'high', 'medium'], a.severity), a.deviation_pct desc, a.hour_start desc, a.anomaly_type), '[]')
    from hotdash.anomalies a
   where a.account_id = util.require_account()
$$;
comment on function api.get_active_anomalies() is
  'Anomalies of the last 24 completed hours, most severe first (rules in the README); [] when there are none.';

create or replace function api.get_approval_queue_metrics("groupBy" text default 'day', days integer default 7) returns jsonb
language plpgsql stable security definer set search_path = '' as $$
declare
  shop constant uuid := util.require_account();
  updated constant text := util.iso(hotdash.refreshed_at('approval_queue_hourly'));
  result jsonb;
begin
  if "groupBy" is null or "groupBy" not in ('hour', 'day') then
    perform util.validation_error('groupBy', 'must be hour or day');
  end if;
  perform util.require_range('days', days, 1, 30);
  with buckets as (
    select case when "groupBy" = 'day' then date_trunc('day', q.hour_bucket) else q.hour_bucket end as bucket,
           sum(q.total_items) as total_items, sum(q.pending_count) as pending_count, sum(q.approved_count) as approved_count,
           sum(q.rejected_count) as rejected_count, sum(q.edited_count) as edited_count, sum(q.urgent_count) as urgent_count,
           sum(q.high_count) as high_count, sum(q.normal_count) as normal_count, sum(q.low_count) as low_count,
           sum(q.confidence_sum) as confidence_sum, min(q.min_confidence) as min_confidence, max(q.max_confidence) as max_confidence,
           sum(q.resolution_minutes_sum) as resolution_minutes_sum, sum(q.resolved_count) as resolved_count
      from hotdash.approval_queue_hourly q
     where q.account_id = shop
       and q.hour_bucket >= date_trunc('day', pg_catalog.now()) - pg_catalog.make_interval(days => days - 1)
     group by 1
  )
  select coalesce(pg_catalog.jsonb_agg(
           case when "groupBy" = 'day'
                then pg_catalog.jsonb_build_object('day_bucket', (b.bucket at time zone 'UTC')::date)
                else pg_catalog.jsonb_build_object('hour_bucket', util.iso(b.bucket)) end
           || pg_catalog.jsonb_build_object(
             'total_items', b.total_items,
             'pending_count', b.pending_count,
             'approved_count', b.approved_count,
             'rejected_count', b.rejected_count,
             'edited_count', b.edited_count,
             'urgent_count', b.urgent_count,
             'high_count', b.high_count,
             'normal_count', b.normal_count,
             'low_count', b.low_count,
             'avg_confidence', round(b.confidence_sum / nullif(b.total_items, 0), 1),
             'min_confidence', b.min_confidence,
             'max_confidence', b.max_confidence,
             'avg_resolution_minutes', round(b.resolution_minutes_sum / nullif(b.resolved_count, 0), 1),
             'metrics_updated_at', updated)
           order by b.bucket desc), '[]')
    into result
    from buckets b;
  return result;
end $$;
comment on function api.get_approval_queue_metrics(text, integer) is
  'The approval queue per day (or hour with groupBy=hour) over the last `days` days (1 to 30), newest first.';

create or replace function api.get_agent_accuracy_metrics(days integer default 7, agent text default null) returns jsonb
language plpgsql stable security definer set search_path = '' as $$
declare
  shop constant uuid := util.require_account();
  result jsonb;
begin
  perform util.require_range('days', days, 1, 30);
  select coalesce(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
           'agent_type', a.agent_type,
           'day_bucket', a.day_bucket,
           'total_queries', a.total_queries,
           'approved_queries', a.approved_queries,
           'human_edited_queries', a.human_edited_queries,
           'approval_rate_pct', a.approval_rate_pct,
           'edit_rate_pct', a.edit_rate_pct,
           'avg_latency_ms', a.avg_latency_ms,
           'max_latency_ms', a.max_latency_ms,
           'avg_accuracy_score', a.avg_accuracy_score,
           'avg_helpfulness_score', a.avg_helpfulness_score,
           'avg_tone_score', a.avg_tone_score,
           'safe_to_send_count', a.safe_to_send_count)
         order by a.day_bucket desc, a.agent_type), '[]')
    into result
    from hotdash.agent_accuracy_daily a
   where a.account_id = shop
     and a.day_bucket > (pg_catalog.now() at time zone 'UTC')::date - days
     and (agent is null or a.agent_type = agent);
  return result;
end $$;
comment on function api.get_agent_accuracy_metrics(integer, text) is
  'Agent answers per agent type and day over the last `days` days (1 to 30), optionally for one `agent` type.';

create or replace function api.get_training_quality_metrics(days integer default 7) returns jsonb
language plpgsql stable security definer set search_path = '' as $$
declare
  shop constant uuid := util.require_account();
  result jsonb;
begin
  perform util.require_range('days', days, 1, 30);
  select coalesce(pg_catalog.jsonb_agg(pg_catalog.to_jsonb(t) - 'account_id' order by t.day_bucket desc), '[]')
    into result
    from hotdash.training_quality_daily t
   where t.account_id = shop
     and t.day_bucket > (pg_catalog.now() at time zone 'UTC')::date - days;
  return result;
end $$;
comment on function api.get_training_quality_metrics(integer) is
  'Training-data quality per day over the last `days` days (1 to 30), newest first.';

create or replace function api.get_agent_performance_summary() returns jsonb
language sql stable security definer set search_path = '' as $$
  select pg_catalog.jsonb_build_object(
    'time_period', 'last_24h',
    'pending_approvals', coalesce(s.pending_approvals, 0),
    'approvals_24h', coalesce(s.approvals_24h, 0),
    'avg_confidence_24h', s.avg_confidence_24h,
    'queries_24h', coalesce(s.queries_24h, 0),
    'avg_latency_24h', s.avg_latency_24h,
    'approved_queries_24h', coalesce(s.approved_queries_24h, 0),
    'training_examples_24h', coalesce(s.training_examples_24h, 0),
    'safe_examples_24h', coalesce(s.safe_examples_24h, 0),
    'avg_accuracy_24h', s.avg_accuracy_24h,
    'summary_updated_at', util.iso(hotdash.refreshed_at('agent_summary')))
  from (select util.require_account() as account_id) caller
  left join hotdash.agent_summary s using (account_id)
$$;
comment on function api.get_agent_performance_summary() is
  'The agent''s last 24 hours (approvals, queries, training data), as of the last refresh (every 5 minutes).';

do $$
declare
  fn regprocedure;
begin
  foreach fn in array array[
    'api.get_dashboard_summary()', 'api.get_hourly_trends(integer)', 'api.get_active_anomalies()',
    'api.get_approval_queue_metrics(text, integer)', 'api.get_agent_accuracy_metrics(integer, text)',
    'api.get_training_quality_metrics(integer)', 'api.get_agent_performance_summary()']::regprocedure[] loop
    execute format('alter function %s owner to hotdash_rollup', fn);
    execute format('revoke all on function %s from public', fn);
    execute format('grant execute on function %s to authenticated, service_role', fn);
  end loop;
end $$;
