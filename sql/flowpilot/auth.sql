-- requires: core/auth.sql
-- requires: core/util.sql
-- FlowPilot accounts, users and sessions of login. Passwords are bcrypt (cost 12) in SQL; access
-- tokens are signed by the gateway from the `access_token_claims` these functions return (routes
-- with issues_token); refresh tokens are random, stored as SHA-256, single use, in families.
--
-- How an account comes to exist: the operator (service_role over HTTP, or psql) calls
-- api.create_account, which creates the account and its first admin. The admin invites engineers
-- and viewers (api.create_invitation); they register with the invitation's code, which alone
-- decides their account and role. Register has no role or account parameter at all, so a body
-- that names one is refused (400, unknown parameter) — no mass assignment.

grant execute on function util.validation_error(text, text), util.answer_error(integer, text, text, jsonb, jsonb), util.iso(timestamptz),
  util.require_account(), util.require_range(text, integer, integer, integer),
  auth.jwt(), auth.try_uuid(text), auth.uid(), auth.role(), auth.account_id(), auth.app_role(), auth.has_app_role(text[]),
  auth.require_app_role(text[]), auth.client_address() to flowpilot_system;
grant select on auth.app_roles to flowpilot_system;

-- A password a user may choose: bcrypt reads at most 72 bytes, so longer ones would be cut silently.
create or replace function flowpilot.check_password(password text) returns void
language plpgsql immutable set search_path = '' as $$
begin
  if password is null or pg_catalog.length(password) < 8 then
    perform util.validation_error('password', 'must be at least 8 characters');
  elsif pg_catalog.octet_length(password) > 72 then
    perform util.validation_error('password', 'must be at most 72 bytes');
  end if;
end $$;

create or replace function flowpilot.normalized_email(email text) returns text
language plpgsql immutable set search_path = '' as $$
declare
  normalized text := pg_catalog.lower(pg_catalog.btrim(email));
begin
  if normalized is null or normalized !~ '^[^@\s]+@[^@\s]+\.[^@\s]+$' or pg_catalog.length(normalized) > 254 then
    perform util.validation_error('email', 'must be an e-mail address');
  end if;
  return normalized;
end $$;

-- A user as members may see them: everything but the password hash.
create or replace view flowpilot.user_profiles with (security_invoker = true) as
  select id, account_id, email, full_name, role, is_active, created_at from flowpilot.users;
grant select on flowpilot.user_profiles to authenticated, service_role, flowpilot_system;

create or replace function flowpilot.user_json(user_id uuid) returns jsonb
language sql stable set search_path = '' as $$
  select pg_catalog.jsonb_build_object('id', u.id, 'email', u.email, 'full_name', u.full_name, 'role', u.role,
    'account_id', u.account_id, 'is_active', u.is_active, 'created_at', util.iso(u.created_at))
    from flowpilot.user_profiles u where u.id = user_id
$$;

-- A new refresh token in `family` (a new family when null) and the claims of a fresh access token.
create or replace function flowpilot.issue_tokens(u flowpilot.users, family uuid default null) returns jsonb
language plpgsql volatile set search_path = '' as $$
declare
  token text := pg_catalog.encode(extensions.gen_random_bytes(32), 'hex');
  lifetime constant interval := interval '30 days';
begin
  insert into flowpilot.refresh_tokens (family_id, user_id, account_id, token_hash, expires_at)
  values (coalesce(family, pg_catalog.gen_random_uuid()), u.id, u.account_id,
          extensions.digest(token, 'sha256'), pg_catalog.now() + lifetime);
  return pg_catalog.jsonb_build_object(
    'access_token_claims', pg_catalog.jsonb_build_object(
      'sub', u.id, 'role', 'authenticated', 'email', u.email,
      'app_metadata', pg_catalog.jsonb_build_object('account_id', u.account_id, 'app_role', u.role)),
    'refresh_token', token,
    'refresh_expires_in', extract(epoch from lifetime)::integer,
    'user', flowpilot.user_json(u.id));
end $$;

create or replace function api.create_account(name text, admin_email text, admin_password text, admin_full_name text default '')
returns jsonb
language plpgsql volatile security definer set search_path = '' as $$
declare
  account flowpilot.accounts;
  admin flowpilot.users;
