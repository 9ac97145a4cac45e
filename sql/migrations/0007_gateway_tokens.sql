-- Routes that log a user in: the function returns `access_token_claims`, and the gateway signs
-- them as a short-lived access token (the database never holds the signing secret).
alter table gateway.routes add column issues_token boolean not null default false;
comment on column gateway.routes.issues_token is
  'The function''s answer carries access_token_claims; the gateway replaces them with a signed access_token.';
