-- requires: forecastlab_models/common.sql
-- The V1 feature frame of the feature-aware models (forecastlab-contract-details.md §20): 14
-- columns in a fixed order, for training days and for the days after a forecast origin alike.
--
-- Time safety: a lag cell reads the target only on a day at or before the origin (a training
-- frame's origin is its last day; a future frame's is the training window's end), never a
-- prediction of its own. The other columns read what is known ahead of the day: the calendar,
-- holidays (exogenous_signals 'holiday'), promotions and price_history rows covering the day (a
-- plan is supplied data), the launch date. Without a price_history row the price is the last
-- sale's at or before the day, and never one after the origin.

create or replace function forecast_models.frame_v1_columns() returns text[]
language sql immutable as $$
  select array['lag_1', 'lag_7', 'lag_14', 'lag_28', 'dow_sin', 'dow_cos', 'month_sin', 'month_cos',
               'is_weekend', 'is_month_end', 'price_factor', 'promo_active', 'is_holiday', 'days_since_launch']
$$;

-- The target on a gap-free daily grid from the first observed day to last_day: a day without a
-- sales row sold nothing (the feature sets' default imputation for quantity, zero).
create or replace function forecast_models.daily_grid(dates date[], y double precision[], last_day date,
                                                      out days date[], out values_ double precision[])
language sql immutable set search_path = '' as $$
  select pg_catalog.array_agg(g.day::date order by g.day), pg_catalog.array_agg(coalesce(s.v, 0) order by g.day)
    from pg_catalog.generate_series(dates[1], last_day, interval '1 day') g(day)
    left join unnest(dates, y) s(d, v) on s.d = g.day::date
$$;

-- One row of 14 features per day of `days`. `history_days`/`history_values`: the target on a
-- daily grid; only the part at or before `origin` is read.
create or replace function forecast_models.frame_v1(store_id bigint, product_id bigint, days date[],
                                                    history_days date[], history_values double precision[], origin date)
returns table (day date, features double precision[])
language sql stable set search_path = '' as $$
  with history as (
    select h.d, h.v from unnest(history_days, history_values) h(d, v) where h.d <= origin
  ), product as (
    select coalesce(nullif(p.base_price, 0), 1)::double precision as base_price
      from forecast.products p where p.id = frame_v1.product_id
  ), launch as (
    select coalesce((select min(l.start_date) from forecast.product_lifecycle l
                      where l.product_id = frame_v1.product_id and l.stage = 'launch'),
                    (select min(s.date) from forecast.sales_daily s
                      where s.store_id = frame_v1.store_id and s.product_id = frame_v1.product_id and s.date <= origin)) as day
  ), priced as (
    select d.day,
           coalesce((select ph.price from forecast.price_history ph
                      where ph.store_id = frame_v1.store_id and ph.product_id = frame_v1.product_id
                        and ph.valid_from <= d.day and (ph.valid_to is null or d.day <= ph.valid_to)
                      order by ph.valid_from desc limit 1),
                    (select s.unit_price from forecast.sales_daily s
                      where s.store_id = frame_v1.store_id and s.product_id = frame_v1.product_id
                        and s.date <= least(d.day, origin) order by s.date desc limit 1))::double precision as price
      from pg_catalog.unnest(days) d(day)
  )
  select p.day, array[
           h1.v, h7.v, h14.v, h28.v,
           pg_catalog.sin(2 * pi() * (extract(isodow from p.day) - 1) / 7),
           pg_catalog.cos(2 * pi() * (extract(isodow from p.day) - 1) / 7),
           pg_catalog.sin(2 * pi() * extract(month from p.day) / 12),
           pg_catalog.cos(2 * pi() * extract(month from p.day) / 12),
           (extract(isodow from p.day) >= 6)::integer,
           (extract(month from p.day + 1) <> extract(month from p.day))::integer,
           coalesce(p.price / product.base_price, 1),
           exists (select from forecast.promotions pr
                    where pr.product_id = frame_v1.product_id and (pr.store_id is null or pr.store_id = frame_v1.store_id)
                      and p.day between pr.start_date and pr.end_date)::integer,
           exists (select from forecast.exogenous_signals e
                    where e.signal_type = 'holiday' and e.date = p.day
                      and (e.store_id is null or e.store_id = frame_v1.store_id))::integer,
           greatest(p.day - coalesce(launch.day, p.day), 0)
         ]::double precision[]
    from priced p cross join product cross join launch
    -- Joins rather than a lookup per cell: the planner hashes the history once.
    left join history h1 on h1.d = p.day - 1
    left join history h7 on h7.d = p.day - 7
    left join history h14 on h14.d = p.day - 14
    left join history h28 on h28.d = p.day - 28
   order by p.day
$$;
comment on function forecast_models.frame_v1(bigint, bigint, date[], date[], double precision[], date) is
  'The V1 feature frame (§20, 14 columns) for each day, reading the target only at or before origin.';

grant execute on function forecast_models.frame_v1_columns(), forecast_models.daily_grid(date[], double precision[], date),
  forecast_models.frame_v1(bigint, bigint, date[], date[], double precision[], date) to authenticated, service_role;

-- A future frame row with a supplied plan laid over it (scenarios' model_exogenous method): on the
-- plan's days, price_factor is the frame's own times (1 + change_pct), promo_active is 1, and
-- is_holiday is 1; every other cell, and every day outside the plan, stays as frame_v1 computed it
-- (the lags above all: a plan never reaches them). `supplied` is
-- {"price": {"from", "to", "change_pct"}, "promotion": {"from", "to"}, "holidays": [date, …]}, each
-- part optional, windows inclusive with from <= to; null (or {}) leaves the row as it is.
create or replace function forecast_models.frame_v1_supplied(day date, features double precision[], supplied jsonb)
returns double precision[]
language plpgsql immutable set search_path = '' as $$
declare
  cells double precision[] := features;
  columns constant text[] := forecast_models.frame_v1_columns();
begin
  if supplied is null or pg_catalog.jsonb_typeof(supplied) <> 'object' then
    return features;
  end if;
  if supplied ? 'price' and day between (supplied #>> '{price,from}')::date and (supplied #>> '{price,to}')::date then
    cells[pg_catalog.array_position(columns, 'price_factor')] :=
      cells[pg_catalog.array_position(columns, 'price_factor')] * (1 + (supplied #>> '{price,change_pct}')::double precision);
  end if;
  if supplied ? 'promotion' and day between (supplied #>> '{promotion,from}')::date and (supplied #>> '{promotion,to}')::date then
    cells[pg_catalog.array_position(columns, 'promo_active')] := 1;
  end if;
  if supplied -> 'holidays' @> pg_catalog.to_jsonb(pg_catalog.to_char(day, 'YYYY-MM-DD')) then
    cells[pg_catalog.array_position(columns, 'is_holiday')] := 1;
  end if;
  return cells;
end $$;
comment on function forecast_models.frame_v1_supplied(date, double precision[], jsonb) is
  'A V1 frame row with a supplied plan (price change, promotion window, holiday dates) laid over its price_factor, promo_active and is_holiday.';

grant execute on function forecast_models.frame_v1_supplied(date, double precision[], jsonb) to authenticated, service_role;
