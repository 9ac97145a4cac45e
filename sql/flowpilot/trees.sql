-- requires: core/auth.sql
-- requires: core/util.sql
-- FlowPilot decision trees. Every function runs as the caller: RLS decides which account's trees
-- they see, and that only engineers and admins write (admins delete).

-- A 422 that names the node (or option) at fault, in `details`.
create or replace function flowpilot.tree_error(node_id text, problem text) returns void
language plpgsql immutable set search_path = '' as $$
begin
  raise exception 'invalid tree: %', problem
    using errcode = 'PT422',
          detail = pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object('node_id', node_id, 'problem', problem))::text;
end $$;

-- Checks a tree's structure and returns its root: nodes [{id, text, options: [{label, next}]}],
-- unique ids, every option leading to an existing node, exactly one root (the one node no option
-- leads to), and no cycle (so every node is reachable from the root). A node without options is
-- a solution.
create or replace function flowpilot.check_tree(nodes jsonb) returns text
language plpgsql immutable set search_path = '' as $$
declare
  node jsonb;
  option jsonb;
  ids text[] := '{}';
  edges text[][] := '{}';
  roots text[];
  remaining text[];
  sources text[];
begin
  if nodes is null or pg_catalog.jsonb_typeof(nodes) <> 'array' or pg_catalog.jsonb_array_length(nodes) = 0 then
    perform flowpilot.tree_error(null, 'nodes must be a non-empty array');
  end if;
  if pg_catalog.jsonb_array_length(nodes) > 1000 then
    perform flowpilot.tree_error(null, 'a tree has at most 1000 nodes');
  end if;
  for node in select * from pg_catalog.jsonb_array_elements(nodes) loop
    if pg_catalog.jsonb_typeof(node -> 'id') is distinct from 'string' or node ->> 'id' = '' then
      perform flowpilot.tree_error(null, 'every node needs a non-empty string id');
    end if;
    if node ->> 'id' = any (ids) then
      perform flowpilot.tree_error(node ->> 'id', 'duplicate node id');
    end if;
    if pg_catalog.jsonb_typeof(node -> 'text') is distinct from 'string' or pg_catalog.btrim(node ->> 'text') = '' then
      perform flowpilot.tree_error(node ->> 'id', 'the node needs a text');
    end if;
    if node ? 'options' and pg_catalog.jsonb_typeof(node -> 'options') <> 'array' then
      perform flowpilot.tree_error(node ->> 'id', 'options must be an array');
    end if;
    ids := ids || (node ->> 'id');
  end loop;
  for node in select * from pg_catalog.jsonb_array_elements(nodes) loop
    for option in select * from pg_catalog.jsonb_array_elements(coalesce(node -> 'options', '[]')) loop
      if pg_catalog.jsonb_typeof(option -> 'label') is distinct from 'string' or pg_catalog.btrim(option ->> 'label') = '' then
        perform flowpilot.tree_error(node ->> 'id', 'every option needs a label');
      end if;
      if not (option ->> 'next' = any (ids)) or option ->> 'next' is null then
        perform flowpilot.tree_error(node ->> 'id',
          pg_catalog.format('option "%s" leads to %s, which is not a node of this tree', option ->> 'label', coalesce(option ->> 'next', 'nothing')));
      end if;
      edges := edges || array[array[node ->> 'id', option ->> 'next']];
    end loop;
    if (select pg_catalog.count(distinct o ->> 'label') <> pg_catalog.count(*)
          from pg_catalog.jsonb_array_elements(coalesce(node -> 'options', '[]')) o) then
      perform flowpilot.tree_error(node ->> 'id', 'two options of the node have the same label');
    end if;
  end loop;
  roots := array(select i from pg_catalog.unnest(ids) i
                  where not exists (select from pg_catalog.generate_subscripts(edges, 1) e where edges[e][2] = i));
  if pg_catalog.cardinality(roots) = 0 then
    perform flowpilot.tree_error(ids[1], 'the tree has no root: every node is the target of an option, so there is a cycle');
  elsif pg_catalog.cardinality(roots) > 1 then
    perform flowpilot.tree_error(roots[2], pg_catalog.format('more than one root (%s): no option leads to these nodes',
                                                             pg_catalog.array_to_string(roots, ', ')));
  end if;
  -- Kahn: peel off nodes no remaining node leads to; whatever cannot be peeled is on a cycle.
  remaining := ids;
  loop
    sources := array(select r from pg_catalog.unnest(remaining) r
                      where not exists (select from pg_catalog.generate_subscripts(edges, 1) e
                                         where edges[e][2] = r and edges[e][1] = any (remaining)));
    exit when pg_catalog.cardinality(sources) = 0;
    remaining := array(select r from pg_catalog.unnest(remaining) r where r <> all (sources));
  end loop;
  if pg_catalog.cardinality(remaining) > 0 then
    perform flowpilot.tree_error(remaining[1], 'the node is on a cycle');
  end if;
  return roots[1];
