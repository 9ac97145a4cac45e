-- FlowPilot escalation benchmark: one account with 1 thousand handoffs and one with 1 million,
-- both over 90 days (cheap password hashes: no one logs in to them).
select seed.flowpilot_account('44444444-0000-4000-8000-000000000001', 'Escalations 1k', 'bench1k.example', 'bench password', 4);
select seed.flowpilot_handoffs('44444444-0000-4000-8000-000000000001', 1000, 90, 4000);
select seed.flowpilot_account('44444444-0000-4000-8000-000000000002', 'Escalations 1M', 'bench1m.example', 'bench password', 4);
select seed.flowpilot_handoffs('44444444-0000-4000-8000-000000000002', 1000000, 90, 5000);
vacuum analyze flowpilot.session_handoffs, flowpilot.ai_session_steps, flowpilot.sessions;
