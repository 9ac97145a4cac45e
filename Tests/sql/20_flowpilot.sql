-- FlowPilot: accounts and login (bcrypt, throttling, refresh-token families), trees (validation,
-- versions, search), sessions (walk, visibility, export), handoffs and the escalation metric.
begin;
select plan(99);

-- Accounts A and B; in A an admin, an engineer and two viewers, in B an engineer. Fixture users
-- get cost-4 hashes so the file runs fast; what the product writes is checked for cost 12 below.
create temp table t_ids as select
  'a0000000-0000-4000-8000-00000000000a'::uuid as a, 'b0000000-0000-4000-8000-00000000000b'::uuid as b,
  'a0000000-0000-4000-8000-0000000000ad'::uuid as a_admin, 'a0000000-0000-4000-8000-0000000000e0'::uuid as a_eng,
  'a0000000-0000-4000-8000-0000000000f1'::uuid as a_viewer, 'a0000000-0000-4000-8000-0000000000f2'::uuid as a_viewer2,
  'b0000000-0000-4000-8000-0000000000e0'::uuid as b_eng;
grant select on t_ids to anon, authenticated, service_role;
insert into flowpilot.accounts (id, name) select a, 'A' from t_ids union all select b, 'B' from t_ids;
insert into flowpilot.users (id, account_id, email, password_hash, role)
select a_admin, a, 'admin@a.test', extensions.crypt('admin-pass', extensions.gen_salt('bf', 4)), 'admin' from t_ids union all
select a_eng, a, 'eng@a.test', extensions.crypt('eng-pass1', extensions.gen_salt('bf', 4)), 'engineer' from t_ids union all
select a_viewer, a, 'viewer@a.test', extensions.crypt('viewer-pass', extensions.gen_salt('bf', 4)), 'viewer' from t_ids union all
select a_viewer2, a, 'viewer2@a.test', extensions.crypt('viewer-pass', extensions.gen_salt('bf', 4)), 'viewer' from t_ids union all
select b_eng, b, 'eng@b.test', extensions.crypt('eng-pass1', extensions.gen_salt('bf', 4)), 'engineer' from t_ids;

create function pg_temp.as_user(who uuid, client text default '10.0.0.1') returns void language plpgsql as $$
declare
  u flowpilot.users;
begin
  perform tests.clear_authentication();
  select * into u from flowpilot.users where id = who;
  perform tests.authenticate_as('authenticated', u.id, u.account_id, u.role);
  perform set_config('request.client_addr', client, true);
  perform set_config('response.status', '', true);
end $$;
create function pg_temp.as_anon(client text default '10.0.0.1') returns void language plpgsql as $$
begin
  perform tests.clear_authentication();
  perform tests.authenticate_as('anon');
  perform set_config('request.client_addr', client, true);
  perform set_config('response.status', '', true);
end $$;
create function pg_temp.status() returns text language sql as $$ select current_setting('response.status', true) $$;
grant execute on all functions in schema pg_temp to anon, authenticated, service_role;

-- ── Accounts, invitations, registration ────────────────────────────────────────────────────────
select tests.authenticate_as('service_role');
create temp table t_new_account as select api.create_account('New Co', 'Boss@New.test', 'a long password', 'Boss') as body;
select tests.clear_authentication();
select is((select role from flowpilot.users where email = 'boss@new.test'), 'admin', 'create_account makes its first user an admin, e-mail lower-cased');
select ok((select password_hash like '$2a$12$%' from flowpilot.users where email = 'boss@new.test'), 'passwords are bcrypt with cost 12');
select ok(not has_function_privilege('authenticated', 'api.create_account(text, text, text, text)', 'execute'), 'members cannot create accounts');
select is(array(select a.name from pg_proc p, unnest(p.proargnames) a(name) where p.oid = 'api.register(text, text, text, text)'::regprocedure order by 1),
  array['email', 'full_name', 'invite_code', 'password'], 'register takes no role or account: nothing to mass-assign');

