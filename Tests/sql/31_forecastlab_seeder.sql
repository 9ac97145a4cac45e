-- ForecastLab seeder and health (forecastlab-contract-details.md §3, §16): scenarios, generate
-- (bodies, bounds, dry runs, determinism), append, delete, verify, status, phase 2, the production
-- guard, GET /health/ready, and two tenants.
begin;
select plan(68);

create temp table t_ids as select
  'f0000000-0000-4000-8000-0000000000c1'::uuid as x, 'f0000000-0000-4000-8000-0000000000c2'::uuid as y,
  'f0000000-0000-4000-8000-0000000000e0'::uuid as empty_account;
grant select on t_ids to authenticated, service_role;
grant execute on all functions in schema pg_temp to authenticated, service_role;
create temp table t_runs (run int, rows jsonb);
grant insert, select on t_runs to authenticated;
create function pg_temp.sales_of(account uuid) returns jsonb language sql as $$
  select coalesce(jsonb_agg(jsonb_build_array(st.store_code, st.region, p.sku, p.base_price, s.date, s.quantity, s.unit_price)
                            order by st.store_code, p.sku, s.date), '[]')
    from forecast.sales_daily s join forecast.stores st on st.id = s.store_id join forecast.products p on p.id = s.product_id
   where s.account_id = account
$$;
grant execute on function pg_temp.sales_of(uuid) to authenticated;

-- ── Health and registration ────────────────────────────────────────────────────────────────────
select tests.authenticate_as('anon');
select is(api.health_ready(), '{"status": "ok", "database": "connected"}', 'GET /health/ready: {status, database}, for anyone');
select tests.clear_authentication();
select is((select error_style from gateway.units where name = 'forecastlab'), 'fastapi', 'ForecastLab''s errors are in the fastapi style (422, /errors/…)');
select results_eq($$select method || ' ' || path from gateway.routes where unit = 'forecastlab' and (path like '/seeder/%' or path like '/health/%') order by 1$$,
  $$values ('DELETE /seeder/data'), ('GET /health/ready'), ('GET /seeder/scenarios'), ('GET /seeder/status'), ('POST /seeder/append'),
           ('POST /seeder/generate'), ('POST /seeder/phase2-enrichment'), ('POST /seeder/verify')$$, 'the seeder''s routes and /health/ready are served');

-- ── Scenarios and generate ─────────────────────────────────────────────────────────────────────
select tests.as_member((select x from t_ids), 'viewer');
select is(jsonb_path_query_array(api.seeder_scenarios(), '$[*].name'),
  '["retail_standard", "holiday_rush", "high_variance", "stockout_heavy", "new_launches", "sparse", "demo_minimal", "showcase_rich"]',
  'GET /seeder/scenarios lists the contract''s eight presets');
select is_empty($$select s from jsonb_array_elements(api.seeder_scenarios()) s
                   where not s ?& array['name', 'description', 'stores', 'products', 'start_date', 'end_date']$$,
  '… each with name, description, stores, products, start_date and end_date');
select throws_ok($$select api.seeder_generate(scenario => 'demo_minimal')$$, '42501', null, 'a viewer cannot generate');

select tests.as_member((select x from t_ids), 'admin');
select is(tests.error_of($$select api.seeder_generate(seed => -1)$$) -> 'errors',
  '[{"field": "seed", "message": "Input should be greater than or equal to 0", "type": "greater_than_equal"}]', 'seed -1 is a 422');
select is(tests.error_of($$select api.seeder_generate(sparsity => 1.5)$$) -> 'errors',
  '[{"field": "sparsity", "message": "Input should be less than or equal to 1", "type": "less_than_equal"}]', 'the scalar sparsity is at most 1');
select is(tests.error_of($$select api.seeder_generate(overrides => '{"sparsity": 0.95}')$$) -> 'errors',
  '[{"field": "overrides.sparsity", "message": "Input should be less than or equal to 0.9", "type": "less_than_equal"}]', '… the override''s at most 0.9');
