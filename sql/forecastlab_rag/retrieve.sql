-- requires: forecastlab_rag/documents.sql
-- POST /rag/retrieve (contract details §14): the query embedded by the same function as the
-- chunks, then the nearest chunks of the caller's account by cosine distance through the HNSW
-- index. relevance_score = 1 − cosine distance (clamped to 0..1).
--
-- The index holds every account's chunks; with pgvector's iterative scan the search keeps reading
-- the graph until it has top_k rows that pass the account and metadata filters, rather than
-- returning fewer when other accounts' chunks are nearer (hnsw.iterative_scan, pgvector 0.8), in
-- exact distance order (strict_order: the first top_k are the nearest found), for at most 100,000
-- index tuples (a small account in a large shared index still gets its answers).

drop function if exists api.rag_retrieve(text, integer, double precision, jsonb);
create or replace function api.rag_retrieve(query text default null, top_k integer default 5, similarity_threshold double precision default 0.7,
                                            filters jsonb default null, fetched jsonb default null)
returns jsonb
language plpgsql volatile set search_path = '' set hnsw.iterative_scan = 'strict_order' set hnsw.ef_search = 100
  set hnsw.max_scan_tuples = 100000 as $$
declare
  account uuid := util.require_account();
  problems jsonb := '[]';
  embedded timestamptz;
  searched timestamptz;
  q public.vector;
  rows_ jsonb;
  threshold double precision := coalesce(rag_retrieve.similarity_threshold, 0.7);
  embedding record;
begin
  if rag_retrieve.query is null then
    problems := problems || forecast_models.problem('query', 'Field required', 'missing');
  elsif pg_catalog.length(rag_retrieve.query) not between 1 and 2000 then
    problems := problems || forecast_models.problem('query',
      case when rag_retrieve.query = '' then 'String should have at least 1 character' else 'String should have at most 2000 characters' end,
      case when rag_retrieve.query = '' then 'string_too_short' else 'string_too_long' end);
  end if;
  problems := problems || forecast_models.range_problems('top_k', coalesce(rag_retrieve.top_k, 5), 1, 50);
  if threshold not between 0 and 1 then
    problems := problems || forecast_models.problem('similarity_threshold', 'Input should be between 0 and 1', 'value_error');
  end if;
  if rag_retrieve.filters is not null and pg_catalog.jsonb_typeof(rag_retrieve.filters) not in ('object', 'null') then
    problems := problems || forecast_models.problem('filters', 'Input should be a valid dictionary', 'dict_type');
  end if;
  if pg_catalog.jsonb_array_length(problems) > 0 then
    perform forecast_models.invalid_all(problems);
  end if;

  embedded := pg_catalog.clock_timestamp();
  -- The account's provider: local at once; a remote one through the gateway's fetch (this call
  -- answers null, having asked; the call with `fetched` searches).
  select * into embedding from rag.provider_embeddings(array[rag_retrieve.query], rag_retrieve.fetched, true);
  if embedding.pending then
    return null;
  elsif embedding.failure is not null then
    return util.answer_error(502, embedding.failure ->> 'code', embedding.failure ->> 'message');
  end if;
  q := embedding.vectors[1];
  searched := pg_catalog.clock_timestamp();
  -- The nearest first (the index's order), then the threshold: a row below it ends the list.
  select coalesce(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
           'chunk_id', n.chunk_id, 'source_id', s.source_id, 'source_path', s.source_path, 'source_type', s.source_type,
           'content', n.content, 'relevance_score', n.score, 'metadata', n.metadata) order by n.distance), '[]')
    into rows_
    from (select c.chunk_id, c.source_pk, c.content, c.metadata, c.embedding operator(public.<=>) q as distance,
                 least(greatest(1 - (c.embedding operator(public.<=>) q), 0), 1) as score
            from rag.chunks c
           where c.account_id = account
             and (rag_retrieve.filters is null or pg_catalog.jsonb_typeof(rag_retrieve.filters) = 'null' or c.metadata @> rag_retrieve.filters)
           order by c.embedding operator(public.<=>) q
           limit coalesce(rag_retrieve.top_k, 5)) n
    join rag.sources s on s.id = n.source_pk
   where n.score >= threshold;
  return pg_catalog.jsonb_build_object(
    'results', rows_,
    'query_embedding_time_ms', pg_catalog.round((extract(epoch from searched - embedded) * 1000)::numeric, 3),
    'search_time_ms', forecast_models.elapsed_ms(searched),
    'total_chunks_searched', (select count(*) from rag.chunks c where c.account_id = account));
end $$;
comment on function api.rag_retrieve(text, integer, double precision, jsonb, jsonb) is
  'The account''s chunks nearest the query (cosine, HNSW): top_k 1..50, similarity_threshold 0..1 (default 0.7), metadata filters (containment).';

grant execute on function api.rag_retrieve(text, integer, double precision, jsonb, jsonb) to authenticated, service_role;
