-- requires: core/auth.sql
-- Hot Dash row-level security, for every table of the schema that carries an account_id (so a new
-- table gets the same rules): members read their shop; the service role also writes it; the rollup
-- owner reads every shop (its views are filtered by account when read, see hotdash_api.sql).
do $$
declare
  t text;
begin
  for t in
    select c.relname from pg_class c
     where c.relnamespace = 'hotdash'::regnamespace and c.relkind = 'r'
       and exists (select from pg_attribute a where a.attrelid = c.oid and a.attname = 'account_id' and not a.attisdropped)
  loop
    execute format('drop policy if exists "Members read their shop" on hotdash.%I', t);
    execute format('create policy "Members read their shop" on hotdash.%I for select to authenticated, service_role
                      using (account_id = (select auth.account_id()))', t);
    execute format('drop policy if exists "The service role writes its shop" on hotdash.%I', t);
    execute format('create policy "The service role writes its shop" on hotdash.%I for all to service_role
                      using (account_id = (select auth.account_id())) with check (account_id = (select auth.account_id()))', t);
    execute format('drop policy if exists "Rollups read every shop" on hotdash.%I', t);
    execute format('create policy "Rollups read every shop" on hotdash.%I for select to hotdash_rollup using (true)', t);
  end loop;
end $$;
