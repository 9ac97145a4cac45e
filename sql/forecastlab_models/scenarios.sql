-- requires: forecastlab_models/common.sql
-- requires: forecastlab_models/models.sql
-- requires: forecastlab_models/frames.sql
-- requires: forecastlab_models/feature_models.sql
-- requires: forecastlab_models/policies.sql
-- Scenarios (forecastlab-contract-details.md §11): what-if planning on a trained model. A
-- simulation forecasts the baseline from the caller's own artifact (the same
-- forecast_models.forecast_model that predict uses), applies the assumptions (price, promotion,
-- holiday, inventory, lifecycle) and compares: per day, in units, in revenue, and against the
-- inventory on hand. Two methods:
--   * heuristic: a multiplier per day from fixed factors (§11.2), clamped, on the baseline;
--   * model_exogenous, for a `regression` artifact: the model forecasts again from a future V1 frame
--     whose price_factor, promo_active and is_holiday come from the assumptions
--     (frames.sql, frame_v1_supplied) while its lags read only the history at or before the origin;
--     a lifecycle stage is then applied as its factor on top.
-- Plans are saved with their comparison as a snapshot; compare ranks saved snapshots and never
-- re-forecasts. Security invoker throughout: RLS keeps tenants apart, and every read also names
-- the caller's account.

-- ── The assumptions (§11.1) ──────────────────────────────────────────────────────────────────────

-- The keys of each assumption, all required within it; each assumption itself is optional.
create or replace function forecast_models.scenario_assumption_keys() returns jsonb
language sql immutable as $$
  select '{"price": ["change_pct", "start_date", "end_date"], "promotion": ["kind", "start_date", "end_date"],
           "holiday": ["dates"], "inventory": ["on_hand_units"], "lifecycle": ["stage"]}'::jsonb
$$;

