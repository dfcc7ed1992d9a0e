//! `/authorize`: every error branch (auth0-compat.md §1), the response modes,
//! and the promise that no input redirects to an unregistered URI or
//! produces a 500.

use crate::fixtures::{seed, Seeded, API, SPA_ORIGIN};
use crate::support::TestServer;
use gatehouse_core::pkce::s256_challenge;
use reqwest::Response;
use std::collections::HashMap;

pub const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
pub const WEB_CALLBACK: &str = "https://web.example/callback";

pub fn spa_callback() -> String {
    format!("{SPA_ORIGIN}/callback")
}

pub fn encode(pairs: &[(&str, &str)]) -> String {
    let mut s = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        s.append_pair(k, v);
    }
    s.finish()
}

/// A valid code + PKCE request for the SPA, with `extra` appended (later wins).
pub fn spa_query(s: &Seeded, extra: &[(&str, &str)]) -> String {
    let challenge = s256_challenge(VERIFIER);
    let callback = spa_callback();
    let mut pairs: Vec<(&str, &str)> = vec![
        ("client_id", &s.spa_id),
        ("response_type", "code"),
        ("redirect_uri", &callback),
        ("scope", "openid profile email"),
        ("state", "st-123"),
        ("nonce", "n-123"),
        ("code_challenge", &challenge),
        ("code_challenge_method", "S256"),
        ("auth0Client", "eyJuYW1lIjoiYXV0aDAtc3BhLWpzIn0="),
    ];
    for (k, v) in extra {
        pairs.retain(|(pk, _)| pk != k);
        if !v.is_empty() {
            pairs.push((k, v));
        }
    }
    encode(&pairs)
}

pub async fn get(client: &reqwest::Client, url: &str) -> Response {
    client.get(url).send().await.expect("request")
}

pub fn location(resp: &Response) -> String {
    resp.headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default()
}

/// The parameters after `?` or `#` of a redirect.
pub fn params_of(url: &str, sep: char) -> HashMap<String, String> {
    let part = url.split_once(sep).map(|(_, p)| p).unwrap_or("");
    form_urlencoded::parse(part.split('#').next().unwrap_or("").as_bytes())
        .into_owned()
        .collect()
}

async fn start() -> (TestServer, Seeded) {
    let server = TestServer::start().await;
    let seeded = seed(server.store.as_ref()).await;
    (server, seeded)
}

/// Undoes the HTML escaping of the characters the assertions look at.
pub fn unescape(html: &str) -> String {
    html.replace("&quot;", "\"")
        .replace("&#34;", "\"")
        .replace("&#x2f;", "/")
        .replace("&#x27;", "'")
        .replace("&amp;", "&")
}

