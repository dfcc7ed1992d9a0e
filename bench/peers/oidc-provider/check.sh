#!/usr/bin/env bash
# Proves the benchmark peer keeps its contract (README.md beside this file): discovery, JWKS,
# client credentials per resource, minted codes and refresh tokens, and the mint endpoint's
# limits. Starts its own peer on a free port (or checks PEER_URL if set), uses curl for HTTP
# and node to read JSON and verify JWT signatures, and exits non-zero on the first failure.
# Usage: bench/peers/oidc-provider/check.sh
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"

CLIENT_ID=bench-client
CLIENT_SECRET=bench-secret-0123456789-0123456789-0123456789
REDIRECT_URI=http://127.0.0.1/callback
ES256_RESOURCE=https://es256.bench.example/
RS256_RESOURCE=https://rs256.bench.example/

passed=0
fail() { echo "FAIL: $*" >&2; exit 1; }
pass() { passed=$((passed + 1)); echo "ok $passed: $*"; }

peer_pid=
workdir="$(mktemp -d)"
cleanup() {
  if [ -n "$peer_pid" ]; then kill "$peer_pid" 2>/dev/null || true; fi
  rm -rf "$workdir"
}
trap cleanup EXIT

start_peer() {
  "$here/run.sh" --port 0 >"$workdir/peer.out" 2>"$workdir/peer.err" &
  peer_pid=$!
  # Up to 180 s: the first start may run `npm ci`.
  for _ in $(seq 1 1800); do
    if grep -q '^peer listening on ' "$workdir/peer.out"; then
      PEER_URL="$(sed -n 's/^peer listening on //p' "$workdir/peer.out")"
      return
    fi
    kill -0 "$peer_pid" 2>/dev/null || { cat "$workdir/peer.err" >&2; fail "peer exited before it was ready"; }
    sleep 0.1
  done
  fail "peer not ready after 180 s"
}

# http ARGS...: one request with curl; sets STATUS and BODY.
http() {
  local out
  out="$(curl -sS --max-time 60 -w '\n%{http_code}' "$@")" || fail "curl $*"
  STATUS="${out##*$'\n'}"
  BODY="${out%$'\n'*}"
}

expect_status() {
  [ "$STATUS" = "$1" ] || fail "$2: expected HTTP $1, got $STATUS: ${BODY:0:300}"
}

# field PATH [JSON]: prints the value at a dotted path (arrays by index) of JSON (default BODY).
field() {
  local json="${2:-$BODY}"
  node -e '
    const json = JSON.parse(require("node:fs").readFileSync(0, "utf8"));
    const value = process.argv[1].split(".").reduce((o, k) => (o == null ? undefined : o[k]), json);
    if (value === undefined) process.exit(3);
    console.log(typeof value === "string" ? value : JSON.stringify(value));
  ' "$1" <<<"$json" || fail "no $1 in ${json:0:300}"
}

# verify_jwt TOKEN ALG AUD SUB TYP: checks header alg/typ, the signature against the peer's
# JWKS, iss, aud, sub and exp; prints a one-line summary.
verify_jwt() {
  node -e '
    const crypto = require("node:crypto");
    const [token, alg, aud, sub, typ, iss, jwks] = process.argv.slice(1);
    const parts = token.split(".");
    if (parts.length !== 3) throw new Error("not a JWS compact token");
    const header = JSON.parse(Buffer.from(parts[0], "base64url"));
    const claims = JSON.parse(Buffer.from(parts[1], "base64url"));
    const must = (ok, what) => { if (!ok) { console.error(`JWT ${what}: header ${JSON.stringify(header)} claims ${JSON.stringify(claims)}`); process.exit(1); } };
    must(header.alg === alg, `alg is not ${alg}`);
    must(header.typ === typ, `typ is not ${typ}`);
    const jwk = JSON.parse(jwks).keys.find((k) => k.kid === header.kid);
    must(jwk && jwk.alg === alg, "kid not in the JWKS for this alg");
    const key = crypto.createPublicKey({ key: jwk, format: "jwk" });
    const verified = crypto.verify("sha256", Buffer.from(`${parts[0]}.${parts[1]}`),
      alg === "ES256" ? { key, dsaEncoding: "ieee-p1363" } : key, Buffer.from(parts[2], "base64url"));
    must(verified, "signature does not verify");
    must(claims.iss === iss, `iss is not ${iss}`);
    must(claims.aud === aud, `aud is not ${aud}`);
    must(claims.sub === sub, `sub is not ${sub}`);
    must(claims.exp > Date.now() / 1000, "already expired");
    console.log(`${alg} kid=${header.kid} aud=${claims.aud} sub=${claims.sub}${claims.scope ? ` scope=${claims.scope}` : ""}`);
  ' "$1" "$2" "$3" "$4" "$5" "$PEER_URL" "$JWKS" || fail "JWT check ($2, aud $3)"
}

