-- requires: core/catalog.sql
-- requires: flowpilot/auth.sql
-- requires: flowpilot/escalations.sql
-- FlowPilot as a unit of the core (flowpilot-escalations-and-decision-tree.md): its application
-- roles, routes, rate policies, path alias and periodic tasks. Served under /api/v1/… and /api/….
-- Logins are limited per client address before they reach the database (which also throttles
-- failures per e-mail and client); everything else per user.

select gateway.restate_unit('flowpilot', 'FlowPilot', 'Troubleshooting trees, guided sessions and escalations to humans.',
                            docs_path => '/api/redoc');

insert into gateway.path_aliases (unit, prefix, alias) values ('flowpilot', '/api/v1/', '/api/');

-- What a member may do within an account: viewer < engineer < admin (policies.sql says what each may).
insert into auth.app_roles (unit, name, description) values
  ('flowpilot', 'viewer', 'Reads trees and runs sessions'),
  ('flowpilot', 'engineer', 'Also edits trees and works the handoff queue'),
  ('flowpilot', 'admin', 'Also manages users and deletes trees');

insert into gateway.rate_policies (unit, name, requests, window_seconds, description) values
  ('flowpilot', 'flowpilot-auth', 30, 60, 'FlowPilot register, login and refresh: 30 per minute per client'),
  ('flowpilot', 'flowpilot-api', 600, 60, 'FlowPilot API: 600 per minute per user');

