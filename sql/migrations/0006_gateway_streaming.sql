-- Routes whose function returns rows that may be too many to hold at once (exports): the gateway
-- streams them, as json, csv or ndjson (the request's `format` parameter or its Accept header).
alter table gateway.routes add column streaming boolean not null default false;
comment on column gateway.routes.streaming is 'Stream the rows of a set-returning function instead of building one JSON body.';