/// Asserts an error page: HTML, the status, the text, and no redirect.
async fn assert_error_page(resp: Response, status: u16, text: &str) {
    assert_eq!(resp.status().as_u16(), status);
    assert!(resp.headers().get("location").is_none());
    assert!(resp.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let body = unescape(&resp.text().await.unwrap());
    assert!(body.contains(text), "{text} not in {body}");
}

/// Asserts an error sent back to the SPA callback in the query.
fn assert_redirect_error(resp: &Response, error: &str, description: Option<&str>) {
    assert_eq!(resp.status().as_u16(), 302);
    let loc = location(resp);
    assert!(loc.starts_with(&spa_callback()), "{loc}");
    let sep = if loc.contains('#') { '#' } else { '?' };
    let p = params_of(&loc, sep);
    assert_eq!(p["error"], error, "{loc}");
    assert_eq!(p["state"], "st-123");
    if let Some(d) = description {
        assert_eq!(p["error_description"], d);
    }
}

#[tokio::test]
async fn bad_client_and_unregistered_redirect_show_a_page_and_never_redirect() {
    let (server, s) = start().await;
    let url = |q: String| server.url(&format!("/authorize?{q}"));
    let resp = get(&server.http, &url(spa_query(&s, &[("client_id", "nope")]))).await;
    assert_error_page(resp, 400, "Unknown client: nope").await;
    let resp = get(&server.http, &url(spa_query(&s, &[("client_id", "")]))).await;
    assert_error_page(resp, 400, "Missing required parameter: client_id").await;
    for bad in [
        "https://evil.example/callback",
        "http://localhost:4200/callback/",
        "http://localhost:4200/callback?x=1",
        "HTTP://localhost:4200/callback",
    ] {
        let resp = get(&server.http, &url(spa_query(&s, &[("redirect_uri", bad)]))).await;
        assert_error_page(resp, 400, "is not in the list of allowed callback URLs").await;
    }
    let resp = get(&server.http, &url(spa_query(&s, &[("redirect_uri", "")]))).await;
    assert_error_page(resp, 400, "Missing required parameter: redirect_uri").await;
    // Duplicate parameters: nothing is trusted yet either.
    let resp = get(
        &server.http,
        &url(format!("{}&client_id=x", spa_query(&s, &[]))),
    )
    .await;
    assert_error_page(resp, 400, "must not be included more than once").await;
    // A fragment is dropped before matching.
    let with_fragment = format!("{}#frag", spa_callback());
    let resp = get(
        &server.http,
        &url(spa_query(&s, &[("redirect_uri", &with_fragment)])),
    )
    .await;
    assert_eq!(resp.status().as_u16(), 302);
    assert!(location(&resp).starts_with("/u/login?"));
}

#[tokio::test]
async fn other_errors_go_back_through_the_response_mode() {
    let (server, s) = start().await;
    let url = |extra: &[(&str, &str)]| server.url(&format!("/authorize?{}", spa_query(&s, extra)));
    let resp = get(&server.http, &url(&[("response_type", "code banana")])).await;
    assert_redirect_error(&resp, "unsupported_response_type", None);
    let resp = get(&server.http, &url(&[("response_type", "")])).await;
    assert_redirect_error(&resp, "unsupported_response_type", None);
    // Missing nonce with id_token: in the fragment, the implicit default.
    let resp = get(
        &server.http,
        &url(&[("response_type", "id_token token"), ("nonce", "")]),
    )
    .await;
    assert!(location(&resp).contains('#'));
    assert_redirect_error(
        &resp,
        "invalid_request",
        Some("Missing required parameter: nonce"),
    );
    let resp = get(
        &server.http,
        &url(&[("response_type", "token"), ("response_mode", "query")]),
    )
    .await;
    assert_redirect_error(&resp, "invalid_request", None);
    let resp = get(&server.http, &url(&[("response_mode", "carrier_pigeon")])).await;
    assert_redirect_error(
        &resp,
        "invalid_request",
        Some("Unsupported response_mode: carrier_pigeon"),
    );
    // PKCE: plain is off for this client, unknown methods are refused, and a
    // public client must send a challenge.
    let resp = get(&server.http, &url(&[("code_challenge_method", "plain")])).await;
    assert_redirect_error(&resp, "invalid_request", None);
    let resp = get(&server.http, &url(&[("code_challenge_method", "S512")])).await;
    assert_redirect_error(
        &resp,
        "invalid_request",
        Some("Unsupported code_challenge_method: S512. Use S256."),
    );
    let resp = get(
        &server.http,
        &url(&[("code_challenge", ""), ("code_challenge_method", "")]),
    )
    .await;
    assert_redirect_error(&resp, "invalid_request", None);
    let resp = get(&server.http, &url(&[("code_challenge", "short")])).await;
    assert_redirect_error(&resp, "invalid_request", None);
    let resp = get(&server.http, &url(&[("prompt", "none login")])).await;
    assert_redirect_error(&resp, "invalid_request", None);
    let resp = get(&server.http, &url(&[("prompt", "sometimes")])).await;
    assert_redirect_error(&resp, "invalid_request", None);
    let resp = get(&server.http, &url(&[("max_age", "-1")])).await;
    assert_redirect_error(&resp, "invalid_request", None);
    let resp = get(&server.http, &url(&[("audience", "https://nope.example/")])).await;
    assert_redirect_error(
        &resp,
        "access_denied",
        Some("Service not found: https://nope.example/"),
    );
    let resp = get(&server.http, &url(&[("resource", "https://nope.example/")])).await;
    assert_redirect_error(
        &resp,
        "access_denied",
        Some("Service not found: https://nope.example/"),
    );
    let resp = get(
        &server.http,
        &url(&[("audience", API), ("resource", "https://other/")]),
    )
    .await;
    assert_redirect_error(&resp, "invalid_request", None);
    // No session and prompt=none: login_required, like Auth0.
    let resp = get(&server.http, &url(&[("prompt", "none")])).await;
    assert_redirect_error(&resp, "login_required", Some("Login required"));
    // The client must allow the grant.
    let mut spa = server.store.client(&s.spa_id).await.unwrap().unwrap();
    spa.client.grant_types.retain(|g| g != "implicit");
    server.store.update_client(&spa).await.unwrap();
    let resp = get(&server.http, &url(&[("response_type", "token")])).await;
    assert_redirect_error(
        &resp,
        "unauthorized_client",
        Some("Grant type 'implicit' not allowed for the client."),
    );
}

#[tokio::test]
async fn form_post_and_web_message_carry_errors() {
    let (server, s) = start().await;
    let url = |extra: &[(&str, &str)]| server.url(&format!("/authorize?{}", spa_query(&s, extra)));
    let resp = get(
        &server.http,
        &url(&[("prompt", "none"), ("response_mode", "form_post")]),
    )
    .await;
    assert_eq!(resp.status().as_u16(), 200);
    let body = unescape(&resp.text().await.unwrap());
    assert!(
        body.contains(&format!("action=\"{}\"", spa_callback())),
        "{body}"
    );
    assert!(
        body.contains("name=\"error\" value=\"login_required\""),
        "{body}"
    );
    assert!(body.contains("name=\"state\" value=\"st-123\""));
    // web_message needs the origin among the client's web origins…
    let resp = get(
        &server.http,
        &url(&[("prompt", "none"), ("response_mode", "web_message")]),
    )
    .await;
    assert_error_page(resp, 400, "Allowed Web Origins").await;
    // …then posts {type, response} to exactly that origin.
    let mut spa = server.store.client(&s.spa_id).await.unwrap().unwrap();
    spa.client.web_origins = vec![SPA_ORIGIN.into()];
    server.store.update_client(&spa).await.unwrap();
    let resp = get(
        &server.http,
        &url(&[("prompt", "none"), ("response_mode", "web_message")]),
    )
    .await;
    assert_eq!(resp.status().as_u16(), 200);
    let csp = resp.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        csp.contains(&format!("frame-ancestors {SPA_ORIGIN}")),
        "{csp}"
    );
    let body = resp.text().await.unwrap();
    assert!(
        body.contains(r#""type":"authorization_response""#),
        "{body}"
    );
    assert!(body.contains(r#""error":"login_required""#));
    assert!(body.contains(r#""state":"st-123""#));
    assert!(body.contains(&format!("\"{SPA_ORIGIN}\"")));
    assert!(body.contains("window.opener"));
}

#[tokio::test]
async fn no_input_redirects_elsewhere_or_fails_with_500() {
    let (server, s) = start().await;
    let callback = spa_callback();
    let nasty = [
        "",
        "%",
        "%zz",
        "client_id",
        "client_id=&redirect_uri=",
        "a=b&&&=&c",
        "client_id=spa-client&redirect_uri=javascript:alert(1)",
        "client_id=spa-client&redirect_uri=%0d%0aSet-Cookie:x",
        "client_id=%00&redirect_uri=%ff%fe",
    ];
    let mut queries: Vec<String> = nasty.iter().map(|q| q.to_string()).collect();
    for (k, v) in [
        ("response_type", "\u{0}"),
        ("response_mode", "%0a"),
        ("state", "\r\nx: y"),
        ("scope", &"a ".repeat(2000)),
        ("max_age", "99999999999999999999"),
        ("prompt", "none none"),
        ("audience", "\u{202e}"),
        ("nonce", "\"><script>"),
        ("code_challenge", &"x".repeat(5000)),
        ("login_hint", "<b>"),
    ] {
        queries.push(spa_query(&s, &[(k, v)]));
    }
    for q in queries {
        let resp = get(&server.http, &server.url(&format!("/authorize?{q}"))).await;
        let status = resp.status().as_u16();
        assert!(status < 500, "{q}: {status}");
        let loc = location(&resp);
        assert!(
            loc.is_empty() || loc.starts_with(&callback) || loc.starts_with("/u/"),
            "{q} redirected to {loc}"
        );
    }
    let resp = get(&server.http, &server.url("/authorize")).await;
    assert_error_page(resp, 400, "client_id").await;
}

#[tokio::test]
async fn discovery_lists_the_browser_endpoints() {
    let (server, _) = start().await;
    let doc: serde_json::Value = get(
        &server.http,
        &server.url("/.well-known/openid-configuration"),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(doc["authorization_endpoint"], server.url("/authorize"));
    assert!(doc["response_types_supported"].as_array().unwrap().len() >= 7);
}
