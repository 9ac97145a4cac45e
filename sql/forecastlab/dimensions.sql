-- requires: core/util.sql
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

-- One page of a dimension (stores or products) as {<plural>: [...], total, page, page_size}:
-- exact filters (a null value filters nothing), a case-insensitive search over some columns, and
-- an ORDER BY from the allow-list — anything else falls back to id ascending (the id also breaks
-- ties, so pages never overlap). Identifiers come from the callers below, values are parameters.
create or replace function forecast.dimension_page(dimension text, exact_columns text[], exact_values text[], search_columns text[],
                                                   search text, sortable text[], page integer, page_size integer,
                                                   sort_by text, sort_order text)
returns jsonb
language plpgsql stable set search_path = '' as $$
declare
  direction constant text := case when pg_catalog.lower(sort_order) = 'desc' then 'desc' else 'asc' end;
  ordering constant text := pg_catalog.format('%I %s, id %s', case when sort_by = any (sortable) then sort_by else 'id' end, direction, direction);
  filter text := 'account_id = $1';
  total integer;
  items jsonb;
begin
  perform util.require_range('page', page, 1, 1000000);
  perform util.require_range('page_size', page_size, 1, 100);
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
                                 array['id', 'store_code', 'name', 'region', 'store_type', 'created_at'], page, page_size, sort_by, sort_order)
$$;
comment on function api.list_stores(integer, integer, text, text, text, text, text) is
  'Stores, 1-indexed pages; filter by region and store_type; search code and name (case-insensitive); sort_by id, store_code, name, region, store_type or created_at.';

create or replace function api.get_store(store_id bigint) returns jsonb
language sql stable set search_path = '' as $$
  select util.found((select forecast.store_json(s) from forecast.stores s where s.id = store_id and s.account_id = util.require_account()),
                    pg_catalog.format('store %s not found', store_id))
$$;
comment on function api.get_store(bigint) is 'One store.';

create or replace function api.list_products(page integer default 1, page_size integer default 20, category text default null,
                                             brand text default null, search text default null,
                                             sort_by text default null, sort_order text default null)
returns jsonb
language sql stable set search_path = '' as $$
  select forecast.dimension_page('product', array['category', 'brand'], array[category, brand], array['sku', 'name'], search,
                                 array['id', 'sku', 'name', 'category', 'brand', 'base_price', 'created_at'], page, page_size, sort_by, sort_order)
$$;
comment on function api.list_products(integer, integer, text, text, text, text, text) is
  'Products, 1-indexed pages; filter by category and brand; search sku and name (case-insensitive); sort_by id, sku, name, category, brand, base_price or created_at.';

create or replace function api.get_product(product_id bigint) returns jsonb
language sql stable set search_path = '' as $$
  select util.found((select forecast.product_json(p) from forecast.products p where p.id = product_id and p.account_id = util.require_account()),
                    pg_catalog.format('product %s not found', product_id))
$$;
comment on function api.get_product(bigint) is 'One product.';

grant execute on function forecast.like_pattern(text), forecast.store_json(forecast.stores), forecast.product_json(forecast.products),
  forecast.dimension_page(text, text[], text[], text[], text, text[], integer, integer, text, text) to authenticated, service_role;
grant execute on function api.list_stores(integer, integer, text, text, text, text, text), api.get_store(bigint),
  api.list_products(integer, integer, text, text, text, text, text), api.get_product(bigint) to authenticated, service_role;
