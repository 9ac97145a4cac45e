-- The shared rate-limit store keeps a sliding window per bucket instead of GCRA's one timestamp:
-- GCRA's burst let twice the limit through in some windows (sql/core/gateway.sql says how the
-- window works). Unlogged, as before: losing it in a crash only forgives some requests. The old
-- buckets are dropped with it, which forgives the requests of the last minute once.
drop table gateway.rate_limits;
create unlogged table gateway.rate_limits (
  bucket     text primary key,
  first_slot bigint not null,            -- the slot of counts[1]; a slot is window / 60 long
  counts     integer[] not null,         -- requests admitted per slot, oldest first
  expires_ms double precision not null   -- epoch ms when none of them is in the window any more
);
comment on table gateway.rate_limits is 'Sliding-window rate-limit buckets shared by every gateway (RATE_LIMIT_STORE=postgres).';
alter table gateway.rate_limits enable row level security, force row level security;
create policy "The gateway keeps rate-limit buckets" on gateway.rate_limits for all to authenticator using (true) with check (true);
grant select, insert, update, delete on gateway.rate_limits to authenticator;
comment on table gateway.rate_policies is 'Rate policies: at most `requests` in any `window_seconds` (a sliding window).';