end $$;
comment on function flowpilot.check_tree(jsonb) is 'The root of a well-formed tree; a 422 naming the bad node otherwise.';

create or replace function flowpilot.tree_summary(t flowpilot.trees) returns jsonb
language sql stable set search_path = '' as $$
  select pg_catalog.jsonb_build_object('id', t.id, 'title', t.title, 'description', t.description, 'category', t.category,
    'version', t.version, 'node_count', pg_catalog.jsonb_array_length(t.nodes), 'created_by', t.created_by,
    'created_at', util.iso(t.created_at), 'updated_at', util.iso(t.updated_at))
$$;

create or replace function flowpilot.tree_json(t flowpilot.trees) returns jsonb
language sql stable set search_path = '' as $$
  select flowpilot.tree_summary(t) || pg_catalog.jsonb_build_object('root_node_id', t.root_node_id, 'nodes', t.nodes)
$$;

create or replace function flowpilot.require_text(parameter text, value text, max_length integer) returns text
language plpgsql immutable set search_path = '' as $$
begin
  if value is null or pg_catalog.btrim(value) = '' then
    perform util.validation_error(parameter, 'required');
  elsif pg_catalog.length(value) > max_length then
    perform util.validation_error(parameter, pg_catalog.format('at most %s characters', max_length));
  end if;
  return pg_catalog.btrim(value);
end $$;

create or replace function api.list_trees(page integer default 1, page_size integer default 20, category text default null)
returns jsonb
language plpgsql stable set search_path = '' as $$
declare
  account uuid := util.require_account();
  total integer;
begin
  perform util.require_range('page', page, 1, 100000);
  perform util.require_range('page_size', page_size, 1, 100);
  select pg_catalog.count(*) into total from flowpilot.trees t
   where t.account_id = account and (list_trees.category is null or t.category = list_trees.category);
  return pg_catalog.jsonb_build_object(
    'items', coalesce((select pg_catalog.jsonb_agg(flowpilot.tree_summary(t) order by t.title, t.id)
                         from (select * from flowpilot.trees t
                                where t.account_id = account and (list_trees.category is null or t.category = list_trees.category)
                                order by t.title, t.id limit page_size offset (page - 1) * page_size) t), '[]'),
    'total', total, 'page', page, 'page_size', page_size,
    'pages', pg_catalog.ceil(total::numeric / page_size)::integer);
end $$;
comment on function api.list_trees(integer, integer, text) is 'The account''s trees by title, paged (1-based).';

create or replace function api.tree_categories() returns jsonb
language plpgsql stable set search_path = '' as $$
declare
  account uuid := util.require_account();
begin
  return coalesce((select pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object('category', c.category, 'tree_count', c.n) order by c.category)
                     from (select t.category, pg_catalog.count(*) as n from flowpilot.trees t
                            where t.account_id = account group by t.category) c), '[]');
end $$;
comment on function api.tree_categories() is 'The account''s tree categories with the number of trees in each.';

create or replace function api.search_trees(q text, "limit" integer default 20) returns jsonb
language plpgsql stable set search_path = '' as $$
declare
  account uuid := util.require_account();
  query tsquery;
begin
  perform flowpilot.require_text('q', q, 200);
  perform util.require_range('limit', "limit", 1, 100);
  query := pg_catalog.websearch_to_tsquery('english', q);
  return coalesce((
    select pg_catalog.jsonb_agg(flowpilot.tree_summary(t) || pg_catalog.jsonb_build_object('rank', pg_catalog.round(r.rank::numeric, 4))
                                order by r.rank desc, t.title)
      from (select t.id, pg_catalog.ts_rank_cd(t.search, query) as rank from flowpilot.trees t
             where t.account_id = account and t.search operator(pg_catalog.@@) query
             order by rank desc, t.title limit "limit") r
      join flowpilot.trees t on t.id = r.id), '[]');
end $$;
comment on function api.search_trees(text, integer) is
  'Ranked full-text search over titles (weight A), descriptions (B) and node texts (C); web-search syntax.';

