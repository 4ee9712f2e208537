#!/bin/sh
# Runs croner_diff.mjs against the driver given as $1; installs the pinned croner on first use.
set -eu
cd "$(dirname "$0")"
command -v node >/dev/null 2>&1 || { echo "FAIL: node is not installed (apt-get install nodejs npm)" >&2; exit 1; }
command -v npm >/dev/null 2>&1 || { echo "FAIL: npm is not installed (apt-get install npm)" >&2; exit 1; }
if [ ! -d node_modules/croner ]; then
    npm ci --silent --no-audit --no-fund
fi
exec node croner_diff.mjs "$1" ${CRON_DIFF_SEED:+--seed "$CRON_DIFF_SEED"} ${CRON_DIFF_CASES:+--cases "$CRON_DIFF_CASES"}
