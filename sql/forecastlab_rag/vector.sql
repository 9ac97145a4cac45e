-- pgvector's functions (the vector type's input and typmod casts, its distance operators) for the
-- request roles: the Migrator revokes EXECUTE from PUBLIC on every function created in a migration,
-- the extension's included (0020), and without them a member's `rag.embed(…)::vector(384)` or
-- `embedding <=> q` is "permission denied for function vector". After an `alter extension vector
-- update` that adds functions, change this file (a comment will do) so that `Migrator up` runs it
-- again.
do $$
declare
  fn regprocedure;
begin
  for fn in select p.oid::regprocedure from pg_catalog.pg_proc p
              join pg_catalog.pg_depend d on d.classid = 'pg_catalog.pg_proc'::regclass and d.objid = p.oid and d.deptype = 'e'
              join pg_catalog.pg_extension e on e.oid = d.refobjid and e.extname = 'vector' loop
    execute pg_catalog.format('grant execute on function %s to authenticated, service_role', fn);
  end loop;
end $$;
