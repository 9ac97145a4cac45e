#!/usr/bin/env bash
# ForecastLab's knowledge base at 100,000 chunks (docs/benchmarks.md, "ForecastLab knowledge
# base"). Sourced by scripts/bench.sh, which has started the gateways; also runs alone
# (`scripts/bench-rag.sh`: release build, database bench_rag, one gateway).
#
#   (a) indexing throughput: the project's docs indexed by api.rag_index_project_docs (what POST
#       /rag/index/project-docs runs; chunks embedded in the database by the local model), chunks/s;
#   (b) 100,000 chunks in one account: the docs' real chunks plus filler texts (ten words of the
#       docs' vocabulary each) embedded by the same model in two sessions, so the filler crowds the
#       real chunks on the model's own manifold; the HNSW index built over them once;
#   (c) the search itself (pgbench, one client, the statement api.rag_retrieve runs, as a member,
#       for the labelled questions' precomputed vectors): p50 / p99, and its plan;
#   (d) a whole POST /rag/retrieve (the local model warm), one client: p50 / p99;
#   (e) recall: the index's top 5 against an exact search's (the index switched off), per question.
# BENCH_RAG=0 skips it; BENCH_RAG_CHUNKS (100000), BENCH_RAG_ROUNDS (10) set the sizes.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  set -euo pipefail
  cd "$(dirname "$0")/.."
  . scripts/bench-alone.sh
  bench_alone rag "ForecastLab knowledge base" "; the client, the gateway and PostgreSQL share the machine." "${BENCH_REUSE:-0}"
fi

RAG_ACCOUNT=55555555-0000-4000-8000-000000000005
RAG_CHUNKS=${BENCH_RAG_CHUNKS:-100000}
psql "$ADMIN" -Xq -c "update gateway.rate_policies set requests = 1000000000 where name like 'forecastlab-rag-%'"
rag_token=$(.build/release/Gateway token --role authenticated --account "$RAG_ACCOUNT" --app-role admin --ttl 7200)
rag_claims="{\"role\": \"authenticated\", \"sub\": \"00000000-0000-4000-8000-0000000000aa\", \"app_metadata\": {\"account_id\": \"$RAG_ACCOUNT\", \"app_role\": \"admin\"}}"

mkdir -p "$OUT/rag"
# BENCH_REUSE=1 with the chunks of an earlier run in place: (a) and (b) are not done again.
if [ "$(psql "$ADMIN" -XtAc "select count(*) from rag.chunks where account_id = '$RAG_ACCOUNT'")" = "$RAG_CHUNKS" ] && [ -s "$OUT/rag/indexing.txt" ]; then
  read -r rag_docs_chunks rag_docs_ms rag_embed_ms rag_filler_seconds < "$OUT/rag/indexing.txt"
else
# (a) As a member's psql call, in a new session (its first embedding loads the model: counted, as
# a first index after a restart would be).
psql "$ADMIN" -Xq -c "delete from rag.sources where account_id = '$RAG_ACCOUNT'"
rag_indexed=$(psql "$ADMIN" -XtA -v ON_ERROR_STOP=1 <<SQL | tail -1
select set_config('request.jwt.claims', '$rag_claims', false) is null;
set role authenticated;
select api.rag_index_project_docs();
SQL
)
read -r rag_docs_chunks rag_docs_ms <<< "$(printf '%s' "$rag_indexed" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["total_chunks"], d["duration_ms"])')"
[ "${rag_docs_chunks:-0}" -gt 0 ] || { echo "bench: rag: indexing the project's docs gave no chunks: $rag_indexed" >&2; exit 1; }
# The embedding alone, on a warm backend: 256 chunk texts in one embed_batch call.
rag_embed_ms=$(psql "$ADMIN" -XtA -v ON_ERROR_STOP=1 <<SQL | tail -1
select rag.embed('warm up') is null;
select set_config('t.start', clock_timestamp()::text, false) is null;
select cardinality(rag.embed_batch(array(select content from rag.chunks where account_id = '$RAG_ACCOUNT' order by id limit 256))) is null;
select round((extract(epoch from clock_timestamp() - current_setting('t.start')::timestamptz) * 1000)::numeric, 1);
SQL
)

# (b) Filler up to RAG_CHUNKS: short texts of ten words drawn from the docs' own vocabulary,
# embedded by the same model (two sessions at once, one a core), so the filler lies on the same
# manifold as real chunks and crowds them; then the index built once over all (as a bulk load).
echo "bench: rag: $rag_docs_chunks real chunks; embedding filler up to $RAG_CHUNKS"
psql "$ADMIN" -Xq -v ON_ERROR_STOP=1 <<SQL
drop index rag.chunks_embedding_idx;
drop table if exists public.rag_bench_words;
create table public.rag_bench_words as
  select array_agg(distinct w) as words from (select regexp_split_to_table(lower(content), '[^a-z]+') w from rag.chunks
                                               where account_id = '$RAG_ACCOUNT') x where length(w) between 3 and 14;
