//! Resource servers, clients and client grants.

use super::{assert_mgmt_error, client_credentials, Mgmt};
use serde_json::json;

#[tokio::test]
async fn resource_servers_crud() {
    let m = Mgmt::start().await;
    let r = m
        .post(
            "/resource-servers",
            json!({
                "name": "Measurements", "identifier": "https://measurements.example/",
                "scopes": [{"value": "read:measurements", "description": "Read"}],
                "enforce_policies": true, "token_dialect": "access_token_authz",
                "allow_offline_access": true
            }),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let id = r.body["id"].as_str().unwrap().to_string();
    assert_eq!(r.body["signing_alg"], "RS256");
    assert_eq!(r.body["is_system"], false);
    assert!(r.body.get("signing_secret").is_none());

    // By id and by identifier.
    let r = m.get(&format!("/resource-servers/{id}")).await;
    assert_eq!(r.body["name"], "Measurements");
    let r = m
        .get("/resource-servers/https%3A%2F%2Fmeasurements.example%2F")
        .await;
    assert_eq!(r.body["id"], id.as_str());

    // Duplicate identifier.
    let r = m
        .post(
            "/resource-servers",
            json!({"identifier": "https://measurements.example/"}),
        )
        .await;
    assert_mgmt_error(&r, 409, "resource_server_conflict");

    // Update; identifier is immutable.
    let r = m
        .patch(
            &format!("/resource-servers/{id}"),
            json!({"name": "M2", "token_lifetime": 3600, "signing_alg": "HS256"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["token_lifetime"], 3600);
    assert_eq!(r.body["token_lifetime_for_web"], 3600);
    assert!(r.body["signing_secret"].as_str().unwrap().len() >= 32);
    let r = m
        .patch(
            &format!("/resource-servers/{id}"),
            json!({"identifier": "https://else/"}),
        )
        .await;
    assert_mgmt_error(&r, 400, "invalid_body");
    assert!(r.body["message"].as_str().unwrap().contains("identifier"));
    for bad in [
        json!({"token_lifetime": 0}),
        json!({"token_lifetime": 2_592_001}),
        json!({"token_lifetime_for_web": 999_999}),
        json!({"scopes": [{"value": "a b"}]}),
        json!({"scopes": [{"value": "a"}, {"value": "a"}]}),
        json!({"signing_alg": "none"}),
        json!({"token_dialect": "weird"}),
    ] {
        let r = m
            .patch(&format!("/resource-servers/{id}"), bad.clone())
            .await;
        assert_mgmt_error(&r, 400, "invalid_body");
    }
    let r = m
        .post("/resource-servers", json!({"identifier": "  "}))
        .await;
    assert_mgmt_error(&r, 400, "invalid_body");

    // The system API is listed and protected.
    let r = m.get("/resource-servers?include_totals=true").await;
    assert_eq!(r.body["total"], 2);
    assert_eq!(r.body["start"], 0);
    assert_eq!(r.body["limit"], 50);
    let system = r.body["resource_servers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["is_system"] == true)
        .unwrap()
        .clone();
    assert_eq!(system["identifier"], m.creds.management_audience.as_str());
    let sys_id = system["id"].as_str().unwrap();
    let r = m.delete(&format!("/resource-servers/{sys_id}")).await;
    assert_mgmt_error(&r, 403, "operation_not_supported");

    let r = m.delete(&format!("/resource-servers/{id}")).await;
    assert_eq!(r.status, 204);
    let r = m.get(&format!("/resource-servers/{id}")).await;
    assert_mgmt_error(&r, 404, "inexistent_resource_server");
    let r = m.delete(&format!("/resource-servers/{id}")).await;
    assert_mgmt_error(&r, 404, "inexistent_resource_server");
    let r = m
        .patch("/resource-servers/missing", json!({"name": "x"}))
        .await;
    assert_mgmt_error(&r, 404, "inexistent_resource_server");

    // Successful writes are logged as `sapi`, failed ones are not.
    let logs = m
        .server
        .store
        .search_log_events(&gatehouse_store::LogQuery::all())
        .await
        .unwrap();
    let writes: Vec<&str> = logs
        .iter()
        .filter(|e| e.event_type == "sapi")
        .map(|e| e.description.as_str())
        .collect();
    assert!(
        writes.contains(&"Management API: POST /api/v2/resource-servers"),
        "{writes:?}"
    );
    assert!(
        writes.contains(&format!("Management API: DELETE /api/v2/resource-servers/{id}").as_str())
    );
    assert!(logs.iter().all(|e| e.event_type != "sapi"
        || e.client_id.as_deref() == Some(m.creds.management_client_id.as_str())));
    assert_eq!(writes.len(), 3, "{writes:?}");
}

#[tokio::test]
async fn clients_crud_and_secret_rotation() {
    let m = Mgmt::start().await;
    let r = m
        .post(
            "/clients",
            json!({"name": "Web", "app_type": "regular_web", "grant_types": ["password", "client_credentials"],
                   "callbacks": ["https://web.example/cb"], "oidc_conformant": true}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let id = r.body["client_id"].as_str().unwrap().to_string();
    let secret = r.body["client_secret"].as_str().unwrap().to_string();
    assert_eq!(r.body["token_endpoint_auth_method"], "client_secret_post");

    // Read back: the secret is never shown again.
    let r = m.get(&format!("/clients/{id}")).await;
    assert_eq!(r.body["name"], "Web");
    assert!(r.body.get("client_secret").is_none());
    let r = m.get(&format!("/clients/{id}?fields=name,app_type")).await;
    assert_eq!(r.body, json!({"name": "Web", "app_type": "regular_web"}));
    let r = m
        .get(&format!("/clients/{id}?fields=name&include_fields=false"))
        .await;
    assert!(r.body.get("name").is_none() && r.body.get("client_id").is_some());

    // SPAs are public: no secret.
    let r = m
        .post("/clients", json!({"name": "SPA", "app_type": "spa"}))
        .await;
    assert_eq!(r.status, 201);
    assert!(r.body.get("client_secret").is_none());
    assert_eq!(r.body["token_endpoint_auth_method"], "none");
    let spa = r.body["client_id"].as_str().unwrap().to_string();
    let r = m
        .post(&format!("/clients/{spa}/rotate-secret"), json!({}))
        .await;
    assert_mgmt_error(&r, 400, "invalid_body");

    // Filters and pagination.
    let r = m.get("/clients?app_type=spa").await;
    assert_eq!(r.body.as_array().unwrap().len(), 1);
    let r = m
        .get("/clients?include_totals=true&per_page=1&page=1")
        .await;
    assert_eq!(r.body["total"], 3);
    assert_eq!(r.body["clients"].as_array().unwrap().len(), 1);
    let r = m.get("/clients?page=5").await;
    assert_eq!(r.body, json!([]));

    // Rotation: the old secret stops working, the new one works.
    let rotated = m
        .post(&format!("/clients/{id}/rotate-secret"), json!({}))
        .await;
    assert_eq!(rotated.status, 200, "{}", rotated.text);
    let new_secret = rotated.body["client_secret"].as_str().unwrap();
    assert_ne!(new_secret, secret);
    let old = m
        .server
        .post_form(
            "/oauth/token",
            &[
                ("grant_type", "client_credentials"),
                ("client_id", &id),
                ("client_secret", &secret),
                ("audience", &m.creds.management_audience),
            ],
        )
        .await;
    assert_eq!(old.status, 401);

    // Update and errors.
    let r = m
        .patch(
            &format!("/clients/{id}"),
            json!({"name": "Web 2", "web_origins": ["https://web.example"]}),
        )
        .await;
    assert_eq!(r.body["name"], "Web 2");
    let r = m
        .patch(&format!("/clients/{id}"), json!({"grant_types": ["magic"]}))
        .await;
    assert_mgmt_error(&r, 400, "invalid_body");
    let r = m
        .patch(&format!("/clients/{id}"), json!({"name": ""}))
        .await;
    assert_mgmt_error(&r, 400, "invalid_body");
    let r = m.post("/clients", json!({"app_type": "spa"})).await;
    assert_mgmt_error(&r, 400, "invalid_body");
    let r = m
        .post("/clients", json!({"name": "x", "app_type": "toaster"}))
        .await;
    assert_mgmt_error(&r, 400, "invalid_body");
    let r = m.delete(&format!("/clients/{id}")).await;
    assert_eq!(r.status, 204);
    for r in [
        m.get(&format!("/clients/{id}")).await,
        m.delete(&format!("/clients/{id}")).await,
        m.patch(&format!("/clients/{id}"), json!({"name": "x"}))
            .await,
        m.post(&format!("/clients/{id}/rotate-secret"), json!({}))
            .await,
    ] {
        assert_mgmt_error(&r, 404, "inexistent_client");
    }
}

#[tokio::test]
async fn client_grants_with_both_paginations() {
    let m = Mgmt::start().await;
    let api = "https://api.example/";
    m.post(
        "/resource-servers",
        json!({"identifier": api, "scopes": [{"value": "read:x"}, {"value": "write:x"}]}),
    )
    .await;
    let mut clients = Vec::new();
    for i in 0..3 {
        let r = m
            .post(
                "/clients",
                json!({"name": format!("m2m {i}"), "app_type": "non_interactive"}),
            )
            .await;
        clients.push((
            r.body["client_id"].as_str().unwrap().to_string(),
            r.body["client_secret"].as_str().unwrap().to_string(),
        ));
    }
    let r = m
        .post(
            "/client-grants",
            json!({"client_id": clients[0].0, "audience": api, "scope": ["read:x"]}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["scope"], json!(["read:x"]));
    assert_eq!(r.body["organization_usage"], "deny");
    let gid = r.body["id"].as_str().unwrap().to_string();
    // The grant works at the token endpoint.
    let token = client_credentials(&m.server, &clients[0].0, &clients[0].1, api).await;
    assert!(!token.is_empty());

    let r = m
        .post(
            "/client-grants",
            json!({"client_id": clients[0].0, "audience": api, "scope": []}),
        )
        .await;
    assert_mgmt_error(&r, 409, "client_grant_conflict");
    let r = m
        .post(
            "/client-grants",
            json!({"client_id": "nope", "audience": api, "scope": []}),
        )
        .await;
    assert_mgmt_error(&r, 404, "inexistent_client");
    let r = m
        .post(
            "/client-grants",
            json!({"client_id": clients[1].0, "audience": "https://none/", "scope": []}),
        )
        .await;
    assert_mgmt_error(&r, 404, "inexistent_resource_server");
    let r = m
        .post(
            "/client-grants",
            json!({"client_id": clients[1].0, "audience": api, "scope": ["delete:x"]}),
        )
        .await;
    assert_mgmt_error(&r, 400, "invalid_body");
    let r = m
        .post(
            "/client-grants",
            json!({"client_id": clients[1].0, "audience": api, "scope": [], "allow_any_organization": true}),
        )
        .await;
    assert_mgmt_error(&r, 400, "invalid_body");
    for c in &clients[1..] {
        let r = m
            .post(
                "/client-grants",
                json!({"client_id": c.0, "audience": api, "scope": ["write:x"]}),
            )
            .await;
        assert_eq!(r.status, 201);
    }

    // page/per_page (v4) — 4 grants including the bootstrap one.
    let r = m
        .get("/client-grants?include_totals=true&per_page=3&page=1")
        .await;
    assert_eq!(r.body["total"], 4);
    assert_eq!(r.body["client_grants"].as_array().unwrap().len(), 1);
    let r = m
        .get(&format!(
            "/client-grants?audience={}",
            "https%3A%2F%2Fapi.example%2F"
        ))
        .await;
    assert_eq!(r.body.as_array().unwrap().len(), 3);
    let r = m
        .get(&format!("/client-grants?client_id={}", clients[0].0))
        .await;
    assert_eq!(r.body.as_array().unwrap().len(), 1);
    // from/take (v5): walk the checkpoints.
    let mut seen = 0;
    let mut from = String::new();
    loop {
        let r = m.get(&format!("/client-grants?take=3&from={from}")).await;
        assert_eq!(r.status, 200, "{}", r.text);
        seen += r.body["client_grants"].as_array().unwrap().len();
        match r.body["next"].as_str() {
            Some(next) => from = next.to_string(),
            None => break,
        }
    }
    assert_eq!(seen, 4);

    let r = m
        .patch(
            &format!("/client-grants/{gid}"),
            json!({"scope": ["read:x", "write:x"]}),
        )
        .await;
    assert_eq!(r.body["scope"], json!(["read:x", "write:x"]));
    let r = m
        .patch(&format!("/client-grants/{gid}"), json!({"scope": ["nope"]}))
        .await;
    assert_mgmt_error(&r, 400, "invalid_body");
    let r = m.get(&format!("/client-grants/{gid}")).await;
    assert_eq!(r.body["client_id"], clients[0].0.as_str());
    let r = m.delete(&format!("/client-grants/{gid}")).await;
    assert_eq!(r.status, 204);
    for r in [
        m.get(&format!("/client-grants/{gid}")).await,
        m.delete(&format!("/client-grants/{gid}")).await,
        m.patch(&format!("/client-grants/{gid}"), json!({})).await,
    ] {
        assert_mgmt_error(&r, 404, "inexistent_client_grant");
    }
}

/// Auth0's whole body for a missing and a duplicate client grant: the 404
/// of an unknown id at every verb (PATCH included) and the 409 of a second
/// grant for the same client and audience.
#[tokio::test]
async fn client_grant_errors_carry_auth0s_body() {
    let m = Mgmt::start().await;
    let api = "https://grants.example/";
    let r = m
        .post(
            "/resource-servers",
            json!({"identifier": api, "scopes": [{"value": "read:x"}]}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let r = m
        .post(
            "/clients",
            json!({"name": "m2m", "app_type": "non_interactive"}),
        )
        .await;
    let client_id = r.body["client_id"].as_str().unwrap().to_string();

    let missing = json!({
        "statusCode": 404,
        "error": "Not Found",
        "message": "The client grant does not exist",
        "errorCode": "inexistent_client_grant",
    });
    for r in [
        m.patch("/client-grants/cgr_unknown", json!({"scope": ["read:x"]}))
            .await,
        m.get("/client-grants/cgr_unknown").await,
        m.delete("/client-grants/cgr_unknown").await,
    ] {
        assert_eq!(r.body, missing, "{}", r.text);
    }

    let grant = json!({"client_id": client_id, "audience": api, "scope": ["read:x"]});
    assert_eq!(m.post("/client-grants", grant.clone()).await.status, 201);
    let r = m.post("/client-grants", grant).await;
    assert_eq!(
        r.body,
        json!({
            "statusCode": 409,
            "error": "Conflict",
            "message": "A client grant for this client and audience already exists.",
            "errorCode": "client_grant_conflict",
        }),
        "{}",
        r.text
    );
}