-- A JSON value as a date when it is an ISO `YYYY-MM-DD` string naming a real day; null otherwise.
-- Only that shape: PostgreSQL's own date input would also take `03/01/2026` and read it by DateStyle.
create or replace function forecast_models.scenario_date(value jsonb) returns date
language plpgsql immutable set search_path = '' as $$
begin
  if pg_catalog.jsonb_typeof(value) is distinct from 'string' or (value #>> '{}') !~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' then
    return null;
  end if;
  return (value #>> '{}')::date;
exception when datetime_field_overflow or invalid_datetime_format then  -- 2026-02-30, 0000-01-01: not a day
  return null;
end $$;

-- The problem of one date field, if any.
create or replace function forecast_models.scenario_date_problems(field text, value jsonb) returns jsonb
language sql immutable as $$
  select case
    when forecast_models.scenario_date(value) is not null then '[]'::jsonb
    when pg_catalog.jsonb_typeof(value) = 'string' then pg_catalog.jsonb_build_array(forecast_models.problem(field,
      'Input should be a valid date in the format YYYY-MM-DD', 'date_parsing'))
    else pg_catalog.jsonb_build_array(forecast_models.problem(field, 'Input should be a valid date', 'date_type')) end
$$;

-- Every problem of an `assumptions` object (§11.1, strict: unknown keys, wrong types, bounds), with
-- Pydantic's paths (assumptions.price.change_pct, assumptions.holiday.dates.0). SQL null (absent)
-- is the empty set of assumptions; a JSON null, or an assumption's own null, is absent too for the
-- five optional assumptions but not for the object itself.
create or replace function forecast_models.scenario_assumption_problems(assumptions jsonb) returns jsonb
language plpgsql immutable set search_path = '' as $$
declare
  keys constant jsonb := forecast_models.scenario_assumption_keys();
  problems jsonb := '[]';
  part text;
  value jsonb;
  field text;
  key text;
  item jsonb;
  position integer;
  number numeric;
begin
  if assumptions is null then
    return problems;
  end if;
  if pg_catalog.jsonb_typeof(assumptions) <> 'object' then
    return pg_catalog.jsonb_build_array(forecast_models.problem('assumptions',
      'Input should be a valid dictionary or instance of ScenarioAssumptions', 'model_type'));
  end if;
  for key in select k from pg_catalog.jsonb_object_keys(assumptions) k where not keys ? k order by 1 loop
    problems := problems || forecast_models.problem('assumptions.' || key, 'Extra inputs are not permitted', 'extra_forbidden');
  end loop;
  foreach part in array array['price', 'promotion', 'holiday', 'inventory', 'lifecycle'] loop
    value := assumptions -> part;
    continue when value is null or pg_catalog.jsonb_typeof(value) = 'null';
    field := 'assumptions.' || part;
    if pg_catalog.jsonb_typeof(value) <> 'object' then
      problems := problems || forecast_models.problem(field, 'Input should be a valid dictionary or instance of '
        || pg_catalog.initcap(part) || 'Assumption', 'model_type');
      continue;
    end if;
    for key in select k from pg_catalog.jsonb_object_keys(value) k where not (keys -> part) ? k order by 1 loop
      problems := problems || forecast_models.problem(field || '.' || key, 'Extra inputs are not permitted', 'extra_forbidden');
    end loop;
    for key in select pg_catalog.jsonb_array_elements_text(keys -> part) loop
      if not value ? key then
        problems := problems || forecast_models.problem(field || '.' || key, 'Field required', 'missing');
        continue;
      end if;
      item := value -> key;
      case key
        when 'change_pct' then
          if pg_catalog.jsonb_typeof(item) <> 'number' then
            problems := problems || forecast_models.problem(field || '.' || key, 'Input should be a valid number', 'float_type');
          else
            number := (item #>> '{}')::numeric;
            if number < -0.9 then
              problems := problems || forecast_models.problem(field || '.' || key, 'Input should be greater than or equal to -0.9', 'greater_than_equal');
            elsif number > 5 then
              problems := problems || forecast_models.problem(field || '.' || key, 'Input should be less than or equal to 5', 'less_than_equal');
            end if;
          end if;
        when 'start_date', 'end_date' then
          problems := problems || forecast_models.scenario_date_problems(field || '.' || key, item);
        when 'kind' then
          if pg_catalog.jsonb_typeof(item) <> 'string' or (item #>> '{}') not in ('pct_off', 'bogo', 'bundle', 'markdown') then
            problems := problems || forecast_models.problem(field || '.' || key,
              'Input should be ''pct_off'', ''bogo'', ''bundle'' or ''markdown''', 'literal_error');
          end if;
        when 'stage' then
          if pg_catalog.jsonb_typeof(item) <> 'string' or (item #>> '{}') not in ('launch', 'growth', 'maturity', 'decline') then
            problems := problems || forecast_models.problem(field || '.' || key,
              'Input should be ''launch'', ''growth'', ''maturity'' or ''decline''', 'literal_error');
          end if;
        when 'on_hand_units' then
          if pg_catalog.jsonb_typeof(item) <> 'number' or item::text !~ '^-?[0-9]+$' then
            problems := problems || forecast_models.problem(field || '.' || key, 'Input should be a valid integer', 'int_type');
          elsif (item #>> '{}')::numeric < 0 then
            problems := problems || forecast_models.problem(field || '.' || key, 'Input should be greater than or equal to 0', 'greater_than_equal');
          end if;
        when 'dates' then
          if pg_catalog.jsonb_typeof(item) <> 'array' then
            problems := problems || forecast_models.problem(field || '.' || key, 'Input should be a valid list', 'list_type');
          elsif pg_catalog.jsonb_array_length(item) = 0 then
            problems := problems || forecast_models.problem(field || '.' || key,
              'List should have at least 1 item after validation, not 0', 'too_short');
          else
            for position in 0 .. pg_catalog.jsonb_array_length(item) - 1 loop
              problems := problems || forecast_models.scenario_date_problems(field || '.' || key || '.' || position, item -> position);
            end loop;
          end if;
      end case;
    end loop;
  end loop;
  return problems;
end $$;
comment on function forecast_models.scenario_assumption_problems(jsonb) is
  'Every problem of a scenario''s assumptions (price, promotion, holiday, inventory, lifecycle), as the 422 lists them.';

-- The assumptions as a plan keeps them: those given (JSON nulls dropped), as the caller wrote them.
create or replace function forecast_models.scenario_stored_assumptions(assumptions jsonb) returns jsonb
language sql immutable as $$
  select coalesce((select pg_catalog.jsonb_object_agg(a.key, a.value) from pg_catalog.jsonb_each(assumptions) a
                    where pg_catalog.jsonb_typeof(a.value) <> 'null'), '{}'::jsonb)
$$;

-- ── The heuristic (§11.2) ────────────────────────────────────────────────────────────────────────

-- The uplift of a promotion kind in its window.
create or replace function forecast_models.scenario_promotion_uplift(kind text) returns double precision
language sql immutable as $$
  select case kind when 'pct_off' then 1.25 when 'bogo' then 1.40 when 'bundle' then 1.15 when 'markdown' then 1.30 end::double precision
$$;

-- The factor of a lifecycle stage over the whole horizon (1 without one).
create or replace function forecast_models.scenario_lifecycle_factor(stage text) returns double precision
language sql immutable as $$
  select case stage when 'launch' then 1.2 when 'growth' then 1.1 when 'maturity' then 1.0 when 'decline' then 0.85
                    else 1.0 end::double precision
$$;

-- The heuristic's factor of one day: the product, in this order, of the price factor
-- (1 + change_pct)^−1.2 (5 when 1 + change_pct <= 0; itself clamped to [0.1, 5]) on the price
-- window's days, the promotion's uplift on its window's days, 1.30 on a listed holiday (once, however
-- often it is listed) and the lifecycle factor; the product clamped to [0.1, 5]. A window given end
-- before start is the same window (normalised, not refused).
create or replace function forecast_models.scenario_factor(day date, assumptions jsonb) returns double precision
language plpgsql immutable set search_path = '' as $$
declare
  low constant double precision := 0.1;
  high constant double precision := 5.0;
  factor double precision := 1;
  part jsonb;
  one_plus double precision;
  price double precision;
begin
  part := assumptions -> 'price';
  if pg_catalog.jsonb_typeof(part) = 'object'
     and day between least((part ->> 'start_date')::date, (part ->> 'end_date')::date)
                 and greatest((part ->> 'start_date')::date, (part ->> 'end_date')::date) then
    one_plus := 1 + (part ->> 'change_pct')::double precision;
    price := case when one_plus <= 0 then high else pg_catalog.power(one_plus, -1.2::double precision) end;
    factor := factor * least(greatest(price, low), high);
  end if;
  part := assumptions -> 'promotion';
  if pg_catalog.jsonb_typeof(part) = 'object'
     and day between least((part ->> 'start_date')::date, (part ->> 'end_date')::date)
                 and greatest((part ->> 'start_date')::date, (part ->> 'end_date')::date) then
    factor := factor * forecast_models.scenario_promotion_uplift(part ->> 'kind');
  end if;
  if assumptions #> '{holiday,dates}' @> pg_catalog.to_jsonb(pg_catalog.to_char(day, 'YYYY-MM-DD')) then
    factor := factor * 1.30::double precision;
  end if;
  if pg_catalog.jsonb_typeof(assumptions -> 'lifecycle') = 'object' then
    factor := factor * forecast_models.scenario_lifecycle_factor(assumptions #>> '{lifecycle,stage}');
  end if;
  return least(greatest(factor, low), high);
end $$;
comment on function forecast_models.scenario_factor(date, jsonb) is
  'The heuristic scenario factor of a day (§11.2): price, promotion, holiday and lifecycle factors multiplied, clamped to [0.1, 5].';

-- The plan a model_exogenous scenario lays over the future frame (frames.sql, frame_v1_supplied):
-- the price change and the promotion window (normalised), the holiday dates. Inventory never
-- reaches the model (coverage only); lifecycle is a factor on top.
create or replace function forecast_models.scenario_supplied(assumptions jsonb) returns jsonb
language sql immutable as $$
  select pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object(
    'price', case when pg_catalog.jsonb_typeof(assumptions -> 'price') = 'object' then pg_catalog.jsonb_build_object(
               'from', least((assumptions #>> '{price,start_date}')::date, (assumptions #>> '{price,end_date}')::date),
               'to', greatest((assumptions #>> '{price,start_date}')::date, (assumptions #>> '{price,end_date}')::date),
               'change_pct', assumptions #> '{price,change_pct}') end,
    'promotion', case when pg_catalog.jsonb_typeof(assumptions -> 'promotion') = 'object' then pg_catalog.jsonb_build_object(
               'from', least((assumptions #>> '{promotion,start_date}')::date, (assumptions #>> '{promotion,end_date}')::date),
               'to', greatest((assumptions #>> '{promotion,start_date}')::date, (assumptions #>> '{promotion,end_date}')::date)) end,
    'holidays', case when pg_catalog.jsonb_typeof(assumptions #> '{holiday,dates}') = 'array' then assumptions #> '{holiday,dates}' end))
$$;

-- The coverage verdict (§11.2) of a demand (the scenario's total units) against the units on hand
-- (null: no inventory assumption).
create or replace function forecast_models.scenario_coverage(demand double precision, on_hand double precision) returns text
language sql immutable as $$
  select case when on_hand is null then 'unknown'
              when on_hand <= 0 then case when demand > 0 then 'stockout' else 'at_risk' end
              when demand > on_hand * 1.10::double precision then 'stockout'
              when demand >= on_hand * 0.90::double precision then 'at_risk'
              else 'covered' end
$$;

-- ── The simulation ───────────────────────────────────────────────────────────────────────────────

-- The caller's artifact a scenario's run_id names: the artifact key (12 hex, as model_path names
-- it) or the whole model_path. Anything else, an unknown key and another account's key are the
-- same 404 (§11.3: a missing artifact is a 404); changed bytes are a 409, as predict's.
create or replace function forecast_models.scenario_artifact(run_id text) returns forecast_models.artifacts
language plpgsql stable set search_path = '' as $$
declare
  artifact forecast_models.artifacts;
begin
  if run_id ~ '^[0-9a-f]{12}$' then
    artifact := forecast_models.resolve_artifact(forecast_models.artifact_path(run_id), 'run_id');
  elsif run_id ~ '^(\./)?artifacts/models/model_[0-9a-f]{12}\.joblib$' then
    artifact := forecast_models.resolve_artifact(run_id, 'run_id');
  else
    raise exception 'Model artifact not found: %', pg_catalog.left(run_id, 64) using errcode = 'PT404',
      hint = 'run_id is a trained model''s artifact key, the 12 hex digits of its model_path artifacts/models/model_<key>.joblib';
  end if;
  if pg_catalog.encode(pg_catalog.sha256(artifact.content), 'hex') <> artifact.sha256 then
    raise exception 'Model artifact % failed its integrity check (SHA-256)', forecast_models.artifact_path(artifact.artifact_key)
      using errcode = 'PT409';
  end if;
  return artifact;
end $$;

-- The unit price revenue is counted at: the store and product's most recent sale price at or before
-- the forecast origin, else the product's base price, else 1.0. A price of 0 counts as none (it
-- would make every revenue 0); nothing sold after the origin is read.
create or replace function forecast_models.scenario_unit_price(account uuid, store_id bigint, product_id bigint, origin date)
returns double precision
language sql stable set search_path = '' as $$
  select coalesce(
    (select s.unit_price from forecast.sales_daily s
      where s.account_id = account and s.store_id = scenario_unit_price.store_id and s.product_id = scenario_unit_price.product_id
        and s.date <= origin and s.unit_price > 0
      order by s.date desc limit 1),
    (select p.base_price from forecast.products p
      where p.account_id = account and p.id = scenario_unit_price.product_id and p.base_price > 0),
    1.0)::double precision
$$;

-- The ScenarioComparison (§11.3) of validated assumptions on the caller's artifact, and the
-- artifact's key. Days are origin + 1 … origin + horizon (origin: the training window's end, as
-- predict's). Totals add the days in date order; units_delta_pct is a percentage (0 when the
-- baseline total is 0); revenue is units × unit_price_used.
create or replace function forecast_models.scenario_comparison(run_id text, horizon integer, assumptions jsonb,
                                                               out artifact_key text, out comparison jsonb)
language plpgsql stable set search_path = '' set extra_float_digits = 1 as $$
declare
  account uuid := util.require_account();
  artifact forecast_models.artifacts := forecast_models.scenario_artifact(run_id);
  bundle jsonb := pg_catalog.convert_from(artifact.content, 'UTF8')::jsonb;
  store bigint := (bundle ->> 'store_id')::bigint;
  product bigint := (bundle ->> 'product_id')::bigint;
  origin date := (bundle ->> 'train_end_date')::date;
  model_type text := bundle ->> 'model_type';
  -- §11.2: a regression baseline is re-forecast through its features; the other feature-aware types
  -- stay heuristic (docs: prophet_like and the opt-in trees could take the same frame, but the
  -- contract names regression only).
  method text := case when model_type = 'regression' then 'model_exogenous' else 'heuristic' end;
  given jsonb := coalesce(assumptions, '{}');
  lifecycle double precision := forecast_models.scenario_lifecycle_factor(given #>> '{lifecycle,stage}');
  baseline double precision[];
  modeled double precision[];
  points jsonb := '[]';
  factor double precision;
  value double precision;
  baseline_total double precision := 0;
  scenario_total double precision := 0;
  price double precision;
begin
  baseline := forecast_models.forecast_model(bundle -> 'config', bundle -> 'state', store, product, origin, horizon);
  if method = 'model_exogenous' then
    modeled := forecast_models.forecast_features(bundle -> 'config', bundle -> 'state', store, product, origin, horizon,
                                                 forecast_models.scenario_supplied(given));
  end if;
  for h in 1 .. horizon loop
    if method = 'model_exogenous' then
      factor := lifecycle;
      value := greatest(modeled[h] * factor, 0);
    else
      factor := forecast_models.scenario_factor(origin + h, given);
      value := greatest(baseline[h] * factor, 0);
    end if;
    points := points || pg_catalog.jsonb_build_object('date', origin + h, 'baseline', baseline[h], 'scenario', value,
                                                      'delta', value - baseline[h], 'applied_factor', factor);
    baseline_total := baseline_total + baseline[h];
    scenario_total := scenario_total + value;
  end loop;
  price := forecast_models.scenario_unit_price(account, store, product, origin);
  artifact_key := artifact.artifact_key;
  comparison := pg_catalog.jsonb_build_object(
    'store_id', store, 'product_id', product, 'model_type', model_type, 'horizon', horizon, 'points', points,
    'baseline_total_units', baseline_total, 'scenario_total_units', scenario_total,
    'units_delta', scenario_total - baseline_total,
    'units_delta_pct', case when baseline_total = 0 then 0 else (scenario_total - baseline_total) / baseline_total * 100 end,
    'unit_price_used', price,
    'baseline_revenue', baseline_total * price, 'scenario_revenue', scenario_total * price,
    'revenue_delta', scenario_total * price - baseline_total * price,
    -- An integer past 1e300 units covers like 1e300 (a double holds neither exactly; the cast would
    -- fail); no inventory stays null (least would skip it).
    'coverage_verdict', forecast_models.scenario_coverage(scenario_total,
      case when given #> '{inventory,on_hand_units}' is not null
           then least((given #>> '{inventory,on_hand_units}')::numeric, 1e300)::double precision end),
    'method', method,
    'disclaimer', case method
      when 'model_exogenous' then 'What-if re-forecast by the regression model with the assumed price, promotion and holiday supplied as its features (lags read only sales up to the forecast origin); a lifecycle stage is a fixed factor on top and inventory only sets the coverage verdict. The model learned correlations in past sales, not causes: treat the result as advisory.'
      else 'What-if by fixed heuristic factors on the baseline forecast (price elasticity -1.2, promotion and holiday uplifts, lifecycle factors, clamped to 0.1-5x); inventory only sets the coverage verdict. Advisory: not learned from this product''s sales, not causal.' end,
    'generated_at', util.iso(pg_catalog.clock_timestamp()));
end $$;
comment on function forecast_models.scenario_comparison(text, integer, jsonb) is
  'The ScenarioComparison of validated assumptions on the caller''s model artifact (heuristic, or model_exogenous for regression), and the artifact key.';

-- The problems of a simulation request's fields (simulate and create share them), Pydantic's order.
create or replace function forecast_models.scenario_request_problems(run_id text, horizon integer, assumptions jsonb) returns jsonb
language sql immutable as $$
  select case when run_id is null then pg_catalog.jsonb_build_array(forecast_models.problem('run_id', 'Field required', 'missing'))
              when pg_catalog.length(run_id) < 1 then pg_catalog.jsonb_build_array(forecast_models.problem('run_id',
                'String should have at least 1 character', 'string_too_short'))
              when pg_catalog.length(run_id) > 64 then pg_catalog.jsonb_build_array(forecast_models.problem('run_id',
                'String should have at most 64 characters', 'string_too_long'))
              else '[]'::jsonb end
      || forecast_models.range_problems('horizon', horizon, 1, 90)
      || forecast_models.scenario_assumption_problems(assumptions)
$$;

-- A saved plan as the contract's ScenarioPlanResponse.
create or replace function forecast_models.scenario_plan_json(plan forecast_models.scenario_plans) returns jsonb
language sql stable set search_path = '' as $$
  select pg_catalog.jsonb_build_object(
    'scenario_id', plan.scenario_id, 'name', plan.name, 'store_id', plan.store_id, 'product_id', plan.product_id,
    'run_id', plan.run_id, 'horizon', plan.horizon, 'method', plan.method, 'created_at', util.iso(plan.created_at),
    'assumptions', plan.assumptions, 'comparison', plan.comparison, 'tags', plan.tags, 'cloned_from', plan.cloned_from)
$$;

grant execute on function forecast_models.scenario_assumption_keys(), forecast_models.scenario_date(jsonb),
  forecast_models.scenario_date_problems(text, jsonb), forecast_models.scenario_assumption_problems(jsonb),
  forecast_models.scenario_stored_assumptions(jsonb), forecast_models.scenario_promotion_uplift(text),
  forecast_models.scenario_lifecycle_factor(text), forecast_models.scenario_factor(date, jsonb),
  forecast_models.scenario_supplied(jsonb), forecast_models.scenario_coverage(double precision, double precision),
  forecast_models.scenario_artifact(text), forecast_models.scenario_unit_price(uuid, bigint, bigint, date),
  forecast_models.scenario_comparison(text, integer, jsonb), forecast_models.scenario_request_problems(text, integer, jsonb),
  forecast_models.scenario_plan_json(forecast_models.scenario_plans)
  to authenticated, service_role;

-- ── The endpoints ────────────────────────────────────────────────────────────────────────────────

-- POST /scenarios/simulate (200, every member): stateless. 422: the body (unknown keys, in the
-- assumptions too); 404: no such artifact in the account; 400: a model that cannot forecast here
-- (a disabled flag, no PL/Python); 409: the artifact's bytes changed. `name` is accepted and not used.
create or replace function api.scenarios_simulate(run_id text default null, horizon integer default null,
                                                  assumptions jsonb default null, name text default null)
returns jsonb
language plpgsql stable set search_path = '' set extra_float_digits = 1 as $$
declare
  problems jsonb;
begin
  perform util.require_account();
  problems := forecast_models.scenario_request_problems(scenarios_simulate.run_id, scenarios_simulate.horizon, scenarios_simulate.assumptions);
  if length(scenarios_simulate.name) > 200 then
    problems := problems || forecast_models.problem('name', 'String should have at most 200 characters', 'string_too_long');
  end if;
  if jsonb_array_length(problems) > 0 then
    perform forecast_models.invalid_all(problems);
  end if;
  return (forecast_models.scenario_comparison(scenarios_simulate.run_id, scenarios_simulate.horizon, scenarios_simulate.assumptions)).comparison;
end $$;
comment on function api.scenarios_simulate(text, integer, jsonb, text) is
  'What-if simulation on a trained model (run_id: its artifact key): baseline vs scenario per day, units, revenue and inventory coverage; heuristic, or model_exogenous for a regression model.';

-- POST /scenarios (201, every member): simulates and saves the plan with its comparison.
create or replace function api.scenarios_create(name text default null, run_id text default null, horizon integer default null,
                                                assumptions jsonb default null, tags text[] default null, cloned_from text default null)
returns jsonb
language plpgsql volatile set search_path = '' set extra_float_digits = 1 as $$
declare
  account uuid := util.require_account();
  problems jsonb := '[]';
  simulated record;
  plan forecast_models.scenario_plans;
begin
  if scenarios_create.name is null then
    problems := problems || forecast_models.problem('name', 'Field required', 'missing');
  elsif length(scenarios_create.name) < 1 then
    problems := problems || forecast_models.problem('name', 'String should have at least 1 character', 'string_too_short');
  elsif length(scenarios_create.name) > 200 then
    problems := problems || forecast_models.problem('name', 'String should have at most 200 characters', 'string_too_long');
  end if;
  problems := problems || forecast_models.scenario_request_problems(scenarios_create.run_id, scenarios_create.horizon, scenarios_create.assumptions);
  if cardinality(scenarios_create.tags) > 20 then
    problems := problems || forecast_models.problem('tags',
      format('List should have at most 20 items after validation, not %s', cardinality(scenarios_create.tags)), 'too_long');
  end if;
  problems := problems || forecast_models.null_string_problems('tags', scenarios_create.tags);
  if length(scenarios_create.cloned_from) > 32 then
    problems := problems || forecast_models.problem('cloned_from', 'String should have at most 32 characters', 'string_too_long');
  end if;
  if jsonb_array_length(problems) > 0 then
    perform forecast_models.invalid_all(problems);
  end if;

  select s.artifact_key, s.comparison into simulated
    from forecast_models.scenario_comparison(scenarios_create.run_id, scenarios_create.horizon, scenarios_create.assumptions) s;
  insert into forecast_models.scenario_plans (account_id, scenario_id, name, store_id, product_id, run_id, horizon,
                                              assumptions, comparison, method, tags, cloned_from)
  values (account, replace(gen_random_uuid()::text, '-', ''), scenarios_create.name,
          (simulated.comparison ->> 'store_id')::bigint, (simulated.comparison ->> 'product_id')::bigint, simulated.artifact_key,
          scenarios_create.horizon, forecast_models.scenario_stored_assumptions(scenarios_create.assumptions), simulated.comparison,
          simulated.comparison ->> 'method', to_jsonb(coalesce(scenarios_create.tags, '{}')), scenarios_create.cloned_from)
  returning * into plan;
  perform set_config('response.status', '201', true);
  return forecast_models.scenario_plan_json(plan);
end $$;
comment on function api.scenarios_create(text, text, integer, jsonb, text[], text) is
  'Simulates and saves a named scenario plan (assumptions and the comparison snapshot), with tags and an optional cloned_from; any member of the account.';

-- GET /scenarios: {scenarios, total}, newest first; `tags` (repeated) must all be among a plan's.
create or replace function api.scenarios_list("limit" integer default 20, "offset" integer default 0, tags text[] default null)
returns jsonb
language plpgsql stable set search_path = '' as $$
declare
  account uuid := util.require_account();
  problems jsonb := forecast_models.range_problems('limit', coalesce(scenarios_list."limit", 20), 1, 100)
                 || forecast_models.range_problems('offset', coalesce(scenarios_list."offset", 0), 0, null);
  wanted jsonb := to_jsonb(coalesce(scenarios_list.tags, '{}'));
begin
  problems := problems || forecast_models.null_string_problems('tags', scenarios_list.tags);
  if jsonb_array_length(problems) > 0 then
    perform forecast_models.invalid_all(problems);
  end if;
  return jsonb_build_object(
    'scenarios', coalesce((select jsonb_agg(jsonb_build_object(
                                    'scenario_id', p.scenario_id, 'name', p.name, 'store_id', p.store_id, 'product_id', p.product_id,
                                    'horizon', p.horizon, 'units_delta', p.comparison -> 'units_delta',
                                    'revenue_delta', p.comparison -> 'revenue_delta', 'created_at', util.iso(p.created_at), 'tags', p.tags)
                                  order by p.created_at desc, p.id desc)
                             from (select * from forecast_models.scenario_plans q
                                    where q.account_id = account and q.tags @> wanted
                                    order by q.created_at desc, q.id desc
                                    limit coalesce(scenarios_list."limit", 20) offset coalesce(scenarios_list."offset", 0)) p), '[]'),
    'total', (select count(*) from forecast_models.scenario_plans q where q.account_id = account and q.tags @> wanted));
end $$;
comment on function api.scenarios_list(integer, integer, text[]) is
  'Saved scenario plans of the account, newest first (limit 1..100, offset), filtered by tags (all must be contained); {scenarios, total}.';

-- GET /scenarios/{scenario_id}: the plan with its comparison snapshot, or 404.
create or replace function api.scenarios_get(scenario_id text) returns jsonb
language sql stable set search_path = '' as $$
  select util.found((select forecast_models.scenario_plan_json(p) from forecast_models.scenario_plans p
                      where p.account_id = util.require_account() and p.scenario_id = scenarios_get.scenario_id),
                    format('Scenario %s not found', left(scenarios_get.scenario_id, 64)))
$$;
comment on function api.scenarios_get(text) is 'One saved scenario plan with its comparison snapshot; 404 when the account has none with this id.';

-- DELETE /scenarios/{scenario_id}: 204, or 404 (any member of the account, as policies.sql says).
create or replace function api.scenarios_delete(scenario_id text) returns jsonb
language plpgsql volatile set search_path = '' as $$
declare
  account uuid := util.require_account();
begin
  delete from forecast_models.scenario_plans p where p.account_id = account and p.scenario_id = scenarios_delete.scenario_id;
  if not found then
    raise exception 'Scenario % not found', left(scenarios_delete.scenario_id, 64) using errcode = 'PT404';
  end if;
  perform set_config('response.status', '204', true);
  return null;
end $$;
comment on function api.scenarios_delete(text) is 'Deletes a saved scenario plan of the account; 404 when there is none with this id.';

-- POST /scenarios/compare (200): 2–5 saved plans (no id twice), from their snapshots only. The
-- baseline totals are the first listed plan's; ranks 1 … n by rank_by, highest first (a tie keeps
-- the listed order). chart_series: one row per date any plan covers, in date order, with the first
-- plan's `baseline` and each plan's scenario under its series_name (null on a date it does not
-- cover): the plan's name, or "name (2)", "name (3)" … when an earlier plan (or the row's own
-- `date` and `baseline` keys) already holds it. 404 for the first unknown id.
create or replace function api.scenarios_compare(scenario_ids text[] default null, rank_by text default 'revenue_delta')
returns jsonb
language plpgsql stable set search_path = '' set extra_float_digits = 1 as $$
declare
  account uuid := util.require_account();
  problems jsonb := '[]';
  n integer := coalesce(cardinality(scenarios_compare.scenario_ids), 0);
  unknown text;
  plan record;
  used text[] := array['date', 'baseline'];
  series text;
  k integer;
  entries jsonb := '[]';
  first jsonb;
begin
  if scenarios_compare.scenario_ids is null then
    problems := problems || forecast_models.problem('scenario_ids', 'Field required', 'missing');
  elsif n < 2 then
    problems := problems || forecast_models.problem('scenario_ids', format('List should have at least 2 items after validation, not %s', n), 'too_short');
  elsif n > 5 then
    problems := problems || forecast_models.problem('scenario_ids', format('List should have at most 5 items after validation, not %s', n), 'too_long');
  end if;
  problems := problems || forecast_models.null_string_problems('scenario_ids', scenarios_compare.scenario_ids);
  if (select count(distinct t.id) from unnest(scenarios_compare.scenario_ids) t(id)) < (select count(t.id) from unnest(scenarios_compare.scenario_ids) t(id)) then
    problems := problems || forecast_models.problem('scenario_ids', 'scenario_ids must not list a plan twice', 'value_error');
  end if;
  if scenarios_compare.rank_by is null or scenarios_compare.rank_by not in ('revenue_delta', 'units_delta') then
    problems := problems || forecast_models.problem('rank_by', 'Input should be ''revenue_delta'' or ''units_delta''', 'literal_error');
  end if;
  if jsonb_array_length(problems) > 0 then
    perform forecast_models.invalid_all(problems);
  end if;
  select t.id into unknown from unnest(scenarios_compare.scenario_ids) with ordinality t(id, i)
   where not exists (select from forecast_models.scenario_plans p where p.account_id = account and p.scenario_id = t.id)
   order by t.i limit 1;
  if found then
    raise exception 'Scenario % not found', left(unknown, 64) using errcode = 'PT404';
  end if;

  for plan in select t.i, p.scenario_id, p.name, p.comparison
                from unnest(scenarios_compare.scenario_ids) with ordinality t(id, i)
                join forecast_models.scenario_plans p on p.account_id = account and p.scenario_id = t.id
               order by t.i loop
    series := plan.name;
    k := 2;
    while series = any(used) loop
      series := format('%s (%s)', plan.name, k);
      k := k + 1;
    end loop;
    used := used || series;
    entries := entries || jsonb_build_object('i', plan.i, 'scenario_id', plan.scenario_id, 'name', plan.name, 'series_name', series,
                                             'comparison', plan.comparison);
  end loop;
  first := entries -> 0 -> 'comparison';

  return jsonb_build_object(
    'baseline_total_units', first -> 'baseline_total_units', 'baseline_revenue', first -> 'baseline_revenue', 'rank_by', scenarios_compare.rank_by,
    'scenarios', (select jsonb_agg(jsonb_build_object('scenario_id', r.e ->> 'scenario_id', 'name', r.e ->> 'name', 'series_name', r.e ->> 'series_name',
                                                      'units_delta', r.e #> '{comparison,units_delta}', 'revenue_delta', r.e #> '{comparison,revenue_delta}',
                                                      'coverage_verdict', r.e #>> '{comparison,coverage_verdict}', 'rank', r.rank) order by r.rank)
                    from (select e, row_number() over (order by (e #>> array['comparison', scenarios_compare.rank_by])::double precision desc,
                                                                (e ->> 'i')::integer) as rank
                            from jsonb_array_elements(entries) e) r),
    'chart_series', (with points as (
                       select (e ->> 'i')::integer as i, e ->> 'series_name' as series, (pt ->> 'date')::date as day,
                              pt -> 'baseline' as baseline, pt -> 'scenario' as scenario
                         from jsonb_array_elements(entries) e, jsonb_array_elements(e #> '{comparison,points}') pt
                     ), days as (select distinct p.day from points p)
                     select coalesce(jsonb_agg(
                              jsonb_build_object('date', d.day,
                                                 'baseline', (select p.baseline from points p where p.i = (first_entry.i) and p.day = d.day))
                              || (select jsonb_object_agg(e ->> 'series_name',
                                                          (select p.scenario from points p where p.i = (e ->> 'i')::integer and p.day = d.day))
                                    from jsonb_array_elements(entries) e)
                              order by d.day), '[]')
                       from days d, (select (entries -> 0 ->> 'i')::integer as i) first_entry));
end $$;
comment on function api.scenarios_compare(text[], text) is
  'Ranks 2..5 saved scenario plans by revenue_delta or units_delta (from their snapshots) against the first plan''s baseline, with a merged chart series.';

grant execute on function api.scenarios_simulate(text, integer, jsonb, text),
  api.scenarios_create(text, text, integer, jsonb, text[], text), api.scenarios_list(integer, integer, text[]),
  api.scenarios_get(text), api.scenarios_delete(text), api.scenarios_compare(text[], text)
  to authenticated, service_role;
