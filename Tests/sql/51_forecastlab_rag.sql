-- ForecastLab's knowledge base (docs/forecastlab-rag.md): chunking by heading and by operation,
-- indexing (indexed / updated / unchanged by content hash, chunks replaced whole), retrieval
-- (nearest first, threshold, metadata filters, the HNSW index in the plan), sources and deletion,
-- the project's own docs with path_prefix kept inside docs/, the 422 / 404 / 403 answers, and two
-- tenants.
begin;
select plan(45);

create temp table t_ids as select
  'f5100000-0000-4000-8000-00000000000a'::uuid as a, 'f5100000-0000-4000-8000-00000000000b'::uuid as b;
grant select on t_ids to authenticated, service_role;
create temp table t_out (name text primary key, answer jsonb);
grant all on t_out to authenticated, service_role;
create function pg_temp.plan_of(query text) returns text language plpgsql as $$
declare
  line text;
  plan text := '';
begin
  for line in execute 'explain ' || query loop plan := plan || line || E'\n'; end loop;
  return plan;
end $$;
grant execute on function pg_temp.plan_of(text) to authenticated, service_role;

-- ── Chunking ─────────────────────────────────────────────────────────────────────────────────────
select is(array(select c.content from rag.chunk_markdown(E'# Guide\nIntro text.\n\n## Install\nRun setup.\n\n```sh\n# not a heading\nmake\n```\n\n### Linux\nApt.\n\n## Empty\n\n## Use\nCall it.') c),
  array[E'Guide\n\nIntro text.', E'Guide > Install\n\nRun setup.\n\n```sh\n# not a heading\nmake\n```', E'Guide > Install > Linux\n\nApt.',
        E'Guide > Use\n\nCall it.'],
  'markdown: a chunk per section, headed by its heading path; a fenced # is no heading; an empty section makes none');
select is((select c.metadata from rag.chunk_markdown(E'# Guide\n## Install\nRun setup.') c),
  '{"section": "Guide > Install", "heading": "Install", "level": 2}', 'a chunk''s metadata: section path, heading, level');
select ok((select bool_and(t <= 60) and count(*) >= 5 and bool_and(c.content like E'Guide > Long\n\n%')
             from rag.chunk_markdown(E'# Guide\n## Long\n' || (select string_agg('Sentence number ' || i || ' is here.', ' ') from generate_series(1, 30) i)
                                     || E'\n\n' || repeat('word ', 40), 60) c,
                  unnest(rag.token_counts(array[c.content])) t),
  'a long section is cut at sentences and paragraphs into pieces of at most max_tokens, each keeping the heading path');
select is(array(select c.metadata ->> 'section' from rag.chunk_markdown(E'Title\n=====\nIntro.\n\nPart\n----\nBody.\n\n## Using C#\nSharp.\n\n````md\n```\n# inside\n```\n````\n~~~\n# also inside\n~~~\n') c),
  array['Title', 'Title > Part', 'Title > Using C#'],
  'setext headings, a # in a heading, and fences (a longer fence around a shorter one; ~~~) read as CommonMark does');
select is((select array_agg(c.content order by c.chunk_index) from rag.chunk_openapi(
  '{"openapi": "3.1.0", "info": {"title": "Shop", "version": "1"}, "paths": {"/orders": {"get": {"summary": "List orders", "operationId": "listOrders",
    "parameters": [{"name": "limit", "in": "query", "description": "At most this many"}], "responses": {"200": {"description": "The orders"}}},
    "post": {"summary": "Create an order", "requestBody": {"description": "The order"}}}}}') c),
  array['Shop 1', E'GET /orders\n\nList orders\nParameters: limit (query): At most this many\nResponses: 200 The orders',
        E'POST /orders\n\nCreate an order\nRequest body: The order'],
  'OpenAPI: a chunk for the info and one per operation, in words, the operation its first line');
