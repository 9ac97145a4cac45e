-- ForecastLab's knowledge base (RAG): documents, their chunks and the chunks' embeddings live in the
-- schema rag (tables: 0021_forecastlab_rag_documents.sql; functions: sql/forecastlab_rag/).

-- pgvector: the vector type, its distance operators and the HNSW index. Required: Debian 12 has no
-- package of it for PostgreSQL 15, so scripts/setup.sh builds it for the installed server
-- (scripts/install-pgvector.sh); a server without it stops here with "extension vector is not available".
create extension if not exists vector;
-- 0.8 at least: the search relies on its iterative index scans (hnsw.iterative_scan).
do $$
begin
  if (select pg_catalog.string_to_array(e.extversion, '.')::integer[] from pg_catalog.pg_extension e where e.extname = 'vector')
     < array[0, 8, 0] then
    raise exception 'pgvector % is installed; ForecastLab''s knowledge base needs 0.8.0 or later',
      (select e.extversion from pg_catalog.pg_extension e where e.extname = 'vector')
      using hint = 'update it (alter extension vector update, after installing a newer build: scripts/install-pgvector.sh)';
  end if;
end $$;

create schema rag;
comment on schema rag is 'ForecastLab''s knowledge base (private): indexed documents, chunks and embeddings; read and write them through the api functions.';
revoke all on schema rag from public;
grant usage on schema rag to authenticated, service_role;
