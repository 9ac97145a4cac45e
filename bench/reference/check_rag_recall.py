#!/usr/bin/env python3
"""Recall@5 of POST /rag/retrieve on this project's own docs (docs/forecastlab-rag.md, "Quality").

In a throw-away account of the given database (one transaction, rolled back) it indexes the
project's documentation with api.rag_index_project_docs, exactly as an admin's psql call would, then
asks every question of bench/reference/rag_questions.tsv (a labelled set kept with the repository:
question → the document and section that answers it, written by reading the docs) through
api.rag_retrieve with top_k 5 and no similarity threshold, and counts a hit when one of the five
results is a chunk of that document whose heading path starts with the labelled section. It asks
the same questions again with the HNSW index switched off (an exact, sequential cosine search) and
reports the index's recall against that too.

Passes when recall@5 ≥ 0.8. Run:
  PYTHONPATH=/work/main/.pylib /usr/bin/python3 bench/reference/check_rag_recall.py --database-url "$URL"
"""
import json
import os
import uuid

import refcommon

REQUIRED_RECALL = 0.8
QUESTIONS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "rag_questions.tsv")


def load_questions():
    labelled = []
    with open(QUESTIONS, encoding="utf-8") as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            question, path, section = line.rstrip("\n").split("\t")
            labelled.append((question, path, section))
    return labelled


def sql_literal(text):
    return "'" + text.replace("'", "''") + "'"


def run(url):
    labelled = load_questions()
    account = str(uuid.uuid4())
    claims = json.dumps({"role": "authenticated", "sub": str(uuid.uuid4()),
                         "app_metadata": {"account_id": account, "app_role": "admin"}})
    lines = ["begin;",
             f"select set_config('request.jwt.claims', {sql_literal(claims)}, true) is null;",
             "set local role authenticated;",
             "select 'indexed ' || (api.rag_index_project_docs() ->> 'total_chunks');"]
    for exact in (False, True):
        if exact:
            lines.append("set local enable_indexscan = off;")
        for question, _, _ in labelled:
            lines.append("select 'answer ' || jsonb_build_object('exact', %s, 'results', api.rag_retrieve(%s, 5, 0) -> 'results')::text;"
                         % ("true" if exact else "false", sql_literal(question)))
    lines.append("rollback;")
    done = refcommon.psql(url, lines)
    if done.returncode != 0:
        print(done.stderr)
        return 1
    answers = {False: [], True: []}
    chunks = 0
    for line in done.stdout.splitlines():
        if line.startswith("indexed "):
            chunks = int(line.split()[1])
        elif line.startswith("answer "):
            answer = json.loads(line[len("answer "):])
            answers[answer["exact"]].append(answer["results"])
    hits = {False: 0, True: 0}
    misses = []
    for exact in (False, True):
        for (question, path, section), results in zip(labelled, answers[exact]):
            found = any(r["source_path"] == path and (r.get("metadata") or {}).get("section", "").startswith(section) for r in results)
            hits[exact] += found
            if not found and not exact:
                top = [(r["source_path"], (r.get("metadata") or {}).get("section")) for r in results[:2]]
                misses.append(f"  miss: {question!r} → want {path} / {section}; got {top}")
    n = len(labelled)
    recall, exact_recall = hits[False] / n, hits[True] / n
    same = sum(1 for a, b in zip(answers[False], answers[True])
               if [r["chunk_id"] for r in a] == [r["chunk_id"] for r in b])
    print(f"indexed {chunks} chunks of the project's docs; {n} labelled questions")
    print("\n".join(misses))
    print(f"recall@5 (HNSW): {recall:.3f} ({hits[False]}/{n}); exact search: {exact_recall:.3f} ({hits[True]}/{n}); "
          f"same five as exact search for {same}/{n} questions")
    ok = recall >= REQUIRED_RECALL and len(answers[False]) == n
    print("OK" if ok else f"FAILED: recall@5 below {REQUIRED_RECALL}")
    return 0 if ok else 1


if __name__ == "__main__":
    refcommon.main(run, __doc__)
