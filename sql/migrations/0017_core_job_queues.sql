-- Background jobs (docs/gateway.md, "Job queues"): a unit registers a queue, and every gateway's
-- worker loop runs its jobs. The queue itself (table, leases) is the unit's; the core only knows
-- which procedure runs the next job and which NOTIFY channel says one is waiting.

-- `procedure` is a procedure `(inout job_id text)`: it claims the next job (FOR UPDATE SKIP
-- LOCKED), commits, runs it and commits again; job_id comes back null when there was none. Whoever
-- the unit grants it to may also run it by hand (`call schema.work_one(null)`), as pg_cron could.
create table gateway.job_queues (
  unit      text not null references gateway.units on delete cascade,
  name      text not null check (name ~ '^[a-z][a-z0-9_]*$'),
  procedure regprocedure not null,
  channel   text not null check (channel ~ '^[a-z][a-z0-9_]*$'),
  primary key (unit, name)
);
comment on table gateway.job_queues is 'Job queues the gateways'' worker loops serve: the procedure that runs the next job, the channel that wakes them.';

alter table gateway.job_queues enable row level security, force row level security;
create policy "The gateway reads job queues" on gateway.job_queues for select to authenticator using (true);
grant select on gateway.job_queues to authenticator;

-- A route that starts work (answers 202) may name an api function that waits for it: with
-- `Prefer: wait=N` (RFC 7240) the gateway calls it with the 202's body and N seconds, and answers
-- with what it returns (the finished resource, or the same one if N ran out).
alter table gateway.routes add column await_function name;
comment on column gateway.routes.await_function is
  'api function (resource jsonb, wait_seconds double precision) returns jsonb: waits for the work a 202 answer started (Prefer: wait=N).';
