-- requires: forecastlab_models/models.sql
-- requires: forecastlab_models/ridge.sql
-- requires: forecastlab_models/feature_models.sql
-- POST /forecasting/train and POST /forecasting/predict (forecastlab-contract-details.md §8.2,
-- §8.3) for the eleven model types. Training reads the store and product's daily quantities
-- in [train_start_date, train_end_date] (the rows as stored, in date order: no gap filling, as
-- upstream), fits, and writes the artifact as a row; its model_path keeps upstream's shape,
-- artifacts/models/model_<12 hex>.joblib, and names only that row.

-- POST /forecasting/train (200, admin or service role).
create or replace function api.forecasting_train(store_id bigint default null, product_id bigint default null,
                                                 train_start_date date default null, train_end_date date default null,
                                                 config jsonb default null, feature_frame_version integer default 1,
                                                 feature_groups text[] default null)
returns jsonb
language plpgsql volatile set search_path = '' set extra_float_digits = 1 as $$
declare
  account uuid := util.require_account();
  started timestamptz := clock_timestamp();
  problems jsonb := '[]';
  normalized jsonb;
  dates date[];
  y double precision[];
  state jsonb;
  hash text;
  key text := left(replace(gen_random_uuid()::text, '-', ''), 12);
  bundle jsonb;
  content bytea;
  digest text;
  n integer;
begin
  perform auth.require_app_role('admin');
  problems := forecast_models.range_problems('store_id', forecasting_train.store_id, 1, null)
           || forecast_models.range_problems('product_id', forecasting_train.product_id, 1, null);
  problems := problems || forecast_models.window_problems('train_start_date', forecasting_train.train_start_date,
                                                          'train_end_date', forecasting_train.train_end_date);
  problems := problems || forecast_models.range_problems('feature_frame_version', coalesce(forecasting_train.feature_frame_version, 1), 1, 2);
  if forecasting_train.feature_groups is not null and coalesce(forecasting_train.feature_frame_version, 1) <> 2 then
    problems := problems || forecast_models.problem('feature_groups', 'feature_groups is only allowed with feature_frame_version 2', 'value_error');
  elsif exists (select from unnest(forecasting_train.feature_groups) g
                 where g is null or g not in ('target_history', 'calendar', 'rolling', 'trend', 'price_promo', 'inventory',
                                              'lifecycle', 'replenishment', 'returns', 'exogenous_weather', 'exogenous_macro')) then
    problems := problems || forecast_models.problem('feature_groups', 'Input should be a list of feature groups (target_history, calendar, rolling, trend, price_promo, inventory, lifecycle, replenishment, returns, exogenous_weather, exogenous_macro)', 'enum');
  end if;
  if jsonb_array_length(problems) > 0 then
    perform forecast_models.invalid_all(problems);
  end if;
  normalized := forecast_models.normalized_config(forecasting_train.config);
  perform forecast_models.require_enabled(normalized ->> 'model_type');
  if forecast_models.is_feature_aware(normalized ->> 'model_type') and coalesce(forecasting_train.feature_frame_version, 1) <> 1 then
    raise exception 'feature_frame_version 2 is not served yet: the feature-aware models train on the V1 frame (feature_frame_version 1)'
      using errcode = 'PT400';
  end if;

  select s.dates, s.y into dates, y
    from forecast_models.series(account, forecasting_train.store_id, forecasting_train.product_id,
                                forecasting_train.train_start_date, forecasting_train.train_end_date) s;
  state := forecast_models.fit_model(normalized, forecasting_train.store_id, forecasting_train.product_id,
                                     dates, y, forecasting_train.train_end_date);
  n := coalesce((state ->> 'n_rows')::integer, cardinality(y));

  hash := forecast_models.config_hash(normalized);
  bundle := jsonb_build_object('format', 'forecastlab-models/1', 'model_type', normalized ->> 'model_type', 'config', normalized,
                               'config_hash', hash, 'store_id', forecasting_train.store_id, 'product_id', forecasting_train.product_id,
                               'train_start_date', forecasting_train.train_start_date, 'train_end_date', forecasting_train.train_end_date,
                               'n_observations', n, 'state', state);
  content := convert_to(bundle::text, 'UTF8');
  digest := encode(sha256(content), 'hex');  -- once: a tree model's bundle is hundreds of kilobytes
  insert into forecast_models.artifacts (account_id, artifact_key, model_type, store_id, product_id, config, config_hash,
                                         train_start_date, train_end_date, n_observations, content, sha256, size_bytes)
  values (account, key, normalized ->> 'model_type', forecasting_train.store_id, forecasting_train.product_id, normalized, hash,
          forecasting_train.train_start_date, forecasting_train.train_end_date, n, content,
          digest, octet_length(content));
  return jsonb_build_object('store_id', forecasting_train.store_id, 'product_id', forecasting_train.product_id,
                            'model_type', normalized ->> 'model_type', 'model_path', forecast_models.artifact_path(key),
                            'config_hash', hash, 'n_observations', n,
                            'train_start_date', forecasting_train.train_start_date, 'train_end_date', forecasting_train.train_end_date,
                            'artifact_hash', digest, 'artifact_size_bytes', octet_length(content),
                            'duration_ms', forecast_models.elapsed_ms(started));
