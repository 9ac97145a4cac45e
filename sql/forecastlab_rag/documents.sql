-- requires: forecastlab_rag/chunking.sql
-- requires: forecastlab_rag/tokens.sql
-- requires: forecastlab_models/common.sql
-- requires: forecastlab_rag/config.sql
-- Indexing (contract details §14; docs/forecastlab-rag.md): a document is chunked, each chunk
-- embedded in the database (rag.embed_batch, the local all-MiniLM-L6-v2), and stored with its
-- source, all in the caller's transaction: a failure leaves the previous version whole. The same
-- content again (its SHA-256) is `unchanged` and costs no embedding.

-- A source as GET /rag/sources lists it.
create or replace function rag.source_json(source rag.sources, chunk_count bigint) returns jsonb
language sql stable set search_path = '' as $$
  select pg_catalog.jsonb_build_object(
    'source_id', source.source_id, 'source_type', source.source_type, 'source_path', source.source_path,
    'chunk_count', chunk_count, 'content_hash', source.content_hash, 'indexed_at', util.iso(source.indexed_at),
    'metadata', source.metadata)
$$;


-- Embeddings for chunks, or a 502 naming the provider: the model's failure (not installed, not
-- loadable) is not the caller's fault, and its text is the server's to log.
create or replace function rag.embeddings(texts text[]) returns public.vector[]
language plpgsql stable set search_path = '' as $$
declare
  vectors public.vector[];
  problem text;
begin
  if pg_catalog.cardinality(texts) = 0 then
    return '{}';
  end if;
  begin
    vectors := rag.embed_batch(texts);
  exception when others then
    get stacked diagnostics problem = message_text;
    raise warning 'rag: the local embedding provider failed: %', problem;
    raise exception 'The embedding provider (local, all-MiniLM-L6-v2) failed; the server log has the details'
      using errcode = 'PT502', hint = 'run scripts/setup.sh on the database server';
  end;
  return vectors;
end $$;

-- The request that embeds texts with a remote provider, for the gateway to perform: OpenAI's
-- embeddings API (the key as a secret the gateway resolves), or Ollama's /api/embed.
create or replace function rag.embedding_request(settings jsonb, texts text[]) returns jsonb
language sql immutable set search_path = '' as $$
  select case settings ->> 'provider'
    when 'openai' then pg_catalog.jsonb_build_object('url', (settings ->> 'base_url') || '/v1/embeddings', 'method', 'POST',
      'headers', pg_catalog.jsonb_build_object('Authorization', pg_catalog.jsonb_build_object('$secret', 'openai', 'prefix', 'Bearer '),
                                               'Content-Type', 'application/json'),
      'body', pg_catalog.jsonb_build_object('model', settings ->> 'model', 'input', pg_catalog.to_jsonb(texts), 'dimensions', settings -> 'dimension'),
      'timeout_ms', 20000)
    else pg_catalog.jsonb_build_object('url', (settings ->> 'base_url') || '/api/embed', 'method', 'POST',
      'headers', pg_catalog.jsonb_build_object('Content-Type', 'application/json'),
      'body', pg_catalog.jsonb_build_object('model', settings ->> 'model', 'input', pg_catalog.to_jsonb(texts)),
      'timeout_ms', 20000) end
$$;

-- Embeddings with the account's provider (rag.embedding_settings). local: in the database, now.
-- openai / ollama: the first call asks the gateway to fetch (response.fetch) and is `pending`; the
-- call again with what was `fetched` reads the vectors. A provider's failure is a `failure`
-- {code, message} for the caller to answer as a 502 (util.answer_error): EMBEDDING_AUTH when it
-- refused the credentials (401, 403), else EMBEDDING_PROVIDER_ERROR saying what went wrong
-- (unreachable, timed out, a host not allowed, 5xx, a body that is not the provider's, vectors of
-- another dimension than the column's 384). `may_fetch` false (a caller that cannot be called
-- again) makes a remote provider a raised PT502.
create or replace function rag.provider_embeddings(texts text[], fetched jsonb default null, may_fetch boolean default true,
                                                   out vectors public.vector[], out pending boolean, out failure jsonb)
language plpgsql volatile set search_path = '' as $$
declare
  settings jsonb := rag.embedding_settings();
  provider text := settings ->> 'provider';
  label text;
  answer jsonb;
  status integer;
  items jsonb;
  dimensions integer[];
  problem text;