token_request() { http -d "$1&client_id=$CLIENT_ID&client_secret=$CLIENT_SECRET" "$TOKEN_ENDPOINT"; }

mint() { http -H 'content-type: application/json' -d "$1" "$PEER_URL/bench/mint"; }

expect_invalid_grant() {
  expect_status 400 "$1"
  [ "$(field error)" = invalid_grant ] || fail "$1: expected invalid_grant, got $BODY"
}

check_discovery_and_jwks() {
  http "$PEER_URL/.well-known/openid-configuration"
  expect_status 200 discovery
  [ "$(field issuer)" = "$PEER_URL" ] || fail "discovery issuer is $(field issuer)"
  TOKEN_ENDPOINT="$(field token_endpoint)"
  local jwks_uri grants
  jwks_uri="$(field jwks_uri)"
  grants="$(field grant_types_supported)"
  for grant in client_credentials authorization_code refresh_token; do
    [[ "$grants" == *"\"$grant\""* ]] || fail "discovery lacks grant $grant: $grants"
  done
  [ "$(field code_challenge_methods_supported)" = '["S256"]' ] || fail "PKCE methods: $(field code_challenge_methods_supported)"
  pass "discovery: issuer $PEER_URL, token_endpoint $TOKEN_ENDPOINT, jwks_uri $jwks_uri"

  http "$jwks_uri"
  expect_status 200 jwks
  JWKS="$BODY"
  node -e '
    const { keys } = JSON.parse(process.argv[1]);
    const rsa = keys.filter((k) => k.kty === "RSA" && k.alg === "RS256");
    const ec = keys.filter((k) => k.kty === "EC" && k.crv === "P-256" && k.alg === "ES256");
    const ok = keys.length === 2 && rsa.length === 1 && ec.length === 1
      && Buffer.from(rsa[0].n, "base64url").length === 256
      && keys.every((k) => !("d" in k) && !("p" in k));
    if (!ok) { console.error(JSON.stringify(keys)); process.exit(1); }
  ' "$JWKS" || fail "JWKS is not one public RSA-2048 RS256 key and one public P-256 ES256 key"
  pass "jwks: one RS256 (2048-bit) and one ES256 (P-256) public key"
}

check_client_credentials() {
  local resource alg summary
  for pair in "$ES256_RESOURCE ES256" "$RS256_RESOURCE RS256"; do
    read -r resource alg <<<"$pair"
    token_request "grant_type=client_credentials&resource=$resource&scope=read"
    expect_status 200 "client_credentials $alg"
    [ "$(field token_type)" = Bearer ] && [ "$(field scope)" = read ] || fail "client_credentials $alg: $BODY"
    summary="$(verify_jwt "$(field access_token)" "$alg" "$resource" "$CLIENT_ID" at+jwt)"
    pass "client_credentials $alg: $summary"
  done

  http -d "grant_type=client_credentials&client_id=$CLIENT_ID&client_secret=wrong&resource=$ES256_RESOURCE&scope=read" "$TOKEN_ENDPOINT"
  expect_status 401 "client_credentials with a wrong secret"
  [ "$(field error)" = invalid_client ] || fail "wrong secret: $BODY"
  token_request "grant_type=client_credentials&resource=https://unknown.bench.example/&scope=read"
  expect_status 400 "client_credentials for an unknown resource"
  [ "$(field error)" = invalid_target ] || fail "unknown resource: $BODY"
  pass "client_credentials refuses a wrong secret (invalid_client) and an unknown resource (invalid_target)"
}

# exchange_code CODE VERIFIER: the bench's code request.
exchange_code() {
  token_request "grant_type=authorization_code&code=$1&code_verifier=$2&redirect_uri=$REDIRECT_URI"
}

# expect_user_tokens ALG RESOURCE WHAT: BODY holds a code or refresh answer for bench-user.
expect_user_tokens() {
  expect_status 200 "$3"
  local access id
  access="$(verify_jwt "$(field access_token)" "$1" "$2" bench-user at+jwt)"
  id="$(verify_jwt "$(field id_token)" RS256 "$CLIENT_ID" bench-user JWT)"
  [ -n "$(field refresh_token)" ] || fail "$3: no refresh_token"
  echo "access $access; id_token $id"
}

