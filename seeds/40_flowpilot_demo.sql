-- FlowPilot demo: "Acme Support" with admin@, engineer@ and viewer@acme.example, three trees and
-- 300 handoffs over 30 days. Their password is made per install: `make seed` passes the one it
-- generated into .run/demo_password (and `make run` prints it); run by hand, this file makes a
-- random one and prints it. None is written here, so none works everywhere.
\if :{?demo_password}
\else
  select pg_catalog.encode(extensions.gen_random_bytes(12), 'hex') as demo_password \gset
  \echo FlowPilot demo users, password: :demo_password
\endif
select seed.flowpilot_account('33333333-3333-4333-8333-333333333333', 'Acme Support', 'acme.example', :'demo_password');
select seed.flowpilot_handoffs('33333333-3333-4333-8333-333333333333', 300, 30, 3000);
