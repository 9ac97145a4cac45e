# FlowPilot part of `make bench` (sourced by scripts/bench.sh, which has started the gateways).
# The escalation metric at 1 thousand and at 1 million handoffs in one account
# (bench/seed/30_flowpilot.sql), each period at 10 and 100 connections, on the cold gateway.
FLOWPILOT_CONNECTIONS=${FLOWPILOT_CONNECTIONS:-"10 100"}
psql "$ADMIN" -Xq -c "update gateway.rate_policies set requests = 1000000000 where name like 'flowpilot-%'"
# A database kept from a run before FlowPilot existed (BENCH_REUSE=1) lacks its data.
if [ "$(psql "$ADMIN" -XtAc "select count(*) from flowpilot.accounts where id = '44444444-0000-4000-8000-000000000002'")" = 0 ]; then
  echo "bench: generating 1 million handoffs"
  for seed in seeds/30_flowpilot_generator.sql bench/seed/30_flowpilot.sql; do psql "$ADMIN" -Xq -o /dev/null -v ON_ERROR_STOP=1 -f "$seed"; done
fi

# What one live computation costs, per period, straight in SQL (no snapshot).
flowpilot_live_ms() {  # flowpilot_live_ms ACCOUNT PERIOD DAYS
  psql "$ADMIN" -XtA -c '\timing on' \
    -c "select flowpilot.escalation_metrics('$1', '$2', $3, now()) is not null" | awk '/^Time:/{print $2}'
}

{
  echo
  echo "## FlowPilot escalation metric (wrk, an engineer's token, cold gateway)"
  echo
  echo "Target: p99 under 100 ms at 1 million handoffs, 10 connections. Accounts with 20,000 claims or more in 90 days"
  echo "are served from snapshots that gateway.maintenance() refreshes every minute; the live column is what one"
  echo "computation costs in SQL (psql, one at a time)."
  echo
  echo "| handoffs | period | claims in period | served from | live computation ms | connections | requests/s | p50 ms | p95 ms | p99 ms | errors | target |"
  echo "|---:|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---|"
} >> "$REPORT"
started=$(date +%s%N)
snapshots=$(psql "$ADMIN" -XtAc "select flowpilot.refresh_escalation_snapshots()")
refresh_ms=$(( ($(date +%s%N) - started) / 1000000 ))
for account in 44444444-0000-4000-8000-000000000001 44444444-0000-4000-8000-000000000002; do
  handoffs=$(psql "$ADMIN" -XtAc "select count(*) from flowpilot.session_handoffs where account_id = '$account'")
  token=$(.build/release/Gateway token --role authenticated --sub "$(psql "$ADMIN" -XtAc "select md5('${account}engineer')::uuid")" \
          --account "$account" --app-role engineer --ttl 7200)
  for period in 7d 30d 90d; do
    days=${period%d}
    claims=$(psql "$ADMIN" -XtAc "select count(*) from flowpilot.session_handoffs where account_id = '$account' and claimed_at >= now() - interval '$days days'")
    source=$(psql "$ADMIN" -XtAc "select case when exists (select from flowpilot.escalation_snapshots where account_id = '$account' and period = '$period') then 'snapshot' else 'live' end")
    live=$(flowpilot_live_ms "$account" "$period" "$days")
    for c in $FLOWPILOT_CONNECTIONS; do
      line=$(wrk_json "$c" "$token" "/api/v1/analytics/flowpilot/escalations?period=$period")
      echo "bench: flowpilot escalations $handoffs handoffs $period ($source) at $c: $line"
      echo "$line" | python3 -c "
import json, sys
d = json.load(sys.stdin)
verdict = ('met' if d['p99'] < 100 and d['errors'] == 0 else 'MISSED') if $handoffs >= 1000000 and $c == 10 else ''
print(f\"| $handoffs | $period | $claims | $source | $live | $c | {d['rps']:.0f} | {d['p50']:.2f} | {d['p95']:.2f} | {d['p99']:.2f} | {d['errors']} | {verdict} |\")
" >> "$REPORT"
    done
  done
done
echo >> "$REPORT"
echo "Refreshing the snapshots ($snapshots written) took $refresh_ms ms." >> "$REPORT"
