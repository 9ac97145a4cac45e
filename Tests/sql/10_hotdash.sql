-- Hot Dash: the api functions over hand-made data with known answers, the rollup refresh,
-- tenant isolation (tables and materialized views), the export's role check and redaction.
begin;
select plan(63);

-- Shops: A (orders, agent data, PII), B (one order), C (empty), D (two days of steady orders with
-- planted anomalies). Times hang off the start of the current hour (h0) or lie between it and
-- now(), so the answers do not depend on when the test runs; now() is fixed for the transaction.
create temp table t_ids as select
  'aaaaaaaa-0000-4000-8000-00000000000a'::uuid as a, 'bbbbbbbb-0000-4000-8000-00000000000b'::uuid as b,
  'cccccccc-0000-4000-8000-00000000000c'::uuid as c, 'dddddddd-0000-4000-8000-00000000000d'::uuid as d,
  date_trunc('hour', now()) as h0;
grant select on t_ids to anon, authenticated, service_role;

insert into hotdash.shops (account_id, name) select a, 'A' from t_ids union all select b, 'B' from t_ids
  union all select c, 'C' from t_ids union all select d, 'D' from t_ids;
insert into hotdash.customers (account_id, name, email, phone, created_at)
  select a, 'Ana Silva', 'ana.silva@example.com', '555-201-3344', now() - interval '10 days' from t_ids union all
  select a, 'Kenji Brown', 'kenji@example.org', null, h0 + (now() - h0) * 0.1 from t_ids;
create temp table t_customers as select name, id from hotdash.customers where account_id = (select a from t_ids);

insert into hotdash.orders (account_id, customer_id, created_at, total_amount, status, fulfillment_status)
select a, (select id from t_customers where name = 'Ana Silva'), h0 + (now() - h0) * 0.25, 100.00, 'paid', 'fulfilled' from t_ids union all
select a, (select id from t_customers where name = 'Kenji Brown'), h0 + (now() - h0) * 0.5, 50.00, 'paid', 'unfulfilled' from t_ids union all
select a, (select id from t_customers where name = 'Ana Silva'), h0 - interval '5 hours' + interval '10 minutes', 200.00, 'paid', 'fulfilled' from t_ids union all
select a, null, now() - interval '30 hours', 80.00, 'paid', 'fulfilled' from t_ids union all
select a, null, h0 + (now() - h0) * 0.75, 999.00, 'cancelled', 'unfulfilled' from t_ids union all
select b, null, now() - interval '20 minutes', 1000.00, 'paid', 'fulfilled' from t_ids;
insert into hotdash.storefront_sessions (account_id, started_at) select a, h0 + (now() - h0) * 0.5 from t_ids, generate_series(1, 3);

-- D: 4 orders every hour from 48 to 2 hours back, a spike of 12 three hours back, none in the last completed hour.
insert into hotdash.orders (account_id, created_at, total_amount, status, fulfillment_status)
select d, h0 - make_interval(hours => h) + interval '10 minutes', 100.00, 'paid', 'fulfilled'
  from t_ids, generate_series(2, 48) h, generate_series(1, case when h = 3 then 12 else 4 end) n;

insert into hotdash.approval_queue (account_id, agent_type, status, priority, confidence, created_at, resolved_at)
select a, 'returns', 'approved', 'urgent', 90, h0 - interval '2 hours' + interval '5 minutes', h0 - interval '2 hours' + interval '35 minutes' from t_ids union all
select a, 'returns', 'rejected', 'high', 70, h0 - interval '1 hour' + interval '5 minutes', h0 - interval '1 hour' + interval '65 minutes' from t_ids union all
select a, 'shipping', 'pending', 'normal', 80, h0, null from t_ids;
insert into hotdash.agent_queries (account_id, agent_type, created_at, approved, human_edited, latency_ms, accuracy_score, helpfulness_score, tone_score, safe_to_send)
select a, 'product_search', now() - interval '10 minutes', true, true, 100, 4, 5, 5, true from t_ids union all
select a, 'product_search', now() - interval '10 minutes', true, false, 300, 5, 4, 4, true from t_ids union all
select a, 'returns', now() - interval '10 minutes', false, false, 500, 2, 2, 3, false from t_ids;
insert into hotdash.training_examples (account_id, conversation_id, customer_id, input_text, model_draft, notes, safe_to_send,
    category, sentiment, tone, accuracy_score, helpfulness_score, tone_score, confidence, response_time_ms, annotator, created_at)
