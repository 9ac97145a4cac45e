-- requires: forecastlab_models/common.sql
-- The feature-aware learners, in PL/Python with the libraries upstream uses: regression is
-- scikit-learn's HistGradientBoostingRegressor, random_forest its RandomForestRegressor, prophet_like
-- its Ridge, lightgbm LightGBM's LGBMRegressor, xgboost xgboost's XGBRegressor. One thread each and
-- a fixed seed, so that a model trains the same way twice (and as the reference check outside the
-- database trains it).
--
-- A fitted model leaves the function as JSON that no loader can run code from: tree arrays for the
-- scikit-learn ensembles (each array its little-endian bytes in base64, read back with
-- numpy.frombuffer, and evaluated by learner_predict with scikit-learn's own rule: x <= threshold
-- goes left, a missing value where the split learned to send it), coefficients for the ridge,
-- LightGBM's text model and xgboost's JSON model. Never a pickle: an artifact row is data, and a
-- hand-made one must not be able to run anything in the server.
--
-- Created only where the server has PL/Python (as ridge.sql); a missing library is a PT503 naming
-- it, which forecast_models.fit_features turns into a 400. Neither function reads a table or takes
-- code, a path or a module name from its caller.
do $do$
begin
  if not exists (select from pg_catalog.pg_language where lanname = 'plpython3u') then
    raise notice 'plpython3u is not installed: the feature-aware learners are not created';
    return;
  end if;
  execute $create$
create or replace function forecast_models.learner_fit(model_type text, parameters text, n_columns integer,
                                                       x double precision[], y double precision[])
returns text
language plpython3u immutable set search_path = '' as $python$
import base64, json, os
for name in ('OMP_NUM_THREADS', 'OPENBLAS_NUM_THREADS', 'MKL_NUM_THREADS'):
    os.environ.setdefault(name, '1')
needs = {'regression': 'scikit-learn', 'random_forest': 'scikit-learn', 'prophet_like': 'scikit-learn',
         'lightgbm': 'lightgbm', 'xgboost': 'xgboost'}
if model_type not in needs:
    plpy.error('not a feature-aware model type: ' + model_type, sqlstate='PT400')
try:
    import numpy as np
    if model_type == 'regression':
        from sklearn.ensemble import HistGradientBoostingRegressor
    elif model_type == 'random_forest':
        from sklearn.ensemble import RandomForestRegressor
    elif model_type == 'prophet_like':
        from sklearn.linear_model import Ridge
    elif model_type == 'lightgbm':
        import lightgbm
    else:
        import xgboost
except ImportError as error:
    plpy.error('%s needs %s in the Python of the database server: %s' % (model_type, needs[model_type], error), sqlstate='PT503')

p = json.loads(parameters)
X = np.array(x, dtype=np.float64).reshape(-1, n_columns)
target = np.array(y, dtype=np.float64)

# Each tree array as the base64 of its little-endian bytes: exact (an infinite threshold
# included), compact, and quick both ways.
TYPES = {'left': '<i4', 'right': '<i4', 'feature': '<i4', 'threshold': '<f8', 'value': '<f8', 'missing_left': '|u1'}

def trees(arrays):
    return [{k: base64.b64encode(np.ascontiguousarray(a, dtype=TYPES[k]).tobytes()).decode('ascii') for k, a in t.items()}
            for t in arrays]

if model_type == 'regression':
    m = HistGradientBoostingRegressor(max_iter=p['max_iter'], learning_rate=p['learning_rate'], max_depth=p['max_depth'],
                                      early_stopping=False, random_state=0).fit(X, target)
    # Leaf values are stored already scaled by the learning rate; the prediction is their sum
    # over the iterations plus the baseline (the mean of y for squared error).
    model = {'kind': 'tree_sum', 'base': float(np.ravel(m._baseline_prediction)[0]), 'float32': False,
             'trees': trees([{'left': np.where(n['is_leaf'] == 1, -1, n['left'].astype(np.int64)), 'right': n['right'], 'feature': n['feature_idx'],
                              'threshold': n['num_threshold'], 'value': n['value'], 'missing_left': n['missing_go_to_left']}
                             for n in (predictors[0].nodes for predictors in m._predictors)])}
elif model_type == 'random_forest':
    m = RandomForestRegressor(n_estimators=p['n_estimators'], max_depth=p['max_depth'], min_samples_leaf=p['min_samples_leaf'],
                              n_jobs=1, random_state=0).fit(X, target)
    # scikit-learn's trees compare the features as float32 against float64 thresholds.
    model = {'kind': 'tree_mean', 'base': 0.0, 'float32': True,
             'trees': trees([{'left': t.children_left, 'right': t.children_right, 'feature': np.maximum(t.feature, 0),
                              'threshold': t.threshold, 'value': t.value[:, 0, 0], 'missing_left': t.missing_go_to_left}
                             for t in (e.tree_ for e in m.estimators_)])}
elif model_type == 'prophet_like':
    m = Ridge(alpha=p['alpha']).fit(X, target)
    model = {'kind': 'linear', 'intercept': float(m.intercept_), 'coefficients': [float(c) for c in m.coef_]}
