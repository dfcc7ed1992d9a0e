#!/usr/bin/env bash
# Runs the whole Gatehouse test suite on a fresh machine: installs what the
# tests need, then runs the Rust tests (unit, store conformance, HTTP
# integration) and the lint gates.
#
# PostgreSQL tests run when GATEHOUSE_TEST_DATABASE_URL is set (CI sets it);
# without it they print that they skipped. Each run uses fresh databases.
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