select is((select c.metadata from rag.chunk_openapi('{"paths": {"/x": {"get": {"operationId": "getX", "tags": ["t"]}}}}') c),
  '{"method": "GET", "path": "/x", "operation_id": "getX", "tags": ["t"], "section": "GET /x"}', 'an operation''s metadata');

-- ── Indexing ─────────────────────────────────────────────────────────────────────────────────────
select tests.as_member((select a from t_ids), 'admin');
insert into t_out select 'first', api.rag_index('markdown', 'guides/pricing.md',
  E'# Pricing\n## Discounts\nA promotion lowers the price and raises the units sold for its days.\n\n## Returns\nCustomers may return goods within thirty days for a refund.\n\n## Shipping\nParcels leave the warehouse every weekday morning.',
  '{"team": "retail"}');
select is((select answer - 'source_id' - 'duration_ms' from t_out where name = 'first'),
  ('{"source_path": "guides/pricing.md", "chunks_created": 3, "tokens_processed": ' ||
  (select sum(t) from unnest(rag.token_counts(array(select c.content from rag.chunk_markdown(E'# Pricing\n## Discounts\nA promotion lowers the price and raises the units sold for its days.\n\n## Returns\nCustomers may return goods within thirty days for a refund.\n\n## Shipping\nParcels leave the warehouse every weekday morning.') c))) t)
  || ', "status": "indexed"}')::jsonb, 'a new document is indexed: three sections, their tokens counted');
select is((select count(*)::integer from rag.chunks c join rag.sources s on s.id = c.source_pk where s.source_id = (select answer ->> 'source_id' from t_out where name = 'first')),
  3, 'its chunks are stored');
select ok((select bool_and(abs(vector_norm(c.embedding) - 1) < 1e-5) and bool_and(c.metadata @> '{"team": "retail"}') from rag.chunks c),
  'with unit-length embeddings, and the source''s metadata under their own');
select ok((select c.embedding operator(public.<->) rag.embed(E'Pricing > Returns\n\nCustomers may return goods within thirty days for a refund.')
             from rag.chunks c where c.metadata ->> 'heading' = 'Returns') < 1e-5,
  'a chunk''s embedding is rag.embed of its content, as a psql caller computes it (batched with others: equal to 1e-5)');
insert into t_out select 'again', api.rag_index('markdown', 'guides/pricing.md',
  E'# Pricing\n## Discounts\nA promotion lowers the price and raises the units sold for its days.\n\n## Returns\nCustomers may return goods within thirty days for a refund.\n\n## Shipping\nParcels leave the warehouse every weekday morning.');
select is((select answer ->> 'status' || ' ' || (answer ->> 'chunks_created') from t_out where name = 'again'), 'unchanged 0',
  'the same content again is unchanged, nothing embedded');
create temp table t_before as select chunk_id from rag.chunks;
insert into t_out select 'changed', api.rag_index('markdown', 'guides/pricing.md', E'# Pricing\n## Discounts\nMarkdowns clear old stock at the end of a season.');
select is((select answer ->> 'status' || ' ' || (answer ->> 'chunks_created') from t_out where name = 'changed'), 'updated 1', 'changed content is updated');
select is((select answer ->> 'source_id' from t_out where name = 'changed'), (select answer ->> 'source_id' from t_out where name = 'first'),
  'the same source');
select is((select count(*)::integer from rag.chunks where chunk_id in (select chunk_id from t_before)), 0, 'whose old chunks are all gone');
insert into t_out select 'api', api.rag_index('openapi', 'specs/shop.json',
  '{"openapi": "3.1.0", "info": {"title": "Shop"}, "paths": {"/refunds": {"post": {"summary": "Refund a returned order", "operationId": "refund"}}}}');
select is((select answer ->> 'chunks_created' from t_out where name = 'api'), '2', 'an OpenAPI document: its info and its operation');
insert into t_out select 'notes', api.rag_index('markdown', 'guides/notes.md', E'# Notes\n## Returns\nCustomers may return goods within thirty days for a refund.', '{"team": "ops"}');

