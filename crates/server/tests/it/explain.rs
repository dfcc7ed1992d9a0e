//! `explain` over real issuances: the two seed stories end to end (a code
//! flow through the login page, then the explanation of the token it gave),
//! every mistaken paste, and bad input — through the server function the CLI
//! calls and through `POST /api/v2/x-gatehouse/explain`, which must agree.

use crate::authorize::{location, params_of};
use crate::fixtures::{seed, Seeded, API};
use crate::management::{assert_mgmt_error, Mgmt};
use crate::pages::{exchange_web, log_in, web_query};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use gatehouse_core::explain::{Explanation, InputKind, Line, MistakeKind, Tone};
use gatehouse_core::jose::{sign_jwt, KeyPair};
use gatehouse_core::model::SigningAlg;
use gatehouse_server::explain::{explain, ExplainError};
use serde_json::{json, Value};

async fn start() -> (Mgmt, Seeded) {
    let mgmt = Mgmt::start().await;
    let seeded = seed(mgmt.server.store.as_ref()).await;
    (mgmt, seeded)
}

/// The token response of the web app's code flow for `email`.
async fn code_flow(mgmt: &Mgmt, s: &Seeded, email: &str, extra: &[(&str, &str)]) -> Value {
    let server = &mgmt.server;
    let browser = server.browser();
    let query = web_query(s, extra);
    let resp = log_in(server, &browser, &query, email).await;
    assert_eq!(resp.status().as_u16(), 302);
    let code = params_of(&location(&resp), '?')["code"].clone();
    exchange_web(server, s, &code).await
}

/// The explanation from the server function, checked equal to the
/// Management API's answer for the same input.
async fn explained(mgmt: &Mgmt, input: &str) -> Explanation {
    let local = explain(&mgmt.server.state, input)
        .await
        .unwrap_or_else(|e| panic!("explain {input:.30}: {e:?}"));
    // A fresh token each time (tests move the clock), granted read:logs alone.
    let token = mgmt.token_with(&["read:logs"]).await;
    let reply = mgmt
        .call_as(
            Some(&token),
            reqwest::Method::POST,
            "/x-gatehouse/explain",
            Some(json!({ "input": input })),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let remote: Explanation = serde_json::from_value(reply.body.clone()).unwrap();
    assert_eq!(local, remote, "the CLI and the Management API must agree");
    local
}

fn line<'a>(e: &'a Explanation, topic: &str) -> &'a Line {
    e.lines
        .iter()
        .find(|l| l.topic == topic)
        .unwrap_or_else(|| panic!("no line {topic}: {:#?}", e.lines))
}

fn mistakes(e: &Explanation) -> Vec<MistakeKind> {
    e.mistakes.iter().map(|m| m.kind).collect()
}

const SEED_000_SCOPE: &str = "openid profile email read:measurements";

#[tokio::test]
async fn seed_000_bob_lacks_the_permission_and_the_fix_names_the_role() {
    let (mgmt, s) = start().await;
    let tokens = code_flow(
        &mgmt,
        &s,
        "bob@example.com",
        &[("audience", API), ("scope", SEED_000_SCOPE)],
    )
    .await;
    assert_eq!(tokens["scope"], "openid profile email");
    let e = explained(&mgmt, tokens["access_token"].as_str().unwrap()).await;
    assert_eq!(e.input, InputKind::AccessToken);
    assert!(e.checks.iter().all(|c| c.holds), "{:#?}", e.checks);
    assert!(e.mistakes.is_empty(), "{:#?}", e.mistakes);
    assert!(line(&e, "user").text.contains("bob@example.com"));
    let audience = line(&e, "audience");
    assert!(audience.text.starts_with(API), "{}", audience.text);
    assert!(audience.text.contains("the audience parameter"));
    let dropped = line(&e, "scope read:measurements");
    assert_eq!(dropped.tone, Tone::Dropped);
    assert!(dropped.text.contains("RBAC"), "{}", dropped.text);
    let fix = dropped.fix.as_deref().unwrap();
    assert!(
        fix.contains("reader") && fix.contains("read:measurements"),
        "{fix}"
    );
    assert_eq!(line(&e, "scope openid").tone, Tone::Ok);
    assert!(line(&e, "permissions").text.contains("permissions"));
    assert!(line(&e, "ID token").text.contains("openid was requested"));
    assert!(line(&e, "refresh token").text.contains("offline_access"));
    assert!(e.trace.is_some() && e.event.as_ref().unwrap().event_type == "seacft");

    // alice has the role: the same request grants the scope.
    let tokens = code_flow(
        &mgmt,
        &s,
        "alice@example.com",
        &[("audience", API), ("scope", SEED_000_SCOPE)],
    )
    .await;
    let e = explained(&mgmt, tokens["access_token"].as_str().unwrap()).await;
    let granted = line(&e, "scope read:measurements");
    assert_eq!(granted.tone, Tone::Ok);
    assert!(granted.text.contains("reader"), "{}", granted.text);
}

