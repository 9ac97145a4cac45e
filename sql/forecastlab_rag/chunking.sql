-- requires: forecastlab_rag/embedding.sql
-- requires: forecastlab_rag/tokens.sql
-- How documents become chunks (docs/forecastlab-rag.md, "Chunking"): markdown by heading, an
-- OpenAPI document by operation. A chunk carries its heading path (or its operation line) as its
-- first line, so a section is found by what it is about, not only by its words; a section longer
-- than the model reads (256 tokens) is cut into pieces that each keep that first line.

drop function if exists rag.chunk_markdown(text, integer);
drop function if exists rag.chunk_characters();

-- The version of the chunking below: a source indexed by another is indexed again, even when its
-- content is unchanged. Change it with any change that cuts documents differently.
create or replace function rag.chunker_version() returns text
language sql immutable as $$ select 'markdown-by-heading/2, openapi-by-operation/2, 254 tokens' $$;

-- The most tokens a chunk may have, its heading line included: the model reads 256, [CLS] and
-- [SEP] among them, so a chunk of at most 254 WordPiece tokens is embedded whole.
create or replace function rag.chunk_tokens() returns integer
language sql immutable as $$ select 254 $$;

-- Markdown: one chunk per section (a heading, ATX or setext, and the text up to the next heading
-- of any level); fenced code (``` or ~~~, closed only by the same fence at least as long) is never
-- read as headings. A section longer than chunk_tokens() is cut at paragraph ends, then line
-- ends, then sentence ends, then words, into pieces that each keep the heading path and fit.
-- Tokens are counted by the model's own tokenizer (tokens.sql). metadata: the heading, the
-- heading path ("A > B > C") and its level.
do $do$
begin
  if not exists (select from pg_catalog.pg_language where lanname = 'plpython3u') then
    raise notice 'plpython3u is not available: rag.chunk_markdown is not created';
    return;
  end if;
  execute $fn$
create or replace function rag.chunk_markdown(document text, max_tokens integer default rag.chunk_tokens())
returns table (chunk_index integer, content text, metadata jsonb)
language plpython3u immutable strict set search_path = '' as $py$
import json, re

if 'rag.tokenizer' not in GD:
    plpy.execute("select rag.token_counts('{}'::pg_catalog.text[])")  # loads the tokenizer into GD
tokenizer = GD['rag.tokenizer']
def tokens(text):
    return len(tokenizer.encode(text, add_special_tokens=False).ids)

atx = re.compile(r'^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$')
setext = re.compile(r'^ {0,3}(=+|-+)[ \t]*$')
fence = re.compile(r'^ {0,3}(`{3,}|~{3,})(.*)$')

