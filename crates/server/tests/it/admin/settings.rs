//! Tenant settings and signing keys in the dashboard.

use super::{csrf_in, Dashboard};
use crate::authorize::{location, unescape};
use serde_json::{json, Value};

const API: &str = "https://measurements.example.com";

async fn settings(dash: &Dashboard) -> Value {
    dash.mgmt.get("/tenants/settings").await.body
}

async fn jwks_kids(dash: &Dashboard) -> Vec<String> {
    let (_, jwks) = dash.server().get_json("/.well-known/jwks.json").await;
    let mut kids: Vec<String> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_string())
        .collect();
    kids.sort();
    kids
}

/// Whether a `sapi` event with `description` was logged. A fresh token each
/// time: a revoked signing key may be the one that signed the first.
pub async fn logged(dash: &Dashboard, description: &str) -> bool {
    let token = dash.mgmt.token_with(&["read:logs"]).await;
    let reply = dash
        .mgmt
        .call_as(
            Some(&token),
            reqwest::Method::GET,
            "/logs?per_page=100",
            None,
        )
        .await;
    let logs = reply.body;
    logs.as_array()
        .unwrap_or_else(|| panic!("{}: {logs}", reply.status))
        .iter()
        .any(|e| e["type"] == "sapi" && e["description"] == description)
}

fn good<'a>() -> Vec<(&'a str, &'a str)> {
    vec![
        ("default_audience", API),
        ("infer_audience_from_scope", "on"),
        ("session_lifetime", "24"),
        ("idle_session_lifetime", "12"),
    ]
}

async fn with_api() -> Dashboard {
    let dash = Dashboard::start().await;
    let reply = dash
        .mgmt
        .post(
            "/resource-servers",
            json!({"name": "Measurements", "identifier": API}),
        )
        .await;
    assert_eq!(reply.status.as_u16(), 201);
    dash
}

#[tokio::test]
async fn settings_are_saved_through_the_api() {
    let dash = with_api().await;
    let (status, html) = dash.page("/admin/settings").await;
    assert_eq!(status, 200);
    let html = unescape(&html);
    assert!(
        html.contains(&format!("value=\"{API}\"")),
        "the APIs are offered"
    );
    assert!(
        !html.contains("value=\"http://127.0.0.1"),
        "the system API is not offered as a default"
    );
    let resp = dash
        .submit("/admin/settings", "/admin/settings", &good())
        .await;
    assert_eq!(resp.status().as_u16(), 303);
    assert_eq!(location(&resp), "/admin/settings?done=saved");
    let s = settings(&dash).await;
    assert_eq!(s["default_audience"], API);
    assert_eq!(s["infer_audience_from_scope"], true);
    assert_eq!(s["session_lifetime"], 24);
    assert_eq!(s["idle_session_lifetime"], 12);
    let (_, html) = dash.page("/admin/settings?done=saved").await;
    assert!(html.contains("Settings saved."));
    assert!(
        logged(&dash, "Dashboard: PATCH /api/v2/tenants/settings").await,
        "the change is logged"
    );
    // None clears the default audience; an unticked box turns inference off.
    let resp = dash
        .submit(
            "/admin/settings",
            "/admin/settings",
            &[
                ("default_audience", ""),
                ("session_lifetime", "24"),
                ("idle_session_lifetime", "12"),
            ],
        )
        .await;
    assert_eq!(resp.status().as_u16(), 303);
    let s = settings(&dash).await;
    assert!(s["default_audience"].is_null(), "{s}");
    assert_eq!(s["infer_audience_from_scope"], false);
}

#[tokio::test]
async fn every_bad_setting_gets_its_message_and_nothing_is_written() {
    let dash = with_api().await;
    let before = settings(&dash).await;
    let cases = [
        (
            "default_audience",
            "https://unknown.example.com",
            "Choose one of your APIs",
        ),
        ("session_lifetime", "-1", "whole number of hours"),
        ("session_lifetime", "8761", "whole number of hours"),
        ("session_lifetime", "1e3", "whole number of hours"),
        ("idle_session_lifetime", "0", "whole number of hours"),
        (
            "idle_session_lifetime",
            "99999999999999999999999",
            "whole number of hours",
        ),
        ("idle_session_lifetime", "48", "cannot be longer"),
    ];
    for (field, value, message) in cases {
        let mut pairs = good();
        pairs.retain(|(k, _)| *k != field);
        pairs.push((field, value));
        let resp = dash
            .submit("/admin/settings", "/admin/settings", &pairs)
            .await;
        assert_eq!(resp.status().as_u16(), 422, "{field}={value}");
        let html = unescape(&resp.text().await.unwrap());
        let at = html
            .find(&format!("id=\"e-{field}\""))
            .unwrap_or_else(|| panic!("no message next to {field}"));
        assert!(html[at..].contains(message), "{field}={value}: {message}");
        assert!(html.contains("Nothing was saved."));
        assert_eq!(settings(&dash).await, before, "{field}={value}");
    }
    // A forged form changes nothing.
    let mut forged = vec![("csrf", "forged")];
    forged.extend(good());
    let resp = dash.post("/admin/settings", &forged).await;
    assert_eq!(resp.status().as_u16(), 403);
    assert_eq!(settings(&dash).await, before);
}

