"""examples/fastapi (the Measurements API guarded by the real fastapi-auth0)
against a Gatehouse serving HTTPS with a `gatehouse dev-cert` certificate.

fastapi-auth0 0.5.0 talks only https (issuer `https://{domain}/`) and fetches
the JWKS with urllib when the app is imported, so Gatehouse runs with
`--tls-cert/--tls-key` and the example runs under uvicorn with SSL_CERT_FILE
pointing at the dev CA. The world is the example's seed files: alice (role
reader), bob (no role), the machine-to-machine client with a grant for both
scopes, and the example's password-grant client for user tokens.

What fastapi-auth0 answers, asserted exactly: no token 403 "Missing bearer
token"; a token it cannot decode, or one for another audience, 401; a valid
token whose `scope` lacks the route's scope 403 with `WWW-Authenticate:
Bearer scope="…"`. It reads only `scope`, never `permissions`.
"""

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time

import certifi
import jwt
import pytest
import requests

from conftest import ROOT, gatehouse_binary, running_gatehouse, stop

EXAMPLE = ROOT / "examples" / "fastapi"
WORLD_SEED = ROOT / "examples" / "measurements-api" / "seed.json"
SCRIPTS_SEED = EXAMPLE / "seed.json"
API = "https://measurements.example/api"
PASSWORD_REALM = "http://auth0.com/oauth/grant-type/password-realm"
CONNECTION = "Username-Password-Authentication"
# From the seed files.
USERS = {
    "alice": ("alice@example.com", "alice-reads-the-greenhouse"),
    "bob": ("bob@example.com", "bob-has-no-role-yet"),
}
SCRIPTS = ("measurements-scripts", "scripts-secret-only-for-this-example-0123456789")
INGEST = ("measurements-ingest", "ingest-secret-only-for-this-example-0123456789")
SAMPLES = {"greenhouse-1", "greenhouse-2", "cellar"}


