//! Every answer names its log event (`Gatehouse-Log-Id`), and every refusal's
//! event explains itself (`details.refusal`: the rule, a sentence naming the
//! client and the values, the fix), while the wire answer stays Auth0's.

use crate::authorize::{encode, spa_query, VERIFIER};
use crate::fixtures::{seed, Seeded, API, OTHER_API, PASSWORD, SPA_ORIGIN};
use crate::management::Mgmt;
use crate::support::Reply;
use base64::Engine;
use gatehouse_core::model::RotationType;
use gatehouse_core::pkce::s256_challenge;
use gatehouse_core::secret::hash_token;
use gatehouse_store::AuthorizationCode;
use gatehouse_store::LogEvent;
use serde_json::Value;

async fn start() -> (Mgmt, Seeded) {
    let mgmt = Mgmt::start().await;
    let seeded = seed(mgmt.server.store.as_ref()).await;
    (mgmt, seeded)
}

/// `POST /oauth/token` with a form body and extra headers.
async fn token(mgmt: &Mgmt, pairs: &[(&str, &str)], headers: &[(&str, &str)]) -> Reply {
    let mut req = mgmt
        .server
        .http
        .post(mgmt.server.url("/oauth/token"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(encode(pairs));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    Reply::read(req.send().await.unwrap()).await
}

/// A GET without following redirects.
async fn get(mgmt: &Mgmt, path_and_query: &str) -> Reply {
    let resp = mgmt
        .server
        .browser()
        .get(mgmt.server.url(path_and_query))
        .send()
        .await
        .unwrap();
    Reply::read(resp).await
}

fn log_id(reply: &Reply) -> String {
    reply
        .header("gatehouse-log-id")
        .unwrap_or_else(|| panic!("no Gatehouse-Log-Id on {reply:?}"))
        .to_string()
}

/// The event through the Management API (`details`) and the store (columns).
async fn event(mgmt: &Mgmt, reply: &Reply) -> (Value, LogEvent) {
    let id = log_id(reply);
    let api = mgmt.get(&format!("/logs/{id}")).await;
    assert_eq!(api.status, 200, "{:?}", api.body);
    let stored = mgmt.server.store.log_event(&id).await.unwrap().unwrap();
    explained_as_stored(mgmt, &id, &api.body).await;
    (api.body, stored)
}

/// `gatehouse explain <log id>` tells every event's story: a refusal's
/// explanation and fix word for word, a failure as refused, and the trace as
/// stored.
async fn explained_as_stored(mgmt: &Mgmt, id: &str, api: &Value) {
    use gatehouse_core::explain::{InputKind, Tone};
    let e = gatehouse_server::explain::explain(&mgmt.server.state, id)
        .await
        .unwrap_or_else(|err| panic!("explain {id}: {err:?}"));
    assert_eq!(e.input, InputKind::LogId);
    let stored_refusal = &api["details"]["refusal"];
    if let Some(explanation) = stored_refusal["explanation"].as_str() {
        let line = e
            .lines
            .iter()
            .find(|l| l.text.contains(explanation))
            .unwrap_or_else(|| panic!("no line tells {explanation:?}: {:#?}", e.lines));
        assert_eq!(line.fix.as_deref(), stored_refusal["fix"].as_str());
    }
    let failed = gatehouse_core::explain::is_failure(api["type"].as_str().unwrap_or_default());
    let refused_line = e.lines.iter().any(|l| l.tone == Tone::Refused);
    assert_eq!(failed, refused_line, "{}: {:#?}", api["type"], e.lines);
    assert_eq!(
        e.trace.as_ref(),
        api["details"].get("trace").filter(|t| !t.is_null())
    );
}

fn refusal(details: &Value) -> &Value {
    &details["details"]["refusal"]
}

fn assert_words(text: &Value, words: &[&str]) {
    let text = text.as_str().unwrap_or_default();
    for w in words {
        assert!(text.contains(w), "{w:?} not in {text:?}");
    }
}

fn jwt_claims(jwt: &str) -> Value {
    let payload = jwt.split('.').nth(1).unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

#[tokio::test]
async fn grant_type_not_enabled_is_explained() {
    let (mgmt, s) = start().await;
    let reply = token(
        &mgmt,
        &[
            ("grant_type", "password"),
            ("client_id", &s.m2m_id),
            ("client_secret", &s.m2m_secret),
            ("username", "alice@example.com"),
            ("password", PASSWORD),
        ],
        &[],
    )
    .await;
    assert_eq!(reply.status, 403);
    assert_eq!(reply.body["error"], "unauthorized_client");
    assert_eq!(
        reply.body["error_description"],
        "Grant type 'password' not allowed for the client."
    );
    let (api, stored) = event(&mgmt, &reply).await;
    assert_eq!(api["type"], "fepft");
    assert_eq!(refusal(&api)["rule"], "grant_type_not_enabled");
    assert_words(&refusal(&api)["explanation"], &[&s.m2m_id, "password"]);
    assert_words(&refusal(&api)["fix"], &["Enable the password grant type"]);
    assert_eq!(
        stored.description,
        "Grant type 'password' not allowed for the client."
    );
    assert_eq!(stored.client_name.as_deref(), Some("Machine"));
}

#[tokio::test]
async fn client_credentials_without_client_grant_is_explained() {
    let (mgmt, s) = start().await;
    let reply = token(
        &mgmt,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &s.m2m_id),
            ("client_secret", &s.m2m_secret),
            ("audience", OTHER_API),
            ("scope", "myscope"),
        ],
        &[],
    )
    .await;
    assert_eq!(reply.status, 403);
    assert_eq!(reply.body["error"], "access_denied");
    assert!(reply.body["error_description"]
        .as_str()
        .unwrap()
        .starts_with("Client is not authorized to access \"https://other.example/\"."));
    let (api, stored) = event(&mgmt, &reply).await;
    assert_eq!(api["type"], "feccft");
    assert_eq!(refusal(&api)["rule"], "missing_client_grant");
    assert_words(&refusal(&api)["explanation"], &[&s.m2m_id, OTHER_API]);
    assert_words(
        &refusal(&api)["fix"],
        &["Authorize application Machine on API", OTHER_API, "myscope"],
    );
    assert!(api["details"]["trace"]["scopes"].is_array());
    assert_eq!(stored.audience.as_deref(), Some(OTHER_API));
    assert_eq!(stored.scope.as_deref(), Some("myscope"));
}

#[tokio::test]
async fn unknown_audience_names_the_closest_identifier() {
    let (mgmt, s) = start().await;
    let typo = API.trim_end_matches('/');
    let reply = token(
        &mgmt,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &s.m2m_id),
            ("client_secret", &s.m2m_secret),
            ("audience", typo),
        ],
        &[],
    )
    .await;
    assert_eq!(reply.status, 403);
    assert_eq!(reply.body["error"], "access_denied");
    assert_eq!(
        reply.body["error_description"],
        format!("Service not found: {typo}")
    );
    let (api, _) = event(&mgmt, &reply).await;
    assert_eq!(refusal(&api)["rule"], "unknown_audience");
    assert_words(
        &refusal(&api)["explanation"],
        &[
            &s.m2m_id,
            typo,
            &format!("closest known API identifier is \"{API}\""),
        ],
    );
    assert_words(&refusal(&api)["fix"], &[API]);
}

