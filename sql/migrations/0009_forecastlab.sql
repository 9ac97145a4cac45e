-- ForecastLab: a retailer's stores, products, daily sales, inventory snapshots, promotions and
-- prices, and the phase-2 tables (lifecycle, replenishment, exogenous signals, returns). Every row
-- belongs to an account; RLS is forced (policies: sql/policies/forecastlab.sql).

-- Keeps the sales rollups (trigger functions run as it), so members can read the rollups but
-- never write them. It cannot log in.
do $$
begin
  if not exists (select from pg_roles where rolname = 'forecast_system') then
    create role forecast_system nologin noinherit;
  end if;
end $$;
grant forecast_system to current_user;

create schema forecast;
comment on schema forecast is 'ForecastLab data (private): read and write it through the api functions.';
revoke all on schema forecast from public;
grant usage on schema forecast to authenticated, service_role, forecast_system;

create table forecast.stores (
  id         bigint generated always as identity primary key,
  account_id uuid not null,
  store_code text not null check (length(store_code) between 1 and 50),
  name       text not null,
  region     text not null default 'unassigned',
  store_type text not null default 'standard',
  city       text,
  created_at timestamptz not null default now(),
  unique (account_id, store_code)
);
create index stores_account_name_idx on forecast.stores (account_id, lower(name));

create table forecast.products (
  id         bigint generated always as identity primary key,
  account_id uuid not null,
  sku        text not null check (length(sku) between 1 and 50),
  name       text not null,
  category   text not null default 'general',
  brand      text not null default 'generic',
  base_price numeric(10, 2) not null check (base_price >= 0),
  created_at timestamptz not null default now(),
  unique (account_id, sku)
);
create index products_account_category_idx on forecast.products (account_id, category);

-- Shared by every account: a day and how the calendar describes it.
create table forecast.calendar (
  date         date primary key,
  day_of_week  smallint not null,  -- ISO: 1 Monday … 7 Sunday
  iso_week     smallint not null,
  month        smallint not null,
  quarter      smallint not null,
  year         smallint not null,
  is_weekend   boolean not null
);
insert into forecast.calendar
select d, extract(isodow from d), extract(week from d), extract(month from d), extract(quarter from d), extract(year from d),
       extract(isodow from d) >= 6
  from generate_series(date '2015-01-01', date '2040-12-31', interval '1 day') d;

-- One row per store, product and day. The natural key (store_code, sku, date) of an ingested row
-- resolves to (store_id, product_id, date).
create table forecast.sales_daily (
  account_id   uuid not null,
  store_id     bigint not null references forecast.stores on delete cascade,
  product_id   bigint not null references forecast.products on delete cascade,
  date         date not null,
  quantity     integer not null check (quantity >= 0),
  unit_price   numeric(10, 2) not null check (unit_price >= 0),
  total_amount numeric(12, 2) not null check (total_amount >= 0),
  primary key (store_id, product_id, date)
);
create index sales_daily_product_date_idx on forecast.sales_daily (product_id, date);
create index sales_daily_account_date_idx on forecast.sales_daily (account_id, date);

-- Kept by triggers on sales_daily (forecastlab_rollups.sql): what the analytics read instead of
-- millions of sales rows. `transactions` counts sales rows (a store selling a product on a day).
create table forecast.sales_by_store_day (
  account_id   uuid not null,
  store_id     bigint not null references forecast.stores on delete cascade,
  date         date not null,
  revenue      numeric(16, 2) not null,
  units        bigint not null,
  transactions bigint not null,
  primary key (account_id, date, store_id)
);
create index sales_by_store_day_store_idx on forecast.sales_by_store_day (store_id, date);

create table forecast.sales_by_product_day (
  account_id   uuid not null,
  product_id   bigint not null references forecast.products on delete cascade,
  date         date not null,
  revenue      numeric(16, 2) not null,
  units        bigint not null,
  transactions bigint not null,
  primary key (account_id, date, product_id)
);
create index sales_by_product_day_product_idx on forecast.sales_by_product_day (product_id, date);

