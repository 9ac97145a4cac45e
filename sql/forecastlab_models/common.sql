-- requires: core/util.sql
-- requires: core/auth.sql
-- What the ForecastLab models' functions share: errors in the unit's `fastapi` style (a 22023 is a
-- 422 with a top-level `errors: [{field, message, type}]`, a PT400 a 400 BAD_REQUEST), hashes of
-- configurations, the model taxonomy, the artifact paths of the wire and the registry run's JSON.

-- A 422 listing problems [{field, message, type}] (Pydantic's type names).
create or replace function forecast_models.invalid_all(errors jsonb) returns void
language plpgsql immutable set search_path = '' as $$
begin
  raise exception 'Request validation failed with % error(s)', pg_catalog.jsonb_array_length(errors)
    using errcode = '22023', detail = pg_catalog.jsonb_build_object('errors', errors)::text;
end $$;
comment on function forecast_models.invalid_all(jsonb) is 'Raises 22023 (HTTP 422) with errors [{field, message, type}].';

-- One problem as the list holds it.
create or replace function forecast_models.problem(field text, message text, type text) returns jsonb
language sql immutable as $$
  select pg_catalog.jsonb_build_object('field', field, 'message', message, 'type', type)
$$;

-- The problems of an integer within [low, high] (none when it is): missing, below, above.
create or replace function forecast_models.range_problems(field text, value bigint, low bigint, high bigint) returns jsonb
language sql immutable as $$
  select case
    when value is null then pg_catalog.jsonb_build_array(forecast_models.problem(field, 'Field required', 'missing'))
    when value < low then pg_catalog.jsonb_build_array(forecast_models.problem(field,
      pg_catalog.format('Input should be greater than or equal to %s', low), 'greater_than_equal'))
    when high is not null and value > high then pg_catalog.jsonb_build_array(forecast_models.problem(field,
      pg_catalog.format('Input should be less than or equal to %s', high), 'less_than_equal'))
    else '[]'::jsonb end
$$;

-- The problems of a list of strings with JSON nulls in it: one per null, named by its index.
create or replace function forecast_models.null_string_problems(field text, items text[]) returns jsonb
language sql immutable as $$
  select coalesce(pg_catalog.jsonb_agg(forecast_models.problem(field || '.' || (t.i - 1), 'Input should be a valid string', 'string_type') order by t.i), '[]')
    from pg_catalog.unnest(items) with ordinality t(item, i) where t.item is null
$$;

-- The problems of a date window whose end must be strictly after its start: missing, not after.
create or replace function forecast_models.window_problems(start_field text, start_date date, end_field text, end_date date)
returns jsonb language sql immutable as $$
  select case when start_date is null then pg_catalog.jsonb_build_array(forecast_models.problem(start_field, 'Field required', 'missing'))
              else '[]'::jsonb end
      || case when end_date is null then pg_catalog.jsonb_build_array(forecast_models.problem(end_field, 'Field required', 'missing'))
              when end_date <= start_date then pg_catalog.jsonb_build_array(forecast_models.problem(end_field,
                pg_catalog.format('%s must be after %s', end_field, start_field), 'value_error'))
              else '[]'::jsonb end
$$;

-- A JSON value as Python's json.dumps(value, sort_keys=True) writes it (keys in code-point order,
-- ", " and ": " separators), so a registry config_hash is upstream's for ASCII configurations with
-- plain numbers (upstream writes non-ASCII as \u escapes and 1e2 as 100.0; here they stay as given).
create or replace function forecast_models.canonical_json(value jsonb) returns text
language plpgsql immutable set search_path = '' as $$
begin
  case pg_catalog.jsonb_typeof(value)
    when 'object' then
      return '{' || coalesce((select pg_catalog.string_agg(pg_catalog.to_jsonb(e.key)::text || ': ' || forecast_models.canonical_json(e.value),
                                                           ', ' order by e.key collate "C")
                                from pg_catalog.jsonb_each(value) e), '') || '}';
    when 'array' then
      return '[' || coalesce((select pg_catalog.string_agg(forecast_models.canonical_json(e.value), ', ' order by e.position)
                                from pg_catalog.jsonb_array_elements(value) with ordinality e(value, position)), '') || ']';
    else
      return value::text;
  end case;
