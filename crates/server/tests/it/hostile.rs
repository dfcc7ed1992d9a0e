//! The attacker's suite: hostile input against every public endpoint and the
//! Management API, table-driven so the whole module stays fast.
//!
//! Every case asserts three things: the answer has the right shape (OAuth
//! JSON, the Management API's `{statusCode, error, message, errorCode}`, or
//! an HTML page), it is never a 5xx (a panic would drop the connection and
//! fail the request), and it changes no state (see [`snapshot`]). Redirects
//! only ever go to a relative page of ours or to a registered URI, and no
//! injected header ever appears.

use crate::authorize::{encode, spa_callback, spa_query, VERIFIER, WEB_CALLBACK};
use crate::fixtures::{seed, Seeded, API, PASSWORD, SPA_ORIGIN};
use crate::management::Mgmt;
use crate::support::{Reply, TestServer};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use gatehouse_core::jose::KeyPair;
use gatehouse_core::model::SigningAlg;
use gatehouse_core::pkce::s256_challenge;
use gatehouse_core::secret::hash_token;
use gatehouse_store::{AuthorizationCode, Page, Store};
use reqwest::Method;
use serde_json::{json, Value};

/// The allowed logout URL of the web app (set by [`start`]).
const WEB_LOGOUT: &str = "https://web.example/bye";

/// Strings that look like SQL, template or markup injection. The template
/// expression evaluates to `ghtpl` in Jinja-like engines, so seeing `ghtpl`
/// in a reply means a template ran.
const INJECTIONS: &[&str] = &[
    "' OR 1=1 --",
    "\" OR \"\"=\"",
    "'; DROP TABLE users; --",
    "%' --",
    "{{\"gh\"~\"tpl\"}}",
    "{{7*7}}",
    "{% raw %}",
    "${7*7}",
    "<script>alert(1)</script>",
    "\u{202e}\u{0}",
];

const TEMPLATE_OUTPUT: &str = "ghtpl";
const RAW_SCRIPT: &str = "<script>alert(1)</script>";

/// A server with a bootstrapped management API and the seeded tenant; the
/// brute-force limit is raised so the many wrong logins here block nobody.
async fn start() -> (Mgmt, Seeded) {
    let mgmt = Mgmt::start().await;
    let store = mgmt.server.store.as_ref();
    let seeded = seed(store).await;
    let mut web = store.client(&seeded.web_id).await.unwrap().unwrap();
    web.client.allowed_logout_urls = vec![WEB_LOGOUT.into()];
    store.update_client(&web).await.unwrap();
    // This suite sends hundreds of failing requests on purpose: the lockout
    // and the rate limits (tested in attack_protection.rs) stay out of its way.
    let mut settings = store.tenant_settings().await.unwrap();
    settings.brute_force_protection.max_attempts = 10_000;
    settings.rate_limits.enabled = false;
    store.put_tenant_settings(&settings).await.unwrap();
    (mgmt, seeded)
}

/// Everything an attack must not change: users (with their password hashes),
/// clients, APIs, grants, roles.
async fn snapshot(store: &dyn Store) -> String {
    format!(
        "{:?}\n{:?}\n{:?}\n{:?}\n{:?}",
        store.users(Page::ALL).await.unwrap(),
        store.clients(Page::ALL).await.unwrap(),
        store.resource_servers(Page::ALL).await.unwrap(),
        store.client_grants(Page::ALL).await.unwrap(),
        store.roles(Page::ALL).await.unwrap(),
    )
}

/// One request with a raw body; panics (naming the case) when the server
/// drops the connection, which is what a panicking handler does.
async fn send(
    server: &TestServer,
    method: Method,
    path: &str,
    content_type: Option<&str>,
    body: String,
    bearer: Option<&str>,
) -> Reply {
    let mut req = server.http.request(method.clone(), server.url(path));
    if let Some(ct) = content_type {
        req = req.header("content-type", ct);
    }
    if let Some(token) = bearer {
        req = req.bearer_auth(token);
    }
    let shown: String = path.chars().take(160).collect();
    let response = req
        .body(body)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{method} {shown}: no answer ({e:?})"));
    Reply::read(response).await
}

const FORM: Option<&str> = Some("application/x-www-form-urlencoded");
const JSON: Option<&str> = Some("application/json");

/// Never a 5xx, never an injected header, never a redirect off our pages
/// or the registered URIs.
fn assert_contained(reply: &Reply, case: &str) {
    assert!(
        !reply.status.is_server_error(),
        "{case}: {} {}",
        reply.status,
        reply.text
    );
    assert!(
        reply.headers.get("x-injected").is_none(),
        "{case}: injected header"
    );
    for cookie in reply.headers.get_all("set-cookie") {
        let cookie = cookie.to_str().unwrap_or("");
        assert!(!cookie.contains("injected"), "{case}: {cookie}");
    }
    if let Some(location) = reply.header("location") {
        let spa = spa_callback();
        let allowed = [spa.as_str(), WEB_CALLBACK, WEB_LOGOUT];
        let ours = location.starts_with('/') && !location.starts_with("//");
        let registered = allowed.iter().any(|a| {
            location == *a
                || location
                    .strip_prefix(a)
                    .is_some_and(|rest| rest.starts_with(['?', '#']))
        });
        assert!(ours || registered, "{case}: redirect to {location}");
    }
}

/// An OAuth error: 4xx, JSON `{error, error_description}`.
fn assert_oauth_error(reply: &Reply, case: &str) {
    assert_contained(reply, case);
    assert!(
        reply.status.is_client_error(),
        "{case}: {} {}",
        reply.status,
        reply.text
    );
    assert!(reply.body["error"].is_string(), "{case}: {}", reply.text);
    assert!(
        reply.body["error_description"].is_string(),
        "{case}: {}",
        reply.text
    );
}

/// A Management API error of status `status`.
fn assert_mgmt_shape(reply: &Reply, status: u16, case: &str) {
    assert_contained(reply, case);
    assert_eq!(reply.status.as_u16(), status, "{case}: {}", reply.text);
    assert_eq!(reply.body["statusCode"], status, "{case}: {}", reply.text);
    for field in ["error", "message", "errorCode"] {
        assert!(reply.body[field].is_string(), "{case}: {}", reply.text);
    }
}

/// A page: a 4xx answer is an HTML error page; nothing reflects a template
/// result or unescaped markup.
fn assert_page(reply: &Reply, case: &str) {
    assert_contained(reply, case);
    if reply.status.is_client_error() {
        let content_type = reply.header("content-type").unwrap_or("");
        assert!(
            content_type.starts_with("text/html"),
            "{case}: {content_type}"
        );
    }
    assert!(
        !reply.text.contains(TEMPLATE_OUTPUT),
        "{case}: template ran"
    );
    assert!(!reply.text.contains(RAW_SCRIPT), "{case}: unescaped markup");
}

