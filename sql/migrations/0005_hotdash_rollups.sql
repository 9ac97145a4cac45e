-- Hot Dash rollups: materialized views over each shop's recent activity, refreshed CONCURRENTLY by
-- hotdash.refresh_rollups() (functions/hotdash_rollups.sql). Each covers a fixed window ending at its
-- refresh time, so its refresh costs the same whatever the history's size. Materialized views cannot
-- carry RLS: nobody but their owner reads them, and the api functions filter them by account.

-- When each rollup was last refreshed, and how stale it may get (the spec: 5 to 15 minutes).
create table hotdash.rollups (
  name         text primary key,
  position     integer not null unique,  -- refresh order: a rollup after the ones it reads
  max_age      interval not null,
  refreshed_at timestamptz,
  duration_ms  numeric
);
comment on table hotdash.rollups is 'The Hot Dash materialized views, their refresh interval and their last refresh.';
alter table hotdash.rollups enable row level security, force row level security;
create policy "Rollups keep their refresh log" on hotdash.rollups for all to hotdash_rollup using (true) with check (true);
grant select, update on hotdash.rollups to hotdash_rollup;

-- Per shop and hour, the last 192 hours (168 for trends, plus a day of baseline), every hour
-- present (zeros included), so hour-over-hour changes and trailing averages are honest.
create materialized view hotdash.hourly_metrics as
with bounds as (
  select date_trunc('hour', now()) as last_hour, date_trunc('hour', now()) - interval '191 hours' as first_hour
),
hours as (
  select s.account_id, h as hour_start
    from hotdash.shops s, bounds b, generate_series(b.first_hour, b.last_hour, interval '1 hour') h
),
orders as (
  select o.account_id, date_trunc('hour', o.created_at) as hour_start,
         count(*) as total_orders,
         sum(o.total_amount) as total_revenue,
         count(*) filter (where o.fulfillment_status = 'fulfilled') as orders_fulfilled,
         count(distinct o.customer_id) as active_customers,
         count(distinct o.customer_id) filter (where c.created_at >= date_trunc('hour', o.created_at)) as new_customers
    from hotdash.orders o
    left join hotdash.customers c on c.id = o.customer_id
    cross join bounds b
   where o.created_at >= b.first_hour and o.status <> 'cancelled'
   group by 1, 2
),
sessions as (
  select s.account_id, date_trunc('hour', s.started_at) as hour_start, count(*) as total_sessions
    from hotdash.storefront_sessions s cross join bounds b
   where s.started_at >= b.first_hour
   group by 1, 2
)
select h.account_id, h.hour_start,
       coalesce(o.total_orders, 0)::integer as total_orders,
       coalesce(o.total_revenue, 0)::numeric(14, 2) as total_revenue,
       coalesce(o.orders_fulfilled, 0)::integer as orders_fulfilled,
       coalesce(o.total_orders - o.orders_fulfilled, 0)::integer as orders_pending,
       coalesce(o.new_customers, 0)::integer as new_customers,
       coalesce(o.active_customers, 0)::integer as active_customers,
       coalesce(s.total_sessions, 0)::integer as total_sessions
  from hours h
  left join orders o using (account_id, hour_start)
  left join sessions s using (account_id, hour_start);
create unique index hourly_metrics_key on hotdash.hourly_metrics (account_id, hour_start);

