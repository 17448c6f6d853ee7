#!/usr/bin/env bash
# Runs the data plane on its embedded default (./data, a local directory standing in for S3) on
# 127.0.0.1:8080, creates a collection, upserts a few vectors, queries them, and keeps serving
# until Ctrl-C.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/akidb-target}"
cargo build --release --locked -p akidb-dataplane
bin="$CARGO_TARGET_DIR/release/akidb-dataplane"
addr="${AKIDB_DEMO_LISTEN:-127.0.0.1:8080}"
url="http://$addr"

AKIDB_SERVER__LOG_FORMAT=text "$bin" serve --listen "$addr" --data-dir ./data &
pid=$!
trap 'kill -TERM $pid 2>/dev/null; wait $pid 2>/dev/null' EXIT INT TERM
for _ in $(seq 1 300); do
  curl -sf "$url/readyz" >/dev/null 2>&1 && break
  kill -0 "$pid" 2>/dev/null || { echo "demo: server exited"; exit 1; }
  sleep 0.1
done

show() { echo "\$ $*" | cut -c1-160; "$@"; echo; echo; }
curl -s -X DELETE "$url/v1/collections/demo" >/dev/null || true
show curl -s -X POST "$url/v1/collections" -H 'content-type: application/json' \
  -d '{"name":"demo","dimension":3,"metric":"cosine","index":{"type":"hnsw","m":16,"ef_construction":100,"ef_search":32}}'
show curl -s -X POST "$url/v1/collections/demo/upsert" -H 'content-type: application/json' -d '{"records":[
  {"id":"apple","vector":[0.9,0.1,0.0],"metadata":{"kind":"fruit","price":3}},
  {"id":"banana","vector":[0.8,0.3,0.1],"metadata":{"kind":"fruit","price":1}},
  {"id":"carrot","vector":[0.1,0.9,0.2],"metadata":{"kind":"vegetable","price":2}},
  {"id":"salmon","vector":[0.0,0.2,0.9],"metadata":{"kind":"fish","price":12}}]}'
show curl -s -X POST "$url/v1/collections/demo/query" -H 'content-type: application/json' \
  -d '{"vector":[1.0,0.2,0.0],"k":2,"include":["metadata"]}'
show curl -s -X POST "$url/v1/collections/demo/query" -H 'content-type: application/json' \
  -d '{"vector":[1.0,0.2,0.0],"k":2,"filter":{"price":{"$gte":2}}}'
show curl -s "$url/v1/collections/demo"
echo "demo: the server keeps running on $url (Ctrl-C to stop; data stays in ./data)"
wait $pid
