#!/usr/bin/env bash
# Runs the whole Gatehouse test suite on a fresh machine: installs what the
# tests need, then runs the Rust tests (unit, store conformance, HTTP
# integration), the lint gates, the Python suite that drives a real server
# with the real auth0-python SDK, and the real-browser suite (e2e/: Debian's
# Chromium driven by playwright-core, with the real auth0-spa-js).
#
# PostgreSQL tests run when GATEHOUSE_TEST_DATABASE_URL is set (CI sets it);
# without it they print that they skipped. Each run uses fresh databases.
# Idempotent: installs only what is missing. `--print-binary` prints the
# gatehouse binary the suites would start, and exits.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v cargo >/dev/null 2>&1; then
    echo "cargo is required (https://rustup.rs)" >&2
    exit 1
fi
# One feature resolution serves every stage: each cargo command below selects
# the whole workspace with its test targets, so dependencies (and their
# features) are the same and nothing is compiled twice. Selecting one package
# (`-p gatehouse-server`) or leaving out the test targets (`cargo build
# --bins`) would resolve other features and rebuild a part of the tree.

# Where cargo puts its output: honours CARGO_TARGET_DIR and .cargo/config.
TARGET_DIR="$(cargo metadata --format-version 1 --no-deps --locked |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')"
# The binary both the Python and the browser suites start.
export GATEHOUSE_BIN="$TARGET_DIR/debug/gatehouse"
if [ "${1:-}" = "--print-binary" ]; then
    echo "$GATEHOUSE_BIN"
    exit 0
fi
rustup component add rustfmt clippy >/dev/null 2>&1 || true

# Debian packages the suites use: the CLI suite runs the README's commands
# (git, curl, jq); the e2e suite drives Debian's Chromium.
missing=()
for tool in git curl jq chromium; do
    command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if [ "${#missing[@]}" -gt 0 ]; then
    echo "== apt-get install ${missing[*]}"
    SUDO=""
    [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# The Python packages: auth0-python for the Python suite, and aiosmtpd, the
# real SMTP server the mail crate's delivery test sends to.
echo "== python venv"
if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
fi
.venv/bin/pip install --quiet --disable-pip-version-check -r tests/python/requirements.txt
export GATEHOUSE_TEST_PYTHON="$PWD/.venv/bin/python"

echo "== cargo fmt --check"
cargo fmt --all -- --check

echo "== cargo test"
cargo test --workspace --locked

if [ -n "${GATEHOUSE_TEST_DATABASE_URL:-}" ]; then
    echo "== server integration tests again, on PostgreSQL"
    GATEHOUSE_TEST_BACKEND=postgres cargo test --workspace --test it --locked
fi

echo "== cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings

echo "== python: auth0-python against a fresh server"
# `cargo test` built the binary already; this only makes sure of it.
cargo test --workspace --locked --no-run
test -x "$GATEHOUSE_BIN" || { echo "no binary at $GATEHOUSE_BIN" >&2; exit 1; }
.venv/bin/python -m pytest -q tests/python

echo "== e2e: install the npm packages if missing"
if ! command -v node >/dev/null 2>&1; then
    echo "node (>= 20) is required for the e2e suite" >&2
    exit 1
fi
(cd e2e && { [ -d node_modules/playwright-core ] && [ -d node_modules/@auth0/auth0-spa-js ] \
    && [ -d node_modules/smtp-server ] && [ -d node_modules/mailparser ] || npm ci --no-audit --no-fund; })

echo "== e2e: auth0-spa-js in Chromium"
(cd e2e && npm test)
