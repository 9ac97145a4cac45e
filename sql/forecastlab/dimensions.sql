-- requires: forecastlab/common.sql
-- ForecastLab dimensions (forecastlab-contract-details.md §5): stores and products, 1-indexed
-- pages, exact filters, a case-insensitive search of at least 2 characters, and an allow-listed
-- sort (an unknown sort_by or sort_order falls back to the default, code or sku ascending, as the
-- spec says). Every function runs as the caller; RLS keeps each account to its own rows.

-- `%` and `_` in a search term are literal characters, not wildcards.
create or replace function forecast.like_pattern(term text) returns text
language sql immutable set search_path = '' as $$
  select '%' || pg_catalog.replace(pg_catalog.replace(pg_catalog.replace(term, '\', '\\'), '%', '\%'), '_', '\_') || '%'
$$;

-- Store = {id, code, name, region, city, store_type, created_at, updated_at}.
create or replace function forecast.store_json(s forecast.stores) returns jsonb
language sql stable set search_path = '' as $$
  select pg_catalog.jsonb_build_object('id', s.id, 'code', s.store_code, 'name', s.name, 'region', s.region,
    'city', s.city, 'store_type', s.store_type, 'created_at', util.iso(s.created_at), 'updated_at', util.iso(s.updated_at))
$$;

-- Product = {id, sku, name, category, brand, base_price, base_cost, created_at, updated_at}; the
-- prices are decimals, so strings ("2.50"), as the contract prints them.
create or replace function forecast.product_json(p forecast.products) returns jsonb
language sql stable set search_path = '' as $$
  select pg_catalog.jsonb_build_object('id', p.id, 'sku', p.sku, 'name', p.name, 'category', p.category, 'brand', p.brand,
    'base_price', forecast.money_text(p.base_price), 'base_cost', forecast.money_text(p.base_cost),
    'created_at', util.iso(p.created_at), 'updated_at', util.iso(p.updated_at))
$$;

-- updated_at follows every change of a store or product.
create or replace function forecast.tg_dimension__touch() returns trigger
language plpgsql volatile set search_path = '' as $$
begin
  new.updated_at := pg_catalog.now();
  return new;
end $$;
drop trigger if exists tg_stores__touch on forecast.stores;
create trigger tg_stores__touch before update on forecast.stores
  for each row when (old is distinct from new) execute function forecast.tg_dimension__touch();
drop trigger if exists tg_products__touch on forecast.products;
create trigger tg_products__touch before update on forecast.products
  for each row when (old is distinct from new) execute function forecast.tg_dimension__touch();

-- One page of a dimension (stores or products) as {<plural>: [...], total, page, page_size}:
-- exact filters (a null value filters nothing), a case-insensitive search over some columns, and
-- an ORDER BY from the allow-list (API name → column): an unknown sort_by falls back to the default
-- column, an unknown sort_order to ascending (the id breaks ties, so pages never overlap). Identifiers come from the callers
-- below, values are parameters.
drop function if exists forecast.dimension_page(text, text[], text[], text[], text, text[], integer, integer, text, text);
create or replace function forecast.dimension_page(dimension text, exact_columns text[], exact_values text[], search_columns text[],
                                                   search text, sortable jsonb, default_sort text, page integer, page_size integer,
                                                   sort_by text, sort_order text)
returns jsonb
language plpgsql stable set search_path = '' as $$
declare
  known constant boolean := sortable ? coalesce(sort_by, '');
  direction constant text := case when pg_catalog.lower(sort_order) = 'desc' then 'desc' else 'asc' end;
  ordering constant text := pg_catalog.format('%I %s, id %s', case when known then sortable ->> sort_by else default_sort end,
                                              direction, direction);
  filter text := 'account_id = $1';
  total integer;
  items jsonb;
begin
  perform forecast.require_between('page', page, 1, 1000000);
  perform forecast.require_between('page_size', page_size, 1, 100);
  if pg_catalog.length(search) < 2 then
    perform forecast.invalid('search', 'String should have at least 2 characters', 'string_too_short');
  end if;
  for i in 1 .. pg_catalog.cardinality(exact_columns) loop
    filter := filter || pg_catalog.format(' and ($2[%s] is null or %I = $2[%s])', i, exact_columns[i], i);
  end loop;
  filter := filter || ' and ($3 is null or ' || (select pg_catalog.string_agg(pg_catalog.format('%I ilike forecast.like_pattern($3)', c), ' or ')
                                                   from pg_catalog.unnest(search_columns) c) || ')';
  execute pg_catalog.format('select count(*) from forecast.%I where %s', dimension || 's', filter)
    into total using util.require_account(), exact_values, search;
  execute pg_catalog.format('select coalesce(jsonb_agg(forecast.%I(x::forecast.%I) order by %s), ''[]'')
                               from (select * from forecast.%I where %s order by %s limit $4 offset $5) x',
                            dimension || '_json', dimension || 's', ordering, dimension || 's', filter, ordering)
    into items using util.require_account(), exact_values, search, page_size, (page - 1) * page_size;
  return pg_catalog.jsonb_build_object(dimension || 's', items, 'total', total, 'page', page, 'page_size', page_size);
end $$;

create or replace function api.list_stores(page integer default 1, page_size integer default 20, region text default null,
                                           store_type text default null, search text default null,
                                           sort_by text default null, sort_order text default null)
returns jsonb
language sql stable set search_path = '' as $$
  select forecast.dimension_page('store', array['region', 'store_type'], array[region, store_type], array['store_code', 'name'], search,
                                 '{"code": "store_code", "name": "name", "region": "region", "city": "city", "store_type": "store_type",
                                   "created_at": "created_at", "updated_at": "updated_at", "id": "id"}', 'store_code',
                                 page, page_size, sort_by, sort_order)
$$;
comment on function api.list_stores(integer, integer, text, text, text, text, text) is
  'Stores, 1-indexed pages (page_size 1-100); filter by region and store_type; search code and name (case-insensitive, at least 2 characters); sort_by code (default), name, region, city, store_type, created_at, updated_at or id.';

create or replace function api.get_store(store_id bigint) returns jsonb
language sql stable set search_path = '' as $$
  select util.found((select forecast.store_json(s) from forecast.stores s where s.id = store_id and s.account_id = util.require_account()),
                    pg_catalog.format('Store %s not found', store_id))
$$;
comment on function api.get_store(bigint) is 'One store; 404 when it is not one of the account''s.';

create or replace function api.list_products(page integer default 1, page_size integer default 20, category text default null,
                                             brand text default null, search text default null,
                                             sort_by text default null, sort_order text default null)
returns jsonb
language sql stable set search_path = '' as $$
  select forecast.dimension_page('product', array['category', 'brand'], array[category, brand], array['sku', 'name'], search,
                                 '{"sku": "sku", "name": "name", "category": "category", "brand": "brand", "base_price": "base_price",
                                   "base_cost": "base_cost", "created_at": "created_at", "updated_at": "updated_at", "id": "id"}', 'sku',
                                 page, page_size, sort_by, sort_order)
$$;
comment on function api.list_products(integer, integer, text, text, text, text, text) is
  'Products, 1-indexed pages (page_size 1-100); filter by category and brand; search sku and name (case-insensitive, at least 2 characters); sort_by sku (default), name, category, brand, base_price, base_cost, created_at, updated_at or id.';

create or replace function api.get_product(product_id bigint) returns jsonb
language sql stable set search_path = '' as $$
  select util.found((select forecast.product_json(p) from forecast.products p where p.id = product_id and p.account_id = util.require_account()),
                    pg_catalog.format('Product %s not found', product_id))
$$;
comment on function api.get_product(bigint) is 'One product; 404 when it is not one of the account''s.';

grant execute on function forecast.like_pattern(text), forecast.store_json(forecast.stores), forecast.product_json(forecast.products),
  forecast.dimension_page(text, text[], text[], text[], text, jsonb, text, integer, integer, text, text) to authenticated, service_role;
grant execute on function api.list_stores(integer, integer, text, text, text, text, text), api.get_store(bigint),
  api.list_products(integer, integer, text, text, text, text, text), api.get_product(bigint) to authenticated, service_role;