end $$;
comment on function api.forecasting_train(bigint, bigint, date, date, jsonb, integer, text[]) is
  'Trains any of the eleven model types on a store and product''s daily quantities (the feature-aware ones on the V1 frame); the artifact is kept as a row named by model_path (admin or service role).';

-- POST /forecasting/predict (200): horizon 1..90 forecasts from the caller's own artifact. 400: a
-- model_path of another shape, an artifact trained for another store or product; 404: no such
-- artifact in the account; 409: the artifact's bytes no longer match its SHA-256.
create or replace function api.forecasting_predict(store_id bigint default null, product_id bigint default null,
                                                   horizon integer default null, model_path text default null)
returns jsonb
language plpgsql stable set search_path = '' set extra_float_digits = 1 as $$
declare
  started timestamptz := clock_timestamp();
  problems jsonb;
  artifact forecast_models.artifacts;
  bundle jsonb;
  forecasts double precision[];
begin
  perform util.require_account();
  problems := forecast_models.range_problems('store_id', forecasting_predict.store_id, 1, null)
           || forecast_models.range_problems('product_id', forecasting_predict.product_id, 1, null)
           || forecast_models.range_problems('horizon', forecasting_predict.horizon, 1, 90);
  if forecasting_predict.model_path is null then
    problems := problems || forecast_models.problem('model_path', 'Field required', 'missing');
  end if;
  if jsonb_array_length(problems) > 0 then
    perform forecast_models.invalid_all(problems);
  end if;
  artifact := forecast_models.resolve_artifact(forecasting_predict.model_path, 'model_path');
  if encode(sha256(artifact.content), 'hex') <> artifact.sha256 then
    raise exception 'Model artifact % failed its integrity check (SHA-256)', forecast_models.artifact_path(artifact.artifact_key)
      using errcode = 'PT409';
  end if;
  bundle := convert_from(artifact.content, 'UTF8')::jsonb;
  if (bundle ->> 'store_id')::bigint <> forecasting_predict.store_id or (bundle ->> 'product_id')::bigint <> forecasting_predict.product_id then
    raise exception 'Model was trained for store %, product %, not store %, product %', bundle ->> 'store_id', bundle ->> 'product_id',
      forecasting_predict.store_id, forecasting_predict.product_id using errcode = 'PT400';
  end if;
  forecasts := forecast_models.forecast_model(bundle -> 'config', bundle -> 'state', forecasting_predict.store_id, forecasting_predict.product_id,
                                              (bundle ->> 'train_end_date')::date, forecasting_predict.horizon);
  return jsonb_build_object(
    'store_id', forecasting_predict.store_id, 'product_id', forecasting_predict.product_id,
    'forecasts', (select jsonb_agg(jsonb_build_object('date', (bundle ->> 'train_end_date')::date + i::integer, 'forecast', f) order by i)
                    from unnest(forecasts) with ordinality u(f, i)),
    'model_type', bundle ->> 'model_type', 'config_hash', bundle ->> 'config_hash', 'horizon', forecasting_predict.horizon,
    'duration_ms', forecast_models.elapsed_ms(started));
end $$;
comment on function api.forecasting_predict(bigint, bigint, integer, text) is
  'Forecasts horizon (1..90) days after the training window from a trained model of the account (model_path: artifacts/models/model_<key>.joblib).';

grant execute on function api.forecasting_train(bigint, bigint, date, date, jsonb, integer, text[]),
  api.forecasting_predict(bigint, bigint, integer, text) to authenticated, service_role;
