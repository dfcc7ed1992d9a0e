//! Signing keys, tenant settings, connections and the bootstrap itself.

use super::{assert_mgmt_error, client_credentials, Mgmt};
use gatehouse_server::bootstrap::{bootstrap, BootstrapOptions};
use serde_json::json;

#[tokio::test]
async fn signing_keys_rotate_and_revoke() {
    let m = Mgmt::start().await;
    let r = m.get("/keys/signing").await;
    assert_eq!(r.status, 200);
    let before = r.body.as_array().unwrap().clone();
    let rs_current = before
        .iter()
        .find(|k| k["alg"] == "RS256" && k["current"] == true)
        .unwrap()["kid"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(before[0]["cert"]
        .as_str()
        .unwrap()
        .starts_with("-----BEGIN CERTIFICATE-----"));
    assert_eq!(before[0]["thumbprint"].as_str().unwrap().len(), 40);

    // The current key cannot be revoked.
    let r = m
        .call(
            reqwest::Method::PUT,
            &format!("/keys/signing/{rs_current}/revoke"),
            None,
        )
        .await;
    assert_mgmt_error(&r, 400, "invalid_key_state");

    let r = m.post("/keys/signing/rotate", json!({})).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let new_kid = r.body["kid"].as_str().unwrap().to_string();
    assert_ne!(new_kid, rs_current);
    // New tokens are signed with the new key; the old one is previous.
    let token = client_credentials(
        &m.server,
        &m.creds.management_client_id,
        &m.creds.management_client_secret,
        &m.creds.management_audience,
    )
    .await;
    let header: serde_json::Value = {
        use base64::Engine;
        let h = token.split('.').next().unwrap();
        serde_json::from_slice(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(h)
                .unwrap(),
        )
        .unwrap()
    };
    assert_eq!(header["kid"], new_kid.as_str());
    let old = m.get(&format!("/keys/signing/{rs_current}")).await;
    assert_eq!(old.body["previous"], true);
    // A next key is published ahead of time.
    let r = m.get("/keys/signing").await;
    assert!(r
        .body
        .as_array()
        .unwrap()
        .iter()
        .any(|k| k["alg"] == "RS256" && k["next"] == true));
    // The old token (signed by the now previous key) still works.
    assert_eq!(m.get("/roles").await.status, 200);
    let jwks = m.server.get("/.well-known/jwks.json").await;
    assert!(jwks.text.contains(&rs_current));

    // Revoke the previous key: it leaves the JWKS and its tokens stop working.
    let r = m
        .call(
            reqwest::Method::PUT,
            &format!("/keys/signing/{rs_current}/revoke"),
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let jwks = m.server.get("/.well-known/jwks.json").await;
    assert!(!jwks.text.contains(&rs_current));
    let r = m.get("/roles").await;
    assert_mgmt_error(&r, 401, "invalid_token");
    let r = m
        .call_as(
            Some(&token),
            reqwest::Method::GET,
            "/keys/signing/nope",
            None,
        )
        .await;
    assert_mgmt_error(&r, 404, "inexistent_signing_key");
    let r = m
        .call_as(
            Some(&token),
            reqwest::Method::PUT,
            "/keys/signing/nope/revoke",
            None,
        )
        .await;
    assert_mgmt_error(&r, 404, "inexistent_signing_key");
}

#[tokio::test]
async fn tenant_settings_and_connections() {
    let m = Mgmt::start().await;
    let r = m.get("/tenants/settings").await;
    assert_eq!(r.body["infer_audience_from_scope"], false);
    assert_eq!(
        r.body["default_directory"],
        "Username-Password-Authentication"
    );
    let r = m
        .patch(
            "/tenants/settings",
            json!({"default_audience": "https://x.example/", "infer_audience_from_scope": true, "friendly_name": "Acme"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["default_audience"], "https://x.example/");
    let r = m.get("/tenants/settings?fields=friendly_name").await;
    assert_eq!(r.body, json!({"friendly_name": "Acme"}));
    let r = m
        .patch("/tenants/settings", json!({"default_audience": ""}))
        .await;
    assert!(r.body["default_audience"].is_null());
    let flag = json!({"flags": {"rp_logout_end_session_endpoint_discovery": true}});
    let r = m.patch("/tenants/settings", flag.clone()).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.body["flags"],
        json!({"rp_logout_end_session_endpoint_discovery": true, "enable_public_signup_user_exists_error": false})
    );
    // Each flag changes alone.
    let r = m
        .patch(
            "/tenants/settings",
            json!({"flags": {"enable_public_signup_user_exists_error": true}}),
        )
        .await;
    assert_eq!(
        r.body["flags"],
        json!({"rp_logout_end_session_endpoint_discovery": true, "enable_public_signup_user_exists_error": true})
    );
    for bad in [
        json!({"default_directory": "nope"}),
        json!({"session_lifetime": 0}),
        json!({"flags": {"no_such_flag": true}}),
        json!({"flags": {"rp_logout_end_session_endpoint_discovery": "on"}}),
        json!({"infer_audience_from_scope": "yes"}),
    ] {
        let r = m.patch("/tenants/settings", bad).await;
        assert_mgmt_error(&r, 400, "invalid_body");
    }

    let r = m.get("/connections").await;
    let list = r.body.as_array().unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["name"], "Username-Password-Authentication");
    assert_eq!(list[0]["strategy"], "auth0");
    assert!(list[0]["enabled_clients"]
        .as_array()
        .unwrap()
        .contains(&json!(m.creds.management_client_id)));
    let id = list[0]["id"].as_str().unwrap();
    assert_eq!(m.get(&format!("/connections/{id}")).await.status, 200);
    let r = m.get("/connections?strategy=google-oauth2").await;
    assert_eq!(r.body, json!([]));
    let r = m.get("/connections?include_totals=true").await;
    assert_eq!(r.body["total"], 1);
    let r = m.get("/connections/con_missing").await;
    assert_mgmt_error(&r, 404, "inexistent_connection");
}

#[tokio::test]
async fn connection_disable_signup_is_patched_and_read_back() {
    let m = Mgmt::start().await;
    let id = m.get("/connections").await.body[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let path = format!("/connections/{id}");
    assert_eq!(m.get(&path).await.body["options"]["disable_signup"], false);
    let r = m
        .patch(&path, json!({"options": {"disable_signup": true}}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["options"]["disable_signup"], true);
    assert_eq!(r.body["options"]["brute_force_protection"], true);
    assert_eq!(m.get(&path).await.body["options"]["disable_signup"], true);

    let r = m.patch(&path, json!({"options": {"colour": "red"}})).await;
    assert_mgmt_error(&r, 400, "invalid_body");
    let r = m
        .patch("/connections/con_missing", json!({"options": {}}))
        .await;
    assert_mgmt_error(&r, 404, "inexistent_connection");
    let reader = m.token_with(&["read:connections"]).await;
    let r = m
        .call_as(
            Some(&reader),
            reqwest::Method::PATCH,
            &path,
            Some(json!({"options": {"disable_signup": false}})),
        )
        .await;
    assert_mgmt_error(&r, 403, "insufficient_scope");
    assert_eq!(m.get(&path).await.body["options"]["disable_signup"], true);
}

#[tokio::test]
async fn bootstrap_is_idempotent_and_honours_presets() {
    let m = Mgmt::start().await;
    let again = bootstrap(
        m.server.store.as_ref(),
        &m.server.issuer,
        BootstrapOptions::default(),
        0,
    )
    .await
    .unwrap();
    assert!(again.is_none());
    assert_eq!(m.creds.admin_email, "admin@localhost");
    assert_eq!(
        m.creds.management_audience,
        format!("{}api/v2/", m.server.issuer)
    );
    let r = m.get("/users?q=email:%22admin@localhost%22").await;
    assert_eq!(r.body.as_array().unwrap().len(), 1);

    let fresh = crate::support::TestServer::start().await;
    let creds = bootstrap(
        fresh.store.as_ref(),
        &fresh.issuer,
        BootstrapOptions {
            client_id: Some("preset-client".into()),
            client_secret: Some("preset-secret-0123456789-0123456789".into()),
            admin_email: Some("ops@example.com".into()),
            admin_password: Some("preset password".into()),
        },
        0,
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(creds.management_client_id, "preset-client");
    let token = client_credentials(
        &fresh,
        "preset-client",
        "preset-secret-0123456789-0123456789",
        &creds.management_audience,
    )
    .await;
    assert!(!token.is_empty());
    let short = bootstrap(
        crate::support::TestServer::start().await.store.as_ref(),
        "http://x/",
        BootstrapOptions {
            client_secret: Some("short".into()),
            ..Default::default()
        },
        0,
    )
    .await;
    assert!(short.is_err());
}

#[tokio::test]
async fn logs_list_newest_first_with_totals() {
    let m = Mgmt::start().await;
    m.post("/roles", json!({"name": "auditor"})).await;
    let r = m.get("/logs?include_totals=true&per_page=1").await;
    assert_eq!(r.status, 200, "{}", r.text);
    // The token issuance (seccft) and the role creation (sapi).
    assert_eq!(r.body["total"], 2);
    assert_eq!(r.body["length"], 1);
    let newest = &r.body["logs"][0];
    assert!(newest["date"].as_str().unwrap().ends_with('Z'));
    // Same-second events have no defined order; check the set.
    let all = m.get("/logs").await;
    let mut types: Vec<&str> = all
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    types.sort_unstable();
    assert_eq!(types, ["sapi", "seccft"]);
    assert!(all.body[0]["details"].is_object());
    let id = newest["log_id"].as_str().unwrap();
    let one = m.get(&format!("/logs/{id}")).await;
    assert_eq!(one.body["log_id"], id);
    let r = m.get("/logs/nope").await;
    assert_mgmt_error(&r, 404, "inexistent_log");
    let r = m.get("/logs?page=3").await;
    assert_eq!(r.body, json!([]));
}

/// A tenant bootstrapped by an older version (system API without end-user
/// scopes, no Admin role) is brought up to date on the next start, and the
/// Admin role it creates is nobody's until an operator assigns it.
#[tokio::test]
async fn bootstrap_upgrades_an_older_system_api() {
    use gatehouse_core::model::{ResourceServer, ScopeDefinition};
    use gatehouse_server::routes::management::scopes;
    let server = crate::support::TestServer::start().await;
    let store = server.store.as_ref();
    let audience = format!("{}api/v2/", server.issuer);
    let mut old = ResourceServer::new("rs_old_system", "Management", audience.clone());
    old.is_system = true;
    old.scopes = scopes::ALL
        .iter()
        .map(|(value, _)| ScopeDefinition {
            value: value.to_string(),
            description: String::new(),
        })
        .collect();
    store.create_resource_server(&old, 0).await.unwrap();

    let again = bootstrap(store, &server.issuer, BootstrapOptions::default(), 0)
        .await
        .unwrap();
    assert!(
        again.is_none(),
        "an existing tenant shows no new credentials"
    );
    let upgraded = store
        .resource_server("rs_old_system")
        .await
        .unwrap()
        .unwrap();
    for scope in gatehouse_core::grant::END_USER_SCOPES {
        assert!(upgraded.defines_scope(scope), "{scope}");
    }
    assert_eq!(upgraded.scopes.len(), scopes::ALL.len() + 7);
    let roles = store.roles(gatehouse_store::Page::ALL).await.unwrap();
    let admin = roles
        .iter()
        .find(|r| r.name == "Admin")
        .expect("Admin role");
    let permissions = store.role_permissions(&admin.id).await.unwrap();
    assert_eq!(permissions.len(), scopes::ALL.len());
    assert!(permissions
        .iter()
        .all(|p| p.resource_server_identifier == audience));
    let holders = store
        .role_users(&admin.id, gatehouse_store::Page::ALL)
        .await
        .unwrap();
    assert!(holders.is_empty());
    // Running it once more changes nothing.
    bootstrap(store, &server.issuer, BootstrapOptions::default(), 0)
        .await
        .unwrap();
    let roles_after = store.roles(gatehouse_store::Page::ALL).await.unwrap();
    assert_eq!(roles_after.len(), roles.len());
    server.stop().await;
}
