-- requires: flowpilot/trees.sql
-- FlowPilot troubleshooting sessions: a user walks a tree, answering one question at a time.
-- RLS shows users their own sessions and engineers and admins their account's; only the owner
-- walks a session.

create or replace function flowpilot.session_node(s flowpilot.sessions, node_id text) returns jsonb
language sql stable set search_path = '' as $$
  select n from pg_catalog.jsonb_array_elements(s.nodes) n where n ->> 'id' = node_id
$$;

create or replace function flowpilot.session_json(s flowpilot.sessions) returns jsonb
language sql stable set search_path = '' as $$
  select pg_catalog.jsonb_build_object('id', s.id, 'user_id', s.user_id, 'tree_id', s.tree_id, 'tree_title', s.tree_title,
    'tree_version', s.tree_version, 'status', s.status, 'current_node', flowpilot.session_node(s, s.current_node_id),
    'path', s.path, 'notes', s.notes, 'resolution', s.resolution, 'started_at', util.iso(s.started_at),
    'updated_at', util.iso(s.updated_at), 'completed_at', util.iso(s.completed_at))
$$;

-- The session if the caller may see it (404 otherwise, whether it exists elsewhere or not), and,
-- with `for_update`, a 403 unless the caller owns it.
create or replace function flowpilot.visible_session(session_id uuid, for_update boolean) returns flowpilot.sessions
language plpgsql volatile set search_path = '' as $$
declare
  found_session flowpilot.sessions;
begin
  select * into found_session from flowpilot.sessions s where s.id = session_id and s.account_id = util.require_account();
  if found_session.id is null then
    raise exception 'no such session' using errcode = 'PT404';
  end if;
  if for_update then
    if found_session.user_id is distinct from auth.uid() then
      raise exception 'only the user who started a session can change it' using errcode = '42501';
    end if;
    perform from flowpilot.sessions s where s.id = found_session.id for update;
    select * into found_session from flowpilot.sessions s where s.id = session_id;
  end if;
  return found_session;
end $$;

create or replace function api.start_session(tree_id uuid) returns jsonb
language plpgsql volatile set search_path = '' as $$
declare
  account uuid := util.require_account();
  tree flowpilot.trees;
  started flowpilot.sessions;
begin
  if auth.uid() is null then
    raise exception 'sessions belong to a user: your token names none' using errcode = '42501';
  end if;
  select * into tree from flowpilot.trees t where t.id = start_session.tree_id and t.account_id = account;
  if tree.id is null then
    raise exception 'no such tree' using errcode = 'PT404';
  end if;
  insert into flowpilot.sessions (account_id, user_id, tree_id, tree_title, tree_version, nodes, current_node_id)
  values (account, auth.uid(), tree.id, tree.title, tree.version, tree.nodes, tree.root_node_id)
  returning * into started;
  perform pg_catalog.set_config('response.status', '201', true);
  perform pg_catalog.set_config('response.headers', pg_catalog.jsonb_build_object('Location', '/api/v1/sessions/' || started.id)::text, true);
  return flowpilot.session_json(started);
end $$;
comment on function api.start_session(uuid) is 'Starts walking a tree at its root.';

-- Your own sessions; engineers and admins may ask for everyone's in the account (all_users).
create or replace function api.list_sessions(page integer default 1, page_size integer default 20, status text default null,
                                             all_users boolean default false)
returns jsonb
language plpgsql stable set search_path = '' as $$
declare
  account uuid := util.require_account();
  me uuid := auth.uid();
  total integer;
begin
  perform util.require_range('page', page, 1, 100000);
  perform util.require_range('page_size', page_size, 1, 100);
  if status is not null and status not in ('in_progress', 'completed') then
    perform util.validation_error('status', 'must be in_progress or completed');
  end if;
  if all_users then
    perform auth.require_app_role('engineer', 'admin');
  end if;
  select pg_catalog.count(*) into total from flowpilot.sessions s
   where s.account_id = account and (all_users or s.user_id = me) and (list_sessions.status is null or s.status = list_sessions.status);
  return pg_catalog.jsonb_build_object(
    'items', coalesce((select pg_catalog.jsonb_agg(flowpilot.session_json(s) - 'path' order by s.started_at desc, s.id)
                         from (select * from flowpilot.sessions s
                                where s.account_id = account and (all_users or s.user_id = me)
                                  and (list_sessions.status is null or s.status = list_sessions.status)
                                order by s.started_at desc, s.id limit page_size offset (page - 1) * page_size) s), '[]'),
    'total', total, 'page', page, 'page_size', page_size,
    'pages', pg_catalog.ceil(total::numeric / page_size)::integer);
end $$;
comment on function api.list_sessions(integer, integer, text, boolean) is
  'The caller''s sessions, newest first, paged; all_users=true lists the account''s (engineer or admin).';

create or replace function api.get_session(session_id uuid) returns jsonb
language plpgsql volatile set search_path = '' as $$
begin
  return flowpilot.session_json(flowpilot.visible_session(session_id, false));
end $$;
comment on function api.get_session(uuid) is 'One session with its path so far.';

-- `answer` is the label of one of the current node's options: the session moves to the node it
-- leads to, and the path records the question, the answer and when. `notes` replaces the notes.
create or replace function api.update_session(session_id uuid, answer text default null, notes text default null) returns jsonb
language plpgsql volatile set search_path = '' as $$
declare
  walked flowpilot.sessions := flowpilot.visible_session(session_id, true);
  node jsonb;
  next_node text;
