-- requires: forecastlab_rag/documents.sql
-- POST /rag/index/project-docs (contract details §14): this project's own documentation indexed
-- into the caller's account — docs/**/*.md, the root *.md (README), and PRPs/**/*.md if the project
-- had any (it has none). The files are read by the database server from FORECASTLAB_PROJECT_ROOT
-- in its environment (scripts/db.sh starts it with the checkout; a deployment sets it to where it
-- ships the docs), never from a path a caller names: a caller only narrows docs/ with path_prefix,
-- which must stay inside it.

-- The project's markdown files (path relative to the root, content), sorted. `path_prefix` (already
-- checked for shape) narrows the docs/ scan; the resolved directory must still be inside docs/
-- (a symlink out of it is refused as escaping too).
drop function if exists rag.project_files(text, boolean, boolean, boolean);
do $do$
begin
  if not exists (select from pg_catalog.pg_language where lanname = 'plpython3u') then
    raise notice 'plpython3u is not available: rag.project_files is not created';
    return;
  end if;
  execute $fn$
create or replace function rag.project_files(path_prefix text, include_docs boolean, include_prps boolean, include_root boolean)
returns table (path text, content text, error text)
language plpython3u stable set search_path = '' as $py$
import os
# The server's environment, not a setting: no session can point it elsewhere.
root = os.environ.get('FORECASTLAB_PROJECT_ROOT')
if not root or not os.path.isdir(root):
    plpy.error('FORECASTLAB_PROJECT_ROOT names no directory in the environment of the database server', sqlstate='PT503')
root = os.path.realpath(root)

def inside(full, top):
    return full == top or full.startswith(top + os.sep)

def markdown_under(top, real_top):
    """The .md files under top (a folder, or one file), each resolved inside real_top."""
    if os.path.isfile(top):
        return [top] if top.endswith('.md') and inside(os.path.realpath(top), real_top) else []
    found = []
    for folder, dirs, files in os.walk(top):
        dirs[:] = sorted(d for d in dirs if not d.startswith('.'))
        for name in sorted(files):
            full = os.path.realpath(os.path.join(folder, name))
            if name.endswith('.md') and inside(full, real_top):
                found.append(full)
    return found

files = []
if include_docs:
    real_docs = os.path.realpath(os.path.join(root, 'docs'))
    top = os.path.realpath(os.path.join(root, path_prefix)) if path_prefix else real_docs
    if not inside(top, real_docs):
        plpy.error('path_prefix leaves docs/', sqlstate='PT422')
    files += markdown_under(top, real_docs)
if include_prps:
    prps = os.path.realpath(os.path.join(root, 'PRPs'))
    if inside(prps, root) and os.path.isdir(prps):
        files += markdown_under(prps, prps)
if include_root:
    files += [os.path.realpath(os.path.join(root, n)) for n in sorted(os.listdir(root)) if n.endswith('.md')]
    files = [f for f in files if inside(f, root)]
seen = set()
for full in files:
    if full in seen:
        continue
    seen.add(full)
    relative = os.path.relpath(full, root)
    # One file that cannot be read (a folder named x.md, a FIFO, no permission) is that file's
    # failure, not the request's.
    if not os.path.isfile(full):
        yield (relative, None, 'not a regular file')
        continue
    try:
        with open(full, encoding='utf-8', errors='replace') as f:
            yield (relative, f.read(), None)
    except OSError as problem:
        yield (relative, None, 'unreadable: %s' % problem.strerror)
$py$
$fn$;
  execute 'grant execute on function rag.project_files(text, boolean, boolean, boolean) to authenticated, service_role';
end $do$;

-- path_prefix: a relative path inside docs/ ("docs/forecastlab-rag" or "forecastlab-rag"), in
-- plain segments; anything else (absolute, "..", a backslash) is the contract's 422.
create or replace function rag.docs_prefix(path_prefix text) returns text
language plpgsql immutable set search_path = '' as $$
declare
  cleaned text := pg_catalog.rtrim(path_prefix, '/');
