-- FlowPilot data generator: deterministic (seed.rand, no random()), anchored to the time it runs.
-- The demo (40_flowpilot_demo.sql) makes one account with three users, three trees and 30 days of
-- escalations; the benchmark (bench/seed/30_flowpilot.sql) makes 1 thousand and 1 million handoffs.
set client_min_messages = warning;
create schema if not exists seed;

-- An account with an admin, an engineer and a viewer (admin@, engineer@, viewer@ the domain, all
-- with `password`) and three troubleshooting trees. Replaces the account's previous rows.
create or replace function seed.flowpilot_account(account uuid, account_name text, email_domain text, password text,
                                                  password_cost integer default 12) returns void
language plpgsql as $$
declare
  role text;
  engineer uuid;
begin
  delete from flowpilot.accounts where id = account;
  insert into flowpilot.accounts (id, name) values (account, account_name);
  foreach role in array array['admin', 'engineer', 'viewer'] loop
    insert into flowpilot.users (id, account_id, email, full_name, password_hash, role)
    values (md5(account::text || role)::uuid, account, role || '@' || email_domain, initcap(role) || ' of ' || account_name,
            extensions.crypt(password, extensions.gen_salt('bf', password_cost)), role);
  end loop;
  engineer := md5(account::text || 'engineer')::uuid;
  insert into flowpilot.trees (account_id, title, description, category, nodes, root_node_id, created_by) values
  (account, 'Printer will not print', 'Office printers that stay silent', 'hardware',
   '[{"id": "power", "text": "Does the printer power on?", "options": [{"label": "Yes", "next": "queue"}, {"label": "No", "next": "cable"}]},
     {"id": "cable", "text": "Check the power cable and the wall socket, then switch it on."},
     {"id": "queue", "text": "Are jobs stuck in the print queue?", "options": [{"label": "Yes", "next": "spooler"}, {"label": "No", "next": "paper"}]},
     {"id": "spooler", "text": "Restart the print spooler service and resend the job."},
     {"id": "paper", "text": "Is there paper in the tray and no jam?", "options": [{"label": "Yes", "next": "driver"}, {"label": "No", "next": "load"}]},
     {"id": "load", "text": "Load paper and clear any jam."},
     {"id": "driver", "text": "Reinstall the printer driver."}]', 'power', engineer),
  (account, 'Wi-Fi keeps dropping', 'Laptops losing the wireless network', 'network',
   '[{"id": "others", "text": "Do other devices drop too?", "options": [{"label": "Yes", "next": "router"}, {"label": "No", "next": "driver"}]},
     {"id": "router", "text": "Restart the router and check its firmware."},
     {"id": "driver", "text": "Update the laptop wireless driver and forget and rejoin the network."}]', 'others', engineer),
  (account, 'VPN will not connect', 'Remote staff who cannot reach the office network', 'network',
   '[{"id": "internet", "text": "Can you open any website?", "options": [{"label": "Yes", "next": "mfa"}, {"label": "No", "next": "isp"}]},
     {"id": "isp", "text": "Fix the home internet connection first."},
     {"id": "mfa", "text": "Did the MFA prompt arrive?", "options": [{"label": "Yes", "next": "ticket"}, {"label": "No", "next": "resync"}]},
     {"id": "resync", "text": "Resynchronise the authenticator app clock."},
     {"id": "ticket", "text": "Escalate to the network team with the VPN client log."}]', 'internet', engineer);
end $$;

-- `handoffs` AI-to-human handoffs over the last `days` days, two per session: 85 % claimed 10 s to
-- 30 min after they were raised; of those, 90 % acted on 1 s to about 30 min after the claim.
create or replace function seed.flowpilot_handoffs(account uuid, handoffs integer, days integer, salt integer) returns void
language plpgsql as $$
declare
  anchor constant timestamptz := now();
  viewer constant uuid := md5(account::text || 'viewer')::uuid;
  engineer constant uuid := md5(account::text || 'engineer')::uuid;
begin
  delete from flowpilot.sessions where account_id = account and tree_title = 'Generated escalation';
  create temp table generated_handoffs on commit drop as
  select i, md5(salt || ':session:' || (i / 2))::uuid as session_id,
         -- The two handoffs of a session are raised half an hour apart.
         anchor - days * seed.rand(i / 2, salt) * interval '1 day' - (1 - i % 2) * interval '30 minutes' as raised_at,
         seed.rand(i, salt + 1) < 0.85 as claimed, 10 + seed.rand(i, salt + 2) * 1790 as claim_after,
         seed.rand(i, salt + 3) < 0.9 as acted, exp(seed.rand(i, salt + 4) * 7.5) as act_after
    from generate_series(0, handoffs - 1) i;
  insert into flowpilot.sessions (id, account_id, user_id, tree_title, tree_version, nodes, current_node_id, started_at, status)
  select session_id, account, viewer, 'Generated escalation', 1, '[{"id": "s", "text": "Escalated by the AI"}]', 's',
         min(raised_at) - interval '5 minutes', 'in_progress'
    from generated_handoffs group by session_id;
  insert into flowpilot.ai_session_steps (account_id, session_id, actor, content, created_at)
  select account, session_id, 'ai', 'Suggested the standard fix', min(raised_at) - interval '1 minute'
    from generated_handoffs group by session_id;
  insert into flowpilot.session_handoffs (account_id, session_id, reason, created_by, created_at, claimed_by, claimed_at)
  select account, session_id, 'The AI could not resolve it', viewer, raised_at,
         case when claimed and raised_at + claim_after * interval '1 s' < anchor then engineer end,
         case when claimed and raised_at + claim_after * interval '1 s' < anchor then raised_at + claim_after * interval '1 s' end
    from generated_handoffs;
  -- The first-action trigger finds the handoffs of the new steps' sessions through an array of
  -- them; with statistics from before these inserts the planner scans the table once per array
  -- element instead (a million handoffs: over 30 minutes, not seconds).
  analyze flowpilot.session_handoffs;
  insert into flowpilot.ai_session_steps (account_id, session_id, actor, content, created_by, created_at)
  select account, session_id, 'human', 'Took over and replied', engineer, raised_at + (claim_after + act_after) * interval '1 s'
    from generated_handoffs
   where claimed and acted and raised_at + (claim_after + act_after) * interval '1 s' < anchor;
  drop table generated_handoffs;
end $$;
