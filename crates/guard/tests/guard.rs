//! The guard against an issuer served by the test: discovery and a JWKS on
//! `127.0.0.1:0` (the JWKS can change, slow down or count its fetches),
//! tokens signed by keys generated here, requests through an axum router
//! whose handlers take `Claims`.

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{self, EcdsaKeyPair, Ed25519KeyPair, KeyPair as _, RsaKeyPair};
use axum::body::Body;
use axum::extract::State;
use axum::http::{header, Request, StatusCode};
use axum::routing::get;
use axum::{Json, Router};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use gatehouse_guard::{AuthError, Claims, Guard, GuardConfig};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tower::ServiceExt as _;

const AUDIENCE: &str = "https://measurements.example/api";

// ---------------------------------------------------------------- keys

enum Signer {
    Rsa(RsaKeyPair),
    Ec(EcdsaKeyPair),
    Ed(Ed25519KeyPair),
}

struct TestKey {
    kid: String,
    alg: &'static str,
    signer: Signer,
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

impl TestKey {
    fn rsa(kid: &str, alg: &'static str) -> Self {
        let key = RsaKeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).unwrap();
        Self {
            kid: kid.into(),
            alg,
            signer: Signer::Rsa(key),
        }
    }

    fn es256(kid: &str) -> Self {
        let key = EcdsaKeyPair::generate(&signature::ECDSA_P256_SHA256_FIXED_SIGNING).unwrap();
        Self {
            kid: kid.into(),
            alg: "ES256",
            signer: Signer::Ec(key),
        }
    }

    fn ed25519(kid: &str) -> Self {
        let key = Ed25519KeyPair::generate().unwrap();
        Self {
            kid: kid.into(),
            alg: "EdDSA",
            signer: Signer::Ed(key),
        }
    }

    fn jwk(&self) -> Value {
        let mut jwk = match &self.signer {
            Signer::Rsa(key) => {
                let public = key.public_key();
                json!({"kty": "RSA",
                       "n": b64(public.modulus().big_endian_without_leading_zero()),
                       "e": b64(public.exponent().big_endian_without_leading_zero())})
            }
            Signer::Ec(key) => {
                let point = key.public_key().as_ref();
                json!({"kty": "EC", "crv": "P-256", "x": b64(&point[1..33]), "y": b64(&point[33..65])})
            }
            Signer::Ed(key) => {
                json!({"kty": "OKP", "crv": "Ed25519", "x": b64(key.public_key().as_ref())})
            }
        };
        jwk["kid"] = json!(self.kid);
        jwk["alg"] = json!(self.alg);
        jwk["use"] = json!("sig");
        jwk
    }

    fn sign_raw(&self, message: &[u8]) -> Vec<u8> {
        let rng = SystemRandom::new();
        match &self.signer {
            Signer::Rsa(key) => {
                let padding: &dyn signature::RsaEncoding = match self.alg {
                    "PS256" => &signature::RSA_PSS_SHA256,
                    _ => &signature::RSA_PKCS1_SHA256,
                };
                let mut out = vec![0; key.public_modulus_len()];
                key.sign(padding, &rng, message, &mut out).unwrap();
                out
            }
            Signer::Ec(key) => key.sign(&rng, message).unwrap().as_ref().to_vec(),
            Signer::Ed(key) => key.sign(message).as_ref().to_vec(),
        }
    }

    /// A token with the header `{alg, typ: JWT, kid}` and these claims.
    fn sign(&self, claims: &Value) -> String {
        self.sign_with_header(
            &json!({"alg": self.alg, "typ": "JWT", "kid": self.kid}),
            claims,
        )
    }

    fn sign_with_header(&self, header: &Value, claims: &Value) -> String {
        let input = format!(
            "{}.{}",
            b64(header.to_string().as_bytes()),
            b64(claims.to_string().as_bytes())
        );
        let signature = self.sign_raw(input.as_bytes());
        format!("{input}.{}", b64(&signature))
    }
}

/// RSA key generation is slow-ish: the tests share their keys.
fn rsa_key() -> &'static TestKey {
    static KEY: OnceLock<TestKey> = OnceLock::new();
    KEY.get_or_init(|| TestKey::rsa("rsa-1", "RS256"))
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

// ---------------------------------------------------------------- issuer

/// Discovery and a JWKS, served on 127.0.0.1:0.
#[derive(Clone)]
struct Issuer {
    url: String,
    jwks: Arc<Mutex<Value>>,
    jwks_fetches: Arc<AtomicUsize>,
    delay: Arc<Mutex<Duration>>,
    /// The `jwks_uri` discovery names instead of this issuer's own.
    jwks_uri: Arc<Mutex<Option<String>>>,
}

