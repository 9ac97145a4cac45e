-- Hot Dash data generator: deterministic (hash-based, no random()), so the same arguments give the
-- same rows, anchored to the hour it runs in. The demo (20_hotdash_demo.sql) uses it for two shops
-- over 30 days; bench/seed/hotdash_10m.sql uses it for 10 million orders.
create schema if not exists seed;
comment on schema seed is 'Demo and benchmark data generators (not part of the product API).';
revoke all on schema seed from public;

-- A uniform number in [0, 1) from a key and a salt: the same pair always gives the same number.
create or replace function seed.rand(key bigint, salt integer) returns double precision
language sql immutable parallel safe as $$
  select ((hashint8extended(key, salt) & 9007199254740991)::double precision) / 9007199254740992.0
$$;

create or replace function seed.pick(options text[], key bigint, salt integer) returns text
language sql immutable parallel safe as $$
  select options[1 + floor(seed.rand(key, salt) * array_length(options, 1))::integer]
$$;

-- One shop: customers, orders, storefront sessions, approval queue, agent queries and training
-- examples, hour by hour over `days` days up to now. With `anomalies`, three hours of the last day
-- are made abnormal: 3 hours ago a slump (low volume and a revenue drop), 7 hours ago a spike,
-- 11 hours ago a fulfillment drop. Replaces the shop's previous rows.
create or replace function seed.hotdash_shop(
  shop uuid, shop_name text, days integer, orders_per_hour numeric, agent_per_hour numeric,
  training_per_hour numeric, salt integer, anomalies boolean default false, sessions_per_order numeric default 4
) returns void language plpgsql as $$
declare
  anchor constant timestamptz := date_trunc('hour', now());
  first_hour constant timestamptz := anchor - make_interval(hours => days * 24 - 1);
  customers_start constant timestamptz := anchor - make_interval(days => days * 3);
  -- One new customer per 10 orders' worth of time.
  customer_step constant interval := make_interval(secs => 10 * 3600.0 / greatest(orders_per_hour, 0.1));
  customer_count integer;
  firsts constant text[] := array['Olivia', 'Liam', 'Emma', 'Noah', 'Ava', 'Lucas', 'Mia', 'Ethan', 'Sofia', 'Mason', 'Chloe', 'Mateo', 'Priya', 'Kenji', 'Amara', 'Jonas'];
  lasts constant text[] := array['Smith', 'Garcia', 'Nguyen', 'Johnson', 'Okafor', 'Müller', 'Rossi', 'Kowalski', 'Tanaka', 'Silva', 'Brown', 'Haddad', 'Larsen', 'Patel'];
