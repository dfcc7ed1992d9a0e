#!/usr/bin/env bash
# Starts the benchmark peer (node-oidc-provider 8.8.1) on 127.0.0.1.
# Usage, from anywhere: bench/peers/oidc-provider/run.sh [--port 3001]
# Prints exactly one line on stdout when ready: `peer listening on http://127.0.0.1:<port>`.
set -euo pipefail
cd "$(dirname "$0")"
if [ ! -d node_modules ]; then
  # stdout is reserved for the ready line, so npm reports to stderr.
  npm ci --no-audit --no-fund --loglevel=error 1>&2
fi
export NODE_ENV=production
exec node server.js "$@"