impl Issuer {
    async fn start(keys: &[&TestKey]) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/", listener.local_addr().unwrap());
        let issuer = Self::new(url, keys);
        let app = issuer.router();
        tokio::spawn(async move { axum::serve(listener, app).await });
        issuer
    }

    /// The same issuer over HTTPS, with a certificate for 127.0.0.1.
    fn start_tls(keys: &[&TestKey], tls: rustls::ServerConfig) -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let url = format!("https://{}/", listener.local_addr().unwrap());
        let issuer = Self::new(url, keys);
        let app = issuer.router();
        let config = axum_server::tls_rustls::RustlsConfig::from_config(Arc::new(tls));
        let server = axum_server::from_tcp_rustls(listener, config);
        tokio::spawn(async move { server.serve(app.into_make_service()).await });
        issuer
    }

    fn new(url: String, keys: &[&TestKey]) -> Self {
        let issuer = Self {
            url,
            jwks: Arc::new(Mutex::new(json!({"keys": []}))),
            jwks_fetches: Arc::new(AtomicUsize::new(0)),
            delay: Arc::new(Mutex::new(Duration::ZERO)),
            jwks_uri: Arc::new(Mutex::new(None)),
        };
        issuer.publish(keys);
        issuer
    }

    fn router(&self) -> Router {
        Router::new()
            .route("/.well-known/openid-configuration", get(discovery))
            .route("/.well-known/jwks.json", get(jwks))
            .with_state(self.clone())
    }

    fn publish(&self, keys: &[&TestKey]) {
        *self.jwks.lock().unwrap() =
            json!({"keys": keys.iter().map(|k| k.jwk()).collect::<Vec<_>>()});
    }

    fn set_delay(&self, delay: Duration) {
        *self.delay.lock().unwrap() = delay;
    }

    fn fetches(&self) -> usize {
        self.jwks_fetches.load(Ordering::SeqCst)
    }

    fn config(&self) -> GuardConfig {
        GuardConfig::new(&self.url, AUDIENCE)
            .refetch_interval(Duration::from_millis(300))
            .fetch_timeout(Duration::from_millis(500))
    }

    /// Claims of a valid token from this issuer.
    fn claims(&self) -> Value {
        json!({"iss": self.url, "sub": "auth0|alice", "aud": AUDIENCE,
               "iat": now(), "exp": now() + 600, "azp": "spa",
               "scope": "openid read:measurements", "permissions": ["read:measurements"]})
    }
}

async fn discovery(State(issuer): State<Issuer>) -> Json<Value> {
    let own = format!("{}.well-known/jwks.json", issuer.url);
    let jwks_uri = issuer.jwks_uri.lock().unwrap().clone().unwrap_or(own);
    Json(json!({"issuer": issuer.url, "jwks_uri": jwks_uri}))
}

async fn jwks(State(issuer): State<Issuer>) -> Json<Value> {
    issuer.jwks_fetches.fetch_add(1, Ordering::SeqCst);
    let delay = *issuer.delay.lock().unwrap();
    tokio::time::sleep(delay).await;
    let body = issuer.jwks.lock().unwrap().clone();
    Json(body)
}

// ---------------------------------------------------------------- the API

async fn read(claims: Claims) -> Result<Json<Value>, AuthError> {
    claims.require_scope("read:measurements")?;
    Ok(Json(json!({"sub": claims.subject()})))
}

async fn write(claims: Claims) -> Result<StatusCode, AuthError> {
    claims.require_permission("write:measurements")?;
    Ok(StatusCode::NO_CONTENT)
}

fn api(guard: Guard) -> Router {
    Router::new()
        .route("/read", get(read))
        .route("/write", get(write))
        .with_state(guard)
}

struct Answer {
    status: StatusCode,
    challenge: String,
    body: Value,
}