elif model_type == 'lightgbm':
    m = lightgbm.LGBMRegressor(n_estimators=p['n_estimators'], max_depth=p['max_depth'], learning_rate=p['learning_rate'],
                               random_state=0, n_jobs=1, deterministic=True, force_row_wise=True, verbose=-1).fit(X, target)
    model = {'kind': 'lightgbm', 'text': m.booster_.model_to_string()}
else:
    m = xgboost.XGBRegressor(n_estimators=p['n_estimators'], max_depth=p['max_depth'], learning_rate=p['learning_rate'],
                             random_state=0, n_jobs=1, tree_method='hist').fit(X, target)
    model = {'kind': 'xgboost', 'json': bytes(m.get_booster().save_raw('json')).decode('utf-8')}
return json.dumps(model)
$python$
$create$;

  execute $create$
create or replace function forecast_models.learner_predict(model text, n_columns integer, x double precision[])
returns double precision[]
language plpython3u immutable set search_path = '' as $python$
import base64, binascii, json, os
for name in ('OMP_NUM_THREADS', 'OPENBLAS_NUM_THREADS', 'MKL_NUM_THREADS'):
    os.environ.setdefault(name, '1')
import numpy as np
m = json.loads(model)
TYPES = {'left': '<i4', 'right': '<i4', 'feature': '<i4', 'threshold': '<f8', 'value': '<f8', 'missing_left': '|u1'}

def array(tree, name):
    try:
        return np.frombuffer(base64.b64decode(tree[name], validate=True), dtype=TYPES[name]).astype(np.float64 if TYPES[name] == '<f8' else np.int64)
    except (KeyError, TypeError, ValueError, binascii.Error):
        plpy.error('the model artifact holds a malformed tree', sqlstate='PT400')
X = np.array(x, dtype=np.float64).reshape(-1, n_columns)

def walk(tree, X):
    # Every row starts at the root and moves one level per pass, all rows at once.
    left, right, feature = array(tree, 'left'), array(tree, 'right'), array(tree, 'feature')
    threshold, value, missing_left = array(tree, 'threshold'), array(tree, 'value'), array(tree, 'missing_left') != 0
    if not len(left) == len(right) == len(feature) == len(threshold) == len(missing_left) == len(value) > 0:
        plpy.error('the model artifact holds a malformed tree', sqlstate='PT400')
    node = np.zeros(len(X), dtype=np.int64)
    rows = np.arange(len(X))
    # No path is longer than the tree has nodes: a tree that says otherwise (a cycle, an index out
    # of range) is refused, never walked forever (Python in the server does not see a cancel).
    for _ in range(len(left) + 1):
        inner = left[node] != -1
        if not inner.any():
            return value[node]
        n, r = node[inner], rows[inner]
        if (left[n] < 0).any() or (left[n] >= len(left)).any() or (right[n] < 0).any() or (right[n] >= len(left)).any() \
                or (feature[n] < 0).any() or (feature[n] >= X.shape[1]).any():
            break
        v = X[r, feature[n]].astype(np.float64)
        go_left = np.where(np.isnan(v), missing_left[n], v <= threshold[n])
        node[inner] = np.where(go_left, left[n], right[n])
    plpy.error('the model artifact holds a malformed tree', sqlstate='PT400')

kind = m['kind']
if kind in ('tree_sum', 'tree_mean'):
    data = X.astype(np.float32) if m['float32'] else X
    total = np.full(len(X), m['base'], dtype=np.float64)
    for tree in m['trees']:
        total += walk(tree, data)
    if kind == 'tree_mean':
        total = (total - m['base']) / len(m['trees'])
    return [float(v) for v in total]
if kind == 'linear':
    return [float(v) for v in X @ np.asarray(m['coefficients']) + m['intercept']]
try:
    if kind == 'lightgbm':
        import lightgbm
        return [float(v) for v in lightgbm.Booster(model_str=m['text']).predict(X, num_threads=1)]
    if kind == 'xgboost':
        import xgboost
        booster = xgboost.Booster(params={'nthread': 1})
        booster.load_model(bytearray(m['json'], 'utf-8'))
        return [float(v) for v in booster.predict(xgboost.DMatrix(X, missing=np.nan))]
except ImportError as error:
    plpy.error('this model needs %s in the Python of the database server: %s' % (kind, error), sqlstate='PT503')
plpy.error('unknown model kind: ' + str(kind), sqlstate='PT400')
$python$
$create$;

  execute 'comment on function forecast_models.learner_fit(text, text, integer, double precision[], double precision[]) is
    ''Fits a feature-aware learner on a frame (rows of n_columns, flattened) and returns the model as JSON (no pickle).''';
  execute 'comment on function forecast_models.learner_predict(text, integer, double precision[]) is
    ''Predictions of a model learner_fit returned for a frame (rows of n_columns, flattened).''';
  execute 'revoke all on function forecast_models.learner_fit(text, text, integer, double precision[], double precision[]),
    forecast_models.learner_predict(text, integer, double precision[]) from public';
  execute 'grant execute on function forecast_models.learner_fit(text, text, integer, double precision[], double precision[]),
    forecast_models.learner_predict(text, integer, double precision[]) to authenticated, service_role';
end $do$;
