-- requires: functions/util.sql
-- ForecastLab dimensions: stores and products, 1-indexed pages, filters, case-insensitive search
-- and an allow-listed sort (an unknown sort_by or sort_order falls back to the default, as the
-- spec says). Every function runs as the caller; RLS keeps each account to its own rows.

-- `%` and `_` in a search term are literal characters, not wildcards.
create or replace function forecast.like_pattern(term text) returns text
language sql immutable set search_path = '' as $$
  select '%' || pg_catalog.replace(pg_catalog.replace(pg_catalog.replace(term, '\', '\\'), '%', '\%'), '_', '\_') || '%'
$$;

create or replace function forecast.store_json(s forecast.stores) returns jsonb
language sql stable set search_path = '' as $$
  select pg_catalog.jsonb_build_object('id', s.id, 'store_code', s.store_code, 'name', s.name, 'region', s.region,
    'store_type', s.store_type, 'city', s.city, 'created_at', util.iso(s.created_at))
$$;

create or replace function forecast.product_json(p forecast.products) returns jsonb
language sql stable set search_path = '' as $$
  select pg_catalog.jsonb_build_object('id', p.id, 'sku', p.sku, 'name', p.name, 'category', p.category, 'brand', p.brand,
    'base_price', p.base_price, 'created_at', util.iso(p.created_at))
$$;

-- The ORDER BY of a listing: the column if it is on the allow-list, else the default; asc or desc
-- (anything else: asc). The id breaks ties so pages never overlap.
create or replace function forecast.order_by(sort_by text, sort_order text, allowed text[], fallback text) returns text
language sql immutable set search_path = '' as $$
  select pg_catalog.format('%I %s, id %s',
    case when sort_by = any (allowed) then sort_by else fallback end,
    case when pg_catalog.lower(sort_order) = 'desc' then 'desc' else 'asc' end,
    case when pg_catalog.lower(sort_order) = 'desc' then 'desc' else 'asc' end)
$$;

create or replace function api.list_stores(page integer default 1, page_size integer default 20, region text default null,
                                           store_type text default null, search text default null,
                                           sort_by text default null, sort_order text default null)
returns jsonb
language plpgsql stable set search_path = '' as $$
declare
  account uuid := util.require_account();
  filter constant text := 'account_id = $1 and ($2 is null or region = $2) and ($3 is null or store_type = $3)
                           and ($4 is null or store_code ilike forecast.like_pattern($4) or name ilike forecast.like_pattern($4))';
  total integer;
  items jsonb;
begin
  perform util.require_range('page', page, 1, 1000000);
  perform util.require_range('page_size', page_size, 1, 100);
  execute 'select count(*) from forecast.stores where ' || filter into total using account, region, store_type, search;
  execute pg_catalog.format('select coalesce(jsonb_agg(forecast.store_json(s::forecast.stores) order by %1$s), ''[]'')
                               from (select * from forecast.stores where %2$s order by %1$s limit $5 offset $6) s',
      forecast.order_by(sort_by, sort_order, array['id', 'store_code', 'name', 'region', 'store_type', 'created_at'], 'id'), filter)
    into items using account, region, store_type, search, page_size, (page - 1) * page_size;
  return pg_catalog.jsonb_build_object('stores', items, 'total', total, 'page', page, 'page_size', page_size);
end $$;
comment on function api.list_stores(integer, integer, text, text, text, text, text) is
  'Stores, 1-indexed pages; filter by region and store_type; search code and name (case-insensitive); sort_by id, store_code, name, region, store_type or created_at.';

create or replace function api.get_store(store_id bigint) returns jsonb
language plpgsql stable set search_path = '' as $$
declare
  result jsonb;
begin
  select forecast.store_json(s) into result from forecast.stores s where s.id = store_id and s.account_id = util.require_account();
  if result is null then
    raise exception 'store % not found', store_id using errcode = 'PT404';
  end if;
  return result;
end $$;
comment on function api.get_store(bigint) is 'One store.';

create or replace function api.list_products(page integer default 1, page_size integer default 20, category text default null,
                                             brand text default null, search text default null,
                                             sort_by text default null, sort_order text default null)
returns jsonb
language plpgsql stable set search_path = '' as $$
declare
  account uuid := util.require_account();
  filter constant text := 'account_id = $1 and ($2 is null or category = $2) and ($3 is null or brand = $3)
                           and ($4 is null or sku ilike forecast.like_pattern($4) or name ilike forecast.like_pattern($4))';
  total integer;
  items jsonb;
begin
  perform util.require_range('page', page, 1, 1000000);
  perform util.require_range('page_size', page_size, 1, 100);
  execute 'select count(*) from forecast.products where ' || filter into total using account, category, brand, search;
  execute pg_catalog.format('select coalesce(jsonb_agg(forecast.product_json(p::forecast.products) order by %1$s), ''[]'')
                               from (select * from forecast.products where %2$s order by %1$s limit $5 offset $6) p',
      forecast.order_by(sort_by, sort_order, array['id', 'sku', 'name', 'category', 'brand', 'base_price', 'created_at'], 'id'), filter)
    into items using account, category, brand, search, page_size, (page - 1) * page_size;
  return pg_catalog.jsonb_build_object('products', items, 'total', total, 'page', page, 'page_size', page_size);
end $$;
comment on function api.list_products(integer, integer, text, text, text, text, text) is
  'Products, 1-indexed pages; filter by category and brand; search sku and name (case-insensitive); sort_by id, sku, name, category, brand, base_price or created_at.';

create or replace function api.get_product(product_id bigint) returns jsonb
language plpgsql stable set search_path = '' as $$
declare
  result jsonb;
begin
  select forecast.product_json(p) into result from forecast.products p where p.id = product_id and p.account_id = util.require_account();
  if result is null then
    raise exception 'product % not found', product_id using errcode = 'PT404';
  end if;
  return result;
end $$;
comment on function api.get_product(bigint) is 'One product.';

grant execute on function forecast.like_pattern(text), forecast.store_json(forecast.stores), forecast.product_json(forecast.products),
  forecast.order_by(text, text, text[], text) to authenticated, service_role;
grant execute on function api.list_stores(integer, integer, text, text, text, text, text), api.get_store(bigint),
  api.list_products(integer, integer, text, text, text, text, text), api.get_product(bigint) to authenticated, service_role;
