#!/usr/bin/env bash
# The reliability suite (bounded for CI; raise the knobs by hand):
#   schemathesis  every operation of /openapi.json with valid tokens: no 5xx, no response that
#                 violates the document (SCHEMATHESIS_EXAMPLES, default 25 per operation)
#   client        a Python client generated from /openapi.json logs in and creates a link
#   webhooks      a receiver verifies every event type the API can cause with the official
#                 `standardwebhooks` PyPI package; a tampered body and a stale timestamp fail
#   crash, soak   Rust tests/binaries: see reliability/README in the main README
#   fuzz          cargo-fuzz on the input parsers (FUZZ_SECONDS per target, default 15)
# Usage: reliability/run.sh [schemathesis] [client] [webhooks] [fuzz]   (default: all)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
venv="$here/.venv"
quiver="${QUIVER_BIN:-$root/target/debug/quiver}"
steps=("$@")
[ ${#steps[@]} -gt 0 ] || steps=(schemathesis client webhooks fuzz)

# Reinstalled when requirements.txt changed since the venv was made.
if [ ! -x "$venv/bin/schemathesis" ] || [ ! -x "$venv/bin/openapi-python-client" ] \
  || ! cmp -s "$here/requirements.txt" "$venv/requirements.txt"; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q -r "$here/requirements.txt"
  cp "$here/requirements.txt" "$venv/requirements.txt"
fi
[ -x "$quiver" ] || (cd "$root" && cargo build -q -p quiver)

work="$(mktemp -d)"
server_pid=""
cleanup() { [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

start_server() {
  # Webhooks may go to the webhooks step's plain-http receiver on 127.0.0.1.
  (cd "$work" && QUIVER_LISTEN=127.0.0.1:0 QUIVER_RATE_LIMIT=0 QUIVER_WEBHOOK_ALLOW_HTTP=1 \
    QUIVER_WEBHOOK_ALLOW_PRIVATE=1 QUIVER_WEBHOOK_POLL_MS=100 exec "$quiver" serve >"$work/server.out" 2>"$work/server.err") &
  server_pid=$!
  for _ in $(seq 1 100); do
    base=$(sed -n 's/^Quiver is running at \(http:[^ ]*\).*/\1/p' "$work/server.out" | head -n1)
    [ -n "$base" ] && return 0
    sleep 0.2
  done
  echo "quiver did not start" >&2; cat "$work/server.err" >&2; return 1
}

token() {
  curl -fsS -X POST "$base/token" -d "username=$1&password=quiver-demo" \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])'
}

run_schemathesis() {
  local examples="${SCHEMATHESIS_EXAMPLES:-25}"
  local checks=not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,response_headers_conformance
  # One worker: with several threads, hypothesis's ast.parse of its own sources can hit a CPython
  # 3.11 bug ("AST constructor recursion depth mismatch"), a runtime error that is not a finding.
  local st=("$venv/bin/schemathesis" run "$base/openapi.json" --checks "$checks" --max-examples "$examples" --workers 1 --seed 42)
  echo "== schemathesis: publisher operations"
  "${st[@]}" -H "Authorization: Bearer $(token creator@example.com)" --exclude-path-regex '^/(sellers/|token)'
  echo "== schemathesis: seller operations"
  "${st[@]}" -H "Authorization: Bearer $(token brand@example.com)" --include-path-regex '^/sellers/' --exclude-path-regex '^/sellers/token$'
  echo "== schemathesis: token endpoints"
  "${st[@]}" --include-path-regex '^/(sellers/)?token' --exclude-path-regex '^/token/revoke$' --max-examples 10
}

run_client() {
  echo "== generated Python client"
  curl -fsS "$base/openapi.json" -o "$work/openapi.json"
  (cd "$work" && "$venv/bin/openapi-python-client" generate --path openapi.json --output-path client --overwrite >/dev/null)
  "$venv/bin/pip" install -q "$work/client"
  "$venv/bin/python" "$here/client_check.py" "$base"
}

run_webhooks() {
  echo "== webhooks verified with the standardwebhooks PyPI package"
  timeout 300 "$venv/bin/python" "$here/webhooks_check.py" "$base"
}

run_fuzz() {
  echo "== cargo fuzz (${FUZZ_SECONDS:-15} s per target)"
  "$root/fuzz/run.sh"
}

for step in "${steps[@]}"; do
  case "$step" in
    schemathesis|client|webhooks) [ -n "$server_pid" ] || start_server; "run_$step" ;;
    fuzz) run_fuzz ;;
    *) echo "unknown step $step" >&2; exit 2 ;;
  esac
done
echo "reliability: all steps passed"
