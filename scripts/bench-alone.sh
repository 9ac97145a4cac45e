# What scripts/bench.sh would have set up for one of its parts (bench-jobs.sh, bench-models.sh)
# when the part runs alone; sourced from the repository's root, after `set -euo pipefail`.
#
# bench_alone NAME TITLE NOTE [KEEP]: the release build, the database bench_NAME (recreated unless
# KEEP is 1) migrated, one gateway on COLD_PORT (its log $OUT/gateway-NAME.log, killed on exit),
# and the report $OUT/NAME.md begun with "# TITLE benchmark" and a line on the machine that ends
# with NOTE. Sets what the parts read from bench.sh: DB, PORT, COLD_PORT, OUT, REPORT, ADMIN, AUTH,
# POOL, COLD_PID and JWT_SECRET (exported).
bench_alone() {
  local name=$1 title=$2 note=$3 keep=${4:-0}
  DB=scripts/db.sh
  PORT=${BENCH_PORT:-18190}
  COLD_PORT=$((PORT + 1))
  OUT=bench/results
  mkdir -p "$OUT"
  REPORT=$OUT/$name.md
  echo "bench: release build"
  swift build -c release --product Gateway >/dev/null 2>&1 || swift build -c release --product Gateway
  swift build --product Migrator >/dev/null 2>&1
  $DB start >/dev/null
  if [ "$keep" = 1 ]; then
    $DB ensure-db "bench_$name" >/dev/null 2>&1 || true
  else
    $DB recreate-db "bench_$name" >/dev/null 2>&1
  fi
  ADMIN=$($DB url "bench_$name")
  AUTH=$($DB url "bench_$name" authenticator)
  .build/debug/Migrator up --database-url "$ADMIN" >/dev/null
  export JWT_SECRET=$(head -c 48 /dev/urandom | base64 | tr -d '/+=')
  POOL=${BENCH_POOL:-$(($(nproc) + 1))}
  RESPONSE_CACHE_SECONDS=0 MAINTENANCE_INTERVAL=0 DATABASE_URL="$AUTH" DB_POOL_SIZE=$POOL .build/release/Gateway --port "$COLD_PORT" --log-level error >/dev/null 2>"$OUT/gateway-$name.log" &
  COLD_PID=$!
  # The shell's EXIT trap (a part may replace it with one that also stops its own servers).
  trap 'kill $COLD_PID 2>/dev/null' EXIT
  for _ in $(seq 1 100); do curl -sf -o /dev/null "http://127.0.0.1:$COLD_PORT/ready" && break; sleep 0.1; done
  kill -0 $COLD_PID 2>/dev/null || { echo "bench: the gateway on port $COLD_PORT did not start; see $OUT/gateway-$name.log" >&2; exit 1; }
  echo "# $title benchmark" > "$REPORT"
  echo >> "$REPORT"
  echo "$(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, PostgreSQL $(psql "$ADMIN" -XtAc 'show server_version'), gateway pool $POOL$note" >> "$REPORT"
}
