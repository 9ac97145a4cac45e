-- Roles and the identity contract.
-- Supabase's role names, so Supabase-issued tokens work unchanged. The gateway logs in as
-- `authenticator` (noinherit: it has no rights of its own) and switches per request, inside the
-- request's transaction, into the role its verified token names.
-- Roles are cluster-wide: created only when missing, so every database of a cluster can run this.
do $$
begin
  if not exists (select from pg_roles where rolname = 'anon') then
    create role anon nologin noinherit;
  end if;
  if not exists (select from pg_roles where rolname = 'authenticated') then
    create role authenticated nologin noinherit;
  end if;
  if not exists (select from pg_roles where rolname = 'service_role') then
    -- No BYPASSRLS: the policies say what a service caller may see, so tenant isolation has no backdoor.
    create role service_role nologin noinherit;
  end if;
  if not exists (select from pg_roles where rolname = 'authenticator') then
    -- No password: set one (ALTER ROLE … PASSWORD) where the gateway connects over TCP.
    create role authenticator login noinherit;
  end if;
end $$;

grant anon, authenticated, service_role to authenticator;

-- A runaway query becomes a clean error (57014) instead of holding a connection.
alter role authenticator set statement_timeout = '15s';

-- Nothing is callable by PUBLIC unless a file grants it: functions the Migrator creates from now on
-- carry no implicit EXECUTE.
alter default privileges revoke execute on functions from public;
revoke create on schema public from public;
