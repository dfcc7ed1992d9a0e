//! The APIs section: creating an API, its settings, permissions and
//! machine-to-machine applications, the read-only system API; each bad
//! value refused next to its field with nothing written (checked through
//! the Management API), CSRF, and unknown ids.

use super::{error_of, unescaped, Dashboard};
use crate::authorize::location;
use serde_json::{json, Value};

const API: &str = "https://measurements.example.com";

/// Every API, as the Management API lists them.
async fn apis(dash: &Dashboard) -> Vec<Value> {
    let reply = dash.mgmt.get("/resource-servers").await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    reply.body.as_array().unwrap().clone()
}

async fn api_by_identifier(dash: &Dashboard, identifier: &str) -> Value {
    apis(dash)
        .await
        .into_iter()
        .find(|a| a["identifier"] == identifier)
        .unwrap_or_else(|| panic!("no API {identifier}"))
}

/// Creates an API through the dashboard; returns its id.
pub async fn create_api(dash: &Dashboard, name: &str, identifier: &str) -> String {
    let resp = dash
        .submit(
            "/admin/apis/new",
            "/admin/apis/new",
            &[
                ("name", name),
                ("identifier", identifier),
                ("signing_alg", "RS256"),
            ],
        )
        .await;
    assert_eq!(resp.status().as_u16(), 303);
    let to = location(&resp);
    assert!(to.ends_with("?done=created"), "{to}");
    to.trim_start_matches("/admin/apis/")
        .trim_end_matches("?done=created")
        .to_string()
}

/// The Settings form's fields for a good save, with `changes` on top.
fn settings<'a>(changes: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut fields: Vec<(&str, &str)> = vec![
        ("name", "Measurements"),
        ("profile", "auth0"),
        ("signing_alg", "RS256"),
        ("token_lifetime", "86400"),
        ("token_lifetime_for_web", "7200"),
        ("skip_consent", "on"),
    ];
    for (k, v) in changes {
        fields.retain(|(f, _)| f != k);
        if !v.is_empty() {
            fields.push((k, v));
        }
    }
    fields
}