select a, 1001, (select id from t_customers where name = 'Ana Silva'),
       'Hi, I am Ana Silva, ana.silva@example.com, call (555) 201-3344 or +44 20 7946 0958.',
       'Thanks Ana! I refunded card 4111 1111 1111 1111 for order #100234 placed on 2025-10-02.',
       'Escalate to Mr. Haddad', true, 'billing', 'neutral', 'professional', 5, 5, 5, 0.95, 234, 'ann', now() - interval '1 hour' from t_ids union all
select a, 1002, null, 'Where is my parcel?', 'It ships tomorrow.', null, false,
       'shipping_inquiry', 'negative', 'friendly', 3, 4, 3, 0.50, 100, 'ben', now() - interval '2 hours' from t_ids union all
select b, 2001, null, 'B''s secret question', 'B''s answer', null, true,
       'account', 'positive', 'friendly', 4, 4, 4, 0.9, 150, 'caro', now() - interval '1 hour' from t_ids;

select hotdash.refresh_rollups(force => true);

-- The rollups: refreshed now, nothing stale afterwards, a stale one alone is refreshed again.
select is((select count(*)::int from hotdash.rollups where refreshed_at = now()), 7, 'a forced refresh refreshes all seven rollups');
select is(hotdash.refresh_rollups(), '{"refreshed": []}'::jsonb, 'nothing is refreshed while every rollup is fresh');
update hotdash.rollups set refreshed_at = now() - interval '6 minutes' where name = 'anomalies';
select is(hotdash.refresh_rollups(), '{"refreshed": ["anomalies"]}'::jsonb, 'a rollup older than its max_age is refreshed');
update hotdash.rollups set refreshed_at = now() - interval '6 minutes' where name = 'approval_queue_hourly';
select is(hotdash.refresh_rollups(), '{"refreshed": []}'::jsonb, 'a 15-minute rollup is not refreshed after 6 minutes');
update hotdash.rollups set refreshed_at = now() where name = 'approval_queue_hourly';

-- Summary of shop A.
select tests.authenticate_as('authenticated', gen_random_uuid(), (select a from t_ids));
select is(api.get_dashboard_summary() - 'last_updated', jsonb_build_object(
  'orders_last_hour', 2, 'revenue_last_hour', 150.00, 'orders_last_24h', 3, 'revenue_last_24h', 350.00,
  'avg_order_value_24h', 116.67, 'orders_prev_24h', 1, 'revenue_prev_24h', 80.00, 'fulfillment_rate_24h', 66.7,
  'orders_pending_24h', 1, 'new_customers_24h', 1, 'active_customers_24h', 2, 'returning_customers_24h', 1),
  'the summary counts the last hour and day, the day before, fulfillment and new/returning customers; cancelled orders count nowhere');
select is(api.get_dashboard_summary() ->> 'last_updated', util.iso(now()), 'last_updated is the real refresh time');

-- Trends.
select is(jsonb_array_length(api.get_hourly_trends(48)), 48, 'trends: one row per hour asked for');
select is(jsonb_array_length(api.get_hourly_trends()), 24, 'trends: 24 hours by default');
select is(jsonb_array_length(api.get_hourly_trends(168)), 168, 'trends: 168 hours at most');
select is((api.get_hourly_trends(1) -> 0) - 'orders_hoh_pct_change' - 'revenue_hoh_pct_change', jsonb_build_object(
  'hour_start', util.iso((select h0 from t_ids)), 'total_orders', 2, 'total_revenue', 150.00, 'avg_order_value', 75.00,
  'fulfillment_rate_pct', 50.0, 'orders_fulfilled', 1, 'orders_pending', 1, 'new_customers', 1, 'active_customers', 2,
  'returning_customers', 1, 'total_sessions', 3)
  , 'trends: the current hour''s numbers') ;
