-- Identity helpers. The gateway (or a psql caller) sets, transaction-locally:
--   set_config('role', 'authenticated', true)
--   set_config('request.jwt.claims', '{"sub": "…", "app_metadata": {"account_id": "…", "app_role": "admin"}}', true)
-- An empty or missing setting means anonymous, never an error. Policies call these as
-- `(select auth.uid())` so the planner evaluates them once per statement.

create or replace function auth.jwt() returns jsonb
language sql stable
as $$
  select coalesce(nullif(current_setting('request.jwt.claims', true), '')::jsonb, '{}'::jsonb)
$$;
comment on function auth.jwt() is 'The verified JWT claims of the current request; {} when anonymous.';

-- Claims are text; a value that is not a UUID is treated as absent rather than raising.
create or replace function auth.try_uuid(value text) returns uuid
language sql immutable
as $$
  select case when value ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' then value::uuid end
$$;
comment on function auth.try_uuid(text) is 'The text as a uuid, or null when it is not one.';

create or replace function auth.uid() returns uuid
language sql stable
as $$
  select auth.try_uuid(auth.jwt() ->> 'sub')
$$;
comment on function auth.uid() is 'The caller''s user id (claim sub), or null when anonymous or not a uuid.';

create or replace function auth.role() returns text
language sql stable
as $$
  select coalesce(nullif(auth.jwt() ->> 'role', ''), 'anon')
$$;
comment on function auth.role() is 'The database role the token names: anon, authenticated or service_role.';

-- Supabase keeps server-set claims in app_metadata, which users cannot edit; a top-level claim is
-- accepted for tokens minted elsewhere. Never user_metadata: users can write that themselves.
create or replace function auth.account_id() returns uuid
language sql stable
as $$
  select auth.try_uuid(coalesce(auth.jwt() #>> '{app_metadata,account_id}', auth.jwt() ->> 'account_id'))
$$;
comment on function auth.account_id() is 'The caller''s account (tenant), or null.';

-- Only a role some unit declares (auth.app_roles) counts: anything else in a token is no role at all.
create or replace function auth.app_role() returns text
language sql stable
as $$
  select v from coalesce(auth.jwt() #>> '{app_metadata,app_role}', auth.jwt() ->> 'app_role') as v
   where exists (select from auth.app_roles r where r.name = v)
$$;
comment on function auth.app_role() is 'The caller''s application role within the account (one the units declare), or null.';

create or replace function auth.has_app_role(variadic allowed text[]) returns boolean
language sql stable
as $$
  select auth.role() = 'service_role' or coalesce(auth.app_role() = any (allowed), false)
$$;
comment on function auth.has_app_role(text[]) is
  'True when the caller''s application role is one of the given roles, or the caller is the service role (as in the gateway).';

create or replace function auth.require_app_role(variadic allowed text[]) returns void
language plpgsql stable
as $$
begin
  if not auth.has_app_role(variadic allowed) then
    raise exception 'this action needs the application role %', array_to_string(allowed, ' or ')
      using errcode = '42501', hint = 'ask an admin of your account for a higher role';
  end if;
end $$;
comment on function auth.require_app_role(text[]) is 'Raises 42501 (403) unless the caller has one of the given application roles.';

grant execute on function auth.try_uuid(text), auth.jwt(), auth.uid(), auth.role(), auth.account_id(), auth.app_role(),
  auth.has_app_role(text[]), auth.require_app_role(text[]) to anon, authenticated, service_role;

create or replace function auth.client_address() returns text
language sql stable
as $$
  select nullif(current_setting('request.client_addr', true), '')
$$;
comment on function auth.client_address() is 'The network address of the HTTP caller, or null (psql).';
grant execute on function auth.client_address() to anon, authenticated, service_role;