/// Query strings and form bodies no client should send: invalid UTF-8,
/// duplicates, NULs, broken escapes, CR/LF, and an oversized value (64 kB
/// and more is refused; this stays under 100 kB; a URI holds at most 64 kB,
/// so queries send the first 60 kB).
fn malformed(s: &Seeded) -> Vec<(&'static str, String)> {
    let web = &s.web_id;
    let spa = &s.spa_id;
    vec![
        ("invalid utf-8", "%FF%FE=%FF&client_id=%C3%28&redirect_uri=%E0%80&token=%FF&grant_type=%FF&returnTo=%FF&user_code=%FF".to_string()),
        ("invalid utf-8 client", format!("client_id={spa}%FF&redirect_uri=http%3A%2F%2Flocalhost%3A4200%2Fcallback%FF&response_type=code")),
        ("duplicated", format!("client_id={spa}&client_id={web}&grant_type=password&grant_type=client_credentials&redirect_uri={cb}&redirect_uri={WEB_CALLBACK}&token=a&token=b&returnTo={WEB_LOGOUT}&returnTo=https://evil.example/", cb = spa_callback())),
        ("nul bytes", format!("client_id={web}%00&redirect_uri=%00&grant_type=password%00&username=alice@example.com%00&password=x%00&token=%00&user_code=%00")),
        ("broken escapes", "%%%&&==&=x&x==&%zz=%&client_id=%&grant_type=%2".to_string()),
        ("crlf", format!("client_id={web}&response_type=code&redirect_uri=https%3A%2F%2Fweb.example%2Fcallback%0d%0aX-Injected%3A%20yes&state=%0d%0aX-Injected:%20yes&returnTo=https%3A%2F%2Fweb.example%2Fbye%0d%0aX-Injected%3A%20yes&post_logout_redirect_uri=%0aX-Injected:%20yes")),
        ("oversized", format!("client_id={web}&redirect_uri={WEB_CALLBACK}&response_type=code&state={}&token={}", "A".repeat(40_000), "B".repeat(30_000))),
        ("not a form", "{\"client_id\": [1, 2], \"grant_type\": {}}".to_string()),
    ]
}

#[tokio::test]
async fn malformed_parameters_get_errors_and_change_nothing() {
    let (m, s) = start().await;
    let server = &m.server;
    let before = snapshot(server.store.as_ref()).await;
    for (name, input) in malformed(&s) {
        let query = &input[..input.len().min(60_000)];
        for path in [
            "/oauth/token",
            "/oauth/revoke",
            "/oauth/introspect",
            "/oauth/device/code",
        ] {
            let case = format!("POST {path} ({name})");
            let reply = send(server, Method::POST, path, FORM, input.clone(), None).await;
            assert_oauth_error(&reply, &case);
            // The same as a JSON body with a non-string and a duplicate.
            let reply = send(server, Method::POST, path, JSON, input.clone(), None).await;
            assert_oauth_error(&reply, &format!("{case} as JSON"));
        }
        let case = format!("GET /userinfo ({name})");
        let reply = send(
            server,
            Method::GET,
            &format!("/userinfo?{query}"),
            None,
            String::new(),
            Some(&input[..input.len().min(4_000)]),
        )
        .await;
        assert_eq!(reply.status, 401, "{case}: {}", reply.text);
        assert_oauth_error(&reply, &case);
        for path in [
            "/authorize",
            "/u/login",
            "/u/signup",
            "/u/consent",
            "/activate",
            "/v2/logout",
            "/oidc/logout",
        ] {
            let case = format!("GET {path} ({name})");
            let url = format!("{path}?{query}");
            let reply = send(server, Method::GET, &url, None, String::new(), None).await;
            assert_page(&reply, &case);
        }
        for path in ["/u/login", "/u/signup", "/u/consent", "/activate"] {
            let case = format!("POST {path} ({name})");
            let reply = send(server, Method::POST, path, FORM, input.clone(), None).await;
            assert_page(&reply, &case);
            assert!(reply.status.is_client_error(), "{case}: {}", reply.status);
        }
        let token = Some(m.token.as_str());
        for (method, path) in [
            (Method::POST, "/api/v2/users"),
            (Method::POST, "/api/v2/roles"),
            (Method::POST, "/api/v2/clients"),
            (Method::PATCH, "/api/v2/tenants/settings"),
        ] {
            let case = format!("{method} {path} ({name})");
            let reply = send(server, method.clone(), path, JSON, input.clone(), token).await;
            assert_mgmt_shape(&reply, 400, &case);
        }
        let case = format!("GET /api/v2/users?… ({name})");
        let url = format!("/api/v2/users?{query}");
        let reply = send(server, Method::GET, &url, None, String::new(), token).await;
        assert_contained(&reply, &case);
    }
    assert_eq!(before, snapshot(server.store.as_ref()).await);
    m.server.stop().await;
}

#[tokio::test]
async fn duplicated_token_parameters_are_invalid_request() {
    let (m, s) = start().await;
    let server = &m.server;
    let body = format!(
        "grant_type=client_credentials&client_id={id}&client_secret={secret}&audience={API}&audience={API}",
        id = s.m2m_id,
        secret = s.m2m_secret
    );
    let reply = send(server, Method::POST, "/oauth/token", FORM, body, None).await;
    assert_eq!(reply.status, 400, "{}", reply.text);
    assert_eq!(reply.body["error"], "invalid_request");
    let json = format!(
        "{{\"grant_type\":\"client_credentials\",\"client_id\":\"{id}\",\"client_id\":\"{id}\",\"client_secret\":\"{secret}\"}}",
        id = s.m2m_id,
        secret = s.m2m_secret
    );
    let reply = send(server, Method::POST, "/oauth/token", JSON, json, None).await;
    assert_eq!(reply.status, 400, "{}", reply.text);
    assert_eq!(reply.body["error"], "invalid_request");
    m.server.stop().await;
}