end $$;

-- config_hash: the first 16 hex digits of the SHA-256 of the canonical JSON.
create or replace function forecast_models.config_hash(config jsonb) returns text
language sql immutable set search_path = '' as $$
  select pg_catalog.left(pg_catalog.encode(pg_catalog.sha256(pg_catalog.convert_to(forecast_models.canonical_json(config), 'UTF8')), 'hex'), 16)
$$;

-- Milliseconds since `started` (a clock_timestamp), as the answers' duration_ms gives them.
create or replace function forecast_models.elapsed_ms(started timestamptz) returns numeric
language sql volatile set search_path = '' as $$
  select pg_catalog.round(extract(epoch from pg_catalog.clock_timestamp() - started)::numeric * 1000, 3)
$$;

-- The model taxonomy (§2): family by type; an unknown type is a baseline, as upstream.
create or replace function forecast_models.model_family(model_type text) returns text
language sql immutable as $$
  select case
    when model_type in ('trend_regression_baseline', 'prophet_like') then 'additive'
    when model_type in ('random_forest', 'regression', 'lightgbm', 'xgboost') then 'tree'
    else 'baseline' end
$$;

-- The path of an artifact on the wire: upstream's shape, naming a row rather than a file.
create or replace function forecast_models.artifact_path(artifact_key text) returns text
language sql immutable as $$
  select 'artifacts/models/model_' || artifact_key || '.joblib'
$$;

-- The artifact key a path names, or a 400: only artifacts/models/model_<12 hex>.joblib (upstream's
-- ./ prefix allowed) names an artifact; nothing else is ever read as a path.
create or replace function forecast_models.artifact_key(path text, field text) returns text
language plpgsql immutable set search_path = '' as $$
declare
  matched text[] := pg_catalog.regexp_match(path, '^(?:\./)?artifacts/models/model_([0-9a-f]{12})\.joblib$');
begin
  if matched is null then
    raise exception 'Invalid %: it must name a model artifact, artifacts/models/model_<12 hex digits>.joblib', field
      using errcode = 'PT400', hint = 'use the model_path a training answered';
  end if;
  return matched[1];
end $$;

-- The caller's own artifact a path names: 400 for any other shape, 404 for a key the account does
-- not have (another account's key included: it is not told apart from an unknown one).
create or replace function forecast_models.resolve_artifact(path text, field text) returns forecast_models.artifacts
language plpgsql stable set search_path = '' as $$
declare
  account uuid := util.require_account();
  key text := forecast_models.artifact_key(path, field);
  artifact forecast_models.artifacts;
begin
  select a.* into artifact from forecast_models.artifacts a where a.account_id = account and a.artifact_key = key;
  if not found then
    raise exception 'Model artifact not found: %', forecast_models.artifact_path(key) using errcode = 'PT404';
  end if;
  return artifact;
end $$;

-- A registry run as the contract's RunResponse: every column but the internal id, the family, and
-- feature_frame_version / feature_groups read from runtime_info (null when absent).
create or replace function forecast_models.run_json(run forecast_models.runs) returns jsonb
language sql stable set search_path = '' as $$
  select pg_catalog.jsonb_build_object(
    'run_id', run.run_id, 'status', run.status, 'model_type', run.model_type,
    'model_family', forecast_models.model_family(run.model_type),
    'model_config', run.model_config, 'feature_config', run.feature_config, 'config_hash', run.config_hash,
    'data_window_start', run.data_window_start, 'data_window_end', run.data_window_end,
    'store_id', run.store_id, 'product_id', run.product_id, 'metrics', run.metrics,
    'artifact_uri', run.artifact_uri, 'artifact_hash', run.artifact_hash, 'artifact_size_bytes', run.artifact_size_bytes,
    'runtime_info', run.runtime_info, 'agent_context', run.agent_context, 'git_sha', run.git_sha,
    'error_message', run.error_message,
    'started_at', util.iso(run.started_at), 'completed_at', util.iso(run.completed_at),
    'created_at', util.iso(run.created_at), 'updated_at', util.iso(run.updated_at),
    'feature_frame_version', case when pg_catalog.jsonb_typeof(run.runtime_info -> 'feature_frame_version') = 'number'
                                  then run.runtime_info -> 'feature_frame_version' end,
    'feature_groups', case when pg_catalog.jsonb_typeof(run.runtime_info -> 'feature_groups') = 'object'
                           then run.runtime_info -> 'feature_groups' end)
$$;

-- The caller's run with this external id, or a 404 (another account's run included).
create or replace function forecast_models.find_run(run_id text) returns forecast_models.runs
language plpgsql stable set search_path = '' as $$
declare
  account uuid := util.require_account();
  run forecast_models.runs;
