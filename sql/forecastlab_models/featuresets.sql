-- requires: forecastlab_models/common.sql
-- POST /featuresets/compute and POST /featuresets/preview (forecastlab-contract-details.md §7):
-- time-safe feature frames of one store and product, as of a cutoff date. Docs:
-- docs/forecastlab-models.md, "Feature sets".
--
-- Time safety, in this order and nowhere relaxed:
--  1. every source is read only up to cutoff_date (sales, inventory and holidays dated after it,
--     price_history rows valid from a later day, promotions starting later: never read), so rows
--     after the cutoff cannot influence any value;
--  2. a feature of day t reads the target and the observed exogenous values (price, inventory,
--     stockouts) only on earlier rows: lags are row shifts k >= 1, rolling windows end one row
--     before t (shift(1) then rolling), price changes start from the previous row;
--  3. only what is known ahead of the day is read on the day itself: the calendar, holidays and
--     promotions covering it (a promotion is a plan with its dates).
-- Imputation reads the frame's own rows; `bfill`, which copies a later day into an earlier gap
-- (so lag_1 of the next row can be that row's own target), is refused.
--
-- The frame is a daily grid, from the first sales row in [cutoff − lookback_days, cutoff] to the
-- cutoff: a day without a sales row has null quantity, unit_price and total_amount, which the
-- imputation strategies fill (quantity zero, unit_price ffill, total_amount zero by default) or
-- drop (`drop` on quantity gives back the sales rows as stored, upstream's frame).

-- FeatureSetConfig (§7) as rules that fs_validate reads: kind, default, bounds, and for a model its
-- fields in declaration order (problems come in that order, as Pydantic lists them). Every model
-- also has schema_version (added by fs_validate). Where upstream takes any string for a column,
-- only the columns this frame has are accepted (upstream fails with a 500 on others).
create or replace function forecast_models.featureset_rules() returns jsonb
language sql immutable as $$
  select '{"kind": "model", "fields": [
    {"name": "name", "kind": "str", "required": true, "min_length": 1, "max_length": 100},
    {"name": "description", "kind": "str", "nullable": true, "default": null},
    {"name": "entity_columns", "kind": "list", "items": {"kind": "enum", "values": ["store_id", "product_id"]},
     "default": ["store_id", "product_id"], "non_empty": "At least one entity column must be specified", "unique": "entity_columns"},
    {"name": "date_column", "kind": "enum", "values": ["date"], "default": "date"},
    {"name": "target_column", "kind": "enum", "values": ["quantity", "unit_price", "total_amount"], "default": "quantity"},
    {"name": "lag_config", "kind": "model", "nullable": true, "default": null, "fields": [
      {"name": "lags", "kind": "list", "items": {"kind": "int", "max": 2147483647}, "default": [1, 7, 14, 28],
       "non_empty": "At least one lag must be specified", "positive": "All lags must be positive integers (no future leakage)", "unique": "lags"},
      {"name": "target_column", "kind": "enum", "values": ["quantity", "unit_price", "total_amount"], "default": "quantity"},
      {"name": "fill_value", "kind": "num", "nullable": true, "default": null}]},
    {"name": "rolling_config", "kind": "model", "nullable": true, "default": null, "check": "min_periods", "fields": [
      {"name": "windows", "kind": "list", "items": {"kind": "int", "max": 2147483647}, "default": [7, 14, 28],
       "non_empty": "At least one window must be specified", "positive": "All windows must be positive integers", "unique": "windows"},
      {"name": "aggregations", "kind": "list", "items": {"kind": "enum", "values": ["mean", "std", "min", "max", "sum"]},
       "default": ["mean", "std"], "unique": "aggregations"},
      {"name": "target_column", "kind": "enum", "values": ["quantity", "unit_price", "total_amount"], "default": "quantity"},
      {"name": "min_periods", "kind": "int", "nullable": true, "default": null, "min": 1, "max": 2147483647}]},
    {"name": "calendar_config", "kind": "model", "nullable": true, "default": null, "fields": [
      {"name": "include_day_of_week", "kind": "bool", "default": true},
      {"name": "include_month", "kind": "bool", "default": true},
      {"name": "include_quarter", "kind": "bool", "default": true},
      {"name": "include_year", "kind": "bool", "default": false},
      {"name": "include_is_weekend", "kind": "bool", "default": true},
      {"name": "include_is_month_end", "kind": "bool", "default": true},
      {"name": "include_is_holiday", "kind": "bool", "default": true},
      {"name": "use_cyclical_encoding", "kind": "bool", "default": true}]},
    {"name": "exogenous_config", "kind": "model", "nullable": true, "default": null, "fields": [
      {"name": "include_price", "kind": "bool", "default": true},
      {"name": "price_lags", "kind": "list", "items": {"kind": "int", "max": 2147483647}, "default": [7, 28],
       "positive": "All price lags must be positive integers", "unique": "price_lags"},
      {"name": "include_price_change", "kind": "bool", "default": true},
      {"name": "include_promo", "kind": "bool", "default": true},
      {"name": "include_inventory", "kind": "bool", "default": false},
      {"name": "include_stockout_flag", "kind": "bool", "default": true}]},
    {"name": "imputation_config", "kind": "model", "nullable": true, "default": null, "fields": [
      {"name": "strategies", "kind": "map", "keys": ["quantity", "unit_price", "total_amount"],
       "values": ["zero", "ffill", "mean", "expanding_mean", "drop"],
       "refused": {"bfill": "bfill is refused: it fills a day from a later day, so a lag or rolling feature of the next row could read that row''s own target; use ffill or expanding_mean"},
       "default": {"quantity": "zero", "unit_price": "ffill", "total_amount": "zero"}}]}
  ]}'::jsonb
