# ForecastLab part of `make bench` (sourced by scripts/bench.sh, which has started the gateways).
# One year of 100 stores × 500 products (about 18 million sales rows) for the kpis and a year of
# daily timeseries at 10 and 100 connections; ingest throughput with 10,000-row batches, over HTTP and
# through SQL alone (the database's share of a batch, as the gateway calls it).
FORECAST_BIG=55555555-0000-4000-8000-000000000001
FORECAST_INGEST=55555555-0000-4000-8000-000000000002
FORECAST_CONNECTIONS=${FORECAST_CONNECTIONS:-"10 100"}
psql "$ADMIN" -Xq -c "update gateway.rate_policies set requests = 1000000000 where name like 'forecastlab-%'"

generated="(kept from an earlier run)"
if [ "$(psql "$ADMIN" -XtAc "select count(*) from forecast.stores where account_id = '$FORECAST_BIG'")" = 0 ]; then
  echo "bench: generating one year of 100 stores × 500 products"
  started=$(date +%s)
  psql "$ADMIN" -Xq -o /dev/null -v ON_ERROR_STOP=1 -c "set statement_timeout = 0" \
    -c "select forecast.generate('$FORECAST_BIG', forecast.seeder_settings(2024, 100, 500, null, date '2026-06-30', 0, '{\"window_days\": 365}'))"
  psql "$ADMIN" -Xq -c "vacuum analyze forecast.sales_daily, forecast.sales_by_store_day, forecast.sales_by_product_day"
  generated="in $(( $(date +%s) - started )) s"
fi
sales_rows=$(psql "$ADMIN" -XtAc "select sum(transactions) from forecast.sales_by_store_day where account_id = '$FORECAST_BIG'")
echo "bench: $sales_rows sales rows $generated"

{
  echo
  echo "## ForecastLab analytics (wrk, a viewer's token, cold gateway; $sales_rows sales rows: 100 stores × 500 products × 365 days, generated $generated)"
  echo
  echo "Target: p99 under 100 ms at 10 connections."
  echo
  echo "| endpoint | connections | requests/s | p50 ms | p95 ms | p99 ms | errors | target |"
  echo "|---|---:|---:|---:|---:|---:|---:|---|"
} >> "$REPORT"
token=$(.build/release/Gateway token --role authenticated --account "$FORECAST_BIG" --app-role viewer --ttl 7200)
for endpoint in "kpis /analytics/kpis?start_date=2025-07-01&end_date=2026-06-30" \
                "timeseries-daily /analytics/timeseries?start_date=2025-07-01&end_date=2026-06-30&granularity=day" \
                "kpis-one-store /analytics/kpis?start_date=2025-07-01&end_date=2026-06-30&store_id=$(psql "$ADMIN" -XtAc "select min(id) from forecast.stores where account_id = '$FORECAST_BIG'")"; do
  read -r name path <<< "$endpoint"
  for c in $FORECAST_CONNECTIONS; do
    line=$(wrk_json "$c" "$token" "$path")
    echo "bench: forecastlab $name at $c: $line"
    echo "$line" | python3 -c "
