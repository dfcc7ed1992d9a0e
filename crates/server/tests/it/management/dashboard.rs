//! What the admin dashboard reads besides the user list:
//! `GET /api/v2/users-by-email`, `GET /api/v2/stats/active-users`,
//! `GET /api/v2/stats/daily`, and the 501 for Auth0 paths Gatehouse does not
//! serve.

use super::{assert_mgmt_error, Mgmt};
use crate::authorize::{encode, get, WEB_CALLBACK};
use crate::fixtures::{seed, Seeded, PASSWORD};
use crate::support::Reply;
use gatehouse_store::LogEvent;
use reqwest::Method;
use serde_json::{json, Value};

const CONN: &str = "Username-Password-Authentication";
const DAY: i64 = 86_400;

fn user_ids(v: &Value) -> Vec<&str> {
    v.as_array()
        .unwrap_or_else(|| panic!("an array: {v}"))
        .iter()
        .map(|u| u["user_id"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn users_by_email_finds_every_match_and_only_those() {
    let m = Mgmt::start().await;
    let r = m
        .post(
            "/users",
            json!({"connection": CONN, "email": "Carol@Example.com", "password": PASSWORD, "name": "Carol"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let carol = r.body["user_id"].as_str().unwrap().to_string();

    let r = m.get("/users-by-email?email=carol%40example.com").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(user_ids(&r.body), [carol.as_str()]);
    assert_eq!(r.body[0]["email"], "Carol@Example.com");
    let r = m
        .get("/users-by-email?email=CAROL%40EXAMPLE.COM&fields=email,name")
        .await;
    assert_eq!(
        r.body,
        json!([{"email": "Carol@Example.com", "name": "Carol"}])
    );
    let r = m
        .get("/users-by-email?email=carol%40example.com&fields=email&include_fields=false")
        .await;
    assert!(r.body[0].get("email").is_none() && r.body[0]["user_id"] == carol.as_str());

    for missing in ["nobody%40example.com", "carol%40example.co", "carol", "%25"] {
        let r = m.get(&format!("/users-by-email?email={missing}")).await;
        assert_eq!((r.status.as_u16(), &r.body), (200, &json!([])), "{missing}");
    }
    for bad in [
        "/users-by-email",
        "/users-by-email?email=",
        "/users-by-email?fields=email",
    ] {
        let r = m.get(bad).await;
        assert_mgmt_error(&r, 400, "invalid_query_string");
    }

    let token = m.token_with(&["read:clients"]).await;
    let r = m
        .call_as(
            Some(&token),
            Method::GET,
            "/users-by-email?email=carol%40example.com",
            None,
        )
        .await;
    assert_mgmt_error(&r, 403, "insufficient_scope");
    assert_eq!(
        r.body["message"],
        "Insufficient scope, expected any of: read:users"
    );
    let r = m
        .call_as(
            None,
            Method::GET,
            "/users-by-email?email=carol%40example.com",
            None,
        )
        .await;
    assert_mgmt_error(&r, 401, "invalid_token");
    m.server.stop().await;
}

/// Alice signs in at the login page: a `s` event and a last login.
async fn log_in_at_the_login_page(m: &Mgmt, s: &Seeded) {
    let server = &m.server;
    let query = encode(&[
        ("client_id", &s.web_id),
        ("response_type", "code"),
        ("redirect_uri", WEB_CALLBACK),
        ("scope", "openid"),
        ("state", "st"),
    ]);
    let browser = server.browser();
    let page = get(&browser, &server.url(&format!("/u/login?{query}"))).await;
    let body = page.text().await.unwrap();
    let at = body.find("name=\"csrf\" value=\"").expect("csrf field") + 19;
    let csrf = body[at..at + 43].to_string();
    let form = encode(&[
        ("csrf", &csrf),
        ("authorize", &query),
        ("email", "alice@example.com"),
        ("password", PASSWORD),
    ]);
    let reply = Reply::read(
        browser
            .post(server.url("/u/login"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(
        reply.status.is_redirection(),
        "{} {}",
        reply.status,
        reply.text
    );
}

fn yyyymmdd(day: i64) -> String {
    gatehouse_core::time::iso8601(day * DAY)[..10].replace('-', "")
}

async fn insert_event(m: &Mgmt, id: &str, date: i64, event_type: &str) {
    let event = LogEvent {
        log_id: id.into(),
        date,
        event_type: event_type.into(),
        description: String::new(),
        details: json!({}),
        ..LogEvent::default()
    };
    m.server.store.insert_log_event(&event).await.unwrap();
}

#[tokio::test]
async fn stats_count_a_login_in_its_day() {
    let m = Mgmt::start().await;
    let s = seed(m.server.store.as_ref()).await;
    let r = m.get("/stats/active-users").await;
    assert_eq!((r.status.as_u16(), &r.body), (200, &json!(0)), "{}", r.text);

    log_in_at_the_login_page(&m, &s).await;
    let r = m.get("/stats/active-users").await;
    assert_eq!(r.body, json!(1));

    let today = m.server.state.now().div_euclid(DAY);
    // A signup two days ago, and events outside the asked range.
    insert_event(&m, "ss-2", (today - 2) * DAY + 3600, "ss").await;
    insert_event(&m, "s-9", (today - 9) * DAY, "s").await;
    let range = format!(
        "/stats/daily?from={}&to={}",
        yyyymmdd(today - 2),
        yyyymmdd(today)
    );
    let r = m.get(&range).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let days = r.body.as_array().unwrap();
    assert_eq!(days.len(), 2, "{}", r.body);
    assert_eq!(
        days[0]["date"],
        gatehouse_core::time::iso8601((today - 2) * DAY)
    );
    assert_eq!(
        (days[0]["logins"].as_i64(), days[0]["signups"].as_i64()),
        (Some(0), Some(1))
    );
    assert_eq!(days[1]["date"], gatehouse_core::time::iso8601(today * DAY));
    assert_eq!(
        (days[1]["logins"].as_i64(), days[1]["signups"].as_i64()),
        (Some(1), Some(0))
    );
    assert_eq!(days[1]["leaked_passwords"], 0);
    assert!(days[1]["created_at"].as_str().unwrap() <= days[1]["updated_at"].as_str().unwrap());
    // Without a range: the last 30 days, so the day-9 login too.
    let r = m.get("/stats/daily").await;
    assert_eq!(r.body.as_array().unwrap().len(), 3, "{}", r.body);
    let r = m
        .get(&format!(
            "/stats/daily?from={0}&to={0}",
            yyyymmdd(today - 1)
        ))
        .await;
    assert_eq!(r.body, json!([]));

    for bad in [
        "from=2024-01-01",
        "to=20240230",
        "from=2024010",
        "from=x",
        "from=20240102&to=20240101",
    ] {
        let r = m.get(&format!("/stats/daily?{bad}")).await;
        assert_mgmt_error(&r, 400, "invalid_query_string");
    }
    let token = m.token_with(&["read:users"]).await;
    for path in ["/stats/active-users", "/stats/daily"] {
        let r = m.call_as(Some(&token), Method::GET, path, None).await;
        assert_mgmt_error(&r, 403, "insufficient_scope");
    }
    m.server.stop().await;
}

#[tokio::test]
async fn auth0_paths_gatehouse_does_not_serve_are_501() {
    let m = Mgmt::start().await;
    for (method, path) in [
        (Method::GET, "/organizations"),
        (Method::POST, "/organizations/org_1/members"),
        (Method::GET, "/actions/modules?per_page=5"),
        (Method::DELETE, "/rules/rul_1"),
        (Method::GET, "/users/auth0%7C1/identities"),
        (Method::GET, "/keys/encryption"),
        // Shaped like the served GET /jobs/{id}: still 501, not 405.
        (Method::POST, "/jobs/users-imports"),
        (Method::POST, "/jobs/users-exports"),
    ] {
        let r = m.call(method.clone(), path, None).await;
        assert_mgmt_error(&r, 501, "not_implemented");
        assert_eq!(r.body["error"], "Not Implemented");
        let bare = path.split('?').next().unwrap();
        let named = format!("{method} /api/v2{bare}");
        assert!(
            r.body["message"].as_str().unwrap().contains(&named),
            "{}",
            r.text
        );
        // Authentication first: no token, no hint.
        let r = m.call_as(None, method, path, None).await;
        assert_mgmt_error(&r, 401, "invalid_token");
    }
    let r = m
        .call_as(Some("not-a-token"), Method::GET, "/organizations", None)
        .await;
    assert_mgmt_error(&r, 401, "invalid_token");
    for path in [
        "/nope",
        "/organisations",
        "/users/auth0%7C1/nope",
        "/x-gatehouse/nope",
    ] {
        let r = m.get(path).await;
        assert_mgmt_error(&r, 404, "not_found");
    }
    // Served paths are unaffected.
    assert_eq!(m.get("/users").await.status, 200);
    assert_eq!(m.get("/stats/active-users").await.status, 200);
    assert_mgmt_error(
        &m.get("/users/auth0%7Cnobody").await,
        404,
        "inexistent_user",
    );
    m.server.stop().await;
}
