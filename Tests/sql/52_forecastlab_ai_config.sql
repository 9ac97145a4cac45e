-- ForecastLab's AI configuration (docs/forecastlab-rag.md, Configuration): admins only (42501 for a
-- viewer, no rows through RLS), the defaults, overrides and overridden_keys, JSON null back to the
-- default, masked write-only API keys that no request role can read, the 422s, the 409 for an
-- embedding change that would orphan indexed chunks and its force, and two tenants.
begin;
select plan(58);
-- OpenAI at its own address, whatever the database's setting (the Swift tests point it at a fake).
select set_config('forecastlab.openai_base_url', '', true);

create temp table t_ids as select
  'f5200000-0000-4000-8000-00000000000a'::uuid as a, 'f5200000-0000-4000-8000-00000000000b'::uuid as b,
  'f5200000-0000-4000-8000-00000000000c'::uuid as c;
grant select on t_ids to authenticated, service_role, authenticator;
create temp table t_out (name text primary key, answer jsonb);
grant all on t_out to authenticated, service_role;

-- ── Defaults ─────────────────────────────────────────────────────────────────────────────────────
select tests.as_member((select a from t_ids), 'admin');
select is(api.config_ai(),
  '{"agent_default_model": "openai:gpt-4o-mini", "agent_fallback_model": "ollama:llama3.1", "agent_temperature": 0.2,
    "agent_max_tokens": 4096, "agent_thinking_budget": null, "rag_embedding_provider": "local", "rag_embedding_model": "all-MiniLM-L6-v2",
    "rag_embedding_dimension": 384, "ollama_base_url": "http://127.0.0.1:11434", "ollama_embedding_model": "all-minilm",
    "api_keys": [{"provider": "openai", "is_set": false}, {"provider": "anthropic", "is_set": false}, {"provider": "google", "is_set": false}],
    "overridden_keys": []}'::jsonb,
  'an account without overrides has the defaults, no keys, nothing overridden');

-- ── Overrides ────────────────────────────────────────────────────────────────────────────────────
insert into t_out select 'patched', api.config_ai_update(agent_default_model => '"anthropic:claude-3-5-sonnet"', agent_temperature => '0.7',
  agent_max_tokens => '1000', agent_thinking_budget => '2048', ollama_base_url => '"http://127.0.0.1:11435/"',
  openai_api_key => '"sk-abcdefghijklmnop3f9a"', anthropic_api_key => '"short-key"');
select is((select answer - 'api_keys' - 'overridden_keys' from t_out where name = 'patched'),
  rag.ai_defaults() || '{"agent_default_model": "anthropic:claude-3-5-sonnet", "agent_temperature": 0.7, "agent_max_tokens": 1000,
                         "agent_thinking_budget": 2048, "ollama_base_url": "http://127.0.0.1:11435/"}',
  'PATCH answers the effective values: the defaults overlaid by the overrides');
select is((select answer -> 'overridden_keys' from t_out where name = 'patched'),
  '["agent_default_model", "agent_max_tokens", "agent_temperature", "agent_thinking_budget", "anthropic_api_key", "ollama_base_url", "openai_api_key"]',
  'overridden_keys names every override, the keys that are set included');
select is(api.config_ai(), (select answer from t_out where name = 'patched'), 'GET answers what PATCH did');
select is((select answer -> 'api_keys' from t_out where name = 'patched'),
  '[{"provider": "openai", "is_set": true, "masked": "sk-a…3f9a"}, {"provider": "anthropic", "is_set": true, "masked": "…"},
    {"provider": "google", "is_set": false}]',
  'keys are masked: first and last 4 characters from 12 on, else nothing of them');
select is((select count(*)::integer from rag.ai_settings), 5, 'each setting is a row of its own (the keys are elsewhere)');
select is((select value from rag.ai_settings where key = 'agent_temperature'), '{"v": 0.7}', 'in upstream''s envelope {"v": …}');