insert into gateway.routes (method, path, function_name, min_role, app_roles, rate_policy, issues_token, summary, tag, unit) values
  ('POST',   '/api/v1/accounts',                         'create_account',         'service_role',  null, 'flowpilot-api', false, 'Create an account and its first admin (operators)', 'flowpilot-auth', 'flowpilot'),
  ('POST',   '/api/v1/auth/register',                    'register',               'anon',          null, 'flowpilot-auth', false, 'Register with an invitation code', 'flowpilot-auth', 'flowpilot'),
  ('POST',   '/api/v1/auth/login',                       'login',                  'anon',          null, 'flowpilot-auth', true, 'Log in (OAuth2 password form: username, password)', 'flowpilot-auth', 'flowpilot'),
  ('POST',   '/api/v1/auth/login/json',                  'login_json',             'anon',          null, 'flowpilot-auth', true, 'Log in (JSON: email, password)', 'flowpilot-auth', 'flowpilot'),
  ('POST',   '/api/v1/auth/refresh',                     'refresh_token',          'anon',          null, 'flowpilot-auth', true, 'Trade a refresh token for new tokens', 'flowpilot-auth', 'flowpilot'),
  ('GET',    '/api/v1/auth/me',                          'me',                     'authenticated', null, 'flowpilot-api', false, 'The current user', 'flowpilot-auth', 'flowpilot'),
  ('POST',   '/api/v1/auth/logout',                      'logout',                 'authenticated', null, 'flowpilot-api', false, 'Log out (revoke refresh tokens)', 'flowpilot-auth', 'flowpilot'),
  ('POST',   '/api/v1/auth/invitations',                 'create_invitation',      'authenticated', '{admin}', 'flowpilot-api', false, 'Invite a user into the account', 'flowpilot-auth', 'flowpilot'),
  ('GET',    '/api/v1/users',                            'list_users',             'authenticated', '{admin}', 'flowpilot-api', false, 'The account''s users', 'flowpilot-auth', 'flowpilot'),
  ('PATCH',  '/api/v1/users/{user_id}',                  'update_user',            'authenticated', '{admin}', 'flowpilot-api', false, 'Change a user''s role or deactivate them', 'flowpilot-auth', 'flowpilot'),
  ('GET',    '/api/v1/trees',                            'list_trees',             'authenticated', null, 'flowpilot-api', false, 'List trees (paged)', 'flowpilot-trees', 'flowpilot'),
  ('GET',    '/api/v1/trees/categories',                 'tree_categories',        'authenticated', null, 'flowpilot-api', false, 'Tree categories', 'flowpilot-trees', 'flowpilot'),
  ('GET',    '/api/v1/trees/search',                     'search_trees',           'authenticated', null, 'flowpilot-api', false, 'Search trees (ranked full text)', 'flowpilot-trees', 'flowpilot'),
  ('GET',    '/api/v1/trees/{tree_id}',                  'get_tree',               'authenticated', null, 'flowpilot-api', false, 'One tree', 'flowpilot-trees', 'flowpilot'),
  ('POST',   '/api/v1/trees',                            'create_tree',            'authenticated', '{engineer,admin}', 'flowpilot-api', false, 'Create a tree', 'flowpilot-trees', 'flowpilot'),
  ('PUT',    '/api/v1/trees/{tree_id}',                  'update_tree',            'authenticated', '{engineer,admin}', 'flowpilot-api', false, 'Update a tree (with the version read)', 'flowpilot-trees', 'flowpilot'),
  ('DELETE', '/api/v1/trees/{tree_id}',                  'delete_tree',            'authenticated', '{admin}', 'flowpilot-api', false, 'Delete a tree', 'flowpilot-trees', 'flowpilot'),
  ('GET',    '/api/v1/sessions',                         'list_sessions',          'authenticated', null, 'flowpilot-api', false, 'Your sessions (paged)', 'flowpilot-sessions', 'flowpilot'),
  ('POST',   '/api/v1/sessions',                         'start_session',          'authenticated', null, 'flowpilot-api', false, 'Start a session on a tree', 'flowpilot-sessions', 'flowpilot'),
  ('GET',    '/api/v1/sessions/{session_id}',            'get_session',            'authenticated', null, 'flowpilot-api', false, 'One session', 'flowpilot-sessions', 'flowpilot'),
  ('PUT',    '/api/v1/sessions/{session_id}',            'update_session',         'authenticated', null, 'flowpilot-api', false, 'Answer the current question and/or update notes', 'flowpilot-sessions', 'flowpilot'),
  ('POST',   '/api/v1/sessions/{session_id}/complete',   'complete_session',       'authenticated', null, 'flowpilot-api', false, 'Complete a session', 'flowpilot-sessions', 'flowpilot'),
  ('POST',   '/api/v1/sessions/{session_id}/export',     'export_session',         'authenticated', null, 'flowpilot-api', false, 'Export a session (json or markdown)', 'flowpilot-sessions', 'flowpilot'),
  ('GET',    '/api/v1/sessions/{session_id}/steps',      'list_session_steps',     'authenticated', null, 'flowpilot-api', false, 'A session''s AI and human steps', 'flowpilot-escalations', 'flowpilot'),
  ('POST',   '/api/v1/sessions/{session_id}/steps',      'add_session_step',       'authenticated', null, 'flowpilot-api', false, 'Record a step on a session', 'flowpilot-escalations', 'flowpilot'),
  ('POST',   '/api/v1/handoffs',                         'create_handoff',         'authenticated', null, 'flowpilot-api', false, 'Hand a session to a human', 'flowpilot-escalations', 'flowpilot'),
  ('GET',    '/api/v1/handoffs',                         'list_handoffs',          'authenticated', '{engineer,admin}', 'flowpilot-api', false, 'The handoff queue', 'flowpilot-escalations', 'flowpilot'),
  ('POST',   '/api/v1/handoffs/{handoff_id}/claim',      'claim_handoff',          'authenticated', '{engineer,admin}', 'flowpilot-api', false, 'Claim a handoff', 'flowpilot-escalations', 'flowpilot'),
  ('GET',    '/api/v1/analytics/flowpilot/escalations',  'get_escalation_metrics', 'authenticated', '{engineer,admin}', 'flowpilot-api', false, 'Escalation Mode: seconds from claim to first action', 'flowpilot-escalations', 'flowpilot');

-- Expired login-failure counters go, and big accounts' escalation snapshots are refreshed.
insert into gateway.periodic_tasks (unit, name, function) values
  ('flowpilot', 'sweep_login_failures', 'flowpilot.sweep_login_failures()'),
  ('flowpilot', 'refresh_escalation_snapshots', 'flowpilot.refresh_escalation_snapshots(integer)');
grant usage on schema flowpilot to authenticator;
grant execute on function flowpilot.sweep_login_failures(), flowpilot.refresh_escalation_snapshots(integer) to authenticator;
