-- requires: forecastlab_models/common.sql
-- The ridge of trend_regression_baseline, in PL/Python with numpy: y on the elapsed-day index, a
-- 7-column day-of-week one-hot (Monday first) and a 12-column month one-hot, as scikit-learn's
-- Ridge(alpha, fit_intercept=True) fits it: the columns and y centred, (XcᵀXc + αI)β = Xcᵀyc (the
-- intercept unpenalised), intercept = ȳ − x̄ᵀβ. Solved as the least-squares problem
-- [Xc; √α·I]β ≈ [yc; 0], which is the same solution and, for α = 0 with collinear columns, the
-- minimum-norm one (scikit-learn's lstsq fallback). Returns [intercept, β_t, β_dow…, β_month…].
--
-- Created only where the server has PL/Python: without it the SQL baselines still work and
-- forecast_models.fit answers a 400 naming what is missing. The function takes no code, path or
-- module name from a caller, reads no table (the data comes in as arrays, shaped in SQL), and is
-- granted only to the request roles that train (api.forecasting_train checks identity first).
do $do$
begin
  if not exists (select from pg_catalog.pg_language where lanname = 'plpython3u') then
    raise notice 'plpython3u is not installed: forecast_models.ridge_fit is not created';
    return;
  end if;
  execute $create$
create or replace function forecast_models.ridge_fit(t double precision[], dow integer[], month integer[],
                                                     y double precision[], alpha double precision,
                                                     include_dow boolean, include_month boolean)
returns double precision[]
language plpython3u immutable set search_path = '' as $python$
if 'numpy' not in GD:
    import os
    os.environ.setdefault('OPENBLAS_NUM_THREADS', '1')  # one BLAS thread per backend
    try:
        import numpy
    except ImportError as error:
        plpy.error('trend_regression_baseline needs numpy in the Python of the database server: ' + str(error), sqlstate='PT503')
    GD['numpy'] = numpy
np = GD['numpy']
columns = [np.asarray(t, dtype=np.float64)]
if include_dow:
    columns.append(np.eye(7)[np.asarray(dow, dtype=np.int64)])
if include_month:
    columns.append(np.eye(12)[np.asarray(month, dtype=np.int64) - 1])
X = np.column_stack(columns)
target = np.asarray(y, dtype=np.float64)
x_mean, y_mean = X.mean(axis=0), target.mean()
p = X.shape[1]
A = np.vstack([X - x_mean, np.sqrt(alpha) * np.eye(p)])
b = np.concatenate([target - y_mean, np.zeros(p)])
beta = np.linalg.lstsq(A, b, rcond=None)[0]
return [float(y_mean - x_mean @ beta)] + [float(v) for v in beta]
$python$
$create$;
  execute 'comment on function forecast_models.ridge_fit(double precision[], integer[], integer[], double precision[], double precision, boolean, boolean) is
    ''Ridge (scikit-learn''''s Ridge with fit_intercept) on the elapsed-day index and optional day-of-week and month one-hots: [intercept, coefficients…].''';
  execute 'revoke all on function forecast_models.ridge_fit(double precision[], integer[], integer[], double precision[], double precision, boolean, boolean) from public';
  execute 'grant execute on function forecast_models.ridge_fit(double precision[], integer[], integer[], double precision[], double precision, boolean, boolean) to authenticated, service_role';
end $do$;