def cut(text, budget, separators=('\n\n', '\n', '. ', ' ')):
    """Pieces of at most budget tokens, cut at the coarsest separator that works, packed greedily
    back together while they fit."""
    if tokens(text) <= budget:
        return [text]
    if not separators:  # a word longer than the budget: its characters are cut
        half = max(1, len(text) // 2)
        return cut(text[:half], budget, ()) + cut(text[half:], budget, ())
    sep, rest = separators[0], separators[1:]
    parts = [p for p in text.split(sep) if p.strip()]
    if len(parts) == 1:
        return cut(text, budget, rest)
    out, current = [], ''
    for part in parts:
        for piece in cut(part, budget, rest):
            joined = current + sep + piece if current else piece
            if current and tokens(joined) > budget:
                out.append(current)
                current = piece
            else:
                current = joined
    if current:
        out.append(current)
    return out

sections = []
state = {'path': [], 'level': 0, 'body': []}
def flush():
    text = '\n'.join(state['body']).strip()
    if text:
        sections.append((list(state['path']), state['level'], text))
def enter(depth, title):
    flush()
    state['level'] = depth
    state['path'] = state['path'][:depth - 1] + [title]  # a skipped level keeps the path short
    state['body'] = []

open_fence = None
for line in document.splitlines():
    body = state['body']
    found = fence.match(line)
    if open_fence:
        # closed by the same character, at least as long, nothing after it
        if found and found.group(1)[0] == open_fence[0] and len(found.group(1)) >= len(open_fence) and not found.group(2).strip():
            open_fence = None
        body.append(line)
        continue
    if found:
        open_fence = found.group(1)
        body.append(line)
        continue
    heading = atx.match(line)
    if heading and (heading.group(2) or '').strip():
        enter(len(heading.group(1)), heading.group(2).strip())
        continue
    underline = setext.match(line)
    if underline and body and body[-1].strip() and (len(body) == 1 or not body[-2].strip()):
        title = body.pop().strip()
        enter(1 if underline.group(1)[0] == '=' else 2, title)
        continue
    body.append(line)
flush()

index = 0
for headings, depth, text in sections:
    title = ' > '.join(headings)
    budget = max_tokens - (tokens(title + '\n\n') if title else 0)
    for part in cut(text, max(budget, 16)):
        meta = {'section': title, 'heading': headings[-1] if headings else None, 'level': depth}
        yield (index, (title + '\n\n' + part) if title else part, json.dumps(meta))
        index += 1
$py$
$fn$;
  execute 'comment on function rag.chunk_markdown(text, integer) is '
          '''Markdown cut into chunks by heading (longer sections at paragraph, line, sentence and word ends, to max_tokens), each headed by its heading path.''';
  execute 'grant execute on function rag.chunk_markdown(text, integer) to authenticated, service_role';
end $do$;

-- OpenAPI (a JSON document): one chunk per operation — "METHOD path", its summary, description,
-- parameters, request body and responses in words — and one for the document's info. metadata:
-- method, path, operation_id, tags. A document that is not an OpenAPI object is a 422.
create or replace function rag.chunk_openapi(document jsonb)
returns table (chunk_index integer, content text, metadata jsonb)
language plpgsql immutable set search_path = '' as $$
#variable_conflict use_column
begin
  return query
  with operations as (
    select p.key as path, m.key as method, m.value as op, o.n
      from pg_catalog.jsonb_each(document -> 'paths') with ordinality o(key, value, n)
      cross join lateral pg_catalog.jsonb_each(o.value) m
      cross join lateral (select o.key) p(key)
     where pg_catalog.jsonb_typeof(o.value) = 'object'
       and m.key in ('get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace')
       and pg_catalog.jsonb_typeof(m.value) = 'object'
  ), described as (
    select pg_catalog.upper(x.method) || ' ' || x.path
             || coalesce(E'\n' || (x.op ->> 'summary'), '')
             || coalesce(E'\n' || (x.op ->> 'description'), '')
             || coalesce(E'\nParameters: ' || (
                  select pg_catalog.string_agg((prm ->> 'name') || ' (' || coalesce(prm ->> 'in', '?') || ')'
                                               || coalesce(': ' || (prm ->> 'description'), ''), '; ')
                    from pg_catalog.jsonb_array_elements(case when pg_catalog.jsonb_typeof(x.op -> 'parameters') = 'array'
                                                              then x.op -> 'parameters' else '[]' end) prm
                   where pg_catalog.jsonb_typeof(prm) = 'object'), '')
             || coalesce(E'\nRequest body: ' || (x.op #>> '{requestBody,description}'), '')
             || coalesce(E'\nResponses: ' || (
                  select pg_catalog.string_agg(r.key || coalesce(' ' || (r.value ->> 'description'), ''), '; ' order by r.key)
                    from pg_catalog.jsonb_each(case when pg_catalog.jsonb_typeof(x.op -> 'responses') = 'object'
                                                    then x.op -> 'responses' else '{}' end) r
                   where pg_catalog.jsonb_typeof(r.value) = 'object'), '') as content,
           pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object(
             'method', pg_catalog.upper(x.method), 'path', x.path, 'operation_id', x.op ->> 'operationId',
             'tags', case when pg_catalog.jsonb_typeof(x.op -> 'tags') = 'array' then x.op -> 'tags' end,
             'section', pg_catalog.upper(x.method) || ' ' || x.path)) as metadata,
           x.n, x.method
      from operations x
  ), info as (
    select coalesce(document #>> '{info,title}', 'API') || coalesce(' ' || (document #>> '{info,version}'), '')
             || coalesce(E'\n' || (document #>> '{info,description}'), '') as content,
           pg_catalog.jsonb_build_object('section', 'info') as metadata
     where document ? 'info'
  )
  -- Each cut like a markdown section headed by its first line, so none is past the model's limit.
  select (pg_catalog.row_number() over (order by a.k, a.n, a.method, piece.i) - 1)::integer, piece.c, a.m
    from (select x.*, pg_catalog.split_part(x.c, E'\n', 1) as head, pg_catalog.substr(x.c, pg_catalog.strpos(x.c || E'\n', E'\n') + 1) as rest
            from (select 0 as k, 0::bigint as n, '' as method, info.content as c, info.metadata as m from info
                  union all
                  select 1, described.n, described.method, described.content, described.metadata from described) x) a
    cross join lateral (select md.chunk_index as i, md.content as c from rag.chunk_markdown('# ' || a.head || E'\n' || a.rest) md where a.rest <> ''
                        union all
                        select 0, a.c where a.rest = '') piece;
end $$;
comment on function rag.chunk_openapi(jsonb) is 'An OpenAPI document cut into one chunk per operation (and one for its info), each in words.';

grant execute on function rag.chunker_version(), rag.chunk_tokens(), rag.chunk_openapi(jsonb) to authenticated, service_role;