check_codes() {
  local resource alg items code verifier summary
  for pair in "$ES256_RESOURCE ES256" "$RS256_RESOURCE RS256"; do
    read -r resource alg <<<"$pair"
    mint "{\"kind\":\"code\",\"n\":3,\"resource\":\"$resource\"}"
    expect_status 200 "mint 3 codes ($alg)"
    items="$BODY"
    [ "$(field items.length "$items")" = 3 ] || fail "mint 3 codes returned $(field items.length "$items")"
    for i in 0 1 2; do
      code="$(field "items.$i.code" "$items")"
      verifier="$(field "items.$i.code_verifier" "$items")"
      [ "$(field "items.$i.redirect_uri" "$items")" = "$REDIRECT_URI" ] || fail "minted redirect_uri"
      if [ "$i" = 0 ]; then
        exchange_code "$code" "wrong-verifier-wrong-verifier-wrong-verifier-0"
        expect_invalid_grant "code with a wrong code_verifier"
      fi
      exchange_code "$code" "$verifier"
      summary="$(expect_user_tokens "$alg" "$resource" "code exchange")"
      exchange_code "$code" "$verifier"
      expect_invalid_grant "second exchange of a code"
      pass "code $((i + 1))/3 ($alg): $summary; second exchange invalid_grant"
    done
  done
  pass "PKCE: a wrong code_verifier is refused (invalid_grant) and the code still works after"
}

check_refresh_rotation() {
  local resource alg first current next summary
  for pair in "$ES256_RESOURCE ES256" "$RS256_RESOURCE RS256"; do
    read -r resource alg <<<"$pair"
    mint "{\"kind\":\"refresh\",\"n\":1,\"resource\":\"$resource\"}"
    expect_status 200 "mint a refresh token ($alg)"
    first="$(field items.0.refresh_token)"
    current="$first"
    for rotation in 1 2 3; do
      token_request "grant_type=refresh_token&refresh_token=$current"
      summary="$(expect_user_tokens "$alg" "$resource" "refresh rotation $rotation")"
      next="$(field refresh_token)"
      [ "$next" != "$current" ] || fail "rotation $rotation returned the same refresh token"
      current="$next"
      pass "refresh rotation $rotation/3 ($alg): new refresh token; $summary"
    done
    token_request "grant_type=refresh_token&refresh_token=$first"
    expect_invalid_grant "a rotated-out refresh token"
    # node-oidc-provider answers reuse by revoking the whole grant: the newest token dies too.
    token_request "grant_type=refresh_token&refresh_token=$current"
    expect_invalid_grant "the newest refresh token after reuse of an old one"
    pass "refresh ($alg): the rotated-out token is refused, and its reuse revokes the chain"
  done
}

check_mint_limits() {
  local body
  for body in '{"kind":"code","n":0,"resource":"https://es256.bench.example/"}' \
    '{"kind":"code","n":20001,"resource":"https://es256.bench.example/"}' \
    '{"kind":"code","n":1.5,"resource":"https://es256.bench.example/"}' \
    '{"kind":"token","n":1,"resource":"https://es256.bench.example/"}' \
    '{"kind":"code","n":1,"resource":"https://unknown.bench.example/"}' \
    'not json'; do
    mint "$body"
    expect_status 400 "mint $body"
  done
  http "$PEER_URL/bench/mint"
  expect_status 405 "GET /bench/mint"
  # Loopback accepts any 127/8 source address: 127.0.0.2 is local but not 127.0.0.1.
  http --interface 127.0.0.2 -H 'content-type: application/json' \
    -d '{"kind":"code","n":1,"resource":"https://es256.bench.example/"}' "$PEER_URL/bench/mint"
  expect_status 403 "mint from 127.0.0.2"
  pass "mint refuses n outside 1..=20000, a non-integer n, an unknown kind or resource, non-JSON, GET, and 127.0.0.2"

  mint '{"kind":"code","n":20000,"resource":"https://es256.bench.example/"}'
  expect_status 200 "mint 20000 codes"
  local items="$BODY"
  for i in 0 19999; do
    exchange_code "$(field "items.$i.code" "$items")" "$(field "items.$i.code_verifier" "$items")"
    expect_user_tokens ES256 "$ES256_RESOURCE" "exchange of minted code $i of 20000" >/dev/null
  done
  pass "mint 20000 codes: the first and the last both exchange (none evicted)"
}

if [ -n "${PEER_URL:-}" ]; then PEER_URL="${PEER_URL%/}"; else start_peer; fi
echo "checking the peer at $PEER_URL"
check_discovery_and_jwks
check_client_credentials
check_codes
check_refresh_rotation
check_mint_limits
echo "$passed passed, 0 failed"
