-- ForecastLab scenarios (docs/forecastlab-models.md, "Scenarios"): the heuristic's factors against
-- hand-computed values (windows, reversed windows, clamps, a holiday listed twice, lifecycle), the
-- coverage verdicts, totals and revenue, unit_price_used and its fallbacks; model_exogenous on a
-- regression artifact (the plain forecast with no assumptions, a genuinely different re-forecast
-- when the price changes, the lifecycle factor on top, the supplied frame cells, and no read of
-- history after the origin); saving, listing, reading, deleting and comparing plans; the 422 / 404
-- / 409 / 400 answers; two tenants and row-level security on the table itself.
begin;
select plan(75);

create temp table t_ids as select
  'f5000000-0000-4000-8000-00000000000a'::uuid as a, 'f5000000-0000-4000-8000-00000000000b'::uuid as b;
grant select on t_ids to authenticated, service_role;

-- Account A: store S1; P1 (base price 3.00) sold 90 days from 2026-01-01, q_i = 20 + i mod 7, or
-- 40 + i mod 7 on every third day, which sells at 1.50 instead of 2.00 (price drives demand: the
-- regression learns it); the last day (i = 89, 2026-03-31) sells 25 at 2.00. P2 (base price 4.00)
-- sold 0 at 0.00 for 10 days; P3 (base price 0) sold 5 at 0.00. Account B: a store and product.
insert into forecast.stores (account_id, store_code, name) select a, 'S1', 'S1' from t_ids;
insert into forecast.products (account_id, sku, name, base_price)
select a, sku, sku, price from t_ids, (values ('P1', 3.00), ('P2', 4.00), ('P3', 0)) x(sku, price);
insert into forecast.stores (account_id, store_code, name) select b, 'S1', 'B' from t_ids;
insert into forecast.products (account_id, sku, name, base_price) select b, 'P1', 'B', 1 from t_ids;
create temp table t_a as select
  (select id from forecast.stores where account_id = (select a from t_ids)) as s,
  (select id from forecast.products where account_id = (select a from t_ids) and sku = 'P1') as p,
  (select id from forecast.products where account_id = (select a from t_ids) and sku = 'P2') as p2,
  (select id from forecast.products where account_id = (select a from t_ids) and sku = 'P3') as p3,
  (select id from forecast.stores where account_id = (select b from t_ids)) as bs,
  (select id from forecast.products where account_id = (select b from t_ids)) as bp;
grant select on t_a to authenticated, service_role;
insert into forecast.sales_daily (account_id, store_id, product_id, date, quantity, unit_price, total_amount)
select (select a from t_ids), s, p, date '2026-01-01' + i, case when i % 3 = 0 then 40 else 20 end + i % 7,
       case when i % 3 = 0 then 1.50 else 2.00 end, 0 from t_a, generate_series(0, 89) i
union all
select (select a from t_ids), s, p2, date '2026-03-22' + i, 0, 0, 0 from t_a, generate_series(0, 9) i
union all
select (select a from t_ids), s, p3, date '2026-03-22' + i, 5, 0, 0 from t_a, generate_series(0, 9) i
union all
select (select b from t_ids), bs, bp, date '2026-01-01' + i, 7, 1, 0 from t_a, generate_series(0, 29) i;

-- The artifacts (admins train): naive, regression and prophet_like on P1, naive on P2 and P3; B's naive.
select tests.as_member((select a from t_ids), 'admin');
create temp table t_art (name text primary key, path text, key text);
grant all on t_art to authenticated, service_role;
insert into t_art (name, path)
select x.name, api.forecasting_train(x.st, x.pr, '2026-01-01', '2026-03-31', x.config) ->> 'model_path'
  from t_a, lateral (values ('naive', s, p, '{"model_type": "naive"}'::jsonb),
                            ('regression', s, p, '{"model_type": "regression", "max_iter": 30}'),
                            ('prophet_like', s, p, '{"model_type": "prophet_like"}'),
                            ('p2', s, p2, '{"model_type": "naive"}'), ('p3', s, p3, '{"model_type": "naive"}')) x(name, st, pr, config);
select tests.as_member((select b from t_ids), 'admin');
insert into t_art (name, path)
select 'b', api.forecasting_train(bs, bp, '2026-01-01', '2026-01-30', '{"model_type": "naive"}') ->> 'model_path' from t_a;
update t_art set key = substring(path from 'model_([0-9a-f]{12})\.joblib');

create temp table t_sim (name text primary key, answer jsonb);
grant all on t_sim to authenticated, service_role;
create function pg_temp.k(name text) returns text language sql as $$ select key from t_art where t_art.name = k.name $$;
create function pg_temp.values_of(answer jsonb, field text) returns double precision[] language sql as $$
  select array(select (pt ->> field)::double precision from jsonb_array_elements(answer -> 'points') pt)
$$;
create function pg_temp.sim(name text) returns jsonb language sql as $$ select answer from t_sim where t_sim.name = sim.name $$;
grant execute on all functions in schema pg_temp to authenticated, service_role;