#[tokio::test]
async fn offline_access_on_an_api_without_it_is_on_the_success_event() {
    let (mgmt, s) = start().await;
    let reply = token(
        &mgmt,
        &[
            ("grant_type", "password"),
            ("client_id", &s.spa_id),
            ("username", "alice@example.com"),
            ("password", PASSWORD),
            ("audience", OTHER_API),
            ("scope", "openid offline_access"),
        ],
        &[],
    )
    .await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    assert!(reply.body.get("refresh_token").is_none());
    let (api, _) = event(&mgmt, &reply).await;
    assert_eq!(api["type"], "sepft");
    assert_eq!(refusal(&api)["rule"], "offline_access_not_allowed");
    let traced = api["details"]["trace"]["scopes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["scope"] == "offline_access")
        .cloned()
        .unwrap();
    assert_eq!(traced["rule"], "offline_access_not_allowed");
}

#[tokio::test]
async fn cross_origin_token_call_from_an_unlisted_origin_records_fco() {
    let (mgmt, s) = start().await;
    let pairs = [
        ("grant_type", "client_credentials"),
        ("client_id", s.m2m_id.as_str()),
        ("client_secret", s.m2m_secret.as_str()),
        ("audience", API),
    ];
    let reply = token(&mgmt, &pairs, &[("origin", "https://evil.example")]).await;
    assert_eq!(reply.status, 200);
    assert!(reply.header("access-control-allow-origin").is_none());
    let (api, stored) = event(&mgmt, &reply).await;
    assert_eq!(api["type"], "fco");
    assert_eq!(refusal(&api)["rule"], "origin_not_allowed");
    assert_words(
        &refusal(&api)["explanation"],
        &[&s.m2m_id, "https://evil.example"],
    );
    assert_words(
        &refusal(&api)["fix"],
        &[
            "If https://evil.example is your own application",
            "never add one you do not own",
        ],
    );
    assert_eq!(stored.description, "Failed by CORS");

    // An allowed origin can read the header.
    let ok = token(
        &mgmt,
        &[
            ("grant_type", "password"),
            ("client_id", &s.spa_id),
            ("username", "alice@example.com"),
            ("password", PASSWORD),
        ],
        &[("origin", SPA_ORIGIN)],
    )
    .await;
    assert_eq!(ok.status, 200);
    assert_eq!(ok.header("access-control-allow-origin"), Some(SPA_ORIGIN));
    assert_eq!(
        ok.header("access-control-expose-headers"),
        Some("Gatehouse-Log-Id")
    );
    let (api, _) = event(&mgmt, &ok).await;
    assert_eq!(api["type"], "sepft");
}

/// A rotating SPA with the given leeway, and a refresh token for alice.
async fn refresh_token_for(mgmt: &Mgmt, s: &Seeded, leeway: u64) -> String {
    let store = mgmt.server.store.as_ref();
    let mut spa = store.client(&s.spa_id).await.unwrap().unwrap();
    spa.client.refresh_token.rotation_type = RotationType::Rotating;
    spa.client.refresh_token.leeway = leeway;
    spa.client.grant_types.push("refresh_token".into());
    store.update_client(&spa).await.unwrap();
    let reply = token(
        mgmt,
        &[
            ("grant_type", "password"),
            ("client_id", &s.spa_id),
            ("username", "alice@example.com"),
            ("password", PASSWORD),
            ("audience", API),
            ("scope", "openid offline_access"),
        ],
        &[],
    )
    .await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    reply.body["refresh_token"].as_str().unwrap().to_string()
}

async fn refresh(mgmt: &Mgmt, s: &Seeded, rt: &str) -> Reply {
    token(
        mgmt,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", &s.spa_id),
            ("refresh_token", rt),
        ],
        &[],
    )
    .await
}