insert into rag.sources (account_id, source_id, source_type, source_path, content_hash)
  values ('$RAG_ACCOUNT', md5('filler'), 'markdown', 'bench/filler.md', repeat('0', 64));
SQL
rag_filler() {  # rag_filler FIRST LAST: filler chunks FIRST..LAST, in batches of 1,000
  psql "$ADMIN" -Xq -v ON_ERROR_STOP=1 <<SQL
do \$\$
declare
  words text[] := (select words from public.rag_bench_words);
  n integer := cardinality(words);
  source bigint := (select id from rag.sources where source_id = md5('filler'));
  texts text[];
  first integer;
begin
  for first in select generate_series($1, $2, 1000) loop
    -- 10 + 0 * g: the inner query depends on the row, so each row draws its own words.
    texts := array(select (select string_agg(words[1 + floor(random() * n)::integer], ' ') from generate_series(1, 10 + 0 * g))
                     from generate_series(first, least(first + 999, $2)) g);
    insert into rag.chunks (account_id, chunk_id, source_pk, chunk_index, content, embedding, token_count, metadata)
    select '$RAG_ACCOUNT', md5('filler' || (first + i - 1)), source, first + i - 1, t, v, 0, '{}'
      from unnest(texts, rag.embed_batch(texts)) with ordinality u(t, v, i);
  end loop;
end \$\$;
SQL
}
rag_filler_total=$((RAG_CHUNKS - rag_docs_chunks))
rag_filler_started=$(date +%s.%N)
rag_filler 1 $((rag_filler_total / 2)) & rag_filler_pid=$!
rag_filler $((rag_filler_total / 2 + 1)) "$rag_filler_total"
wait "$rag_filler_pid"
rag_filler_seconds=$(python3 -c "import time; print(round(time.time() - $rag_filler_started, 1))")
psql "$ADMIN" -Xq -v ON_ERROR_STOP=1 <<SQL
drop table public.rag_bench_words;
set maintenance_work_mem = '1GB';
create index chunks_embedding_idx on rag.chunks using hnsw (embedding vector_cosine_ops) with (m = 16, ef_construction = 64);
vacuum analyze rag.chunks;  -- what autovacuum does after a bulk load: the count of the account's chunks reads the index only
SQL
echo "$rag_docs_chunks $rag_docs_ms $rag_embed_ms $rag_filler_seconds" > "$OUT/rag/indexing.txt"
fi
rag_total=$(psql "$ADMIN" -XtAc "select count(*) from rag.chunks where account_id = '$RAG_ACCOUNT'")

# (c)-(e): the questions' vectors, the search statement per question for pgbench, the plan.
rm -f "$OUT"/rag/search*
grep -v '^#' bench/reference/rag_questions.tsv | cut -f1 | grep -v '^$' > "$OUT/rag/questions.txt"
n=0
while IFS= read -r question; do
  n=$((n + 1))
  vector=$(psql "$ADMIN" -XtA -v q="$question" <<< "select rag.embed(:'q');")
  cat > "$OUT/rag/search-$n.sql" <<SQL
begin;
select set_config('request.jwt.claims', '$rag_claims', true), set_config('role', 'authenticated', true), set_config('hnsw.iterative_scan', 'strict_order', true), set_config('hnsw.ef_search', '100', true), set_config('hnsw.max_scan_tuples', '100000', true);
select c.chunk_id from rag.chunks c where c.account_id = '$RAG_ACCOUNT' order by c.embedding operator(public.<=>) '$vector'::public.vector limit 5;
commit;
SQL
done < "$OUT/rag/questions.txt"
rag_plan=$(psql "$ADMIN" -XtA -c "begin" -c "$(sed -n 2p "$OUT/rag/search-1.sql")" \
  -c "explain $(sed -n 3p "$OUT/rag/search-1.sql" | sed 's/;$//')" -c "rollback" | grep -E 'Index Scan|Seq Scan|Sort' | head -2 | sed 's/^ *//; s/  (cost.*//' | paste -sd ';')