#[tokio::test]
async fn seed_001_no_audience_gives_an_opaque_token_and_the_four_ways_to_name_one() {
    let (mgmt, s) = start().await;
    let tokens = code_flow(&mgmt, &s, "alice@example.com", &[]).await;
    let opaque = tokens["access_token"].as_str().unwrap();
    assert_eq!(opaque.matches('.').count(), 0, "{opaque}");
    let e = explained(&mgmt, opaque).await;
    assert_eq!(e.input, InputKind::OpaqueToken);
    let format = line(&e, "token format");
    assert!(
        format
            .text
            .contains("opaque, because no audience was given"),
        "{}",
        format.text
    );
    let fix = format.fix.as_deref().unwrap();
    for way in [
        "audience=https://measurements.example/",
        "resource=https://measurements.example/",
        "default audience",
        "infer_audience_from_scope",
        "customQueryParams",
    ] {
        assert!(fix.contains(way), "{way} missing from: {fix}");
    }
    assert!(line(&e, "audience").text.contains("none (/userinfo only)"));

    // Once it expired (but is not purged yet), explain says so.
    mgmt.server.clock.advance(86_400 + 7_200);
    let e = explained(&mgmt, opaque).await;
    assert_eq!(mistakes(&e), [MistakeKind::OpaqueExpired]);
    assert!(e.mistakes[0].message.contains("expired 2 hours ago"));
}

#[tokio::test]
async fn the_jti_and_the_log_id_find_the_same_explanation() {
    let (mgmt, s) = start().await;
    let tokens = code_flow(
        &mgmt,
        &s,
        "bob@example.com",
        &[("audience", API), ("scope", SEED_000_SCOPE)],
    )
    .await;
    let by_token = explained(&mgmt, tokens["access_token"].as_str().unwrap()).await;
    let claims = crate::pages::jwt_claims(tokens["access_token"].as_str().unwrap());
    let by_jti = explained(&mgmt, claims["jti"].as_str().unwrap()).await;
    assert_eq!(by_jti.input, InputKind::Jti);
    let log_id = by_token.event.as_ref().unwrap().log_id.clone();
    let by_log_id = explained(&mgmt, &log_id).await;
    assert_eq!(by_log_id.input, InputKind::LogId);
    assert_eq!(by_token.lines, by_jti.lines);
    assert_eq!(by_token.lines, by_log_id.lines);
    assert_eq!(by_token.trace, by_log_id.trace);
}

#[tokio::test]
async fn an_id_token_is_recognised_and_the_access_token_is_named_instead() {
    let (mgmt, s) = start().await;
    let tokens = code_flow(&mgmt, &s, "bob@example.com", &[("audience", API)]).await;
    let e = explained(&mgmt, tokens["id_token"].as_str().unwrap()).await;
    assert_eq!(e.input, InputKind::IdToken);
    assert_eq!(mistakes(&e), [MistakeKind::IdToken]);
    assert!(e.mistakes[0].message.contains(&s.web_id));
    assert!(e.mistakes[0]
        .fix
        .as_deref()
        .unwrap()
        .contains("Send the access token to your API"));
    assert!(e.checks.iter().any(|c| c.name == "signature" && c.holds));
}