#[tokio::test]
async fn refresh_token_reuse_names_the_race_and_the_leeway() {
    let (mgmt, s) = start().await;
    let rt1 = refresh_token_for(&mgmt, &s, 0).await;
    let second = refresh(&mgmt, &s, &rt1).await;
    assert_eq!(second.status, 200);
    let (api, _) = event(&mgmt, &second).await;
    assert_eq!(api["type"], "sertft");
    mgmt.server.clock.advance(7);
    let reused = refresh(&mgmt, &s, &rt1).await;
    assert_eq!(reused.status, 403);
    assert_eq!(reused.body["error"], "invalid_grant");
    assert_eq!(
        reused.body["error_description"],
        "Unknown or invalid refresh token."
    );
    let (api, _) = event(&mgmt, &reused).await;
    assert_eq!(api["type"], "ferrt");
    assert_eq!(refusal(&api)["rule"], "refresh_token_reused");
    assert_words(
        &refusal(&api)["explanation"],
        &[&s.spa_id, "two tabs", "refresh_token.leeway", "7 seconds"],
    );

    // The family is revoked: the newest token is refused too, explained.
    let rt2 = second.body["refresh_token"].as_str().unwrap();
    let revoked = refresh(&mgmt, &s, rt2).await;
    assert_eq!(revoked.status, 403);
    let (api, _) = event(&mgmt, &revoked).await;
    assert_eq!(api["type"], "fertft");
    assert_eq!(refusal(&api)["rule"], "refresh_token_invalid");
    assert_words(&refusal(&api)["explanation"], &["revoked"]);
}