-- One row per shop: the dashboard summary as of the refresh.
create materialized view hotdash.dashboard_summary as
with recent as (
  select o.account_id, o.created_at, o.total_amount, o.fulfillment_status, o.customer_id,
         o.created_at >= now() - interval '24 hours' as in_last_day,
         c.created_at >= now() - interval '24 hours' as new_customer
    from hotdash.orders o left join hotdash.customers c on c.id = o.customer_id
   where o.created_at >= now() - interval '48 hours' and o.created_at < now() and o.status <> 'cancelled'
),
per_shop as (
  select account_id,
         count(*) filter (where created_at >= now() - interval '1 hour') as orders_last_hour,
         sum(total_amount) filter (where created_at >= now() - interval '1 hour') as revenue_last_hour,
         count(*) filter (where in_last_day) as orders_last_24h,
         sum(total_amount) filter (where in_last_day) as revenue_last_24h,
         count(*) filter (where in_last_day and fulfillment_status = 'fulfilled') as fulfilled_24h,
         count(distinct customer_id) filter (where in_last_day) as active_customers_24h,
         count(distinct customer_id) filter (where in_last_day and new_customer) as new_customers_24h,
         count(*) filter (where not in_last_day) as orders_prev_24h,
         sum(total_amount) filter (where not in_last_day) as revenue_prev_24h
    from recent
   group by account_id
)
select s.account_id,
       coalesce(p.orders_last_hour, 0)::integer as orders_last_hour,
       coalesce(p.revenue_last_hour, 0)::numeric(14, 2) as revenue_last_hour,
       coalesce(p.orders_last_24h, 0)::integer as orders_last_24h,
       coalesce(p.revenue_last_24h, 0)::numeric(14, 2) as revenue_last_24h,
       coalesce(p.fulfilled_24h, 0)::integer as fulfilled_24h,
       coalesce(p.active_customers_24h, 0)::integer as active_customers_24h,
       coalesce(p.new_customers_24h, 0)::integer as new_customers_24h,
       coalesce(p.orders_prev_24h, 0)::integer as orders_prev_24h,
       coalesce(p.revenue_prev_24h, 0)::numeric(14, 2) as revenue_prev_24h
  from hotdash.shops s
  left join per_shop p using (account_id);
create unique index dashboard_summary_key on hotdash.dashboard_summary (account_id);

-- Anomalies in the last 24 completed hours, each hour against the average of the 24 hours before it.
-- The rules (also in the README):
--   low_order_volume      orders ≤ 50% of the trailing average (average ≥ 2 orders/hour)
--   high_order_volume     orders ≥ 200% of the trailing average (average ≥ 2 orders/hour)
--   revenue_drop          revenue ≤ 50% of the trailing average (average ≥ 2 orders/hour)
--   fulfillment_rate_drop rate ≥ 20 points below the trailing rate (hour with ≥ 3 orders)
-- deviation_pct is the distance from the baseline in percent of the baseline. Severity: for the
-- drops, ≥ 80 critical, ≥ 60 high, else medium; for a volume spike ≥ 300 critical, ≥ 200 high,
-- else medium; for fulfillment ≥ 50 critical, ≥ 35 high, else medium.
create materialized view hotdash.anomalies as
with windowed as (
  select m.*,
         avg(m.total_orders) over w as avg_orders,
         avg(m.total_revenue) over w as avg_revenue,
         sum(m.orders_fulfilled) over w as fulfilled_window,
         sum(m.total_orders) over w as orders_window
    from hotdash.hourly_metrics m
  window w as (partition by m.account_id order by m.hour_start rows between 24 preceding and 1 preceding)
),
hours as (
  select w.*,
         case when w.total_orders > 0 then 100.0 * w.orders_fulfilled / w.total_orders end as fulfillment_rate,
         case when w.orders_window > 0 then 100.0 * w.fulfilled_window / w.orders_window end as avg_fulfillment
    from windowed w
   where w.hour_start >= date_trunc('hour', now()) - interval '24 hours'
     and w.hour_start < date_trunc('hour', now())
),
found as (
  select h.*, 'low_order_volume' as anomaly_type, 100 * (h.avg_orders - h.total_orders) / h.avg_orders as deviation
    from hours h where h.avg_orders >= 2 and h.total_orders <= 0.5 * h.avg_orders
  union all
  select h.*, 'high_order_volume', 100 * (h.total_orders - h.avg_orders) / h.avg_orders
    from hours h where h.avg_orders >= 2 and h.total_orders >= 2 * h.avg_orders
  union all
  select h.*, 'revenue_drop', 100 * (h.avg_revenue - h.total_revenue) / h.avg_revenue
    from hours h where h.avg_orders >= 2 and h.avg_revenue > 0 and h.total_revenue <= 0.5 * h.avg_revenue
  union all
  select h.*, 'fulfillment_rate_drop', 100 * (h.avg_fulfillment - h.fulfillment_rate) / h.avg_fulfillment
    from hours h where h.total_orders >= 3 and h.avg_fulfillment > 0 and h.fulfillment_rate <= h.avg_fulfillment - 20
)
select f.account_id, f.hour_start, f.anomaly_type,
       round(f.deviation, 1) as deviation_pct,
       case
         when f.anomaly_type = 'high_order_volume' then
           case when f.deviation >= 300 then 'critical' when f.deviation >= 200 then 'high' else 'medium' end
         when f.anomaly_type = 'fulfillment_rate_drop' then
           case when f.deviation >= 50 then 'critical' when f.deviation >= 35 then 'high' else 'medium' end
         else
           case when f.deviation >= 80 then 'critical' when f.deviation >= 60 then 'high' else 'medium' end
       end as severity,
       f.total_orders,
       round(f.avg_orders, 1) as avg_orders_24h,
       f.total_revenue,
       round(f.avg_revenue, 2) as avg_revenue_24h,
       round(f.fulfillment_rate, 1) as fulfillment_rate_pct,
       round(f.avg_fulfillment, 1) as avg_fulfillment_24h
  from found f;