begin
  perform flowpilot.check_password(admin_password);
  if name is null or pg_catalog.length(pg_catalog.btrim(name)) = 0 then
    perform util.validation_error('name', 'required');
  end if;
  insert into flowpilot.accounts (name) values (pg_catalog.btrim(name)) returning * into account;
  insert into flowpilot.users (account_id, email, full_name, password_hash, role)
  values (account.id, flowpilot.normalized_email(admin_email), coalesce(admin_full_name, ''),
          extensions.crypt(admin_password, extensions.gen_salt('bf', 12)), 'admin')
  returning * into admin;
  perform pg_catalog.set_config('response.status', '201', true);
  return pg_catalog.jsonb_build_object('id', account.id, 'name', account.name, 'admin', flowpilot.user_json(admin.id));
exception when unique_violation then
  raise exception 'that e-mail address is already registered' using errcode = '23505';
end $$;
comment on function api.create_account(text, text, text, text) is
  'Creates an account and its first admin (operators only: service_role).';

create or replace function api.create_invitation(email text, role text default 'viewer', expires_in_days integer default 7)
returns jsonb
language plpgsql volatile security definer set search_path = '' as $$
declare
  account uuid := util.require_account();
  code text := pg_catalog.encode(extensions.gen_random_bytes(18), 'hex');
  invitation flowpilot.invitations;
begin
  perform auth.require_app_role('admin');
  if role is null or role not in ('viewer', 'engineer', 'admin') then
    perform util.validation_error('role', 'must be viewer, engineer or admin');
  end if;
  perform util.require_range('expires_in_days', expires_in_days, 1, 30);
  insert into flowpilot.invitations (account_id, email, role, code_hash, created_by, expires_at)
  values (account, flowpilot.normalized_email(email), role, extensions.digest(code, 'sha256'), auth.uid(),
          pg_catalog.now() + pg_catalog.make_interval(days => expires_in_days))
  returning * into invitation;
  perform pg_catalog.set_config('response.status', '201', true);
  return pg_catalog.jsonb_build_object('id', invitation.id, 'email', invitation.email, 'role', invitation.role,
    'invite_code', code, 'expires_at', util.iso(invitation.expires_at));
end $$;
comment on function api.create_invitation(text, text, integer) is
  'Invites an e-mail address into the caller''s account with a role (admin only). The code is shown once.';

create or replace function api.register(email text, password text, invite_code text, full_name text default '')
returns jsonb
language plpgsql volatile security definer set search_path = '' as $$
declare
  address text := flowpilot.normalized_email(email);
  invitation flowpilot.invitations;
  created flowpilot.users;
begin
  perform flowpilot.check_password(password);
  select * into invitation from flowpilot.invitations i
   where i.code_hash = extensions.digest(coalesce(invite_code, ''), 'sha256')
     and i.accepted_at is null and i.expires_at > pg_catalog.now() and i.email = address
   for update;
  if invitation.id is null then
    raise exception 'the invitation code is not valid for this e-mail address (or has expired)'
      using errcode = 'PT403', hint = 'ask an admin of your account for a new invitation';
  end if;
  insert into flowpilot.users (account_id, email, full_name, password_hash, role)
  values (invitation.account_id, address, coalesce(full_name, ''), extensions.crypt(password, extensions.gen_salt('bf', 12)), invitation.role)
  returning * into created;
  update flowpilot.invitations set accepted_at = pg_catalog.now() where id = invitation.id;
  perform pg_catalog.set_config('response.status', '201', true);
  return flowpilot.user_json(created.id);
exception when unique_violation then
  raise exception 'that e-mail address is already registered' using errcode = '23505';
end $$;
comment on function api.register(text, text, text, text) is
  'Registers with an invitation code; the invitation decides the account and the role.';

-- Failed logins per (e-mail, client address) allowed in the window before a 429.
create or replace function flowpilot.login_throttle() returns table (attempts integer, window_length interval)
language sql immutable set search_path = '' as $$
  select 5, interval '15 minutes'
$$;

-- The same answer (and about the same time: a bcrypt comparison happens either way) for an unknown
-- address, a deactivated user and a wrong password.
create or replace function api.login(username text, password text, grant_type text default null, scope text default '')
returns jsonb
language plpgsql volatile security definer set search_path = '' as $$
declare
  address text := pg_catalog.lower(pg_catalog.btrim(coalesce(username, '')));
  client text := coalesce(auth.client_address(), 'local');
  limits record;
  recent integer;
  oldest timestamptz;
  u flowpilot.users;
