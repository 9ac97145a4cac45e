-- requires: core/util.sql
-- What every ForecastLab function shares: errors in the contract's shape (its unit declares the
-- `fastapi` error style, so a 22023 is a 422 with a top-level `errors: [{field, message, type}]`),
-- decimals as the contract prints them (strings with two decimals), and the KPI metrics object.

-- A 422 naming one field, with the error `type` the contract's clients read (Pydantic's names:
-- missing, greater_than_equal, less_than_equal, string_too_short, literal_error, …).
create or replace function forecast.invalid(field text, message text, type text default 'value_error') returns void
language plpgsql immutable set search_path = '' as $$
begin
  raise exception '%: %', field, message
    using errcode = '22023',
          detail = pg_catalog.jsonb_build_object('errors', pg_catalog.jsonb_build_array(
                     pg_catalog.jsonb_build_object('field', field, 'message', message, 'type', type)))::text;
end $$;
comment on function forecast.invalid(text, text, text) is 'Raises 22023 (HTTP 422) with errors [{field, message, type}].';

-- A 422 listing several problems at once: `errors` is a JSON array of {field, message, type}.
create or replace function forecast.invalid_all(summary text, errors jsonb) returns void
language plpgsql immutable set search_path = '' as $$
begin
  raise exception '%', summary
    using errcode = '22023', detail = pg_catalog.jsonb_build_object('errors', errors)::text;
end $$;
comment on function forecast.invalid_all(text, jsonb) is 'Raises 22023 (HTTP 422) with the given errors [{field, message, type}].';

-- An integer parameter within [low, high], or a 422 typed as the contract's clients expect.
create or replace function forecast.require_between(field text, value bigint, low bigint, high bigint) returns void
language plpgsql immutable set search_path = '' as $$
begin
  if value is null then
    perform forecast.invalid(field, 'Field required', 'missing');
  elsif value < low then
    perform forecast.invalid(field, pg_catalog.format('Input should be greater than or equal to %s', low), 'greater_than_equal');
  elsif value > high then
    perform forecast.invalid(field, pg_catalog.format('Input should be less than or equal to %s', high), 'less_than_equal');
  end if;
end $$;

-- A decimal as the contract serialises it: a string, two decimals ("42.00"); null stays null.
-- No SET clause, so it is inlined (it runs once per point of a series).
create or replace function forecast.money_text(value numeric) returns text
language sql immutable parallel safe as $$
  select pg_catalog.round(value, 2)::text
$$;

-- The KPI metrics object (§6): revenue, units and transactions (sales rows) summed, averages null
-- when there is nothing to divide by. Inlined like money_text.
create or replace function forecast.metrics_json(revenue numeric, units numeric, transactions numeric) returns jsonb
language sql stable parallel safe as $$  -- stable, as jsonb_build_object is: a stricter label would keep it from being inlined
  select pg_catalog.jsonb_build_object(
    'total_revenue', forecast.money_text(coalesce(revenue, 0)),
    'total_units', coalesce(units, 0)::bigint,
    'total_transactions', coalesce(transactions, 0)::bigint,
    'avg_unit_price', forecast.money_text(revenue / nullif(units, 0)),
    'avg_basket_value', forecast.money_text(revenue / nullif(transactions, 0)))
$$;

grant execute on function forecast.invalid(text, text, text), forecast.invalid_all(text, jsonb),
  forecast.require_between(text, bigint, bigint, bigint), forecast.money_text(numeric),
  forecast.metrics_json(numeric, numeric, numeric) to authenticated, service_role;