select pg_temp.as_user((select a_viewer from t_ids));
select throws_ok($$select api.create_invitation('x@a.test', 'admin')$$, '42501', null, 'a viewer cannot invite');
select pg_temp.as_user((select a_admin from t_ids));
create temp table t_invite as select api.create_invitation('New.Eng@a.test', 'engineer') as body;
grant select on t_invite to anon;
select is(pg_temp.status(), '201', 'an invitation is created (201)');
select throws_ok($$select api.create_invitation('y@a.test', 'owner')$$, '22023', null, 'an unknown role is refused');

select pg_temp.as_anon();
select throws_ok($$select api.register('new.eng@a.test', 'password1', 'not-the-code')$$, 'PT403', null, 'a wrong invitation code is refused');
select throws_ok($$select api.register('other@a.test', 'password1', (select body ->> 'invite_code' from t_invite))$$, 'PT403', null,
  'an invitation only works for its own address');
select throws_ok($$select api.register('new.eng@a.test', 'short', (select body ->> 'invite_code' from t_invite))$$, '22023', null,
  'a password under 8 characters is refused');
select is((select r ->> 'role' from api.register('NEW.ENG@a.test', 'password1', (select body ->> 'invite_code' from t_invite), 'Nina') r), 'engineer',
  'registering with the code gives the invitation''s role');
select tests.clear_authentication();
select is((select account_id from flowpilot.users where email = 'new.eng@a.test'), (select a from t_ids), '… in the invitation''s account');
select throws_ok($$select api.register('new.eng@a.test', 'password1', (select body ->> 'invite_code' from t_invite))$$, 'PT403', null,
  'an invitation is used once');

-- ── Login, throttling, refresh tokens ──────────────────────────────────────────────────────────
select pg_temp.as_anon('10.0.0.1');
select is(api.login('eng@a.test', 'wrong-pass'), api.login('nobody@a.test', 'wrong-pass'),
  'an unknown user and a wrong password get the same answer');