begin
  delete from hotdash.shops where account_id = shop;
  insert into hotdash.shops (account_id, name, created_at) values (shop, shop_name, customers_start);

  customer_count := floor(extract(epoch from anchor + interval '1 hour' - customers_start) / extract(epoch from customer_step))::integer;
  insert into hotdash.customers (account_id, name, email, phone, created_at)
  select shop, f || ' ' || l,
         lower(translate(f || '.' || l, 'ü', 'u')) || k || '@example.com',
         '555-' || lpad((100 + k % 900)::text, 3, '0') || '-' || lpad((k * 7919 % 10000)::text, 4, '0'),
         customers_start + k * customer_step
    from generate_series(0, customer_count - 1) k,
         seed.pick(firsts, k, salt) f, seed.pick(lasts, k, salt + 1) l
   order by k;

  create temp table shop_customers on commit drop as
    select row_number() over (order by id) - 1 as k, id, name, email, phone, created_at
      from hotdash.customers where account_id = shop;
  create unique index on shop_customers (k);

  -- Hours, with a gentle daily rhythm (0.75 to 1.25) and noise (0.8 to 1.2).
  create temp table shop_hours on commit drop as
    select h, first_hour + make_interval(hours => h) as hour_start,
           (0.75 + 0.25 * sin(2 * pi() * (extract(hour from first_hour + make_interval(hours => h)) - 9) / 24))
             * (0.8 + 0.4 * seed.rand(h, salt + 2)) as rhythm,
           case when not anomalies then 1.0
                when first_hour + make_interval(hours => h) = anchor - interval '3 hours' then 0.15
                when first_hour + make_interval(hours => h) = anchor - interval '7 hours' then 3.0
                else 1.0 end as volume_factor,
           anomalies and first_hour + make_interval(hours => h) = anchor - interval '11 hours' as fulfillment_slump
      from generate_series(0, days * 24 - 1) h;

  -- Orders; the current hour only up to now.
  insert into hotdash.orders (account_id, customer_id, created_at, total_amount, status, fulfillment_status, fulfilled_at)
  select shop, c.id, o.at, o.amount, o.status,
         case when o.fulfilled then 'fulfilled' else 'unfulfilled' end,
         case when o.fulfilled then o.at + interval '2 hours' end
    from shop_hours sh
    cross join lateral generate_series(1, round(orders_per_hour * sh.rhythm * sh.volume_factor)::integer) n
    cross join lateral (select sh.h * 100000 + n as key) key
    cross join lateral (
      select sh.hour_start + make_interval(secs => seed.rand(key.key, salt + 3) * least(3600, extract(epoch from now() - sh.hour_start))) as at,
             round((80 + 240 * seed.rand(key.key, salt + 4))::numeric, 2) as amount,
             case when seed.rand(key.key, salt + 5) < 0.02 then 'cancelled' else 'paid' end as status,
             seed.rand(key.key, salt + 6) < case when sh.fulfillment_slump then 0.4 else 0.95 end as fulfilled
    ) o
    -- A quarter of orders come from the newest customer (often created that hour: "new").
    cross join lateral (
      select floor(extract(epoch from o.at - customers_start) / extract(epoch from customer_step))::bigint as newest
    ) latest
    join shop_customers c on c.k = case when seed.rand(key.key, salt + 7) < 0.25 then latest.newest
                                        else floor(seed.rand(key.key, salt + 8) * latest.newest)::bigint end;

  insert into hotdash.storefront_sessions (account_id, started_at)
  select shop, sh.hour_start + make_interval(secs => seed.rand(sh.h * 100000 + n, salt + 9) * least(3600, extract(epoch from now() - sh.hour_start)))
    from shop_hours sh
    cross join lateral generate_series(1, round(sessions_per_order * orders_per_hour * sh.rhythm)::integer) n;

  insert into hotdash.approval_queue (account_id, agent_type, status, priority, confidence, created_at, resolved_at)
  select shop, seed.pick(array['product_search', 'order_status', 'returns', 'shipping'], key, salt + 10),
         q.status,
         seed.pick(array['urgent', 'high', 'high', 'normal', 'normal', 'normal', 'normal', 'low'], key, salt + 11),
         round((60 + 39 * seed.rand(key, salt + 12))::numeric, 2),
         q.at,
         case when q.status <> 'pending' then q.at + make_interval(mins => 5 + floor(115 * seed.rand(key, salt + 13))::integer) end
    from shop_hours sh
    cross join lateral generate_series(1, round(agent_per_hour / 2 * sh.rhythm)::integer) n
    cross join lateral (select sh.h * 100000 + n as key) k(key)
    cross join lateral (
      select sh.hour_start + make_interval(secs => seed.rand(key, salt + 14) * least(3600, extract(epoch from now() - sh.hour_start))) as at,
             case when sh.hour_start >= anchor - interval '2 hours' and seed.rand(key, salt + 15) < 0.7 then 'pending'
                  else seed.pick(array['approved', 'approved', 'approved', 'approved', 'rejected', 'edited'], key, salt + 16) end as status
    ) q;

  insert into hotdash.agent_queries (account_id, agent_type, created_at, approved, human_edited, latency_ms,
                                     accuracy_score, helpfulness_score, tone_score, safe_to_send)
  select shop, seed.pick(array['product_search', 'order_status', 'returns', 'shipping'], key, salt + 17),
         sh.hour_start + make_interval(secs => seed.rand(key, salt + 18) * least(3600, extract(epoch from now() - sh.hour_start))),
         seed.rand(key, salt + 19) < 0.9, seed.rand(key, salt + 20) < 0.18,
         100 + floor(800 * seed.rand(key, salt + 21) ^ 2)::integer,
         round((3 + 2 * seed.rand(key, salt + 22))::numeric, 2), round((3 + 2 * seed.rand(key, salt + 23))::numeric, 2),
         round((3.5 + 1.5 * seed.rand(key, salt + 24))::numeric, 2), seed.rand(key, salt + 25) < 0.9
    from shop_hours sh
    cross join lateral generate_series(1, round(agent_per_hour * sh.rhythm)::integer) n
    cross join lateral (select sh.h * 100000 + n as key) k(key);

  -- Conversations carry PII on purpose: the export must redact it.
  insert into hotdash.training_examples (account_id, conversation_id, customer_id, input_text, model_draft, notes,
      safe_to_send, category, sentiment, tone, accuracy_score, helpfulness_score, tone_score, confidence,
      response_time_ms, annotator, created_at)
  select shop, 1000 + key, c.id,
         'Hi, this is ' || c.name || '. ' || seed.pick(array[
             'When will order #' || (10000 + key % 90000) || ' ship?',
             'I was charged twice on card ' || '4111 1111 1111 ' || lpad((key % 10000)::text, 4, '0') || ', please refund one.',
             'Can I return the blue jacket I bought on 2025-10-02?',
             'Do you ship to Canada? Call me at ' || c.phone || '.',
             'My package says delivered but I never got it.'], key, salt + 26)
           || ' You can reach me at ' || c.email || '.',
         'Hi ' || split_part(c.name, ' ', 1) || ', thanks for reaching out! ' || seed.pick(array[
             'Your order will ship within 2-3 business days.',
             'I have refunded the duplicate charge; it will show in 5-7 days.',
             'Yes, returns are free within 30 days.',
             'We ship to Canada; I will text you at ' || c.phone || ' with the rates.',
             'I am sorry! I have opened a claim with the carrier.'], key, salt + 26),
         seed.pick(array['Perfect response', 'Good, slightly long', 'Should mention the return window',
                         'Customer ' || c.name || ' was upset; tone was right', 'Escalate to Mr. ' || split_part(c.name, ' ', 2)],
                   key, salt + 27),
         seed.rand(key, salt + 28) < 0.9,
         seed.pick(array['shipping_inquiry', 'billing', 'returns', 'international', 'lost_package', 'product_question', 'order_change', 'account'], key, salt + 29),
         seed.pick(array['positive', 'neutral', 'neutral', 'negative'], key, salt + 30),
         seed.pick(array['professional', 'friendly', 'empathetic'], key, salt + 31),
         round((3 + 2 * seed.rand(key, salt + 32))::numeric, 2), round((3 + 2 * seed.rand(key, salt + 33))::numeric, 2),
         round((3.5 + 1.5 * seed.rand(key, salt + 34))::numeric, 2), round((0.6 + 0.39 * seed.rand(key, salt + 35))::numeric, 3),
         120 + floor(500 * seed.rand(key, salt + 36))::integer,
         seed.pick(array['annotator_ana', 'annotator_ben', 'annotator_caro'], key, salt + 37),
         sh.hour_start + make_interval(secs => seed.rand(key, salt + 38) * least(3600, extract(epoch from now() - sh.hour_start)))
    from shop_hours sh
    cross join lateral generate_series(1, round(training_per_hour * sh.rhythm)::integer) n
    cross join lateral (select sh.h * 100000 + n as key) k(key)
    join shop_customers c on c.k = floor(seed.rand(key, salt + 39) * (select count(*) from shop_customers))::bigint;

  drop table shop_hours;
  drop table shop_customers;
end $$;
