-- requires: core/catalog.sql
-- OpenAPI 3.1 for every catalog route, from the routes, the functions' signatures and comments.

-- JSON Schema for a SQL type as format_type() prints it.
create or replace function gateway.json_schema(sql_type text) returns jsonb
language sql immutable set search_path = '' as $$
  select case
    when sql_type like '%[]' then jsonb_build_object('type', 'array', 'items', gateway.json_schema(left(sql_type, -2)))
    when sql_type in ('integer', 'smallint', 'bigint') then '{"type": "integer"}'::jsonb
    when sql_type in ('numeric', 'double precision', 'real') then '{"type": "number"}'::jsonb
    when sql_type = 'boolean' then '{"type": "boolean"}'::jsonb
    when sql_type = 'uuid' then '{"type": "string", "format": "uuid"}'::jsonb
    when sql_type = 'date' then '{"type": "string", "format": "date"}'::jsonb
    when sql_type like 'timestamp%' then '{"type": "string", "format": "date-time"}'::jsonb
    when sql_type in ('json', 'jsonb') then '{}'::jsonb
    else '{"type": "string"}'::jsonb
  end
$$;

create or replace function gateway.openapi() returns jsonb
language sql stable set search_path = '' as $$
  with routes as (
    -- `fetched` is the gateway's own argument (outbound requests' answers), never a caller's.
    select c || jsonb_build_object('args', coalesce((select jsonb_agg(a) from jsonb_array_elements(c->'args') a
                                                      where a->>'name' <> 'fetched'), '[]'::jsonb)) as r,
           c->>'path' as path,
           regexp_split_to_array(c->>'path', '/') as segments
      from jsonb_array_elements(gateway.catalog()) c
  ),
  operations as (
    select path, lower(r->>'method') as method, jsonb_strip_nulls(jsonb_build_object(
      -- One function may serve several routes: the id comes from the method and the path.
      'operationId', lower(r->>'method') || regexp_replace(r->>'path', '[^A-Za-z0-9]+', '_', 'g'),
      'summary', nullif(r->>'summary', ''),
      'description', nullif(r->>'description', ''),
      'tags', jsonb_build_array(r->>'tag'),
      'security', case when not (r->'roles') ? 'anon' then '[{"bearerAuth": []}]'::jsonb end,
      'parameters', (
        select coalesce(jsonb_agg(jsonb_build_object(
                 'name', a->>'name',
                 'in', case when '{' || (a->>'name') || '}' = any (segments) then 'path' else 'query' end,
                 'required', '{' || (a->>'name') || '}' = any (segments) or not (a->>'has_default')::boolean,
                 'schema', gateway.json_schema(a->>'type'))), '[]'::jsonb)
          from jsonb_array_elements(r->'args') a
         where '{' || (a->>'name') || '}' = any (segments) or r->>'method' in ('GET', 'DELETE')
      ),
      'requestBody', case when r->>'method' in ('POST', 'PUT', 'PATCH') then jsonb_build_object(
        'content', jsonb_build_object('application/json', jsonb_build_object('schema', jsonb_build_object(
          'type', 'object',
          'properties', (select coalesce(jsonb_object_agg(a->>'name', gateway.json_schema(a->>'type')), '{}'::jsonb)
                           from jsonb_array_elements(r->'args') a where not '{' || (a->>'name') || '}' = any (segments))
                        -- A streamed route also takes the gateway's own `format`.
                        || case when (r->>'streaming')::boolean
                                then '{"format": {"type": "string", "enum": ["json", "csv", "ndjson"], "default": "json"}}'::jsonb
                                else '{}'::jsonb end,
          'required', (select coalesce(jsonb_agg(a->>'name'), '[]'::jsonb)
                         from jsonb_array_elements(r->'args') a
                        where not '{' || (a->>'name') || '}' = any (segments) and not (a->>'has_default')::boolean)))))
      end,
      'responses', jsonb_build_object(
        '200', jsonb_build_object('description', 'Success', 'content', case when (r->>'streaming')::boolean
          then '{"application/json": {"schema": {"type": "array"}}, "text/csv": {"schema": {"type": "string"}}, "application/x-ndjson": {"schema": {"type": "string"}}}'::jsonb
          else '{"application/json": {"schema": {}}}'::jsonb end),
        '400', '{"$ref": "#/components/responses/Problem"}'::jsonb,
        '401', '{"$ref": "#/components/responses/Problem"}'::jsonb,
        '403', '{"$ref": "#/components/responses/Problem"}'::jsonb,
        '429', '{"$ref": "#/components/responses/Problem"}'::jsonb,
        'default', '{"$ref": "#/components/responses/Problem"}'::jsonb)
    )) as operation
    from routes
  )
  select jsonb_build_object(
    'openapi', '3.1.0',
    'info', jsonb_build_object('title', 'Analytics backend', 'version', '1',
      'description', coalesce((select string_agg(u.title || ': ' || u.description, ' · ' order by u.name) from gateway.units u), '')
                     || ' Every route also answers on its unit''s aliases (e.g. /api/v1/… and /api/…).'),
    'paths', coalesce((select jsonb_object_agg(path, methods) from (
        select path, jsonb_object_agg(method, operation) as methods from operations group by path) p), '{}'::jsonb)
      || jsonb_build_object(
        '/health', jsonb_build_object('get', jsonb_build_object('operationId', 'health', 'summary', 'Liveness', 'tags', '["operations"]'::jsonb,
          'responses', jsonb_build_object('200', jsonb_build_object('description', 'The process serves')))),
        '/ready', jsonb_build_object('get', jsonb_build_object('operationId', 'ready', 'summary', 'Readiness: the database answers', 'tags', '["operations"]'::jsonb,
          'responses', jsonb_build_object('200', jsonb_build_object('description', 'Ready'), '503', jsonb_build_object('description', 'Not ready'))))),
    'components', jsonb_build_object(
      'securitySchemes', '{"bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}'::jsonb,
      'responses', jsonb_build_object('Problem', jsonb_build_object(
        'description', 'An error (RFC 9457 problem details, with the error, message, code and details fields clients of every unit read)',
        'content', jsonb_build_object('application/problem+json', jsonb_build_object('schema', '{"$ref": "#/components/schemas/Problem"}'::jsonb)))),
      'schemas', jsonb_build_object('Problem', jsonb_build_object(
        'type', 'object',
        'required', '["type", "title", "status", "code", "message"]'::jsonb,
        'properties', jsonb_build_object(
          'type', '{"type": "string"}'::jsonb, 'title', '{"type": "string"}'::jsonb, 'status', '{"type": "integer"}'::jsonb,
          'detail', '{"type": "string"}'::jsonb, 'instance', '{"type": "string"}'::jsonb, 'error', '{"type": "string"}'::jsonb,
          'message', '{"type": "string"}'::jsonb, 'code', '{"type": "string"}'::jsonb, 'details', '{}'::jsonb,
          'request_id', '{"type": "string"}'::jsonb))))
  )
$$;

grant execute on function gateway.json_schema(text), gateway.openapi() to authenticator;