create table forecast.inventory_snapshot_daily (
  account_id   uuid not null,
  store_id     bigint not null references forecast.stores on delete cascade,
  product_id   bigint not null references forecast.products on delete cascade,
  date         date not null,
  on_hand_qty  integer not null check (on_hand_qty >= 0),
  on_order_qty integer not null default 0 check (on_order_qty >= 0),
  is_stockout  boolean not null default false,
  primary key (store_id, product_id, date)
);
create index inventory_snapshot_account_idx on forecast.inventory_snapshot_daily (account_id, store_id, product_id, date desc);
create index inventory_snapshot_product_idx on forecast.inventory_snapshot_daily (product_id);

create table forecast.promotions (
  id           bigint generated always as identity primary key,
  account_id   uuid not null,
  product_id   bigint not null references forecast.products on delete cascade,
  store_id     bigint references forecast.stores on delete cascade,  -- null: every store
  start_date   date not null,
  end_date     date not null check (end_date >= start_date),
  discount_pct numeric(5, 2) not null check (discount_pct between 0 and 100),
  kind         text not null default 'price_discount'
);
create index promotions_account_idx on forecast.promotions (account_id, product_id, start_date);
create index promotions_product_idx on forecast.promotions (product_id);
create index promotions_store_idx on forecast.promotions (store_id);

create table forecast.price_history (
  account_id uuid not null,
  product_id bigint not null references forecast.products on delete cascade,
  store_id   bigint not null references forecast.stores on delete cascade,
  valid_from date not null,
  valid_to   date,
  price      numeric(10, 2) not null check (price >= 0),
  primary key (store_id, product_id, valid_from)
);
create index price_history_product_idx on forecast.price_history (product_id);
create index price_history_account_idx on forecast.price_history (account_id);

-- Phase 2 (POST /seeder/phase2-enrichment).
create table forecast.product_lifecycle (
  account_id uuid not null,
  product_id bigint not null references forecast.products on delete cascade,
  stage      text not null check (stage in ('launch', 'growth', 'mature', 'decline', 'discontinued')),
  start_date date not null,
  end_date   date,
  primary key (product_id, start_date)
);
create index product_lifecycle_account_idx on forecast.product_lifecycle (account_id);

create table forecast.replenishment_orders (
  id             bigint generated always as identity primary key,
  account_id     uuid not null,
  store_id       bigint not null references forecast.stores on delete cascade,
  product_id     bigint not null references forecast.products on delete cascade,
  order_date     date not null,
  received_date  date,
  quantity       integer not null check (quantity > 0),
  lead_time_days integer
);
create index replenishment_account_idx on forecast.replenishment_orders (account_id, order_date);
create index replenishment_store_idx on forecast.replenishment_orders (store_id);
create index replenishment_product_idx on forecast.replenishment_orders (product_id);

create table forecast.exogenous_signals (
  id          bigint generated always as identity primary key,
  account_id  uuid not null,
  store_id    bigint references forecast.stores on delete cascade,  -- null: every store
  date        date not null,
  signal_type text not null check (signal_type in ('holiday', 'weather_temperature', 'weather_precipitation', 'event')),
  value       numeric not null,
  label       text
);
create index exogenous_signals_account_idx on forecast.exogenous_signals (account_id, date);
create index exogenous_signals_store_idx on forecast.exogenous_signals (store_id);

create table forecast.returns (
  id         bigint generated always as identity primary key,
  account_id uuid not null,
  store_id   bigint not null references forecast.stores on delete cascade,
  product_id bigint not null references forecast.products on delete cascade,
  date       date not null,
  quantity   integer not null check (quantity > 0),
  reason     text not null default 'unspecified'
);
create index returns_account_idx on forecast.returns (account_id, date);
create index returns_store_idx on forecast.returns (store_id);
create index returns_product_idx on forecast.returns (product_id);

do $$
declare
  t text;
begin
  for t in select c.relname from pg_class c where c.relnamespace = 'forecast'::regnamespace and c.relkind = 'r' loop
    execute format('alter table forecast.%I enable row level security, force row level security', t);
  end loop;
end $$;

grant select on all tables in schema forecast to authenticated, service_role;
grant insert, update, delete on forecast.stores, forecast.products, forecast.sales_daily,
  forecast.inventory_snapshot_daily, forecast.promotions, forecast.price_history,
  forecast.product_lifecycle, forecast.replenishment_orders, forecast.exogenous_signals, forecast.returns
  to authenticated, service_role;
grant select, insert, update, delete on forecast.sales_by_store_day, forecast.sales_by_product_day to forecast_system;
