-- requires: core/util.sql
-- The training-data export (service_role only) and the PII redaction it applies.

-- Replaces, in order: e-mail addresses, card-like numbers (13 to 19 digits, spaces or dashes
-- allowed), phone numbers (North American forms and +country forms), names after a title
-- (Mr, Mrs, Ms, Miss, Dr), and the customer's name and each word of it wherever they appear.
-- Dates, times, prices and order numbers look like none of these and are kept. Cheap tests
-- (an @, enough digits, a title) skip the regular expressions that cannot match.
create or replace function hotdash.redact_pii(input text, customer_name text default null) returns text
language plpgsql immutable parallel safe set search_path = '' as $$
declare
  redacted text := input;
  digits integer;
  part text;
begin
  if redacted is null then return null; end if;
  if pg_catalog.strpos(redacted, '@') > 0 then
    redacted := pg_catalog.regexp_replace(redacted, '[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}', '[EMAIL]', 'g');
  end if;
  digits := pg_catalog.length(redacted) - pg_catalog.length(pg_catalog.translate(redacted, '0123456789', ''));
  if digits >= 13 then
    redacted := pg_catalog.regexp_replace(redacted, '\m\d(?:[ -]?\d){12,18}\M', '[CARD]', 'g');
  end if;
  if digits >= 7 then
    redacted := pg_catalog.regexp_replace(redacted,
      '(?:\+\d{1,3}[ .-]?(?:\(?\d{1,4}\)?[ .-]?){1,4}\d{2,4}\M)|(?:(?:\m|\()\d{3}\)?[ .-]?\d{3}[ .-]?\d{4}\M)', '[PHONE]', 'g');
  end if;
  if pg_catalog.strpos(redacted, 'Mr') + pg_catalog.strpos(redacted, 'Ms') + pg_catalog.strpos(redacted, 'Dr') + pg_catalog.strpos(redacted, 'Miss') > 0 then
    redacted := pg_catalog.regexp_replace(redacted, '\m(?:Mr|Mrs|Ms|Miss|Dr)\.?\s+[A-Z][A-Za-z''-]+', '[NAME]', 'g');
  end if;
  if customer_name is not null then
    -- The full name before its parts, so "Ana Silva" becomes one [NAME], not two.
    redacted := pg_catalog.replace(redacted, customer_name, '[NAME]');
    foreach part in array pg_catalog.regexp_split_to_array(customer_name, '\s+') loop
      if pg_catalog.length(part) >= 2 then redacted := pg_catalog.replace(redacted, part, '[NAME]'); end if;
    end loop;
  end if;
  return redacted;
end $$;
comment on function hotdash.redact_pii(text, text) is
  'The text with e-mail addresses, card-like numbers, phone numbers and names replaced by [EMAIL], [CARD], [PHONE], [NAME].';

-- Keeps the redacted copies of a training example's texts current.
create or replace function hotdash.tg_training_examples__redact() returns trigger
language plpgsql volatile set search_path = '' as $$
declare
  customer_name text;
begin
  select c.name into customer_name from hotdash.customers c where c.id = new.customer_id;
  new.input_text_redacted := hotdash.redact_pii(new.input_text, customer_name);
  new.model_draft_redacted := hotdash.redact_pii(new.model_draft, customer_name);
  new.notes_redacted := hotdash.redact_pii(new.notes, customer_name);
  return new;
end $$;
drop trigger if exists tg_training_examples__redact on hotdash.training_examples;
create trigger tg_training_examples__redact
  before insert or update of input_text, model_draft, notes, customer_id on hotdash.training_examples
  for each row execute function hotdash.tg_training_examples__redact();

-- created_at is text in the spec's form (UTC, a trailing Z) in every format: json, csv and ndjson
-- print a timestamptz with an offset (+00:00), which the spec's clients do not expect.
drop function if exists api.export_training_dataset(boolean, timestamptz, timestamptz);
create or replace function api.export_training_dataset(
  include_pii boolean default false, date_from timestamptz default null, date_to timestamptz default null
) returns table (
  conversation_id bigint, input_text text, model_draft text, safe_to_send boolean, category text,
  sentiment text, tone text, accuracy_score numeric, helpfulness_score numeric, tone_score numeric,
  notes text, confidence numeric, response_time_ms integer, created_at text
)
language plpgsql stable set search_path = '' as $$
declare
  shop constant uuid := util.require_account();
  upper_bound constant timestamptz := coalesce(date_to, pg_catalog.now());
  lower_bound constant timestamptz := coalesce(date_from, upper_bound - interval '30 days');
begin
  if include_pii is null then
    perform util.validation_error('include_pii', 'must be true or false');
  end if;
  if lower_bound > upper_bound then
    perform util.validation_error('date_from', 'must not be after date_to');
  end if;
  if upper_bound - lower_bound > interval '366 days' then
    perform util.validation_error('date_to', 'the range may span at most 366 days');
  end if;
  -- RLS limits the rows to the caller's shop as well; the filter lets the index do the work.
  return query
    select t.conversation_id,
           case when include_pii then t.input_text else t.input_text_redacted end,
           case when include_pii then t.model_draft else t.model_draft_redacted end,
           t.safe_to_send, t.category, t.sentiment, t.tone,
           t.accuracy_score, t.helpfulness_score, t.tone_score,
           case when include_pii then t.notes else t.notes_redacted end,
           t.confidence, t.response_time_ms, util.iso(t.created_at)
      from hotdash.training_examples t
     where t.account_id = shop and t.created_at >= lower_bound and t.created_at <= upper_bound
     order by t.created_at, t.id;
end $$;
comment on function api.export_training_dataset(boolean, timestamptz, timestamptz) is
  'Training examples of the caller''s shop created between date_from and date_to (default: the last 30 days, at most 366), '
  'oldest first; with include_pii false (the default) e-mails, phone and card numbers and customer names are redacted. '
  'Streamed as json, csv or ndjson (format).';

revoke all on function hotdash.redact_pii(text, text), hotdash.tg_training_examples__redact(),
  api.export_training_dataset(boolean, timestamptz, timestamptz) from public;
grant execute on function hotdash.redact_pii(text, text), hotdash.tg_training_examples__redact() to service_role;
grant execute on function api.export_training_dataset(boolean, timestamptz, timestamptz) to service_role;