-- ── The heuristic, by hand (naive baseline: 25 a day from 2026-04-01) ────────────────────────────
-- H1: price −15 % on 04-01 … 04-03 (given end first), bogo 04-03 … 04-06, a holiday on 04-05 listed
-- twice (and one outside the horizon), lifecycle decline, 300 units on hand. With p = 0.85^−1.2
-- (≈ 1.21534): 04-01, 04-02 p·0.85; 04-03 p·1.4·0.85; 04-04 1.4·0.85; 04-05 1.4·1.3·0.85; 04-06
-- 1.4·0.85; 04-07 … 04-10 0.85.
select tests.as_member((select a from t_ids), 'viewer');
insert into t_sim values
  ('h1', api.scenarios_simulate(pg_temp.k('naive'), 10, '{"price": {"change_pct": -0.15, "start_date": "2026-04-03", "end_date": "2026-04-01"},
      "promotion": {"kind": "bogo", "start_date": "2026-04-03", "end_date": "2026-04-06"},
      "holiday": {"dates": ["2026-04-05", "2026-04-05", "2026-05-01"]}, "lifecycle": {"stage": "decline"}, "inventory": {"on_hand_units": 300}}')),
  ('h1_ordered', api.scenarios_simulate(pg_temp.k('naive'), 10, '{"price": {"change_pct": -0.15, "start_date": "2026-04-01", "end_date": "2026-04-03"},
      "promotion": {"kind": "bogo", "start_date": "2026-04-06", "end_date": "2026-04-03"},
      "holiday": {"dates": ["2026-04-05", "2026-04-05", "2026-05-01"]}, "lifecycle": {"stage": "decline"}, "inventory": {"on_hand_units": 300}}')),
  ('h2', api.scenarios_simulate(pg_temp.k('naive'), 3, '{"price": {"change_pct": -0.9, "start_date": "2026-04-01", "end_date": "2026-04-02"},
      "promotion": {"kind": "pct_off", "start_date": "2026-04-02", "end_date": "2026-04-03"}}')),
  ('h3', api.scenarios_simulate(pg_temp.k('naive'), 2, '{"price": {"change_pct": 5.0, "start_date": "2026-04-01", "end_date": "2026-04-01"},
      "lifecycle": {"stage": "decline"}}')),
  ('kinds', api.scenarios_simulate(pg_temp.k('naive'), 4, '{"promotion": {"kind": "markdown", "start_date": "2026-04-02", "end_date": "2026-04-02"},
      "lifecycle": {"stage": "launch"}}')),
  ('empty', api.scenarios_simulate(pg_temp.k('naive'), 3, '{}')),
  ('absent', api.scenarios_simulate(pg_temp.k('naive'), 3)),
  ('nulls', api.scenarios_simulate('artifacts/models/model_' || pg_temp.k('naive') || '.joblib', 3,
      '{"price": null, "promotion": null, "holiday": null, "inventory": null, "lifecycle": null}')),
  ('p2', api.scenarios_simulate(pg_temp.k('p2'), 3, '{"lifecycle": {"stage": "launch"}, "inventory": {"on_hand_units": 0}}')),
  ('p3', api.scenarios_simulate(pg_temp.k('p3'), 2, '{"inventory": {"on_hand_units": 0}}'));

select is(pg_temp.sim('h1') - 'points' - 'generated_at' - 'disclaimer' - 'baseline_total_units' - 'scenario_total_units' - 'units_delta'
            - 'units_delta_pct' - 'scenario_revenue' - 'revenue_delta',
  jsonb_build_object('store_id', (select s from t_a), 'product_id', (select p from t_a), 'model_type', 'naive', 'horizon', 10,
                     'unit_price_used', 2, 'baseline_revenue', 500, 'coverage_verdict', 'at_risk', 'method', 'heuristic'),
  'the comparison''s fields: a naive artifact is heuristic; revenue at the last sale''s 2.00 (not the base price 3.00)');
select is(array(select pt ->> 'date' from jsonb_array_elements(pg_temp.sim('h1') -> 'points') pt),
  array['2026-04-01', '2026-04-02', '2026-04-03', '2026-04-04', '2026-04-05', '2026-04-06', '2026-04-07', '2026-04-08', '2026-04-09', '2026-04-10'],
  'the days after the training window''s end, as predict''s');
select is(pg_temp.values_of(pg_temp.sim('h1'), 'baseline'), array_fill(25::double precision, array[10]), 'the baseline is the naive forecast, 25');
select is(pg_temp.values_of(pg_temp.sim('h1'), 'applied_factor'),
  array[power(0.85::float8, -1.2) * 0.85, power(0.85::float8, -1.2) * 0.85, power(0.85::float8, -1.2) * 1.4 * 0.85, 1.4::float8 * 0.85,
        1.4::float8 * 1.3 * 0.85, 1.4::float8 * 0.85, 0.85, 0.85, 0.85, 0.85]::float8[],
  'factors: price (0.85^-1.2) in its reversed window, bogo 1.40 in its window, holiday 1.30 once on 04-05, decline 0.85 throughout');
select ok((select abs((pg_temp.sim('h1') #>> '{points,0,applied_factor}')::float8 - 1.0330378) < 1e-7
              and abs((pg_temp.sim('h1') #>> '{points,4,applied_factor}')::float8 - 1.547) < 1e-12),
  'by hand: 0.85^-1.2 · 0.85 ≈ 1.0330378 and 1.4 · 1.3 · 0.85 = 1.547');
select is(pg_temp.values_of(pg_temp.sim('h1'), 'scenario'),
  array(select 25 * f from unnest(pg_temp.values_of(pg_temp.sim('h1'), 'applied_factor')) f), 'scenario = baseline · factor');
select is(pg_temp.values_of(pg_temp.sim('h1'), 'delta'),
  array(select 25 * f - 25 from unnest(pg_temp.values_of(pg_temp.sim('h1'), 'applied_factor')) f), 'delta = scenario − baseline');
select ok(abs((pg_temp.sim('h1') ->> 'scenario_total_units')::float8 - 25 * 10.83932852) < 1e-5
          and (pg_temp.sim('h1') ->> 'baseline_total_units')::float8 = 250,
  'totals: 250 and 25 · Σ factors (10.8393285)');
select is(array[(pg_temp.sim('h1') ->> 'units_delta')::float8, (pg_temp.sim('h1') ->> 'units_delta_pct')::float8,
                (pg_temp.sim('h1') ->> 'scenario_revenue')::float8, (pg_temp.sim('h1') ->> 'revenue_delta')::float8],
  array[(pg_temp.sim('h1') ->> 'scenario_total_units')::float8 - 250, ((pg_temp.sim('h1') ->> 'scenario_total_units')::float8 - 250) / 250 * 100,
        (pg_temp.sim('h1') ->> 'scenario_total_units')::float8 * 2, (pg_temp.sim('h1') ->> 'scenario_total_units')::float8 * 2 - 500],
  'units_delta, units_delta_pct (a percentage), scenario revenue and revenue_delta at 2.00 a unit');
select is(pg_temp.sim('h1') - 'generated_at', pg_temp.sim('h1_ordered') - 'generated_at', 'a reversed window is the same window (normalised, not refused)');
select is(pg_temp.values_of(pg_temp.sim('h2'), 'applied_factor'), array[5, 5, 1.25]::float8[],
  'clamps: 0.1^-1.2 ≈ 15.8 clamps to 5, and 5 · 1.25 clamps to 5 again; pct_off alone 1.25');
select is(pg_temp.values_of(pg_temp.sim('h3'), 'applied_factor'), array[0.1, 0.85]::float8[],
  'clamps: 6^-1.2 · 0.85 ≈ 0.099 clamps to 0.1');
select is(pg_temp.values_of(pg_temp.sim('kinds'), 'applied_factor'), array[1.2, 1.3::float8 * 1.2, 1.2, 1.2]::float8[],
  'markdown 1.30 in its one-day window; launch 1.2 throughout');
select is(array[pg_temp.values_of(pg_temp.sim('empty'), 'applied_factor'), pg_temp.values_of(pg_temp.sim('empty'), 'scenario')],
  array[array[1, 1, 1], array[25, 25, 25]]::float8[], 'no assumptions: factor 1, the baseline unchanged');
select is(array[pg_temp.sim('empty') - 'generated_at', pg_temp.sim('nulls') - 'generated_at', pg_temp.sim('empty') -> 'coverage_verdict'],
  array[pg_temp.sim('absent') - 'generated_at', pg_temp.sim('absent') - 'generated_at', '"unknown"'],
  'absent, {} and five nulls are the same empty assumptions (the full model_path works as run_id too); no inventory: unknown');

-- ── Coverage, unit price ─────────────────────────────────────────────────────────────────────────
select is(array[forecast_models.scenario_coverage(5, null), forecast_models.scenario_coverage(5, 0), forecast_models.scenario_coverage(0, 0),
                forecast_models.scenario_coverage(120, 100), forecast_models.scenario_coverage(109, 100), forecast_models.scenario_coverage(91, 100),
                forecast_models.scenario_coverage(89, 100)],
  array['unknown', 'stockout', 'at_risk', 'stockout', 'at_risk', 'at_risk', 'covered'],
  'verdicts: none; nothing on hand (demand or not); above 110 %; 90 … 110 %; below 90 %');
select is(array(select api.scenarios_simulate(pg_temp.k('naive'), 10, jsonb_build_object('price', '{"change_pct": -0.15, "start_date": "2026-04-01", "end_date": "2026-04-03"}'::jsonb,
                                        'promotion', '{"kind": "bogo", "start_date": "2026-04-03", "end_date": "2026-04-06"}'::jsonb,
                                        'holiday', '{"dates": ["2026-04-05"]}'::jsonb, 'lifecycle', '{"stage": "decline"}'::jsonb,
                                        'inventory', jsonb_build_object('on_hand_units', u))) ->> 'coverage_verdict'
                  from unnest(array[240, 300, 400]) u),
  array['stockout', 'at_risk', 'covered'], 'H1''s 271 units against 240 (> 264), 300 (≥ 270) and 400 on hand');
select is(array[pg_temp.sim('p2') ->> 'unit_price_used', pg_temp.sim('p2') ->> 'units_delta_pct', pg_temp.sim('p2') ->> 'coverage_verdict',
                pg_temp.sim('p3') ->> 'unit_price_used', pg_temp.sim('p3') ->> 'coverage_verdict'],
  array['4', '0', 'at_risk', '1', 'stockout'],
  'zero sale prices count as none: the base price 4.00, else 1.0; units_delta_pct 0 on a zero baseline; nothing on hand: at_risk without demand, stockout with');

-- ── model_exogenous (regression) ─────────────────────────────────────────────────────────────────
insert into t_sim values
  ('r_empty', api.scenarios_simulate(pg_temp.k('regression'), 14, '{}')),
  ('r_price', api.scenarios_simulate(pg_temp.k('regression'), 14, '{"price": {"change_pct": -0.3, "start_date": "2026-04-01", "end_date": "2026-04-10"}}')),
  ('r_all', api.scenarios_simulate(pg_temp.k('regression'), 14, '{"price": {"change_pct": -0.3, "start_date": "2026-04-10", "end_date": "2026-04-01"},
      "promotion": {"kind": "bundle", "start_date": "2026-04-05", "end_date": "2026-04-08"}, "holiday": {"dates": ["2026-04-06"]},
      "inventory": {"on_hand_units": 200}, "lifecycle": {"stage": "launch"}}')),
  ('r_launch', api.scenarios_simulate(pg_temp.k('regression'), 14, '{"lifecycle": {"stage": "launch"}}')),
  ('prophet', api.scenarios_simulate(pg_temp.k('prophet_like'), 3, '{"price": {"change_pct": -0.3, "start_date": "2026-04-01", "end_date": "2026-04-10"}}'));
select is(array[pg_temp.sim('r_empty') ->> 'method', pg_temp.sim('prophet') ->> 'method', pg_temp.sim('r_empty') ->> 'model_type'],
  array['model_exogenous', 'heuristic', 'regression'], 'a regression artifact is re-forecast (model_exogenous); prophet_like stays heuristic');
select is(pg_temp.values_of(pg_temp.sim('r_empty'), 'baseline'),
  array(select (f ->> 'forecast')::float8 from jsonb_array_elements(api.forecasting_predict((select s from t_a), (select p from t_a), 14,
                                                                                           (select path from t_art where name = 'regression')) -> 'forecasts') f),
  'the baseline is predict''s forecast of the artifact');
select is(array[pg_temp.values_of(pg_temp.sim('r_empty'), 'scenario'), pg_temp.values_of(pg_temp.sim('r_empty'), 'applied_factor')],
  array[pg_temp.values_of(pg_temp.sim('r_empty'), 'baseline'), array_fill(1::float8, array[14])],
  'no assumptions: the re-forecast is exactly the plain forecast (the same frame, the same model)');
select ok((select bool_and(s > b * 1.05) from unnest((pg_temp.values_of(pg_temp.sim('r_price'), 'scenario'))[1:10],
                                                     (pg_temp.values_of(pg_temp.sim('r_price'), 'baseline'))[1:10]) x(s, b))
          and (pg_temp.values_of(pg_temp.sim('r_price'), 'scenario'))[11:14] = (pg_temp.values_of(pg_temp.sim('r_price'), 'baseline'))[11:14],
  'a 30 % cut re-forecasts higher demand on the window''s days (the model learned cheap days sell more), and nothing outside it');
select ok((select sum(abs(s - b * power(0.7::float8, -1.2))) > 1 from unnest((pg_temp.values_of(pg_temp.sim('r_price'), 'scenario'))[1:10],
                                                                       (pg_temp.values_of(pg_temp.sim('r_price'), 'baseline'))[1:10]) x(s, b))
          and pg_temp.values_of(pg_temp.sim('r_price'), 'applied_factor') = array_fill(1::float8, array[14]),
  'and it is not the heuristic''s baseline · 0.7^-1.2: the model answers, no factor is applied');
select is(pg_temp.values_of(pg_temp.sim('r_launch'), 'scenario'),
  array(select greatest(v * 1.2, 0) from unnest(pg_temp.values_of(pg_temp.sim('r_empty'), 'scenario')) v),
  'lifecycle is a factor on top of the re-forecast (launch 1.2), and applied_factor says so');
select is(array[(pg_temp.values_of(pg_temp.sim('r_all'), 'applied_factor'))[1], (pg_temp.sim('r_all') ->> 'scenario_total_units')::float8],
  array[1.2::float8, (select sum(v) from unnest(pg_temp.values_of(pg_temp.sim('r_all'), 'scenario')) v)],
  'every assumption at once: lifecycle 1.2 applied, the total adds the days');
select is(pg_temp.sim('r_all') ->> 'coverage_verdict',
  forecast_models.scenario_coverage((pg_temp.sim('r_all') ->> 'scenario_total_units')::float8, 200), 'inventory only sets the verdict');
select is(forecast_models.frame_v1_supplied('2026-04-02', array[1, 2, 3, 4, 0.5, 0.5, 0.5, 0.5, 0, 0, 0.5, 0, 0, 30]::float8[],
            '{"price": {"from": "2026-04-01", "to": "2026-04-03", "change_pct": -0.3}, "promotion": {"from": "2026-04-02", "to": "2026-04-02"},
              "holidays": ["2026-04-02"]}'),
  array[1, 2, 3, 4, 0.5, 0.5, 0.5, 0.5, 0, 0, 0.5 * 0.7::float8, 1, 1, 30]::float8[],
  'the supplied frame row: price_factor · (1 + change_pct), promo_active 1, is_holiday 1; lags and the rest untouched');
select is(forecast_models.frame_v1_supplied('2026-04-04', array[1, 2, 3, 4, 0.5, 0.5, 0.5, 0.5, 0, 0, 0.5, 0, 1, 30]::float8[],
            '{"price": {"from": "2026-04-01", "to": "2026-04-03", "change_pct": -0.3}, "promotion": {"from": "2026-04-02", "to": "2026-04-02"},
              "holidays": ["2026-04-02"]}'),
  array[1, 2, 3, 4, 0.5, 0.5, 0.5, 0.5, 0, 0, 0.5, 0, 1, 30]::float8[],
  'outside the plan''s days the row is the frame''s own (a stored holiday stays one)');
select is(forecast_models.frame_v1_supplied('2026-04-02', array[1, 2]::float8[], null), array[1, 2]::float8[], 'no plan, no change');
select is(forecast_models.forecast_features(b.s -> 'config', b.s -> 'state', (select s from t_a), (select p from t_a), '2026-03-31', 14),
          pg_temp.values_of(pg_temp.sim('r_empty'), 'baseline'),
  'the old six-argument forecast_features still answers the plain forecast')
  from (select convert_from(content, 'UTF8')::jsonb as s from forecast_models.artifacts where artifact_key = pg_temp.k('regression')) b;

-- ── Time safety: wild sales after the origin (2026-03-31) change nothing ─────────────────────────
select tests.clear_authentication();
insert into forecast.sales_daily (account_id, store_id, product_id, date, quantity, unit_price, total_amount)
select (select a from t_ids), s, p, date '2026-04-01' + i, 99999, 999.99, 0 from t_a, generate_series(0, 29) i;
select tests.as_member((select a from t_ids), 'viewer');
select is((select count(*)::integer from t_sim t
            where t.name in ('h1', 'r_empty', 'r_price', 'r_all')
              and (t.answer - 'generated_at') = (api.scenarios_simulate(pg_temp.k(case when t.name = 'h1' then 'naive' else 'regression' end),
                                                                        (t.answer ->> 'horizon')::integer,
                                                                        case t.name when 'h1' then '{"price": {"change_pct": -0.15, "start_date": "2026-04-03", "end_date": "2026-04-01"},
                                                                          "promotion": {"kind": "bogo", "start_date": "2026-04-03", "end_date": "2026-04-06"},
                                                                          "holiday": {"dates": ["2026-04-05", "2026-04-05", "2026-05-01"]}, "lifecycle": {"stage": "decline"}, "inventory": {"on_hand_units": 300}}'
                                                                          when 'r_empty' then '{}'
                                                                          when 'r_price' then '{"price": {"change_pct": -0.3, "start_date": "2026-04-01", "end_date": "2026-04-10"}}'
                                                                          else '{"price": {"change_pct": -0.3, "start_date": "2026-04-10", "end_date": "2026-04-01"},
                                                                            "promotion": {"kind": "bundle", "start_date": "2026-04-05", "end_date": "2026-04-08"}, "holiday": {"dates": ["2026-04-06"]},
                                                                            "inventory": {"on_hand_units": 200}, "lifecycle": {"stage": "launch"}}' end::jsonb) - 'generated_at')),
  4, 'sales planted after the origin (99999 units at 999.99) change no point, total, price or verdict, heuristic or re-forecast');

-- ── Errors ───────────────────────────────────────────────────────────────────────────────────────
select is(tests.error_of($$select api.scenarios_simulate()$$) -> 'errors',
  '[{"field": "run_id", "message": "Field required", "type": "missing"}, {"field": "horizon", "message": "Field required", "type": "missing"}]'::jsonb,
  'run_id and horizon are required, one 422');
select is(array(select e ->> 'field' from jsonb_array_elements(tests.error_of(format($$select api.scenarios_simulate(%L, 91,
            '{"price": {"change_pct": -0.95, "start_date": "2026-04-01", "end_date": "04/03/2026", "note": 1}, "promotion": {"kind": "flash", "start_date": 5},
              "holiday": {"dates": []}, "inventory": {"on_hand_units": -1}, "lifecycle": "decline", "weather": {}}', name => %L)$$,
            repeat('x', 65), repeat('n', 201))) -> 'errors') e),
  array['run_id', 'horizon', 'assumptions.weather', 'assumptions.price.note', 'assumptions.price.change_pct', 'assumptions.price.end_date',
        'assumptions.promotion.kind', 'assumptions.promotion.start_date', 'assumptions.promotion.end_date', 'assumptions.holiday.dates',
        'assumptions.inventory.on_hand_units', 'assumptions.lifecycle', 'name'],
  'every problem, one 422, with Pydantic''s paths: unknown keys at both levels, bounds, dates, kinds, an empty holiday list, types');
select is(array(select e ->> 'type' from jsonb_array_elements(tests.error_of($$select api.scenarios_simulate('', 1,
            '{"holiday": {"dates": ["2026-02-30", 20260401]}, "inventory": {"on_hand_units": 2.5}, "price": {"change_pct": "-0.1", "start_date": "2026-04-01", "end_date": "2026-04-01"}}')$$) -> 'errors') e),
  array['string_too_short', 'float_type', 'date_parsing', 'date_type', 'int_type'], 'an empty run_id, a string for a number, no such day, a number for a date, 2.5 units');
select is(tests.error_of($$select api.scenarios_simulate(pg_temp.k('naive'), 3, 'null')$$) #>> '{errors,0,field}', 'assumptions',
  'a JSON null for the assumptions object is a 422 (absent is the empty set)');
select is(array(select tests.error_of(format('select api.scenarios_simulate(%L, 3)', r)) ->> 'sqlstate'
                  from unnest(array['bogus', '000000000000', 'artifacts/models/model_000000000000.joblib', pg_temp.k('b'),
                                    pg_temp.k('naive') || ' ']) r),
  array['PT404', 'PT404', 'PT404', 'PT404', 'PT404'], 'a bogus run_id, an unknown key or path, another account''s key: all 404');
select is(tests.error_of($$select api.scenarios_simulate('bogus', 3)$$) ->> 'message', 'Model artifact not found: bogus', 'the 404 names what was missing');
select tests.clear_authentication();
set local forecastlab.forecast_enable_lightgbm = on;
select tests.as_member((select a from t_ids), 'admin');
insert into t_art (name, path)
select 'lightgbm', api.forecasting_train(s, p, '2026-01-01', '2026-03-31', '{"model_type": "lightgbm", "n_estimators": 10}') ->> 'model_path' from t_a;
update t_art set key = substring(path from 'model_([0-9a-f]{12})\.joblib') where name = 'lightgbm';
reset forecastlab.forecast_enable_lightgbm;
select is(tests.error_of($$select api.scenarios_simulate(pg_temp.k('lightgbm'), 3)$$) ->> 'sqlstate', 'PT400',
  'a model that cannot forecast here (its flag off) is a 400');
select tests.clear_authentication();
update forecast_models.artifacts set content = content || '\x20'::bytea where artifact_key = (select key from t_art where name = 'p3');
select tests.as_member((select a from t_ids), 'viewer');
select is(tests.error_of($$select api.scenarios_simulate(pg_temp.k('p3'), 3)$$) ->> 'sqlstate', 'PT409', 'changed artifact bytes are a 409, as predict''s');

-- ── Saving plans ─────────────────────────────────────────────────────────────────────────────────
create temp table t_plan (name text primary key, answer jsonb, status text);
grant all on t_plan to authenticated, service_role;
select tests.as_member((select a from t_ids), 'viewer');
insert into t_plan values ('cut', api.scenarios_create('Price cut', 'artifacts/models/model_' || pg_temp.k('naive') || '.joblib', 10,
  '{"price": {"change_pct": -0.15, "start_date": "2026-04-03", "end_date": "2026-04-01"},
    "promotion": {"kind": "bogo", "start_date": "2026-04-03", "end_date": "2026-04-06"},
    "holiday": {"dates": ["2026-04-05", "2026-04-05", "2026-05-01"]}, "lifecycle": {"stage": "decline"}, "inventory": {"on_hand_units": 300}}',
  array['price', 'q2'], 'abc'), current_setting('response.status'));
select tests.as_member((select a from t_ids), 'viewer');
insert into t_plan values ('cut2', api.scenarios_create('Price cut', pg_temp.k('naive'), 5,
  '{"price": {"change_pct": -0.3, "start_date": "2026-04-01", "end_date": "2026-04-05"}, "holiday": null}', array['price']), current_setting('response.status'));
insert into t_plan values ('baseline', api.scenarios_create('baseline', pg_temp.k('regression'), 14, '{"lifecycle": {"stage": "launch"}}'), null);
insert into t_plan values ('decline', api.scenarios_create('Decline', pg_temp.k('naive'), 10, '{"lifecycle": {"stage": "decline"}}', array['q2']), null);
create function pg_temp.plan(name text) returns jsonb language sql as $$ select answer from t_plan where t_plan.name = plan.name $$;
create function pg_temp.id(name text) returns text language sql as $$ select answer ->> 'scenario_id' from t_plan where t_plan.name = id.name $$;
grant execute on all functions in schema pg_temp to authenticated, service_role;

select is(pg_temp.plan('cut') - 'scenario_id' - 'created_at' - 'comparison',
  jsonb_build_object('name', 'Price cut', 'store_id', (select s from t_a), 'product_id', (select p from t_a), 'run_id', pg_temp.k('naive'),
                     'horizon', 10, 'method', 'heuristic', 'tags', '["price", "q2"]'::jsonb, 'cloned_from', 'abc',
                     'assumptions', '{"price": {"change_pct": -0.15, "start_date": "2026-04-03", "end_date": "2026-04-01"},
                                      "promotion": {"kind": "bogo", "start_date": "2026-04-03", "end_date": "2026-04-06"},
                                      "holiday": {"dates": ["2026-04-05", "2026-04-05", "2026-05-01"]}, "lifecycle": {"stage": "decline"},
                                      "inventory": {"on_hand_units": 300}}'::jsonb),
  'a plan: the artifact''s store and product, run_id as the bare key (given the whole model_path), the assumptions as given, tags, cloned_from');
select is(array[(select status from t_plan where name = 'cut'), pg_temp.id('cut') ~ '^[0-9a-f]{32}$' and pg_temp.id('cut') <> pg_temp.id('cut2')]::text[],
  array['201', 'true'], 'created: 201, a new 32-hex scenario_id');
select is((pg_temp.plan('cut') -> 'comparison') - 'generated_at', pg_temp.sim('h1') - 'generated_at', 'the comparison snapshot is the simulation''s');
select is(array[pg_temp.plan('baseline') ->> 'method', pg_temp.plan('baseline') #>> '{comparison,method}', pg_temp.plan('baseline') ->> 'cloned_from',
                pg_temp.plan('baseline') ->> 'tags', pg_temp.plan('cut2') ->> 'assumptions'],
  array['model_exogenous', 'model_exogenous', null, '[]', '{"price": {"end_date": "2026-04-05", "change_pct": -0.3, "start_date": "2026-04-01"}}'],
  'the method is stored; no tags is []; JSON nulls are not kept as assumptions');
select is(api.scenarios_get(pg_temp.id('cut')), pg_temp.plan('cut'), 'GET answers the plan as created');
select is(array(select e ->> 'field' from jsonb_array_elements(tests.error_of(format($$select api.scenarios_create(null, %L, 3, tags => %L, cloned_from => %L)$$,
            pg_temp.k('naive'), array_fill('t'::text, array[21]), repeat('c', 33))) -> 'errors') e),
  array['name', 'tags', 'cloned_from'], 'create: a name is required, at most 20 tags, cloned_from at most 32 characters');
select is(array[tests.error_of($$select api.scenarios_create('', pg_temp.k('naive'), 3, tags => array['a', null])$$) -> 'errors' -> 0 ->> 'type',
                tests.error_of($$select api.scenarios_create('', pg_temp.k('naive'), 3, tags => array['a', null])$$) -> 'errors' -> 1 ->> 'field',
                tests.error_of($$select api.scenarios_create('x', 'bogus', 3)$$) ->> 'sqlstate'],
  array['string_too_short', 'tags.1', 'PT404'], 'an empty name, a null tag: 422; an unknown artifact: 404, nothing saved');

-- ── Listing ──────────────────────────────────────────────────────────────────────────────────────
select is(array(select s ->> 'scenario_id' from jsonb_array_elements(api.scenarios_list() -> 'scenarios') s),
  array[pg_temp.id('decline'), pg_temp.id('baseline'), pg_temp.id('cut2'), pg_temp.id('cut')], 'newest first');
select is(api.scenarios_list() -> 'scenarios' -> 3,
  jsonb_build_object('scenario_id', pg_temp.id('cut'), 'name', 'Price cut', 'store_id', (select s from t_a), 'product_id', (select p from t_a),
                     'horizon', 10, 'units_delta', pg_temp.plan('cut') #> '{comparison,units_delta}',
                     'revenue_delta', pg_temp.plan('cut') #> '{comparison,revenue_delta}', 'created_at', pg_temp.plan('cut') -> 'created_at',
                     'tags', '["price", "q2"]'::jsonb),
  'a summary: ids, name, horizon, the deltas and the tags');
select is(array[api.scenarios_list() ->> 'total', api.scenarios_list(tags => array['price']) ->> 'total',
                api.scenarios_list(tags => array['price', 'q2']) ->> 'total', api.scenarios_list(tags => array['nope']) ->> 'total',
                api.scenarios_list(tags => array['nope']) ->> 'scenarios'],
  array['4', '2', '1', '0', '[]'], 'tags filter by containment: every listed tag must be there');
select is(array(select s ->> 'scenario_id' from jsonb_array_elements(api.scenarios_list("limit" => 2, "offset" => 1) -> 'scenarios') s)
          || array[api.scenarios_list("limit" => 2, "offset" => 1) ->> 'total'],
  array[pg_temp.id('baseline'), pg_temp.id('cut2'), '4'], 'limit and offset page; total counts them all');
select is(array(select e ->> 'field' from jsonb_array_elements(tests.error_of($$select api.scenarios_list(0, -1)$$) -> 'errors') e)
          || array(select e ->> 'field' from jsonb_array_elements(tests.error_of($$select api.scenarios_list(101, tags => array[null])$$) -> 'errors') e),
  array['limit', 'offset', 'limit', 'tags.0'], 'limit 1..100, offset ≥ 0, no null tag: 422');

-- ── Comparing ────────────────────────────────────────────────────────────────────────────────────
create temp table t_cmp as select
  api.scenarios_compare(array[pg_temp.id('cut'), pg_temp.id('cut2'), pg_temp.id('baseline'), pg_temp.id('decline')]) as by_revenue,
  api.scenarios_compare(array[pg_temp.id('cut2'), pg_temp.id('decline')], 'units_delta') as by_units;
grant select on t_cmp to authenticated, service_role;
select is((select array[by_revenue -> 'baseline_total_units', by_revenue -> 'baseline_revenue', by_revenue -> 'rank_by'] from t_cmp),
  array[pg_temp.plan('cut') #> '{comparison,baseline_total_units}', pg_temp.plan('cut') #> '{comparison,baseline_revenue}', '"revenue_delta"'],
  'the baseline totals are the first listed plan''s');
select is((select array(select s ->> 'scenario_id' from jsonb_array_elements(by_revenue -> 'scenarios') s) from t_cmp),
  array(select id from (values (pg_temp.id('cut')), (pg_temp.id('cut2')), (pg_temp.id('baseline')), (pg_temp.id('decline'))) v(id)
         order by (select (answer #>> '{comparison,revenue_delta}')::float8 from t_plan where answer ->> 'scenario_id' = v.id) desc),
  'ranked by revenue_delta, highest first');
select is((select array(select (s ->> 'rank') || ' ' || (s ->> 'name') || ' ' || (s ->> 'series_name') || ' ' || (s ->> 'coverage_verdict')
                          from jsonb_array_elements(by_units -> 'scenarios') s) from t_cmp),
  array['1 Price cut Price cut unknown', '2 Decline Decline unknown'], 'by units_delta: the cut (up) before the decline (down)');
select is((select array(select s ->> 'series_name' from jsonb_array_elements(by_revenue -> 'scenarios') s order by s ->> 'scenario_id' = pg_temp.id('cut') desc,
                                                                                                             s ->> 'scenario_id' = pg_temp.id('cut2') desc,
                                                                                                             s ->> 'scenario_id' = pg_temp.id('baseline') desc)
             from t_cmp),
  array['Price cut', 'Price cut (2)', 'baseline (2)', 'Decline'], 'series names: a repeated name gets " (2)", and so does a plan named like the row''s baseline key');
select is((select array[jsonb_array_length(by_revenue -> 'chart_series'), jsonb_array_length(by_units -> 'chart_series')] from t_cmp),
  array[14, 10], 'one chart row per date any plan covers (the regression plan: 14 days)');
select is((select by_revenue -> 'chart_series' -> 0 from t_cmp),
  jsonb_build_object('date', '2026-04-01', 'baseline', 25, 'Price cut', pg_temp.plan('cut') #> '{comparison,points,0,scenario}',
                     'Price cut (2)', pg_temp.plan('cut2') #> '{comparison,points,0,scenario}',
                     'baseline (2)', pg_temp.plan('baseline') #> '{comparison,points,0,scenario}', 'Decline', 21.25),
  'a chart row: the date, the first plan''s baseline, each plan''s scenario under its series name');
select is((select by_revenue -> 'chart_series' -> 12 from t_cmp),
  jsonb_build_object('date', '2026-04-13', 'baseline', null, 'Price cut', null, 'Price cut (2)', null,
                     'baseline (2)', pg_temp.plan('baseline') #> '{comparison,points,12,scenario}', 'Decline', null),
  'a date some plans do not cover: null for them (and for the baseline when the first plan does not)');
select is(array(select coalesce(e ->> 'field', '') || ':' || coalesce(e ->> 'type', '') from jsonb_array_elements(
            tests.error_of($$select api.scenarios_compare(array[pg_temp.id('cut')], 'margin')$$) -> 'errors') e)
          || array(select e ->> 'type' from jsonb_array_elements(tests.error_of($$select api.scenarios_compare(array['a', 'b', 'c', 'd', 'e', 'f'])$$) -> 'errors') e)
          || array(select e ->> 'type' from jsonb_array_elements(tests.error_of($$select api.scenarios_compare(array[pg_temp.id('cut'), pg_temp.id('cut')])$$) -> 'errors') e),
  array['scenario_ids:too_short', 'rank_by:literal_error', 'too_long', 'value_error'], 'compare: 2..5 ids, no id twice, rank_by revenue_delta or units_delta: 422');
select is(tests.error_of($$select api.scenarios_compare(array[pg_temp.id('cut'), '0123456789abcdef0123456789abcdef'])$$) ->> 'message',
  'Scenario 0123456789abcdef0123456789abcdef not found', 'an unknown id is a 404 naming it');

-- ── Deleting ─────────────────────────────────────────────────────────────────────────────────────
select tests.as_member((select a from t_ids), 'viewer');
select is(array[api.scenarios_delete(pg_temp.id('decline'))::text, current_setting('response.status')], array[null, '204'], 'DELETE answers 204 with no body');
select is(array[tests.error_of($$select api.scenarios_get(pg_temp.id('decline'))$$) ->> 'sqlstate',
                tests.error_of($$select api.scenarios_delete(pg_temp.id('decline'))$$) ->> 'sqlstate', api.scenarios_list() ->> 'total'],
  array['PT404', 'PT404', '3'], 'a deleted plan is gone: GET and DELETE are 404s');

-- ── Two tenants, and row-level security on the table itself ──────────────────────────────────────
select tests.as_member((select b from t_ids), 'viewer');
select is(array[api.scenarios_list() ->> 'total', tests.error_of($$select api.scenarios_get(pg_temp.id('cut'))$$) ->> 'sqlstate',
                tests.error_of($$select api.scenarios_delete(pg_temp.id('cut'))$$) ->> 'sqlstate',
                tests.error_of($$select api.scenarios_compare(array[pg_temp.id('cut'), pg_temp.id('cut2')])$$) ->> 'sqlstate',
                tests.error_of($$select api.scenarios_create('mine', pg_temp.k('naive'), 3)$$) ->> 'sqlstate'],
  array['0', 'PT404', 'PT404', 'PT404', 'PT404'], 'B sees none of A''s plans, cannot read, delete or compare them, nor save one on A''s artifact');
insert into t_plan values ('b', api.scenarios_create('Mine', pg_temp.k('b'), 3, '{"price": {"change_pct": 0.1, "start_date": "2026-01-31", "end_date": "2026-02-01"}}'), null);
select is(array[pg_temp.plan('b') ->> 'store_id', api.scenarios_list() ->> 'total', pg_temp.plan('b') #>> '{comparison,points,0,baseline}'],
  array[(select bs from t_a)::text, '1', '7'], 'B saves and lists its own plan');
select is((select count(*)::integer from forecast_models.scenario_plans), 1, 'RLS: B reads only its own row of the table');
with gone as (delete from forecast_models.scenario_plans p where p.account_id = (select a from t_ids) returning 1)
select is((select count(*)::integer from gone), 0, 'RLS: B deletes none of A''s rows, even asking for them by account');
select throws_ok(format($$insert into forecast_models.scenario_plans (account_id, scenario_id, name, store_id, product_id, run_id, horizon, assumptions, comparison)
                          values (%L, '0123456789abcdef0123456789abcdef', 'x', 1, 1, 'k', 1, '{}', '{}')$$, (select a from t_ids)),
  '42501', null, 'RLS: B cannot write a plan into A''s account');
select throws_ok($$update forecast_models.scenario_plans set name = 'renamed'$$, '42501', null, 'nobody updates a plan (no grant)');
select tests.as_member((select a from t_ids), 'viewer');
select is(array[(select count(*)::integer from forecast_models.scenario_plans), (api.scenarios_list() ->> 'total')::integer], array[3, 3],
  'A still has its three plans');
select lives_ok(format($$insert into forecast_models.scenario_plans (account_id, scenario_id, name, store_id, product_id, run_id, horizon, assumptions, comparison)
                         values (%L, '0123456789abcdef0123456789abcdef', 'x', 1, 1, 'k', 1, '{}', '{}')$$, (select a from t_ids)),
  'RLS: any member (a viewer) may write a plan into its own account');
with gone as (delete from forecast_models.scenario_plans p where p.scenario_id = '0123456789abcdef0123456789abcdef' returning 1)
select is((select count(*)::integer from gone), 1, 'RLS: and delete its account''s plans');

-- ── Catalog ──────────────────────────────────────────────────────────────────────────────────────
select tests.clear_authentication();
select is(array(select method || ' ' || path || ' ' || function_name || ' ' || rate_policy || ' ' || coalesce(app_roles::text, 'every member')
                  from gateway.routes where tag = 'forecastlab-scenarios' order by path collate "C", method),
  array['GET /scenarios scenarios_list forecastlab-models-read every member', 'POST /scenarios scenarios_create forecastlab-models-write every member',
        'POST /scenarios/compare scenarios_compare forecastlab-models-read every member',
        'POST /scenarios/simulate scenarios_simulate forecastlab-models-read every member',
        'DELETE /scenarios/{scenario_id} scenarios_delete forecastlab-models-write every member',
        'GET /scenarios/{scenario_id} scenarios_get forecastlab-models-read every member'],
  'the six routes, open to every member, reads and simulations on the read policy, saves and deletes on the write policy');
select is(array(select p.proname || ' ' || has_function_privilege('authenticated', p.oid, 'execute') || ' ' || has_function_privilege('service_role', p.oid, 'execute')
                       || ' ' || has_function_privilege('anon', p.oid, 'execute')
                  from pg_proc p where p.pronamespace = 'api'::regnamespace and p.proname like 'scenarios\_%' order by 1),
  array['scenarios_compare true true false', 'scenarios_create true true false', 'scenarios_delete true true false', 'scenarios_get true true false',
        'scenarios_list true true false', 'scenarios_simulate true true false'],
  'every api function is granted to authenticated and service_role, not to anon');
select is((select array[relrowsecurity, relforcerowsecurity] from pg_class where oid = 'forecast_models.scenario_plans'::regclass), array[true, true],
  'scenario_plans: RLS enabled and forced');
select is(array(select indexdef ~ 'USING gin' from pg_indexes where schemaname = 'forecast_models' and tablename = 'scenario_plans'
                   and indexname ~ '(assumptions|comparison|tags)_idx' order by indexname), array[true, true, true],
  'GIN indexes on assumptions, comparison and tags');

select * from finish();
rollback;