select is(pg_temp.status(), '401', '… a 401');
select tests.clear_authentication();
select is((select count(*)::int from flowpilot.login_failures where client_addr = '10.0.0.1'), 2, 'failures are recorded (they are not rolled back)');
select api.login('eng@a.test', 'wrong-pass') from generate_series(1, 4);
select pg_temp.as_anon('10.0.0.1');
select is(api.login('eng@a.test', 'eng-pass1') ->> 'code', 'RATE_LIMIT_EXCEEDED', 'after 5 failures from one client even the right password waits');
select is(pg_temp.status(), '429', '… with a 429');
select ok(current_setting('response.headers')::jsonb ? 'Retry-After', '… and a Retry-After');
select pg_temp.as_anon('10.0.0.2');
select ok(api.login('eng@a.test', 'eng-pass1') ? 'access_token_claims', 'the owner logging in from another client is not locked out');
select pg_temp.as_anon('10.0.0.3');
create temp table t_login as select api.login('ENG@a.test', 'eng-pass1') as body;
grant select, update on t_login to anon, authenticated;
select is((select body #>> '{access_token_claims,app_metadata,app_role}' from t_login), 'engineer', 'a login carries the user''s role');
select is((select body #>> '{access_token_claims,app_metadata,account_id}' from t_login), (select a::text from t_ids), '… and account');
select is((select body #>> '{access_token_claims,role}' from t_login), 'authenticated', '… as the authenticated database role');
select ok((select length(body ->> 'refresh_token') = 64 from t_login), 'the refresh token is 32 random bytes');
select tests.clear_authentication();
select is((select count(*)::int from flowpilot.refresh_tokens where token_hash = extensions.digest((select body ->> 'refresh_token' from t_login), 'sha256')),
  1, 'only the refresh token''s SHA-256 is stored');

create temp table t_refresh as select api.refresh_token((select body ->> 'refresh_token' from t_login)) as body;
grant select on t_refresh to anon;
select ok((select body ? 'access_token_claims' from t_refresh), 'a refresh token buys new tokens');
select isnt((select body ->> 'refresh_token' from t_refresh), (select body ->> 'refresh_token' from t_login), '… and is rotated');
select pg_temp.as_anon();
select is(api.refresh_token((select body ->> 'refresh_token' from t_login)) ->> 'code', 'AUTH_REQUIRED', 'reusing a rotated refresh token is refused');
select pg_temp.as_anon();
select is(api.refresh_token((select body ->> 'refresh_token' from t_refresh)) ->> 'code', 'AUTH_REQUIRED',
  '… and revokes its whole family, the newest token included');
select pg_temp.as_anon();
update t_login set body = api.login('eng@a.test', 'eng-pass1');
select pg_temp.as_user((select a_eng from t_ids));
select is((api.logout((select body ->> 'refresh_token' from t_login)) ->> 'revoked_refresh_tokens')::int, 1, 'logout revokes the login''s refresh token');
select pg_temp.as_anon();
select is(api.refresh_token((select body ->> 'refresh_token' from t_login)) ->> 'code', 'AUTH_REQUIRED', '… which no longer refreshes');

select pg_temp.as_anon();
update t_login set body = api.login('viewer@a.test', 'viewer-pass');
select pg_temp.as_user((select a_viewer from t_ids));
select throws_ok(format('select api.update_user(%L, ''admin'')', (select a_viewer from t_ids)), '42501', null, 'a viewer cannot promote themself');
select pg_temp.as_user((select a_admin from t_ids));
select throws_ok(format('select api.update_user(%L, ''viewer'')', (select a_admin from t_ids)), 'PT409', null, 'an admin cannot demote themself');
select is(api.update_user((select a_viewer from t_ids), 'engineer') ->> 'role', 'engineer', 'an admin changes a user''s role');
select pg_temp.as_anon();
select is(api.refresh_token((select body ->> 'refresh_token' from t_login)) ->> 'code', 'AUTH_REQUIRED',
  'a role change revokes the user''s refresh tokens, so the old role does not come back');
reset role;
update flowpilot.users set role = 'viewer' where id = (select a_viewer from t_ids);

-- ── Trees ──────────────────────────────────────────────────────────────────────────────────────
create temp table t_nodes as select
  '[{"id": "start", "text": "Does the printer power on?", "options": [{"label": "Yes", "next": "paper"}, {"label": "No", "next": "plug"}]},
    {"id": "paper", "text": "Is there paper in the tray?", "options": [{"label": "Yes", "next": "driver"}, {"label": "No", "next": "load"}]},
    {"id": "plug", "text": "Plug the power cable in firmly"},
    {"id": "load", "text": "Load paper"},
    {"id": "driver", "text": "Reinstall the printer driver"}]'::jsonb as printer;
grant select on t_nodes to authenticated;
select pg_temp.as_user((select a_viewer from t_ids));
select throws_ok($$select api.create_tree('Printer', (select printer from t_nodes))$$, '42501', null, 'a viewer cannot create trees');
select pg_temp.as_user((select a_eng from t_ids));
create temp table t_tree as select api.create_tree('Printer troubleshooting', (select printer from t_nodes), 'Office printers', 'hardware') as body;
grant select on t_tree to authenticated;
select is((select body ->> 'root_node_id' from t_tree), 'start', 'an engineer creates a tree; its root is found');
select is(pg_temp.status(), '201', '… 201');
select throws_ok($$select api.create_tree('Bad', '[{"id": "a", "text": "A", "options": [{"label": "x", "next": "ghost"}]}]')$$,
  'PT422', 'invalid tree: option "x" leads to ghost, which is not a node of this tree', 'an option to a missing node is a 422');
select throws_ok($$select api.create_tree('Bad', '[{"id": "a", "text": "A"}, {"id": "b", "text": "B"}]')$$,
  'PT422', 'invalid tree: more than one root (a, b): no option leads to these nodes', 'two roots are a 422');
select throws_ok($$select api.create_tree('Bad', '[{"id": "a", "text": "A", "options": [{"label": "x", "next": "b"}]},
    {"id": "b", "text": "B", "options": [{"label": "y", "next": "c"}]}, {"id": "c", "text": "C", "options": [{"label": "z", "next": "b"}]}]')$$,
  'PT422', 'invalid tree: the node is on a cycle', 'a cycle is a 422');
select throws_ok($$select api.create_tree('Bad', '[{"id": "a", "text": "A"}, {"id": "a", "text": "again"}]')$$,
  'PT422', 'invalid tree: duplicate node id', 'duplicate node ids are a 422');
select throws_ok($$select flowpilot.check_tree('[{"id": "a", "text": "A", "options": [{"label": "x", "next": "b"}]}, {"id": "b", "text": "B", "options": [{"label": "y", "next": "c"}]}, {"id": "c", "text": "C", "options": [{"label": "z", "next": "b"}]}]')$$,
  'PT422', null, 'the cycle check runs without a root problem too');
select throws_ok(format('select api.update_tree(%L, 7, title => %L)', (select body ->> 'id' from t_tree), 'Stale'), 'PT409', null,
  'an update from a stale version is a 409');
select is(api.update_tree((select (body ->> 'id')::uuid from t_tree), 1, title => 'Printer fixes') ->> 'version', '2',
  'an update from the current version succeeds and bumps the version');
select api.create_tree('Wi-Fi drops', '[{"id": "w", "text": "Is the router lit?", "options": [{"label": "Yes", "next": "r"}]}, {"id": "r", "text": "Restart the printer spooler service"}]',
                       'Wireless', 'network');
select is(api.list_trees(page => 1, page_size => 1) -> 'total', '2', 'list_trees counts the account''s trees');
select is(jsonb_array_length(api.list_trees(page => 2, page_size => 1) -> 'items'), 1, '… and pages them');
select is(api.tree_categories(), '[{"category": "hardware", "tree_count": 1}, {"category": "network", "tree_count": 1}]', 'categories with counts');
select is(array(select t ->> 'title' from jsonb_array_elements(api.search_trees('printer')) t), array['Printer fixes', 'Wi-Fi drops'],
  'search ranks a title match above a node-text match');
select pg_temp.as_user((select b_eng from t_ids));
select throws_ok(format('select api.get_tree(%L)', (select body ->> 'id' from t_tree)), 'PT404', null, 'another account''s tree is not found');
select is(api.search_trees('printer'), '[]', '… nor searchable');
select pg_temp.as_user((select a_eng from t_ids));
select throws_ok(format('select api.delete_tree(%L)', (select body ->> 'id' from t_tree)), '42501', null, 'an engineer cannot delete a tree');

-- ── Sessions ───────────────────────────────────────────────────────────────────────────────────
select pg_temp.as_user((select a_viewer from t_ids));
create temp table t_session as select api.start_session((select (body ->> 'id')::uuid from t_tree)) as body;
grant select on t_session to authenticated;
select is((select body #>> '{current_node,id}' from t_session), 'start', 'a session starts at the root');
select is(api.update_session((select (body ->> 'id')::uuid from t_session), answer => 'Yes') #>> '{current_node,id}', 'paper',
  'an answer moves to the node its option leads to');
select throws_ok(format('select api.update_session(%L, answer => %L)', (select body ->> 'id' from t_session), 'Maybe'), 'PT422', null,
  'an answer that is not an option is a 422');
select is((select jsonb_agg(p - 'at') from jsonb_array_elements(
              api.update_session((select (body ->> 'id')::uuid from t_session), answer => 'No', notes => 'tray was empty') -> 'path') p),
  jsonb_build_array(jsonb_build_object('node_id', 'start', 'question', 'Does the printer power on?', 'answer', 'Yes'),
                    jsonb_build_object('node_id', 'paper', 'question', 'Is there paper in the tray?', 'answer', 'No')),
  'the path records each question and answer');
select pg_temp.as_user((select a_viewer2 from t_ids));
select throws_ok(format('select api.get_session(%L)', (select body ->> 'id' from t_session)), 'PT404', null, 'a user cannot read another user''s session');
select is(api.list_sessions() -> 'total', '0', '… nor list it');
select pg_temp.as_user((select a_eng from t_ids));
select is(api.get_session((select (body ->> 'id')::uuid from t_session)) ->> 'notes', 'tray was empty', 'an engineer reads the account''s sessions');
select throws_ok(format('select api.update_session(%L, notes => %L)', (select body ->> 'id' from t_session), 'x'), '42501', null,
  '… but cannot walk someone else''s');
select pg_temp.as_user((select a_viewer from t_ids));
select is(api.complete_session((select (body ->> 'id')::uuid from t_session), 'Loaded paper') ->> 'status', 'completed', 'the owner completes a session');
select throws_ok(format('select api.complete_session(%L, %L)', (select body ->> 'id' from t_session), 'again'), 'PT409', null,
  'a completed session cannot be completed again');
select matches(api.export_session((select (body ->> 'id')::uuid from t_session), 'markdown'),
  E'1\\. \\*\\*Does the printer power on\\?\\*\\* — Yes\n2\\. \\*\\*Is there paper in the tray\\?\\*\\* — No', 'the Markdown transcript lists the path');
select is(current_setting('response.headers')::jsonb ->> 'Content-Type', 'text/markdown; charset=utf-8', '… served as text/markdown');

-- ── Handoffs and the escalation metric ─────────────────────────────────────────────────────────
select pg_temp.as_user((select a_eng from t_ids));
select is(api.get_escalation_metrics('7d') - 'window_start' - 'window_end' - 'computed_at' - 'metric_definition',
  '{"period": "7d", "n_handoffs_claimed": 0, "n_handoffs_with_action": 0, "avg_seconds": null, "median_seconds": null, "p95_seconds": null}',
  'zero data: zero counts and no statistics');
select ok(api.get_escalation_metrics() #>> '{metric_definition,disclaimer}' like 'This is not "minutes recovered"%', 'every answer carries the disclaimer');
select throws_ok($$select api.get_escalation_metrics('14d')$$, '22023', null, 'a period other than 7d, 30d, 90d is a 400');
select pg_temp.as_user((select a_viewer from t_ids));
select throws_ok($$select api.get_escalation_metrics('7d')$$, '42501', null, 'a viewer gets 403');

-- Handoffs on the session, claimed at known times before now; steps at known offsets after the
-- claims. Deltas (s): 10, 20, 30, 40, 100; one claimed without action; one unclaimed; one claimed
-- 20 days ago (outside 7d); a step before a claim never counts for it.
reset role;
create temp table t_handoffs (id uuid, claimed_ago interval, action_after interval);
insert into t_handoffs values (gen_random_uuid(), '2 days', '10 s'), (gen_random_uuid(), '3 days', '20 s'), (gen_random_uuid(), '4 days', '30 s'),
  (gen_random_uuid(), '5 days', '40 s'), (gen_random_uuid(), '6 days', '100 s'), (gen_random_uuid(), '1 day', null),
  (gen_random_uuid(), null, null), (gen_random_uuid(), '20 days', '5 s');
-- One session per handoff, so "the first step after the claim" is that handoff's own step.
insert into flowpilot.sessions (id, account_id, user_id, tree_title, tree_version, nodes, current_node_id)
  select h.id, a, a_viewer, 'T', 1, '[]', 'x' from t_handoffs h, t_ids;
insert into flowpilot.ai_session_steps (account_id, session_id, actor, content, created_at)
  select a, h.id, 'ai', 'before the claim', now() - h.claimed_ago - interval '1 hour' from t_handoffs h, t_ids where h.claimed_ago is not null;
insert into flowpilot.session_handoffs (account_id, session_id, claimed_at)
  select a, h.id, now() - h.claimed_ago from t_handoffs h, t_ids;
insert into flowpilot.ai_session_steps (account_id, session_id, actor, content, created_at)
  select a, h.id, 'human', 'first action', now() - h.claimed_ago + h.action_after from t_handoffs h, t_ids where h.action_after is not null
  union all
  select a, h.id, 'ai', 'later action', now() - h.claimed_ago + h.action_after + interval '1 hour' from t_handoffs h, t_ids where h.action_after is not null;
select pg_temp.as_user((select a_eng from t_ids));
select is(api.get_escalation_metrics('7d') - 'window_start' - 'window_end' - 'computed_at' - 'metric_definition',
  '{"period": "7d", "n_handoffs_claimed": 6, "n_handoffs_with_action": 5, "avg_seconds": 40.00, "median_seconds": 30.00, "p95_seconds": 88.00}',
  'avg, median and p95 over the first action after each claim; claimed-without-action counted once; unclaimed left out');
select is((api.get_escalation_metrics('30d') ->> 'n_handoffs_with_action')::int, 6, 'a 30-day period takes in the older claim');

-- Two handoffs on one session: each is measured to the first step after its own claim.
reset role;
insert into flowpilot.session_handoffs (account_id, session_id, claimed_at)
  select a, (select id from t_handoffs where claimed_ago = '2 days'), now() - interval '2 days' + interval '5 s' from t_ids;
select pg_temp.as_user((select a_eng from t_ids));
select is(api.get_escalation_metrics('7d') ->> 'avg_seconds', '34.17', 'several handoffs on one session each count ((10+20+30+40+100+5)/6)');
select pg_temp.as_user((select b_eng from t_ids));
select is((api.get_escalation_metrics('90d') ->> 'n_handoffs_claimed')::int, 0, 'another account sees none of it');

-- Steps added in one statement: each handoff of the session takes the first step after its own claim.
reset role;
insert into flowpilot.sessions (id, account_id, user_id, tree_title, tree_version, nodes, current_node_id)
  select '5e550000-0000-4000-8000-000000000001', a, a_viewer, 'T', 1, '[]', 'x' from t_ids;
insert into flowpilot.session_handoffs (account_id, session_id, claimed_at, reason)
  select a, '5e550000-0000-4000-8000-000000000001'::uuid, now() - interval '100 s', 'first' from t_ids union all
  select a, '5e550000-0000-4000-8000-000000000001', now() - interval '50 s', 'second' from t_ids;
insert into flowpilot.ai_session_steps (account_id, session_id, actor, content, created_at)
  select a, '5e550000-0000-4000-8000-000000000001'::uuid, 'ai', 'step', now() - s * interval '1 s' from t_ids, unnest(array[90, 40, 10]) s;
select results_eq($$select reason, extract(epoch from first_action_at - claimed_at)::int from flowpilot.session_handoffs
                     where session_id = '5e550000-0000-4000-8000-000000000001' order by reason$$,
  $$values ('first', 10), ('second', 10)$$, 'a bulk insert of steps gives each handoff the first step after its own claim');


-- Big accounts are served from a snapshot refreshed by gateway.maintenance(); a stale one is ignored.
reset role;
select ok(flowpilot.refresh_escalation_snapshots(min_claims => 6) >= 3, 'snapshots are refreshed');
select is((select array_agg(period order by period) from flowpilot.escalation_snapshots where account_id = (select a from t_ids)),
  array['30d', '7d', '90d'], 'an account over the threshold gets a snapshot per period');
select is((select count(*)::int from flowpilot.escalation_snapshots where account_id = (select b from t_ids)), 0, '… a small one none');
insert into flowpilot.session_handoffs (account_id, session_id, claimed_at)
  select a, (select id from t_handoffs where claimed_ago = '3 days'), now() - interval '1 hour' from t_ids;
select pg_temp.as_user((select a_eng from t_ids));
select is((api.get_escalation_metrics('7d') ->> 'n_handoffs_claimed')::int, 9, 'the API answers from a fresh snapshot (without the newest claim)');
reset role;
update flowpilot.escalation_snapshots set computed_at = now() - interval '6 minutes';
select pg_temp.as_user((select a_eng from t_ids));
select is((api.get_escalation_metrics('7d') ->> 'n_handoffs_claimed')::int, 10, '… and computes live when the snapshot is over 5 minutes old');

-- Claiming: a live handoff, then a step, through the api.
select pg_temp.as_user((select a_viewer from t_ids));
create temp table t_handoff as select api.create_handoff((select (body ->> 'id')::uuid from t_session), 'printer still offline') as body;
grant select on t_handoff to authenticated;
select throws_ok(format('select api.claim_handoff(%L)', (select body ->> 'id' from t_handoff)), '42501', null, 'a viewer cannot claim');
select throws_ok($$select api.list_handoffs()$$, '42501', null, '… nor see the queue');
select pg_temp.as_user((select a_eng from t_ids));
select is((select count(*)::int from jsonb_array_elements(api.list_handoffs()) h where h ->> 'reason' = 'printer still offline'), 1,
  'the open handoff is in the account''s queue');
select throws_ok($$select api.list_handoffs('closed')$$, '22023', null, 'an unknown queue status is a 400');
select is(api.claim_handoff((select (body ->> 'id')::uuid from t_handoff)) ->> 'status', 'claimed', 'an engineer claims a handoff');
select throws_ok(format('select api.claim_handoff(%L)', (select body ->> 'id' from t_handoff)), 'PT409', null, 'a second claim is a 409');
select api.add_session_step((select (body ->> 'id')::uuid from t_session), 'Called the user', 'human');
select isnt((select first_action_at from flowpilot.session_handoffs where id = (select (body ->> 'id')::uuid from t_handoff)), null,
  'a step after the claim becomes the handoff''s first action');
select is(api.list_session_steps((select (body ->> 'id')::uuid from t_session)) #>> '{0,content}', 'Called the user', 'a session''s steps are listed');
select is((select count(*)::int from jsonb_array_elements(api.list_handoffs('open')) h where h ->> 'reason' = 'printer still offline'), 0,
  'a claimed handoff leaves the open queue');
select is(api.export_session((select (body ->> 'id')::uuid from t_session))::jsonb #>> '{steps,0,actor}', 'human', 'the JSON export carries the steps');
select pg_temp.as_user((select b_eng from t_ids));
select throws_ok(format('select api.claim_handoff(%L)', (select body ->> 'id' from t_handoff)), 'PT404', null, 'another account cannot claim it');
select throws_ok(format('select api.list_session_steps(%L)', (select body ->> 'id' from t_session)), 'PT404', null, '… nor read its steps');

-- The rest of the user API.
select pg_temp.as_user((select a_admin from t_ids));
select ok((select count(*) >= 4 from jsonb_array_elements(api.list_users())), 'an admin lists the account''s users');
select ok((select bool_and(u ->> 'account_id' = (select a::text from t_ids)) from jsonb_array_elements(api.list_users()) u), '… only theirs');
select ok(not (api.list_users() #> '{0}' ? 'password_hash'), '… without password hashes');
select is(api.me() ->> 'role', 'admin', 'me() is the caller');
select pg_temp.as_user((select a_eng from t_ids));
select throws_ok($$select api.list_users()$$, '42501', null, 'an engineer cannot list users');
select pg_temp.as_anon('10.0.0.9');
select is(api.login_json('viewer2@a.test', 'viewer-pass') #>> '{user,email}', 'viewer2@a.test', 'login_json takes e-mail and password');
select pg_temp.as_user((select a_admin from t_ids));
select is(api.delete_tree((select (body ->> 'id')::uuid from t_tree)), null, 'an admin deletes a tree');
select is(pg_temp.status(), '204', '… 204');
select is(api.get_session((select (body ->> 'id')::uuid from t_session)) ->> 'tree_title', 'Printer fixes', 'its sessions keep their copy');

select * from finish();
rollback;