async fn system_api_id(dash: &Dashboard) -> String {
    let system = apis(dash)
        .await
        .into_iter()
        .find(|a| a["is_system"] == true)
        .expect("the system API");
    system["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn creating_an_api_refuses_each_bad_value_and_writes_nothing() {
    let dash = Dashboard::start().await;
    let (status, html) = dash.page("/admin/apis").await;
    assert_eq!(status, 200);
    assert!(html.contains("System API · read-only"), "{html}");
    let before = apis(&dash).await.len();

    let resp = dash
        .submit(
            "/admin/apis/new",
            "/admin/apis/new",
            &[("name", " "), ("identifier", ""), ("signing_alg", "none")],
        )
        .await;
    assert_eq!(resp.status().as_u16(), 422);
    let html = resp.text().await.unwrap();
    assert!(error_of(&html, "name").contains("Give the API a name"));
    assert!(error_of(&html, "identifier").contains("Enter the identifier"));
    assert!(error_of(&html, "signing_alg").contains("Choose one"));
    assert!(html.contains("Nothing was saved"));

    // The Management API's own refusal: the identifier is taken.
    let system = dash.mgmt.creds.management_audience.clone();
    let resp = dash
        .submit(
            "/admin/apis/new",
            "/admin/apis/new",
            &[
                ("name", "Copy"),
                ("identifier", &system),
                ("signing_alg", "RS256"),
            ],
        )
        .await;
    assert_eq!(resp.status().as_u16(), 422);
    let html = resp.text().await.unwrap();
    assert!(html.contains("same identifier already exists"), "{html}");
    assert!(html.contains("value=\"Copy\""), "what was typed stays");
    assert_eq!(apis(&dash).await.len(), before, "nothing written");

    let id = create_api(&dash, "Measurements", API).await;
    let created = api_by_identifier(&dash, API).await;
    assert_eq!(created["id"], id.as_str());
    assert_eq!(created["name"], "Measurements");
    let (status, html) = dash.page(&format!("/admin/apis/{id}?done=created")).await;
    assert_eq!(status, 200);
    assert!(html.contains("API created."));
    let list = unescaped(&dash.page("/admin/apis").await.1);
    assert!(list.contains(API) && list.contains("RBAC off"), "{list}");
}

#[tokio::test]
async fn settings_refuse_each_bad_value_then_save_rbac_and_the_dialect() {
    let dash = Dashboard::start().await;
    let id = create_api(&dash, "Measurements", API).await;
    let page = format!("/admin/apis/{id}");
    let before = api_by_identifier(&dash, API).await;

    let resp = dash
        .submit(
            &page,
            &page,
            &settings(&[
                ("name", ""),
                ("add_permissions", "on"),
                ("profile", "jwt"),
                ("signing_alg", "XS1"),
                ("token_lifetime", "a day"),
                ("token_lifetime_for_web", "0"),
            ]),
        )
        .await;
    assert_eq!(resp.status().as_u16(), 422);
    let html = resp.text().await.unwrap();
    assert!(error_of(&html, "name").contains("Give the API a name"));
    assert!(error_of(&html, "add_permissions").contains("only added to the token when RBAC is on"));
    assert!(error_of(&html, "profile").contains("Auth0 or RFC 9068"));
    assert!(error_of(&html, "signing_alg").contains("Choose one"));
    assert!(error_of(&html, "token_lifetime").contains("whole number"));
    assert!(error_of(&html, "token_lifetime_for_web").contains("Between 1 and 2592000"));
    assert!(html.contains("value=\"a day\""), "what was typed stays");

    let resp = dash
        .submit(
            &page,
            &page,
            &settings(&[
                ("token_lifetime", "3600"),
                ("token_lifetime_for_web", "7200"),
            ]),
        )
        .await;
    assert_eq!(resp.status().as_u16(), 422);
    let html = resp.text().await.unwrap();
    assert!(error_of(&html, "token_lifetime_for_web").contains("At most the token lifetime (3600"));
    assert_eq!(
        api_by_identifier(&dash, API).await,
        before,
        "nothing written"
    );

    // RBAC on without permissions in the token: saved, and the page warns.
    let resp = dash
        .submit(&page, &page, &settings(&[("rbac", "on")]))
        .await;
    assert_eq!(resp.status().as_u16(), 303);
    assert_eq!(location(&resp), format!("{page}?done=saved"));
    let saved = api_by_identifier(&dash, API).await;
    assert_eq!(saved["enforce_policies"], true);
    assert_eq!(saved["token_dialect"], "access_token");
    let (_, html) = dash.page(&page).await;
    assert!(html.contains("RBAC is on, and permissions are not added to the token"));
    assert!(html.contains("openid profile email"));

    let resp = dash
        .submit(
            &page,
            &page,
            &settings(&[
                ("rbac", "on"),
                ("add_permissions", "on"),
                ("allow_offline_access", "on"),
                ("skip_consent", ""),
                ("token_lifetime", "3600"),
                ("token_lifetime_for_web", "600"),
                ("name", "Measurements API"),
            ]),
        )
        .await;
    assert_eq!(resp.status().as_u16(), 303);
    let saved = api_by_identifier(&dash, API).await;
    assert_eq!(saved["token_dialect"], "access_token_authz");
    assert_eq!(saved["allow_offline_access"], true);
    assert_eq!(
        saved["skip_consent_for_verifiable_first_party_clients"],
        false
    );
    assert_eq!(saved["token_lifetime"], 3600);
    assert_eq!(saved["token_lifetime_for_web"], 600);
    assert_eq!(saved["name"], "Measurements API");
    let (_, html) = dash.page(&page).await;
    assert!(!html.contains("permissions are not added"));
    assert!(html.contains("Permissions in token"));

    let resp = dash
        .submit(
            &page,
            &page,
            &settings(&[
                ("rbac", "on"),
                ("add_permissions", "on"),
                ("profile", "rfc9068"),
            ]),
        )
        .await;
    assert_eq!(resp.status().as_u16(), 303);
    assert_eq!(
        api_by_identifier(&dash, API).await["token_dialect"],
        "rfc9068_profile_authz"
    );
}

#[tokio::test]
async fn permissions_are_added_checked_and_removed_after_a_confirmation() {
    let dash = Dashboard::start().await;
    let id = create_api(&dash, "Measurements", API).await;
    let tab = format!("/admin/apis/{id}/permissions");
    let (_, html) = dash.page(&tab).await;
    assert!(html.contains("No permissions yet"));

    let add = |value: &'static str, description: &'static str| {
        let tab = tab.clone();
        let dash = &dash;
        async move {
            dash.submit(
                &tab,
                &tab,
                &[("value", value), ("description", description)],
            )
            .await
        }
    };
    let resp = add("read:measurements", "Read measurements").await;
    assert_eq!(resp.status().as_u16(), 303);
    assert_eq!(location(&resp), format!("{tab}?done=permission_added"));
    for (value, message) in [
        ("", "Enter the permission"),
        ("read measurements", "without spaces"),
        (
            "read:measurements",
            "already has the permission read:measurements",
        ),
    ] {
        let resp = add(value, "x").await;
        assert_eq!(resp.status().as_u16(), 422, "{value}");
        let html = resp.text().await.unwrap();
        assert!(
            error_of(&html, "value").contains(message),
            "{value}: {html}"
        );
    }
    let scopes = api_by_identifier(&dash, API).await["scopes"].clone();
    assert_eq!(
        scopes,
        json!([{"value": "read:measurements", "description": "Read measurements"}])
    );
    assert_eq!(add("write:measurements", "").await.status().as_u16(), 303);
    let (_, html) = dash.page(&tab).await;
    assert!(html.contains("write:measurements"));

    // Removing asks first; the confirmation's form does it.
    let confirm = format!("{tab}/remove?value=write%3Ameasurements");
    let (status, html) = dash.page(&confirm).await;
    assert_eq!(status, 200);
    assert!(html.contains("Remove this permission?"));
    assert_eq!(
        api_by_identifier(&dash, API).await["scopes"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let resp = dash.submit(&confirm, &confirm, &[]).await;
    assert_eq!(resp.status().as_u16(), 303);
    let scopes = api_by_identifier(&dash, API).await["scopes"].clone();
    assert_eq!(scopes.as_array().unwrap().len(), 1);
    assert_eq!(dash.page(&format!("{tab}/remove?value=nope")).await.0, 404);
}

#[tokio::test]
async fn machine_to_machine_applications_are_authorized_with_scopes_and_revoked() {
    let dash = Dashboard::start().await;
    let id = create_api(&dash, "Measurements", API).await;
    let tab = format!("/admin/apis/{id}/m2m");
    for value in ["read:measurements", "write:measurements"] {
        let perms = format!("/admin/apis/{id}/permissions");
        dash.submit(&perms, &perms, &[("value", value)]).await;
    }
    let (_, html) = dash.page(&tab).await;
    assert!(html.contains("Gatehouse Management Client"), "{html}");
    assert!(
        !html.contains("Stop authorizing"),
        "nobody is authorized yet"
    );
    let app = dash
        .mgmt
        .post(
            "/clients",
            json!({"name": "Nightly job", "app_type": "non_interactive"}),
        )
        .await;
    assert_eq!(app.status, 201, "{}", app.text);
    let client_id = app.body["client_id"].as_str().unwrap().to_string();
    let grants = || async {
        dash.mgmt
            .get(&format!(
                "/client-grants?client_id={client_id}&audience={API}"
            ))
            .await
            .body
    };
    let (_, html) = dash.page(&tab).await;
    assert!(html.contains("Nightly job"), "{html}");

    let action = format!("{tab}/{client_id}");
    let resp = dash
        .submit(
            &tab,
            &action,
            &[("authorized", "on"), ("scope", "delete:everything")],
        )
        .await;
    assert_eq!(resp.status().as_u16(), 422);
    assert!(resp
        .text()
        .await
        .unwrap()
        .contains("delete:everything is not a permission of this API"));
    let resp = dash
        .submit(&tab, &action, &[("scope", "read:measurements")])
        .await;
    assert_eq!(resp.status().as_u16(), 422);
    assert_eq!(grants().await, json!([]), "nothing written");

    let resp = dash
        .submit(
            &tab,
            &action,
            &[("authorized", "on"), ("scope", "read:measurements")],
        )
        .await;
    assert_eq!(resp.status().as_u16(), 303);
    assert_eq!(location(&resp), format!("{tab}?done=authorized"));
    let grant = grants().await[0].clone();
    assert_eq!(grant["scope"], json!(["read:measurements"]));
    assert_eq!(grant["subject_type"], "client");

    let resp = dash
        .submit(
            &tab,
            &action,
            &[
                ("authorized", "on"),
                ("scope", "read:measurements"),
                ("scope", "write:measurements"),
            ],
        )
        .await;
    assert_eq!(location(&resp), format!("{tab}?done=grant_saved"));
    assert_eq!(
        grants().await[0]["scope"],
        json!(["read:measurements", "write:measurements"])
    );

    // Unticking asks first.
    let resp = dash.submit(&tab, &action, &[]).await;
    let revoke = format!("{tab}/{client_id}/revoke");
    assert_eq!(location(&resp), revoke);
    assert_eq!(grants().await.as_array().unwrap().len(), 1);
    let (status, html) = dash.page(&revoke).await;
    assert_eq!(status, 200);
    assert!(html.contains("Stop authorizing this application?"));
    let resp = dash.submit(&revoke, &revoke, &[]).await;
    assert_eq!(location(&resp), format!("{tab}?done=revoked"));
    assert_eq!(grants().await, json!([]));
    assert_eq!(dash.page(&revoke).await.0, 404, "nothing left to revoke");
    assert_eq!(dash.page(&format!("{tab}/nope/revoke")).await.0, 404);
    let resp = dash
        .submit(&tab, &format!("{tab}/nope"), &[("authorized", "on")])
        .await;
    assert_eq!(resp.status().as_u16(), 404);
}

#[tokio::test]
async fn the_system_api_is_shown_but_cannot_be_edited_or_deleted() {
    let dash = Dashboard::start().await;
    let id = system_api_id(&dash).await;
    let before = apis(&dash).await;
    let page = format!("/admin/apis/{id}");
    let (status, html) = dash.page(&page).await;
    assert_eq!(status, 200);
    assert!(html.contains("The Management API") && !html.contains("Delete API"));
    let (_, html) = dash.page(&format!("{page}/permissions")).await;
    assert!(!html.contains("Add a permission"));
    assert_eq!(dash.page(&format!("{page}/delete")).await.0, 403);
    let resp = dash
        .submit(&page, &page, &settings(&[("rbac", "on")]))
        .await;
    assert_eq!(resp.status().as_u16(), 403);
    let perms = format!("{page}/permissions");
    let resp = dash.submit(&perms, &perms, &[("value", "x:y")]).await;
    assert_eq!(resp.status().as_u16(), 403);
    let resp = dash.submit(&page, &format!("{page}/delete"), &[]).await;
    assert_eq!(resp.status().as_u16(), 403);
    assert_eq!(apis(&dash).await, before);
    // Its M2M tab is open: the bootstrap Management client is authorized.
    let (status, html) = dash.page(&format!("{page}/m2m")).await;
    assert_eq!(status, 200);
    assert!(html.contains("Gatehouse Management Client"), "{html}");
}

#[tokio::test]
async fn forms_without_the_csrf_token_change_nothing() {
    let dash = Dashboard::start().await;
    let id = create_api(&dash, "Measurements", API).await;
    let before = apis(&dash).await;
    let page = format!("/admin/apis/{id}");
    for token in [None, Some("forged")] {
        let with = |pairs: &[(&'static str, &'static str)]| {
            let mut all: Vec<(&str, &str)> = token.map(|t| ("csrf", t)).into_iter().collect();
            all.extend_from_slice(pairs);
            all
        };
        let posts = [
            (
                "/admin/apis/new".to_string(),
                with(&[
                    ("name", "X"),
                    ("identifier", "https://x"),
                    ("signing_alg", "RS256"),
                ]),
            ),
            (page.clone(), with(&settings(&[("rbac", "on")]))),
            (format!("{page}/permissions"), with(&[("value", "read:x")])),
            (format!("{page}/delete"), with(&[])),
        ];
        for (action, pairs) in posts {
            let resp = dash.post(&action, &pairs).await;
            assert_eq!(resp.status().as_u16(), 403, "{action}");
        }
    }
    assert_eq!(apis(&dash).await, before);
}

#[tokio::test]
async fn unknown_ids_get_the_not_found_page_and_deleting_asks_first() {
    let dash = Dashboard::start().await;
    let id = create_api(&dash, "Measurements", API).await;
    let role = dash
        .mgmt
        .post("/roles", json!({"name": "reader"}))
        .await
        .body["id"]
        .as_str()
        .unwrap()
        .to_string();
    for bad in ["nope", role.as_str(), "%00", "a%2Fb"] {
        for tab in ["", "/permissions", "/m2m", "/delete"] {
            let (status, html) = dash.page(&format!("/admin/apis/{bad}{tab}")).await;
            assert_eq!(status, 404, "{bad}{tab}: {html}");
            assert!(html.contains("Not found"));
        }
    }
    let resp = dash
        .submit("/admin/apis", "/admin/apis/nope", &settings(&[]))
        .await;
    assert_eq!(resp.status().as_u16(), 404);

    let confirm = format!("/admin/apis/{id}/delete");
    let (status, html) = dash.page(&confirm).await;
    assert_eq!(status, 200);
    assert!(html.contains("Delete this API?"));
    assert_eq!(apis(&dash).await.len(), 2);
    let resp = dash.submit(&confirm, &confirm, &[]).await;
    assert_eq!(location(&resp), "/admin/apis?done=deleted");
    assert_eq!(apis(&dash).await.len(), 1);
    assert_eq!(dash.page(&format!("/admin/apis/{id}")).await.0, 404);
}
