"""Starts a fresh Gatehouse for the session and exposes its bootstrap credentials.

The binary is $GATEHOUSE_BIN (default: $CARGO_TARGET_DIR/debug/gatehouse, or
target/debug/gatehouse). It runs with
`serve --bind 127.0.0.1:0 --data-dir <tmp>`; the port is read from the line
`Gatehouse is listening on 127.0.0.1:<port> — issuer …`, the credentials from
`<tmp>/bootstrap.json`. A test may pass its own data directory (one that
`gatehouse dev-cert` wrote to, say) and `--tls-cert/--tls-key`; the base URL
then takes the issuer's https.
"""

import contextlib
import json
import os
import pathlib
import re
import subprocess
import tempfile
import threading

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
LISTENING = re.compile(r"Gatehouse is listening on (127\.0\.0\.1:\d+) — issuer (\S+)")


class Gatehouse:
    def __init__(self, domain, issuer, creds, data_dir):
        self.domain = domain  # host:port, as auth0-python wants it
        self.issuer = issuer
        # http://, or https:// when serving with --tls-cert/--tls-key.
        self.base_url = f"{issuer.split('://', 1)[0]}://{domain}"
        self.creds = creds
        self.data_dir = data_dir


def stop(proc):
    """SIGTERM, then SIGKILL if the process has not ended within 15 s."""
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def gatehouse_binary():
    """The gatehouse binary the suite runs."""
    target_dir = pathlib.Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target")).resolve()
    return os.environ.get("GATEHOUSE_BIN", str(target_dir / "debug" / "gatehouse"))


@contextlib.contextmanager
def running_gatehouse(extra_args=(), data_dir=None):
    """Starts a Gatehouse on `data_dir` (default: a fresh one), with `extra_args`
    for `serve`; stops it on exit."""
    binary = gatehouse_binary()
    data_dir = data_dir or tempfile.mkdtemp(prefix="gatehouse-py-")
    env = dict(os.environ, GATEHOUSE_LOG="warn")
    proc = subprocess.Popen(
        [binary, "serve", "--bind", "127.0.0.1:0", "--data-dir", data_dir, *extra_args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    found = {}

    def read_stdout():
        for line in proc.stdout:
            match = LISTENING.search(line)
            if match and "ready" not in found:
                found["domain"], found["issuer"] = match.group(1), match.group(2)
                found["ready"] = threading.Event()
                found["ready"].set()
            elif "bootstrap: created" in line:
                found["bootstrapped"] = True

    reader = threading.Thread(target=read_stdout, daemon=True)
    reader.start()
    for _ in range(300):
        if "domain" in found:
            break
        if proc.poll() is not None:
            raise RuntimeError("gatehouse exited: " + proc.stderr.read())
        threading.Event().wait(0.1)
    if "domain" not in found:
        proc.kill()
        raise RuntimeError("gatehouse did not print its listening line")
    bootstrap = pathlib.Path(data_dir) / "bootstrap.json"
    creds = json.loads(bootstrap.read_text())
    assert oct(bootstrap.stat().st_mode & 0o777) == "0o600"
    try:
        yield Gatehouse(found["domain"], found["issuer"], creds, data_dir)
    finally:
        stop(proc)


@pytest.fixture(scope="session")
def gatehouse():
    """The Gatehouse the whole session shares."""
    with running_gatehouse() as server:
        yield server


@pytest.fixture(scope="module")
def own_gatehouse():
    """A Gatehouse of the module's own, for tests that create, rotate and delete
    what the shared one counts."""
    with running_gatehouse() as server:
        yield server