/// A JWT signed by a key of the caller's choosing.
fn forged(key: &KeyPair, claims: Value) -> String {
    sign_jwt(key, "JWT", &claims).unwrap()
}

#[tokio::test]
async fn other_issuers_unknown_keys_and_expired_tokens_are_named() {
    let (mgmt, s) = start().await;
    let now = mgmt.server.state.now();
    let stranger = KeyPair::generate(SigningAlg::RS256).unwrap();

    let foreign = forged(
        &stranger,
        json!({"iss": "https://tenant.eu.auth0.com/", "aud": API, "sub": "auth0|x", "exp": now + 600}),
    );
    let e = explained(&mgmt, &foreign).await;
    assert_eq!(
        mistakes(&e),
        [MistakeKind::UnknownKey, MistakeKind::OtherIssuer]
    );
    let other = &e.mistakes[1].message;
    assert!(
        other.contains("https://tenant.eu.auth0.com/") && other.contains(&mgmt.server.issuer),
        "names both issuers: {other}"
    );

    let never_had = forged(
        &stranger,
        json!({"iss": mgmt.server.issuer, "aud": API, "sub": "auth0|x", "exp": now + 600}),
    );
    let e = explained(&mgmt, &never_had).await;
    assert_eq!(mistakes(&e), [MistakeKind::UnknownKey]);
    assert!(e.mistakes[0]
        .message
        .contains("a key this tenant never had"));
    assert!(!e.checks[0].holds);

    let tokens = code_flow(
        &mgmt,
        &s,
        "bob@example.com",
        &[("audience", API), ("scope", SEED_000_SCOPE)],
    )
    .await;
    mgmt.server.clock.advance(86_400 + 3 * 3_600);
    let e = explained(&mgmt, tokens["access_token"].as_str().unwrap()).await;
    assert_eq!(mistakes(&e), [MistakeKind::Expired]);
    assert!(e.mistakes[0].message.contains("expired 3 hours ago"));
    // Still explained as issued.
    assert_eq!(line(&e, "scope read:measurements").tone, Tone::Dropped);
}

#[tokio::test]
async fn bad_input_is_one_clear_line_and_never_a_500() {
    let (mgmt, _) = start().await;
    let unsigned = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#),
        URL_SAFE_NO_PAD.encode(r#"{"sub":"admin","aud":"https://measurements.example/"}"#)
    );
    let garbage = "%".repeat(100_000);
    let cases: Vec<(&str, &str, u16)> = vec![
        ("", "the input is empty", 400),
        (&garbage, "100000 bytes long", 400),
        (&unsigned, "alg \"none\"", 400),
        (
            "9002026120100000000deadbeef",
            "nothing of this tenant is",
            404,
        ),
        ("not a token at all", "whitespace in the middle", 400),
    ];
    for (input, words, status) in cases {
        let message = match explain(&mgmt.server.state, input).await {
            Err(ExplainError::BadInput(m) | ExplainError::NotFound(m)) => m,
            other => panic!("{input:.20}: {other:?}"),
        };
        assert!(message.contains(words), "{input:.20}: {message}");
        assert!(!message.contains('\n'), "one line: {message}");
        let reply = mgmt
            .post("/x-gatehouse/explain", json!({ "input": input }))
            .await;
        let code = if status == 400 {
            "invalid_input"
        } else {
            "inexistent_token"
        };
        assert_mgmt_error(&reply, status, code);
    }
    // A body that is not the expected shape is the Management API's 400.
    let reply = mgmt
        .post("/x-gatehouse/explain", json!({ "token": "x" }))
        .await;
    assert_eq!(reply.status, 400, "{}", reply.body);
}

#[tokio::test]
async fn explaining_needs_read_logs() {
    let (mgmt, _) = start().await;
    let token = mgmt.token_with(&["read:users"]).await;
    let reply = mgmt
        .call_as(
            Some(&token),
            reqwest::Method::POST,
            "/x-gatehouse/explain",
            Some(json!({ "input": "abc" })),
        )
        .await;
    assert_eq!(reply.status, 403, "{}", reply.body);
}