#[tokio::test]
async fn unknown_refresh_token_is_explained() {
    let (mgmt, s) = start().await;
    let reply = refresh(&mgmt, &s, "not-a-refresh-token").await;
    assert_eq!(reply.status, 403);
    assert_eq!(reply.body["error"], "invalid_grant");
    let (api, stored) = event(&mgmt, &reply).await;
    assert_eq!(api["type"], "fertft");
    assert_eq!(refusal(&api)["rule"], "refresh_token_invalid");
    assert_words(&refusal(&api)["explanation"], &[&s.spa_id]);
    assert_eq!(stored.description, "Unknown or invalid refresh token.");
}

#[tokio::test]
async fn client_authentication_failures_record_an_event() {
    let (mgmt, s) = start().await;
    let reply = token(
        &mgmt,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &s.m2m_id),
            ("client_secret", "wrong"),
            ("audience", API),
        ],
        &[],
    )
    .await;
    assert_eq!(reply.status, 401);
    assert_eq!(reply.body["error"], "invalid_client");
    let (api, stored) = event(&mgmt, &reply).await;
    assert_eq!(api["type"], "feccft");
    assert_eq!(api["client_id"], s.m2m_id.as_str());
    assert!(!stored.description.is_empty());
    assert_eq!(stored.audience.as_deref(), Some(API));

    // A malformed request too (no client known).
    let reply = token(&mgmt, &[("grant_type", "nonsense")], &[]).await;
    assert!(reply.status.is_client_error());
    let (api, _) = event(&mgmt, &reply).await;
    assert_eq!(api["type"], "f");
}

#[tokio::test]
async fn logout_return_to_not_allowed_is_explained() {
    let (mgmt, s) = start().await;
    let bad = "https://evil.example/bye";
    let reply = get(
        &mgmt,
        &format!(
            "/v2/logout?{}",
            encode(&[("client_id", &s.web_id), ("returnTo", bad)])
        ),
    )
    .await;
    assert_eq!(reply.status, 400);
    assert!(reply.text.contains("is not defined as a valid URL"));
    let (api, _) = event(&mgmt, &reply).await;
    assert_eq!(api["type"], "flo");
    assert_eq!(refusal(&api)["rule"], "return_to_not_allowed");
    assert_words(&refusal(&api)["explanation"], &[&s.web_id, bad]);
    assert_words(&refusal(&api)["fix"], &["Allowed Logout URLs"]);
}

#[tokio::test]
async fn redirect_uri_not_in_callbacks_is_explained() {
    let (mgmt, s) = start().await;
    let bad = "https://evil.example/callback";
    let reply = get(
        &mgmt,
        &format!("/authorize?{}", spa_query(&s, &[("redirect_uri", bad)])),
    )
    .await;
    assert_eq!(reply.status, 400);
    assert!(reply.header("location").is_none());
    let (api, _) = event(&mgmt, &reply).await;
    assert_eq!(api["type"], "f");
    assert_eq!(refusal(&api)["rule"], "redirect_uri_not_allowed");
    assert_words(&refusal(&api)["explanation"], &[&s.spa_id, bad]);
    assert_words(&refusal(&api)["fix"], &["Allowed Callback URLs"]);
}

#[tokio::test]
async fn web_message_from_an_unlisted_origin_is_explained() {
    let (mgmt, s) = start().await;
    let reply = get(
        &mgmt,
        &format!(
            "/authorize?{}",
            spa_query(&s, &[("prompt", "none"), ("response_mode", "web_message")])
        ),
    )
    .await;
    assert_eq!(reply.status, 400);
    let (api, _) = event(&mgmt, &reply).await;
    assert_eq!(api["type"], "fsa");
    assert_eq!(refusal(&api)["rule"], "origin_not_allowed");
    assert_words(&refusal(&api)["explanation"], &[&s.spa_id, SPA_ORIGIN]);

    // An error redirect names its event too, and the Location is untouched.
    let mut spa = mgmt.server.store.client(&s.spa_id).await.unwrap().unwrap();
    spa.client.web_origins = vec![SPA_ORIGIN.into()];
    mgmt.server.store.update_client(&spa).await.unwrap();
    let reply = get(
        &mgmt,
        &format!("/authorize?{}", spa_query(&s, &[("prompt", "none")])),
    )
    .await;
    assert_eq!(reply.status, 302);
    let location = reply.header("location").unwrap();
    assert!(location.contains("error=login_required"), "{location}");
    assert!(
        !location.contains("log_id") && !location.contains("gatehouse"),
        "{location}"
    );
    let (api, _) = event(&mgmt, &reply).await;
    assert_eq!(api["type"], "fsa");
    assert_eq!(api["description"], "Login required");
}

