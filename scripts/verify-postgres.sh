#!/usr/bin/env bash
# Smoke check of a running test cluster (scripts/start-postgres.sh): pgvector HNSW with
# vector_cosine_ops on 2000 random 1280-d vectors must return the exact top-5 (same ids, same
# order as a sequential scan) for every query, and the planner must use the HNSW index.
#
#   scripts/verify-postgres.sh [URL]     (default: postgres://shoplook@127.0.0.1:54329/shoplook_test)
#
# Exits non-zero on any mismatch. Leaves no tables behind. Takes about 5 s on 2 cores.
# EF_SEARCH=N overrides the hnsw.ef_search used for the check (default 400).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source-path=SCRIPTDIR
. "$here/postgres-env.sh"

url="${1:-postgres://$PG_DBUSER@127.0.0.1:$PG_DEFAULT_PORT/$PG_DBNAME}"
psql_bin="$PG_BINDIR/psql"
[[ -x "$psql_bin" ]] || psql_bin="$(command -v psql)" || pg_die "no psql found"
# Uniform random 1280-d vectors are the hardest case for HNSW (no clusters, distances
# nearly equal): measured here, ef_search=40 (default) finds the exact top-5 for about half
# of the queries, 100 for about 16 of 20, 200 for 19, 400 for all 20. Real embeddings are
# clustered and need less.
EF_SEARCH="${EF_SEARCH:-400}"

run_psql() {
    PGOPTIONS="-c client_min_messages=warning" "$psql_bin" "$url" -X -q -A -t -v ON_ERROR_STOP=1 "$@"
}

run_psql -c "SELECT 'server ' || current_setting('server_version') || ', pgvector ' || extversion
               FROM pg_extension WHERE extname = 'vector'" >&2

t0=$(date +%s.%N)
run_psql >/dev/null <<'EOF'
DROP TABLE IF EXISTS shoplook_verify_items, shoplook_verify_queries;
SELECT setseed(0.128);
-- Even ids: centred values; odd ids: non-negative values (like CNN pooled features).
CREATE TABLE shoplook_verify_items (id int PRIMARY KEY, embedding vector(1280) NOT NULL);
INSERT INTO shoplook_verify_items
SELECT g, (SELECT array_agg(random() - CASE WHEN g % 2 = 0 THEN 0.5 ELSE 0 END + 0 * i)
             FROM generate_series(1, 1280) i)::vector
  FROM generate_series(1, 2000) g;
CREATE TABLE shoplook_verify_queries (id int PRIMARY KEY, embedding vector(1280) NOT NULL);
INSERT INTO shoplook_verify_queries
SELECT g, (SELECT array_agg(random() - CASE WHEN g % 2 = 0 THEN 0.5 ELSE 0 END + 0 * i)
             FROM generate_series(1, 1280) i)::vector
  FROM generate_series(1, 20) g;
EOF
t1=$(date +%s.%N)
run_psql >/dev/null <<'EOF'
CREATE INDEX shoplook_verify_items_hnsw ON shoplook_verify_items
  USING hnsw (embedding vector_cosine_ops) WITH (m = 16, ef_construction = 64);
ANALYZE shoplook_verify_items;
EOF
t2=$(date +%s.%N)
awk -v a="$t0" -v b="$t1" -v c="$t2" \
    'BEGIN { printf "loaded 2000 x vector(1280) in %.1f s, built HNSW (cosine) in %.1f s\n", b - a, c - b }' >&2

# For every query: exact top-5 (sequential scan + sort) vs the HNSW index scan, with the
# query vector passed as a bind parameter ($1) as a client would, and the plan checked.
result="$(run_psql <<EOF
CREATE FUNCTION pg_temp.knn(q vector) RETURNS int[] LANGUAGE plpgsql AS \$f\$
DECLARE r int[];
BEGIN
  EXECUTE 'SELECT array_agg(id ORDER BY d, id) FROM (SELECT id, embedding <=> \$1 AS d
             FROM shoplook_verify_items ORDER BY embedding <=> \$1 LIMIT 5) s'
    INTO r USING q;
  RETURN r;
END \$f\$;
CREATE FUNCTION pg_temp.uses_hnsw(q vector) RETURNS boolean LANGUAGE plpgsql AS \$f\$
DECLARE line text; found boolean := false;
BEGIN
  FOR line IN EXECUTE 'EXPLAIN (COSTS OFF) SELECT id FROM shoplook_verify_items
                         ORDER BY embedding <=> \$1 LIMIT 5' USING q LOOP
    IF line LIKE '%Index Scan using shoplook_verify_items_hnsw%' THEN found := true; END IF;
  END LOOP;
  RETURN found;
END \$f\$;
CREATE TEMP TABLE res (id int, exact int[], hnsw_default int[], hnsw int[], plan_ok boolean);
DO \$d\$
DECLARE q record; ex int[]; h40 int[]; h int[]; p boolean;
BEGIN
  FOR q IN SELECT id, embedding FROM shoplook_verify_queries ORDER BY id LOOP
    PERFORM set_config('enable_seqscan', 'on', true);
    PERFORM set_config('enable_indexscan', 'off', true);
    ex := pg_temp.knn(q.embedding);
    PERFORM set_config('enable_indexscan', 'on', true);
    -- A 2000-row table is small: with a large ef_search the planner may prefer the seq
    -- scan (exact anyway); force the index so that the HNSW path is what gets tested.
    PERFORM set_config('enable_seqscan', 'off', true);
    PERFORM set_config('hnsw.ef_search', '40', true);   -- pgvector's default
    h40 := pg_temp.knn(q.embedding);
    PERFORM set_config('hnsw.ef_search', '$EF_SEARCH', true);
    h := pg_temp.knn(q.embedding);
    p := pg_temp.uses_hnsw(q.embedding);
    INSERT INTO res VALUES (q.id, ex, h40, h, p);
  END LOOP;
END \$d\$;
SELECT count(*) FILTER (WHERE hnsw = exact AND plan_ok) || ' ' || count(*) || ' '
    || count(*) FILTER (WHERE hnsw_default = exact) || ' ' || count(*) FILTER (WHERE plan_ok)
  FROM res;
SELECT 'mismatch query ' || id || ': hnsw ' || hnsw::text || ' exact ' || exact::text
    || ' plan_uses_hnsw=' || plan_ok FROM res WHERE hnsw IS DISTINCT FROM exact OR NOT plan_ok;
EOF
)"
run_psql -c "DROP TABLE shoplook_verify_items, shoplook_verify_queries" >/dev/null

read -r ok total ok40 plans <<<"$(head -n 1 <<<"$result")"
tail -n +2 <<<"$result" >&2
echo "hnsw.ef_search=$EF_SEARCH: exact top-5 on $ok/$total queries (index used in $plans/$total plans);" \
     "ef_search=40 (default): $ok40/$total" >&2
if [[ "$ok" != "$total" || "$total" == 0 ]]; then
    pg_die "HNSW top-5 differs from the exact top-5"
fi
echo "pgvector HNSW check OK" >&2