#[tokio::test]
async fn crlf_in_redirect_parameters_never_injects_a_header() {
    let (m, s) = start().await;
    let server = &m.server;
    let injected = "\r\nX-Injected: yes\r\nSet-Cookie: injected=1";
    let spa_cb = spa_callback();
    // A registered redirect URI with CR/LF appended is not registered.
    let with_crlf = format!("{spa_cb}{injected}");
    let q = spa_query(&s, &[("redirect_uri", &with_crlf)]);
    let reply = send(
        server,
        Method::GET,
        &format!("/authorize?{q}"),
        None,
        String::new(),
        None,
    )
    .await;
    assert_page(&reply, "redirect_uri with CR/LF");
    assert_eq!(reply.status, 400);
    assert!(reply.header("location").is_none());
    // state, response_mode errors and login_hint travel back to the
    // registered URI encoded, never as a header.
    for extra in [
        [("state", injected), ("response_mode", "query")],
        [("state", injected), ("response_mode", "bogus")],
        [("state", injected), ("prompt", "none")],
        [("state", injected), ("login_hint", injected)],
        [("state", injected), ("response_mode", "form_post")],
        [("state", injected), ("response_mode", "fragment")],
    ] {
        let q = spa_query(&s, &extra);
        let reply = send(
            server,
            Method::GET,
            &format!("/authorize?{q}"),
            None,
            String::new(),
            None,
        )
        .await;
        let case = format!("/authorize with {extra:?}");
        assert_page(&reply, &case);
        if let Some(location) = reply.header("location") {
            assert!(!location.contains("X-Injected: yes"), "{case}: {location}");
        }
    }
    for path in [
        format!(
            "/v2/logout?{}",
            encode(&[
                ("client_id", &s.web_id),
                ("returnTo", &format!("{WEB_LOGOUT}{injected}"))
            ])
        ),
        format!(
            "/v2/logout?{}",
            encode(&[("client_id", &s.web_id), ("returnTo", injected)])
        ),
        format!(
            "/oidc/logout?{}",
            encode(&[
                ("client_id", &s.web_id),
                (
                    "post_logout_redirect_uri",
                    &format!("{WEB_LOGOUT}{injected}")
                ),
                ("state", injected),
            ])
        ),
        format!(
            "/oidc/logout?{}",
            encode(&[
                ("client_id", &s.web_id),
                ("post_logout_redirect_uri", WEB_LOGOUT),
                ("state", injected),
            ])
        ),
        format!("/activate?{}", encode(&[("user_code", injected)])),
        format!(
            "/u/login?{}",
            encode(&[("authorize", injected), ("client_id", injected)])
        ),
    ] {
        let reply = send(server, Method::GET, &path, None, String::new(), None).await;
        assert_page(&reply, &path);
        assert!(
            reply
                .header("location")
                .is_none_or(|l| !l.contains("X-Injected: yes")),
            "{path}"
        );
    }
    m.server.stop().await;
}

/// A code for the SPA, issued with S256 PKCE, inserted as `/authorize` would.
async fn insert_code(server: &TestServer, s: &Seeded, code: &str) {
    let now = server.state.now();
    server
        .store
        .insert_authorization_code(
            &hash_token(code),
            &AuthorizationCode {
                actions: Default::default(),
                client_id: s.spa_id.clone(),
                user_id: s.alice.user_id.clone(),
                redirect_uri: Some(spa_callback()),
                code_challenge: Some(s256_challenge(VERIFIER)),
                code_challenge_method: Some("S256".into()),
                scope: "openid profile offline_access read:measurements".into(),
                audience: Some(API.into()),
                resource: None,
                nonce: None,
                auth_time: now - 5,
                sid: None,
                require_auth_time: false,
                expires_at: now + 60,
            },
        )
        .await
        .unwrap();
}

async fn token(server: &TestServer, pairs: &[(&str, &str)]) -> Reply {
    server.post_form("/oauth/token", pairs).await
}

async fn redeem(server: &TestServer, client_id: &str, code: &str, extra: &[(&str, &str)]) -> Reply {
    let callback = spa_callback();
    let mut pairs = vec![
        ("grant_type", "authorization_code"),
        ("client_id", client_id),
        ("code", code),
        ("redirect_uri", callback.as_str()),
    ];
    pairs.extend_from_slice(extra);
    token(server, &pairs).await
}

fn assert_invalid_grant(reply: &Reply, case: &str) {
    assert_oauth_error(reply, case);
    assert_eq!(reply.status, 403, "{case}: {}", reply.text);
    assert_eq!(
        reply.body["error"], "invalid_grant",
        "{case}: {}",
        reply.text
    );
    assert!(reply.body.get("access_token").is_none(), "{case}");
}

/// Refused as `invalid_grant` (403) or, for a malformed value,
/// `invalid_request` (400); either way no token.
fn assert_no_tokens(reply: &Reply, case: &str) {
    assert_oauth_error(reply, case);
    let expected = match reply.status.as_u16() {
        400 => "invalid_request",
        _ => "invalid_grant",
    };
    assert_eq!(reply.body["error"], expected, "{case}: {}", reply.text);
    assert!(reply.body.get("access_token").is_none(), "{case}");
}

async fn refresh(server: &TestServer, client_id: &str, rt: &str) -> Reply {
    token(
        server,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", client_id),
            ("refresh_token", rt),
        ],
    )
    .await
}

/// A code issued with S256 is never redeemed without its verifier or with
/// the challenge itself as a `plain` verifier; a code issued to the SPA is
/// never redeemed by the web app. A failed redemption consumes the code
/// (the store marks it used before checking), so each case has its own.
#[tokio::test]
async fn pkce_downgrade_and_client_mix_up_are_refused() {
    let (m, s) = start().await;
    let server = &m.server;
    let challenge = s256_challenge(VERIFIER);
    type Pairs<'a> = Vec<(&'a str, &'a str)>;
    let cases: Vec<(&str, &str, Pairs)> = vec![
        ("no verifier", s.spa_id.as_str(), vec![]),
        ("empty verifier", &s.spa_id, vec![("code_verifier", "")]),
        (
            "challenge as plain verifier",
            &s.spa_id,
            vec![("code_verifier", &challenge)],
        ),
        (
            "plain method at the token endpoint",
            &s.spa_id,
            vec![
                ("code_verifier", &challenge),
                ("code_challenge_method", "plain"),
            ],
        ),
        ("short verifier", &s.spa_id, vec![("code_verifier", "abc")]),
        (
            "client mix-up: the web app redeems the SPA's code",
            &s.web_id,
            vec![
                ("client_secret", &s.web_secret),
                ("code_verifier", VERIFIER),
            ],
        ),
        (
            "client mix-up without PKCE",
            &s.web_id,
            vec![("client_secret", &s.web_secret)],
        ),
    ];
    for (i, (case, client_id, extra)) in cases.into_iter().enumerate() {
        let code = format!("downgrade-{i}");
        insert_code(server, &s, &code).await;
        let reply = redeem(server, client_id, &code, &extra).await;
        assert_no_tokens(&reply, case);
        // The attacker's try burned the code: the verifier no longer helps.
        let reply = redeem(server, &s.spa_id, &code, &[("code_verifier", VERIFIER)]).await;
        assert_invalid_grant(&reply, &format!("{case}, then the real verifier"));
    }
    insert_code(server, &s, "honest").await;
    let ok = redeem(server, &s.spa_id, "honest", &[("code_verifier", VERIFIER)]).await;
    assert_eq!(ok.status, 200, "{}", ok.text);
    m.server.stop().await;
}