select is(api.get_hourly_trends(6) -> 0 ->> 'hour_start', util.iso((select h0 from t_ids) - interval '5 hours'), 'trends run oldest first');
select is((api.get_hourly_trends(2) -> 0 -> 'orders_hoh_pct_change'), 'null'::jsonb, 'no hour-over-hour change from an hour without orders');
select throws_ok('select api.get_hourly_trends(0)', '22023', 'hours: must be between 1 and 168', 'trends refuse hours = 0');
select throws_ok('select api.get_hourly_trends(169)', '22023', 'hours: must be between 1 and 168', 'trends refuse hours = 169');
select throws_ok('select api.get_hourly_trends(null)', '22023', null, 'trends refuse a null hours');

-- Agent metrics of shop A.
select is((select sum((b->>'total_items')::int)::int from jsonb_array_elements(api.get_approval_queue_metrics('day', 2)) b), 3,
  'queue: every item of the last two days is counted');
select is(jsonb_array_length(api.get_approval_queue_metrics('hour', 2)), 3, 'queue by hour: one bucket per hour with items');
select is((select b - 'metrics_updated_at' from jsonb_array_elements(api.get_approval_queue_metrics('hour', 2)) b
            where b->>'hour_bucket' = util.iso((select h0 from t_ids) - interval '1 hour')), jsonb_build_object(
  'hour_bucket', util.iso((select h0 from t_ids) - interval '1 hour'), 'total_items', 1, 'pending_count', 0, 'approved_count', 0,
  'rejected_count', 1, 'edited_count', 0, 'urgent_count', 0, 'high_count', 1, 'normal_count', 0, 'low_count', 0,
  'avg_confidence', 70.0, 'min_confidence', 70.00, 'max_confidence', 70.00, 'avg_resolution_minutes', 60.0),
  'queue: an hour bucket''s counts, confidence and resolution time');
select ok((select bool_and(b ? 'day_bucket' and b->>'metrics_updated_at' = util.iso(now()))
             from jsonb_array_elements(api.get_approval_queue_metrics()) b), 'queue by day: day buckets with the refresh time');
select throws_ok($$select api.get_approval_queue_metrics('week')$$, '22023', 'groupBy: must be hour or day', 'queue refuses groupBy=week');
select throws_ok($$select api.get_approval_queue_metrics('day', 31)$$, '22023', 'days: must be between 1 and 30', 'queue refuses days = 31');
select throws_ok($$select api.get_approval_queue_metrics('day', 0)$$, '22023', 'days: must be between 1 and 30', 'queue refuses days = 0');

select is((select jsonb_agg(b->>'agent_type' order by b->>'agent_type') from jsonb_array_elements(api.get_agent_accuracy_metrics(2)) b),
  '["product_search", "returns"]'::jsonb, 'accuracy: one row per agent type and day');
select is((select b - 'day_bucket' from jsonb_array_elements(api.get_agent_accuracy_metrics(2, 'product_search')) b), jsonb_build_object(
  'agent_type', 'product_search', 'total_queries', 2, 'approved_queries', 2, 'human_edited_queries', 1, 'approval_rate_pct', 100.00,
  'edit_rate_pct', 50.00, 'avg_latency_ms', 200.0, 'max_latency_ms', 300, 'avg_accuracy_score', 4.5, 'avg_helpfulness_score', 4.5,
  'avg_tone_score', 4.5, 'safe_to_send_count', 2), 'accuracy: the agent filter and the rates');
select is(api.get_agent_accuracy_metrics(7, 'no_such_agent'), '[]'::jsonb, 'accuracy: an unknown agent gives []');
select throws_ok('select api.get_agent_accuracy_metrics(31)', '22023', 'days: must be between 1 and 30', 'accuracy refuses days = 31');

select is((select sum((b->>'total_training_examples')::int)::int from jsonb_array_elements(api.get_training_quality_metrics(2)) b), 2,
  'quality: both training examples of the shop (and none of B''s)');