create unique index anomalies_key on hotdash.anomalies (account_id, hour_start, anomaly_type);

-- Approval queue per shop and hour, last 31 days; days re-aggregate the hours (sums, not averages).
create materialized view hotdash.approval_queue_hourly as
select q.account_id, date_trunc('hour', q.created_at) as hour_bucket,
       count(*)::integer as total_items,
       count(*) filter (where q.status = 'pending')::integer as pending_count,
       count(*) filter (where q.status = 'approved')::integer as approved_count,
       count(*) filter (where q.status = 'rejected')::integer as rejected_count,
       count(*) filter (where q.status = 'edited')::integer as edited_count,
       count(*) filter (where q.priority = 'urgent')::integer as urgent_count,
       count(*) filter (where q.priority = 'high')::integer as high_count,
       count(*) filter (where q.priority = 'normal')::integer as normal_count,
       count(*) filter (where q.priority = 'low')::integer as low_count,
       sum(q.confidence) as confidence_sum,
       min(q.confidence) as min_confidence,
       max(q.confidence) as max_confidence,
       sum(extract(epoch from q.resolved_at - q.created_at) / 60) as resolution_minutes_sum,
       count(q.resolved_at)::integer as resolved_count
  from hotdash.approval_queue q
 where q.created_at >= date_trunc('day', now()) - interval '31 days'
 group by 1, 2;
create unique index approval_queue_hourly_key on hotdash.approval_queue_hourly (account_id, hour_bucket);

-- Agent queries per shop, agent type and day, last 31 days.
create materialized view hotdash.agent_accuracy_daily as
select a.account_id, a.agent_type, date_trunc('day', a.created_at)::date as day_bucket,
       count(*)::integer as total_queries,
       count(*) filter (where a.approved)::integer as approved_queries,
       count(*) filter (where a.human_edited)::integer as human_edited_queries,
       round(100.0 * count(*) filter (where a.approved) / count(*), 2) as approval_rate_pct,
       round(100.0 * count(*) filter (where a.human_edited) / count(*), 2) as edit_rate_pct,
       round(avg(a.latency_ms), 1) as avg_latency_ms,
       max(a.latency_ms) as max_latency_ms,
       round(avg(a.accuracy_score), 1) as avg_accuracy_score,
       round(avg(a.helpfulness_score), 1) as avg_helpfulness_score,
       round(avg(a.tone_score), 1) as avg_tone_score,
       count(*) filter (where a.safe_to_send)::integer as safe_to_send_count
  from hotdash.agent_queries a
 where a.created_at >= date_trunc('day', now()) - interval '31 days'
 group by 1, 2, 3;
create unique index agent_accuracy_daily_key on hotdash.agent_accuracy_daily (account_id, day_bucket, agent_type);

