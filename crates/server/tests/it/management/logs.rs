//! `GET /api/v2/logs` (search and checkpoint), `GET /api/v2/logs/{id}` and
//! `GET /api/v2/users/{id}/logs`: Auth0's field names, `q`, sort, paging,
//! scopes, and hostile query strings that must be 400s.

use super::{assert_mgmt_error, Mgmt};
use crate::support::Reply;
use gatehouse_store::LogEvent;
use serde_json::{json, Value};

/// 2020-09-13T12:26:40Z: far from the server clock's real events.
const T: i64 = 1_600_000_000;
const CLIENT: &str = "logs-client-1";
const OTHER_CLIENT: &str = "logs-client-2";

fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn event(
    id: &str,
    date: i64,
    event_type: &str,
    client: Option<&str>,
    user: Option<&str>,
) -> LogEvent {
    LogEvent {
        log_id: id.into(),
        date,
        event_type: event_type.into(),
        client_id: client.map(Into::into),
        user_id: user.map(Into::into),
        description: format!("event {id}"),
        details: json!({"n": id}),
        ..LogEvent::default()
    }
}

/// Six events, two of them at the same second (`zz-3`, `zz-4`).
async fn insert_events(m: &Mgmt) {
    let mut full = event("zz-4", T + 20, "s", Some(CLIENT), Some("auth0|alice"));
    full.ip = Some("203.0.113.7".into());
    full.user_agent = Some("Mozilla/5.0 (X11)".into());
    full.client_name = Some("Logs SPA".into());
    full.user_name = Some("alice@example.com".into());
    full.audience = Some("https://api.example/".into());
    full.scope = Some("openid read:x".into());
    let events = [
        event("zz-1", T, "seccft", Some(CLIENT), None),
        event("zz-2", T + 10, "feccft", Some(OTHER_CLIENT), None),
        full,
        event("zz-3", T + 20, "fp", Some(CLIENT), Some("auth0|alice")),
        event("zz-5", T + 30, "s", Some(OTHER_CLIENT), Some("auth0|bob")),
        event("zz-6", T + 40, "seccft", Some(CLIENT), Some("auth0|alice")),
    ];
    for e in &events {
        m.server.store.insert_log_event(e).await.unwrap();
    }
}

fn ids(reply: &Reply) -> Vec<String> {
    let list = reply
        .body
        .as_array()
        .or_else(|| reply.body["logs"].as_array())
        .unwrap_or_else(|| panic!("not a list: {}", reply.text));
    list.iter()
        .map(|e| e["log_id"].as_str().unwrap().to_string())
        .collect()
}

async fn search(m: &Mgmt, q: &str, extra: &str) -> Vec<String> {
    let r = m.get(&format!("/logs?q={}{extra}", encode(q))).await;
    assert_eq!(r.status, 200, "q={q}: {}", r.text);
    ids(&r)
}