import json, sys
d = json.load(sys.stdin)
verdict = ('met' if d['p99'] < 100 and d['errors'] == 0 else 'MISSED') + ' (p99 < 100)' if $c == 10 else ''
print(f\"| $name | $c | {d['rps']:.0f} | {d['p50']:.2f} | {d['p95']:.2f} | {d['p99']:.2f} | {d['errors']} | {verdict} |\")
" >> "$REPORT"
  done
done

# Ingest: 20 batches of 10,000 new rows (10 stores × 100 products × 10 days each), then the same 20
# again (every row unchanged: the idempotent path); sent by one client, then (other days) by two
# clients at once, as a loader would.
psql "$ADMIN" -Xq -o /dev/null -v ON_ERROR_STOP=1 \
  -c "select forecast.generate('$FORECAST_INGEST', forecast.seeder_settings(7, 10, 100, date '2020-01-01', date '2020-01-01', 0, null))"
admin_token=$(.build/release/Gateway token --role authenticated --account "$FORECAST_INGEST" --app-role admin --ttl 7200)
ingest=$(python3 - "$COLD_PORT" "$admin_token" <<'PY'
import datetime, json, sys, threading, time, urllib.request
port, token = sys.argv[1], sys.argv[2]
def batch(b):
    start = datetime.date(2021, 1, 1) + datetime.timedelta(days=10 * b)
    return [{"store_code": f"S{s:03d}", "sku": f"SKU-{p:05d}", "date": (start + datetime.timedelta(days=d)).isoformat(),
             "quantity": (s * p + d) % 17 + 1, "unit_price": round(1 + (p % 40) * 0.25, 2)}
            for s in range(1, 11) for p in range(1, 101) for d in range(10)]
def send(bodies, counts):
    for body in bodies:
        request = urllib.request.Request(f"http://127.0.0.1:{port}/ingest/sales-daily", data=body, method="POST",
                                         headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
        answer = json.load(urllib.request.urlopen(request, timeout=60))
        assert answer["rejected_count"] == 0, answer["errors"][:3]
        for key in ("inserted", "updated", "unchanged"):
            counts[key] = counts.get(key, 0) + answer[key]
results = []
for clients in (1, 2):
    bodies = [json.dumps({"records": batch(b)}).encode() for b in range(20 * clients, 20 * clients + 20)]
    for label in ("new", "repeat"):
        counts = [{} for _ in range(clients)]
        threads = [threading.Thread(target=send, args=(bodies[i::clients], counts[i])) for i in range(clients)]
        started = time.perf_counter()
        for thread in threads: thread.start()
        for thread in threads: thread.join()
        seconds = time.perf_counter() - started
        total = {key: sum(c.get(key, 0) for c in counts) for key in ("inserted", "updated", "unchanged")}
        results.append(f"{clients} {label} {seconds:.2f} {200000 / seconds:.0f} {total['inserted']} {total['updated']} {total['unchanged']}")
print("\n".join(results))
PY
)
{
  echo
  echo "## ForecastLab ingest (20 batches of 10,000 rows over HTTP; one client, then two at once)"
  echo
  echo "Target: over 50,000 rows/s."
  echo
  echo "| clients | batches | seconds | rows/s | inserted | updated | unchanged | target |"
  echo "|---:|---|---:|---:|---:|---:|---:|---|"
  while read -r clients label seconds rate inserted updated unchanged; do
    verdict=$(python3 -c "print('met' if $rate > 50000 else 'MISSED')")
    echo "| $clients | $label | $seconds | $rate | $inserted | $updated | $unchanged | $verdict (> 50,000) |"
    echo "bench: forecastlab ingest, $clients client(s), $label: $rate rows/s" >&2
  done <<< "$ingest"
} >> "$REPORT"

# The database's share of an ingest batch: 20 batches of 10,000 new rows (other days than above)
# through gateway.invoke as the gateway's login, the batch as the jsonb argument, exactly the call
# the gateway makes (ParameterBinder: api.ingest_sales_daily(records => ($1->'records')::jsonb)).
# The median per batch, from psql's \timing; the gateway adds its own time (about 25 ms a batch).
sql_ingest=$(python3 - "$FORECAST_INGEST" <<'PY' | psql "$AUTH" -X -v ON_ERROR_STOP=1 2>&1 | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p' | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)], a[1], a[NR], NR}'
import datetime, json, sys
account = sys.argv[1]
claims = json.dumps({"role": "authenticated", "sub": "00000000-0000-4000-8000-0000000000be",
                     "app_metadata": {"account_id": account, "app_role": "admin"}})
call = "select (api.ingest_sales_daily(records => ($1->''records'')::jsonb))::text"
print("\\timing on")
for b in range(100, 120):
    start = datetime.date(2021, 1, 1) + datetime.timedelta(days=10 * b)
    rows = [{"store_code": f"S{s:03d}", "sku": f"SKU-{p:05d}", "date": (start + datetime.timedelta(days=d)).isoformat(),
             "quantity": (s * p + d) % 17 + 1, "unit_price": round(1 + (p % 40) * 0.25, 2)}
            for s in range(1, 11) for p in range(1, 101) for d in range(10)]
    print(f"select length(body) from gateway.invoke('authenticated', '{claims}', false, '{call}', $ARGS${json.dumps({'records': rows})}$ARGS$);")
PY
)
read -r median fastest slowest batches <<< "$sql_ingest"
{
  echo
  echo "## ForecastLab ingest through SQL (gateway.invoke as the gateway calls it; $batches batches of 10,000 new rows)"
  echo
  echo "| median ms per batch | fastest | slowest | rows/s at the median, with 25 ms of gateway |"
  echo "|---:|---:|---:|---:|"
  echo "| $median | $fastest | $slowest | $(python3 -c "print(round(10000 / (($median + 25) / 1000)))") |"
} >> "$REPORT"
echo "bench: forecastlab ingest through SQL: median $median ms per 10,000-row batch" >&2