begin
  if grant_type is not null and grant_type <> 'password' then
    perform util.validation_error('grant_type', 'must be password');
  end if;
  select * into limits from flowpilot.login_throttle();
  select pg_catalog.count(*), pg_catalog.min(f.failed_at) into recent, oldest
    from flowpilot.login_failures f
   where f.email = address and f.client_addr = client and f.failed_at > pg_catalog.now() - limits.window_length;
  if recent >= limits.attempts then
    return util.answer_error(429, 'RATE_LIMIT_EXCEEDED', 'Too many failed logins; try again later',
      headers => pg_catalog.jsonb_build_object('Retry-After',
        greatest(1, pg_catalog.ceil(extract(epoch from oldest + limits.window_length - pg_catalog.now())))::text));
  end if;
  select * into u from flowpilot.users where email = address and is_active;
  if extensions.crypt(coalesce(password, ''), coalesce(u.password_hash, '$2a$12$E2WvHOe09AkIxFiiz0ZVpO34wZOGmJaGmVw4BTssq.OWk5G68gh0e'))
     is distinct from u.password_hash then
    insert into flowpilot.login_failures (email, client_addr) values (address, client);
    return util.answer_error(401, 'AUTH_REQUIRED', 'Incorrect e-mail or password',
      headers => '{"WWW-Authenticate": "Bearer realm=\"api\""}');
  end if;
  delete from flowpilot.login_failures f where f.email = address and f.client_addr = client;
  return flowpilot.issue_tokens(u);
end $$;
comment on function api.login(text, text, text, text) is
  'OAuth2 password flow (form: username, password). Five failures per address and client in 15 minutes give 429.';

create or replace function api.login_json(email text, password text) returns jsonb
language sql volatile set search_path = '' as $$
  select api.login(email, password)
$$;
comment on function api.login_json(text, text) is 'Login with a JSON body {email, password}.';

-- Single use: a token presented twice (a replay, or a thief racing the owner) revokes its family.
create or replace function api.refresh_token(refresh_token text) returns jsonb
language plpgsql volatile security definer set search_path = '' as $$
declare
  presented flowpilot.refresh_tokens;
  u flowpilot.users;
begin
  select * into presented from flowpilot.refresh_tokens t
   where t.token_hash = extensions.digest(coalesce(refresh_token, ''), 'sha256') for update;
  if presented.id is null or presented.revoked_at is not null or presented.expires_at <= pg_catalog.now() then
    return util.answer_error(401, 'AUTH_REQUIRED', 'The refresh token is not valid; log in again');
  end if;
  if presented.used_at is not null then
    update flowpilot.refresh_tokens set revoked_at = pg_catalog.now()
     where family_id = presented.family_id and revoked_at is null;
    return util.answer_error(401, 'AUTH_REQUIRED', 'The refresh token was already used; every session of that login is revoked');
  end if;
  update flowpilot.refresh_tokens set used_at = pg_catalog.now() where id = presented.id;
  select * into u from flowpilot.users where id = presented.user_id and is_active;
  if u.id is null then
    return util.answer_error(401, 'AUTH_REQUIRED', 'The refresh token is not valid; log in again');
  end if;
  return flowpilot.issue_tokens(u, presented.family_id);
end $$;
comment on function api.refresh_token(text) is 'Trades a refresh token for new tokens; the old one is spent.';

create or replace function api.logout(refresh_token text default null) returns jsonb
language plpgsql volatile security definer set search_path = '' as $$
declare
  me uuid := auth.uid();
  revoked integer;
begin
  if me is null then
    raise exception 'log in first' using errcode = '42501';
  end if;
  with family as (
    select t.family_id from flowpilot.refresh_tokens t
     where t.user_id = me and t.token_hash = extensions.digest(logout.refresh_token, 'sha256')
  ), gone as (
    update flowpilot.refresh_tokens t set revoked_at = pg_catalog.now()
     where t.user_id = me and t.revoked_at is null
       and (logout.refresh_token is null or t.family_id in (select family_id from family))
    returning 1
  )
  select pg_catalog.count(*) into revoked from gone;
  return pg_catalog.jsonb_build_object('message', 'Logged out', 'revoked_refresh_tokens', revoked);
end $$;
comment on function api.logout(text) is
  'Revokes the refresh token''s login (or, without one, every login of the caller). Access tokens expire on their own.';