#[tokio::test]
async fn search_orders_filters_and_pages() {
    let m = Mgmt::start().await;
    insert_events(&m).await;

    // Default: newest first over everything (including the real seccft events
    // of the bootstrap token), ties by log_id descending.
    let r = m.get("/logs?per_page=100").await;
    assert_eq!(r.status, 200, "{}", r.text);
    let keys: Vec<(String, String)> = r
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["date"].as_str().unwrap().into(),
                e["log_id"].as_str().unwrap().into(),
            )
        })
        .collect();
    let mut sorted = keys.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(keys, sorted);
    assert!(keys.len() > 6);

    let mine = format!("client_id:{CLIENT}");
    assert_eq!(
        search(&m, &mine, "").await,
        ["zz-6", "zz-4", "zz-3", "zz-1"]
    );
    assert_eq!(
        search(&m, &mine, "&sort=date:-1").await,
        ["zz-6", "zz-4", "zz-3", "zz-1"]
    );
    assert_eq!(
        search(&m, &mine, "&sort=date:1").await,
        ["zz-1", "zz-3", "zz-4", "zz-6"]
    );

    // Each filter, quoted and bare, then combined.
    assert_eq!(
        search(&m, "type:feccft date:[2020-09-13 TO 2020-09-13]", "").await,
        ["zz-2"]
    );
    assert_eq!(
        search(&m, r#"user_id:"auth0|alice""#, "").await,
        ["zz-6", "zz-4", "zz-3"]
    );
    assert_eq!(search(&m, "user_id:auth0|bob", "").await, ["zz-5"]);
    assert_eq!(
        search(&m, &format!("type:seccft AND client_id:\"{CLIENT}\""), "").await,
        ["zz-6", "zz-1"]
    );
    assert_eq!(
        search(
            &m,
            "type:s AND user_id:auth0|alice AND client_id:logs-client-1",
            ""
        )
        .await,
        ["zz-4"]
    );
    assert!(
        search(&m, "type:s client_id:logs-client-2 user_id:auth0|alice", "")
            .await
            .is_empty()
    );
    assert!(search(&m, r#"type:"x' OR '1'='1""#, "").await.is_empty());

    // Date bounds are inclusive, to the second; `*` leaves an end open.
    assert_eq!(
        search(
            &m,
            "date:[2020-09-13T12:26:50Z TO 2020-09-13T12:27:10Z]",
            "&sort=date:1"
        )
        .await,
        ["zz-2", "zz-3", "zz-4", "zz-5"]
    );
    assert_eq!(
        search(
            &m,
            "date:[2020-09-13T14:27:00+02:00 TO 2020-09-13T12:27:00Z]",
            "&sort=date:1"
        )
        .await,
        ["zz-3", "zz-4"]
    );
    assert_eq!(
        search(&m, "date:[* TO 2020-09-13T12:26:50Z]", "").await,
        ["zz-2", "zz-1"]
    );
    assert_eq!(
        search(
            &m,
            "date:[2020-09-13T12:27:20Z TO *] AND client_id:logs-client-1",
            ""
        )
        .await,
        ["zz-6"]
    );
    assert_eq!(search(&m, "date:2020-09-13", "").await.len(), 6);

    // Paging and totals (per_page up to 100, as Auth0).
    assert_eq!(
        search(&m, &mine, "&per_page=2&page=1").await,
        ["zz-3", "zz-1"]
    );
    assert!(search(&m, &mine, "&per_page=2&page=2").await.is_empty());
    let r = m
        .get(&format!(
            "/logs?q={}&per_page=3&page=1&include_totals=true",
            encode(&mine)
        ))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["start"], 3);
    assert_eq!(r.body["limit"], 3);
    assert_eq!(r.body["length"], 1);
    assert_eq!(r.body["total"], 4);
    assert_eq!(ids(&r), ["zz-1"]);
    let r = m.get("/logs?per_page=100").await;
    assert_eq!(r.status, 200);
}

#[tokio::test]
async fn events_render_with_auth0_field_names() {
    let m = Mgmt::start().await;
    insert_events(&m).await;
    let r = m.get("/logs/zz-4").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.body,
        json!({
            "log_id": "zz-4",
            "date": "2020-09-13T12:27:00.000Z",
            "type": "s",
            "description": "event zz-4",
            "ip": "203.0.113.7",
            "client_ip": "203.0.113.7",
            "user_agent": "Mozilla/5.0 (X11)",
            "hostname": "127.0.0.1",
            "client_id": CLIENT,
            "client_name": "Logs SPA",
            "user_id": "auth0|alice",
            "user_name": "alice@example.com",
            "audience": "https://api.example/",
            "scope": "openid read:x",
            "details": {"n": "zz-4"},
            "$event_schema": {"version": "1.0.0"},
        })
    );
    // Absent facts are left out; details stay.
    let r = m.get("/logs/zz-1").await;
    let keys: Vec<&str> = r
        .body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    for absent in [
        "user_id",
        "user_name",
        "ip",
        "client_ip",
        "user_agent",
        "audience",
        "scope",
    ] {
        assert!(!keys.contains(&absent), "{absent} in {keys:?}");
    }
    assert_eq!(r.body["details"], json!({"n": "zz-1"}));
    // The list renders the same objects.
    let r = m
        .get(&format!("/logs?q={}", encode("type:s user_id:auth0|alice")))
        .await;
    assert_eq!(r.body[0]["client_ip"], "203.0.113.7");
    assert_eq!(r.body[0]["$event_schema"]["version"], "1.0.0");
    let r = m.get("/logs/zz-missing").await;
    assert_mgmt_error(&r, 404, "inexistent_log");
}

#[tokio::test]
async fn real_token_requests_are_searchable() {
    let m = Mgmt::start().await;
    let bad = m
        .server
        .post_form(
            "/oauth/token",
            &[
                ("grant_type", "client_credentials"),
                ("client_id", m.creds.management_client_id.as_str()),
                ("client_secret", m.creds.management_client_secret.as_str()),
                ("audience", "https://no-such-api.example/"),
            ],
        )
        .await;
    assert_eq!(bad.status, 403, "{}", bad.text);
    let r = m.get(&format!("/logs?q={}", encode("type:feccft"))).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let failures = r.body.as_array().unwrap();
    assert!(!failures.is_empty());
    assert!(failures.iter().all(|e| e["type"] == "feccft"));
    let q = format!(
        "type:seccft AND client_id:\"{}\"",
        m.creds.management_client_id
    );
    let r = m
        .get(&format!("/logs?q={}&include_totals=true", encode(&q)))
        .await;
    assert!(r.body["total"].as_i64().unwrap() >= 1, "{}", r.text);
    assert!(r.body["logs"]
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["client_id"] == m.creds.management_client_id.as_str()));
}

