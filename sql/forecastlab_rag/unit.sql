-- requires: core/catalog.sql
-- requires: forecastlab_rag/policies.sql
-- requires: forecastlab_rag/documents.sql
-- requires: forecastlab_rag/project_docs.sql
-- requires: forecastlab_rag/retrieve.sql
-- requires: forecastlab_rag/config.sql
-- ForecastLab's knowledge base as a unit of the core (docs/forecastlab-rag.md): documents chunked
-- and embedded in the database, searched through pgvector's HNSW index, at the spec's own paths
-- (/rag/…), also under /api/v1/…, with the FastAPI-style errors of the rest of ForecastLab.

select gateway.restate_unit('forecastlab-rag', 'ForecastLab knowledge base',
  'Documents chunked and embedded in the database (all-MiniLM-L6-v2, ONNX Runtime); semantic search with pgvector.', 'fastapi');

insert into gateway.path_aliases (unit, prefix, alias) values ('forecastlab-rag', '/', '/api/v1/');

insert into auth.app_roles (unit, name, description) values
  ('forecastlab-rag', 'admin', 'Indexes and deletes the account''s documents');

insert into gateway.rate_policies (unit, name, requests, window_seconds, description) values
  ('forecastlab-rag', 'forecastlab-rag-read', 300, 60, 'ForecastLab knowledge base searches and listings: 300 per minute per user'),
  ('forecastlab-rag', 'forecastlab-rag-index', 30, 60, 'ForecastLab knowledge base indexing: 30 per minute per user (each embeds every chunk)');

insert into gateway.routes (method, path, function_name, min_role, app_roles, rate_policy, summary, tag, unit) values
  ('POST',   '/rag/index',               'rag_index',              'authenticated', '{admin}', 'forecastlab-rag-index', 'Index a markdown or OpenAPI document (indexed, updated or unchanged)', 'forecastlab-rag', 'forecastlab-rag'),
  ('POST',   '/rag/index/project-docs',  'rag_index_project_docs', 'authenticated', '{admin}', 'forecastlab-rag-index', 'Index this project''s own documentation', 'forecastlab-rag', 'forecastlab-rag'),
  ('POST',   '/rag/retrieve',            'rag_retrieve',           'authenticated', null,      'forecastlab-rag-read',  'Semantic search over the account''s documents (HNSW, cosine)', 'forecastlab-rag', 'forecastlab-rag'),
  ('GET',    '/rag/sources',             'rag_sources',            'authenticated', null,      'forecastlab-rag-read',  'Indexed sources with their chunk counts', 'forecastlab-rag', 'forecastlab-rag'),
  ('DELETE', '/rag/sources/{source_id}', 'rag_delete_source',      'authenticated', '{admin}', 'forecastlab-rag-index', 'Delete a source and its chunks', 'forecastlab-rag', 'forecastlab-rag');

-- The AI configuration (§18): per account, admins only (docs/forecastlab-rag.md, Configuration).
insert into gateway.routes (method, path, function_name, min_role, app_roles, rate_policy, summary, tag, unit) values
  ('GET',   '/config/ai', 'config_ai',        'authenticated', '{admin}', 'forecastlab-rag-read', 'The account''s AI configuration (defaults overlaid by its overrides; API keys masked)', 'forecastlab-config', 'forecastlab-rag'),
  ('GET',   '/config/providers/health', 'config_providers_health', 'authenticated', '{admin}', 'forecastlab-rag-read', 'Per provider: reachable, detail, models (Ollama asked live)', 'forecastlab-config', 'forecastlab-rag'),
  ('GET',   '/config/ollama/models', 'config_ollama_models', 'authenticated', '{admin}', 'forecastlab-rag-read', 'The configured Ollama server''s models (502 when unreachable)', 'forecastlab-config', 'forecastlab-rag'),
  ('PATCH', '/config/ai', 'config_ai_update', 'authenticated', '{admin}', 'forecastlab-rag-read', 'Change the account''s AI configuration (409 when an embedding change would orphan indexed chunks, unless force)', 'forecastlab-config', 'forecastlab-rag');

-- The providers' API keys, for the gateway's outbound requests only (docs/gateway.md, Outbound requests).
insert into gateway.secret_resolvers (unit, resolver) values ('forecastlab-rag', 'rag.resolve_secret(uuid, text)')
  on conflict (unit) do update set resolver = excluded.resolver;
