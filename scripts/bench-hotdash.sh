# Hot Dash part of `make bench` (sourced by scripts/bench.sh, which has started the gateway).
# Every endpoint at 10 and 100 connections beside the spec's targets, at the demo size and at 10
# million orders; the export of 100,000 rows with the gateway's memory watched.
# BENCH_10M=0 skips the 10-million-order data set (it takes minutes to generate).
HOTDASH_CONNECTIONS=${HOTDASH_CONNECTIONS:-"10 100"}
DEMO_SHOP=11111111-1111-4111-8111-111111111111
BIG_SHOP=90000000-0000-4000-8000-000000000001
EXPORT_SHOP=77777777-0000-4000-8000-000000000007

hotdash_table() {  # hotdash_table LABEL SHOP PORT CACHE-LABEL
  local token
  token=$(.build/release/Gateway token --role authenticated --account "$2" --ttl 7200)
  while read -r name path p50 p95 p99; do
    [ -z "$name" ] || [ "${name:0:1}" = "#" ] && continue
    for c in $HOTDASH_CONNECTIONS; do
      line=$(wrk_json "$c" "$token" "$path" "$3")
      echo "bench: hotdash $name ($1, $4) at $c: $line"
      echo "$line" | python3 -c "
import json, sys
d = json.load(sys.stdin)
# At 10 connections p99 must beat the spec's p50; at 100, the spec's p99 with no errors.
target = $p50 if $c <= 10 else $p99
ok = d['p99'] < target and (d['errors'] == 0 or $c <= 10)
print(f\"| $name | $1 | $4 | $c | {d['rps']:.0f} | {d['p50']:.2f} | {d['p95']:.2f} | {d['p99']:.2f} | {d['errors']} | $p50 / $p95 / $p99 | {'met' if ok else 'MISSED'} (p99 < {target}) |\")
" >> "$REPORT"
    done
  done < bench/hotdash_endpoints.txt
}

{
  echo
  echo "## Hot Dash (wrk, one shop's token)"
  echo
  echo "Target: at 10 connections every p99 below the spec's p50; at 100 connections no errors and every p99 below the spec's p99."
  echo
  echo "| endpoint | data | gateway | connections | requests/s | p50 ms | p95 ms | p99 ms | errors | spec p50 / p95 / p99 | target |"
  echo "|---|---|---|---:|---:|---:|---:|---:|---:|---|---|"
} >> "$REPORT"
DEMO_LABEL="demo ($(psql "$ADMIN" -XtAc "select count(*) from hotdash.orders where account_id = '$DEMO_SHOP'") orders)"
hotdash_table "$DEMO_LABEL" "$DEMO_SHOP" "$COLD_PORT" cold
hotdash_table "$DEMO_LABEL" "$DEMO_SHOP" "$PORT" "5 s cache"

if [ "${BENCH_10M:-1}" = 1 ]; then
  generated="(kept from an earlier run)"
  if [ "$(psql "$ADMIN" -XtAc "select count(*) from hotdash.shops where account_id = '$BIG_SHOP'")" = 0 ]; then
    echo "bench: generating 10 million orders (20 shops × 500,000, two sessions at once)"
    started=$(date +%s)
    generators=()
    for half in 0 1; do
      psql "$ADMIN" -Xq -o /dev/null -v ON_ERROR_STOP=1 -c "
        select seed.hotdash_shop(('90000000-0000-4000-8000-' || lpad((i + 1)::text, 12, '0'))::uuid, 'Big shop ' || i,
                                 365, 76.2, 0.5, 0.05, 1000 + i, sessions_per_order => 0.2)
          from generate_series($half * 10, $half * 10 + 9) i" &
      generators+=($!)
    done
    wait "${generators[@]}"
    generated="in $(( $(date +%s) - started )) s"
  fi
  psql "$ADMIN" -Xq -o /dev/null -c "vacuum analyze hotdash.orders"
  refresh_ms=$(psql "$ADMIN" -XtA -c "select hotdash.refresh_rollups(force => true)" -c "select round(sum(duration_ms)) from hotdash.rollups")
  total=$(psql "$ADMIN" -XtAc "select count(*) from hotdash.orders")
  echo "bench: $total orders ${generated}; full refresh ${refresh_ms##*$'\n'} ms"
  hotdash_table "10M ($total orders; this shop $(psql "$ADMIN" -XtAc "select count(*) from hotdash.orders where account_id = '$BIG_SHOP'"))" "$BIG_SHOP" "$COLD_PORT" cold
  {
    echo
    echo "10M data set: $total orders generated ${generated}; refreshing every rollup at that size took ${refresh_ms##*$'\n'} ms in all"
    echo "(per rollup: $(psql "$ADMIN" -XtAc "select string_agg(name || ' ' || duration_ms || ' ms', ', ' order by position) from hotdash.rollups"))."
  } >> "$REPORT"
fi

# The export: 100,000 rows, redacted, as JSON and CSV; the gateway's resident memory sampled meanwhile.
SERVICE_TOKEN=$(.build/release/Gateway token --role service_role --account "$EXPORT_SHOP" --ttl 7200)
{
  echo
  echo "## Hot Dash export (curl, $(psql "$ADMIN" -XtAc "select count(*) from hotdash.training_examples where account_id = '$EXPORT_SHOP'") training examples, include_pii false)"
  echo
  echo "| format | rows | bytes | seconds | gateway RSS before → peak (MiB) | target |"
  echo "|---|---:|---:|---:|---|---|"
} >> "$REPORT"
for format in json csv ndjson; do
  rss_before=$(ps -o rss= -p "$GATEWAY_PID")
  peak=$rss_before
  curl -s -o /tmp/bench-export.$format -w '%{time_total} %{size_download}\n' -X POST -H "Authorization: Bearer $SERVICE_TOKEN" \
    -H 'Content-Type: application/json' -d "{\"date_from\": \"$(date -u -d "-365 days" +%FT%TZ)\", \"format\": \"$format\"}" \
    "http://127.0.0.1:$PORT/api/v1/analytics/export/training-data" > /tmp/bench-export.status &
  curl_pid=$!
  while kill -0 $curl_pid 2>/dev/null; do
    rss=$(ps -o rss= -p "$GATEWAY_PID"); [ "$rss" -gt "$peak" ] && peak=$rss; sleep 0.05
  done
  read -r seconds bytes < /tmp/bench-export.status
  rows=$(case $format in json) python3 -c "import json; print(len(json.load(open('/tmp/bench-export.json'))))" ;; csv) echo $(( $(wc -l < /tmp/bench-export.csv) - 1 )) ;; ndjson) wc -l < /tmp/bench-export.ndjson ;; esac)
  verdict=$(python3 -c "print('met' if $seconds < 2 else 'MISSED')")
  echo "| $format | $rows | $bytes | $seconds | $((rss_before / 1024)) → $((peak / 1024)) | $verdict (< 2 s) |" >> "$REPORT"
  echo "bench: export $format: $rows rows, $bytes bytes in $seconds s"
done