/// A replayed code fails and revokes the refresh token its first redemption
/// issued; a replayed refresh token revokes its whole family; another
/// client can neither use nor revoke someone else's refresh token.
#[tokio::test]
async fn code_and_refresh_token_replay_revoke_what_was_issued() {
    let (m, s) = start().await;
    let server = &m.server;
    insert_code(server, &s, "replayed").await;
    let first = redeem(
        server,
        &s.spa_id,
        "replayed",
        &[("code_verifier", VERIFIER)],
    )
    .await;
    assert_eq!(first.status, 200, "{}", first.text);
    let rt = first.body["refresh_token"].as_str().unwrap().to_string();
    let replay = redeem(
        server,
        &s.spa_id,
        "replayed",
        &[("code_verifier", VERIFIER)],
    )
    .await;
    assert_invalid_grant(&replay, "code replay");
    assert_invalid_grant(
        &refresh(server, &s.spa_id, &rt).await,
        "refresh after code replay",
    );

    insert_code(server, &s, "family").await;
    let first = redeem(server, &s.spa_id, "family", &[("code_verifier", VERIFIER)]).await;
    let rt1 = first.body["refresh_token"].as_str().unwrap().to_string();
    // Another client: cannot refresh it, and its revocation is a no-op.
    let stolen = token(
        server,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", &s.web_id),
            ("client_secret", &s.web_secret),
            ("refresh_token", &rt1),
        ],
    )
    .await;
    assert_oauth_error(&stolen, "refresh by another client");
    assert!(stolen.body.get("access_token").is_none());
    let revoked = server
        .post_form(
            "/oauth/revoke",
            &[
                ("client_id", &s.web_id),
                ("client_secret", &s.web_secret),
                ("token", &rt1),
            ],
        )
        .await;
    assert_contained(&revoked, "revocation by another client");
    let second = refresh(server, &s.spa_id, &rt1).await;
    assert_eq!(second.status, 200, "still valid: {}", second.text);
    let rt2 = second.body["refresh_token"].as_str().unwrap().to_string();
    assert_ne!(rt1, rt2, "the SPA rotates refresh tokens");
    assert_invalid_grant(
        &refresh(server, &s.spa_id, &rt1).await,
        "refresh token replay",
    );
    assert_invalid_grant(
        &refresh(server, &s.spa_id, &rt2).await,
        "family after replay",
    );
    m.server.stop().await;
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// `header.claims.signature` with the given parts.
fn compact(header: &Value, claims: &Value, signature: &[u8]) -> String {
    format!(
        "{}.{}.{}",
        b64(header.to_string().as_bytes()),
        b64(claims.to_string().as_bytes()),
        b64(signature)
    )
}

fn hs256(secret: &[u8], header: &Value, claims: &Value) -> String {
    let input = format!(
        "{}.{}",
        b64(header.to_string().as_bytes()),
        b64(claims.to_string().as_bytes())
    );
    let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, secret);
    let tag = aws_lc_rs::hmac::sign(&key, input.as_bytes());
    format!("{input}.{}", b64(tag.as_ref()))
}

fn signed_by(key: &KeyPair, header: &Value, claims: &Value) -> String {
    let input = format!(
        "{}.{}",
        b64(header.to_string().as_bytes()),
        b64(claims.to_string().as_bytes())
    );
    let signature = key.sign(input.as_bytes()).unwrap();
    format!("{input}.{}", b64(&signature))
}

/// Tokens that must never be accepted: `alg: none`, HS256 keyed with our
/// public key, a foreign key claiming one of our `kid`s or pointing at its
/// own key (`jwk`, `jku`, `x5u`), a tampered real token, and absurd claims.
async fn forged_tokens(m: &Mgmt) -> Vec<(String, String)> {
    let server = &m.server;
    let (_, jwks) = server.get_json("/.well-known/jwks.json").await;
    let ours = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["alg"] == "RS256")
        .unwrap()
        .clone();
    let kid = ours["kid"].as_str().unwrap().to_string();
    let now = server.state.now();
    let claims = json!({
        "iss": server.issuer,
        "sub": "auth0|attacker",
        "aud": [m.creds.management_audience, format!("{}userinfo", server.issuer)],
        "azp": m.creds.management_client_id,
        "scope": "openid profile email read:users create:users update:users delete:users",
        "iat": now,
        "exp": now + 3600,
    });
    let foreign_rsa = KeyPair::generate(SigningAlg::RS256).unwrap();
    let foreign_ec = KeyPair::generate(SigningAlg::ES256).unwrap();
    let mut out = Vec::new();
    let mut add = |name: &str, token: String| out.push((name.to_string(), token));
    for alg in ["none", "None", "NONE", "nOnE"] {
        let header = json!({"alg": alg, "typ": "JWT", "kid": kid});
        add(&format!("alg {alg}"), compact(&header, &claims, b""));
        add(
            &format!("alg {alg} with a signature"),
            compact(&header, &claims, b"sig"),
        );
    }
    let hs_header = json!({"alg": "HS256", "typ": "JWT", "kid": kid});
    let cert = STANDARD.decode(ours["x5c"][0].as_str().unwrap()).unwrap();
    let n = URL_SAFE_NO_PAD.decode(ours["n"].as_str().unwrap()).unwrap();
    let jwk_text = ours.to_string();
    let pem = format!(
        "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
        ours["x5c"][0].as_str().unwrap()
    );
    for (name, secret) in [
        ("certificate DER", cert.as_slice()),
        ("modulus", n.as_slice()),
        ("JWK JSON", jwk_text.as_bytes()),
        ("certificate PEM", pem.as_bytes()),
    ] {
        add(
            &format!("HS256 keyed with our {name}"),
            hs256(secret, &hs_header, &claims),
        );
    }
    let no_kid_hs = json!({"alg": "HS256", "typ": "JWT"});
    add(
        "HS256 without kid",
        hs256(jwk_text.as_bytes(), &no_kid_hs, &claims),
    );
    let foreign_jwk = foreign_rsa.public_jwk();
    for (name, header) in [
        (
            "foreign key with our kid",
            json!({"alg": "RS256", "kid": kid}),
        ),
        (
            "foreign key, embedded jwk",
            json!({"alg": "RS256", "kid": kid, "jwk": foreign_jwk}),
        ),
        (
            "foreign key, own kid and jwk",
            json!({"alg": "RS256", "kid": foreign_rsa.kid(), "jwk": foreign_jwk}),
        ),
        (
            "foreign key, jku",
            json!({"alg": "RS256", "kid": foreign_rsa.kid(), "jku": "http://127.0.0.1:9/jwks.json"}),
        ),
        (
            "foreign key, x5u",
            json!({"alg": "RS256", "kid": kid, "x5u": "http://127.0.0.1:9/cert.pem"}),
        ),
        ("foreign key, no kid", json!({"alg": "RS256"})),
        (
            "foreign key, PS256 header",
            json!({"alg": "PS256", "kid": kid}),
        ),
    ] {
        add(name, signed_by(&foreign_rsa, &header, &claims));
    }
    add(
        "foreign EC key with our kid",
        signed_by(&foreign_ec, &json!({"alg": "ES256", "kid": kid}), &claims),
    );
    // A real token with fewer scopes, then tampered with.
    let real = m.token_with(&["read:clients"]).await;
    let parts: Vec<&str> = real.split('.').collect();
    let real_header: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).unwrap()).unwrap();
    let mut escalated: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
    escalated["scope"] = json!("read:users create:users");
    let tampered = format!(
        "{}.{}.{}",
        parts[0],
        b64(escalated.to_string().as_bytes()),
        parts[2]
    );
    add("real token, escalated scope", tampered);
    let mut none_header = real_header.clone();
    none_header["alg"] = json!("none");
    add(
        "real token re-labelled alg none",
        format!("{}.{}.", b64(none_header.to_string().as_bytes()), parts[1]),
    );
    add(
        "real token without signature",
        format!("{}.{}.", parts[0], parts[1]),
    );
    let mut crit = real_header.clone();
    crit["crit"] = json!(["exp"]);
    add(
        "crit header",
        format!(
            "{}.{}.{}",
            b64(crit.to_string().as_bytes()),
            parts[1],
            parts[2]
        ),
    );
    // Absurd claims under a forged signature: the "expired?" check reads
    // unverified claims, so they must not break it.
    for (name, exp) in [
        ("exp i64::MIN", json!(i64::MIN)),
        ("exp i64::MAX", json!(i64::MAX)),
        ("exp 1e300", json!(1e300)),
        ("exp -1", json!(-1)),
        ("exp a string", json!("tomorrow")),
    ] {
        let mut c = claims.clone();
        c["exp"] = exp;
        add(
            name,
            signed_by(&foreign_rsa, &json!({"alg": "RS256", "kid": kid}), &c),
        );
    }
    for (name, junk) in [
        ("empty parts", "..".to_string()),
        ("four parts", format!("{real}.x")),
        ("not base64", "%%%.&&&.***".to_string()),
        ("big header", format!("{}.e30.", b64(&[b'{'; 6_000]))),
    ] {
        add(name, junk);
    }
    out
}

