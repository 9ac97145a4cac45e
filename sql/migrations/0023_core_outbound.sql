-- Outbound requests through the gateway (docs/gateway.md, Outbound requests): a function may ask
-- the gateway to fetch URLs for it (response.fetch) and is called again with what came back, so
-- no transaction stays open on the network. gateway.invoke gains a fourth output column, `fetch`,
-- in sql/core/gateway.sql; its output columns change, so the old function goes first (a gateway
-- that selects the first three columns keeps working with the new one).
drop function if exists gateway.invoke(text, text, boolean, text, jsonb, text);

-- Secrets a fetch may name in a header (`{"$secret": "<name>"}`): the gateway asks
-- gateway.resolve_secret(account, name), which asks each unit's resolver in turn. A resolver is a
-- unit's function (account uuid, name text) returns text that only `authenticator` may execute, so
-- a secret reaches the outbound request and nothing else.
create table gateway.secret_resolvers (
  unit     text primary key references gateway.units (name) on delete cascade,
  resolver regprocedure not null
);
comment on table gateway.secret_resolvers is 'Per unit, the function that resolves the secrets its outbound requests name (account, name) -> text.';
alter table gateway.secret_resolvers enable row level security, force row level security;
create policy "The gateway reads secret resolvers" on gateway.secret_resolvers for select to authenticator using (true);
grant select on gateway.secret_resolvers to authenticator;