create or replace function api.me() returns jsonb
language sql stable set search_path = '' as $$
  select util.found((select flowpilot.user_json(u.id) || pg_catalog.jsonb_build_object('account_name', a.name)
                       from flowpilot.user_profiles u join flowpilot.accounts a on a.id = u.account_id
                      where u.id = auth.uid()),
                    'no such user')
$$;
comment on function api.me() is 'The caller''s user record.';

create or replace function api.list_users() returns jsonb
language plpgsql stable set search_path = '' as $$
begin
  perform util.require_account();
  perform auth.require_app_role('admin');
  return coalesce((select pg_catalog.jsonb_agg(flowpilot.user_json(u.id) order by u.email) from flowpilot.user_profiles u), '[]');
end $$;
comment on function api.list_users() is 'The users of the caller''s account (admin only).';

create or replace function api.update_user(user_id uuid, role text default null, is_active boolean default null) returns jsonb
language plpgsql volatile set search_path = '' as $$
declare
  account uuid := util.require_account();
  changed uuid;
begin
  perform auth.require_app_role('admin');
  if role is not null and role not in ('viewer', 'engineer', 'admin') then
    perform util.validation_error('role', 'must be viewer, engineer or admin');
  end if;
  if user_id = auth.uid() and (role is distinct from 'admin' and role is not null or is_active is false) then
    raise exception 'you cannot demote or deactivate yourself' using errcode = 'PT409',
      hint = 'another admin can do it, so an account is never left without one';
  end if;
  update flowpilot.users u
     set role = coalesce(update_user.role, u.role), is_active = coalesce(update_user.is_active, u.is_active), updated_at = pg_catalog.now()
   where u.id = update_user.user_id and u.account_id = account
  returning u.id into changed;
  if changed is null then
    raise exception 'no such user' using errcode = 'PT404';
  end if;
  return flowpilot.user_json(changed);
end $$;
comment on function api.update_user(uuid, text, boolean) is
  'Changes a user''s role or deactivates them (admin only); their refresh tokens are revoked.';

-- A changed role or a deactivation must not outlive the access token in hand (15 minutes): the
-- user's refresh tokens go, so the next token carries the new role or is refused.
create or replace function flowpilot.tg_users__revoke_tokens() returns trigger
language plpgsql volatile security definer set search_path = '' as $$
begin
  if new.role is distinct from old.role or new.is_active is distinct from old.is_active then
    update flowpilot.refresh_tokens set revoked_at = pg_catalog.now() where user_id = new.id and revoked_at is null;
  end if;
  return null;
end $$;
drop trigger if exists tg_users__revoke_tokens on flowpilot.users;
create trigger tg_users__revoke_tokens after update on flowpilot.users
  for each row execute function flowpilot.tg_users__revoke_tokens();

-- Failed logins older than the throttle window only take space. Run by gateway.maintenance().
create or replace function flowpilot.sweep_login_failures() returns integer
language sql volatile security definer set search_path = '' as $$
  with gone as (
    delete from flowpilot.login_failures
     where failed_at < pg_catalog.now() - (select window_length from flowpilot.login_throttle())
    returning 1
  )
  select pg_catalog.count(*)::integer from gone
$$;

alter function api.create_account(text, text, text, text) owner to flowpilot_system;
alter function api.create_invitation(text, text, integer) owner to flowpilot_system;
alter function api.register(text, text, text, text) owner to flowpilot_system;
alter function api.login(text, text, text, text) owner to flowpilot_system;
alter function api.refresh_token(text) owner to flowpilot_system;
alter function api.logout(text) owner to flowpilot_system;
alter function flowpilot.tg_users__revoke_tokens() owner to flowpilot_system;
alter function flowpilot.sweep_login_failures() owner to flowpilot_system;

grant execute on function flowpilot.check_password(text), flowpilot.normalized_email(text), flowpilot.user_json(uuid),
  flowpilot.login_throttle() to flowpilot_system, authenticated, service_role;
grant execute on function flowpilot.issue_tokens(flowpilot.users, uuid) to flowpilot_system;
grant execute on function api.create_account(text, text, text, text) to service_role;
grant execute on function api.create_invitation(text, text, integer), api.list_users(), api.update_user(uuid, text, boolean)
  to authenticated, service_role;
grant execute on function api.register(text, text, text, text), api.login(text, text, text, text), api.login_json(text, text),
  api.refresh_token(text) to anon, authenticated;
grant execute on function api.logout(text), api.me() to authenticated;