#[tokio::test]
async fn forged_tokens_are_refused_at_userinfo_and_the_management_api() {
    let (m, s) = start().await;
    let server = &m.server;
    let forged_tokens = forged_tokens(&m).await;
    let before = snapshot(server.store.as_ref()).await;
    for (case, forged) in forged_tokens {
        let reply = server
            .post_form(
                "/oauth/introspect",
                &[
                    ("client_id", &s.web_id),
                    ("client_secret", &s.web_secret),
                    ("token", &forged),
                ],
            )
            .await;
        assert_eq!(reply.status, 200, "introspect, {case}: {}", reply.text);
        assert_eq!(reply.body, json!({"active": false}), "introspect, {case}");
        let reply = send(
            server,
            Method::GET,
            "/userinfo",
            None,
            String::new(),
            Some(&forged),
        )
        .await;
        assert_eq!(reply.status, 401, "userinfo, {case}: {}", reply.text);
        assert_eq!(reply.body["error"], "invalid_token", "userinfo, {case}");
        for (method, path, body) in [
            (Method::GET, "/api/v2/users", String::new()),
            (
                Method::POST,
                "/api/v2/users",
                json!({"email": "forged@example.com", "password": PASSWORD, "connection": "Username-Password-Authentication"}).to_string(),
            ),
            (Method::DELETE, "/api/v2/clients/spa-client", String::new()),
        ] {
            let reply = send(server, method.clone(), path, JSON, body, Some(&forged)).await;
            assert_mgmt_shape(&reply, 401, &format!("{method} {path}, {case}"));
            assert_eq!(reply.body["errorCode"], "invalid_token", "{case}");
        }
    }
    assert_eq!(before, snapshot(server.store.as_ref()).await);
    m.server.stop().await;
}

/// The value of the hidden `csrf` field of a page.
fn csrf_of(html: &str) -> String {
    let start = html.find("name=\"csrf\" value=\"").expect("csrf field") + 19;
    html[start..start + 43].to_string()
}

#[tokio::test]
async fn injection_strings_in_login_and_signup_are_inert() {
    let (m, s) = start().await;
    let server = &m.server;
    let browser = server.browser();
    let q = spa_query(&s, &[]);
    let page = browser
        .get(server.url(&format!("/u/login?{q}")))
        .send()
        .await
        .unwrap();
    let csrf = csrf_of(&page.text().await.unwrap());
    let users_before = server.store.users(Page::ALL).await.unwrap().len();
    let post = |path: &'static str, fields: Vec<(&'static str, String)>| {
        let browser = browser.clone();
        let url = server.url(path);
        async move {
            let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let resp = browser
                .post(url)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(encode(&pairs))
                .send()
                .await
                .unwrap_or_else(|e| panic!("POST {path}: {e}"));
            Reply::read(resp).await
        }
    };
    for hostile in INJECTIONS {
        let suffixed = format!("alice@example.com{hostile}");
        let fields = |email: &str, password: &str, authorize: &str| {
            vec![
                ("csrf", csrf.clone()),
                ("authorize", authorize.to_string()),
                ("email", email.to_string()),
                ("password", password.to_string()),
            ]
        };
        for (field, values) in [
            ("email", fields(hostile, PASSWORD, &q)),
            ("email suffix", fields(&suffixed, PASSWORD, &q)),
            ("password", fields("alice@example.com", hostile, &q)),
            (
                "authorize",
                fields("alice@example.com", "wrong password", hostile),
            ),
        ] {
            let case = format!("login {field} = {hostile:?}");
            let reply = post("/u/login", values).await;
            assert_page(&reply, &case);
            assert!(reply.status.is_client_error(), "{case}: {}", reply.status);
            assert!(
                reply
                    .headers
                    .get("set-cookie")
                    .is_none_or(|c| !c.to_str().unwrap_or("").starts_with("gatehouse_session=")),
                "{case}: logged in"
            );
        }
        let mut forged = fields("alice@example.com", PASSWORD, &q);
        forged[0].1 = hostile.to_string();
        let reply = post("/u/login", forged).await;
        assert!(reply.status.is_client_error(), "csrf = {hostile:?}");
        assert_page(&reply, "csrf");
        for (field, values) in [
            ("email", fields(hostile, PASSWORD, &q)),
            ("authorize", fields("x", PASSWORD, hostile)),
        ] {
            let case = format!("signup {field} = {hostile:?}");
            let reply = post("/u/signup", values).await;
            assert_page(&reply, &case);
            assert!(reply.status.is_client_error(), "{case}: {}", reply.status);
        }
    }
    // The right password with a hostile `authorize` or `user_code`: logged
    // in, then an error page or a redirect to our own pages only. A login
    // ends the form's CSRF binding, so each attempt starts a new browser.
    for hostile in INJECTIONS
        .iter()
        .copied()
        .chain(["\r\nX-Injected: yes", "//evil.example/"])
    {
        for (authorize, user_code) in [(hostile, ""), ("", hostile)] {
            let attempt = server.browser();
            let page = attempt
                .get(server.url(&format!("/u/login?{q}")))
                .send()
                .await
                .unwrap();
            let fresh = csrf_of(&page.text().await.unwrap());
            let pairs = [
                ("csrf", fresh.as_str()),
                ("authorize", authorize),
                ("user_code", user_code),
                ("email", "bob@example.com"),
                ("password", PASSWORD),
            ];
            let resp = attempt
                .post(server.url("/u/login"))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(encode(&pairs))
                .send()
                .await
                .unwrap();
            let reply = Reply::read(resp).await;
            let case = format!("login, then authorize={authorize:?} user_code={user_code:?}");
            assert_page(&reply, &case);
            assert_ne!(
                reply.status, 403,
                "{case}: the form was fresh: {}",
                reply.text
            );
        }
    }
    // A syntactically valid email carrying the strings is stored literally.
    let literal = "o'r1=1--{{\"gh\"~\"tpl\"}}<b>@example.com";
    let fields = vec![
        ("csrf", csrf.clone()),
        ("authorize", q.clone()),
        ("email", literal.to_string()),
        ("password", PASSWORD.to_string()),
    ];
    let reply = post("/u/signup", fields).await;
    assert_page(&reply, "signup with a literal");
    let users = server.store.users(Page::ALL).await.unwrap();
    assert_eq!(reply.status, 302, "{}", reply.text);
    assert_eq!(users.len(), users_before + 1);
    assert!(users
        .iter()
        .any(|u| u.user.email.as_deref() == Some(literal)));
    m.server.stop().await;
}

