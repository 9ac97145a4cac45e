-- FlowPilot demo: "Acme Support" with admin@, engineer@ and viewer@acme.example (password
-- "demo-password-1": demo data only), three trees and 300 handoffs over 30 days.
-- Log in: curl -d 'username=engineer@acme.example&password=demo-password-1' http://127.0.0.1:8080/api/v1/auth/login
select seed.flowpilot_account('33333333-3333-4333-8333-333333333333', 'Acme Support', 'acme.example', 'demo-password-1');
select seed.flowpilot_handoffs('33333333-3333-4333-8333-333333333333', 300, 30, 3000);
