-- Hot Dash demo: two shops, 30 days each, the first with anomalies in its last day.
-- Tokens: make token ACCOUNT=11111111-1111-4111-8111-111111111111 (Northwind) or
--         make token ACCOUNT=22222222-2222-4222-8222-222222222222 (Contoso).
select seed.hotdash_shop('11111111-1111-4111-8111-111111111111', 'Northwind Outfitters', 30, 8, 4, 1.5, 100, anomalies => true);
select seed.hotdash_shop('22222222-2222-4222-8222-222222222222', 'Contoso Home', 30, 5, 3, 1, 200);
select hotdash.refresh_rollups(force => true);