#[tokio::test]
async fn injection_strings_at_the_token_endpoint_are_oauth_errors() {
    let (m, s) = start().await;
    let server = &m.server;
    let before = snapshot(server.store.as_ref()).await;
    let grants: Vec<(&str, Vec<(&str, &str)>)> = vec![
        (
            "authorization_code",
            vec![
                ("client_id", &s.spa_id),
                ("code", "c"),
                ("code_verifier", VERIFIER),
                ("redirect_uri", "r"),
            ],
        ),
        (
            "refresh_token",
            vec![
                ("client_id", &s.spa_id),
                ("refresh_token", "rt"),
                ("scope", "openid"),
            ],
        ),
        (
            "client_credentials",
            vec![
                ("client_id", &s.m2m_id),
                ("client_secret", &s.m2m_secret),
                ("audience", "https://nope.example/"),
                ("scope", "x"),
            ],
        ),
        (
            "password",
            vec![
                ("client_id", &s.web_id),
                ("client_secret", &s.web_secret),
                ("username", "nobody@example.com"),
                ("password", "x"),
                ("audience", "https://nope.example/"),
                ("scope", "openid"),
            ],
        ),
        (
            "http://auth0.com/oauth/grant-type/password-realm",
            vec![
                ("client_id", &s.web_id),
                ("client_secret", &s.web_secret),
                ("username", "nobody@example.com"),
                ("password", "x"),
                ("realm", "nope"),
            ],
        ),
        (
            "urn:ietf:params:oauth:grant-type:device_code",
            vec![("client_id", &s.spa_id), ("device_code", "dc")],
        ),
        ("' OR 1=1 --", vec![("client_id", &s.spa_id)]),
    ];
    for (grant, params) in &grants {
        for i in 0..params.len() {
            for hostile in INJECTIONS
                .iter()
                .copied()
                .chain(["A".repeat(20_000).as_str()])
            {
                let mut pairs = vec![("grant_type", *grant)];
                pairs.extend(params.iter().copied());
                let name = pairs[i + 1].0;
                pairs[i + 1].1 = hostile;
                let case = format!("{grant}: {name} = {:?}", &hostile[..hostile.len().min(30)]);
                let reply = token(server, &pairs).await;
                assert_oauth_error(&reply, &case);
                // JSON bodies reach the same parser; non-strings are refused.
                let mut object = serde_json::Map::new();
                for (k, v) in &pairs {
                    object.insert(k.to_string(), json!(v));
                }
                object.insert(name.to_string(), json!([hostile]));
                let reply = send(
                    server,
                    Method::POST,
                    "/oauth/token",
                    JSON,
                    Value::Object(object).to_string(),
                    None,
                )
                .await;
                assert_eq!(reply.status, 400, "{case} as an array: {}", reply.text);
                assert_eq!(reply.body["error"], "invalid_request", "{case}");
            }
        }
    }
    // A real user and password with SQL around the username logs in nobody.
    for hostile in INJECTIONS {
        let username = format!("alice@example.com{hostile}");
        let reply = token(
            server,
            &[
                ("grant_type", "password"),
                ("client_id", &s.web_id),
                ("client_secret", &s.web_secret),
                ("username", &username),
                ("password", PASSWORD),
            ],
        )
        .await;
        assert_no_tokens(&reply, &username);
    }
    assert_eq!(before, snapshot(server.store.as_ref()).await);
    m.server.stop().await;
}

