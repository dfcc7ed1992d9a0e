#!/usr/bin/env bash
# Runs the whole Gatehouse test suite on a fresh machine: installs what the
# tests need, then runs the Rust tests (unit, store conformance, HTTP
# integration), the lint gates, the Python suite that drives a real server
# with the real auth0-python SDK, and the real-browser suite (e2e/: Debian's
# Chromium driven by playwright-core, with the real auth0-spa-js).
#
# PostgreSQL tests run when GATEHOUSE_TEST_DATABASE_URL is set (CI sets it);
# without it they print that they skipped. Each run uses fresh databases.
# Idempotent: installs only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v cargo >/dev/null 2>&1; then
    echo "cargo is required (https://rustup.rs)" >&2
    exit 1
fi
rustup component add rustfmt clippy >/dev/null 2>&1 || true

echo "== cargo fmt --check"
cargo fmt --all -- --check

echo "== cargo test"
cargo test --workspace --locked

if [ -n "${GATEHOUSE_TEST_DATABASE_URL:-}" ]; then
    echo "== server integration tests again, on PostgreSQL"
    GATEHOUSE_TEST_BACKEND=postgres cargo test -p gatehouse-server --test it --locked
fi

echo "== cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings

echo "== python: auth0-python against a fresh server"
cargo build --workspace --locked --bins
if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
fi
.venv/bin/pip install --quiet --disable-pip-version-check -r tests/python/requirements.txt
GATEHOUSE_BIN="$PWD/target/debug/gatehouse" .venv/bin/python -m pytest -q tests/python

echo "== e2e: install Chromium and the npm packages if missing"
if ! command -v chromium >/dev/null 2>&1; then
    SUDO=""
    [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi
if ! command -v node >/dev/null 2>&1; then
    echo "node (>= 20) is required for the e2e suite" >&2
    exit 1
fi
(cd e2e && { [ -d node_modules/playwright-core ] && [ -d node_modules/@auth0/auth0-spa-js ] || npm ci --no-audit --no-fund; })

echo "== e2e: auth0-spa-js in Chromium"
cargo build -p gatehouse --locked
(cd e2e && npm test)