def gatehouse_cli(*args):
    done = subprocess.run(
        [gatehouse_binary(), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=120,
        env=dict(os.environ, GATEHOUSE_LOG="warn"),
    )
    assert done.returncode == 0, f"gatehouse {args[0]}: {done.stderr}"
    return done.stdout


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def example_env(domain, **extra):
    """The environment for the example: the caller's, less any CA settings,
    plus `extra`."""
    env = {k: v for k, v in os.environ.items() if k not in ("SSL_CERT_FILE", "REQUESTS_CA_BUNDLE")}
    env.update(GATEHOUSE_DOMAIN=domain, **extra)
    return env


def uvicorn_command(port):
    return [
        sys.executable, "-m", "uvicorn", "main:app",
        "--app-dir", str(EXAMPLE),
        "--host", "127.0.0.1", "--port", str(port),
        "--log-level", "warning",
    ]


@contextlib.contextmanager
def running_example(env):
    """The example under uvicorn on a free port; yields its base URL."""
    port = free_port()
    with tempfile.TemporaryFile(mode="w+") as log:
        proc = subprocess.Popen(uvicorn_command(port), stdout=log, stderr=subprocess.STDOUT, text=True, env=env)
        try:
            deadline = time.monotonic() + 60
            while True:
                if proc.poll() is not None:
                    log.seek(0)
                    raise RuntimeError(f"the example exited ({proc.returncode}): {log.read()}")
                with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
                if time.monotonic() > deadline:
                    raise RuntimeError("the example did not start listening in 60 s")
                time.sleep(0.2)
            yield f"http://127.0.0.1:{port}"
        finally:
            stop(proc)


@pytest.fixture(scope="module")
def tls_dir(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("gatehouse-tls")
    gatehouse_cli("dev-cert", "--data-dir", data_dir)
    tls = data_dir / "tls"
    for name in ("ca.pem", "cert.pem", "key.pem"):
        assert (tls / name).is_file(), name
    return data_dir


@pytest.fixture(scope="module")
def ca(tls_dir):
    return str(tls_dir / "tls" / "ca.pem")


@pytest.fixture(scope="module")
def https_gatehouse(tls_dir):
    tls = tls_dir / "tls"
    args = ["--tls-cert", tls / "cert.pem", "--tls-key", tls / "key.pem"]
    with running_gatehouse(args, data_dir=tls_dir) as server:
        gatehouse_cli("seed", "--file", WORLD_SEED, "--data-dir", tls_dir)
        gatehouse_cli("seed", "--file", SCRIPTS_SEED, "--data-dir", tls_dir)
        yield server


@pytest.fixture(scope="module")
def example(https_gatehouse, ca):
    env = example_env(https_gatehouse.domain, SSL_CERT_FILE=ca, REQUESTS_CA_BUNDLE=ca)
    with running_example(env) as base_url:
        yield base_url


def token(gatehouse, ca, **form):
    reply = requests.post(f"{gatehouse.base_url}/oauth/token", data=form, verify=ca, timeout=10)
    assert reply.status_code == 200, reply.text
    return reply.json()["access_token"]


def user_token(gatehouse, ca, who):
    email, password = USERS[who]
    return token(
        gatehouse,
        ca,
        grant_type=PASSWORD_REALM,
        realm=CONNECTION,
        client_id=SCRIPTS[0],
        client_secret=SCRIPTS[1],
        username=email,
        password=password,
        audience=API,
        scope="openid read:measurements",
    )


def machine_token(gatehouse, ca):
    return token(
        gatehouse, ca, grant_type="client_credentials", client_id=INGEST[0], client_secret=INGEST[1], audience=API
    )


def scope_of(access_token):
    return jwt.decode(access_token, options={"verify_signature": False}).get("scope", "").split()


def bearer(access_token):
    return {"authorization": f"Bearer {access_token}"}


def test_gatehouse_https_verifies_against_the_dev_ca(https_gatehouse, ca):
    assert https_gatehouse.issuer == f"https://{https_gatehouse.domain}/"
    reply = requests.get(f"{https_gatehouse.base_url}/.well-known/openid-configuration", verify=ca, timeout=10)
    assert reply.status_code == 200
    assert reply.json()["issuer"] == https_gatehouse.issuer
    # The public bundle does not know the dev CA.
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(f"{https_gatehouse.base_url}/.well-known/jwks.json", verify=certifi.where(), timeout=10)


def test_fastapi_auth0_needs_ssl_cert_file_not_requests_ca_bundle(https_gatehouse, ca):
    # fastapi-auth0 reads the JWKS with urllib, which ignores REQUESTS_CA_BUNDLE:
    # without SSL_CERT_FILE the app fails at import.
    env = example_env(https_gatehouse.domain, REQUESTS_CA_BUNDLE=ca)
    done = subprocess.run(uvicorn_command(free_port()), capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode != 0
    assert "CERTIFICATE_VERIFY_FAILED" in done.stdout + done.stderr


def test_reader_reads(https_gatehouse, ca, example):
    access_token = user_token(https_gatehouse, ca, "alice")
    assert "read:measurements" in scope_of(access_token)
    reply = requests.get(f"{example}/api/measurements", headers=bearer(access_token), timeout=10)
    assert reply.status_code == 200, reply.text
    assert SAMPLES <= {m["sensor"] for m in reply.json()}


def test_reader_cannot_write(https_gatehouse, ca, example):
    access_token = user_token(https_gatehouse, ca, "alice")
    reply = requests.post(
        f"{example}/api/measurements",
        json={"sensor": "greenhouse-9", "celsius": 20.0},
        headers=bearer(access_token),
        timeout=10,
    )
    assert reply.status_code == 403
    assert reply.json() == {"detail": 'Missing "write:measurements" scope'}
    assert reply.headers["www-authenticate"] == 'Bearer scope="write:measurements"'


def test_user_without_the_role_is_refused(https_gatehouse, ca, example):
    access_token = user_token(https_gatehouse, ca, "bob")
    # Asked for, but bob holds no permission: Gatehouse leaves it out of `scope`.
    assert "read:measurements" not in scope_of(access_token)
    reply = requests.get(f"{example}/api/measurements", headers=bearer(access_token), timeout=10)
    assert reply.status_code == 403
    assert reply.json() == {"detail": 'Missing "read:measurements" scope'}
    assert reply.headers["www-authenticate"] == 'Bearer scope="read:measurements"'


def test_no_token_is_403(example):
    reply = requests.get(f"{example}/api/measurements", timeout=10)
    assert reply.status_code == 403
    assert reply.json() == {"detail": "Missing bearer token"}
    # Refused before the body is read.
    reply = requests.post(f"{example}/api/measurements", json={"nonsense": True}, timeout=10)
    assert reply.status_code == 403
    assert reply.json() == {"detail": "Missing bearer token"}


def test_undecodable_token_is_401(example):
    reply = requests.get(f"{example}/api/measurements", headers=bearer("not-a-jwt"), timeout=10)
    assert reply.status_code == 401
    assert reply.json() == {"detail": "Malformed token"}


def management_token(https_gatehouse, ca):
    """A Management API token: valid, signed by Gatehouse, for another API."""
    creds = https_gatehouse.creds
    return token(
        https_gatehouse,
        ca,
        grant_type="client_credentials",
        client_id=creds["management_client_id"],
        client_secret=creds["management_client_secret"],
        audience=creds["management_audience"],
    )


def test_token_for_another_api_is_401(https_gatehouse, ca, example):
    management = management_token(https_gatehouse, ca)
    reply = requests.get(f"{example}/api/measurements", headers=bearer(management), timeout=10)
    assert reply.status_code == 401
    assert reply.json() == {"detail": "Invalid token claims (wrong issuer or audience)"}


def test_machine_to_machine_client_reads_and_writes(https_gatehouse, ca, example):
    access_token = machine_token(https_gatehouse, ca)
    assert {"read:measurements", "write:measurements"} <= set(scope_of(access_token))
    reply = requests.get(f"{example}/api/measurements", headers=bearer(access_token), timeout=10)
    assert reply.status_code == 200, reply.text
    assert SAMPLES <= {m["sensor"] for m in reply.json()}
    reply = requests.post(
        f"{example}/api/measurements",
        json={"sensor": "greenhouse-3", "celsius": 20.5},
        headers=bearer(access_token),
        timeout=10,
    )
    assert reply.status_code == 201, reply.text
    recorded = reply.json()
    assert recorded["sensor"] == "greenhouse-3"
    assert recorded["celsius"] == 20.5
    assert recorded["recorded_by"] == f"{INGEST[0]}@clients"
    reply = requests.get(f"{example}/api/measurements", headers=bearer(access_token), timeout=10)
    assert recorded in reply.json()
    # A valid token with an invalid body: FastAPI's 422.
    reply = requests.post(
        f"{example}/api/measurements",
        json={"sensor": "greenhouse-3", "celsius": 500},
        headers=bearer(access_token),
        timeout=10,
    )
    assert reply.status_code == 422


def test_jwks_is_read_once_at_start(https_gatehouse, ca, example):
    # Last in this module: it rotates the signing keys. Gatehouse publishes the
    # next key ahead of time, so the app, which read the JWKS at start-up,
    # accepts tokens after one rotation and refuses them after a second.
    management = management_token(https_gatehouse, ca)

    def rotate():
        reply = requests.post(
            f"{https_gatehouse.base_url}/api/v2/keys/signing/rotate", headers=bearer(management), verify=ca, timeout=10
        )
        assert reply.status_code == 201, reply.text

    def kid_and_status():
        access_token = machine_token(https_gatehouse, ca)
        reply = requests.get(f"{example}/api/measurements", headers=bearer(access_token), timeout=10)
        return jwt.get_unverified_header(access_token)["kid"], reply

    first_kid, reply = kid_and_status()
    assert reply.status_code == 200
    rotate()
    second_kid, reply = kid_and_status()
    assert second_kid != first_kid
    assert reply.status_code == 200, reply.text
    rotate()
    third_kid, reply = kid_and_status()
    assert third_kid not in (first_kid, second_kid)
    assert reply.status_code == 401
    assert reply.json() == {"detail": "Invalid kid header (wrong tenant or rotated public key)"}