$$;

-- Pydantic's words for a literal: "Input should be 'a', 'b' or 'c'".
create or replace function forecast_models.fs_literal_message(values_ jsonb) returns text
language sql immutable set search_path = '' as $$
  select 'Input should be ' || case when n = 1 then quoted[1]
                                    else pg_catalog.array_to_string(quoted[1 : n - 1], ', ') || ' or ' || quoted[n] end
    from (select pg_catalog.array_agg(pg_catalog.quote_literal(v) order by o) as quoted, pg_catalog.count(*)::integer as n
            from pg_catalog.jsonb_array_elements_text(values_) with ordinality x(v, o)) q
$$;

-- One value checked against its rule (featureset_rules): the value with its model's defaults filled,
-- and every problem [{field, message, type}] under `field`, Pydantic's dotted path (list items by
-- index, a bad map key as <key>.[key]). Recursive over models.
create or replace function forecast_models.fs_validate(value jsonb, rule jsonb, field text, out normalized jsonb, out problems jsonb)
language plpgsql immutable set search_path = '' as $$
declare
  kind constant text := rule ->> 'kind';
  type_ constant text := pg_catalog.jsonb_typeof(value);
  fields jsonb;
  sub jsonb;
  part record;
  key text;
  item jsonb;
  position bigint;
  text_ text;
