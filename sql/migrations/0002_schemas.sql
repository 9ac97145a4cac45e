-- Schemas by exposure.
--   auth: identity helpers (auth.uid(), auth.jwt(), auth.account_id(), auth.app_role()).
--   api:  the functions HTTP and psql callers may call; nothing else is exposed.
-- Product data lives in private schemas added by later migrations, with RLS forced on every table.
create schema auth;
comment on schema auth is 'Identity of the current request, read from request.jwt.claims.';
create schema api;
comment on schema api is 'The callable surface: every function here is an endpoint or an RPC.';

grant usage on schema auth, api to anon, authenticated, service_role;