begin
  if answer is null and notes is null then
    perform util.validation_error('answer', 'send an answer, notes, or both');
  end if;
  if walked.status = 'completed' then
    raise exception 'the session is completed' using errcode = 'PT409';
  end if;
  if pg_catalog.length(notes) > 20000 then
    perform util.validation_error('notes', 'at most 20000 characters');
  end if;
  if answer is not null then
    node := flowpilot.session_node(walked, walked.current_node_id);
    select o ->> 'next' into next_node from pg_catalog.jsonb_array_elements(coalesce(node -> 'options', '[]')) o
     where o ->> 'label' = answer;
    if next_node is null then
      raise exception 'the current node has no option "%"', answer using errcode = 'PT422',
        detail = pg_catalog.jsonb_build_object('node_id', walked.current_node_id, 'options',
                   coalesce((select pg_catalog.jsonb_agg(o -> 'label') from pg_catalog.jsonb_array_elements(node -> 'options') o), '[]'))::text;
    end if;
    walked.path := walked.path || pg_catalog.jsonb_build_array(pg_catalog.jsonb_build_object(
      'node_id', walked.current_node_id, 'question', node ->> 'text', 'answer', answer, 'at', util.iso(pg_catalog.now())));
    walked.current_node_id := next_node;
  end if;
  update flowpilot.sessions s
     set current_node_id = walked.current_node_id, path = walked.path, notes = coalesce(update_session.notes, s.notes),
         updated_at = pg_catalog.now()
   where s.id = walked.id
  returning * into walked;
  return flowpilot.session_json(walked);
end $$;
comment on function api.update_session(uuid, text, text) is
  'Answers the current question (an option''s label) and/or replaces the notes; owner only.';

create or replace function api.complete_session(session_id uuid, resolution text) returns jsonb
language plpgsql volatile set search_path = '' as $$
declare
  walked flowpilot.sessions := flowpilot.visible_session(session_id, true);
begin
  if walked.status = 'completed' then
    raise exception 'the session is already completed' using errcode = 'PT409';
  end if;
  update flowpilot.sessions s
     set status = 'completed', resolution = flowpilot.require_text('resolution', complete_session.resolution, 5000),
         completed_at = pg_catalog.now(), updated_at = pg_catalog.now()
   where s.id = walked.id
  returning * into walked;
  return flowpilot.session_json(walked);
end $$;
comment on function api.complete_session(uuid, text) is 'Completes a session with its resolution; owner only.';

-- JSON (the session and its steps), or a Markdown transcript to paste into a ticket.
create or replace function api.export_session(session_id uuid, format text default 'json') returns text
language plpgsql volatile set search_path = '' as $$
declare
  s flowpilot.sessions := flowpilot.visible_session(session_id, false);
  steps jsonb;
  transcript text;
begin
  if format is null or format not in ('json', 'markdown') then
    perform util.validation_error('format', 'must be json or markdown');
  end if;
  steps := coalesce((select pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object('actor', st.actor, 'content', st.content,
                                                   'created_at', util.iso(st.created_at)) order by st.created_at, st.id)
                       from flowpilot.ai_session_steps st where st.session_id = s.id), '[]');
  if format = 'json' then
    return (flowpilot.session_json(s) || pg_catalog.jsonb_build_object('steps', steps, 'exported_at', util.iso(pg_catalog.now())))::text;
  end if;
  transcript := pg_catalog.format(E'# %s\n\n- Session: %s\n- Status: %s\n- Started: %s\n', s.tree_title, s.id, s.status, util.iso(s.started_at));
  if s.completed_at is not null then
    transcript := transcript || pg_catalog.format(E'- Completed: %s\n', util.iso(s.completed_at));
  end if;
  transcript := transcript || E'\n## Path\n\n' || coalesce((
    select pg_catalog.string_agg(pg_catalog.format(E'%s. **%s** — %s', p.n, p.step ->> 'question', p.step ->> 'answer'), E'\n' order by p.n)
      from pg_catalog.jsonb_array_elements(s.path) with ordinality as p(step, n)), '(no answers yet)') || E'\n';
  transcript := transcript || pg_catalog.format(E'\nCurrent step: %s\n', flowpilot.session_node(s, s.current_node_id) ->> 'text');
  if s.resolution is not null then
    transcript := transcript || E'\n## Resolution\n\n' || s.resolution || E'\n';
  end if;
  if s.notes <> '' then
    transcript := transcript || E'\n## Notes\n\n' || s.notes || E'\n';
  end if;
  if steps <> '[]' then
    transcript := transcript || E'\n## Steps\n\n' || (
      select pg_catalog.string_agg(pg_catalog.format(E'- %s (%s): %s', st ->> 'created_at', st ->> 'actor', st ->> 'content'), E'\n')
        from pg_catalog.jsonb_array_elements(steps) st) || E'\n';
  end if;
  perform pg_catalog.set_config('response.headers', '{"Content-Type": "text/markdown; charset=utf-8"}', true);
  return transcript;
end $$;
comment on function api.export_session(uuid, text) is 'The session as JSON, or as a Markdown transcript (format=markdown).';

grant execute on function flowpilot.session_node(flowpilot.sessions, text), flowpilot.session_json(flowpilot.sessions),
  flowpilot.visible_session(uuid, boolean) to authenticated, service_role;
grant execute on function api.start_session(uuid), api.list_sessions(integer, integer, text, boolean), api.get_session(uuid),
  api.update_session(uuid, text, text), api.complete_session(uuid, text), api.export_session(uuid, text) to authenticated;