#[tokio::test]
async fn injection_strings_in_the_management_api_are_stored_literally_or_refused() {
    let (m, _) = start().await;
    let server = &m.server;
    let originals: Vec<String> = (server.store.users(Page::ALL).await.unwrap())
        .into_iter()
        .map(|u| u.user.user_id)
        .collect();
    // Search first, while no user carries the strings: nothing may match.
    for hostile in INJECTIONS {
        for q in [
            hostile.to_string(),
            format!("email:\"{}\"", hostile.replace('"', "")),
            format!("name:{}*", hostile.replace([' ', '"', '*'], "")),
            format!("{hostile} OR email:*"),
        ] {
            let path = format!("/users?{}", encode(&[("q", &q), ("search_engine", "v3")]));
            let reply = m.get(&path).await;
            let case = format!("search q={q:?}");
            assert_contained(&reply, &case);
            match reply.status.as_u16() {
                200 => {
                    let found = reply.body.as_array().expect("a list");
                    assert!(found.is_empty(), "{case}: {found:?}");
                }
                _ => assert_mgmt_shape(&reply, 400, &case),
            }
        }
    }
    let mut created = 0;
    for (i, hostile) in INJECTIONS.iter().enumerate() {
        let email = format!("inj{i}@example.com");
        let body = json!({
            "email": email,
            "password": format!("{hostile}-long-enough-password"),
            "connection": "Username-Password-Authentication",
            "name": hostile,
            "nickname": hostile,
            "given_name": hostile,
            "family_name": hostile,
            "user_metadata": Value::Object([(hostile.to_string(), json!(hostile))].into_iter().collect()),
            "app_metadata": {"k": hostile},
        });
        let reply = m.post("/users", body).await;
        let case = format!("create a user with {hostile:?}");
        assert_contained(&reply, &case);
        match reply.status.as_u16() {
            201 => {
                created += 1;
                assert_eq!(reply.body["name"], *hostile, "{case}");
                assert_eq!(reply.body["nickname"], *hostile, "{case}");
                assert_eq!(reply.body["user_metadata"][*hostile], *hostile, "{case}");
                let id = reply.body["user_id"].as_str().unwrap();
                let stored = server.store.user(id).await.unwrap().unwrap().user;
                assert_eq!(stored.name.as_deref(), Some(*hostile), "{case}");
                // Exactly this user, by an exact search on the stored name.
                let q = format!("email:\"{email}\"");
                let found = m.get(&format!("/users?{}", encode(&[("q", &q)]))).await;
                assert_eq!(found.body.as_array().map(Vec::len), Some(1), "{case}");
            }
            _ => assert_mgmt_shape(&reply, 400, &case),
        }
        // As the email, the connection, an id in the path, a role name.
        for (field, body) in [
            (
                "email",
                json!({"email": hostile, "password": PASSWORD, "connection": "Username-Password-Authentication"}),
            ),
            (
                "connection",
                json!({"email": format!("c{i}@example.com"), "password": PASSWORD, "connection": hostile}),
            ),
        ] {
            let reply = m.post("/users", body).await;
            assert_mgmt_shape(&reply, 400, &format!("user {field} = {hostile:?}"));
        }
        let id: String = form_urlencoded::byte_serialize(hostile.as_bytes()).collect();
        for path in [
            format!("/users/{id}"),
            format!("/roles/{id}"),
            format!("/clients/{id}"),
        ] {
            let reply = m.patch(&path, json!({"name": hostile})).await;
            assert_contained(&reply, &path);
            assert!(reply.status.is_client_error(), "{path}: {}", reply.status);
            let reply = m.delete(&path).await;
            assert_contained(&reply, &path);
        }
        let reply = m
            .post(
                "/roles",
                json!({"name": format!("r{i}{hostile}"), "description": hostile}),
            )
            .await;
        assert_contained(&reply, "role");
        if reply.status == 200 || reply.status == 201 {
            assert_eq!(reply.body["description"], *hostile);
        }
    }
    // Only the string with a NUL may be refused.
    assert!(created >= INJECTIONS.len() - 1, "{created} created");
    for id in &originals {
        assert!(
            server.store.user(id).await.unwrap().is_some(),
            "{id} survives"
        );
    }
    m.server.stop().await;
}

#[tokio::test]
async fn a_redirect_uri_that_only_starts_with_a_callback_is_refused() {
    let (m, s) = start().await;
    let server = &m.server;
    for bad in [
        format!("{SPA_ORIGIN}/callback.evil.example"),
        format!("{SPA_ORIGIN}/callback@evil.example"),
        format!("{SPA_ORIGIN}/callback/../../evil"),
        format!("{SPA_ORIGIN}/callback%0d%0a"),
        format!("{SPA_ORIGIN}/callback\\@evil.example"),
    ] {
        let q = spa_query(&s, &[("redirect_uri", &bad)]);
        let reply = send(
            server,
            Method::GET,
            &format!("/authorize?{q}"),
            None,
            String::new(),
            None,
        )
        .await;
        assert_eq!(reply.status, 400, "{bad}");
        assert!(reply.header("location").is_none(), "{bad}");
    }
    m.server.stop().await;
}

/// A client's own signed assertion with absurd times (`iat` of `i64::MIN`,
/// `exp` of `i64::MAX`) is refused as `invalid_client`, not a panic (an
/// `iat` in the future is not checked; `exp` bounds the assertion's life).
#[tokio::test]
async fn client_assertions_with_absurd_times_are_refused() {
    let (m, s) = start().await;
    let server = &m.server;
    let key = KeyPair::generate(SigningAlg::RS256).unwrap();
    let mut m2m = server.store.client(&s.m2m_id).await.unwrap().unwrap();
    m2m.client.token_endpoint_auth_method =
        gatehouse_core::model::TokenEndpointAuthMethod::PrivateKeyJwt;
    m2m.client.client_authentication_keys = vec![gatehouse_core::model::ClientAuthenticationKey {
        kid: Some(key.kid().into()),
        jwk: key.public_jwk(),
    }];
    server.store.update_client(&m2m).await.unwrap();
    let now = server.state.now();
    let token_url = format!("{}oauth/token", server.issuer);
    for (i, (iat, exp)) in [
        (json!(i64::MIN), json!(now + 60)),
        (json!(now), json!(i64::MAX)),
        (json!(i64::MIN), json!(i64::MAX)),
    ]
    .into_iter()
    .enumerate()
    {
        let claims = json!({
            "iss": s.m2m_id, "sub": s.m2m_id, "aud": token_url,
            "iat": iat, "exp": exp, "jti": format!("absurd-{i}"),
        });
        let assertion = gatehouse_core::jose::sign_jwt(&key, "JWT", &claims).unwrap();
        let reply = token(
            server,
            &[
                ("grant_type", "client_credentials"),
                ("audience", API),
                ("client_assertion", &assertion),
                (
                    "client_assertion_type",
                    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                ),
            ],
        )
        .await;
        let case = format!("iat {iat}, exp {exp}");
        assert_oauth_error(&reply, &case);
        assert_eq!(reply.status, 401, "{case}: {}", reply.text);
        assert_eq!(reply.body["error"], "invalid_client", "{case}");
    }
    m.server.stop().await;
}

/// Lifetimes an administrator can set on a client without an upper bound
/// (ID token, refresh token) never overflow the expiry arithmetic: the
/// grant either works or the setting was refused, never a panic.
#[tokio::test]
async fn absurd_client_lifetimes_never_break_token_issuance() {
    let (m, s) = start().await;
    let server = &m.server;
    for lifetime in [i64::MAX as u64, u64::MAX, (i64::MAX / 2) as u64] {
        let patch = json!({
            "jwt_configuration": {"lifetime_in_seconds": lifetime, "alg": "RS256"},
            "refresh_token": {
                "rotation_type": "rotating",
                "expiration_type": "expiring",
                "leeway": 0,
                "token_lifetime": lifetime,
                "infinite_token_lifetime": false,
                "idle_token_lifetime": lifetime,
                "infinite_idle_token_lifetime": false
            }
        });
        let reply = m.patch(&format!("/clients/{}", s.web_id), patch).await;
        let case = format!("lifetime {lifetime}");
        assert_contained(&reply, &case);
        if reply.status != 200 {
            assert_mgmt_shape(&reply, 400, &case);
            continue;
        }
        let reply = token(
            server,
            &[
                ("grant_type", "password"),
                ("client_id", &s.web_id),
                ("client_secret", &s.web_secret),
                ("username", "alice@example.com"),
                ("password", PASSWORD),
                ("audience", API),
                ("scope", "openid offline_access"),
            ],
        )
        .await;
        assert_eq!(reply.status, 200, "{case}: {}", reply.text);
        let rt = reply.body["refresh_token"].as_str().expect("refresh_token");
        let again = token(
            server,
            &[
                ("grant_type", "refresh_token"),
                ("client_id", &s.web_id),
                ("client_secret", &s.web_secret),
                ("refresh_token", rt),
            ],
        )
        .await;
        assert_eq!(again.status, 200, "{case}: {}", again.text);
    }
    m.server.stop().await;
}