begin
  pending := false;
  if provider = 'local' then
    vectors := rag.embeddings(texts);
    return;
  end if;
  if pg_catalog.cardinality(texts) = 0 then
    vectors := '{}';
    return;
  end if;
  label := pg_catalog.format('embedding provider (%s, %s at %s)', provider, settings ->> 'model', settings ->> 'base_url');
  if fetched is null then
    if not may_fetch then
      raise exception 'This request cannot use the % (it embeds in one call); index documents one at a time with POST /rag/index', label
        using errcode = 'PT502', hint = 'or set rag_embedding_provider to local';
    end if;
    perform pg_catalog.set_config('response.fetch', pg_catalog.jsonb_build_object('requests',
      pg_catalog.jsonb_build_array(rag.embedding_request(settings, texts)))::text, true);
    pending := true;
    return;
  end if;
  begin
    answer := rag.fetched_answer(fetched, 0, label);
    status := (answer ->> 'status')::integer;
    if status in (401, 403) then
      failure := pg_catalog.jsonb_build_object('code', 'EMBEDDING_AUTH', 'message', pg_catalog.format('The %s refused the credentials (HTTP %s)%s',
        label, status, case when provider = 'openai' and not (settings ->> 'key_set')::boolean then ': the account has no openai_api_key' else '' end));
      return;
    end if;
    if status is null or status not between 200 and 299 then
      raise exception 'The % answered HTTP %', label, coalesce(status::text, '(none)') using errcode = 'PT502';
    end if;
    items := case provider
      when 'openai' then (select pg_catalog.jsonb_agg(d -> 'embedding' order by (d ->> 'index')::integer, i)
                            from pg_catalog.jsonb_array_elements(case when pg_catalog.jsonb_typeof(answer #> '{body,data}') = 'array'
                                                                      then answer #> '{body,data}' else '[]' end) with ordinality x(d, i)
                           where pg_catalog.jsonb_typeof(d) = 'object')
      else answer #> '{body,embeddings}' end;
    if pg_catalog.jsonb_typeof(items) is distinct from 'array' or pg_catalog.jsonb_array_length(items) <> pg_catalog.cardinality(texts)
       or exists (select from pg_catalog.jsonb_array_elements(items) v
                   where pg_catalog.jsonb_typeof(v) is distinct from 'array' or pg_catalog.jsonb_array_length(v) = 0
                      or exists (select from pg_catalog.jsonb_array_elements(v) n where pg_catalog.jsonb_typeof(n) <> 'number')) then
      raise exception 'The % did not answer % embedding(s) as numbers', label, pg_catalog.cardinality(texts) using errcode = 'PT502';
    end if;
    select pg_catalog.array_agg(distinct pg_catalog.jsonb_array_length(v)) into dimensions from pg_catalog.jsonb_array_elements(items) v;
    if dimensions <> array[384] then
      raise exception 'The % answered %-dimensional vectors; the knowledge base stores 384-dimensional ones', label,
        pg_catalog.array_to_string(dimensions, '/')
        using errcode = 'PT502', hint = 'choose a 384-dimensional model, or rag_embedding_dimension 384 (OpenAI shortens its vectors to it)';
    end if;
    select pg_catalog.array_agg(v::text::public.vector order by i) into vectors from pg_catalog.jsonb_array_elements(items) with ordinality x(v, i);
  exception when sqlstate 'PT502' then
    -- Answered as a 502 by the caller (util.answer_error), with a code that names the provider's
    -- failure rather than the database's.
    get stacked diagnostics problem = message_text;
    failure := pg_catalog.jsonb_build_object('code', 'EMBEDDING_PROVIDER_ERROR', 'message', problem);
  end;
end $$;
comment on function rag.provider_embeddings(text[], jsonb, boolean) is
  'Embeddings with the account''s provider: local at once; openai/ollama through the gateway''s fetch (pending, then fetched).';

-- Indexes one document for the account: chunks, embeddings, rows. With a remote provider (and
-- may_fetch) the first call answers null, having asked for the embeddings; the call with `fetched`
-- writes; {failure} when the provider refused the credentials. status indexed (new), updated
-- (its chunks replaced) or unchanged (same content hash: nothing embedded, nothing written).
drop function if exists rag.index_document(uuid, text, text, text, jsonb);
create or replace function rag.index_document(account uuid, source_type text, source_path text, content text, metadata jsonb,
                                              fetched jsonb default null, may_fetch boolean default false)
returns jsonb
language plpgsql volatile set search_path = '' as $$
declare
  started timestamptz := pg_catalog.clock_timestamp();
  hash text := pg_catalog.encode(pg_catalog.sha256(pg_catalog.convert_to(content, 'UTF8')), 'hex');
  source rag.sources;
  document jsonb;
  pieces jsonb;
  texts text[];
  vectors public.vector[];
  tokens integer[];
  status text;
  embedded record;
begin
  -- Two first indexings of one path at once: the second waits here, then finds the first's row.
  perform pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended(account::text || '/' || source_type || '/' || source_path, 0));
  select s.* into source from rag.sources s
   where s.account_id = account and s.source_type = index_document.source_type and s.source_path = index_document.source_path
   for update;
  if found and source.content_hash = hash and source.chunker = rag.chunker_version() then
    return pg_catalog.jsonb_build_object('source_id', source.source_id, 'source_path', source.source_path, 'chunks_created', 0,
                                         'tokens_processed', 0, 'duration_ms', forecast_models.elapsed_ms(started), 'status', 'unchanged');
  end if;
  if source_type = 'openapi' then
    begin
      document := content::jsonb;
    exception when others then
      document := null;
    end;
    if pg_catalog.jsonb_typeof(document) is distinct from 'object' or pg_catalog.jsonb_typeof(document -> 'paths') is distinct from 'object' then
      perform forecast_models.invalid_all(pg_catalog.jsonb_build_array(forecast_models.problem('content',
        'An OpenAPI document is accepted as a JSON object with "paths"', 'value_error')));
    end if;
    select coalesce(pg_catalog.jsonb_agg(pg_catalog.to_jsonb(c) order by c.chunk_index), '[]') into pieces from rag.chunk_openapi(document) c;
  else
    select coalesce(pg_catalog.jsonb_agg(pg_catalog.to_jsonb(c) order by c.chunk_index), '[]') into pieces from rag.chunk_markdown(content) c;
  end if;
  select coalesce(pg_catalog.array_agg(p ->> 'content' order by i), '{}') into texts from pg_catalog.jsonb_array_elements(pieces) with ordinality x(p, i);
  select * into embedded from rag.provider_embeddings(texts, index_document.fetched, index_document.may_fetch);
  if embedded.pending then
    return null;  -- the gateway fetches the embeddings and calls again
  elsif embedded.failure is not null then
    return pg_catalog.jsonb_build_object('failure', embedded.failure);  -- answered as a 502 by api.rag_index
  end if;
  vectors := embedded.vectors;
  tokens := case when pg_catalog.cardinality(texts) = 0 then '{}' else rag.token_counts(texts) end;

  if source.id is not null then
    delete from rag.chunks c where c.source_pk = source.id;
    update rag.sources s set content_hash = hash, chunker = rag.chunker_version(), metadata = index_document.metadata,
                             indexed_at = pg_catalog.now(), updated_at = pg_catalog.now()
     where s.id = source.id returning s.* into source;
    status := 'updated';
  else
    insert into rag.sources (account_id, source_id, source_type, source_path, content_hash, chunker, metadata)
    values (account, pg_catalog.replace(pg_catalog.gen_random_uuid()::text, '-', ''), index_document.source_type,
            index_document.source_path, hash, rag.chunker_version(), index_document.metadata)
    returning * into source;
    status := 'indexed';
  end if;
  -- A chunk's metadata: the source's, then its own (section, heading, operation …): a filter on
  -- either finds it.
  insert into rag.chunks (account_id, chunk_id, source_pk, chunk_index, content, embedding, token_count, metadata)
  select account, pg_catalog.replace(pg_catalog.gen_random_uuid()::text, '-', ''), source.id, (p ->> 'chunk_index')::integer,
         p ->> 'content', vectors[i], tokens[i], coalesce(index_document.metadata, '{}') || (p -> 'metadata')
    from pg_catalog.jsonb_array_elements(pieces) with ordinality x(p, i);
  return pg_catalog.jsonb_build_object('source_id', source.source_id, 'source_path', source.source_path,
                                       'chunks_created', pg_catalog.cardinality(texts),
                                       'tokens_processed', coalesce((select sum(t) from pg_catalog.unnest(tokens) t), 0),
                                       'duration_ms', forecast_models.elapsed_ms(started), 'status', status);
end $$;

-- The problems of an index request's fields other than content (422s, FastAPI-style).
create or replace function rag.index_problems(source_type text, source_path text, metadata jsonb) returns jsonb
language sql immutable set search_path = '' as $$
  select case when source_type is null then pg_catalog.jsonb_build_array(forecast_models.problem('source_type', 'Field required', 'missing'))
              when source_type not in ('markdown', 'openapi') then pg_catalog.jsonb_build_array(forecast_models.problem('source_type',
                'Input should be ''markdown'' or ''openapi''', 'literal_error'))
              else '[]'::jsonb end
      || case when source_path is null then pg_catalog.jsonb_build_array(forecast_models.problem('source_path', 'Field required', 'missing'))
              when pg_catalog.length(source_path) = 0 then pg_catalog.jsonb_build_array(forecast_models.problem('source_path',
                'String should have at least 1 character', 'string_too_short'))
              when pg_catalog.length(source_path) > 500 then pg_catalog.jsonb_build_array(forecast_models.problem('source_path',
                'String should have at most 500 characters', 'string_too_long'))
              else '[]'::jsonb end
      || case when metadata is not null and pg_catalog.jsonb_typeof(metadata) not in ('object', 'null')
              then pg_catalog.jsonb_build_array(forecast_models.problem('metadata', 'Input should be a valid dictionary', 'dict_type'))
              else '[]'::jsonb end
$$;

-- POST /rag/index (200, admin): one markdown or OpenAPI (JSON) document, its content given, or
-- when absent read from this project's files (a path under docs/ or a root *.md, as
-- /rag/index/project-docs reads them).
drop function if exists api.rag_index(text, text, text, jsonb);
create or replace function api.rag_index(source_type text default null, source_path text default null, content text default null,
                                         metadata jsonb default null, fetched jsonb default null)
