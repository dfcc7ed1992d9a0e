//! "Why this token?": pasted tokens, jtis and log ids explained (and never
//! kept), garbage refused in words, and the simulate form's granted and
//! dropped scopes and its errors next to their fields.

use super::logs::{bob_id_in_path, bob_password_grant, page, seed_000, unescape, API, SCOPE};
use super::Dashboard;
use crate::management::Mgmt;
use serde_json::json;

async fn paste(dash: &Dashboard, input: &str) -> (u16, String) {
    let resp = dash
        .submit("/admin/why", "/admin/why", &[("input", input)])
        .await;
    let status = resp.status().as_u16();
    (status, unescape(&resp.text().await.unwrap()))
}

/// Every log event the Management API lists, as one text.
async fn all_events(mgmt: &Mgmt) -> String {
    let reply = mgmt.get("/logs?per_page=100").await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.text);
    reply.text
}

#[tokio::test]
async fn a_pasted_token_is_explained_with_its_fix_and_never_logged() {
    let dash = Dashboard::start().await;
    let s = seed_000(&dash.mgmt).await;
    let (tokens, log_id) = bob_password_grant(&dash.mgmt, &s).await;
    let access_token = tokens["access_token"].as_str().unwrap();

    let (status, html) = paste(&dash, &format!("Bearer {access_token}\n")).await;
    assert_eq!(status, 200, "{html}");
    assert!(
        html.contains("An access token for API Measurements"),
        "{html}"
    );
    assert!(html.contains("✓ holds") && !html.contains("✗ fails"));
    assert!(html.contains("scope read:measurements"));
    let roles = format!("href=\"/admin/users/{}/roles\"", bob_id_in_path(&s.bob_id));
    assert!(html.contains(&roles), "{html}");
    assert!(html.contains(&format!("href=\"/admin/logs/{log_id}\"")));

    // The log id explains the same event.
    let (status, by_id) = paste(&dash, &log_id).await;
    assert_eq!(status, 200);
    assert!(by_id.contains(&roles) && by_id.contains(&format!("Log event {log_id}")));

    let events = all_events(&dash.mgmt).await;
    let signature = access_token.rsplit('.').next().unwrap();
    assert!(!events.contains(access_token) && !events.contains(signature));
}

#[tokio::test]
async fn garbage_gets_a_clear_message_next_to_the_field() {
    let dash = Dashboard::start().await;
    for (input, words) in [
        ("", "Nothing to explain"),
        ("hello world!", "Not a token"),
        ("a.b", "three parts"),
        ("abcdef0123456789", "Nothing of this tenant"),
        ("eyJhbGciOiJub25lIn0.e30.", "JWT"),
    ] {
        let (status, html) = paste(&dash, input).await;
        assert_eq!(status, 422, "{input}: {html}");
        assert!(html.contains("id=\"e-input\""), "{input}");
        assert!(
            html.to_lowercase().contains(&words.to_lowercase()),
            "{input}: {html}"
        );
    }
    let events_before = all_events(&dash.mgmt).await;
    // Without the CSRF token nothing is explained.
    let resp = dash
        .post("/admin/why", &[("input", "abcdef0123456789")])
        .await;
    assert_eq!(resp.status().as_u16(), 403);
    let resp = dash
        .post("/admin/why", &[("csrf", "forged"), ("input", "abcdef")])
        .await;
    assert_eq!(resp.status().as_u16(), 403);
    assert!(!all_events(&dash.mgmt).await.contains("abcdef0123456789"));
    assert!(!events_before.contains("hello world"));
}

async fn total_events(mgmt: &Mgmt) -> u64 {
    let reply = mgmt.get("/logs?include_totals=true").await;
    reply.body["total"].as_u64().expect("a total")
}

fn simulate_path(s: &[(&str, &str)]) -> String {
    let query: String = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(s)
        .finish();
    format!("/admin/why/simulate?{query}")
}

