#!/usr/bin/env bash
# End-to-end tests of the web app: builds `quiver`, starts `quiver serve` on a free port with a
# throwaway SQLite database (demo data, in-process Amazon simulator), runs the browser tests
# in Debian's headless Chromium with node's test runner, and stops the server.
# Screenshots of each main screen go to artifacts/screenshots/ (repository root).
#
# E2E_TESTS="name ..." runs only those files of e2e/tests/.
#
# Needs: cargo, node >= 18, /usr/bin/chromium (apt-get install chromium), sqlite3 (the large-report
# test seeds facts straight into the throwaway database), `npm ci` in e2e/.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"

chromium="${QUIVER_E2E_CHROMIUM:-/usr/bin/chromium}"
if [ ! -x "$chromium" ]; then
  echo "e2e: $chromium is missing (apt-get install -y chromium)" >&2
  exit 1
fi
if [ ! -d "$here/node_modules/playwright-core" ]; then
  (cd "$here" && npm ci --no-audit --no-fund)
fi

cargo build -q -p quiver --manifest-path "$root/Cargo.toml"
bin="$root/target/debug/quiver"

work="$(mktemp -d)"
port="$(node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')"
server_pid=""
sink_pid=""
cleanup() {
  if [ -n "$sink_pid" ]; then
    kill "$sink_pid" 2>/dev/null || true
  fi
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
# A timeout's TERM still stops the server and removes the database.
trap 'exit 143' TERM INT

# The e-mails Quiver sends (sign-up, invitations) go to a sink the tests read.
free_port() { node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
smtp_port="$(free_port)"
mailbox_port="$(free_port)"
node "$here/mail-sink.mjs" "$smtp_port" "$mailbox_port" >"$work/mail-sink.log" 2>&1 &
sink_pid=$!

# The in-process simulator listens on a loopback port of its own; the browser reaches its
# consent page there (same machine), and Login with Amazon sends it back to QUIVER_PUBLIC_URL.
(
  cd "$work"
  # Webhooks reach the tests' receivers on loopback over plain HTTP; their signing secrets
  # are sealed with a throwaway key.
  QUIVER_DATABASE_URL="sqlite://$work/quiver.db" QUIVER_AMAZON=sim QUIVER_DEMO=1 \
    QUIVER_PUBLIC_URL="http://127.0.0.1:$port" \
    QUIVER_SMTP_URL="smtp://127.0.0.1:$smtp_port" \
    QUIVER_WEBHOOK_ALLOW_HTTP=1 QUIVER_WEBHOOK_ALLOW_PRIVATE=1 QUIVER_WEBHOOK_POLL_MS=200 \
    QUIVER_SECRET_KEY="${QUIVER_SECRET_KEY:-$(node -e 'console.log(require("crypto").randomBytes(32).toString("base64"))')}" \
    exec "$bin" serve --listen "127.0.0.1:$port"
) >"$work/server.log" 2>&1 &
server_pid=$!

base="http://127.0.0.1:$port"
for _ in $(seq 1 120); do
  if curl -fsS "$base/readyz" >/dev/null 2>&1; then break; fi
  if ! kill -0 "$server_pid" 2>/dev/null; then
    echo "e2e: quiver serve exited:" >&2
    cat "$work/server.log" >&2
    exit 1
  fi
  sleep 0.5
done
curl -fsS "$base/readyz" >/dev/null

mkdir -p "$root/artifacts/screenshots"
# E2E_TESTS="links signup" runs only e2e/tests/links.test.js and signup.test.js.
tests=()
if [ -n "${E2E_TESTS:-}" ]; then
  for t in $E2E_TESTS; do tests+=("$here/tests/$t.test.js"); done
else
  tests=("$here"/tests/*.test.js)
fi
status=0
QUIVER_URL="$base" QUIVER_E2E_MAILBOX="http://127.0.0.1:$mailbox_port" QUIVER_E2E_CHROMIUM="$chromium" QUIVER_E2E_SCREENSHOTS="$root/artifacts/screenshots" \
  QUIVER_E2E_SERVER_LOG="$work/server.log" QUIVER_E2E_DATABASE="$work/quiver.db" QUIVER_E2E_BIN="$bin" \
  node --test --test-concurrency=1 --test-timeout=120000 --test-reporter=spec "${tests[@]}" || status=$?
if [ "$status" -ne 0 ]; then
  echo "e2e: failed; last lines of the server log:" >&2
  tail -n 40 "$work/server.log" >&2
fi
exit "$status"