#[tokio::test]
async fn success_events_carry_auth0_fields_and_the_jwt_jti() {
    let (mgmt, s) = start().await;
    let reply = token(
        &mgmt,
        &[
            ("grant_type", "password"),
            ("client_id", &s.spa_id),
            ("username", "alice@example.com"),
            ("password", PASSWORD),
            ("audience", API),
            ("scope", "openid read:measurements"),
        ],
        &[("user-agent", "log-events-test/1.0")],
    )
    .await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    let (api, e) = event(&mgmt, &reply).await;
    assert_eq!(api["type"], "sepft");
    assert_eq!(e.description, "Success Exchange");
    assert_eq!(e.ip.as_deref(), Some("127.0.0.1"));
    assert_eq!(e.user_agent.as_deref(), Some("log-events-test/1.0"));
    assert_eq!(e.client_name.as_deref(), Some("SPA"));
    assert_eq!(e.user_name.as_deref(), Some("alice@example.com"));
    assert_eq!(e.audience.as_deref(), Some(API));
    assert_eq!(e.scope.as_deref(), reply.body["scope"].as_str());
    let claims = jwt_claims(reply.body["access_token"].as_str().unwrap());
    assert_eq!(e.jti.as_deref(), claims["jti"].as_str());
    assert!(e.jti.is_some());
}

#[tokio::test]
async fn opaque_token_jti_finds_its_event() {
    let (mgmt, s) = start().await;
    let reply = token(
        &mgmt,
        &[
            ("grant_type", "password"),
            ("client_id", &s.spa_id),
            ("username", "alice@example.com"),
            ("password", PASSWORD),
            ("scope", "openid"),
        ],
        &[],
    )
    .await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    let access_token = reply.body["access_token"].as_str().unwrap();
    let stored = mgmt
        .server
        .store
        .opaque_token(&hash_token(access_token))
        .await
        .unwrap()
        .expect("an opaque token");
    let (_, e) = event(&mgmt, &reply).await;
    assert!(e.jti.is_some());
    assert_eq!(stored.jti, e.jti);
    assert!(e.audience.is_none());
}

#[tokio::test]
async fn hostile_user_agents_never_break_the_event() {
    let (mgmt, s) = start().await;
    let pairs = [
        ("grant_type", "client_credentials"),
        ("client_id", s.m2m_id.as_str()),
        ("client_secret", s.m2m_secret.as_str()),
        ("audience", API),
    ];
    let huge = "A".repeat(100 * 1024);
    let reply = token(&mgmt, &pairs, &[("user-agent", &huge)]).await;
    if reply.status == 200 {
        let (_, e) = event(&mgmt, &reply).await;
        assert_eq!(e.user_agent.unwrap().chars().count(), 512);
    } else {
        // Refused before any handler ran (header too large): nothing recorded.
        assert!(reply.header("gatehouse-log-id").is_none());
    }
    let odd = reqwest::header::HeaderValue::from_bytes(b"bad\tagent \xff\xfe").unwrap();
    let resp = mgmt
        .server
        .http
        .post(mgmt.server.url("/oauth/token"))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("user-agent", odd)
        .body(encode(&pairs))
        .send()
        .await
        .unwrap();
    let reply = Reply::read(resp).await;
    assert_eq!(reply.status, 200);
    let (_, e) = event(&mgmt, &reply).await;
    let ua = e.user_agent.unwrap();
    assert!(ua.starts_with("badagent "), "{ua:?}");
    assert!(!ua.chars().any(char::is_control));
}

#[tokio::test]
async fn answers_that_recorded_nothing_have_no_log_id() {
    let (mgmt, s) = start().await;
    for path in [
        "/.well-known/openid-configuration".to_string(),
        "/.well-known/jwks.json".to_string(),
        format!("/authorize?{}", spa_query(&s, &[])),
    ] {
        let reply = get(&mgmt, &path).await;
        assert!(reply.status.is_success() || reply.status.is_redirection());
        assert!(reply.header("gatehouse-log-id").is_none(), "{path}");
    }
    let preflight = mgmt
        .server
        .http
        .request(reqwest::Method::OPTIONS, mgmt.server.url("/oauth/token"))
        .header("origin", SPA_ORIGIN)
        .send()
        .await
        .unwrap();
    assert!(preflight.headers().get("gatehouse-log-id").is_none());
}

