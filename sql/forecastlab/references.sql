-- requires: core/auth.sql
-- What sales_daily's foreign keys did, per statement instead of per row (see migration 0011): every
-- row's store and product must exist in the row's account, locked FOR KEY SHARE so they cannot be
-- deleted before the statement commits; deleting a store or product deletes its sales.

create or replace function forecast.tg_sales_daily__references() returns trigger
language plpgsql volatile set search_path = '' as $$
declare
  store_ids bigint[];
  store_accounts uuid[];
  product_ids bigint[];
  product_accounts uuid[];
  orphan record;
begin
  -- One pass over the statement's rows: the (account, store) and (account, product) pairs they name.
  select pg_catalog.array_agg(k.store_id) filter (where k.store_id is not null),
         pg_catalog.array_agg(k.account_id) filter (where k.store_id is not null),
         pg_catalog.array_agg(k.product_id) filter (where k.product_id is not null),
         pg_catalog.array_agg(k.account_id) filter (where k.product_id is not null)
    into store_ids, store_accounts, product_ids, product_accounts
    from (select n.account_id, n.store_id, n.product_id from new_rows n
           group by grouping sets ((n.account_id, n.store_id), (n.account_id, n.product_id))) k;
  perform from forecast.stores s where s.id = any (store_ids) order by s.id for key share;
  perform from forecast.products p where p.id = any (product_ids) order by p.id for key share;
  select u.id as store_id, null::bigint as product_id into orphan
    from rows from (pg_catalog.unnest(store_ids), pg_catalog.unnest(store_accounts)) u(id, account_id)
   where not exists (select from forecast.stores s where s.id = u.id and s.account_id = u.account_id)
   limit 1;
  if not found then
    select null::bigint as store_id, u.id as product_id into orphan
      from rows from (pg_catalog.unnest(product_ids), pg_catalog.unnest(product_accounts)) u(id, account_id)
     where not exists (select from forecast.products p where p.id = u.id and p.account_id = u.account_id)
     limit 1;
  end if;
  if found then
    raise exception 'a sales row refers to %, which is not in its account',
      coalesce('store ' || orphan.store_id, 'product ' || orphan.product_id) using errcode = '23503';
  end if;
  return null;
end $$;

drop trigger if exists tg_sales_daily__references_insert on forecast.sales_daily;
create trigger tg_sales_daily__references_insert after insert on forecast.sales_daily
  referencing new table as new_rows for each statement execute function forecast.tg_sales_daily__references();
drop trigger if exists tg_sales_daily__references_update on forecast.sales_daily;
create trigger tg_sales_daily__references_update after update on forecast.sales_daily
  referencing new table as new_rows for each statement execute function forecast.tg_sales_daily__references();

-- Before each store or product goes, so its sales (and through their trigger, the rollups) go
-- first: the rollups still point at it with foreign keys. A product's sales are found through its
-- account's stores, with the primary key's (store_id, product_id) prefix: sales_daily has no other index.
create or replace function forecast.tg_dimension__delete_sales() returns trigger
language plpgsql volatile set search_path = '' as $$
begin
  if tg_table_name = 'stores' then
    delete from forecast.sales_daily where store_id = old.id;
  else
    delete from forecast.sales_daily
     where store_id in (select s.id from forecast.stores s where s.account_id = old.account_id) and product_id = old.id;
  end if;
  return old;
end $$;
drop trigger if exists tg_stores__delete_sales on forecast.stores;
create trigger tg_stores__delete_sales before delete on forecast.stores
  for each row execute function forecast.tg_dimension__delete_sales();
drop trigger if exists tg_products__delete_sales on forecast.products;
create trigger tg_products__delete_sales before delete on forecast.products
  for each row execute function forecast.tg_dimension__delete_sales();
drop function if exists forecast.tg_stores__delete_sales();
drop function if exists forecast.tg_products__delete_sales();
