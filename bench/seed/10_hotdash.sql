-- The export's shop: about 100,000 training examples over 300 days (and little else).
select seed.hotdash_shop('77777777-0000-4000-8000-000000000007', 'Export bench', 300, 1, 1, 18.6, 700, sessions_per_order => 0);
select hotdash.refresh_rollups(force => true);