select is(tests.error_of($$select api.seeder_generate(scenario => 'beach_party', stores => 0,
                                                          overrides => '{"colour": 1, "products": 2.5, "noise_sigma": 0.9}')$$) -> 'errors',
  '[{"field": "scenario", "type": "enum", "message": "Input should be ''retail_standard'', ''holiday_rush'', ''high_variance'', ''stockout_heavy'', ''new_launches'', ''sparse'', ''demo_minimal'', ''showcase_rich''"},
    {"field": "stores", "type": "greater_than_equal", "message": "Input should be greater than or equal to 1"},
    {"field": "overrides.colour", "type": "extra_forbidden", "message": "Extra inputs are not permitted"},
    {"field": "overrides.noise_sigma", "type": "less_than_equal", "message": "Input should be less than or equal to 0.5"},
    {"field": "overrides.products", "type": "int_type", "message": "Input should be a valid integer"}]',
  'every problem of a generate body at once: unknown scenario, bounds, unknown knob, knob out of range, knob of the wrong type');
select is(tests.error_of($$select api.seeder_generate(start_date => '2026-03-01', end_date => '2026-02-01')$$) #>> '{errors,0,field}', 'end_date',
  'end_date before start_date is a 422');
select throws_ok($$select api.seeder_generate(stores => 100, products => 500, end_date => '2026-06-30', overrides => '{"window_days": 365}')$$, 'PT422', null,
  'a data set too big for one request is refused up front');

create temp table t_generated as select api.seeder_generate(seed => 11, stores => 3, products => 4, end_date => '2026-03-31',
                                                           overrides => '{"window_days": 80, "promotion_intensity": 0.4}') as answer;
grant select on t_generated to authenticated;
select is((select answer - 'records_created' - 'duration_seconds' - 'settings' from t_generated),
  '{"success": true, "message": "Generated the retail_standard scenario, 2026-01-10 to 2026-03-31", "seed": 11, "dry_run": false}',
  'POST /seeder/generate answers {success, records_created, duration_seconds, message, seed}');
select is((select array_agg(k order by k) from t_generated, jsonb_object_keys(answer -> 'records_created') k),
  array['inventory', 'price_history', 'products', 'promotions', 'sales', 'stores'], '… records_created per table');