select is(tests.error_fields(tests.error_of($$select api.rag_index('pdf', '', null, '[]')$$)), array['source_type', 'source_path', 'metadata'],
  'the 422s: an unknown type, an empty path, metadata not an object');
select is(tests.error_of($$select api.rag_index('openapi', 'x.yaml', 'openapi: 3.1.0')$$) #>> '{errors,0,field}', 'content',
  'an OpenAPI document that is not JSON is a 422 on content');
select is(tests.error_of($$select api.rag_index('markdown', 'nowhere.md')$$) ->> 'sqlstate', 'PT404',
  'no content and no such project document: 404');
select tests.as_member((select a from t_ids), 'viewer');
select is(tests.error_of($$select api.rag_index('markdown', 'v.md', 'text')$$) ->> 'sqlstate', '42501', 'a viewer does not index');

-- ── Retrieval ────────────────────────────────────────────────────────────────────────────────────
insert into t_out select 'retrieved', api.rag_retrieve('Can a customer get their money back for goods they send back?', 3, 0);
select is((select answer #>> '{results,0,metadata,section}' from t_out where name = 'retrieved'), 'Notes > Returns',
  'the section about returns comes first');
select ok((select bool_and((r ->> 'relevance_score')::float8 between 0 and 1) from t_out, jsonb_array_elements(answer -> 'results') r where name = 'retrieved'),
  'relevance scores are within 0..1');
select ok((select (answer #>> '{results,0,relevance_score}')::float8 >= (answer #>> '{results,1,relevance_score}')::float8 from t_out where name = 'retrieved'),
  'nearest first');
select is((select answer -> 'total_chunks_searched' from t_out where name = 'retrieved'), '4', 'the account''s chunks are what is searched');
select is((select (answer #>> '{results,0,relevance_score}')::float8 from t_out where name = 'retrieved'),
  (select 1 - (c.embedding <=> rag.embed('Can a customer get their money back for goods they send back?')) from rag.chunks c where c.metadata ->> 'section' = 'Notes > Returns'),
  'the score is one minus the cosine distance');
select is(jsonb_array_length(api.rag_retrieve('Can a customer get their money back for goods they send back?', 5, 0.99) -> 'results'), 0,
  'a threshold nothing reaches leaves no results');
select is((select array_agg(r #>> '{metadata,team}') from jsonb_array_elements(
            api.rag_retrieve('Can a customer get their money back?', 5, 0, '{"team": "ops"}') -> 'results') r), array['ops'],
  'metadata filters keep only the chunks that contain them');
select is(tests.error_fields(tests.error_of($$select api.rag_retrieve('', 51, 1.5, '[]')$$)),
  array['query', 'top_k', 'similarity_threshold', 'filters'], 'the 422s of a search');
-- Three rows: a scan and a sort are cheaper here (for a member, the account's own index and a
-- sort, as for any small account); with scans off, as the owner, this shows the HNSW index
-- serves the cosine order with the query's vector folded into a constant. The bench shows the
-- plan of a member's search at 100,000 chunks.
reset role;
set local enable_seqscan = off;
select ok(pg_temp.plan_of($$select c.chunk_id from rag.chunks c order by c.embedding operator(public.<=>) rag.embed('refunds') limit 5$$)
            like '%Index Scan using chunks_embedding_idx%',
  'the search can read the HNSW index (the query vector folded to a constant)');
reset enable_seqscan;
select tests.as_member((select a from t_ids), 'viewer');

-- ── Sources, deletion, tenants ───────────────────────────────────────────────────────────────────
select is((select jsonb_path_query_array(api.rag_sources(), '$.sources[*].source_path')), '["guides/notes.md", "specs/shop.json", "guides/pricing.md"]',
  'sources, newest first');
select is((select api.rag_sources() - 'sources'), '{"total_chunks": 4, "total_sources": 3}', 'with the totals');
select tests.as_member((select b from t_ids), 'admin');
select is(api.rag_sources(), '{"sources": [], "total_chunks": 0, "total_sources": 0}', 'another account has none of them');
select is(jsonb_array_length(api.rag_retrieve('Can a customer get their money back?', 5, 0) -> 'results'), 0, 'and finds none of them');
select is((select count(*)::integer from rag.chunks), 0, 'nor reads their rows directly (RLS)');
select is(tests.error_of($$select api.rag_delete_source((select answer ->> 'source_id' from t_out where name = 'notes'))$$) ->> 'sqlstate', 'PT404',
  'nor deletes them: 404');
select tests.as_member((select a from t_ids), 'viewer');
select is(tests.error_of($$select api.rag_delete_source((select answer ->> 'source_id' from t_out where name = 'notes'))$$) ->> 'sqlstate', '42501',
  'a viewer does not delete');
select tests.as_member((select a from t_ids), 'admin');
select is(api.rag_delete_source((select answer ->> 'source_id' from t_out where name = 'notes')) - 'source_id',
  '{"status": "deleted", "chunks_deleted": 1}', 'an admin deletes a source with its chunks');
select is((select count(*)::integer from rag.chunks), 3, 'its chunk is gone, the others stay');

-- One index for every account: another account's 200 chunks nearer the question than any of this
-- one's do not crowd them out (the iterative scan reads on until top_k pass the account filter).
-- enable_sort off leaves the HNSW index as the only way to the nearest, as for a large account.
select tests.as_member((select b from t_ids), 'admin');
select lives_ok($$select api.rag_index('markdown', 'b/returns.md', (select string_agg('## Returns ' || i || E'\nCustomers may return goods within thirty days and get a refund, case ' || i || '.', E'\n\n')
                                                                    from generate_series(1, 200) i))$$, 'the other account indexes 200 sections about refunds');
select tests.as_member((select a from t_ids), 'viewer');
set local enable_sort = off;
set local enable_seqscan = off;
set local enable_bitmapscan = off;
select is((select count(*)::integer from jsonb_array_elements(api.rag_retrieve('Can I get a refund for goods I return?', 3, 0) -> 'results') r
            where r ->> 'source_path' like 'guides/%' or r ->> 'source_path' like 'specs/%'),
  3, 'this account still gets its three nearest, through the index');
reset enable_sort;
reset enable_seqscan;
reset enable_bitmapscan;
select tests.as_member((select a from t_ids), 'admin');
select is(tests.error_of($$select rag.index_document((select b from t_ids), 'markdown', 'forged.md', '# Forged', null)$$) ->> 'sqlstate', '42501',
  'an admin of one account cannot write into another''s (RLS)');

-- ── The project's own docs ───────────────────────────────────────────────────────────────────────
select is(tests.error_of($$select api.rag_index_project_docs(path_prefix => '../etc')$$) #>> '{errors,0,field}', 'path_prefix', 'a prefix with .. is a 422');
select is(tests.error_of($$select api.rag_index_project_docs(path_prefix => '/etc')$$) #>> '{errors,0,field}', 'path_prefix', 'so is an absolute one');
select is(rag.docs_prefix('forecastlab-rag.md'), 'docs/forecastlab-rag.md', 'a prefix is read inside docs/');
insert into t_out select 'docs', api.rag_index_project_docs(include_root => false, include_prps => false, path_prefix => 'docs/forecastlab-rag.md');
select is((select answer #>> '{results,0,source_path}' || ' ' || (answer ->> 'total_files') || ' ' || (answer #>> '{results,0,status}') from t_out where name = 'docs'),
  'docs/forecastlab-rag.md 1 indexed', 'the project''s docs, narrowed by path_prefix, indexed into the account');

reset role;
select is((select count(*)::integer from jsonb_each(gateway.openapi() -> 'paths') p, jsonb_each(p.value) o,
                  jsonb_each(coalesce(o.value #> '{requestBody,content,application/json,schema,properties}', '{}')) prop
            where p.key like '/rag/%' and prop.key = 'fetched'), 0,
  'the OpenAPI document does not offer callers the gateway''s own fetched argument');

select * from finish();
rollback;