/// A code issued to the SPA for alice, as `/authorize` would store it.
async fn insert_code(mgmt: &Mgmt, s: &Seeded, code: &str) {
    let now = mgmt.server.state.now();
    mgmt.server
        .store
        .insert_authorization_code(
            &hash_token(code),
            &AuthorizationCode {
                actions: Default::default(),
                client_id: s.spa_id.clone(),
                user_id: s.alice.user_id.clone(),
                redirect_uri: Some(format!("{SPA_ORIGIN}/callback")),
                code_challenge: Some(s256_challenge(VERIFIER)),
                code_challenge_method: Some("S256".into()),
                scope: "openid read:measurements".into(),
                audience: Some(API.into()),
                resource: None,
                nonce: None,
                auth_time: now - 5,
                sid: Some("sid-1".into()),
                require_auth_time: false,
                expires_at: now + 60,
            },
        )
        .await
        .unwrap();
}

#[tokio::test]
async fn code_exchange_events_carry_auth0_details() {
    let (mgmt, s) = start().await;
    let redirect = format!("{SPA_ORIGIN}/callback");
    // Another client presents the SPA's code: feacft names the code's client.
    insert_code(&mgmt, &s, "code-for-the-spa-0001").await;
    let stolen = token(
        &mgmt,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", &s.web_id),
            ("client_secret", &s.web_secret),
            ("code", "code-for-the-spa-0001"),
            ("redirect_uri", "https://web.example/callback"),
        ],
        &[],
    )
    .await;
    assert_eq!(stolen.status, 403);
    assert_eq!(stolen.body["error"], "invalid_grant");
    let (api, stored) = event(&mgmt, &stolen).await;
    assert_eq!(api["type"], "feacft");
    assert_eq!(api["details"]["requested_client_id"], s.spa_id.as_str());
    assert_eq!(api["details"]["code"], "******************001");
    assert_eq!(
        stored.description,
        stolen.body["error_description"].as_str().unwrap()
    );

    insert_code(&mgmt, &s, "code-for-the-spa-0002").await;
    let ok = token(
        &mgmt,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", &s.spa_id),
            ("code", "code-for-the-spa-0002"),
            ("code_verifier", VERIFIER),
            ("redirect_uri", &redirect),
        ],
        &[],
    )
    .await;
    assert_eq!(ok.status, 200, "{:?}", ok.body);
    let (api, stored) = event(&mgmt, &ok).await;
    assert_eq!(api["type"], "seacft");
    let claims = jwt_claims(ok.body["access_token"].as_str().unwrap());
    assert_eq!(api["details"]["access_token_jti"], claims["jti"]);
    assert_eq!(api["details"]["code"], "******************002");
    assert_eq!(stored.user_name.as_deref(), Some("alice@example.com"));
    assert_eq!(stored.audience.as_deref(), Some(API));
}

#[tokio::test]
async fn anonymous_failures_cannot_flood_the_log() {
    let (mgmt, _) = start().await;
    let count = || async {
        mgmt.server
            .store
            .count_log_events(&gatehouse_store::LogFilter::default())
            .await
            .unwrap()
    };
    let before = count().await;
    let budget = gatehouse_server::audit::FAILURE_EVENTS_PER_MINUTE;
    let huge_scope = "s".repeat(60_000);
    let mut last = None;
    for _ in 0..budget + 5 {
        let reply = token(
            &mgmt,
            &[
                ("grant_type", "urn:example:nope"),
                ("client_id", "nobody"),
                ("scope", &huge_scope),
            ],
            &[],
        )
        .await;
        assert_eq!(reply.status, 400, "{:?}", reply.body);
        assert_eq!(reply.body["error"], "unsupported_grant_type");
        last = Some(reply);
    }
    assert_eq!(count().await - before, i64::from(budget));
    let last = last.unwrap();
    assert!(
        last.header("gatehouse-log-id").is_none(),
        "a dropped event names nothing"
    );
    let events = mgmt
        .server
        .store
        .search_log_events(&gatehouse_store::LogQuery::all())
        .await
        .unwrap();
    let stored = events.iter().find(|e| e.event_type == "f").unwrap();
    assert!(stored.scope.as_deref().unwrap().chars().count() <= 512);
    assert!(serde_json::to_string(&stored.details).unwrap().len() < 10_000);
}