select throws_ok('select api.get_training_quality_metrics(-1)', '22023', 'days: must be between 1 and 30', 'quality refuses days = -1');

select is(api.get_agent_performance_summary(), jsonb_build_object(
  'time_period', 'last_24h', 'pending_approvals', 1, 'approvals_24h', 1, 'avg_confidence_24h', 80.0, 'queries_24h', 3,
  'avg_latency_24h', 300.0, 'approved_queries_24h', 2, 'training_examples_24h', 2, 'safe_examples_24h', 1, 'avg_accuracy_24h', 4.0,
  'summary_updated_at', util.iso(now())), 'agent summary: the last 24 hours');
select is(api.get_active_anomalies(), '[]'::jsonb, 'anomalies: [] for a shop without enough history');

-- Anomalies of shop D, most severe first.
select tests.authenticate_as('authenticated', gen_random_uuid(), (select d from t_ids));
select is((select jsonb_agg(jsonb_build_array(x->>'anomaly_type', x->>'severity', (x->>'deviation_pct')::numeric, x->>'hour_start')) from jsonb_array_elements(api.get_active_anomalies()) x),
  jsonb_build_array(
    jsonb_build_array('low_order_volume', 'critical', 100.0, util.iso((select h0 from t_ids) - interval '1 hour')),
    jsonb_build_array('revenue_drop', 'critical', 100.0, util.iso((select h0 from t_ids) - interval '1 hour')),
    jsonb_build_array('high_order_volume', 'high', 200.0, util.iso((select h0 from t_ids) - interval '3 hours'))),
  'anomalies: a silent hour and a spike, against the trailing 24-hour average, most severe first');
select is((api.get_active_anomalies() -> 2) - 'hour_start', jsonb_build_object(
  'anomaly_type', 'high_order_volume', 'deviation_pct', 200.0, 'severity', 'high', 'total_orders', 12, 'avg_orders_24h', 4.0,
  'total_revenue', 1200.00, 'avg_revenue_24h', 400.00, 'fulfillment_rate_pct', 100.0, 'avg_fulfillment_24h', 100.0),
  'anomalies: every field of the spec');

-- Empty shop C: zeros, nulls for undefined ratios, [] for lists.
select tests.authenticate_as('authenticated', gen_random_uuid(), (select c from t_ids));
select is(api.get_dashboard_summary() - 'last_updated', jsonb_build_object(
  'orders_last_hour', 0, 'revenue_last_hour', 0, 'orders_last_24h', 0, 'revenue_last_24h', 0, 'avg_order_value_24h', null,
  'orders_prev_24h', 0, 'revenue_prev_24h', 0, 'fulfillment_rate_24h', null, 'orders_pending_24h', 0, 'new_customers_24h', 0,
  'active_customers_24h', 0, 'returning_customers_24h', 0), 'empty shop: a summary of zeros');
select is(api.get_hourly_trends(48), '[]'::jsonb, 'empty shop: trends []');
select is(api.get_active_anomalies(), '[]'::jsonb, 'empty shop: anomalies []');
select is(api.get_approval_queue_metrics(), '[]'::jsonb, 'empty shop: queue []');
select is(api.get_agent_accuracy_metrics(), '[]'::jsonb, 'empty shop: accuracy []');
select is(api.get_training_quality_metrics(), '[]'::jsonb, 'empty shop: quality []');
select is((api.get_agent_performance_summary() ->> 'queries_24h')::int, 0, 'empty shop: agent summary of zeros');

-- Tenant isolation: B sees only B, through the functions, the tables and never the views.
select tests.authenticate_as('authenticated', gen_random_uuid(), (select b from t_ids));
select is((api.get_dashboard_summary() ->> 'revenue_last_24h')::numeric, 1000.00, 'shop B sees its own revenue, not A''s');
select is((select count(*)::int from hotdash.orders), 1, 'RLS: shop B reads only its own order');
select is((select count(*)::int from hotdash.training_examples where account_id = (select a from t_ids)), 0, 'RLS: shop B cannot read A''s training data even by asking for it');
select throws_ok('select * from hotdash.dashboard_summary', '42501', null, 'a member cannot read a materialized view directly');
select throws_ok('select * from hotdash.hourly_metrics', '42501', null, 'nor the hourly rollup');
select throws_ok('select hotdash.refresh_rollups()', '42501', null, 'a member cannot refresh the rollups');
select throws_ok($$insert into hotdash.orders (account_id, total_amount) values ((select b from t_ids), 1)$$, '42501', null, 'a member cannot write orders');