returns jsonb
language plpgsql volatile set search_path = '' as $$
declare
  account uuid := util.require_account();
  problems jsonb := rag.index_problems(rag_index.source_type, rag_index.source_path, rag_index.metadata);
  text_ text := rag_index.content;
  answer jsonb;
begin
  perform auth.require_app_role('admin');
  if pg_catalog.jsonb_array_length(problems) > 0 then
    perform forecast_models.invalid_all(problems);
  end if;
  if text_ is null then
    begin
      select f.content into text_ from rag.project_files(null, true, true, true) f where f.path = rag_index.source_path;
    exception when sqlstate 'PT503' then
      raise exception 'No content given, and this database server does not know where the project''s documents are (FORECASTLAB_PROJECT_ROOT)'
        using errcode = 'PT503';
    end;
    if text_ is null then
      raise exception 'No content given, and % is not one of this project''s documents', pg_catalog.left(rag_index.source_path, 200)
        using errcode = 'PT404', hint = 'send the document as content';
    end if;
  end if;
  answer := rag.index_document(account, rag_index.source_type, rag_index.source_path, text_, nullif(rag_index.metadata, 'null'),
                               rag_index.fetched, true);
  if answer ? 'failure' then
    return util.answer_error(502, answer #>> '{failure,code}', answer #>> '{failure,message}');
  end if;
  return answer;
end $$;
comment on function api.rag_index(text, text, text, jsonb, jsonb) is
  'Indexes a markdown or OpenAPI (JSON) document: chunks by heading or operation, embeds them in the database; indexed, updated or unchanged (same SHA-256).';

-- GET /rag/sources: the account's sources, newest first, with chunk counts.
create or replace function api.rag_sources() returns jsonb
language sql stable set search_path = '' as $$
  select pg_catalog.jsonb_build_object(
    'sources', coalesce((select pg_catalog.jsonb_agg(rag.source_json(s, (select count(*) from rag.chunks c where c.source_pk = s.id))
                                                     order by s.indexed_at desc, s.id desc)
                           from rag.sources s where s.account_id = (select util.require_account())), '[]'),
    'total_sources', (select count(*) from rag.sources s where s.account_id = (select util.require_account())),
    'total_chunks', (select count(*) from rag.chunks c where c.account_id = (select util.require_account())))
$$;
comment on function api.rag_sources() is 'The account''s indexed sources with their chunk counts.';

-- DELETE /rag/sources/{source_id} (200, admin): the source and its chunks; 404 when the account
-- has none by that id.
create or replace function api.rag_delete_source(source_id text) returns jsonb
language plpgsql volatile set search_path = '' as $$
declare
  account uuid := util.require_account();
  source rag.sources;
  deleted bigint;
begin
  perform auth.require_app_role('admin');
  select s.* into source from rag.sources s where s.account_id = account and s.source_id = rag_delete_source.source_id;
  if not found then
    raise exception 'Source % not found', pg_catalog.left(rag_delete_source.source_id, 64) using errcode = 'PT404';
  end if;
  select count(*) into deleted from rag.chunks c where c.source_pk = source.id;
  delete from rag.sources s where s.id = source.id;
  return pg_catalog.jsonb_build_object('source_id', source.source_id, 'chunks_deleted', deleted, 'status', 'deleted');
end $$;
comment on function api.rag_delete_source(text) is 'Deletes a source and its chunks (admin).';

grant execute on function rag.source_json(rag.sources, bigint), rag.embeddings(text[]),
  rag.index_document(uuid, text, text, text, jsonb, jsonb, boolean), rag.index_problems(text, text, jsonb),
  rag.embedding_request(jsonb, text[]), rag.provider_embeddings(text[], jsonb, boolean),
  api.rag_index(text, text, text, jsonb, jsonb), api.rag_sources(), api.rag_delete_source(text) to authenticated, service_role;
