-- Helpers every product's api functions share. The schema is the core's; the first product
-- migration (0004) happened to create it, and applied migrations are never edited.
create schema if not exists util;
revoke all on schema util from public;
grant usage on schema util to anon, authenticated, service_role;

-- A 400 VALIDATION_ERROR whose details name the parameter, in the same shape as the gateway's own
-- parameter errors: {"errors": [{"parameter": …, "message": …}]}.
create or replace function util.validation_error(parameter text, message text) returns void
language plpgsql immutable set search_path = '' as $$
begin
  raise exception '%: %', parameter, message
    using errcode = '22023',
          detail = pg_catalog.jsonb_build_object('errors', pg_catalog.jsonb_build_array(
                     pg_catalog.jsonb_build_object('parameter', parameter, 'message', message)))::text;
end $$;
comment on function util.validation_error(text, text) is 'Raises 22023 (HTTP 400) naming the bad parameter.';

-- A 400 unless `value` is present and within [low, high].
create or replace function util.require_range(parameter text, value integer, low integer, high integer) returns void
language plpgsql immutable set search_path = '' as $$
begin
  if value is null or value < low or value > high then
    perform util.validation_error(parameter, pg_catalog.format('must be between %s and %s', low, high));
  end if;
end $$;
comment on function util.require_range(text, integer, integer, integer) is 'Raises 22023 (HTTP 400) unless low <= value <= high.';

-- Timestamps as the specs print them: UTC, second precision, a trailing Z. No SET clause, so
-- the planner inlines it (it runs once per row of every time series).
create or replace function util.iso(ts timestamptz) returns text
language sql immutable as $$
  select pg_catalog.to_char(ts at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
$$;
comment on function util.iso(timestamptz) is 'ISO 8601 in UTC with a Z, e.g. 2025-10-14T18:45:00Z.';

-- The caller's account, or a 403 when the token names none: tenant data is never read without one.
create or replace function util.require_account() returns uuid
language plpgsql stable set search_path = '' as $$
declare
  account uuid := auth.account_id();
begin
  if account is null then
    raise exception 'your token names no account' using errcode = '42501',
      hint = 'the account id belongs in the token''s app_metadata.account_id claim';
  end if;
  return account;
end $$;
comment on function util.require_account() is 'The caller''s account id; raises 42501 (403) when the token has none.';

-- One thing's JSON, or a 404 problem saying what was missing: every "get one" endpoint ends so.
create or replace function util.found(value jsonb, missing text) returns jsonb
language plpgsql immutable set search_path = '' as $$
begin
  if value is null then
    raise exception '%', missing using errcode = 'PT404';
  end if;
  return value;
end $$;
comment on function util.found(jsonb, text) is 'Returns value, or raises PT404 (HTTP 404) with the message `missing` when it is null.';

grant execute on function util.validation_error(text, text), util.require_range(text, integer, integer, integer),
  util.iso(timestamptz), util.require_account(), util.found(jsonb, text)
  to anon, authenticated, service_role;

-- One CSV field (RFC 4180): empty for null, otherwise always quoted (quotes doubled), so commas
-- and line breaks inside a value are safe. Values print as in JSON (ISO timestamps, true/false).
-- Used by the gateway to stream CSV, once per field, so it must be inlined: one statement, the value
-- used once, no SET clause, and STABLE — to_jsonb of a timestamp depends on TimeZone, and the planner
-- never inlines a function declared more immutable than its body (inlined: 4× faster).
create or replace function util.csv_field(value anycompatible) returns text
language sql stable parallel safe as $$
  select coalesce('"' || pg_catalog.replace(pg_catalog.to_jsonb(value) #>> '{}', '"', '""') || '"', '')
$$;
grant execute on function util.csv_field(anycompatible) to anon, authenticated, service_role;

-- An error answer that still commits what the function wrote (a failed login is recorded, a
-- replayed refresh token's family stays revoked): a raised error would roll that back. The gateway
-- turns status >= 400 and this body into the same problem+json as any other error.
create or replace function util.answer_error(status integer, code text, message text, details jsonb default null,
                                             headers jsonb default null) returns jsonb
language plpgsql volatile set search_path = '' as $$
begin
  perform pg_catalog.set_config('response.status', status::text, true);
  if headers is not null then
    perform pg_catalog.set_config('response.headers', headers::text, true);
  end if;
  return pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object('code', code, 'message', message, 'details', details));
end $$;
comment on function util.answer_error(integer, text, text, jsonb, jsonb) is
  'Sets response.status and returns {code, message, details}: an HTTP error that does not roll back.';
grant execute on function util.answer_error(integer, text, text, jsonb, jsonb) to anon, authenticated, service_role;
