# ForecastLab's reads beside the upstream way of serving them (sourced by scripts/bench.sh after
# bench-forecastlab.sh): a FastAPI + asyncpg peer (bench/peer/) running the same SQL per request.
# Alternating runs, gateway then peer, at 10 connections; requests/s, latency, and each server's
# CPU per request (user + system time of its processes over the run ÷ requests).
# BENCH_PEER=0 skips it. The peer's Python packages go to .bench-venv/ (gitignored), once.
PEER_PORT=$((PORT + 5))
if [ ! -x .bench-venv/bin/uvicorn ]; then
  echo "bench: installing the peer's packages into .bench-venv"
  python3 -m venv .bench-venv
  .bench-venv/bin/pip install -q fastapi 'uvicorn[standard]' asyncpg pyjwt
fi
PEER_DATABASE_URL="$AUTH" PEER_POOL=2 .bench-venv/bin/uvicorn --app-dir bench/peer forecastlab_peer:app \
  --host 127.0.0.1 --port "$PEER_PORT" --workers 2 --loop uvloop --http httptools --log-level warning \
  > "$OUT/peer.log" 2>&1 &
PEER_PID=$!
trap 'kill $GATEWAY_PID $COLD_PID $PEER_PID 2>/dev/null' EXIT
for _ in $(seq 1 100); do curl -sf -o /dev/null -H "Authorization: Bearer $token" "http://127.0.0.1:$PEER_PORT/seeder/status" && break; sleep 0.2; done

# cpu_ticks PID: user + system clock ticks of a process and its children (the peer's workers).
cpu_ticks() {
  local total=0 pid
  for pid in $1 $(pgrep -P "$1"); do
    total=$(( total + $(awk '{print $14 + $15}' "/proc/$pid/stat" 2>/dev/null || echo 0) ))
  done
  echo "$total"
}
hz=$(getconf CLK_TCK)
store_id=$(psql "$ADMIN" -XtAc "select min(id) from forecast.stores where account_id = '$FORECAST_BIG'")
{
  echo
  echo "## ForecastLab reads: the gateway beside a FastAPI + asyncpg peer (same SQL, cold, 10 connections, alternating runs)"
  echo
  echo "| endpoint | server | requests/s | p50 ms | p99 ms | CPU ms per request |"
  echo "|---|---|---:|---:|---:|---:|"
} >> "$REPORT"
for endpoint in "stores /dimensions/stores?page_size=20" \
                "products /dimensions/products?page_size=20&search=sk" \
                "kpis /analytics/kpis?start_date=2025-07-01&end_date=2026-06-30" \
                "drilldowns /analytics/drilldowns?dimension=store&start_date=2026-01-01&end_date=2026-06-30" \
                "timeseries /analytics/timeseries?start_date=2025-07-01&end_date=2026-06-30&granularity=week" \
                "inventory /analytics/inventory-status?store_id=$store_id" \
                "seeder-status /seeder/status"; do
  read -r name path <<< "$endpoint"
  for server in "gateway $COLD_PORT $COLD_PID" "peer $PEER_PORT $PEER_PID"; do
    read -r label port pid <<< "$server"
    before=$(cpu_ticks "$pid")
    line=$(wrk_json 10 "$token" "$path" "$port")
    after=$(cpu_ticks "$pid")
    echo "$line" | python3 -c "
import json, sys
d = json.load(sys.stdin)
cpu = ($after - $before) / $hz * 1000 / max(d['requests'], 1)
flag = '' if d['errors'] == 0 else f\" ({d['errors']} errors)\"
print(f\"| $name | $label | {d['rps']:.0f}{flag} | {d['p50']:.2f} | {d['p99']:.2f} | {cpu:.3f} |\")
" >> "$REPORT"
    echo "bench: forecastlab $name, $label: $line"
  done
done
kill $PEER_PID 2>/dev/null