rag_files=$(for i in $(seq 1 "$n"); do printf -- '-f %s ' "$OUT/rag/search-$i.sql"; done)
pgbench "$AUTH" -n -M simple -c 1 -T "${BENCH_RAG_SECONDS:-10}" $rag_files --log --log-prefix="$OUT/rag/search" >/dev/null 2>&1
read -r rag_search_p50 rag_search_p99 rag_search_n <<< "$(cat "$OUT"/rag/search.* | python3 -c '
import sys
# pgbench log: client, transaction, latency in µs (the whole transaction: claims, role, query), …
t = sorted(int(line.split()[2]) / 1000 for line in sys.stdin if line.strip())
print(f"{t[len(t) // 2]:.2f} {t[min(len(t) - 1, int(0.99 * len(t)))]:.2f} {len(t)}")')"

# (d) and (e): whole requests, then recall against an exact search.
read -r rag_http_p50 rag_http_p99 rag_http_n rag_recall rag_same <<< "$(/usr/bin/python3 - "$COLD_PORT" "$rag_token" "$OUT/rag/questions.txt" "${BENCH_RAG_ROUNDS:-10}" "$AUTH" "$rag_claims" <<'PY'
import http.client, json, subprocess, sys, time
port, token, questions_file, rounds, url, claims = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5], sys.argv[6]
questions = [q for q in open(questions_file).read().splitlines() if q]
connection = http.client.HTTPConnection("127.0.0.1", int(port), timeout=60)
def retrieve(q):
    connection.request("POST", "/rag/retrieve", json.dumps({"query": q, "top_k": 5, "similarity_threshold": 0}),
                       {"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    r = connection.getresponse(); body = json.loads(r.read())
    assert r.status == 200, body
    return [x["chunk_id"] for x in body["results"]]
for q in questions:  # warm-up: every backend of the pool loads the model
    retrieve(q)
times = []
indexed = {}
for _ in range(rounds):
    for q in questions:
        start = time.perf_counter(); indexed[q] = retrieve(q); times.append((time.perf_counter() - start) * 1000)
times.sort()
# Exact search: the same statement with index scans off, in psql as the same member.
lines = [f"select set_config('request.jwt.claims', '{claims}', false) is null;", "set role authenticated;", "set enable_indexscan = off;"]
for q in questions:
    lines.append("select string_agg(x ->> 'chunk_id', ',') from jsonb_array_elements(api.rag_retrieve(%s, 5, 0) -> 'results') x;" % ("'" + q.replace("'", "''") + "'"))
out = subprocess.run(["psql", url, "-XtAq", "-f", "-"], input="\n".join(lines), capture_output=True, text=True, check=True).stdout.split()
exact = [line.split(",") for line in out if "," in line or len(line) == 32]
recall = sum(len(set(indexed[q]) & set(e)) for q, e in zip(questions, exact)) / (5 * len(questions))
same = sum(indexed[q] == e for q, e in zip(questions, exact))
print(f"{times[len(times) // 2]:.2f} {times[min(len(times) - 1, int(0.99 * len(times)))]:.2f} {len(times)} {recall:.3f} {same}/{len(questions)}")
PY
)"
echo "bench: rag: $rag_total chunks; search p50 $rag_search_p50 ms p99 $rag_search_p99 ms; retrieve p50 $rag_http_p50 p99 $rag_http_p99; recall vs exact $rag_recall"
{
  echo
  echo "## ForecastLab knowledge base"
  echo
  echo "$rag_total chunks in one account ($rag_docs_chunks of this project's docs, the rest ten-word filler texts embedded by the same model); HNSW (m 16, ef_construction 64; ef_search 100, iterative scan, strict order); 384 dimensions; one client."
  echo
  echo "| measure | p50 | p99 | count |"
  echo "|---|---:|---:|---:|"
  echo "| the search (pgbench: claims, role and the top-5 statement of api.rag_retrieve) | $rag_search_p50 ms | $rag_search_p99 ms | $rag_search_n |"
  echo "| \`POST /rag/retrieve\`, whole request, the local model warm | $rag_http_p50 ms | $rag_http_p99 ms | $rag_http_n |"
  echo
  echo "- Plan of the search: $rag_plan."
  echo "- Recall of the index's top 5 against an exact search (index off): $rag_recall; the same five, in order, for $rag_same questions."
  echo "- Indexing: $rag_docs_chunks chunks of the project's docs in $rag_docs_ms ms (api.rag_index_project_docs in a new session: its first embedding loads the model), $(python3 -c "print(round($rag_docs_chunks / ($rag_docs_ms / 1000), 1))") chunks/s; the embedding alone, 256 chunks in one embed_batch on a warm backend: $rag_embed_ms ms, $(python3 -c "print(round(256 / ($rag_embed_ms / 1000), 1))") chunks/s; the $((RAG_CHUNKS - rag_docs_chunks)) ten-word filler texts, two sessions: $rag_filler_seconds s, $(python3 -c "print(round(($RAG_CHUNKS - $rag_docs_chunks) / $rag_filler_seconds))") chunks/s."
} >> "$REPORT"