select is(current_setting('response.status', true), '201', '… with a 201');
select is((select (answer #>> '{records_created,sales}')::bigint from t_generated),
  (select count(*) from forecast.sales_daily where account_id = (select x from t_ids)), '… counting the sales rows it wrote');
select is(api.seeder_status() ->> 'date_range_start', '2026-01-10', 'window_days recomputes start_date = end_date − window_days');
insert into t_runs select 1, pg_temp.sales_of((select x from t_ids));
select api.seeder_generate(seed => 11, stores => 3, products => 4, end_date => '2026-03-31', overrides => '{"window_days": 80, "promotion_intensity": 0.4}');
select is(pg_temp.sales_of((select x from t_ids)), (select rows from t_runs where run = 1), 'the same seed gives the same data');
select api.seeder_generate(seed => 12, stores => 3, products => 4, end_date => '2026-03-31', overrides => '{"window_days": 80, "promotion_intensity": 0.4}');
select isnt(pg_temp.sales_of((select x from t_ids)), (select rows from t_runs where run = 1), 'another seed gives other data');
select is_empty($$select sku from forecast.products where account_id = (select x from t_ids)
                   and not (base_cost between round(base_price * 0.45, 2) and round(base_price * 0.70, 2))$$, 'products get a base_cost, 45–70 % of the price');

create temp table t_real as select api.seeder_generate(scenario => 'demo_minimal', seed => 5) as answer;
grant select on t_real to authenticated;
select is(api.seeder_status() - 'calendar' - 'sales' - 'inventory' - 'promotions' - 'price_history' - 'last_updated',
  '{"stores": 3, "products": 10, "exogenous_signals": 0, "sales_returns": 0, "replenishment_events": 0, "product_lifecycle": 0,
    "date_range_start": "2024-10-01", "date_range_end": "2024-12-31"}', 'a scenario sets the size and dates; GET /seeder/status has the contract''s counts');
select ok((select (s ->> 'sales')::int > 0 and (s ->> 'calendar')::int = 9497 and (s ->> 'price_history')::int = 30 and s ->> 'last_updated' is not null
             from api.seeder_status() s), '… sales, calendar, price_history and last_updated');
select is((api.seeder_generate(scenario => 'demo_minimal', seed => 5, sparsity => 1) #>> '{records_created,sales}')::int, 0,
  'sparsity 1 is allowed: nothing sells');
create temp table t_dry as select api.seeder_generate(scenario => 'demo_minimal', seed => 5, dry_run => true) as answer;
grant select on t_dry to authenticated;
select is((select answer -> 'records_created' from t_dry), (select answer -> 'records_created' from t_real), 'dry_run counts exactly what it would create');
select is((select answer -> 'dry_run' from t_dry), 'true', '… says it was a dry run');
select is(api.seeder_status() -> 'sales', '0', '… and writes nothing (the sparsity-1 data is still there)');

-- ── Append ─────────────────────────────────────────────────────────────────────────────────────
select api.seeder_generate(scenario => 'demo_minimal', seed => 5);
create temp table t_kept as select store_id, product_id, date, quantity from forecast.sales_daily
  where account_id = (select x from t_ids) and date between '2024-12-25' and '2024-12-31';
grant select on t_kept to authenticated;
select ok((api.seeder_append('2024-12-25', '2025-01-31') #>> '{records_created,sales}')::int > 0, 'POST /seeder/append adds sales for new days');
select is(current_setting('response.status', true), '201', '… with a 201');
select is(api.seeder_status() ->> 'date_range_end', '2025-01-31', '… extending the range');
select is_empty($$select * from t_kept k where not exists (select from forecast.sales_daily s where (s.store_id, s.product_id, s.date, s.quantity)
                                                          = (k.store_id, k.product_id, k.date, k.quantity))$$,
  '… and never overwrites a day that had sales');
select is(tests.error_of($$select api.seeder_append('2025-03-01', '2025-02-01')$$) #>> '{errors,0,field}', 'end_date', 'append: end before start is a 422');
select is(tests.error_of($$select api.seeder_append('2025-03-01', '2025-04-01', seed => -1)$$) #>> '{errors,0,type}', 'greater_than_equal',
  'append: seed -1 is a 422');
select is(tests.error_of($$select api.seeder_append(null, '2025-04-01')$$) #>> '{errors,0,type}', 'missing', 'append: the dates are required');

-- ── Verify ─────────────────────────────────────────────────────────────────────────────────────
create temp table t_verify as select api.seeder_verify() as answer;
grant select on t_verify to authenticated;
select is((select answer -> 'passed' from t_verify), 'true', 'POST /seeder/verify passes generated data');
select ok((select (answer ->> 'total_checks')::int = jsonb_array_length(answer -> 'checks')
                  and (answer ->> 'total_checks')::int = (answer ->> 'passed_count')::int + (answer ->> 'warning_count')::int + (answer ->> 'failed_count')::int
             from t_verify), '… counting its checks');
select is_empty($$select c from t_verify, jsonb_array_elements(answer -> 'checks') c
                   where not (c ?& array['name', 'status', 'message'] and c ->> 'status' in ('passed', 'warning', 'failed'))$$,
  '… each {name, status passed|warning|failed, message}');
reset role;
update forecast.sales_by_day set revenue = revenue + 1 where account_id = (select x from t_ids) and date = '2024-12-31';
select tests.as_member((select x from t_ids), 'viewer');
select is(jsonb_path_query_first(api.seeder_verify(), '$.checks[*] ? (@.name == "rollups_match_sales").status'), '"failed"',
  'a rollup that does not add up fails verify');
select is(api.seeder_verify() -> 'passed', 'false', '… and so does verify');
reset role;
update forecast.sales_by_day set revenue = revenue - 1 where account_id = (select x from t_ids) and date = '2024-12-31';

-- ── Phase 2 ────────────────────────────────────────────────────────────────────────────────────
select tests.as_member((select x from t_ids), 'admin');
select is(tests.error_of($$select api.seeder_phase2_enrichment(seed => -1, returns_probability => 1.5)$$) -> 'errors',
  '[{"field": "seed", "type": "greater_than_equal", "message": "Input should be greater than or equal to 0"},
    {"field": "returns_probability", "type": "less_than_equal", "message": "Input should be less than or equal to 1"}]',
  'phase 2: seed -1 and a probability over 1 are 422s');
create temp table t_phase2 as select api.seeder_phase2_enrichment(seed => 3, returns_probability => 0, discontinue_probability => 1) as answer;
grant select on t_phase2 to authenticated;
select is((select answer - 'records_created' - 'duration_ms' from t_phase2), '{"success": true}', 'phase 2 answers {success, records_created, duration_ms}');
select is((select answer #>> '{records_created,sales_returns}' from t_phase2), '0', 'returns_probability 0: no returns');
select is((select count(distinct product_id)::int from forecast.product_lifecycle where account_id = (select x from t_ids) and stage = 'discontinued'), 10,
  'discontinue_probability 1: every product is discontinued');
select ok((api.seeder_phase2_enrichment(returns_probability => 1) #>> '{records_created,sales_returns}')::int
          = (api.seeder_status() ->> 'sales')::int, 'returns_probability 1: a return per sales row');
select tests.as_member((select empty_account from t_ids), 'admin');
select throws_ok($$select api.seeder_phase2_enrichment()$$, 'PT422', null, 'phase 2 on an empty account is a 422');
select throws_ok($$select api.seeder_append('2025-01-01', '2025-01-31')$$, 'PT422', null, 'append on an empty account is a 422');
select is(api.seeder_verify() -> 'passed', 'false', 'verify fails an empty account');

-- ── Delete, and two tenants ────────────────────────────────────────────────────────────────────
select tests.as_member((select y from t_ids), 'admin');
select api.seeder_generate(scenario => 'demo_minimal', seed => 9);
select tests.as_member((select x from t_ids), 'admin');
select is(tests.error_of($$select api.seeder_delete_data(null)$$) #>> '{errors,0,type}', 'missing', 'DELETE /seeder/data needs a scope');
select is(tests.error_of($$select api.seeder_delete_data('everything')$$) #>> '{errors,0,type}', 'enum', '… one of all, facts, dimensions');
select throws_ok($$select api.seeder_delete_data('dimensions')$$, 'PT409', null, 'deleting dimensions that facts still refer to is a 409');
create temp table t_dry_delete as select api.seeder_delete_data('facts', dry_run => true) as answer, api.seeder_status() as status;
grant select on t_dry_delete to authenticated;
select is((select answer #>> '{records_deleted,sales}' from t_dry_delete), (select status ->> 'sales' from t_dry_delete), 'a dry run counts what it would delete');
select is(api.seeder_status() -> 'sales', (select status -> 'sales' from t_dry_delete), '… and deletes nothing');
select is(api.seeder_delete_data('facts') - 'records_deleted',
  '{"success": true, "message": "Deleted the account''s facts", "dry_run": false}', 'DELETE /seeder/data answers {success, records_deleted, message, dry_run}');
select is(api.seeder_status() - 'calendar' - 'last_updated' - 'date_range_start' - 'date_range_end',
  '{"stores": 3, "products": 10, "sales": 0, "inventory": 0, "price_history": 0, "promotions": 0, "exogenous_signals": 0, "sales_returns": 0,
    "replenishment_events": 0, "product_lifecycle": 0}', 'scope facts keeps the stores and products');
select is((select count(*)::int from forecast.sales_by_store_day where account_id = (select x from t_ids)), 0, '… and the rollups go with the sales');
select is(api.seeder_delete_data('dimensions') -> 'records_deleted', '{"stores": 3, "products": 10}', 'then scope dimensions deletes them');
select tests.as_member((select y from t_ids), 'viewer');
select ok((api.seeder_status() ->> 'sales')::int > 0 and (api.seeder_status() ->> 'stores')::int = 3, 'another account''s data is untouched');
select tests.as_member((select y from t_ids), 'admin');
select is(api.seeder_delete_data('all') #>> '{records_deleted,stores}', '3', 'scope all deletes everything');
select is(api.seeder_status() ->> 'products', '0', '… products included');

-- ── The production guard ───────────────────────────────────────────────────────────────────────
select set_config('forecastlab.app_env', 'production', true);
select is(tests.error_of(c) ->> 'sqlstate', 'PT403', 'in production the seeder is refused: ' || c)
  from unnest(array['select api.seeder_status()', 'select api.seeder_scenarios()', 'select api.seeder_generate()',
                    $$select api.seeder_append('2025-01-01', '2025-01-02')$$, $$select api.seeder_delete_data('all')$$,
                    'select api.seeder_verify()', 'select api.seeder_phase2_enrichment()']) c;
select set_config('forecastlab.seeder_allow_production', 'true', true);
select lives_ok($$select api.seeder_scenarios()$$, '… unless the deployment allows it');
select set_config('forecastlab.seeder_allow_production', '', true);
select set_config('forecastlab.app_env', 'development', true);
select lives_ok($$select api.seeder_status()$$, 'outside production the seeder serves');
select lives_ok($$select api.get_kpis('2024-01-01', '2024-12-31')$$, 'the guard is the seeder''s alone');

select * from finish();
rollback;
