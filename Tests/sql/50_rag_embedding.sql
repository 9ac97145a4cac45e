-- rag.embed and rag.embed_batch (sql/forecastlab_rag/embedding.sql): all-MiniLM-L6-v2 in the
-- database: 384 dimensions, unit length, deterministic, the model's published reference values,
-- its similarities, truncation at 256 tokens, batches equal to single calls, callable by a request
-- role, and the query vector folded to a constant so that an HNSW index serves a nearest-neighbour
-- query. bench/reference/check_embeddings.py checks ~20 texts against an independent numpy model.
begin;
select plan(13);

select is(
  (select array_agg(p.proname || ':' || p.provolatile::text || p.proparallel::text || p.proisstrict::text order by p.proname)
     from pg_proc p where p.oid in ('rag.embed(text)'::regprocedure, 'rag.embed_batch(text[])'::regprocedure)),
  array['embed:irtrue', 'embed_batch:irtrue'],
  'both are immutable (folded at plan time), parallel restricted and strict');

select is(vector_dims(rag.embed('This is an example sentence')), 384, '384 dimensions');
select ok(abs(vector_norm(rag.embed('This is an example sentence')) - 1) < 1e-6, 'unit length (L2-normalised)');
create temp table t_first as select rag.embed('Deterministic, twice.') as v;
select ok((select v from t_first) = rag.embed('Deterministic, twice.'), 'the same text gives the same vector again');

-- sentence-transformers' published values for all-MiniLM-L6-v2 (its first five components).
select ok(
  (select bool_and(abs(got - want) < 1e-5)
     from unnest((rag.embed('This is an example sentence')::real[])[1:5],
                 array[0.0676569, 0.0634959, 0.0487131, 0.0793049, 0.0374480]) as r(got, want)),
  'the model''s published reference values for ''This is an example sentence''');

select ok(1 - (rag.embed('A man is eating food.') <=> rag.embed('A man is eating a piece of bread.')) between 0.70 and 0.80,
  'related sentences: cosine similarity about 0.755');
select ok(1 - (rag.embed('A man is eating food.') <=> rag.embed('The new movie is awesome.')) < 0.2,
  'unrelated sentences: cosine similarity below 0.2');
select ok(rag.embed(null) is null and rag.embed_batch(null) is null, 'null in, null out');

-- A batch (of more than 16, of mixed lengths, a null among them) gives each text what rag.embed gives it.
create temp table t_texts as
select n, t from unnest(array['A man is eating food.', 'x', '', 'Café crème brûlée — naïve façade!',
  repeat('The quick brown fox jumps over the lazy dog. ', 80), null, 'Two men pushed carts through the woods.',
  'A monkey is playing drums.', 'A cheetah is running behind its prey.', 'The cat sits outside', 'Do you like pizza?',
  'How far is it to Paris?', '東京は日本の首都です。', 'emoji 🎉 party', 'third-party API v2.1 (beta) — rate-limited @ 30/min',
  'The girl is carrying a baby.', 'A man is playing guitar', 'Someone in a gorilla costume is playing a set of drums.',
  'The new movie is awesome', 'A man is riding a white horse on an enclosed ground.']) with ordinality as x(t, n);
create temp table t_batch as select rag.embed_batch(array(select t from t_texts order by n)) as vs;
select ok(
  (select cardinality(vs) = 20 from t_batch)
  and (select bool_and(case when x.t is null then b.vs[x.n] is null
                            else (select max(abs(a - c)) from unnest(b.vs[x.n]::real[], rag.embed(x.t)::real[]) as z(a, c)) <= 1e-6 end)
         from t_texts x, t_batch b),
  'embed_batch: each text''s rag.embed, in order, a null for a null');

-- Longer than the model reads: cut at 256 tokens, as sentence-transformers does.
select ok(vector_dims(rag.embed(repeat('alpha beta ', 300))) = 384 and abs(vector_norm(rag.embed(repeat('alpha beta ', 300))) - 1) < 1e-6,
  'a text of 600 tokens is embedded');
select ok(rag.embed(repeat('alpha beta ', 300)) = rag.embed(repeat('alpha beta ', 400)), 'what lies past 256 tokens is not read');

select tests.authenticate_as('authenticated', gen_random_uuid(), gen_random_uuid(), 'viewer');
select is(vector_dims(rag.embed('callable by a request role')), 384, 'authenticated may call rag.embed');
select tests.clear_authentication();

-- The query vector is computed once at plan time (IMMUTABLE), so an HNSW index (cosine) orders the
-- rows: with enough rows (here 3000 random unit-ish vectors) the planner picks it by itself.
create temp table t_items (id int primary key, e vector(384));
select setseed(0.25);
insert into t_items select i, (select array_agg(random() - 0.5) from generate_series(1, 384) where i > 0)::vector
  from generate_series(1, 3000) i;
create index on t_items using hnsw (e vector_cosine_ops);
analyze t_items;
create function pg_temp.plan_of(query text) returns text language plpgsql as $$
declare
  plan json;
begin
  execute 'explain (format json) ' || query into plan;
  return plan::text;
end $$;
select ok(pg_temp.plan_of($$select id from t_items order by e <=> rag.embed('x') limit 5$$) like '%"Index Scan"%',
  'order by e <=> rag.embed(…) limit 5 uses the HNSW index');

select * from finish();
rollback;