#[tokio::test]
async fn keys_rotate_and_revoke_and_the_jwks_follows() {
    let dash = Dashboard::start().await;
    let before = jwks_kids(&dash).await;
    let (status, html) = dash.page("/admin/settings").await;
    assert_eq!(status, 200);
    assert!(html.contains("Current") && html.contains("RS256"));
    for kid in &before {
        assert!(html.contains(kid.as_str()), "{kid} listed");
    }
    // Rotation asks first; a forged confirmation changes nothing.
    let (status, confirm) = dash.page("/admin/settings/keys/rotate").await;
    assert_eq!(status, 200);
    let forged = dash
        .post("/admin/settings/keys/rotate", &[("csrf", "forged")])
        .await;
    assert_eq!(forged.status().as_u16(), 403);
    assert_eq!(jwks_kids(&dash).await, before);
    let resp = dash
        .post(
            "/admin/settings/keys/rotate",
            &[("csrf", &csrf_in(&confirm))],
        )
        .await;
    assert_eq!(location(&resp), "/admin/settings?done=rotated#keys");
    let rotated = jwks_kids(&dash).await;
    assert_ne!(rotated, before);
    assert!(
        before.iter().all(|k| rotated.contains(k)),
        "previous keys stay published"
    );
    // The previous key can be revoked; it leaves the JWKS.
    let keys = dash.mgmt.get("/keys/signing").await.body;
    let previous: Vec<String> = keys
        .as_array()
        .unwrap()
        .iter()
        .filter(|k| k["previous"] == true)
        .map(|k| k["kid"].as_str().unwrap().to_string())
        .collect();
    assert!(!previous.is_empty());
    let current = keys
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["current"] == true)
        .unwrap()["kid"]
        .as_str()
        .unwrap()
        .to_string();
    let (_, html) = dash.page("/admin/settings?done=rotated").await;
    assert!(html.contains("Keys rotated"));
    // Not the key that signed the test's Management API token, which the
    // checks below still use (a rotation retires one key per algorithm).
    let token_kid = jsonwebtoken::decode_header(&dash.mgmt.token)
        .unwrap()
        .kid
        .unwrap();
    let kid = previous.iter().find(|k| **k != token_kid).unwrap();
    assert!(html.contains(&format!("/admin/settings/keys/{kid}/revoke")));
    assert!(!html.contains(&format!("/admin/settings/keys/{current}/revoke")));
    let action = format!("/admin/settings/keys/{kid}/revoke");
    let (status, confirm) = dash.page(&action).await;
    assert_eq!(status, 200);
    assert_eq!(dash.post(&action, &[]).await.status().as_u16(), 403);
    assert!(jwks_kids(&dash).await.contains(kid));
    let resp = dash.post(&action, &[("csrf", &csrf_in(&confirm))]).await;
    assert_eq!(location(&resp), "/admin/settings?done=revoked#keys");
    assert!(logged(&dash, "Dashboard: POST /api/v2/keys/signing/rotate").await);
    assert!(
        logged(
            &dash,
            &format!("Dashboard: PUT /api/v2/keys/signing/{kid}/revoke")
        )
        .await
    );
    assert!(!jwks_kids(&dash).await.contains(kid));
    // The current key and unknown keys cannot be revoked: no 500.
    let (status, _) = dash
        .page(&format!("/admin/settings/keys/{current}/revoke"))
        .await;
    assert_eq!(status, 400);
    let resp = dash
        .submit(
            "/admin/settings",
            &format!("/admin/settings/keys/{current}/revoke"),
            &[],
        )
        .await;
    assert_eq!(resp.status().as_u16(), 400);
    assert!(jwks_kids(&dash).await.contains(&current));
    for path in [
        "/admin/settings/keys/nope/revoke",
        "/admin/settings/keys/%00/revoke",
    ] {
        let (status, _) = dash.page(path).await;
        assert_eq!(status, 404, "{path}");
    }
}