begin
  problems := '[]';
  normalized := value;
  if type_ = 'null' and coalesce((rule ->> 'nullable')::boolean, false) then
    return;
  end if;
  case kind
    when 'model' then
      if type_ is distinct from 'object' then
        problems := pg_catalog.jsonb_build_array(forecast_models.problem(field, 'Input should be a valid dictionary', 'model_attributes_type'));
        return;
      end if;
      fields := '[{"name": "schema_version", "kind": "version", "default": "1.0"}]'::jsonb || (rule -> 'fields');
      normalized := '{}';
      for sub in select f from pg_catalog.jsonb_array_elements(fields) with ordinality x(f, o) order by o loop
        key := sub ->> 'name';
        if value ? key then
          select * into part from forecast_models.fs_validate(value -> key, sub, field || '.' || key);
          problems := problems || part.problems;
          normalized := normalized || pg_catalog.jsonb_build_object(key, part.normalized);
        elsif sub ? 'default' then
          normalized := normalized || pg_catalog.jsonb_build_object(key, sub -> 'default');
        else
          problems := problems || forecast_models.problem(field || '.' || key, 'Field required', 'missing');
        end if;
      end loop;
      for key in select k from pg_catalog.jsonb_object_keys(value) k
                  where not exists (select from pg_catalog.jsonb_array_elements(fields) f where f ->> 'name' = k) order by 1 loop
        problems := problems || forecast_models.problem(field || '.' || key, 'Extra inputs are not permitted', 'extra_forbidden');
      end loop;
      -- pandas refuses min_periods above the window; upstream then fails with a 500.
      if rule ->> 'check' = 'min_periods' and pg_catalog.jsonb_array_length(problems) = 0
         and pg_catalog.jsonb_typeof(normalized -> 'min_periods') = 'number'
         and (normalized ->> 'min_periods')::numeric > (select pg_catalog.min((w #>> '{}')::numeric)
                                                          from pg_catalog.jsonb_array_elements(normalized -> 'windows') w) then
        problems := problems || forecast_models.problem(field || '.min_periods', pg_catalog.format(
          'Value error, min_periods (%s) must not exceed the smallest window (%s)', normalized ->> 'min_periods',
          (select pg_catalog.min((w #>> '{}')::numeric) from pg_catalog.jsonb_array_elements(normalized -> 'windows') w)), 'value_error');
      end if;
    when 'list' then
      if type_ is distinct from 'array' then
        problems := pg_catalog.jsonb_build_array(forecast_models.problem(field, 'Input should be a valid tuple', 'tuple_type'));
        return;
      end if;
      for item, position in select e, o - 1 from pg_catalog.jsonb_array_elements(value) with ordinality x(e, o) order by o loop
        select * into part from forecast_models.fs_validate(item, rule -> 'items', field || '.' || position);
        problems := problems || part.problems;
      end loop;
      if pg_catalog.jsonb_array_length(problems) > 0 then
        return;
      end if;
      if rule ? 'non_empty' and pg_catalog.jsonb_array_length(value) = 0 then
        problems := pg_catalog.jsonb_build_array(forecast_models.problem(field, 'Value error, ' || (rule ->> 'non_empty'), 'value_error'));
      elsif rule ? 'positive' and exists (select from pg_catalog.jsonb_array_elements(value) e where (e #>> '{}')::numeric <= 0) then
        problems := pg_catalog.jsonb_build_array(forecast_models.problem(field, 'Value error, ' || (rule ->> 'positive'), 'value_error'));
      elsif rule ? 'unique' and (select pg_catalog.count(distinct e) <> pg_catalog.count(*) from pg_catalog.jsonb_array_elements(value) e) then
        -- A repeated value would name two feature columns alike.
        problems := pg_catalog.jsonb_build_array(forecast_models.problem(field,
          pg_catalog.format('Value error, %s must not repeat a value', rule ->> 'unique'), 'value_error'));
      end if;
    when 'map' then
      if type_ is distinct from 'object' then
        problems := pg_catalog.jsonb_build_array(forecast_models.problem(field, 'Input should be a valid dictionary', 'dict_type'));
        return;
      end if;
      for key, item in select e.key, e.value from pg_catalog.jsonb_each(value) e order by 1 loop
        if not (rule -> 'keys') @> pg_catalog.jsonb_build_array(key) then
          problems := problems || forecast_models.problem(field || '.' || key || '.[key]', forecast_models.fs_literal_message(rule -> 'keys'), 'literal_error');
        end if;
        if pg_catalog.jsonb_typeof(item) = 'string' and rule -> 'refused' ? (item #>> '{}') then
          problems := problems || forecast_models.problem(field || '.' || key, 'Value error, ' || (rule -> 'refused' ->> (item #>> '{}')), 'value_error');
        elsif pg_catalog.jsonb_typeof(item) is distinct from 'string' or not (rule -> 'values') @> pg_catalog.jsonb_build_array(item) then
          problems := problems || forecast_models.problem(field || '.' || key, forecast_models.fs_literal_message(rule -> 'values'), 'literal_error');
        end if;
      end loop;
    when 'int' then
      if type_ is distinct from 'number' or value::text !~ '^-?[0-9]+$' then
        problems := pg_catalog.jsonb_build_array(forecast_models.problem(field, 'Input should be a valid integer', 'int_type'));
      else
        if rule ? 'min' and value::text::numeric < (rule ->> 'min')::numeric then
          problems := pg_catalog.jsonb_build_array(forecast_models.problem(field,
            pg_catalog.format('Input should be greater than or equal to %s', rule ->> 'min'), 'greater_than_equal'));
        elsif rule ? 'max' and value::text::numeric > (rule ->> 'max')::numeric then
          problems := pg_catalog.jsonb_build_array(forecast_models.problem(field,
            pg_catalog.format('Input should be less than or equal to %s', rule ->> 'max'), 'less_than_equal'));
        end if;
      end if;
    when 'num' then
      if type_ is distinct from 'number' then
        problems := pg_catalog.jsonb_build_array(forecast_models.problem(field, 'Input should be a valid number', 'float_type'));
      elsif pg_catalog.abs(value::text::numeric) > 1.7976931348623157e308 then  -- beyond a double: would be ∞
        problems := pg_catalog.jsonb_build_array(forecast_models.problem(field, 'Input should be a finite number', 'finite_number'));
      end if;
    when 'bool' then
      if type_ is distinct from 'boolean' then
        problems := pg_catalog.jsonb_build_array(forecast_models.problem(field, 'Input should be a valid boolean', 'bool_type'));
      end if;
    when 'enum' then
      if type_ is distinct from 'string' or not (rule -> 'values') @> pg_catalog.jsonb_build_array(value) then
        problems := pg_catalog.jsonb_build_array(forecast_models.problem(field, forecast_models.fs_literal_message(rule -> 'values'), 'literal_error'));
      end if;
    when 'str', 'version' then
      text_ := value #>> '{}';
      if type_ is distinct from 'string' then
        problems := pg_catalog.jsonb_build_array(forecast_models.problem(field, 'Input should be a valid string', 'string_type'));
      elsif kind = 'version' and text_ !~ '^[0-9]+\.[0-9]+(\.[0-9]+)?$' then
        problems := pg_catalog.jsonb_build_array(forecast_models.problem(field,
          'String should match pattern ''^\d+\.\d+(\.\d+)?$''', 'string_pattern_mismatch'));
      elsif rule ? 'min_length' and pg_catalog.length(text_) < (rule ->> 'min_length')::integer then
        problems := pg_catalog.jsonb_build_array(forecast_models.problem(field, pg_catalog.format('String should have at least %s character%s',
          rule ->> 'min_length', case when rule ->> 'min_length' = '1' then '' else 's' end), 'string_too_short'));
      elsif rule ? 'max_length' and pg_catalog.length(text_) > (rule ->> 'max_length')::integer then
        problems := pg_catalog.jsonb_build_array(forecast_models.problem(field, pg_catalog.format('String should have at most %s characters',
          rule ->> 'max_length'), 'string_too_long'));
      end if;
  end case;
end $$;
comment on function forecast_models.fs_validate(jsonb, jsonb, text) is
  'A value checked against a feature-set rule: normalized (defaults filled) and its problems [{field, message, type}].';

-- A FeatureSetConfig (the body's `config`) checked and completed with its defaults; sub-configs
-- absent or null stay null (disabled). Problems are returned, so the caller lists them with the
-- body's own in one 422.
create or replace function forecast_models.featureset_config(config jsonb, out normalized jsonb, out problems jsonb)
language plpgsql immutable set search_path = '' as $$
begin
  if config is null or pg_catalog.jsonb_typeof(config) = 'null' then
    problems := pg_catalog.jsonb_build_array(forecast_models.problem('config', 'Field required', 'missing'));
    return;
  end if;
  select v.normalized, v.problems into normalized, problems
    from forecast_models.fs_validate(config, forecast_models.featureset_rules(), 'config') v;
end $$;
comment on function forecast_models.featureset_config(jsonb) is
  'A FeatureSetConfig (§7) normalized (defaults filled, disabled sub-configs null) with every problem it has.';

-- The names of the frame's feature columns, in the order the values come: lags, rolling (window by
-- window, aggregations in the config's order), calendar, exogenous. featureset_frame fills its
-- arrays in exactly this order.
create or replace function forecast_models.featureset_columns(config jsonb) returns text[]
language sql immutable set search_path = '' as $$
  select coalesce((select pg_catalog.array_agg('lag_' || k order by o)
                     from pg_catalog.jsonb_array_elements_text(config #> '{lag_config,lags}') with ordinality l(k, o)), '{}')
      || coalesce((select pg_catalog.array_agg('rolling_' || a || '_' || w order by wo, ao)
                     from pg_catalog.jsonb_array_elements_text(config #> '{rolling_config,windows}') with ordinality ww(w, wo),
                          pg_catalog.jsonb_array_elements_text(config #> '{rolling_config,aggregations}') with ordinality aa(a, ao)), '{}')
      || case when pg_catalog.jsonb_typeof(c) = 'object' then
           case when (c ->> 'include_day_of_week')::boolean
                then case when (c ->> 'use_cyclical_encoding')::boolean then '{dow_sin,dow_cos}' else '{day_of_week}' end::text[] else '{}' end
           || case when (c ->> 'include_month')::boolean
                   then case when (c ->> 'use_cyclical_encoding')::boolean then '{month_sin,month_cos}' else '{month}' end::text[] else '{}' end
           || case when (c ->> 'include_quarter')::boolean then '{quarter}'::text[] else '{}' end
           || case when (c ->> 'include_year')::boolean then '{year}'::text[] else '{}' end
           || case when (c ->> 'include_is_weekend')::boolean then '{is_weekend}'::text[] else '{}' end
           || case when (c ->> 'include_is_month_end')::boolean then '{is_month_end}'::text[] else '{}' end
           || case when (c ->> 'include_is_holiday')::boolean then '{is_holiday}'::text[] else '{}' end
         else '{}' end
      || case when pg_catalog.jsonb_typeof(e) = 'object' then
           case when (e ->> 'include_price')::boolean
                then coalesce((select pg_catalog.array_agg('price_lag_' || k order by o)
                                 from pg_catalog.jsonb_array_elements_text(e -> 'price_lags') with ordinality l(k, o)), '{}')
                     || case when (e ->> 'include_price_change')::boolean then '{price_pct_change_7d}'::text[] else '{}' end
                else '{}' end
           || case when (e ->> 'include_promo')::boolean then '{promo_active,promo_discount_pct}'::text[] else '{}' end
           || case when (e ->> 'include_inventory')::boolean then '{on_hand_qty_lag_1,on_order_qty_lag_1}'::text[] else '{}' end
           || case when (e ->> 'include_stockout_flag')::boolean then '{stockout_lag_1}'::text[] else '{}' end
         else '{}' end
    from (select config -> 'calendar_config' as c, config -> 'exogenous_config' as e) x
$$;
comment on function forecast_models.featureset_columns(jsonb) is 'The feature columns of a normalized FeatureSetConfig, in order.';

-- A column's nulls filled by one strategy, over the frame's own rows (values in date order):
-- zero; ffill (the last earlier value); mean (of the frame's values: up to the cutoff, never
-- after it); expanding_mean (of the values on earlier rows only). Any other strategy (none, drop)
-- leaves the column as it is.
create or replace function forecast_models.fs_impute(values_ double precision[], strategy text) returns double precision[]
language sql immutable set search_path = '' as $$
  select coalesce(pg_catalog.array_agg(case strategy when 'zero' then coalesce(w.v, 0)
                                                     when 'ffill' then coalesce(w.v, w.previous)
                                                     when 'mean' then coalesce(w.v, w.whole)
                                                     when 'expanding_mean' then coalesce(w.v, w.earlier)
                                                     else w.v end order by w.i), '{}')
    from (select g.i, g.v,
                 -- a run starts at a value and holds its nulls: the run's first value is the last one seen
                 pg_catalog.first_value(g.v) over (partition by g.run order by g.i) as previous,
                 pg_catalog.avg(g.v) over () as whole,
                 pg_catalog.avg(g.v) over (order by g.i rows between unbounded preceding and 1 preceding) as earlier
            from (select u.i, u.v, pg_catalog.count(u.v) over (order by u.i) as run
                    from pg_catalog.unnest(values_) with ordinality u(v, i)) g) w
$$;

-- Lags of row i: values[i − k] for each k (null before the first row), nulls as fill_value.
create or replace function forecast_models.fs_lags(values_ double precision[], i integer, lags integer[], fill_value double precision)
returns double precision[]
language sql immutable set search_path = '' as $$
  select coalesce(pg_catalog.array_agg(coalesce(values_[i - l.k], fill_value) order by l.o), '{}')
    from pg_catalog.unnest(lags) with ordinality l(k, o)
$$;

-- Rolling features of row i, as pandas' shift(1).rolling(window, min_periods).agg: over the rows
-- i − window … i − 1, nulls skipped; null when fewer than min_periods (default: the window) values
-- are there; std is the sample standard deviation (ddof 1, null for one value).
create or replace function forecast_models.fs_rolling(values_ double precision[], i integer, windows integer[],
                                                      aggregations text[], min_periods integer)
returns double precision[]
language sql immutable set search_path = '' as $$
  select coalesce(pg_catalog.array_agg(case when s.n >= coalesce(min_periods, w.size)
                                            then case a.agg when 'mean' then s.mean when 'std' then s.std when 'min' then s.low
                                                            when 'max' then s.high when 'sum' then s.total end end
                                       order by w.o, a.o), '{}')
    from pg_catalog.unnest(windows) with ordinality w(size, o)
    cross join lateral (select pg_catalog.count(x) as n, pg_catalog.avg(x) as mean, pg_catalog.stddev_samp(x) as std,
                               pg_catalog.min(x) as low, pg_catalog.max(x) as high, pg_catalog.sum(x) as total
                          from pg_catalog.unnest(values_[i - w.size : i - 1]) x) s
    cross join pg_catalog.unnest(aggregations) with ordinality a(agg, o)
$$;

-- Calendar features of a day (featureset_columns' order): day of week (Monday 0) and month,
-- cyclical as sin/cos of 2π·dow/7 and 2π·month/12 or plain; quarter; year; is_weekend (Saturday,
-- Sunday); is_month_end; is_holiday. Nothing but the date and its holiday rows.
create or replace function forecast_models.fs_calendar(day date, calendar jsonb, holiday boolean) returns double precision[]
language sql immutable set search_path = '' as $$
  select case when coalesce(pg_catalog.jsonb_typeof(calendar), 'null') <> 'object' then '{}'::double precision[] else
           case when (calendar ->> 'include_day_of_week')::boolean
                then case when cyclical then array[pg_catalog.sin(2 * pg_catalog.pi() * d.dow / 7), pg_catalog.cos(2 * pg_catalog.pi() * d.dow / 7)]
                          else array[d.dow] end else '{}' end
           || case when (calendar ->> 'include_month')::boolean
                   then case when cyclical then array[pg_catalog.sin(2 * pg_catalog.pi() * d.month / 12), pg_catalog.cos(2 * pg_catalog.pi() * d.month / 12)]
                             else array[d.month] end else '{}' end
           || case when (calendar ->> 'include_quarter')::boolean then array[pg_catalog.date_part('quarter', day)] else '{}' end
           || case when (calendar ->> 'include_year')::boolean then array[pg_catalog.date_part('year', day)] else '{}' end
           || case when (calendar ->> 'include_is_weekend')::boolean then array[(d.dow >= 5)::integer::double precision] else '{}' end
           || case when (calendar ->> 'include_is_month_end')::boolean
                   then array[(pg_catalog.date_part('month', day + 1) <> d.month)::integer::double precision] else '{}' end
           || case when (calendar ->> 'include_is_holiday')::boolean then array[holiday::integer::double precision] else '{}' end
         end
    from (select pg_catalog.date_part('isodow', day) - 1 as dow, pg_catalog.date_part('month', day) as month,
                 coalesce((calendar ->> 'use_cyclical_encoding')::boolean, true) as cyclical) d
$$;

-- Exogenous features of row i (featureset_columns' order): price lags (row shifts), the price's
-- change over 7 rows ending at the previous row, (p[i−1] − p[i−8]) / p[i−8] (null when p[i−8] is 0:
-- no finite number); the day's promotion (planned, so known on the day); the previous row's
-- inventory and stockout flag (observed with the day's sales, so never read on the day itself).
create or replace function forecast_models.fs_exogenous(i integer, exogenous jsonb, price double precision[],
                                                        promo double precision[], discount double precision[],
                                                        on_hand double precision[], on_order double precision[],
                                                        stockout double precision[])
returns double precision[]
language sql immutable set search_path = '' as $$
  select case when coalesce(pg_catalog.jsonb_typeof(exogenous), 'null') <> 'object' then '{}'::double precision[] else
           case when (exogenous ->> 'include_price')::boolean
                then coalesce((select pg_catalog.array_agg(price[i - k::integer] order by o)
                                 from pg_catalog.jsonb_array_elements_text(exogenous -> 'price_lags') with ordinality l(k, o)), '{}')
                     || case when (exogenous ->> 'include_price_change')::boolean
                             then array[case when price[i - 8] <> 0 then (price[i - 1] - price[i - 8]) / price[i - 8] end] else '{}' end
                else '{}' end
           || case when (exogenous ->> 'include_promo')::boolean then array[promo[i], discount[i]] else '{}' end
           || case when (exogenous ->> 'include_inventory')::boolean then array[on_hand[i - 1], on_order[i - 1]] else '{}' end
           || case when (exogenous ->> 'include_stockout_flag')::boolean then array[stockout[i - 1]] else '{}' end
         end
$$;

-- The values of `values_` at the given 1-based positions, in that order (what a drop keeps).
create or replace function forecast_models.fs_pick(values_ anyarray, positions integer[]) returns anyarray
language sql immutable set search_path = '' as $$
  select array(select values_[p.i] from pg_catalog.unnest(positions) with ordinality p(i, o) order by p.o)
$$;

-- The frame column a lag or rolling config names (validated: one of the three).
create or replace function forecast_models.fs_column(name text, quantity double precision[], unit_price double precision[],
                                                     total_amount double precision[]) returns double precision[]
language sql immutable set search_path = '' as $$
  select case name when 'unit_price' then unit_price when 'total_amount' then total_amount else quantity end
$$;

-- A JSON list of integers (validated) as an array.
create or replace function forecast_models.fs_integers(list jsonb) returns integer[]
language sql immutable set search_path = '' as $$
  select coalesce(pg_catalog.array_agg(e::integer order by o), '{}')
    from pg_catalog.jsonb_array_elements_text(list) with ordinality x(e, o)
$$;

-- The feature frame (§7) of a store and product as of cutoff_date: one row per day of the daily grid
-- (the file's header), its features in featureset_columns' order (NaN and ±∞ as null). 404: a store
-- or product not in the account, or no sales in [cutoff − lookback_days, cutoff].
create or replace function forecast_models.featureset_frame(account uuid, store_id bigint, product_id bigint,
                                                            cutoff_date date, lookback_days integer, config jsonb)
returns table (day date, features double precision[])
language plpgsql stable set search_path = '' as $$
declare
  first_day constant date := cutoff_date - lookback_days;
  strategies constant jsonb := coalesce(config #> '{imputation_config,strategies}', '{}');
  days date[];
  quantity double precision[];
  unit_price double precision[];
  total_amount double precision[];
  price double precision[];
  promo double precision[];
  discount double precision[];
  on_hand double precision[];
  on_order double precision[];
  stockout double precision[];
  holiday boolean[];
  kept integer[];
  n integer;
begin
  perform forecast_models.require_store_product(account, store_id, product_id);
  -- 1. Read every source up to the cutoff only, before anything is computed.
  with sales as (
    select s.date, s.quantity::double precision as quantity, s.unit_price::double precision as unit_price,
           s.total_amount::double precision as total_amount
      from forecast.sales_daily s
     where s.account_id = account and s.store_id = featureset_frame.store_id and s.product_id = featureset_frame.product_id
       and s.date between first_day and cutoff_date
  ), prices as (
    select h.valid_from, h.valid_to, h.price::double precision as price
      from forecast.price_history h
     where h.account_id = account and h.store_id = featureset_frame.store_id and h.product_id = featureset_frame.product_id
       and h.valid_from <= cutoff_date
  ), promotions as (
    select p.start_date, p.end_date, p.discount_pct::double precision as discount_pct
      from forecast.promotions p
     where p.account_id = account and p.product_id = featureset_frame.product_id
       and (p.store_id is null or p.store_id = featureset_frame.store_id) and p.start_date <= cutoff_date
  ), snapshots as (
    select i.date, i.on_hand_qty::double precision as on_hand, i.on_order_qty::double precision as on_order,
           i.is_stockout::integer::double precision as stockout
      from forecast.inventory_snapshot_daily i
     where i.account_id = account and i.store_id = featureset_frame.store_id and i.product_id = featureset_frame.product_id
       and i.date between first_day and cutoff_date
  ), holidays as (
    select distinct e.date
      from forecast.exogenous_signals e
     where e.account_id = account and e.signal_type = 'holiday'
       and (e.store_id is null or e.store_id = featureset_frame.store_id) and e.date between first_day and cutoff_date
  ), grid as (
    select f.first + k as day
      from (select pg_catalog.min(s.date) as first from sales s) f, pg_catalog.generate_series(0, cutoff_date - f.first) k
  )
  select pg_catalog.array_agg(g.day order by g.day), pg_catalog.array_agg(s.quantity order by g.day),
         pg_catalog.array_agg(s.unit_price order by g.day), pg_catalog.array_agg(s.total_amount order by g.day),
         -- the price_history row covering the day (valid_from … valid_to, inclusive), the latest one
         pg_catalog.array_agg((select h.price from prices h where h.valid_from <= g.day and (h.valid_to is null or g.day <= h.valid_to)
                                order by h.valid_from desc limit 1) order by g.day),
         pg_catalog.array_agg(exists (select from promotions p where g.day between p.start_date and p.end_date)::integer::double precision order by g.day),
         pg_catalog.array_agg(coalesce((select pg_catalog.max(p.discount_pct) from promotions p where g.day between p.start_date and p.end_date), 0) order by g.day),
         pg_catalog.array_agg(i.on_hand order by g.day), pg_catalog.array_agg(i.on_order order by g.day),
         pg_catalog.array_agg(i.stockout order by g.day),
         pg_catalog.array_agg(exists (select from holidays h where h.date = g.day) order by g.day)
    into days, quantity, unit_price, total_amount, price, promo, discount, on_hand, on_order, stockout, holiday
    from grid g
    left join sales s on s.date = g.day
    left join snapshots i on i.date = g.day;
  if days is null then
    raise exception 'No sales for store %, product % between % and %', store_id, product_id, first_day, cutoff_date
      using errcode = 'PT404', hint = 'choose a later cutoff_date or a longer lookback_days';
  end if;
  -- The price of a day without a price_history row: the last sale's unit price on or before it
  -- (the grid starts on a sale, so there always is one).
  price := array(select coalesce(p.v, p.last_sale)
                   from rows from (pg_catalog.unnest(price), pg_catalog.unnest(forecast_models.fs_impute(unit_price, 'ffill')))
                        with ordinality p(v, last_sale, o)
                  order by p.o);

  -- 2. Imputation: drops first (a dropped row influences nothing), then the fills over the rows kept.
  select pg_catalog.array_agg(k order by k) into kept
    from pg_catalog.generate_subscripts(days, 1) k
   where not ((strategies ->> 'quantity') is not distinct from 'drop' and quantity[k] is null)
     and not ((strategies ->> 'unit_price') is not distinct from 'drop' and unit_price[k] is null)
     and not ((strategies ->> 'total_amount') is not distinct from 'drop' and total_amount[k] is null);
  if kept is null then
    raise exception 'No rows left for store %, product % once the imputation''s drops are applied', store_id, product_id
      using errcode = 'PT404';
  end if;
  n := pg_catalog.cardinality(kept);
  if n < pg_catalog.cardinality(days) then
    days := forecast_models.fs_pick(days, kept);
    quantity := forecast_models.fs_pick(quantity, kept);
    unit_price := forecast_models.fs_pick(unit_price, kept);
    total_amount := forecast_models.fs_pick(total_amount, kept);
    price := forecast_models.fs_pick(price, kept);
    promo := forecast_models.fs_pick(promo, kept);
    discount := forecast_models.fs_pick(discount, kept);
    on_hand := forecast_models.fs_pick(on_hand, kept);
    on_order := forecast_models.fs_pick(on_order, kept);
    stockout := forecast_models.fs_pick(stockout, kept);
    holiday := forecast_models.fs_pick(holiday, kept);
  end if;
  quantity := forecast_models.fs_impute(quantity, strategies ->> 'quantity');
  unit_price := forecast_models.fs_impute(unit_price, strategies ->> 'unit_price');
  total_amount := forecast_models.fs_impute(total_amount, strategies ->> 'total_amount');

  -- 3. The features, row by row, from earlier rows (and the day's calendar and promotions).
  return query
  select days[i], array(select case when v in ('NaN'::double precision, 'Infinity'::double precision, '-Infinity'::double precision)
                                    then null else v end
                          from pg_catalog.unnest(
                                 case when pg_catalog.jsonb_typeof(config -> 'lag_config') = 'object'
                                      then forecast_models.fs_lags(forecast_models.fs_column(config #>> '{lag_config,target_column}', quantity, unit_price, total_amount),
                                                                   i, forecast_models.fs_integers(config #> '{lag_config,lags}'),
                                                                   (config #>> '{lag_config,fill_value}')::double precision)
                                      else '{}' end
                              || case when pg_catalog.jsonb_typeof(config -> 'rolling_config') = 'object'
                                      then forecast_models.fs_rolling(forecast_models.fs_column(config #>> '{rolling_config,target_column}', quantity, unit_price, total_amount),
                                                                      i, forecast_models.fs_integers(config #> '{rolling_config,windows}'),
                                                                      array(select pg_catalog.jsonb_array_elements_text(config #> '{rolling_config,aggregations}')),
                                                                      (config #>> '{rolling_config,min_periods}')::integer)
                                      else '{}' end
                              || forecast_models.fs_calendar(days[i], config -> 'calendar_config', holiday[i])
                              || forecast_models.fs_exogenous(i, config -> 'exogenous_config', price, promo, discount, on_hand, on_order, stockout))
                               with ordinality f(v, o) order by o)
    from pg_catalog.generate_series(1, n) i
   order by i;
end $$;
comment on function forecast_models.featureset_frame(uuid, bigint, bigint, date, integer, jsonb) is
  'The time-safe feature frame (§7) of a store and product as of cutoff_date: a row per day, features in featureset_columns order.';

-- The answer of both endpoints (§7): the frame's rows (all, or the last sample_rows), the feature
-- columns, config_hash of the normalized config, the cutoff, row_count (rows answered) and
-- null_counts (per column, over the whole frame computed, as upstream: a preview's warm-up nulls
-- stay visible). duration_ms is the caller's.
create or replace function forecast_models.featureset_answer(account uuid, store_id bigint, product_id bigint, cutoff_date date,
                                                             lookback_days integer, config jsonb, sample_rows integer)
returns jsonb
language sql stable set search_path = '' set extra_float_digits = 1 as $$
  with frame as materialized (
    select pg_catalog.row_number() over (order by f.day) as i, pg_catalog.count(*) over () as n, f.day, f.features
      from forecast_models.featureset_frame(account, store_id, product_id, cutoff_date, lookback_days, config) f
  ), columns_ as (
    select c.name, c.position::integer as position
      from pg_catalog.unnest(forecast_models.featureset_columns(config)) with ordinality c(name, position)
  ), shown as (
    select f.* from frame f where sample_rows is null or f.i > f.n - sample_rows
  )
  select pg_catalog.jsonb_build_object(
    'rows', coalesce((select pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
                               'date', s.day, 'store_id', store_id, 'product_id', product_id,
                               'features', coalesce((select pg_catalog.jsonb_object_agg(c.name, s.features[c.position]) from columns_ c), '{}'))
                             order by s.i)
                        from shown s), '[]'),
    'feature_columns', pg_catalog.to_jsonb(forecast_models.featureset_columns(config)),
    'config_hash', forecast_models.config_hash(config),
    'cutoff_date', cutoff_date,
    'row_count', (select pg_catalog.count(*) from shown),
    'null_counts', coalesce((select pg_catalog.jsonb_object_agg(c.name, (select pg_catalog.count(*) from frame f where f.features[c.position] is null))
                               from columns_ c), '{}'))
$$;

-- The body's own problems (store_id, product_id, cutoff_date, an integer bounded to [low, high]
-- named `bounded`) and the config's, in one list.
create or replace function forecast_models.featureset_problems(store_id bigint, product_id bigint, cutoff_date date,
                                                               bounded_name text, bounded integer, low integer, high integer,
                                                               config_problems jsonb)
returns jsonb
language sql immutable set search_path = '' as $$
  select forecast_models.range_problems('store_id', store_id, 1, null)
      || forecast_models.range_problems('product_id', product_id, 1, null)
      || case when cutoff_date is null then pg_catalog.jsonb_build_array(forecast_models.problem('cutoff_date', 'Field required', 'missing'))
              else '[]'::jsonb end
      -- it has a default, so a null was sent as null: not an integer
      || case when bounded is null then pg_catalog.jsonb_build_array(forecast_models.problem(bounded_name, 'Input should be a valid integer', 'int_type'))
              else forecast_models.range_problems(bounded_name, bounded, low, high) end
      || coalesce(config_problems, '[]')
$$;

-- Compute and preview alike: the body checked (its own bounded integer among the problems), then
-- the frame over [cutoff − lookback_days, cutoff], its last sample_rows rows when given.
create or replace function forecast_models.featureset_request(store_id bigint, product_id bigint, cutoff_date date, config jsonb,
                                                              bounded_name text, bounded integer, low integer, high integer,
                                                              lookback_days integer, sample_rows integer)
returns jsonb
language plpgsql stable set search_path = '' as $$
declare
  account uuid := util.require_account();
  started timestamptz := pg_catalog.clock_timestamp();
  settings record;
  problems jsonb;
begin
  select * into settings from forecast_models.featureset_config(featureset_request.config);
  problems := forecast_models.featureset_problems(featureset_request.store_id, featureset_request.product_id,
                                                  featureset_request.cutoff_date, bounded_name, bounded, low, high, settings.problems);
  if pg_catalog.jsonb_array_length(problems) > 0 then
    perform forecast_models.invalid_all(problems);
  end if;
  return forecast_models.featureset_answer(account, featureset_request.store_id, featureset_request.product_id,
                                           featureset_request.cutoff_date, lookback_days, settings.normalized, sample_rows)
         || pg_catalog.jsonb_build_object('duration_ms', forecast_models.elapsed_ms(started));
end $$;

-- POST /featuresets/compute (200, every member): the frame over [cutoff − lookback_days, cutoff].
create or replace function api.featuresets_compute(store_id bigint default null, product_id bigint default null,
                                                   cutoff_date date default null, lookback_days integer default 365,
                                                   config jsonb default null)
returns jsonb
language sql stable set search_path = '' as $$
  select forecast_models.featureset_request(store_id, product_id, cutoff_date, config, 'lookback_days', lookback_days, 1, 1095,
                                            lookback_days, null)
$$;
comment on function api.featuresets_compute(bigint, bigint, date, integer, jsonb) is
  'Time-safe features (lags, rolling windows, calendar, price, promotions, inventory) of a store and product for every day from its first sale in [cutoff_date − lookback_days (1..1095, default 365), cutoff_date] to cutoff_date; nothing dated after the cutoff is read.';

-- POST /featuresets/preview (200, every member): the same frame over 365 days, its last sample_rows rows.
create or replace function api.featuresets_preview(store_id bigint default null, product_id bigint default null,
                                                   cutoff_date date default null, sample_rows integer default 10,
                                                   config jsonb default null)
returns jsonb
language sql stable set search_path = '' as $$
  select forecast_models.featureset_request(store_id, product_id, cutoff_date, config, 'sample_rows', sample_rows, 1, 100,
                                            365, sample_rows)
$$;
comment on function api.featuresets_preview(bigint, bigint, date, integer, jsonb) is
  'The last sample_rows (1..100, default 10) rows of the feature frame of a store and product over the 365 days up to cutoff_date; null_counts are those of the whole frame.';

grant execute on function forecast_models.featureset_rules(), forecast_models.fs_literal_message(jsonb),
  forecast_models.fs_validate(jsonb, jsonb, text), forecast_models.featureset_config(jsonb),
  forecast_models.featureset_columns(jsonb), forecast_models.fs_impute(double precision[], text),
  forecast_models.fs_lags(double precision[], integer, integer[], double precision),
  forecast_models.fs_rolling(double precision[], integer, integer[], text[], integer),
  forecast_models.fs_calendar(date, jsonb, boolean),
  forecast_models.fs_exogenous(integer, jsonb, double precision[], double precision[], double precision[], double precision[], double precision[], double precision[]),
  forecast_models.fs_pick(anyarray, integer[]),
  forecast_models.fs_column(text, double precision[], double precision[], double precision[]),
  forecast_models.fs_integers(jsonb),
  forecast_models.featureset_frame(uuid, bigint, bigint, date, integer, jsonb),
  forecast_models.featureset_answer(uuid, bigint, bigint, date, integer, jsonb, integer),
  forecast_models.featureset_problems(bigint, bigint, date, text, integer, integer, integer, jsonb),
  forecast_models.featureset_request(bigint, bigint, date, jsonb, text, integer, integer, integer, integer, integer),
  api.featuresets_compute(bigint, bigint, date, integer, jsonb), api.featuresets_preview(bigint, bigint, date, integer, jsonb)
  to authenticated, service_role;
