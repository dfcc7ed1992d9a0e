//! Behind a load balancer: the lockout counts the client named by a trusted
//! proxy's `X-Forwarded-For`, and nobody else's header.

use crate::fixtures::{seed, Seeded, PASSWORD};
use crate::support::{Reply, TestServer};
use gatehouse_server::client_ip::TrustedProxies;
use gatehouse_server::ServeOptions;

async fn start(trusted: &str) -> (TestServer, Seeded) {
    let server = TestServer::start_with_options(ServeOptions {
        trusted_proxies: TrustedProxies::parse_list(trusted).unwrap(),
        ..ServeOptions::default()
    })
    .await;
    let seeded = seed(server.store.as_ref()).await;
    let mut settings = server.store.tenant_settings().await.unwrap();
    settings.brute_force_protection.max_attempts = 3;
    server.store.put_tenant_settings(&settings).await.unwrap();
    (server, seeded)
}

async fn log_in(server: &TestServer, s: &Seeded, forwarded_for: &str, password: &str) -> Reply {
    let form = form_urlencoded::Serializer::new(String::new())
        .append_pair("grant_type", "password")
        .append_pair("client_id", &s.web_id)
        .append_pair("client_secret", &s.web_secret)
        .append_pair("username", "alice@example.com")
        .append_pair("password", password)
        .finish();
    let response = server
        .http
        .post(server.url("/oauth/token"))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("x-forwarded-for", forwarded_for)
        .body(form)
        .send()
        .await
        .expect("token request");
    Reply::read(response).await
}

#[tokio::test]
async fn a_trusted_proxy_names_the_client_the_lockout_counts() {
    let (server, s) = start("127.0.0.1/32").await;
    // The failure that reaches the limit is answered 429 already.
    for expected in [403, 403, 429] {
        let r = log_in(&server, &s, "203.0.113.5", "wrong password").await;
        assert_eq!(r.status, expected, "{}", r.text);
    }
    let blocked = log_in(&server, &s, "203.0.113.5", PASSWORD).await;
    assert_eq!(blocked.status, 429, "{}", blocked.text);
    assert_eq!(blocked.body["error"], "too_many_attempts");
    // Another user of the same load balancer is not locked out.
    let other = log_in(&server, &s, "198.51.100.7", PASSWORD).await;
    assert_eq!(other.status, 200, "{}", other.text);
    // What a client writes left of the proxy's entry is not believed.
    let spoofed = log_in(&server, &s, "198.51.100.7, 203.0.113.5", PASSWORD).await;
    assert_eq!(spoofed.status, 429, "{}", spoofed.text);
    server.stop().await;
}

#[tokio::test]
async fn forwarded_for_from_an_untrusted_peer_is_ignored() {
    let (server, s) = start("").await;
    for (ip, expected) in [
        ("203.0.113.5", 403),
        ("203.0.113.6", 403),
        ("203.0.113.7", 429),
    ] {
        let r = log_in(&server, &s, ip, "wrong password").await;
        assert_eq!(r.status, expected, "{}", r.text);
    }
    // All three counted against the real peer, 127.0.0.1.
    let r = log_in(&server, &s, "198.51.100.7", PASSWORD).await;
    assert_eq!(r.status, 429, "{}", r.text);
    server.stop().await;
}