begin
  select r.* into run from forecast_models.runs r where r.account_id = account and r.run_id = find_run.run_id;
  if not found then
    raise exception 'Run % not found', pg_catalog.left(find_run.run_id, 64) using errcode = 'PT404';
  end if;
  return run;
end $$;

grant execute on function forecast_models.invalid_all(jsonb), forecast_models.elapsed_ms(timestamptz), forecast_models.problem(text, text, text),
  forecast_models.window_problems(text, date, text, date), forecast_models.range_problems(text, bigint, bigint, bigint),
  forecast_models.null_string_problems(text, text[]), forecast_models.canonical_json(jsonb),
  forecast_models.config_hash(jsonb), forecast_models.model_family(text), forecast_models.artifact_path(text),
  forecast_models.artifact_key(text, text), forecast_models.resolve_artifact(text, text),
  forecast_models.run_json(forecast_models.runs), forecast_models.find_run(text)
  to authenticated, service_role;

-- A 404 unless the store and the product are the account's (another account's are not told apart
-- from unknown ones).
create or replace function forecast_models.require_store_product(account uuid, store_id bigint, product_id bigint) returns void
language plpgsql stable set search_path = '' as $$
begin
  if not exists (select from forecast.stores s where s.id = require_store_product.store_id and s.account_id = account) then
    raise exception 'Store % not found', require_store_product.store_id using errcode = 'PT404';
  end if;
  if not exists (select from forecast.products p where p.id = require_store_product.product_id and p.account_id = account) then
    raise exception 'Product % not found', require_store_product.product_id using errcode = 'PT404';
  end if;
end $$;
revoke all on function forecast_models.require_store_product(uuid, bigint, bigint) from public;
grant execute on function forecast_models.require_store_product(uuid, bigint, bigint) to authenticated, service_role;

-- The caller's daily sales of one store and product between two dates, as the models read them
-- (the rows as stored, no gap filling): 404 for a store or product not in the account, 400 for no
-- sales in the window. Train and backtest both start here.
create or replace function forecast_models.series(account uuid, store_id bigint, product_id bigint, first_day date, last_day date,
                                                  out dates date[], out y double precision[])
language plpgsql stable set search_path = '' as $$
begin
  perform forecast_models.require_store_product(account, series.store_id, series.product_id);
  select pg_catalog.array_agg(s.date order by s.date), pg_catalog.array_agg(s.quantity::double precision order by s.date)
    into dates, y
    from forecast.sales_daily s
   where s.store_id = series.store_id and s.product_id = series.product_id and s.account_id = account
     and s.date between first_day and last_day;
  if dates is null then
    raise exception 'No sales for store %, product % between % and %', series.store_id, series.product_id, first_day, last_day
      using errcode = 'PT400';
  end if;
end $$;
revoke all on function forecast_models.series(uuid, bigint, bigint, date, date) from public;
grant execute on function forecast_models.series(uuid, bigint, bigint, date, date) to authenticated, service_role;
