#!/usr/bin/env bash
# Measures the idle resident memory of the akidb-operator binary against tools/stub_apiserver.py:
# all watches established, leader lease held, no objects. Prints VmRSS/VmHWM after SECONDS.
# Usage: operator/tools/measure-idle-rss.sh path/to/akidb-operator [SECONDS]
set -euo pipefail
BIN="$1"; SECONDS_IDLE="${2:-30}"
DIR="$(mktemp -d)"; HERE="$(cd "$(dirname "$0")" && pwd)"
API_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
HTTP_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
python3 "$HERE/stub_apiserver.py" "$API_PORT" "$DIR/requests.log" & API_PID=$!
for _ in $(seq 1 100); do curl -s "http://127.0.0.1:$API_PORT/version" >/dev/null && break; sleep 0.1; done
cat > "$DIR/kubeconfig" <<KC
apiVersion: v1
kind: Config
clusters: [{name: stub, cluster: {server: "http://127.0.0.1:$API_PORT"}}]
users: [{name: stub, user: {}}]
contexts: [{name: stub, context: {cluster: stub, user: stub, namespace: default}}]
current-context: stub
KC
KUBECONFIG="$DIR/kubeconfig" AKIDB_OPERATOR_HTTP_ADDR="127.0.0.1:$HTTP_PORT" POD_NAME=rss-probe RUST_LOG=info \
  "$BIN" > "$DIR/operator.log" 2>&1 & OP_PID=$!
cleanup() { kill "$OP_PID" "$API_PID" 2>/dev/null || true; rm -rf "$DIR"; }
trap cleanup EXIT
for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$HTTP_PORT/readyz" >/dev/null && break; sleep 0.1; done
sleep "$SECONDS_IDLE"
grep -q '"became leader"' "$DIR/operator.log" || { echo "operator did not become leader:"; cat "$DIR/operator.log"; exit 1; }
echo "watches open: $(grep -c 'watch=true' "$DIR/requests.log")"; grep 'watch=true' "$DIR/requests.log" | sed -E 's/\?.*labelSelector=([^&]*).*/ labelSelector=\1/; s/\?.*//' | sort | sed 's/^/  /'
echo "after ${SECONDS_IDLE}s idle:"; grep -E 'VmRSS|VmHWM' "/proc/$OP_PID/status"
curl -fs "http://127.0.0.1:$HTTP_PORT/metrics" | grep -c '^akidb_operator' | sed 's/^/metric lines: /'
kill -TERM "$OP_PID"; rc=0; wait "$OP_PID" || rc=$?
echo "exit code after SIGTERM: $rc"
tail -n 5 "$DIR/operator.log"