insert into t_out select 'reset', api.config_ai_update(agent_temperature => 'null', agent_thinking_budget => 'null', anthropic_api_key => '""');
select is((select answer -> 'agent_temperature' from t_out where name = 'reset'), '0.2', 'null removes an override: the default again');
select is((select answer -> 'agent_thinking_budget' from t_out where name = 'reset'), 'null', 'agent_thinking_budget back to null');
select is((select answer #> '{api_keys,1}' from t_out where name = 'reset'), '{"provider": "anthropic", "is_set": false}', 'an empty string removes a key');
insert into t_out select 'null key', api.config_ai_update(openai_api_key => 'null');
select is((select answer #> '{api_keys,0,is_set}' from t_out where name = 'null key'), 'false', 'so does a JSON null');
select is((select answer -> 'overridden_keys' from t_out where name = 'null key'), '["agent_default_model", "agent_max_tokens", "ollama_base_url"]',
  'and neither is listed as overridden any more');
select is((select answer -> 'agent_max_tokens' from t_out where name = 'null key'), '1000', 'an absent field is left as it was');

-- ── Keys are write-only ──────────────────────────────────────────────────────────────────────────
insert into t_out select 'secret', api.config_ai_update(google_api_key => '"AIzaSyD-the-secret-key-0123456789"');
select ok(position('the-secret-key' in api.config_ai()::text) = 0 and position('the-secret-key' in (select answer::text from t_out where name = 'secret')) = 0,
  'neither GET nor PATCH ever answers the key');
select is(tests.error_of('select api_key from rag_secrets.api_keys') ->> 'sqlstate', '42501', 'an admin cannot select the keys');
select is(tests.error_of('select rag_secrets.mask(''x'')') ->> 'sqlstate', '42501', 'nor use the secrets'' schema at all');
select tests.authenticate_as('service_role', null, (select a from t_ids));
select is(tests.error_of('select api_key from rag_secrets.api_keys') ->> 'sqlstate', '42501', 'nor can the service role');
select is((api.config_ai() #> '{api_keys,2}'), '{"provider": "google", "is_set": true, "masked": "AIza…6789"}',
  'the service role reads the configuration, masked as well');
select ok(not exists (
  select from pg_proc p join pg_namespace n on n.oid = p.pronamespace
   where n.nspname in ('api', 'rag', 'rag_secrets', 'gateway', 'util', 'auth') and p.prosecdef
     and pg_get_userbyid(p.proowner) = 'ai_secrets' and p.proname not in ('ai_key_status', 'ai_set_key', 'embedding_settings', 'resolve_secret')),
  'ai_secrets owns only the reviewed functions (status, write, settings, and the gateway''s resolver)');
select tests.clear_authentication();
select is((select api_key from rag_secrets.api_keys where account_id = (select a from t_ids) and provider = 'google'),
  'AIzaSyD-the-secret-key-0123456789', 'the key is stored as given, for the provider calls');

-- ── Admins only ──────────────────────────────────────────────────────────────────────────────────
select tests.as_member((select a from t_ids), 'viewer');
select throws_ok('select api.config_ai()', '42501', null, 'a viewer does not read the configuration');
select throws_ok($$select api.config_ai_update(agent_temperature => '1')$$, '42501', null, 'nor change it');
select is((select count(*)::integer from rag.ai_settings), 0, 'and sees none of its rows');
select throws_ok('select rag.ai_key_status()', '42501', null, 'nor the keys'' state');
select throws_ok($$select rag.ai_set_key('openai', 'sk-viewer-wrote-this-key')$$, '42501', null, 'nor writes a key');

-- ── 422 ──────────────────────────────────────────────────────────────────────────────────────────
select tests.as_member((select a from t_ids), 'admin');
select is(tests.error_fields(tests.error_of($$select api.config_ai_update(agent_default_model => '"gpt-4o"', agent_fallback_model => '1',
    agent_temperature => '2.5', agent_max_tokens => '0', agent_thinking_budget => '1.5', rag_embedding_provider => '"cohere"',
    rag_embedding_dimension => '"384"', ollama_base_url => '"file:///etc/passwd"', openai_api_key => '42')$$)),
  array['agent_default_model', 'agent_fallback_model', 'agent_max_tokens', 'agent_temperature', 'agent_thinking_budget',
        'ollama_base_url', 'openai_api_key', 'rag_embedding_dimension', 'rag_embedding_provider'],
  'every bad field is named: model ids, ranges, integers, the provider, the URL, the key''s type');
select is(tests.error_of($$select api.config_ai_update(rag_embedding_dimension => '768')$$) #>> '{errors,0,field}', 'rag_embedding_dimension',
  'the local provider has 384 dimensions only: 422 naming the dimension');

-- ── Embedding changes and indexed chunks: 409, then force ────────────────────────────────────────
insert into t_out select 'indexed', api.rag_index('markdown', 'guides/cfg.md', E'# Cfg\n## One\nFirst section.\n\n## Two\nSecond section.');
select is(tests.error_of($$select api.config_ai_update(rag_embedding_provider => '"openai"', rag_embedding_model => '"text-embedding-3-small"')$$) ->> 'sqlstate',
  'PT409', 'another provider while chunks are indexed: 409');
select is((api.config_ai() ->> 'rag_embedding_provider') || ' ' || (select count(*) from rag.chunks), 'local 2', 'nothing changed');
insert into t_out select 'url', api.config_ai_update(ollama_base_url => '"https://ollama.internal:11434"', agent_temperature => '1');
select ok((select not (answer ? 'chunks_removed') and answer ->> 'ollama_base_url' = 'https://ollama.internal:11434' from t_out where name = 'url'),
  'a change that leaves the vectors as they are needs no force');
insert into t_out select 'forced', api.config_ai_update(rag_embedding_provider => '"ollama"', ollama_embedding_model => '"nomic-embed-text:latest"', force => true);
select is((select (answer -> 'chunks_removed')::integer || ' ' || (answer ->> 'rag_embedding_provider') from t_out where name = 'forced'), '2 ollama',
  'with force: the change, and the account''s chunks removed (chunks_removed)');
select is((select count(*)::integer from rag.sources) + (select count(*)::integer from rag.chunks), 0, 'its sources and chunks are gone');

-- ── Remote providers through the gateway's fetch ─────────────────────────────────────────────────
create function pg_temp.vectors(n integer, dimension integer default 384) returns jsonb language sql as $$
  select jsonb_agg((select jsonb_agg(((i + j) % 7) / 7.0 + 0.01) from generate_series(1, dimension) j)) from generate_series(1, n) i
$$;
grant execute on function pg_temp.vectors(integer, integer) to authenticated, service_role;
select tests.as_member((select c from t_ids), 'admin');
select lives_ok($$select api.config_ai_update(rag_embedding_provider => '"ollama"', ollama_base_url => '"http://127.0.0.1:11434"')$$,
  'another account switches to ollama (no chunks: no 409)');
insert into t_out select 'pending', api.rag_index('markdown', 'r.md', E'# R
## One
First.

## Two
Second.');
select is((select answer from t_out where name = 'pending'), null, 'indexing with a remote provider first answers nothing…');
select is(current_setting('response.fetch')::jsonb, '{"requests": [{"url": "http://127.0.0.1:11434/api/embed", "method": "POST",
    "headers": {"Content-Type": "application/json"}, "body": {"model": "all-minilm", "input": ["R > One\n\nFirst.", "R > Two\n\nSecond."]},
    "timeout_ms": 20000}]}',
  '…having asked the gateway to fetch the embeddings from Ollama''s /api/embed');
select is((select count(*)::integer from rag.sources), 0, 'and having written nothing');
insert into t_out select 'fetched', api.rag_index('markdown', 'r.md', E'# R
## One
First.

## Two
Second.', null,
  jsonb_build_array(jsonb_build_object('status', 200, 'body', jsonb_build_object('model', 'all-minilm', 'embeddings', pg_temp.vectors(2)))));
select is((select (answer ->> 'chunks_created') || ' ' || (answer ->> 'status') from t_out where name = 'fetched'), '2 indexed',
  'called again with what was fetched, it indexes');
select is((select array_agg(vector_dims(embedding)) from rag.chunks), array[384, 384], 'with the provider''s vectors');
select is(api.rag_index('markdown', 's.md', E'# S
x', null, jsonb_build_array(jsonb_build_object('status', 200, 'body', jsonb_build_object('embeddings', pg_temp.vectors(1, 768))))),
  '{"code": "EMBEDDING_PROVIDER_ERROR", "message": "The embedding provider (ollama, all-minilm at http://127.0.0.1:11434) answered 768-dimensional vectors; the knowledge base stores 384-dimensional ones"}',
  'vectors of another dimension: a 502 naming the mismatch…');
select is(current_setting('response.status'), '502', '…answered as a 502');
select is(api.rag_index('markdown', 's.md', E'# S
x', null, '[{"status": 0, "body": null, "error": "the connection was refused or lost"}]') ->> 'message',
  'The embedding provider (ollama, all-minilm at http://127.0.0.1:11434) could not be reached: the connection was refused or lost',
  'a provider that cannot be reached: 502');
select is(api.rag_index('markdown', 's.md', E'# S
x', null, '[{"status": 401, "body": {"error": "unauthorized"}}]') ->> 'code', 'EMBEDDING_AUTH',
  'a provider that refuses the credentials: EMBEDDING_AUTH');
select tests.as_member((select c from t_ids), 'viewer');
select is(api.rag_retrieve('first', 1, 0), null, 'a member''s search asks for the query''s embedding too');
select is((api.rag_retrieve('first', 1, 0, null, jsonb_build_array(jsonb_build_object('status', 200, 'body', jsonb_build_object('embeddings', pg_temp.vectors(1))))))
          #>> '{results,0,metadata,section}', 'R > One', 'and searches with the vector fetched');
select tests.as_member((select c from t_ids), 'admin');
select lives_ok($$select api.config_ai_update(rag_embedding_provider => '"openai"', rag_embedding_model => '"text-embedding-3-small"', force => true,
  openai_api_key => '"sk-openai-secret-0123456789"')$$, 'OpenAI, with a key');
select is(api.rag_retrieve('first', 1, 0), null, 'asks OpenAI''s embeddings API…');
select is(current_setting('response.fetch')::jsonb #> '{requests,0}', '{"url": "https://api.openai.com/v1/embeddings", "method": "POST",
    "headers": {"Authorization": {"$secret": "openai", "prefix": "Bearer "}, "Content-Type": "application/json"},
    "body": {"model": "text-embedding-3-small", "input": ["first"], "dimensions": 384}, "timeout_ms": 20000}',
  '…naming the key as a secret for the gateway to resolve, never carrying it');
select is((api.rag_retrieve('first', 1, 0, null, jsonb_build_array(jsonb_build_object('status', 200, 'body', jsonb_build_object('object', 'list',
          'data', (select jsonb_agg(jsonb_build_object('object', 'embedding', 'index', 0, 'embedding', v)) from jsonb_array_elements(pg_temp.vectors(1)) v))))) -> 'results'),
  '[]', 'and reads OpenAI''s answer (the old chunks went with the forced change)');
select is(tests.error_of($$select rag.resolve_secret((select c from t_ids), 'openai')$$) ->> 'sqlstate', '42501', 'no request role resolves a secret');
select is(tests.error_of($$select gateway.resolve_secret((select c from t_ids), 'openai')$$) ->> 'sqlstate', '42501', 'not through the gateway''s function either');
select tests.clear_authentication();
set local role authenticator;
select is(gateway.resolve_secret((select c from t_ids), 'openai'), 'sk-openai-secret-0123456789', 'the gateway''s login resolves it for the outbound request');
select is(gateway.resolve_secret((select a from t_ids), 'openai'), null, 'for that account only');
reset role;
select tests.as_member((select c from t_ids), 'admin');
select is(api.config_ollama_models('[{"status": 200, "body": {"models": [{"name": "all-minilm:latest", "model": "all-minilm:latest", "size": 45960996,
    "details": {"family": "bert", "parameter_size": "23M"}}, {"name": "llama3.1:8b"}]}}]'),
  '[{"name": "all-minilm:latest", "size_bytes": 45960996, "family": "bert"}, {"name": "llama3.1:8b"}]', 'Ollama''s models from its /api/tags');
select is((api.config_providers_health('[{"status": 0, "error": "the connection was refused or lost"}]') -> 0),
  '{"provider": "ollama", "reachable": false, "detail": "the connection was refused or lost", "models": []}', 'health: Ollama unreachable');
select is((api.config_providers_health('[{"status": 200, "body": {"models": []}}]') -> 1),
  '{"provider": "openai", "reachable": true, "detail": "API key set (not checked live)", "models": ["gpt-4o-mini"]}', 'health: OpenAI by its key');

-- ── Two tenants ──────────────────────────────────────────────────────────────────────────────────
select tests.as_member((select b from t_ids), 'admin');
select is(api.config_ai() - 'api_keys' - 'overridden_keys', rag.ai_defaults(), 'another account still has the defaults');
select is((select count(*)::integer from rag.ai_settings), 0, 'and sees none of the first account''s rows');
select is(api.config_ai() -> 'api_keys', '[{"provider": "openai", "is_set": false}, {"provider": "anthropic", "is_set": false}, {"provider": "google", "is_set": false}]',
  'nor its keys');

select * from finish();
rollback;
