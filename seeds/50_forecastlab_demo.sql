-- ForecastLab demo: "Demo Retail", 10 stores × 50 products × 181 days (2026-01-01 to 2026-06-30:
-- end_date − window_days), seed 42, with phase 2.
-- Token: make token ACCOUNT=66666666-6666-4666-8666-666666666666 APP_ROLE=admin
select forecast.generate('66666666-6666-4666-8666-666666666666',
                         forecast.seeder_settings(42, 10, 50, null, date '2026-06-30', 0, '{"window_days": 180}'));
begin;
select set_config('request.jwt.claims', '{"role": "service_role", "app_metadata": {"account_id": "66666666-6666-4666-8666-666666666666"}}', true);
select api.seeder_phase2_enrichment(42);
commit;
