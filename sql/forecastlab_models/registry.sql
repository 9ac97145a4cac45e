-- requires: forecastlab_models/common.sql
-- The model registry (forecastlab-contract-details.md §12): runs with their status machine,
-- artifact verification, deployment aliases and the comparison of two runs. Reads for every member
-- of the account; writes for admins and the service role (policies.sql says so too).

-- The status machine (§12.2): pending → running | archived; running → success | failed | archived;
-- success → archived; failed → archived; archived is terminal. Staying put is not a transition.
create or replace function forecast_models.transition_allowed(from_status text, to_status text) returns boolean
language sql immutable as $$
  select (from_status, to_status) in (('pending', 'running'), ('pending', 'archived'), ('running', 'success'),
                                      ('running', 'failed'), ('running', 'archived'), ('success', 'archived'),
                                      ('failed', 'archived'))
$$;
grant execute on function forecast_models.transition_allowed(text, text) to authenticated, service_role;

-- POST /registry/runs (201): a pending run. Every problem of the body is one 422. Duplicate policy
-- `detect` (upstream's default): a non-archived run with the same config_hash, store, product and
-- window does not stop the new one; the answer names them in `duplicate_of` (and a NOTICE says so).
create or replace function api.registry_create_run(model_type text default null, model_config jsonb default null,
                                                   data_window_start date default null, data_window_end date default null,
                                                   store_id bigint default null, product_id bigint default null,
                                                   feature_config jsonb default null, agent_context jsonb default null,
                                                   git_sha text default null, runtime_info_extras jsonb default null)
returns jsonb
language plpgsql volatile set search_path = '' as $$
declare
  account uuid := util.require_account();
  problems jsonb := '[]';
  hash text;
  duplicates jsonb;
  run forecast_models.runs;
  extra text;
begin
  perform auth.require_app_role('admin');
  if registry_create_run.model_type is null then
    problems := problems || forecast_models.problem('model_type', 'Field required', 'missing');
  elsif length(registry_create_run.model_type) not between 1 and 50 then
    problems := problems || forecast_models.problem('model_type',
      case when registry_create_run.model_type = '' then 'String should have at least 1 character' else 'String should have at most 50 characters' end,
      case when registry_create_run.model_type = '' then 'string_too_short' else 'string_too_long' end);
  end if;
  if registry_create_run.model_config is null then
    problems := problems || forecast_models.problem('model_config', 'Field required', 'missing');
  elsif jsonb_typeof(registry_create_run.model_config) <> 'object' then
    problems := problems || forecast_models.problem('model_config', 'Input should be a valid dictionary', 'dict_type');
  end if;
  if registry_create_run.feature_config is not null and jsonb_typeof(registry_create_run.feature_config) not in ('object', 'null') then
    problems := problems || forecast_models.problem('feature_config', 'Input should be a valid dictionary', 'dict_type');
  end if;
  if registry_create_run.data_window_start is null then
    problems := problems || forecast_models.problem('data_window_start', 'Field required', 'missing');
  end if;
  if registry_create_run.data_window_end is null then
    problems := problems || forecast_models.problem('data_window_end', 'Field required', 'missing');
  elsif registry_create_run.data_window_end < registry_create_run.data_window_start then
    problems := problems || forecast_models.problem('data_window_end', 'data_window_end must be on or after data_window_start', 'value_error');
  end if;
  problems := problems || forecast_models.range_problems('store_id', registry_create_run.store_id, 1, null)
                       || forecast_models.range_problems('product_id', registry_create_run.product_id, 1, null);
  if registry_create_run.agent_context is not null and jsonb_typeof(registry_create_run.agent_context) <> 'null' then
    if jsonb_typeof(registry_create_run.agent_context) <> 'object' then
      problems := problems || forecast_models.problem('agent_context', 'Input should be a valid dictionary', 'dict_type');
    else
      for extra in select k from jsonb_object_keys(registry_create_run.agent_context) k where k not in ('agent_id', 'session_id') order by 1 loop
        problems := problems || forecast_models.problem('agent_context.' || extra, 'Extra inputs are not permitted', 'extra_forbidden');
      end loop;
      for extra in select k from jsonb_each(registry_create_run.agent_context) e(k, v)
                    where k in ('agent_id', 'session_id') and jsonb_typeof(v) not in ('string', 'null') order by 1 loop
        problems := problems || forecast_models.problem('agent_context.' || extra, 'Input should be a valid string', 'string_type');
      end loop;
    end if;
  end if;
  if length(registry_create_run.git_sha) > 40 then
    problems := problems || forecast_models.problem('git_sha', 'String should have at most 40 characters', 'string_too_long');
  end if;
  if registry_create_run.runtime_info_extras is not null and jsonb_typeof(registry_create_run.runtime_info_extras) not in ('object', 'null') then
    problems := problems || forecast_models.problem('runtime_info_extras', 'Input should be a valid dictionary', 'dict_type');
  end if;
  if jsonb_array_length(problems) > 0 then
    perform forecast_models.invalid_all(problems);
  end if;

  hash := forecast_models.config_hash(registry_create_run.model_config);
  select coalesce(jsonb_agg(r.run_id order by r.created_at, r.id), '[]') into duplicates
    from forecast_models.runs r
   where r.account_id = account and r.config_hash = hash and r.store_id = registry_create_run.store_id
     and r.product_id = registry_create_run.product_id and r.data_window_start = registry_create_run.data_window_start
     and r.data_window_end = registry_create_run.data_window_end and r.status <> 'archived';
  if jsonb_array_length(duplicates) > 0 then
    raise notice 'registry: duplicate run (policy detect) of %', duplicates;
  end if;

  insert into forecast_models.runs (account_id, run_id, model_type, model_config, feature_config, config_hash,
                                    data_window_start, data_window_end, store_id, product_id, runtime_info,
                                    agent_context, git_sha)
  values (account, replace(gen_random_uuid()::text, '-', ''), registry_create_run.model_type, registry_create_run.model_config,
          nullif(registry_create_run.feature_config, 'null'), hash, registry_create_run.data_window_start,
          registry_create_run.data_window_end, registry_create_run.store_id, registry_create_run.product_id,
          jsonb_build_object('engine', 'postgresql', 'postgresql_version', current_setting('server_version'),
                             'plpython', exists (select from pg_catalog.pg_language where lanname = 'plpython3u'))
            || coalesce(nullif(registry_create_run.runtime_info_extras, 'null'), '{}'),
          nullif(registry_create_run.agent_context, 'null'), registry_create_run.git_sha)
  returning * into run;
  perform set_config('response.status', '201', true);
  return forecast_models.run_json(run) || jsonb_build_object('duplicate_of', duplicates);
end $$;
comment on function api.registry_create_run(text, jsonb, date, date, bigint, bigint, jsonb, jsonb, text, jsonb) is
  'Creates a pending model run (admin or service role). Duplicates (same config_hash, store, product and window, not archived) are allowed and named in duplicate_of.';

-- GET /registry/runs: {runs, total, page, page_size}; filters; sort_by allow-listed (created_at,
-- model_type, status, store_id, product_id), anything else (or a bad sort_order) the default,
-- created_at descending.
create or replace function api.registry_list_runs(page integer default 1, page_size integer default 20,
                                                  model_type text default null, status text default null,
                                                  store_id bigint default null, product_id bigint default null,
                                                  sort_by text default 'created_at', sort_order text default 'desc')
returns jsonb
language plpgsql stable set search_path = '' as $$
declare
  account uuid := util.require_account();
  problems jsonb := forecast_models.range_problems('page', coalesce(registry_list_runs.page, 1), 1, null)
                 || forecast_models.range_problems('page_size', coalesce(registry_list_runs.page_size, 20), 1, 100);
  key text := case when registry_list_runs.sort_by in ('created_at', 'model_type', 'status', 'store_id', 'product_id')
                   then registry_list_runs.sort_by else 'created_at' end;
  direction text := case when registry_list_runs.sort_by in ('created_at', 'model_type', 'status', 'store_id', 'product_id')
                          and lower(registry_list_runs.sort_order) in ('asc', 'desc')
                         then lower(registry_list_runs.sort_order) else 'desc' end;
  size integer := coalesce(registry_list_runs.page_size, 20);
  first integer := (coalesce(registry_list_runs.page, 1) - 1) * coalesce(registry_list_runs.page_size, 20);
  result jsonb;
begin
  if registry_list_runs.status is not null and registry_list_runs.status not in ('pending', 'running', 'success', 'failed', 'archived') then
    problems := problems || forecast_models.problem('status',
      'Input should be ''pending'', ''running'', ''success'', ''failed'' or ''archived''', 'enum');
  end if;
  if jsonb_array_length(problems) > 0 then
    perform forecast_models.invalid_all(problems);
  end if;
  with ordered as (
    select r as run, count(*) over () as total,
           row_number() over (order by
              case when key = 'model_type' and direction = 'asc' then r.model_type end asc,
              case when key = 'model_type' and direction = 'desc' then r.model_type end desc,
              case when key = 'status' and direction = 'asc' then r.status end asc,
              case when key = 'status' and direction = 'desc' then r.status end desc,
              case when key = 'store_id' and direction = 'asc' then r.store_id end asc,
              case when key = 'store_id' and direction = 'desc' then r.store_id end desc,
              case when key = 'product_id' and direction = 'asc' then r.product_id end asc,
              case when key = 'product_id' and direction = 'desc' then r.product_id end desc,
              case when direction = 'asc' then r.created_at end asc,
              case when direction = 'desc' then r.created_at end desc,
              case when direction = 'asc' then r.id end asc,
              case when direction = 'desc' then r.id end desc) as ordinal
      from forecast_models.runs r
     where r.account_id = account
       and (registry_list_runs.model_type is null or r.model_type = registry_list_runs.model_type)
       and (registry_list_runs.status is null or r.status = registry_list_runs.status)
       and (registry_list_runs.store_id is null or r.store_id = registry_list_runs.store_id)
       and (registry_list_runs.product_id is null or r.product_id = registry_list_runs.product_id)
  )
  select jsonb_build_object(
           'runs', coalesce((select jsonb_agg(forecast_models.run_json(o.run) order by o.ordinal)
                               from ordered o where o.ordinal > first and o.ordinal <= first + size), '[]'),
           'total', coalesce((select max(o.total) from ordered o), 0),
           'page', coalesce(registry_list_runs.page, 1), 'page_size', size)
    into result;
  return result;
end $$;
comment on function api.registry_list_runs(integer, integer, text, text, bigint, bigint, text, text) is
  'Model runs of the account, paged (page 1.., page_size 1..100), filtered by model_type, status, store_id, product_id, sorted by an allow-listed sort_by (default created_at desc).';

-- GET /registry/runs/{run_id}: RunResponse, or 404.
create or replace function api.registry_get_run(run_id text) returns jsonb
language plpgsql stable set search_path = '' as $$
begin
  perform util.require_account();
  return forecast_models.run_json(forecast_models.find_run(registry_get_run.run_id));
end $$;
comment on function api.registry_get_run(text) is 'One model run with its metrics and runtime_info; 404 when the account has none with this id.';

-- PATCH /registry/runs/{run_id}: status (by the machine: a bad transition is a 400), metrics,
-- artifact_uri (only the caller's own artifact: another shape is a 400, an unknown key a 404; its
-- hash and size are taken from the artifact unless given), artifact_hash, artifact_size_bytes,
-- error_message. Only the fields given change. Running stamps started_at; success and failed
-- stamp completed_at.
create or replace function api.registry_update_run(run_id text, status text default null, metrics jsonb default null,
                                                   artifact_uri text default null, artifact_hash text default null,
                                                   artifact_size_bytes bigint default null, error_message text default null)
returns jsonb
language plpgsql volatile set search_path = '' as $$
declare
  account uuid := util.require_account();
  problems jsonb := '[]';
  run forecast_models.runs;
  artifact forecast_models.artifacts;
  new_hash text := lower(registry_update_run.artifact_hash);
  new_size bigint := registry_update_run.artifact_size_bytes;
begin
  perform auth.require_app_role('admin');
  if registry_update_run.status is not null and registry_update_run.status not in ('pending', 'running', 'success', 'failed', 'archived') then
    problems := problems || forecast_models.problem('status',
      'Input should be ''pending'', ''running'', ''success'', ''failed'' or ''archived''', 'enum');
  end if;
  if registry_update_run.metrics is not null and jsonb_typeof(registry_update_run.metrics) not in ('object', 'null') then
    problems := problems || forecast_models.problem('metrics', 'Input should be a valid dictionary', 'dict_type');
  end if;
  if new_hash is not null and new_hash !~ '^[0-9a-f]{64}$' then
    problems := problems || forecast_models.problem('artifact_hash', 'String should be a SHA-256 in 64 hex digits', 'string_pattern_mismatch');
  end if;
  if new_size < 0 then
    problems := problems || forecast_models.problem('artifact_size_bytes', 'Input should be greater than or equal to 0', 'greater_than_equal');
  end if;
  if length(registry_update_run.error_message) > 2000 then
    problems := problems || forecast_models.problem('error_message', 'String should have at most 2000 characters', 'string_too_long');
  end if;
  if jsonb_array_length(problems) > 0 then
    perform forecast_models.invalid_all(problems);
  end if;

  run := forecast_models.find_run(registry_update_run.run_id);
  if registry_update_run.status is not null and not forecast_models.transition_allowed(run.status, registry_update_run.status) then
    raise exception 'Invalid status transition: % -> %', run.status, registry_update_run.status
      using errcode = 'PT400', hint = 'pending → running | archived; running → success | failed | archived; success, failed → archived';
  end if;
  if registry_update_run.artifact_uri is not null then
    artifact := forecast_models.resolve_artifact(registry_update_run.artifact_uri, 'artifact_uri');
    new_hash := coalesce(new_hash, artifact.sha256);
    new_size := coalesce(new_size, artifact.size_bytes);
  end if;

  update forecast_models.runs r
     set status = coalesce(registry_update_run.status, r.status),
         metrics = coalesce(nullif(registry_update_run.metrics, 'null'), r.metrics),
         artifact_uri = coalesce(forecast_models.artifact_path(artifact.artifact_key), r.artifact_uri),
         artifact_hash = coalesce(new_hash, r.artifact_hash),
         artifact_size_bytes = coalesce(new_size, r.artifact_size_bytes),
         error_message = coalesce(registry_update_run.error_message, r.error_message),
         started_at = case when registry_update_run.status = 'running' then now() else r.started_at end,
         completed_at = case when registry_update_run.status in ('success', 'failed') then now() else r.completed_at end,
         updated_at = now()
   where r.id = run.id
  returning * into run;
  return forecast_models.run_json(run);
end $$;
comment on function api.registry_update_run(text, text, jsonb, text, text, bigint, text) is
  'Updates a run''s status (by the status machine; a bad transition is a 400), metrics, artifact (the account''s own: artifacts/models/model_<key>.joblib) or error message (admin or service role).';

-- GET /registry/runs/{run_id}/verify: recomputes the SHA-256 of the run's artifact bytes and
-- compares it with the hash the run stored. 404: no such run, or its artifact is gone; 400: the
-- run has no artifact_uri or no stored hash.
create or replace function api.registry_verify_run(run_id text) returns jsonb
language plpgsql stable set search_path = '' as $$
declare
  run forecast_models.runs := forecast_models.find_run(registry_verify_run.run_id);
  artifact forecast_models.artifacts;
  computed text;
begin
  if run.artifact_uri is null then
    raise exception 'Run % has no artifact_uri', run.run_id using errcode = 'PT400';
  end if;
  if run.artifact_hash is null then
    raise exception 'Run % has no stored artifact hash', run.run_id using errcode = 'PT400';
  end if;
  artifact := forecast_models.resolve_artifact(run.artifact_uri, 'artifact_uri');
  computed := encode(sha256(artifact.content), 'hex');
  if computed = run.artifact_hash then
    return jsonb_build_object('verified', true, 'run_id', run.run_id, 'artifact_uri', run.artifact_uri,
                              'stored_hash', run.artifact_hash, 'computed_hash', computed);
  end if;
  return jsonb_build_object('verified', false, 'run_id', run.run_id, 'artifact_uri', run.artifact_uri,
                            'error', format('Hash mismatch: stored %s, computed %s', run.artifact_hash, computed));
end $$;
comment on function api.registry_verify_run(text) is
  'Recomputes the SHA-256 of the run''s artifact and compares it with the stored hash: {verified, …}; 400 without an artifact or hash, 404 for an unknown run or artifact.';

-- An alias as the contract answers it.
create or replace function forecast_models.alias_json(alias forecast_models.aliases) returns jsonb
language sql stable set search_path = '' as $$
  select pg_catalog.jsonb_build_object('alias_name', alias.alias_name, 'run_id', r.run_id, 'run_status', r.status,
                                       'model_type', r.model_type, 'description', alias.description,
                                       'created_at', util.iso(alias.created_at), 'updated_at', util.iso(alias.updated_at))
    from forecast_models.runs r where r.id = alias.run_pk
$$;
grant execute on function forecast_models.alias_json(forecast_models.aliases) to authenticated, service_role;

-- POST /registry/aliases (201): creates the alias or repoints it, only onto a successful run of
-- the account (a missing or unsuccessful run is a 400). A repoint without a description keeps the
-- old one.
create or replace function api.registry_create_alias(alias_name text default null, run_id text default null,
                                                     description text default null) returns jsonb
language plpgsql volatile set search_path = '' as $$
declare
  account uuid := util.require_account();
  problems jsonb := '[]';
  run forecast_models.runs;
  alias forecast_models.aliases;
begin
  perform auth.require_app_role('admin');
  if registry_create_alias.alias_name is null then
    problems := problems || forecast_models.problem('alias_name', 'Field required', 'missing');
  elsif length(registry_create_alias.alias_name) > 100 then
    problems := problems || forecast_models.problem('alias_name', 'String should have at most 100 characters', 'string_too_long');
  elsif registry_create_alias.alias_name !~ '^[a-z0-9][a-z0-9_-]*$' then
    problems := problems || forecast_models.problem('alias_name', 'String should match pattern ''^[a-z0-9][a-z0-9\-_]*$''', 'string_pattern_mismatch');
  end if;
  if registry_create_alias.run_id is null then
    problems := problems || forecast_models.problem('run_id', 'Field required', 'missing');
  end if;
  if length(registry_create_alias.description) > 500 then
    problems := problems || forecast_models.problem('description', 'String should have at most 500 characters', 'string_too_long');
  end if;
  if jsonb_array_length(problems) > 0 then
    perform forecast_models.invalid_all(problems);
  end if;
  select r.* into run from forecast_models.runs r where r.account_id = account and r.run_id = registry_create_alias.run_id;
  if not found then
    raise exception 'Run % not found', left(registry_create_alias.run_id, 64) using errcode = 'PT400';
  end if;
  if run.status <> 'success' then
    raise exception 'Run % has status %: an alias can point only at a successful run', run.run_id, run.status using errcode = 'PT400';
  end if;
  insert into forecast_models.aliases as a (account_id, alias_name, run_pk, description)
  values (account, registry_create_alias.alias_name, run.id, registry_create_alias.description)
  on conflict on constraint aliases_account_id_alias_name_key do update
     set run_pk = excluded.run_pk, description = coalesce(excluded.description, a.description), updated_at = now()
  returning * into alias;
  perform set_config('response.status', '201', true);
  return forecast_models.alias_json(alias);
end $$;
comment on function api.registry_create_alias(text, text, text) is
  'Creates or repoints a deployment alias onto a successful run of the account (admin or service role); 400 when the run is missing or not successful.';

-- GET /registry/aliases: every alias of the account, by name.
create or replace function api.registry_list_aliases() returns jsonb
language sql stable set search_path = '' as $$
  select coalesce(jsonb_agg(forecast_models.alias_json(a) order by a.alias_name), '[]')
    from forecast_models.aliases a where a.account_id = util.require_account()
$$;
comment on function api.registry_list_aliases() is 'The account''s deployment aliases, by name.';

-- GET /registry/aliases/{alias_name}: one alias, or 404.
create or replace function api.registry_get_alias(alias_name text) returns jsonb
language sql stable set search_path = '' as $$
  select util.found((select forecast_models.alias_json(a) from forecast_models.aliases a
                      where a.account_id = util.require_account() and a.alias_name = registry_get_alias.alias_name),
                    format('Alias %s not found', left(registry_get_alias.alias_name, 100)))
$$;
comment on function api.registry_get_alias(text) is 'One deployment alias; 404 when the account has none by this name.';

-- DELETE /registry/aliases/{alias_name}: 204, or 404.
create or replace function api.registry_delete_alias(alias_name text) returns jsonb
language plpgsql volatile set search_path = '' as $$
declare
  account uuid := util.require_account();
begin
  perform auth.require_app_role('admin');
  delete from forecast_models.aliases a where a.account_id = account and a.alias_name = registry_delete_alias.alias_name;
  if not found then
    raise exception 'Alias % not found', left(registry_delete_alias.alias_name, 100) using errcode = 'PT404';
  end if;
  perform set_config('response.status', '204', true);
  return null;
end $$;
comment on function api.registry_delete_alias(text) is 'Deletes a deployment alias (admin or service role); 404 when the account has none by this name.';

-- GET /registry/compare/{run_id_a}/{run_id_b}: both runs, the top-level model_config keys whose
-- values differ ({a, b}; an absent key is null), and every metric of either ({a?, b?, diff? = b − a
-- when both are numbers}). 404 when either run is missing.
create or replace function api.registry_compare_runs(run_id_a text, run_id_b text) returns jsonb
language plpgsql stable set search_path = '' as $$
declare
  a forecast_models.runs := forecast_models.find_run(registry_compare_runs.run_id_a);
  b forecast_models.runs := forecast_models.find_run(registry_compare_runs.run_id_b);
begin
  return jsonb_build_object(
    'run_a', forecast_models.run_json(a), 'run_b', forecast_models.run_json(b),
    'config_diff', coalesce((select jsonb_object_agg(k, jsonb_build_object('a', a.model_config -> k, 'b', b.model_config -> k))
                               from (select jsonb_object_keys(a.model_config) union select jsonb_object_keys(b.model_config)) keys(k)
                              where (a.model_config -> k) is distinct from (b.model_config -> k)), '{}'),
    'metrics_diff', coalesce((select jsonb_object_agg(k, jsonb_strip_nulls(jsonb_build_object(
                                       'a', ma, 'b', mb,
                                       'diff', case when jsonb_typeof(ma) = 'number' and jsonb_typeof(mb) = 'number'
                                                    then to_jsonb((mb #>> '{}')::numeric - (ma #>> '{}')::numeric) end)))
                                from (select k, a.metrics -> k as ma, b.metrics -> k as mb
                                        from (select jsonb_object_keys(coalesce(a.metrics, '{}')) union
                                              select jsonb_object_keys(coalesce(b.metrics, '{}'))) keys(k)) m), '{}'));
end $$;
comment on function api.registry_compare_runs(text, text) is
  'Two runs side by side: the model_config keys that differ and every metric with b − a; 404 when either is missing.';

grant execute on function api.registry_create_run(text, jsonb, date, date, bigint, bigint, jsonb, jsonb, text, jsonb),
  api.registry_list_runs(integer, integer, text, text, bigint, bigint, text, text), api.registry_get_run(text),
  api.registry_update_run(text, text, jsonb, text, text, bigint, text), api.registry_verify_run(text),
  api.registry_create_alias(text, text, text), api.registry_list_aliases(), api.registry_get_alias(text),
  api.registry_delete_alias(text), api.registry_compare_runs(text, text)
  to authenticated, service_role;