create or replace function api.get_tree(tree_id uuid) returns jsonb
language sql stable set search_path = '' as $$
  select util.found((select flowpilot.tree_json(t) from flowpilot.trees t where t.id = tree_id and t.account_id = util.require_account()),
                    'no such tree')
$$;
comment on function api.get_tree(uuid) is 'One tree with its nodes.';

create or replace function api.create_tree(title text, nodes jsonb, description text default '', category text default 'general')
returns jsonb
language plpgsql volatile set search_path = '' as $$
declare
  account uuid := util.require_account();
  created flowpilot.trees;
begin
  perform auth.require_app_role('engineer', 'admin');
  insert into flowpilot.trees (account_id, title, description, category, nodes, root_node_id, created_by)
  values (account, flowpilot.require_text('title', title, 200), coalesce(description, ''),
          flowpilot.require_text('category', category, 100), nodes, flowpilot.check_tree(nodes), auth.uid())
  returning * into created;
  perform pg_catalog.set_config('response.status', '201', true);
  perform pg_catalog.set_config('response.headers',
    pg_catalog.jsonb_build_object('Location', '/api/v1/trees/' || created.id, 'ETag', '"' || created.version || '"')::text, true);
  return flowpilot.tree_json(created);
end $$;
comment on function api.create_tree(text, jsonb, text, text) is 'Creates a tree (engineer or admin); its structure is checked.';

-- `version` is the version the editor read: if someone saved in between, the update is refused
-- (409 with the current version) rather than overwriting their work.
create or replace function api.update_tree(tree_id uuid, version integer, title text default null, nodes jsonb default null,
                                           description text default null, category text default null)
returns jsonb
language plpgsql volatile set search_path = '' as $$
declare
  account uuid := util.require_account();
  current_version integer;
  updated flowpilot.trees;
begin
  perform auth.require_app_role('engineer', 'admin');
  if version is null then
    perform util.validation_error('version', 'required: the version you read, so no one else''s edit is overwritten');
  end if;
  update flowpilot.trees t
     set title = case when update_tree.title is null then t.title else flowpilot.require_text('title', update_tree.title, 200) end,
         description = coalesce(update_tree.description, t.description),
         category = case when update_tree.category is null then t.category else flowpilot.require_text('category', update_tree.category, 100) end,
         nodes = coalesce(update_tree.nodes, t.nodes),
         root_node_id = case when update_tree.nodes is null then t.root_node_id else flowpilot.check_tree(update_tree.nodes) end,
         version = t.version + 1,
         updated_at = pg_catalog.now()
   where t.id = tree_id and t.account_id = account and t.version = update_tree.version
  returning * into updated;
  if updated.id is null then
    select t.version into current_version from flowpilot.trees t where t.id = tree_id and t.account_id = account;
    if current_version is null then
      raise exception 'no such tree' using errcode = 'PT404';
    end if;
    raise exception 'the tree was changed by someone else (now version %)', current_version
      using errcode = 'PT409', detail = pg_catalog.jsonb_build_object('current_version', current_version)::text,
            hint = 'reload the tree and apply your change again';
  end if;
  perform pg_catalog.set_config('response.headers', pg_catalog.jsonb_build_object('ETag', '"' || updated.version || '"')::text, true);
  return flowpilot.tree_json(updated);
end $$;
comment on function api.update_tree(uuid, integer, text, jsonb, text, text) is
  'Updates a tree (engineer or admin). `version` must be the current one, else 409.';

create or replace function api.delete_tree(tree_id uuid) returns jsonb
language plpgsql volatile set search_path = '' as $$
declare
  account uuid := util.require_account();
begin
  perform auth.require_app_role('admin');
  delete from flowpilot.trees t where t.id = tree_id and t.account_id = account;
  if not found then
    raise exception 'no such tree' using errcode = 'PT404';
  end if;
  perform pg_catalog.set_config('response.status', '204', true);
  return null;
end $$;
comment on function api.delete_tree(uuid) is 'Deletes a tree (admin only). Sessions keep their copy of its nodes.';

grant execute on function flowpilot.tree_error(text, text), flowpilot.check_tree(jsonb), flowpilot.tree_summary(flowpilot.trees),
  flowpilot.tree_json(flowpilot.trees), flowpilot.require_text(text, text, integer) to authenticated, service_role;
grant execute on function api.list_trees(integer, integer, text), api.tree_categories(), api.search_trees(text, integer),
  api.get_tree(uuid), api.create_tree(text, jsonb, text, text), api.update_tree(uuid, integer, text, jsonb, text, text),
  api.delete_tree(uuid) to authenticated, service_role;