#[tokio::test]
async fn simulate_shows_dropped_then_granted_scopes_and_logs_nothing() {
    let dash = Dashboard::start().await;
    let s = seed_000(&dash.mgmt).await;
    let scope = format!("openid {SCOPE} delete:measurements");
    let path = simulate_path(&[
        ("client", &s.app_id),
        ("grant", "password"),
        ("user", "bob@example.com"),
        ("api", API),
        ("scope", &scope),
    ]);
    let before = total_events(&dash.mgmt).await;
    let (status, html) = page(&dash, &path).await;
    assert_eq!(status, 200, "{html}");
    assert_eq!(
        before,
        total_events(&dash.mgmt).await,
        "a simulation logs nothing"
    );
    assert!(html.contains(">Issued<"), "{html}");
    assert!(html.contains("scope: <code>openid</code>"), "{html}");
    assert!(html.contains("RBAC: the user lacks the permission"));
    let roles = format!("href=\"/admin/users/{}/roles\"", bob_id_in_path(&s.bob_id));
    assert!(html.contains(&roles), "{html}");
    let permissions = format!("href=\"/admin/apis/{}/permissions\"", s.api_id);
    assert!(
        html.contains("not defined by the API") && html.contains(&permissions),
        "{html}"
    );
    assert!(
        html.contains("\"aud\": [\n    \"https://measurements.example/\""),
        "{html}"
    );
    assert!(
        html.contains("value=\"bob@example.com\""),
        "the form keeps its values"
    );

    let role = dash.mgmt.post("/roles", json!({"name": "reader"})).await;
    let role_id = role.body["id"].as_str().unwrap().to_string();
    let added = dash
        .mgmt
        .post(
            &format!("/roles/{role_id}/permissions"),
            json!({"permissions": [{"resource_server_identifier": API, "permission_name": SCOPE}]}),
        )
        .await;
    assert!(added.status.is_success(), "{}", added.text);
    let assigned = dash
        .mgmt
        .post(
            &format!("/users/{}/roles", s.bob_id),
            json!({"roles": [role_id]}),
        )
        .await;
    assert!(assigned.status.is_success(), "{}", assigned.text);
    let before = total_events(&dash.mgmt).await;
    let (status, html) = page(&dash, &path).await;
    assert_eq!(status, 200);
    assert!(
        html.contains(&format!("scope: <code>openid {SCOPE}</code>")),
        "{html}"
    );
    assert!(html.contains("RBAC: the user has the permission"));
    assert!(
        html.contains(&format!("\"{SCOPE}\"")),
        "permissions claim: {html}"
    );

    assert_eq!(
        before,
        total_events(&dash.mgmt).await,
        "a simulation logs nothing"
    );
}

/// Form fields, the field that gets the error, and words of the message.
type Case<'a> = (&'a [(&'a str, &'a str)], &'a str, &'a str);

#[tokio::test]
async fn simulate_errors_sit_next_to_their_fields() {
    let dash = Dashboard::start().await;
    let s = seed_000(&dash.mgmt).await;
    let cases: [Case; 6] = [
        (
            &[
                ("client", &s.app_id),
                ("grant", "password"),
                ("user", "nobody@example.com"),
            ],
            "user",
            "No user has this email",
        ),
        (
            &[
                ("client", &s.app_id),
                ("grant", "password"),
                ("user", "bob@example.com"),
                ("scope", "openid,read:measurements"),
            ],
            "scope",
            "not commas",
        ),
        (
            &[
                ("client", &s.app_id),
                ("grant", "client_credentials"),
                ("user", "bob@example.com"),
            ],
            "user",
            "leave the user empty",
        ),
        (
            &[("client", &s.app_id), ("grant", "password")],
            "user",
            "Enter the user's email or user id",
        ),
        (
            &[("client", ""), ("grant", "password"), ("user", "x")],
            "client",
            "Choose an application",
        ),
        (
            &[
                ("client", "no-such-client"),
                ("grant", "sorcery"),
                ("user", "x"),
            ],
            "grant",
            "Choose a grant type",
        ),
    ];
    let nul_user = [
        ("client", s.app_id.as_str()),
        ("grant", "password"),
        ("user", "bob\u{0}@example.com"),
    ];
    let nul_client = [
        ("client", "c\u{0}"),
        ("grant", "password"),
        ("user", "bob@example.com"),
    ];
    let more: [Case; 2] = [
        (&nul_user, "user", "Enter the user's email or user id"),
        (&nul_client, "client", "Choose an application from the list"),
    ];
    for (pairs, field, words) in cases.into_iter().chain(more) {
        let (status, html) = page(&dash, &simulate_path(pairs)).await;
        assert_eq!(status, 422, "{pairs:?}: {html}");
        let error = format!("id=\"e-{field}\">");
        let at = html
            .find(&error)
            .unwrap_or_else(|| panic!("{pairs:?}: {html}"));
        assert!(
            html[at..].split("</p>").next().unwrap().contains(words),
            "{pairs:?}: {html}"
        );
        assert!(!html.contains(">Issued<"));
    }
    // An application that does not exist, with everything else right.
    let (status, html) = page(
        &dash,
        &simulate_path(&[
            ("client", "no-such-client"),
            ("grant", "password"),
            ("user", "bob@example.com"),
        ]),
    )
    .await;
    assert_eq!(status, 422);
    assert!(
        html.contains("id=\"e-client\">This application does not exist."),
        "{html}"
    );
}