begin
  if path_prefix is null then
    return null;
  end if;
  if cleaned !~ '^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$' or cleaned ~ '(^|/)\.\.?(/|$)' then
    perform forecast_models.invalid_all(pg_catalog.jsonb_build_array(forecast_models.problem('path_prefix',
      'path_prefix must be a relative path inside docs/ (no "..", no leading "/")', 'value_error')));
  end if;
  return case when cleaned = 'docs' or cleaned like 'docs/%' then cleaned else 'docs/' || cleaned end;
end $$;

-- POST /rag/index/project-docs (200, admin): per file {source_path, status, chunks_created,
-- error?} and the totals. A file that fails (an embedding failure aside, which is the whole
-- request's 502) is `failed` with the unit's own reason; the others are indexed regardless.
create or replace function api.rag_index_project_docs(include_docs boolean default true, include_prps boolean default true,
                                                      include_root boolean default true, path_prefix text default null)
returns jsonb
language plpgsql volatile set search_path = '' as $$
declare
  account uuid := util.require_account();
  started timestamptz := pg_catalog.clock_timestamp();
  prefix text := rag.docs_prefix(rag_index_project_docs.path_prefix);
  file record;
  answer jsonb;
  results jsonb := '[]';
  state text;
  message text;
begin
  perform auth.require_app_role('admin');
  begin
    for file in select * from rag.project_files(prefix, coalesce(include_docs, true), coalesce(include_prps, true), coalesce(include_root, true)) loop
      begin
        if file.error is not null then
          raise exception 'The file could not be read (%)', file.error using errcode = 'PT422';
        end if;
        answer := rag.index_document(account, 'markdown', file.path, file.content, '{"origin": "project-docs"}');
        results := results || pg_catalog.jsonb_build_array(pg_catalog.jsonb_build_object(
          'source_path', file.path, 'status', answer ->> 'status', 'chunks_created', (answer ->> 'chunks_created')::integer));
      exception when sqlstate 'PT502' then
        raise;
      when sqlstate 'PT422' then
        get stacked diagnostics message = message_text;
        results := results || pg_catalog.jsonb_build_array(pg_catalog.jsonb_build_object(
          'source_path', file.path, 'status', 'failed', 'chunks_created', 0, 'error', message));
      when others then
        get stacked diagnostics message = message_text;
        raise warning 'rag: project document % failed: %', file.path, message;
        results := results || pg_catalog.jsonb_build_array(pg_catalog.jsonb_build_object(
          'source_path', file.path, 'status', 'failed', 'chunks_created', 0, 'error', 'The document could not be indexed; the server log has the details'));
      end;
    end loop;
  exception when sqlstate 'PT422' then
    perform forecast_models.invalid_all(pg_catalog.jsonb_build_array(forecast_models.problem('path_prefix',
      'path_prefix must stay inside docs/', 'value_error')));
  when sqlstate 'PT503' then
    raise exception 'This database server does not know where the project''s documents are (FORECASTLAB_PROJECT_ROOT)' using errcode = 'PT503';
  end;
  return pg_catalog.jsonb_build_object(
    'results', results, 'total_files', pg_catalog.jsonb_array_length(results),
    'indexed', (select count(*) from pg_catalog.jsonb_array_elements(results) r where r ->> 'status' = 'indexed'),
    'updated', (select count(*) from pg_catalog.jsonb_array_elements(results) r where r ->> 'status' = 'updated'),
    'unchanged', (select count(*) from pg_catalog.jsonb_array_elements(results) r where r ->> 'status' = 'unchanged'),
    'failed', (select count(*) from pg_catalog.jsonb_array_elements(results) r where r ->> 'status' = 'failed'),
    'total_chunks', (select coalesce(sum((r ->> 'chunks_created')::integer), 0) from pg_catalog.jsonb_array_elements(results) r),
    'duration_ms', forecast_models.elapsed_ms(started));
end $$;
comment on function api.rag_index_project_docs(boolean, boolean, boolean, text) is
  'Indexes this project''s own docs/, PRPs/ and root markdown into the account (admin); path_prefix narrows docs/.';

grant execute on function rag.docs_prefix(text), api.rag_index_project_docs(boolean, boolean, boolean, text) to authenticated, service_role;