/// The path and query of a `Link: <url>; rel="next"` header.
fn next_link(reply: &Reply, base_url: &str) -> String {
    let link = reply
        .header("link")
        .unwrap_or_else(|| panic!("no Link: {:?}", reply.headers));
    let url = link
        .strip_prefix('<')
        .and_then(|l| l.split_once(">; rel=\"next\""))
        .map(|(url, _)| url)
        .unwrap_or_else(|| panic!("bad Link {link}"));
    let path = url
        .strip_prefix(base_url)
        .unwrap_or_else(|| panic!("{url} not under {base_url}"));
    path.strip_prefix("/api/v2").unwrap().to_string()
}

#[tokio::test]
async fn checkpoint_reads_by_log_id_and_links_the_next_batch() {
    let m = Mgmt::start().await;
    insert_events(&m).await;
    let base = m.server.base_url.clone();
    // q and sort are ignored in checkpoint mode.
    let r = m
        .get("/logs?from=zz-0&take=2&q=type:nothing&sort=date:-1")
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(ids(&r), ["zz-1", "zz-2"]);
    let next = next_link(&r, &base);
    assert_eq!(next, "/logs?from=zz-2&take=2");
    let r = m.get(&next).await;
    assert_eq!(ids(&r), ["zz-3", "zz-4"]);
    let r = m.get(&next_link(&r, &base)).await;
    assert_eq!(ids(&r), ["zz-5", "zz-6"]);
    let last = next_link(&r, &base);
    let r = m.get(&last).await;
    assert!(ids(&r).is_empty());
    // Nothing new: the next link is the same URL again.
    assert_eq!(next_link(&r, &base), last);
    // Without from: from the oldest log_id (the real events' numeric ids sort first).
    let r = m.get("/logs?take=100").await;
    let all = ids(&r);
    let mut sorted = all.clone();
    sorted.sort();
    assert_eq!(all, sorted);
    assert!(all.ends_with(&["zz-5".to_string(), "zz-6".to_string()]));
    // Default take is 50.
    let r = m.get("/logs?from=zz-0").await;
    assert_eq!(ids(&r).len(), 6);
    assert_eq!(next_link(&r, &base), "/logs?from=zz-6&take=50");
    // An event of this very second waits a few seconds before a checkpoint
    // hands it out, so an export never steps over one still committing.
    let fresh = LogEvent {
        log_id: "zz-7".into(),
        date: m.server.state.now(),
        event_type: "s".into(),
        ..Default::default()
    };
    m.server.store.insert_log_event(&fresh).await.unwrap();
    assert!(ids(&m.get("/logs?from=zz-6").await).is_empty());
    m.server.clock.advance(5);
    assert_eq!(ids(&m.get("/logs?from=zz-6").await), ["zz-7"]);
}

#[tokio::test]
async fn user_logs_show_only_that_user() {
    let m = Mgmt::start().await;
    insert_events(&m).await;
    let r = m.get("/users/auth0%7Calice/logs").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(ids(&r), ["zz-6", "zz-4", "zz-3"]);
    let r = m
        .get("/users/auth0%7Calice/logs?sort=date:1&per_page=2&page=0&include_totals=true")
        .await;
    assert_eq!(r.body["total"], 3, "{}", r.text);
    assert_eq!(r.body["length"], 2);
    assert_eq!(ids(&r), ["zz-3", "zz-4"]);
    let r = m.get("/users/auth0%7Cbob/logs").await;
    assert_eq!(ids(&r), ["zz-5"]);
    // An unknown (or deleted) user's logs are simply none.
    let r = m.get("/users/auth0%7Cnobody/logs").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body, json!([]));
    // A SQL-looking id is just an id.
    let r = m
        .get(&format!("/users/{}/logs", encode("x' OR '1'='1")))
        .await;
    assert_eq!(r.body, json!([]), "{}", r.text);
    let r = m.get("/users/auth0%7Calice/logs?sort=user_id:1").await;
    assert_mgmt_error(&r, 400, "invalid_query_string");
    let r = m.get("/users/auth0%7Calice/logs?per_page=101").await;
    assert_mgmt_error(&r, 400, "invalid_query_string");
}