/// Extreme pagination values on every list of the Management API are a 200
/// or a 400 in Auth0's shape, never a 5xx.
#[tokio::test]
async fn extreme_pagination_is_answered_or_refused() {
    let (m, _) = start().await;
    let lists = [
        "/users",
        "/roles",
        "/clients",
        "/client-grants",
        "/resource-servers",
        "/logs",
        "/keys/signing",
        "/roles/rol_reader/users",
        "/roles/rol_reader/permissions",
    ];
    let values = [
        "page=9223372036854775807&per_page=50",
        "page=18446744073709551615&per_page=1",
        "page=18446744073709551616",
        "page=-1",
        "per_page=0",
        "per_page=9223372036854775807",
        "page=1e3",
        "from=9223372036854775807&take=50",
        "from=%FF&take=-1",
        "take=18446744073709551615",
        "include_totals=maybe",
        "q=%00",
        "sort=email:2",
    ];
    for list in lists {
        for query in values {
            let path = format!("{list}?{query}");
            let reply = m.get(&path).await;
            assert_contained(&reply, &path);
            if reply.status != 200 {
                assert!(reply.status.is_client_error(), "{path}: {}", reply.status);
                assert!(
                    reply.body["errorCode"].is_string(),
                    "{path}: {}",
                    reply.text
                );
            }
        }
    }
    m.server.stop().await;
}

/// With a real session and a valid CSRF token, hostile `authorize`,
/// `decision` and `user_code` values at the consent and activation pages
/// are error pages (or a decline), never a redirect elsewhere or a 5xx.
#[tokio::test]
async fn hostile_consent_and_activation_with_a_real_session() {
    let (m, s) = start().await;
    let server = &m.server;
    let browser = server.browser();
    let q = spa_query(&s, &[]);
    let page = browser
        .get(server.url(&format!("/u/login?{q}")))
        .send()
        .await
        .unwrap();
    let csrf = csrf_of(&page.text().await.unwrap());
    let post = |path: &'static str, pairs: Vec<(&'static str, String)>| {
        let browser = browser.clone();
        let url = server.url(path);
        async move {
            let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let resp = browser
                .post(url)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(encode(&pairs))
                .send()
                .await
                .unwrap_or_else(|e| panic!("POST {path}: {e}"));
            Reply::read(resp).await
        }
    };
    let login = post(
        "/u/login",
        vec![
            ("csrf", csrf.clone()),
            ("authorize", q.clone()),
            ("email", "bob@example.com".into()),
            ("password", PASSWORD.into()),
        ],
    )
    .await;
    assert_contained(&login, "login");
    assert!(login.status.is_redirection(), "{}", login.text);
    let before = snapshot(server.store.as_ref()).await;
    let evil = encode(&[
        ("client_id", &s.spa_id),
        ("response_type", "code"),
        ("redirect_uri", "https://evil.example/callback"),
        ("scope", "openid"),
    ]);
    let hostile: Vec<String> = INJECTIONS
        .iter()
        .map(|h| h.to_string())
        .chain([evil, "A".repeat(20_000), String::new()])
        .collect();
    for value in &hostile {
        let shown: String = value.chars().take(40).collect();
        for decision in ["accept", "deny", value.as_str()] {
            let reply = post(
                "/u/consent",
                vec![
                    ("csrf", csrf.clone()),
                    ("authorize", value.clone()),
                    ("decision", decision.to_string()),
                ],
            )
            .await;
            assert_page(
                &reply,
                &format!("consent authorize={shown:?} decision={decision:.20}"),
            );
        }
        let reply = post(
            "/u/consent",
            vec![
                ("csrf", csrf.clone()),
                ("authorize", q.clone()),
                ("decision", value.clone()),
            ],
        )
        .await;
        assert_page(&reply, &format!("consent decision={shown:?}"));
        for decision in ["lookup", "approve", "deny", value.as_str()] {
            let reply = post(
                "/activate",
                vec![
                    ("csrf", csrf.clone()),
                    ("user_code", value.clone()),
                    ("decision", decision.to_string()),
                ],
            )
            .await;
            let case = format!("activate user_code={shown:?} decision={decision:.20}");
            assert_page(&reply, &case);
            assert!(
                reply
                    .header("location")
                    .is_none_or(|l| l.starts_with("/activate")),
                "{case}"
            );
        }
    }
    assert_eq!(before, snapshot(server.store.as_ref()).await);
    m.server.stop().await;
}

/// A device code belongs to the client that started the flow: another
/// client polling it gets an error and does not disturb the flow; hostile
/// scope and audience values at `/oauth/device/code` are OAuth errors.
#[tokio::test]
async fn device_codes_are_bound_to_their_client() {
    let (m, s) = start().await;
    let server = &m.server;
    let started = server
        .post_form(
            "/oauth/device/code",
            &[("client_id", &s.spa_id), ("scope", "openid")],
        )
        .await;
    assert_eq!(started.status, 200, "{}", started.text);
    let device_code = started.body["device_code"].as_str().unwrap();
    let grant = "urn:ietf:params:oauth:grant-type:device_code";
    let other = token(
        server,
        &[
            ("grant_type", grant),
            ("client_id", &s.web_id),
            ("client_secret", &s.web_secret),
            ("device_code", device_code),
        ],
    )
    .await;
    assert_oauth_error(&other, "device code polled by another client");
    assert_ne!(
        other.body["error"], "authorization_pending",
        "{}",
        other.text
    );
    let own = token(
        server,
        &[
            ("grant_type", grant),
            ("client_id", &s.spa_id),
            ("device_code", device_code),
        ],
    )
    .await;
    assert_eq!(own.body["error"], "authorization_pending", "{}", own.text);
    for hostile in INJECTIONS {
        for field in ["scope", "audience"] {
            let reply = server
                .post_form(
                    "/oauth/device/code",
                    &[("client_id", &s.spa_id), (field, hostile)],
                )
                .await;
            assert_contained(&reply, &format!("device code {field}={hostile:?}"));
            if reply.status != 200 {
                assert_oauth_error(&reply, &format!("device code {field}={hostile:?}"));
            }
        }
    }
    m.server.stop().await;
}
