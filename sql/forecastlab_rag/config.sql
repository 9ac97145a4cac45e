-- requires: core/auth.sql
-- requires: core/util.sql
-- requires: forecastlab_models/common.sql
-- requires: forecastlab_rag/policies.sql
-- ForecastLab's AI configuration (contract details §18; docs/forecastlab-rag.md, Configuration):
-- GET and PATCH /config/ai, per account and for its admins only (RLS on rag.ai_settings, and
-- every function checks auth.require_app_role('admin') first). The effective configuration is the
-- defaults below overlaid by the account's overrides, read from the table on every call: nothing
-- caches it, so a change applies to the next request.
--
-- API keys are write-only: rag_secrets.api_keys is readable by the role ai_secrets alone, which
-- owns rag.ai_key_status and rag.ai_set_key (SECURITY DEFINER, search_path pinned). Neither returns
-- a key: one reports {provider, is_set, masked}, the other writes or removes one.

grant execute on function util.require_account(), auth.jwt(), auth.try_uuid(text), auth.uid(), auth.role(), auth.account_id(), auth.app_role(),
  auth.has_app_role(text[]), auth.require_app_role(text[]) to ai_secrets;
grant select on auth.app_roles to ai_secrets;

-- The defaults (an account without overrides has exactly these). `local` is the in-database model
-- (rag.embed, all-MiniLM-L6-v2, 384 dimensions), which the contract's openai | ollama lack.
create or replace function rag.ai_defaults() returns jsonb
language sql immutable set search_path = '' as $$
  select '{"agent_default_model": "openai:gpt-4o-mini", "agent_fallback_model": "ollama:llama3.1", "agent_temperature": 0.2,
           "agent_max_tokens": 4096, "agent_thinking_budget": null, "rag_embedding_provider": "local",
           "rag_embedding_model": "all-MiniLM-L6-v2", "rag_embedding_dimension": 384,
           "ollama_base_url": "http://127.0.0.1:11434", "ollama_embedding_model": "all-minilm"}'::jsonb
$$;
comment on function rag.ai_defaults() is 'The AI configuration''s defaults, which an account''s overrides overlay.';

-- What a key looks like on the wire: its first and last 4 characters when it has at least 12,
-- else nothing of it. In the secrets' schema: only ai_secrets' functions use it.
create or replace function rag_secrets.mask(api_key text) returns text
language sql immutable set search_path = '' as $$
  select case when pg_catalog.length(api_key) >= 12 then pg_catalog.left(api_key, 4) || '…' || pg_catalog.right(api_key, 4) else '…' end
$$;

-- [{provider, is_set, masked?}] for the caller's account (admins only), in a fixed order.
create or replace function rag.ai_key_status() returns jsonb
language plpgsql stable security definer set search_path = '' as $$
declare
  account uuid := util.require_account();
begin
  perform auth.require_app_role('admin');
  return (select pg_catalog.jsonb_agg(pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object(
                   'provider', p.provider, 'is_set', k.api_key is not null,
                   'masked', case when k.api_key is not null then rag_secrets.mask(k.api_key) end)) order by p.i)
            from pg_catalog.unnest(array['openai', 'anthropic', 'google']) with ordinality p(provider, i)
            left join rag_secrets.api_keys k on k.account_id = account and k.provider = p.provider);
end $$;
comment on function rag.ai_key_status() is 'Whether the caller''s account has each provider''s API key, masked; never the key (admins only).';

-- Writes the caller's account's key of a provider, or removes it (null or an empty string);
-- answers the provider's {provider, is_set, masked?}.
create or replace function rag.ai_set_key(provider text, api_key text) returns jsonb
language plpgsql volatile security definer set search_path = '' as $$
declare
  account uuid := util.require_account();
