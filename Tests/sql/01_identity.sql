-- The identity contract: roles, request.jwt.claims, and the auth helpers.
begin;
select plan(27);

-- Roles
select ok((select rolcanlogin and not rolinherit and not rolsuper from pg_roles where rolname = 'authenticator'),
  'authenticator logs in, inherits nothing and is no superuser');
select ok((select bool_and(not rolcanlogin) from pg_roles where rolname in ('anon', 'authenticated', 'service_role')),
  'anon, authenticated and service_role cannot log in');
select ok((select bool_and(pg_has_role('authenticator', r, 'member')) from unnest(array['anon', 'authenticated', 'service_role']) r),
  'authenticator may switch into each request role');
select ok((select bool_and(not rolbypassrls) from pg_roles where rolname in ('anon', 'authenticated', 'service_role', 'authenticator')),
  'no client role bypasses row-level security');
select ok(exists (select from pg_db_role_setting s join pg_roles r on r.oid = s.setrole
                  where r.rolname = 'authenticator' and 'statement_timeout=15s' = any (s.setconfig)),
  'authenticator sessions carry a statement_timeout');

-- Missing setting: anonymous, no error
select is(auth.jwt(), '{}'::jsonb, 'no claims setting: jwt() is {}');
select is(auth.uid(), null, 'no claims setting: uid() is null');
select is(auth.role(), 'anon', 'no claims setting: role() is anon');
select is(auth.account_id(), null, 'no claims setting: account_id() is null');
select is(auth.app_role(), null, 'no claims setting: app_role() is null');

-- Empty setting: anonymous, no error
select set_config('request.jwt.claims', '', true);
select is(auth.jwt(), '{}'::jsonb, 'empty claims: jwt() is {}');
select is(auth.uid(), null, 'empty claims: uid() is null');

-- A Supabase-shaped token
select tests.authenticate_as('authenticated', '11111111-1111-1111-1111-111111111111',
  'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa', 'engineer');
select is(current_user::text, 'authenticated', 'the request runs as the token''s role');
select is(auth.uid(), '11111111-1111-1111-1111-111111111111'::uuid, 'uid() reads sub');
select is(auth.role(), 'authenticated', 'role() reads role');
select is(auth.account_id(), 'aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa'::uuid, 'account_id() reads app_metadata.account_id');
select is(auth.app_role(), 'engineer', 'app_role() reads app_metadata.app_role');
select ok(auth.has_app_role('engineer', 'admin'), 'has_app_role() accepts a listed role');
select ok(not auth.has_app_role('admin'), 'has_app_role() refuses an unlisted role');
select lives_ok('select auth.require_app_role(''engineer'', ''admin'')', 'require_app_role() passes a listed role');
select throws_ok('select auth.require_app_role(''admin'')', '42501', null, 'require_app_role() raises 42501 otherwise');
select tests.clear_authentication();

-- Claims minted elsewhere: top-level account_id / app_role are accepted; app_metadata wins.
select set_config('request.jwt.claims', '{"sub":"22222222-2222-2222-2222-222222222222","account_id":"bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb","app_role":"viewer"}', true);
select is(auth.account_id(), 'bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb'::uuid, 'a top-level account_id claim is read');
select is(auth.app_role(), 'viewer', 'a top-level app_role claim is read');
select set_config('request.jwt.claims', '{"account_id":"bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb","app_metadata":{"account_id":"cccccccc-cccc-cccc-cccc-cccccccccccc"}}', true);
select is(auth.account_id(), 'cccccccc-cccc-cccc-cccc-cccccccccccc'::uuid, 'app_metadata wins over a top-level claim');

-- Values that are not what they claim to be are treated as absent, not trusted
select set_config('request.jwt.claims', '{"sub":"not-a-uuid","app_metadata":{"account_id":"x","app_role":"superadmin"}}', true);
select is(auth.uid(), null, 'a non-uuid sub gives a null uid');
select is(auth.account_id(), null, 'a non-uuid account gives a null account');
select is(auth.app_role(), null, 'an unknown application role gives null');

select * from finish();
rollback;