async fn call_with(app: &Router, path: &str, authorization: Option<&str>) -> Answer {
    let mut request = Request::get(path);
    if let Some(value) = authorization {
        request = request.header(header::AUTHORIZATION, value);
    }
    let response = app
        .clone()
        .oneshot(request.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = response.status();
    let challenge = response
        .headers()
        .get(header::WWW_AUTHENTICATE)
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    Answer {
        status,
        challenge,
        body,
    }
}

async fn call(app: &Router, token: &str) -> Answer {
    call_with(app, "/read", Some(&format!("Bearer {token}"))).await
}

/// Asserts a 401 `invalid_token` whose description contains `why`.
fn assert_invalid(answer: &Answer, why: &str) {
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{}", answer.body);
    assert!(
        answer.challenge.starts_with("Bearer realm=\""),
        "{}",
        answer.challenge
    );
    assert!(
        answer.challenge.contains("error=\"invalid_token\""),
        "{}",
        answer.challenge
    );
    assert!(
        answer.challenge.contains(why),
        "expected {why:?} in the challenge: {}",
        answer.challenge
    );
    assert_eq!(answer.body["error"], "invalid_token");
}

async fn setup(keys: &[&TestKey]) -> (Issuer, Router) {
    let issuer = Issuer::start(keys).await;
    let app = api(Guard::new(issuer.config()).unwrap());
    (issuer, app)
}

// ---------------------------------------------------------------- tests

#[tokio::test]
async fn valid_tokens_of_every_default_algorithm_are_accepted() {
    let ps = TestKey::rsa("ps-1", "PS256");
    let es = TestKey::es256("es-1");
    let ed = TestKey::ed25519("ed-1");
    let (issuer, app) = setup(&[rsa_key(), &ps, &es, &ed]).await;
    for key in [rsa_key(), &ps, &es, &ed] {
        let answer = call(&app, &key.sign(&issuer.claims())).await;
        assert_eq!(
            answer.status,
            StatusCode::OK,
            "{}: {}",
            key.alg,
            answer.challenge
        );
        assert_eq!(answer.body["sub"], "auth0|alice");
    }
    // One discovery-and-JWKS fetch served them all.
    assert_eq!(issuer.fetches(), 1);
}

#[tokio::test]
async fn lifetime_is_checked_with_the_leeway() {
    let (issuer, app) = setup(&[rsa_key()]).await;
    let mut claims = issuer.claims();
    claims["exp"] = json!(now() - 120);
    assert_invalid(&call(&app, &rsa_key().sign(&claims)).await, "expired");
    // Within the default 60 s leeway.
    claims["exp"] = json!(now() - 30);
    assert_eq!(
        call(&app, &rsa_key().sign(&claims)).await.status,
        StatusCode::OK
    );

    let mut claims = issuer.claims();
    claims["nbf"] = json!(now() + 600);
    assert_invalid(&call(&app, &rsa_key().sign(&claims)).await, "not valid yet");
    claims["nbf"] = json!(now() + 30);
    assert_eq!(
        call(&app, &rsa_key().sign(&claims)).await.status,
        StatusCode::OK
    );

    let strict = api(Guard::new(issuer.config().leeway(Duration::ZERO)).unwrap());
    claims["nbf"] = json!(now() + 30);
    assert_invalid(
        &call(&strict, &rsa_key().sign(&claims)).await,
        "not valid yet",
    );
}

#[tokio::test]
async fn audience_and_issuer_must_match() {
    let (issuer, app) = setup(&[rsa_key()]).await;
    let mut claims = issuer.claims();
    claims["aud"] = json!("https://other.example/api");
    assert_invalid(
        &call(&app, &rsa_key().sign(&claims)).await,
        "not meant for this API",
    );
    claims["aud"] = json!([
        "https://other.example/api",
        format!("{}userinfo", issuer.url)
    ]);
    assert_invalid(
        &call(&app, &rsa_key().sign(&claims)).await,
        "not meant for this API",
    );
    claims["aud"] = json!([AUDIENCE, format!("{}userinfo", issuer.url)]);
    assert_eq!(
        call(&app, &rsa_key().sign(&claims)).await.status,
        StatusCode::OK
    );

    let mut claims = issuer.claims();
    claims["iss"] = json!(issuer.url.trim_end_matches('/'));
    assert_invalid(
        &call(&app, &rsa_key().sign(&claims)).await,
        "another issuer",
    );
    claims["iss"] = json!("https://evil.example/");
    assert_invalid(
        &call(&app, &rsa_key().sign(&claims)).await,
        "another issuer",
    );

    let two = api(Guard::new(issuer.config().audience("https://other.example/api")).unwrap());
    claims = issuer.claims();
    claims["aud"] = json!("https://other.example/api");
    assert_eq!(
        call(&two, &rsa_key().sign(&claims)).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn unknown_kid_refetches_once_then_is_refused() {
    let (issuer, app) = setup(&[rsa_key()]).await;
    assert_eq!(
        call(&app, &rsa_key().sign(&issuer.claims())).await.status,
        StatusCode::OK
    );
    assert_eq!(issuer.fetches(), 1);
    tokio::time::sleep(Duration::from_millis(400)).await;

    let stranger = TestKey::es256("not-published");
    let token = stranger.sign(&issuer.claims());
    assert_invalid(&call(&app, &token).await, "no signing key");
    assert_eq!(issuer.fetches(), 2, "an unknown kid fetches the JWKS again");
    assert_invalid(&call(&app, &token).await, "no signing key");
    assert_eq!(issuer.fetches(), 2, "within the interval, no second fetch");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_unknown_kids_cause_one_fetch_per_interval() {
    let issuer = Issuer::start(&[rsa_key()]).await;
    let guard = Guard::new(issuer.config().refetch_interval(Duration::from_secs(60))).unwrap();
    let app = api(guard);
    assert_eq!(
        call(&app, &rsa_key().sign(&issuer.claims())).await.status,
        StatusCode::OK
    );
    assert_eq!(issuer.fetches(), 1);
    // The first fetch was just now, so within the interval: no fetch at all.
    let stranger = Arc::new(TestKey::es256("x"));
    let flood = |n: usize| {
        (0..n)
            .map(|i| {
                let app = app.clone();
                let stranger = stranger.clone();
                let claims = issuer.claims();
                tokio::spawn(async move {
                    let header = json!({"alg": "ES256", "kid": format!("made-up-{i}")});
                    call(&app, &stranger.sign_with_header(&header, &claims))
                        .await
                        .status
                })
            })
            .collect::<Vec<_>>()
    };
    for task in flood(100) {
        assert_eq!(task.await.unwrap(), StatusCode::UNAUTHORIZED);
    }
    assert_eq!(issuer.fetches(), 1);

    // A fresh guard with no keys: 100 parallel bad kids, one fetch.
    let issuer = Issuer::start(&[rsa_key()]).await;
    issuer.set_delay(Duration::from_millis(100));
    let app = api(Guard::new(issuer.config().refetch_interval(Duration::from_secs(60))).unwrap());
    let tasks: Vec<_> = (0..100)
        .map(|i| {
            let app = app.clone();
            let stranger = stranger.clone();
            let claims = issuer.claims();
            tokio::spawn(async move {
                let header = json!({"alg": "ES256", "kid": format!("made-up-{i}")});
                call(&app, &stranger.sign_with_header(&header, &claims))
                    .await
                    .status
            })
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.unwrap(), StatusCode::UNAUTHORIZED);
    }
    assert_eq!(
        issuer.fetches(),
        1,
        "single flight: one fetch for 100 requests"
    );
}

#[tokio::test]
async fn a_rotated_key_is_accepted_after_the_refetch() {
    let (issuer, app) = setup(&[rsa_key()]).await;
    assert_eq!(
        call(&app, &rsa_key().sign(&issuer.claims())).await.status,
        StatusCode::OK
    );
    let next = TestKey::es256("next");
    issuer.publish(&[rsa_key(), &next]);
    tokio::time::sleep(Duration::from_millis(400)).await;
    let answer = call(&app, &next.sign(&issuer.claims())).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.challenge);
    assert_eq!(issuer.fetches(), 2);
    // The old key still works, without a fetch.
    assert_eq!(
        call(&app, &rsa_key().sign(&issuer.claims())).await.status,
        StatusCode::OK
    );
    assert_eq!(issuer.fetches(), 2);
}

#[tokio::test]
async fn alg_none_is_refused() {
    let (issuer, app) = setup(&[rsa_key()]).await;
    let claims = b64(issuer.claims().to_string().as_bytes());
    for alg in ["none", "None", "NONE"] {
        let header = b64(json!({"alg": alg, "typ": "JWT", "kid": "rsa-1"})
            .to_string()
            .as_bytes());
        assert_invalid(
            &call(&app, &format!("{header}.{claims}.")).await,
            "not a compact JWS",
        );
        assert_invalid(
            &call(&app, &format!("{header}.{claims}.c2ln")).await,
            "algorithm is not allowed",
        );
    }
}

#[tokio::test]
async fn hs256_signed_with_the_public_key_is_refused() {
    use aws_lc_rs::hmac;
    let (issuer, app) = setup(&[rsa_key()]).await;
    let jwk = rsa_key().jwk();
    let Signer::Rsa(rsa) = &rsa_key().signer else {
        unreachable!()
    };
    // The secrets an attacker would try: the public key's DER, its `n`, the JWK.
    let secrets: Vec<Vec<u8>> = vec![
        rsa.public_key().as_ref().to_vec(),
        jwk["n"].as_str().unwrap().as_bytes().to_vec(),
        jwk.to_string().into_bytes(),
    ];
    for secret in secrets {
        let header = json!({"alg": "HS256", "typ": "JWT", "kid": "rsa-1"});
        let input = format!(
            "{}.{}",
            b64(header.to_string().as_bytes()),
            b64(issuer.claims().to_string().as_bytes())
        );
        let tag = hmac::sign(
            &hmac::Key::new(hmac::HMAC_SHA256, &secret),
            input.as_bytes(),
        );
        let token = format!("{input}.{}", b64(tag.as_ref()));
        assert_invalid(&call(&app, &token).await, "algorithm is not allowed");
    }
}

#[tokio::test]
async fn keys_must_fit_the_algorithm() {
    let (issuer, app) = setup(&[rsa_key()]).await;
    // An RSA key with the kid of the published RS256 JWK, signing PS256.
    let pss = TestKey::rsa("rsa-1", "PS256");
    assert_invalid(
        &call(&app, &pss.sign(&issuer.claims())).await,
        "no signing key",
    );
    // An ES256 token naming the RSA key's kid.
    let ec = TestKey::es256("rsa-1");
    assert_invalid(
        &call(&app, &ec.sign(&issuer.claims())).await,
        "no signing key",
    );
}

#[tokio::test]
async fn a_tampered_token_is_refused() {
    let (issuer, app) = setup(&[rsa_key()]).await;
    let token = rsa_key().sign(&issuer.claims());
    let parts: Vec<&str> = token.split('.').collect();
    let mut claims = issuer.claims();
    claims["sub"] = json!("auth0|mallory");
    let forged = format!(
        "{}.{}.{}",
        parts[0],
        b64(claims.to_string().as_bytes()),
        parts[2]
    );
    assert_invalid(&call(&app, &forged).await, "signature does not verify");
    // Signed by another key with the same kid.
    let impostor = TestKey::rsa("rsa-1", "RS256");
    assert_invalid(
        &call(&app, &impostor.sign(&issuer.claims())).await,
        "signature does not verify",
    );
}

#[tokio::test]
async fn malformed_tokens_are_refused() {
    let (issuer, app) = setup(&[rsa_key()]).await;
    let token = rsa_key().sign(&issuer.claims());
    let parts: Vec<&str> = token.split('.').collect();
    let cases = [
        (
            format!("{}!.{}.{}", parts[0], parts[1], parts[2]),
            "not a compact JWS",
        ),
        (
            format!("{}.{}.{}=", parts[0], parts[1], parts[2]),
            "not a compact JWS",
        ),
        (format!("{}.{}", parts[0], parts[1]), "not a compact JWS"),
        (
            format!("x{}.{}.{}", parts[0], parts[1], parts[2]),
            "header is not valid",
        ),
        (
            format!("{}.x{}.{}", parts[0], parts[1], parts[2]),
            "signature does not verify",
        ),
        (
            format!("{}.{}.x{}", parts[0], parts[1], parts[2]),
            "signature does not verify",
        ),
        ("not a token".to_string(), "not a compact JWS"),
    ];
    for (token, why) in cases {
        assert_invalid(&call(&app, &token).await, why);
    }
    // `Bearer` with nothing after it is no token at all: 401 without an
    // error code, as express-oauth2-jwt-bearer answers.
    let answer = call(&app, "").await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert_eq!(answer.challenge, format!("Bearer realm=\"{AUDIENCE}\""));
    // Claims that are not an object, with a good signature.
    let token = rsa_key().sign(&json!(["an", "array"]));
    assert_invalid(&call(&app, &token).await, "not a JSON object");
}

#[tokio::test]
async fn a_one_megabyte_token_is_refused_before_decoding() {
    let (issuer, app) = setup(&[rsa_key()]).await;
    let mut claims = issuer.claims();
    claims["padding"] = json!("a".repeat(1 << 20));
    let token = rsa_key().sign(&claims);
    let started = Instant::now();
    assert_invalid(&call(&app, &token).await, "too large");
    assert!(
        started.elapsed() < Duration::from_millis(500),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(issuer.fetches(), 0, "no key was looked up");
}

#[tokio::test]
async fn an_issuer_that_is_down_gives_a_prompt_401() {
    // A port that was just free: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let issuer_url = format!("http://127.0.0.1:{port}/");
    let app = api(Guard::new(GuardConfig::new(&issuer_url, AUDIENCE)).unwrap());
    let mut claims = json!({"iss": issuer_url, "sub": "x", "aud": AUDIENCE, "exp": now() + 60});
    claims["scope"] = json!("read:measurements");
    let started = Instant::now();
    assert_invalid(
        &call(&app, &rsa_key().sign(&claims)).await,
        "could not be fetched",
    );
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_slow_issuer_gives_a_prompt_401_and_cached_keys_keep_working() {
    let (issuer, app) = setup(&[rsa_key()]).await;
    issuer.set_delay(Duration::from_secs(10));
    let started = Instant::now();
    assert_invalid(
        &call(&app, &rsa_key().sign(&issuer.claims())).await,
        "could not be fetched",
    );
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );

    // Once keys are cached, a slow issuer does not hold up known keys.
    let (issuer, app) = setup(&[rsa_key()]).await;
    assert_eq!(
        call(&app, &rsa_key().sign(&issuer.claims())).await.status,
        StatusCode::OK
    );
    issuer.set_delay(Duration::from_secs(10));
    tokio::time::sleep(Duration::from_millis(400)).await;
    let started = Instant::now();
    let stranger = TestKey::es256("unknown");
    assert_invalid(
        &call(&app, &stranger.sign(&issuer.claims())).await,
        "no signing key",
    );
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    let started = Instant::now();
    assert_eq!(
        call(&app, &rsa_key().sign(&issuer.claims())).await.status,
        StatusCode::OK
    );
    assert!(
        started.elapsed() < Duration::from_millis(300),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_missing_scope_is_403_insufficient_scope() {
    let (issuer, app) = setup(&[rsa_key()]).await;
    let mut claims = issuer.claims();
    claims["scope"] = json!("openid profile");
    let answer = call(&app, &rsa_key().sign(&claims)).await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    assert_eq!(
        answer.challenge,
        format!(
            "Bearer realm=\"{AUDIENCE}\", error=\"insufficient_scope\", \
             error_description=\"the token does not grant read:measurements\", \
             scope=\"read:measurements\""
        )
    );
    assert_eq!(answer.body["error"], "insufficient_scope");
}

#[tokio::test]
async fn permissions_are_checked_separately_from_scope() {
    let (issuer, app) = setup(&[rsa_key()]).await;
    let mut claims = issuer.claims();
    claims["scope"] = json!("write:measurements");
    claims["permissions"] = json!(["read:measurements"]);
    let answer = call_with(
        &app,
        "/write",
        Some(&format!("Bearer {}", rsa_key().sign(&claims))),
    )
    .await;
    assert_eq!(answer.status, StatusCode::FORBIDDEN);
    assert!(
        answer.challenge.contains("scope=\"write:measurements\""),
        "{}",
        answer.challenge
    );
    claims["permissions"] = json!(["read:measurements", "write:measurements"]);
    let answer = call_with(
        &app,
        "/write",
        Some(&format!("Bearer {}", rsa_key().sign(&claims))),
    )
    .await;
    assert_eq!(answer.status, StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn no_token_is_401_without_an_error_code() {
    let (_issuer, app) = setup(&[rsa_key()]).await;
    for authorization in [None, Some("Basic dXNlcjpwYXNz")] {
        let answer = call_with(&app, "/read", authorization).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
        assert_eq!(answer.challenge, format!("Bearer realm=\"{AUDIENCE}\""));
    }
}

#[tokio::test]
async fn rfc9068_typ_when_required() {
    let issuer = Issuer::start(&[rsa_key()]).await;
    let app = api(Guard::new(issuer.config().require_rfc9068_typ(true)).unwrap());
    let claims = issuer.claims();
    let jwt = rsa_key().sign(&claims);
    assert_invalid(
        &call(&app, &jwt).await,
        "typ is not that of an access token",
    );
    for typ in ["at+jwt", "application/at+jwt"] {
        let header = json!({"alg": "RS256", "typ": typ, "kid": "rsa-1"});
        assert_eq!(
            call(&app, &rsa_key().sign_with_header(&header, &claims))
                .await
                .status,
            StatusCode::OK
        );
    }
}

#[tokio::test]
async fn hostile_strings_never_panic() {
    let (issuer, app) = setup(&[rsa_key()]).await;
    let good = rsa_key().sign(&issuer.claims());
    let mut hostile: Vec<String> = vec![
        "..".into(),
        "...".into(),
        ".a.b".into(),
        "a.b.c".into(),
        "=.=.=".into(),
        "eyJ.eyJ.eyJ".into(),
        "e30.e30.e30".into(),
        "bnVsbA.bnVsbA.AA".into(),
        b64(b"{\"alg\":\"RS256\",\"kid\":{}}") + ".e30.AA",
        b64(b"{\"alg\":\"RS256\",\"kid\":\"rsa-1\"}") + "." + &b64(b"{\"exp\":1e999}") + ".AA",
        b64(b"{\"alg\":\"RS256\",\"kid\":\"rsa-1\"}") + "." + &b64(&[0xff, 0xfe]) + ".AA",
        "a".repeat(16 * 1024),
        "a.".repeat(9000),
    ];
    for cut in (0..good.len()).step_by(7) {
        hostile.push(good[..cut].to_string());
    }
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    let alphabet = b"abcXYZ019-_.=+/ ";
    for length in 0..400 {
        let text: String = (0..length)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                alphabet[(seed % alphabet.len() as u64) as usize] as char
            })
            .collect();
        hostile.push(text);
    }
    for token in hostile {
        let answer = call(&app, &token).await;
        assert!(
            answer.status == StatusCode::UNAUTHORIZED || answer.status == StatusCode::BAD_REQUEST,
            "{token:?}: {}",
            answer.status
        );
    }
}

// ---------------------------------------------------------------- HTTPS

/// Set in the child process of [`https_issuer_trusted_through_ssl_cert_file`].
const CHILD_ISSUER: &str = "GUARD_TEST_HTTPS_ISSUER";
const CHILD_TOKEN: &str = "GUARD_TEST_HTTPS_TOKEN";
const CHILD_EXPECT: &str = "GUARD_TEST_HTTPS_EXPECT";

/// A CA (PEM and DER), and a server configuration for 127.0.0.1 signed by it.
fn test_ca() -> (
    String,
    rustls::pki_types::CertificateDer<'static>,
    rustls::ServerConfig,
) {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let leaf_key = KeyPair::generate().unwrap();
    let leaf = CertificateParams::new(vec!["127.0.0.1".to_string()])
        .unwrap()
        .signed_by(&leaf_key, &ca, &ca_key)
        .unwrap();
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let key = rustls::pki_types::PrivatePkcs8KeyDer::from(leaf_key.serialize_der());
    let server = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![leaf.der().clone()], key.into())
        .unwrap();
    (ca.pem(), ca.der().clone(), server)
}

/// A client TLS configuration trusting only `ca`.
fn client_trusting(ca: rustls::pki_types::CertificateDer<'static>) -> rustls::ClientConfig {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(ca).unwrap();
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth()
}

/// The default TLS setup reads the system's roots, and `SSL_CERT_FILE`
/// replaces them; the variable is read when the guard is built, so each case
/// runs in a child process of this test binary with its own environment.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_issuer_trusted_through_ssl_cert_file() {
    let (ca_pem, _, tls) = test_ca();
    let issuer = Issuer::start_tls(&[rsa_key()], tls);
    let dir = std::env::temp_dir().join(format!("guard-ca-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ca_file = dir.join("ca.pem");
    std::fs::write(&ca_file, ca_pem).unwrap();
    let token = rsa_key().sign(&issuer.claims());
    let run_child = |trust: bool| {
        let mut command = std::process::Command::new(std::env::current_exe().unwrap());
        command
            .args(["--exact", "https_child", "--nocapture", "--test-threads=1"])
            .env(CHILD_ISSUER, &issuer.url)
            .env(CHILD_TOKEN, &token)
            .env(CHILD_EXPECT, if trust { "accepted" } else { "refused" })
            .env_remove("SSL_CERT_DIR");
        if trust {
            command.env("SSL_CERT_FILE", &ca_file);
        } else {
            // An empty bundle: no root trusts the test CA.
            command.env("SSL_CERT_FILE", dir.join("empty.pem"));
        }
        command
    };
    std::fs::write(dir.join("empty.pem"), "").unwrap();
    for trust in [true, false] {
        let mut command = run_child(trust);
        let output = tokio::task::spawn_blocking(move || command.output().unwrap())
            .await
            .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success() && stdout.contains("1 passed"),
            "child (trust {trust}): {stdout}\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    assert_eq!(
        issuer.fetches(),
        1,
        "only the trusting child fetched the JWKS"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The child of [`https_issuer_trusted_through_ssl_cert_file`]; does nothing
/// when run on its own.
#[tokio::test]
async fn https_child() {
    let (Ok(issuer), Ok(token), Ok(expect)) = (
        std::env::var(CHILD_ISSUER),
        std::env::var(CHILD_TOKEN),
        std::env::var(CHILD_EXPECT),
    ) else {
        return;
    };
    let app = api(Guard::new(GuardConfig::new(&issuer, AUDIENCE)).unwrap());
    let answer = call(&app, &token).await;
    if expect == "accepted" {
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.challenge);
    } else {
        assert_invalid(&answer, "could not be fetched");
    }
}

#[tokio::test]
async fn discovery_must_name_the_configured_issuer() {
    let issuer = Issuer::start(&[rsa_key()]).await;
    let guard = Guard::new(issuer.config()).unwrap();
    assert_eq!(guard.refresh_keys().await.unwrap(), 1);
    // The common mistake: the issuer without its trailing slash.
    let trimmed = issuer.url.trim_end_matches('/').to_string();
    let guard = Guard::new(GuardConfig::new(&trimmed, AUDIENCE)).unwrap();
    let error = guard.refresh_keys().await.unwrap_err();
    assert!(
        matches!(error, gatehouse_guard::FetchError::IssuerMismatch { .. }),
        "{error}"
    );
    let mut claims = issuer.claims();
    claims["iss"] = json!(trimmed);
    assert_invalid(
        &call(&api(guard), &rsa_key().sign(&claims)).await,
        "could not be fetched",
    );
}

#[tokio::test]
async fn keys_never_come_over_plain_http_from_another_machine_or_under_an_https_issuer() {
    for remote in ["http://tenant.example/", "http://10.1.2.3:8080/"] {
        let error = Guard::new(GuardConfig::new(remote, AUDIENCE)).unwrap_err();
        assert!(
            matches!(error, gatehouse_guard::ConfigError::InsecureUrl { .. }),
            "{remote}: {error}"
        );
    }
    assert!(Guard::new(
        GuardConfig::new("http://tenant.example/", AUDIENCE).allow_insecure_http(true)
    )
    .is_ok());

    // An https issuer whose discovery points at a plain-HTTP JWKS, even on
    // this machine: the keys would travel without the issuer's protection.
    let (_, ca, tls) = test_ca();
    let issuer = Issuer::start_tls(&[rsa_key()], tls);
    let plain = Issuer::start(&[rsa_key()]).await;
    *issuer.jwks_uri.lock().unwrap() = Some(format!("{}.well-known/jwks.json", plain.url));
    let guard = Guard::new(issuer.config().tls_config(client_trusting(ca.clone()))).unwrap();
    let error = guard.refresh_keys().await.unwrap_err();
    assert!(
        matches!(error, gatehouse_guard::FetchError::Insecure { .. }),
        "{error}"
    );
    assert_eq!(plain.fetches(), 0, "the plain-HTTP JWKS was never asked");
    // Pointed back at its own https JWKS, the same issuer works.
    *issuer.jwks_uri.lock().unwrap() = None;
    let guard = Guard::new(issuer.config().tls_config(client_trusting(ca))).unwrap();
    assert_eq!(guard.refresh_keys().await.unwrap(), 1);
}

/// A client that hangs up while its request waits for the JWKS must not
/// leave the refetch limit armed without the keys fetched: the fetch
/// finishes on its own, and the next request with the new `kid` is served
/// from it, within the interval.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_request_does_not_cancel_the_fetch_it_started() {
    let next = TestKey::es256("next");
    let issuer = Issuer::start(&[&next]).await;
    issuer.set_delay(Duration::from_millis(300));
    let app = api(Guard::new(issuer.config().refetch_interval(Duration::from_secs(60))).unwrap());
    let token = next.sign(&issuer.claims());
    let hung_up = tokio::time::timeout(Duration::from_millis(50), call(&app, &token)).await;
    assert!(
        hung_up.is_err(),
        "the first request was cancelled while waiting"
    );
    let answer = call(&app, &token).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.challenge);
    assert_eq!(issuer.fetches(), 1, "one fetch served both requests");
}

/// While a slow fetch is in flight, requests with made-up `kid`s wait in
/// line and leave nothing behind when their clients hang up: no task per
/// request.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hung_up_requests_during_a_slow_fetch_leave_no_tasks_behind() {
    let issuer = Issuer::start(&[rsa_key()]).await;
    issuer.set_delay(Duration::from_millis(800));
    let app = api(Guard::new(issuer.config().fetch_timeout(Duration::from_secs(2))).unwrap());
    let stranger = TestKey::es256("x");
    let metrics = tokio::runtime::Handle::current().metrics();
    let before = metrics.num_alive_tasks();
    let first = {
        let app = app.clone();
        let token = rsa_key().sign(&issuer.claims());
        tokio::spawn(async move { call(&app, &token).await.status })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    for i in 0..200 {
        let header = json!({"alg": "ES256", "kid": format!("made-up-{i}")});
        let token = stranger.sign_with_header(&header, &issuer.claims());
        let hung_up = tokio::time::timeout(Duration::from_millis(1), call(&app, &token)).await;
        assert!(hung_up.is_err(), "request {i} waited for the fetch");
    }
    // The issuer's server task, the first request and its fetch: not 200 more.
    let alive = metrics.num_alive_tasks().saturating_sub(before);
    assert!(alive < 20, "{alive} tasks alive after 200 hung-up requests");
    assert_eq!(first.await.unwrap(), StatusCode::OK);
    assert_eq!(issuer.fetches(), 1);
}
