#!/usr/bin/env bash
# Runs every check: types, lint and format, unit tests, and integration tests against real servers
# (a local multi-site stack, or containers where a Docker engine answers).
set -euo pipefail
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/scripts/bootstrap.sh"
cd "$TANDEM_ROOT"
# The recorder examples run in the tests: Python 3 with venv; their packages come from PyPI (test/support/python.ts).
python3 -c 'import ensurepip, venv' 2>/dev/null || apt_install python3 python3-venv
# The console's browser tests drive Debian's Chromium (playwright-core, test/integration/console.test.ts).
[ -x /usr/bin/chromium ] || apt_install chromium
# And Go 1.26+, which Debian 12 does not package: the test stack builds Toxiproxy with it (its WAN between the
# sites) and the Go recorder example runs; modules come from the Go module proxy.
command -v go >/dev/null || [ -x /usr/local/go/bin/go ] || {
  say "Go not found: the test stack's WAN (Toxiproxy) and the Go recorder example need Go 1.26 or newer (https://go.dev/doc/install)"
  exit 1
}
echo "[test] typecheck"; npm run --silent typecheck
echo "[test] lint and format"; npm run --silent lint
mkdir -p .tandem
status=0
npx vitest run --reporter=default --reporter=json --outputFile=.tandem/vitest-report.json "$@" || status=$?
node scripts/test-summary.mjs .tandem/vitest-report.json
exit "$status"
