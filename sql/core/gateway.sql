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
create or replace function gateway.invoke(
  request_role text, claims text, read_only boolean, call text, args jsonb, client_addr text default null,
  out body text, out status integer, out headers text
)
language plpgsql volatile as $$
begin
  perform gateway.begin_request(request_role, claims, read_only, client_addr);
  execute call into body using args;
  status := nullif(current_setting('response.status', true), '')::integer;
  headers := nullif(current_setting('response.headers', true), '');
end $$;
comment on function gateway.invoke(text, text, boolean, text, jsonb, text) is
  'Runs one API call as the request''s role and claims, in the caller''s (single-statement) transaction.';

-- GCRA over the shared table, atomically: `requests` per `window_ms`, bursts up to `requests`.
create or replace function gateway.rate_limit_take(
  bucket text, requests integer, window_ms double precision,
  out allowed boolean, out remaining integer, out retry_after_ms double precision, out reset_ms double precision
)
language plpgsql volatile set search_path = '' as $$
declare
  now_ms constant double precision := extract(epoch from pg_catalog.clock_timestamp()) * 1000;
  interval_ms constant double precision := window_ms / requests;
  tat double precision;
  next_tat double precision;
begin
  insert into gateway.rate_limits as l (bucket, tat_ms) values (rate_limit_take.bucket, now_ms)
    on conflict on constraint rate_limits_pkey do nothing;
  select greatest(l.tat_ms, now_ms) into tat from gateway.rate_limits l where l.bucket = rate_limit_take.bucket for update;
  next_tat := tat + interval_ms;
  if next_tat - now_ms > window_ms then
    allowed := false;
    retry_after_ms := next_tat - now_ms - window_ms;
    remaining := 0;
    reset_ms := tat - now_ms;
  else
    update gateway.rate_limits l set tat_ms = next_tat where l.bucket = rate_limit_take.bucket;
    allowed := true;
    retry_after_ms := 0;
    remaining := floor((window_ms - (next_tat - now_ms)) / interval_ms)::integer;
    reset_ms := next_tat - now_ms;
  end if;
end $$;

-- Buckets whose arrival time has passed carry no state worth keeping.
create or replace function gateway.rate_limit_sweep() returns integer
language sql volatile set search_path = '' as $$
  with gone as (
    delete from gateway.rate_limits where tat_ms < extract(epoch from pg_catalog.clock_timestamp()) * 1000 returning 1
  )
  select count(*)::integer from gone
$$;

grant execute on function gateway.begin_request(text, text, boolean, text), gateway.invoke(text, text, boolean, text, jsonb, text),
  gateway.rate_limit_take(text, integer, double precision), gateway.rate_limit_sweep() to authenticator;