#[tokio::test]
async fn scopes_are_checked() {
    let m = Mgmt::start().await;
    insert_events(&m).await;
    let users_only = m.token_with(&["read:logs_users"]).await;
    let r = m
        .call_as(
            Some(&users_only),
            reqwest::Method::GET,
            "/users/auth0%7Calice/logs",
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = m
        .call_as(Some(&users_only), reqwest::Method::GET, "/logs", None)
        .await;
    assert_mgmt_error(&r, 403, "insufficient_scope");
    let r = m
        .call_as(Some(&users_only), reqwest::Method::GET, "/logs/zz-1", None)
        .await;
    assert_mgmt_error(&r, 403, "insufficient_scope");

    let read_users = m.token_with(&["read:users"]).await;
    for path in [
        "/logs",
        "/logs/zz-1",
        "/users/auth0%7Calice/logs",
        "/logs?from=zz-0&take=1",
    ] {
        let r = m
            .call_as(Some(&read_users), reqwest::Method::GET, path, None)
            .await;
        assert_mgmt_error(&r, 403, "insufficient_scope");
    }
    let read_logs = m.token_with(&["read:logs"]).await;
    for path in ["/logs", "/logs/zz-1", "/users/auth0%7Calice/logs"] {
        let r = m
            .call_as(Some(&read_logs), reqwest::Method::GET, path, None)
            .await;
        assert_eq!(r.status, 200, "{path}: {}", r.text);
    }
    let r = m.call_as(None, reqwest::Method::GET, "/logs", None).await;
    assert_eq!(r.status, 401);
}

#[tokio::test]
async fn hostile_queries_are_400s() {
    let m = Mgmt::start().await;
    insert_events(&m).await;
    let long_q = format!("type:{}", "a".repeat(10 * 1024));
    let cases: Vec<(String, &str)> = vec![
        (format!("q={}", encode("type:x' OR '1'='1")), "OR"),
        (format!("q={}", encode(&long_q)), "too long"),
        (
            format!("q={}", encode("date:[2020-01-01 TO 2020-02-01")),
            "not closed",
        ),
        (
            format!("q={}", encode("date:2020-01-01 TO 2020-02-01]")),
            "q:",
        ),
        (format!("q={}", encode("(type:s")), "Parentheses"),
        (format!("q={}", encode("ip:1.2.3.4")), "'ip'"),
        (format!("q={}", encode("alice")), "free-text"),
        (format!("q={}", encode("type:s*")), "'*'"),
        (format!("q={}", encode("date:[yesterday TO *]")), "ISO 8601"),
        (format!("q={}", encode("type:\"unterminated")), "not closed"),
        (format!("q={}", encode("user_id:a\u{1}b")), "control"),
        ("per_page=1000".into(), "per_page"),
        ("per_page=0".into(), "per_page"),
        ("page=-1".into(), "page"),
        ("page=abc".into(), "page"),
        ("page=99999999999999999999".into(), "page"),
        ("page=9223372036854775807&per_page=100".into(), "page"),
        (
            "page=10&per_page=100".into(),
            "exceeds the allowed maximum of 1000 records",
        ),
        ("page=20".into(), "use the checkpoint pagination method"),
        ("take=-1".into(), "take"),
        ("take=1000".into(), "take"),
        ("take=0".into(), "take"),
        ("from=zz-0&take=101".into(), "take"),
        (format!("from={}", "z".repeat(300)), "from"),
        ("from=a%01b".into(), "from"),
        ("sort=log_id:1".into(), "sort"),
        ("sort=date:2".into(), "sort"),
        ("sort=date".into(), "sort"),
        ("include_totals=maybe".into(), "include_totals"),
        ("q=type%3As%00".into(), "NUL"),
    ];
    for (query, needle) in cases {
        let r = m.get(&format!("/logs?{query}")).await;
        assert_mgmt_error(&r, 400, "invalid_query_string");
        assert_eq!(r.body["error"], "Bad Request", "{query}");
        let message = r.body["message"].as_str().unwrap();
        assert!(message.contains(needle), "{query}: {message}");
    }
    // The last page within the first 1,000 records is fine.
    let r = m.get("/logs?page=9&per_page=100").await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    // Nothing was changed by any of it.
    let r = m
        .get(&format!("/logs?q={}", encode("client_id:logs-client-1")))
        .await;
    assert_eq!(ids(&r).len(), 4);
    let r: Value = m.get("/logs/zz-1").await.body;
    assert_eq!(r["log_id"], "zz-1");
}