begin
  perform auth.require_app_role('admin');
  if ai_set_key.provider is null or ai_set_key.provider not in ('openai', 'anthropic', 'google') then
    raise exception 'Unknown API key provider' using errcode = '22023';
  end if;
  if coalesce(ai_set_key.api_key, '') = '' then
    delete from rag_secrets.api_keys k where k.account_id = account and k.provider = ai_set_key.provider;
  else
    insert into rag_secrets.api_keys as k (account_id, provider, api_key) values (account, ai_set_key.provider, ai_set_key.api_key)
    on conflict on constraint api_keys_pkey do update set api_key = excluded.api_key, updated_at = pg_catalog.now();
  end if;
  return pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object('provider', ai_set_key.provider,
    'is_set', coalesce(ai_set_key.api_key, '') <> '',
    'masked', case when coalesce(ai_set_key.api_key, '') <> '' then rag_secrets.mask(ai_set_key.api_key) end));
end $$;
comment on function rag.ai_set_key(text, text) is 'Writes (or, given null or '''', removes) a provider''s API key for the caller''s account (admins only); returns is_set and the masked form.';

alter function rag.ai_key_status() owner to ai_secrets;
alter function rag.ai_set_key(text, text) owner to ai_secrets;
grant execute on function rag_secrets.mask(text) to ai_secrets;
revoke all on function rag.ai_key_status(), rag.ai_set_key(text, text) from public;
grant execute on function rag.ai_key_status(), rag.ai_set_key(text, text) to authenticated, service_role;

-- The account's overrides as {key: value}.
create or replace function rag.ai_overrides(account uuid) returns jsonb
language sql stable set search_path = '' as $$
  select coalesce(pg_catalog.jsonb_object_agg(s.key, s.value -> 'v'), '{}') from rag.ai_settings s where s.account_id = account
$$;

-- The effective configuration of an account: the defaults overlaid by its overrides. Read on every
-- call (documents and retrieval read it too), so a PATCH applies to the next request.
create or replace function rag.ai_effective(account uuid) returns jsonb
language sql stable set search_path = '' as $$
  select rag.ai_defaults() || rag.ai_overrides(account)
$$;

-- Which vectors an effective configuration makes: provider, model, dimension. The local provider
-- has one model whatever rag_embedding_model says; ollama uses ollama_embedding_model.
create or replace function rag.ai_embedding_identity(config jsonb) returns jsonb
language sql immutable set search_path = '' as $$
  select pg_catalog.jsonb_build_array(config ->> 'rag_embedding_provider',
    case config ->> 'rag_embedding_provider' when 'local' then 'all-MiniLM-L6-v2'
                                              when 'ollama' then config ->> 'ollama_embedding_model'
                                              else config ->> 'rag_embedding_model' end,
    config -> 'rag_embedding_dimension')
$$;

-- GET /config/ai's object for the caller's account.
create or replace function rag.ai_config_json(account uuid) returns jsonb
language sql stable set search_path = '' as $$
  with keys as (select rag.ai_key_status() as status)
  select rag.ai_effective(account)
      || pg_catalog.jsonb_build_object(
           'api_keys', keys.status,
           'overridden_keys', (select coalesce(pg_catalog.jsonb_agg(k order by k), '[]')
                                 from (select s.key as k from rag.ai_settings s where s.account_id = account
                                       union all
                                       select (e ->> 'provider') || '_api_key' from pg_catalog.jsonb_array_elements(keys.status) e
                                        where (e ->> 'is_set')::boolean) o))
    from keys
$$;

-- The problems of one PATCH value (JSON null is always accepted: it removes the override).
create or replace function rag.ai_value_problems(key text, value jsonb) returns jsonb
language plpgsql immutable set search_path = '' as $$
declare
  kind text := pg_catalog.jsonb_typeof(value);
  model_pattern constant text := '^[a-z0-9_-]+:[A-Za-z0-9_.:/-]{1,100}$';
  name_pattern constant text := '^[A-Za-z0-9_.:/-]{1,100}$';
  url_pattern constant text := '^https?://[A-Za-z0-9._~%-]+(\.[A-Za-z0-9._~%-]+)*(:[0-9]{1,5})?(/[^[:space:]?#]*)?$';
  number_ numeric;
begin
  if kind = 'null' then
    return '[]';
  end if;
  case
    when key in ('agent_default_model', 'agent_fallback_model', 'rag_embedding_model', 'ollama_embedding_model',
                 'rag_embedding_provider', 'ollama_base_url', 'openai_api_key', 'anthropic_api_key', 'google_api_key')
         and kind <> 'string' then
      return pg_catalog.jsonb_build_array(forecast_models.problem(key, 'Input should be a valid string', 'string_type'));
    when key in ('agent_default_model', 'agent_fallback_model') and (value #>> '{}') !~ model_pattern then
      return pg_catalog.jsonb_build_array(forecast_models.problem(key,
        'Input should be a model identifier provider:model, e.g. openai:gpt-4o-mini', 'string_pattern_mismatch'));
    when key in ('rag_embedding_model', 'ollama_embedding_model') and (value #>> '{}') !~ name_pattern then
      return pg_catalog.jsonb_build_array(forecast_models.problem(key,
        'Input should be a model name of 1 to 100 letters, digits and _.:/-', 'string_pattern_mismatch'));
    when key = 'rag_embedding_provider' and (value #>> '{}') not in ('local', 'openai', 'ollama') then
      return pg_catalog.jsonb_build_array(forecast_models.problem(key, 'Input should be ''local'', ''openai'' or ''ollama''', 'literal_error'));
    when key = 'ollama_base_url' and (pg_catalog.length(value #>> '{}') > 500 or (value #>> '{}') !~* url_pattern) then
      return pg_catalog.jsonb_build_array(forecast_models.problem(key, 'Input should be a valid http or https URL', 'url_parsing'));
    when key in ('openai_api_key', 'anthropic_api_key', 'google_api_key') and pg_catalog.length(value #>> '{}') > 500 then
      return pg_catalog.jsonb_build_array(forecast_models.problem(key, 'String should have at most 500 characters', 'string_too_long'));
    when key = 'agent_temperature' then
      if kind <> 'number' then
        return pg_catalog.jsonb_build_array(forecast_models.problem(key, 'Input should be a valid number', 'float_type'));
      end if;
      number_ := (value #>> '{}')::numeric;
      if number_ < 0 then
        return pg_catalog.jsonb_build_array(forecast_models.problem(key, 'Input should be greater than or equal to 0', 'greater_than_equal'));
      elsif number_ > 2 then
        return pg_catalog.jsonb_build_array(forecast_models.problem(key, 'Input should be less than or equal to 2', 'less_than_equal'));
      end if;
    when key in ('agent_max_tokens', 'agent_thinking_budget', 'rag_embedding_dimension') then
      if kind <> 'number' or (value #>> '{}')::numeric <> pg_catalog.trunc((value #>> '{}')::numeric) then
        return pg_catalog.jsonb_build_array(forecast_models.problem(key, 'Input should be a valid integer', 'int_type'));
      end if;
      number_ := (value #>> '{}')::numeric;
      if number_ < 1 then
        return pg_catalog.jsonb_build_array(forecast_models.problem(key, 'Input should be greater than or equal to 1', 'greater_than_equal'));
      elsif number_ > 2147483647 then
        return pg_catalog.jsonb_build_array(forecast_models.problem(key, 'Input should be less than or equal to 2147483647', 'less_than_equal'));
      end if;
    else
      null;
  end case;
  return '[]';
end $$;

-- GET /config/ai (admins): the effective values, the API keys' state (masked), the overridden keys.
create or replace function api.config_ai() returns jsonb
language plpgsql stable set search_path = '' as $$
declare
  account uuid := util.require_account();
begin
  perform auth.require_app_role('admin');
  return rag.ai_config_json(account);
end $$;
comment on function api.config_ai() is
  'The account''s AI configuration: defaults overlaid by its overrides, API keys as is_set and masked (never the key), overridden_keys. Admins only.';

-- PATCH /config/ai (admins): every field optional; JSON null removes an override (the default
-- applies again) and an API key given as null or "" is removed. A change of the embedding
-- provider, model or dimension while the account has indexed chunks is a 409 unless `force`, which
-- deletes the account's sources and chunks in the same transaction (chunks_removed says how many).
create or replace function api.config_ai_update(
  agent_default_model jsonb default null, agent_fallback_model jsonb default null, agent_temperature jsonb default null,
  agent_max_tokens jsonb default null, agent_thinking_budget jsonb default null, rag_embedding_provider jsonb default null,
  rag_embedding_model jsonb default null, rag_embedding_dimension jsonb default null, ollama_base_url jsonb default null,
  ollama_embedding_model jsonb default null, openai_api_key jsonb default null, anthropic_api_key jsonb default null,
  google_api_key jsonb default null, force boolean default false)
returns jsonb
language plpgsql volatile set search_path = '' as $$
declare
  account uuid := util.require_account();
  given jsonb;
  settings jsonb;
  problems jsonb := '[]';
  before_ jsonb;
  after_ jsonb;
  chunks bigint;
  removed bigint := null;
  field record;
begin
  perform auth.require_app_role('admin');
  -- What the request gave: an absent field is SQL null and left out; a JSON null stays (it removes).
  select coalesce(pg_catalog.jsonb_object_agg(a.key, a.value), '{}') into given
    from (values ('agent_default_model', agent_default_model), ('agent_fallback_model', agent_fallback_model),
                 ('agent_temperature', agent_temperature), ('agent_max_tokens', agent_max_tokens),
                 ('agent_thinking_budget', agent_thinking_budget), ('rag_embedding_provider', rag_embedding_provider),
                 ('rag_embedding_model', rag_embedding_model), ('rag_embedding_dimension', rag_embedding_dimension),
                 ('ollama_base_url', ollama_base_url), ('ollama_embedding_model', ollama_embedding_model),
                 ('openai_api_key', openai_api_key), ('anthropic_api_key', anthropic_api_key),
                 ('google_api_key', google_api_key)) a(key, value)
   where a.value is not null;
  for field in select e.key, e.value from pg_catalog.jsonb_each(given) e order by e.key loop
    problems := problems || rag.ai_value_problems(field.key, field.value);
  end loop;
  if pg_catalog.jsonb_array_length(problems) > 0 then
    perform forecast_models.invalid_all(problems);
  end if;

  -- One change at a time per account: the check for orphaned chunks and the write see one state.
  perform pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended('rag.ai_config:' || account::text, 0));
  settings := given - array['openai_api_key', 'anthropic_api_key', 'google_api_key'];
  before_ := rag.ai_effective(account);
  -- The overrides after the change: null removes one (its default applies).
  after_ := rag.ai_defaults()
         || (rag.ai_overrides(account) - array(select e.key from pg_catalog.jsonb_each(settings) e))
         || pg_catalog.jsonb_strip_nulls(settings);
  if after_ ->> 'rag_embedding_provider' = 'local' and after_ -> 'rag_embedding_dimension' <> '384'::jsonb then
    perform forecast_models.invalid_all(pg_catalog.jsonb_build_array(forecast_models.problem('rag_embedding_dimension',
      pg_catalog.format('The local embedding provider makes 384-dimensional vectors only (the configuration would have %s)',
                        after_ ->> 'rag_embedding_dimension'), 'value_error')));
  end if;
  if rag.ai_embedding_identity(before_) <> rag.ai_embedding_identity(after_) then
    select count(*) into chunks from rag.chunks c where c.account_id = account;
    if chunks > 0 and not coalesce(force, false) then
      raise exception 'Changing the embedding provider, model or dimension would orphan % indexed chunk(s): they cannot be searched with another model''s vectors', chunks
        using errcode = 'PT409',
              detail = pg_catalog.jsonb_build_object('indexed_chunks', chunks,
                         'embedded_with', rag.ai_embedding_identity(before_), 'requested', rag.ai_embedding_identity(after_))::text,
              hint = 'send "force": true to delete the account''s indexed sources and chunks with the change, then index them again';
    end if;
    if chunks > 0 then
      delete from rag.sources s where s.account_id = account;
      removed := chunks;
    end if;
  end if;

  for field in select e.key, e.value from pg_catalog.jsonb_each(settings) e loop
    if pg_catalog.jsonb_typeof(field.value) = 'null' then
      delete from rag.ai_settings s where s.account_id = account and s.key = field.key;
    else
      insert into rag.ai_settings as s (account_id, key, value) values (account, field.key, pg_catalog.jsonb_build_object('v', field.value))
      on conflict on constraint ai_settings_pkey do update set value = excluded.value, updated_at = pg_catalog.now();
    end if;
  end loop;
  for field in select e.key, e.value from pg_catalog.jsonb_each(given) e
                where e.key in ('openai_api_key', 'anthropic_api_key', 'google_api_key') loop
    perform rag.ai_set_key(pg_catalog.replace(field.key, '_api_key', ''), field.value #>> '{}');
  end loop;
  return rag.ai_config_json(account)
      || case when removed is not null then pg_catalog.jsonb_build_object('chunks_removed', removed) else '{}'::jsonb end;
end $$;
comment on function api.config_ai_update(jsonb, jsonb, jsonb, jsonb, jsonb, jsonb, jsonb, jsonb, jsonb, jsonb, jsonb, jsonb, jsonb, boolean) is
  'Changes the account''s AI configuration (admins): model ids provider:model, agent_temperature 0..2, agent_max_tokens and agent_thinking_budget >= 1, rag_embedding_provider local|openai|ollama, rag_embedding_dimension >= 1 (384 for local), ollama_base_url http(s), API keys write-only (null or "" removes). null removes an override. 409 when an embedding change would orphan indexed chunks, unless force (then they are deleted: chunks_removed).';

grant execute on function rag.ai_defaults(), rag.ai_overrides(uuid), rag.ai_effective(uuid), rag.ai_embedding_identity(jsonb),
  rag.ai_config_json(uuid), rag.ai_value_problems(text, jsonb) to authenticated, service_role;
grant execute on function api.config_ai(),
  api.config_ai_update(jsonb, jsonb, jsonb, jsonb, jsonb, jsonb, jsonb, jsonb, jsonb, jsonb, jsonb, jsonb, jsonb, boolean) to authenticated, service_role;

-- ── Remote embedding providers (docs/forecastlab-rag.md, Providers) ──────────────────────────────
-- What embedding needs to know of the caller's account, for every member (the overrides table is
-- for admins only): provider, model, dimension, the provider's base URL, whether its key is set.
-- Never the key. OpenAI's base URL is the server setting forecastlab.openai_base_url (tests point it
-- at a fake), by default https://api.openai.com.
grant usage on schema rag to ai_secrets;
grant select on rag.ai_settings to ai_secrets;
grant execute on function rag.ai_defaults() to ai_secrets;
create or replace function rag.embedding_settings() returns jsonb
language plpgsql stable security definer set search_path = '' as $$
declare
  account uuid := util.require_account();
  config jsonb := rag.ai_defaults()
               || coalesce((select pg_catalog.jsonb_object_agg(s.key, s.value -> 'v') from rag.ai_settings s where s.account_id = account), '{}');
  chosen text := config ->> 'rag_embedding_provider';
begin
  return pg_catalog.jsonb_build_object(
    'provider', chosen,
    'model', case chosen when 'local' then 'all-MiniLM-L6-v2' when 'ollama' then config ->> 'ollama_embedding_model'
                           else config ->> 'rag_embedding_model' end,
    'dimension', config -> 'rag_embedding_dimension',
    'base_url', pg_catalog.rtrim(case chosen when 'ollama' then config ->> 'ollama_base_url'
                                 when 'openai' then coalesce(nullif(pg_catalog.current_setting('forecastlab.openai_base_url', true), ''), 'https://api.openai.com')
                                 end, '/'),
    'ollama_base_url', pg_catalog.rtrim(config ->> 'ollama_base_url', '/'),
    'key_set', exists (select from rag_secrets.api_keys k where k.account_id = account and k.provider = chosen));
end $$;
comment on function rag.embedding_settings() is 'The caller''s account''s embedding provider, model, dimension and base URL, and whether its key is set (every member; never the key).';

-- The key of a provider for an account, for the gateway's outbound request only (`{"$secret":
-- "openai"}` in a header): registered in gateway.secret_resolvers by unit.sql, executable by
-- `authenticator` alone.
create or replace function rag.resolve_secret(account uuid, name text) returns text
language sql stable security definer set search_path = '' as $$
  select k.api_key from rag_secrets.api_keys k where k.account_id = resolve_secret.account and k.provider = resolve_secret.name
$$;
comment on function rag.resolve_secret(uuid, text) is 'A provider''s API key for an account: for the gateway''s outbound requests only.';

alter function rag.embedding_settings() owner to ai_secrets;
alter function rag.resolve_secret(uuid, text) owner to ai_secrets;
revoke all on function rag.embedding_settings(), rag.resolve_secret(uuid, text) from public;
grant execute on function rag.embedding_settings() to authenticated, service_role;
grant usage on schema rag to authenticator;
grant execute on function rag.resolve_secret(uuid, text) to authenticator;

-- The answer of the fetch `fetched` carries for request `i` (0-based), or a 502 for a request the
-- gateway could not make (refused, timed out, a host not allowed).
create or replace function rag.fetched_answer(fetched jsonb, i integer, label text) returns jsonb
language plpgsql immutable set search_path = '' as $$
declare
  answer jsonb := fetched -> i;
begin
  if pg_catalog.jsonb_typeof(answer) is distinct from 'object' then
    raise exception 'The % gave no answer', label using errcode = 'PT502';
  end if;
  if coalesce(answer ->> 'error', '') <> '' then
    raise exception 'The % could not be reached: %', label, pg_catalog.left(answer ->> 'error', 300) using errcode = 'PT502';
  end if;
  return answer;
end $$;

-- GET /config/providers/health (admins): per provider {provider, reachable, detail, models}.
-- Ollama is asked live (GET {base}/api/tags through the gateway); the cloud providers are judged by
-- whether the account has their key.
create or replace function api.config_providers_health(fetched jsonb default null) returns jsonb
language plpgsql volatile set search_path = '' as $$
declare
  account uuid := util.require_account();
  config jsonb;
  keys jsonb;
  base text;
  answer jsonb;
  ollama jsonb;
begin
  perform auth.require_app_role('admin');
  config := rag.ai_effective(account);
  base := pg_catalog.rtrim(config ->> 'ollama_base_url', '/');
  if fetched is null then
    perform pg_catalog.set_config('response.fetch', pg_catalog.jsonb_build_object('requests', pg_catalog.jsonb_build_array(
      pg_catalog.jsonb_build_object('url', base || '/api/tags', 'method', 'GET', 'timeout_ms', 5000)))::text, true);
    return null;
  end if;
  keys := rag.ai_key_status();
  answer := fetched -> 0;
  ollama := case
    when pg_catalog.jsonb_typeof(answer) is distinct from 'object' then
      pg_catalog.jsonb_build_object('reachable', false, 'detail', 'no answer')
    when coalesce(answer ->> 'error', '') <> '' then
      pg_catalog.jsonb_build_object('reachable', false, 'detail', pg_catalog.left(answer ->> 'error', 300))
    when (answer ->> 'status')::integer not between 200 and 299 then
      pg_catalog.jsonb_build_object('reachable', false, 'detail', 'answered HTTP ' || (answer ->> 'status'))
    when pg_catalog.jsonb_typeof(answer #> '{body,models}') is distinct from 'array' then
      pg_catalog.jsonb_build_object('reachable', false, 'detail', 'answered something other than Ollama''s /api/tags')
    else pg_catalog.jsonb_build_object('reachable', true, 'detail', 'reachable at ' || base,
      'models', (select coalesce(pg_catalog.jsonb_agg(m -> 'name' order by m ->> 'name'), '[]')
                   from pg_catalog.jsonb_array_elements(answer #> '{body,models}') m where pg_catalog.jsonb_typeof(m -> 'name') = 'string'))
  end;
  return pg_catalog.jsonb_build_array(
      pg_catalog.jsonb_build_object('provider', 'ollama', 'models', '[]'::jsonb) || ollama)
    || (select pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
          'provider', k ->> 'provider', 'reachable', (k ->> 'is_set')::boolean,
          'detail', case when (k ->> 'is_set')::boolean then 'API key set (not checked live)' else 'no API key set' end,
          'models', (select coalesce(pg_catalog.jsonb_agg(distinct pg_catalog.split_part(config ->> f, ':', 2)), '[]')
                       from pg_catalog.unnest(array['agent_default_model', 'agent_fallback_model']) f
                      where pg_catalog.split_part(config ->> f, ':', 1) = k ->> 'provider')) order by o)
          from pg_catalog.jsonb_array_elements(keys) with ordinality x(k, o));
end $$;
comment on function api.config_providers_health(jsonb) is
  'Per provider {provider, reachable, detail, models}: Ollama asked live (its /api/tags), the cloud providers by whether their key is set. Admins only.';

-- GET /config/ollama/models (admins): [{name, size_bytes?, family?}] from the configured Ollama;
-- 502 when it cannot be reached.
create or replace function api.config_ollama_models(fetched jsonb default null) returns jsonb
language plpgsql volatile set search_path = '' as $$
declare
  account uuid := util.require_account();
  base text;
  answer jsonb;
  label text;
begin
  perform auth.require_app_role('admin');
  base := pg_catalog.rtrim(rag.ai_effective(account) ->> 'ollama_base_url', '/');
  if fetched is null then
    perform pg_catalog.set_config('response.fetch', pg_catalog.jsonb_build_object('requests', pg_catalog.jsonb_build_array(
      pg_catalog.jsonb_build_object('url', base || '/api/tags', 'method', 'GET', 'timeout_ms', 5000)))::text, true);
    return null;
  end if;
  label := 'Ollama server at ' || base;
  answer := fetched -> 0;
  if pg_catalog.jsonb_typeof(answer) is distinct from 'object' or coalesce(answer ->> 'error', '') <> '' then
    return util.answer_error(502, 'PROVIDER_UNREACHABLE', pg_catalog.format('The %s could not be reached: %s', label,
                                                                          coalesce(pg_catalog.left(answer ->> 'error', 300), 'no answer')));
  end if;
  if (answer ->> 'status')::integer not between 200 and 299 or pg_catalog.jsonb_typeof(answer #> '{body,models}') is distinct from 'array' then
    return util.answer_error(502, 'PROVIDER_UNREACHABLE', pg_catalog.format('The %s answered HTTP %s without a model list', label, answer ->> 'status'));
  end if;
  return (select coalesce(pg_catalog.jsonb_agg(pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object(
                   'name', m ->> 'name',
                   'size_bytes', case when pg_catalog.jsonb_typeof(m -> 'size') = 'number' then m -> 'size' end,
                   'family', m #>> '{details,family}')) order by m ->> 'name'), '[]')
            from pg_catalog.jsonb_array_elements(answer #> '{body,models}') m where pg_catalog.jsonb_typeof(m -> 'name') = 'string');
end $$;
comment on function api.config_ollama_models(jsonb) is 'The models of the configured Ollama server [{name, size_bytes?, family?}]; 502 when unreachable. Admins only.';

grant execute on function rag.fetched_answer(jsonb, integer, text) to authenticated, service_role;
grant execute on function api.config_providers_health(jsonb), api.config_ollama_models(jsonb) to authenticated, service_role;