select tests.authenticate_as('authenticated', gen_random_uuid(), null);
select throws_ok('select api.get_dashboard_summary()', '42501', 'your token names no account', 'a token without an account reads nothing');
select throws_ok('select api.get_hourly_trends()', '42501', 'your token names no account', 'trends need an account too');
select tests.authenticate_as('anon');
select throws_ok('select api.get_dashboard_summary()', '42501', null, 'anonymous callers cannot call the dashboard');

-- The export: service_role only, redacted by default, one shop at a time.
select tests.authenticate_as('authenticated', gen_random_uuid(), (select a from t_ids), 'admin');
select throws_ok('select * from api.export_training_dataset()', '42501', null, 'an authenticated member (even an admin) cannot export');
select tests.authenticate_as('service_role', null, (select a from t_ids));
select is((select count(*)::int from api.export_training_dataset()), 2, 'the service role exports its shop''s two examples');
select is((select input_text from api.export_training_dataset() where conversation_id = 1001),
  'Hi, I am [NAME], [EMAIL], call [PHONE] or [PHONE].', 'redaction: name, e-mail and both phone forms');
select is((select model_draft from api.export_training_dataset() where conversation_id = 1001),
  'Thanks [NAME]! I refunded card [CARD] for order #100234 placed on 2025-10-02.', 'redaction: card numbers and first names go, order numbers and dates stay');
select is((select notes from api.export_training_dataset() where conversation_id = 1001), 'Escalate to [NAME]', 'redaction: a titled name');
select is_empty($$select 1 from api.export_training_dataset(false) e
  where concat_ws(' ', e.input_text, e.model_draft, e.notes) ~ '@|\d{3}\)?[ .-]?\d{3}[ .-]?\d{4}|Ana|Silva'$$,
  'no e-mail, phone number or customer name survives include_pii = false');
select is((select input_text from api.export_training_dataset(true) where conversation_id = 1001),
  'Hi, I am Ana Silva, ana.silva@example.com, call (555) 201-3344 or +44 20 7946 0958.', 'include_pii = true keeps the texts');
select is((select count(*)::int from api.export_training_dataset(false, now() - interval '90 minutes', now())), 1, 'the date range filters');
select throws_ok($$select * from api.export_training_dataset(false, now(), now() - interval '1 day')$$, '22023',
  'date_from: must not be after date_to', 'an inverted range is refused');
select throws_ok($$select * from api.export_training_dataset(false, now() - interval '400 days', now())$$, '22023',
  'date_to: the range may span at most 366 days', 'an unbounded range is refused');
select tests.authenticate_as('service_role', null, (select b from t_ids));
select is((select array_agg(conversation_id) from api.export_training_dataset()), array[2001::bigint], 'shop B''s service role exports only B''s example');
select tests.authenticate_as('service_role', null, null);
select throws_ok('select * from api.export_training_dataset()', '42501', 'your token names no account', 'an export needs an account');

-- The rollups change only when refreshed (the cache the spec describes).
select tests.clear_authentication();
insert into hotdash.orders (account_id, created_at, total_amount) select b, now() - interval '5 minutes', 1.00 from t_ids;
select tests.authenticate_as('authenticated', gen_random_uuid(), (select b from t_ids));
select is((api.get_dashboard_summary() ->> 'orders_last_24h')::int, 1, 'a new order is not in the summary before the refresh');
select tests.clear_authentication();
select hotdash.refresh_rollups(force => true);
select tests.authenticate_as('authenticated', gen_random_uuid(), (select b from t_ids));
select is((api.get_dashboard_summary() ->> 'orders_last_24h')::int, 2, 'and is after it');

select * from finish();
rollback;
