-- ForecastLab's knowledge base (contract details §14; docs/forecastlab-rag.md): indexed documents
-- and their chunks with 384-dimension embeddings (all-MiniLM-L6-v2, computed in the database by
-- rag.embed), searched by cosine distance through an HNSW index. Every row belongs to an account;
-- RLS is enabled and forced (policies: sql/forecastlab_rag/policies.sql).

create table rag.sources (
  id           bigint generated always as identity primary key,
  account_id   uuid not null,
  source_id    text not null unique check (source_id ~ '^[0-9a-f]{32}$'),
  source_type  text not null check (source_type in ('markdown', 'openapi')),
  source_path  text not null check (length(source_path) between 1 and 500),
  -- SHA-256 of the content as indexed: the same content again is `unchanged`.
  content_hash text not null check (content_hash ~ '^[0-9a-f]{64}$'),
  -- How its chunks were cut (rag.chunker_version()): a new chunker re-indexes unchanged content.
  chunker      text not null default '',
  metadata     jsonb check (metadata is null or jsonb_typeof(metadata) = 'object'),
  indexed_at   timestamptz not null default now(),
  created_at   timestamptz not null default now(),
  updated_at   timestamptz not null default now(),
  unique (account_id, source_type, source_path)
);
comment on table rag.sources is 'Indexed documents (markdown, OpenAPI) per account: path, content hash, metadata.';

create table rag.chunks (
  id          bigint generated always as identity primary key,
  account_id  uuid not null,
  chunk_id    text not null unique check (chunk_id ~ '^[0-9a-f]{32}$'),
  source_pk   bigint not null references rag.sources (id) on delete cascade,
  chunk_index integer not null check (chunk_index >= 0),
  content     text not null,
  embedding   public.vector(384) not null,
  token_count integer not null check (token_count >= 0),
  metadata    jsonb not null default '{}' check (jsonb_typeof(metadata) = 'object'),
  unique (source_pk, chunk_index)
);
comment on table rag.chunks is 'Chunks of the indexed documents (a section, an operation) with their embeddings.';
-- The contract's index: cosine distance, m 16, ef_construction 64.
create index chunks_embedding_idx on rag.chunks using hnsw (embedding vector_cosine_ops) with (m = 16, ef_construction = 64);
create index chunks_metadata_idx on rag.chunks using gin (metadata);
create index chunks_account_idx on rag.chunks (account_id);

alter table rag.sources enable row level security, force row level security;
alter table rag.chunks enable row level security, force row level security;

-- Grants are the ceiling, by column for writes; the policies decide whose rows.
grant select, delete on rag.sources, rag.chunks to authenticated, service_role;
grant insert (account_id, source_id, source_type, source_path, content_hash, chunker, metadata) on rag.sources to authenticated, service_role;
grant update (content_hash, chunker, metadata, indexed_at, updated_at) on rag.sources to authenticated, service_role;
grant insert (account_id, chunk_id, source_pk, chunk_index, content, embedding, token_count, metadata) on rag.chunks to authenticated, service_role;
