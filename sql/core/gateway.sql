-- The gateway's entry points per request. Only `authenticator` may call them.

-- Switches the current transaction to the request's role and claims (both transaction-local, so
-- nothing survives into the next request on this connection) and optionally makes it read-only.
-- `client_addr` is the caller's network address (auth.client_address()), for throttles that must
-- not let one caller lock out another. gateway.invoke does this for ordinary calls; a streamed call
-- runs it inside its own transaction.
drop function if exists gateway.invoke(text, text, boolean, text, jsonb);
drop function if exists gateway.begin_request(text, text, boolean);
create or replace function gateway.begin_request(request_role text, claims text, read_only boolean, client_addr text default null) returns void
language plpgsql volatile as $$
begin
  if request_role is null or request_role not in ('anon', 'authenticated', 'service_role') then
    raise exception 'unknown request role' using errcode = '28000';
  end if;
  perform set_config('role', request_role, true);
  perform set_config('request.jwt.claims', coalesce(claims, ''), true);
  perform set_config('request.client_addr', coalesce(client_addr, ''), true);
  perform set_config('response.status', '', true);
  perform set_config('response.headers', '', true);
  perform set_config('response.fetch', '', true);
  if read_only then
    perform set_config('transaction_read_only', 'on', true);
  end if;
end $$;
comment on function gateway.begin_request(text, text, boolean, text) is
  'Sets role, claims, client address and read-only for the rest of the caller''s transaction.';

-- One request, one round trip: gateway.begin_request, then the call the gateway built from the
-- catalog, in the single statement's own transaction. A function may set `response.status` (e.g.
-- 201) and `response.headers` (a JSON object) with set_config(…, true), as in PostgREST. A status of
-- 400 or more with a body {code, message, details} is an error that still commits (util.answer_error).
-- A function may also set `response.fetch` ({"requests": [{url, method, headers, body, timeout_ms}]}):
-- the gateway then performs the requests outside any transaction and calls the same function again
-- with the reserved argument `fetched` (docs/gateway.md, Outbound requests). A gateway that reads
-- only the first three columns is unaffected.
create or replace function gateway.invoke(
  request_role text, claims text, read_only boolean, call text, args jsonb, client_addr text default null,
  out body text, out status integer, out headers text, out fetch_requests text
)
language plpgsql volatile as $$
begin
  perform gateway.begin_request(request_role, claims, read_only, client_addr);
  execute call into body using args;
  status := nullif(current_setting('response.status', true), '')::integer;
  headers := nullif(current_setting('response.headers', true), '');
  fetch_requests := nullif(current_setting('response.fetch', true), '');
end $$;
comment on function gateway.invoke(text, text, boolean, text, jsonb, text) is
  'Runs one API call as the request''s role and claims, in the caller''s (single-statement) transaction; `fetch_requests` asks the gateway for outbound requests.';

-- The secret a fetch names (`{"$secret": name}` in a header), for the account of the request: the
-- first answer of the units' resolvers (gateway.secret_resolvers), or null. Only the gateway's
-- login may call it; the value goes into the outbound request and nowhere else.
create or replace function gateway.resolve_secret(account uuid, name text) returns text
language plpgsql volatile set search_path = '' as $$
declare
  resolver regprocedure;
  value text;
begin
  if account is null or name is null then
    return null;
  end if;
  for resolver in select r.resolver from gateway.secret_resolvers r order by r.unit loop
    execute pg_catalog.format('select %s($1, $2)', resolver::regproc) into value using account, name;
    if value is not null then
      return value;
    end if;
  end loop;
  return null;
end $$;
comment on function gateway.resolve_secret(uuid, text) is 'The secret an outbound request names, for an account (only the gateway may call it).';
revoke all on function gateway.resolve_secret(uuid, text) from public;

-- A sliding window over the shared table, atomically under the bucket's row lock: at most
-- `requests` in any `window_ms`. The window is cut into 60 slots; a request is admitted while the
-- slots overlapping the last window_ms hold fewer than `requests` (whole slots can only over-count,
-- so the limit holds for every window). The gateway's memory store (SlidingWindow) is the same.
-- `now_ms` is for tests; the clock otherwise.
drop function if exists gateway.rate_limit_take(text, integer, double precision);
create or replace function gateway.rate_limit_take(
  bucket text, requests integer, window_ms double precision, now_ms double precision default null,
  out allowed boolean, out remaining integer, out retry_after_ms double precision, out reset_ms double precision
)
language plpgsql volatile set search_path = '' as $$
declare
  slots constant integer := 60;
  t constant double precision := coalesce(now_ms, extract(epoch from pg_catalog.clock_timestamp()) * 1000);
  width constant double precision := window_ms / slots;
  current_slot constant bigint := floor(t / width)::bigint;
  v_first bigint;
  v_counts integer[];
  total integer;
  dropped integer := 0;
  slot bigint;
  i integer;
  last_used integer;
begin
  insert into gateway.rate_limits as l (bucket, first_slot, counts, expires_ms)
    values (rate_limit_take.bucket, current_slot, '{}', 0)
    on conflict on constraint rate_limits_pkey do nothing;
  select l.first_slot, l.counts into v_first, v_counts
    from gateway.rate_limits l where l.bucket = rate_limit_take.bucket for update;
  -- Slots older than current − 60 have left the window.
  if v_first < current_slot - slots then
    v_counts := v_counts[(current_slot - slots - v_first + 1)::integer :];
    v_first := current_slot - slots;
  end if;
  -- Empty, or from a later slot than now (a clock set back, or a bucket of another window): afresh.
  if coalesce(pg_catalog.array_length(v_counts, 1), 0) = 0 or v_first > current_slot then
    v_counts := '{}';
    v_first := current_slot;
  end if;
  total := coalesce((select sum(c) from pg_catalog.unnest(v_counts) c), 0);
  if total >= requests then
    -- Admitted again once enough of the oldest slots have left the window.
    slot := v_first;
    for i in 1 .. pg_catalog.array_length(v_counts, 1) loop
      dropped := dropped + v_counts[i];
      exit when dropped >= total - requests + 1;
      slot := slot + 1;
    end loop;
    allowed := false;
    remaining := 0;
    retry_after_ms := (slot + slots + 1) * width - t;
  else
    i := (current_slot - v_first + 1)::integer;
    while coalesce(pg_catalog.array_length(v_counts, 1), 0) < i loop
      v_counts := v_counts || 0;
    end loop;
    v_counts[i] := v_counts[i] + 1;
    allowed := true;
    remaining := requests - total - 1;
    retry_after_ms := 0;
  end if;
  select max(o) into last_used from pg_catalog.unnest(v_counts) with ordinality u(c, o) where c > 0;
  reset_ms := case when last_used is null then 0 else greatest(0, (v_first + last_used - 1 + slots + 1) * width - t) end;
  update gateway.rate_limits l set first_slot = v_first, counts = v_counts, expires_ms = t + reset_ms
   where l.bucket = rate_limit_take.bucket;
end $$;

-- Buckets with nothing left in their window carry no state worth keeping.
create or replace function gateway.rate_limit_sweep() returns integer
language sql volatile set search_path = '' as $$
  with gone as (
    delete from gateway.rate_limits where expires_ms < extract(epoch from pg_catalog.clock_timestamp()) * 1000 returning 1
  )
  select count(*)::integer from gone
$$;

grant execute on function gateway.begin_request(text, text, boolean, text), gateway.invoke(text, text, boolean, text, jsonb, text),
  gateway.resolve_secret(uuid, text),
  gateway.rate_limit_take(text, integer, double precision, double precision), gateway.rate_limit_sweep() to authenticator;