-- Training data per shop and day, last 31 days. "High quality": the mean of the three scores ≥ 4.
create materialized view hotdash.training_quality_daily as
select t.account_id, date_trunc('day', t.created_at)::date as day_bucket,
       count(*)::integer as total_training_examples,
       count(*) filter (where t.safe_to_send)::integer as safe_examples,
       count(*) filter (where not t.safe_to_send)::integer as unsafe_examples,
       round(100.0 * count(*) filter (where t.safe_to_send) / count(*), 2) as safety_rate_pct,
       round(avg(t.accuracy_score), 1) as avg_accuracy,
       round(avg(t.helpfulness_score), 1) as avg_helpfulness,
       round(avg(t.tone_score), 1) as avg_tone,
       round(avg((t.accuracy_score + t.helpfulness_score + t.tone_score) / 3), 1) as overall_quality_score,
       round(100.0 * count(*) filter (where (t.accuracy_score + t.helpfulness_score + t.tone_score) / 3 >= 4) / count(*), 2) as high_quality_rate_pct,
       count(distinct t.annotator)::integer as unique_annotators,
       count(distinct t.category)::integer as unique_categories,
       count(*) filter (where t.sentiment = 'positive')::integer as positive_sentiment,
       count(*) filter (where t.sentiment = 'neutral')::integer as neutral_sentiment,
       count(*) filter (where t.sentiment = 'negative')::integer as negative_sentiment,
       round(100 * avg(t.confidence), 1) as avg_model_confidence,
       round(avg(t.response_time_ms), 1) as avg_response_time_ms
  from hotdash.training_examples t
 where t.created_at >= date_trunc('day', now()) - interval '31 days'
 group by 1, 2;
create unique index training_quality_daily_key on hotdash.training_quality_daily (account_id, day_bucket);

-- One row per shop: the agent's last 24 hours as of the refresh.
create materialized view hotdash.agent_summary as
select s.account_id,
       (select count(*) from hotdash.approval_queue q where q.account_id = s.account_id and q.status = 'pending')::integer as pending_approvals,
       q.approvals as approvals_24h,
       q.avg_confidence as avg_confidence_24h,
       a.queries as queries_24h,
       a.avg_latency as avg_latency_24h,
       a.approved as approved_queries_24h,
       t.examples as training_examples_24h,
       t.safe as safe_examples_24h,
       t.avg_accuracy as avg_accuracy_24h
  from hotdash.shops s
  cross join lateral (
    select count(*) filter (where q.status = 'approved')::integer as approvals, round(avg(q.confidence), 1) as avg_confidence
      from hotdash.approval_queue q where q.account_id = s.account_id and q.created_at >= now() - interval '24 hours'
  ) q
  cross join lateral (
    select count(*)::integer as queries, round(avg(a.latency_ms), 1) as avg_latency, count(*) filter (where a.approved)::integer as approved
      from hotdash.agent_queries a where a.account_id = s.account_id and a.created_at >= now() - interval '24 hours'
  ) a
  cross join lateral (
    select count(*)::integer as examples, count(*) filter (where t.safe_to_send)::integer as safe, round(avg(t.accuracy_score), 1) as avg_accuracy
      from hotdash.training_examples t where t.account_id = s.account_id and t.created_at >= now() - interval '24 hours'
  ) t;
create unique index agent_summary_key on hotdash.agent_summary (account_id);

insert into hotdash.rollups (name, position, max_age) values
  ('hourly_metrics',         1, interval '5 minutes'),
  ('dashboard_summary',      2, interval '5 minutes'),
  ('anomalies',              3, interval '5 minutes'),
  ('agent_summary',          4, interval '5 minutes'),
  ('approval_queue_hourly',  5, interval '15 minutes'),
  ('agent_accuracy_daily',   6, interval '15 minutes'),
  ('training_quality_daily', 7, interval '15 minutes');

alter materialized view hotdash.hourly_metrics owner to hotdash_rollup;
alter materialized view hotdash.dashboard_summary owner to hotdash_rollup;
alter materialized view hotdash.anomalies owner to hotdash_rollup;
alter materialized view hotdash.approval_queue_hourly owner to hotdash_rollup;
alter materialized view hotdash.agent_accuracy_daily owner to hotdash_rollup;
alter materialized view hotdash.training_quality_daily owner to hotdash_rollup;
alter materialized view hotdash.agent_summary owner to hotdash_rollup;
revoke all on hotdash.hourly_metrics, hotdash.dashboard_summary, hotdash.anomalies, hotdash.approval_queue_hourly,
  hotdash.agent_accuracy_daily, hotdash.training_quality_daily, hotdash.agent_summary from public;
