//! Applications in the dashboard: create by type with Auth0's defaults, the
//! secret shown once, settings and their validation, API access, rotation,
//! deletion, and the applications Gatehouse relies on.

use super::{csrf_in, Dashboard};
use crate::authorize::{location, unescape};
use crate::management::client_credentials;
use serde_json::{json, Value};

const API: &str = "https://measurements.example.com";

/// Creates an application through the dashboard; returns the response.
async fn create(dash: &Dashboard, name: &str, app_type: &str) -> reqwest::Response {
    dash.submit(
        "/admin/applications/new",
        "/admin/applications/new",
        &[("name", name), ("app_type", app_type)],
    )
    .await
}

/// Every application, from the Management API.
async fn clients(dash: &Dashboard) -> Vec<Value> {
    dash.mgmt
        .get("/clients")
        .await
        .body
        .as_array()
        .unwrap()
        .clone()
}

async fn client_named(dash: &Dashboard, name: &str) -> Value {
    clients(dash)
        .await
        .into_iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no client {name}"))
}

/// A dashboard page with the escaping of `/`, quotes and `&` undone.
async fn page(dash: &Dashboard, path: &str) -> (u16, String) {
    let (status, html) = dash.page(path).await;
    (status, unescape(&html))
}

/// The secret shown on a page, if any.
fn secret_in(html: &str) -> Option<String> {
    let start = html.find("id=\"client-secret\"")?;
    let value = html[start..].find("value=\"")? + start + 7;
    let end = html[value..].find('"')? + value;
    Some(html[value..end].to_string())
}

/// A machine-to-machine application with its secret (shown once).
async fn m2m(dash: &Dashboard, name: &str) -> (String, String) {
    let resp = create(dash, name, "non_interactive").await;
    assert_eq!(resp.status().as_u16(), 200);
    let html = resp.text().await.unwrap();
    let secret = secret_in(&html).expect("the secret on the created page");
    let id = client_named(dash, name).await["client_id"]
        .as_str()
        .unwrap()
        .to_string();
    (id, secret)
}

async fn create_api(dash: &Dashboard) -> String {
    let reply = dash
        .mgmt
        .post(
            "/resource-servers",
            json!({"name": "Measurements", "identifier": API,
                   "scopes": [{"value": "read:measurements", "description": "Read them"},
                              {"value": "write:measurements"}]}),
        )
        .await;
    assert_eq!(reply.status.as_u16(), 201, "{}", reply.text);
    reply.body["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn each_type_is_created_with_auth0s_defaults() {
    let dash = Dashboard::start().await;
    let (status, html) = page(&dash, "/admin/applications/new").await;
    assert_eq!(status, 200);
    for t in ["spa", "regular_web", "native", "non_interactive"] {
        assert!(html.contains(&format!("value=\"{t}\"")), "{t}");
    }
    let cases = [
        ("Shop SPA", "spa", "none", false),
        ("Shop site", "regular_web", "client_secret_post", true),
        ("Shop app", "native", "none", false),
        ("Shop cron", "non_interactive", "client_secret_post", true),
    ];
    for (name, app_type, auth, has_secret) in cases {
        let resp = create(&dash, name, app_type).await;
        let client = client_named(&dash, name).await;
        let id = client["client_id"].as_str().unwrap();
        if has_secret {
            assert_eq!(resp.status().as_u16(), 200, "{name}");
            let html = resp.text().await.unwrap();
            assert!(secret_in(&html).is_some(), "{name}");
            assert!(html.contains("not shown again"));
        } else {
            assert_eq!(resp.status().as_u16(), 303, "{name}");
            assert_eq!(
                location(&resp),
                format!("/admin/applications/{id}/quickstart?done=created")
            );
        }
        assert_eq!(client["app_type"], app_type);
        assert_eq!(client["token_endpoint_auth_method"], auth, "{name}");
        let expected = gatehouse_core::model::default_grant_types(
            serde_json::from_value(json!(app_type)).unwrap(),
        );
        assert_eq!(client["grant_types"], json!(expected), "{name}");
        let rotation = if app_type == "spa" {
            "rotating"
        } else {
            "non-rotating"
        };
        assert_eq!(client["refresh_token"]["rotation_type"], rotation, "{name}");
    }
    let (_, list) = page(&dash, "/admin/applications").await;
    for (name, ..) in cases {
        assert!(list.contains(name), "{name}");
    }
    assert!(list.contains("Machine to machine") && list.contains("Single-page app"));
}

#[tokio::test]
async fn the_create_form_names_each_bad_value_and_writes_nothing() {
    let dash = Dashboard::start().await;
    let before = clients(&dash).await.len();
    let resp = create(&dash, "   ", "robot").await;
    assert_eq!(resp.status().as_u16(), 422);
    let html = resp.text().await.unwrap();
    assert!(html.contains("id=\"e-name\"") && html.contains("Enter a name."));
    assert!(html.contains("id=\"e-app_type\"") && html.contains("Choose the kind"));
    let long = "x".repeat(101);
    let resp = create(&dash, &long, "spa").await;
    assert_eq!(resp.status().as_u16(), 422);
    let html = resp.text().await.unwrap();
    assert!(html.contains("at most 100"), "{html}");
    // What was typed stays, the type too.
    assert!(html.contains("value=\"spa\" checked"));
    assert_eq!(clients(&dash).await.len(), before);
    // Without the CSRF token nothing is created either.
    let resp = dash
        .post(
            "/admin/applications/new",
            &[("name", "Forged"), ("app_type", "spa")],
        )
        .await;
    assert_eq!(resp.status().as_u16(), 403);
    let resp = dash
        .post(
            "/admin/applications/new",
            &[("csrf", "forged"), ("name", "Forged"), ("app_type", "spa")],
        )
        .await;
    assert_eq!(resp.status().as_u16(), 403);
    assert_eq!(clients(&dash).await.len(), before);
}

#[tokio::test]
async fn the_secret_is_shown_once_and_rotation_retires_it() {
    let dash = Dashboard::start().await;
    let api = create_api(&dash).await;
    let (id, secret) = m2m(&dash, "Cron").await;
    let server = dash.server();
    // The secret appears on no later page.
    for tab in ["", "/quickstart", "/apis", "/danger"] {
        let (status, html) = page(&dash, &format!("/admin/applications/{id}{tab}")).await;
        assert_eq!(status, 200, "{tab}");
        assert!(!html.contains(&secret), "{tab}");
        assert!(!html.contains("id=\"client-secret\""), "{tab}");
    }
    let (_, list) = page(&dash, "/admin/applications").await;
    assert!(!list.contains(&secret));
    // Authorize it on the API, then client credentials work with the secret.
    let resp = dash
        .submit(
            &format!("/admin/applications/{id}/apis"),
            &format!("/admin/applications/{id}/apis/{api}"),
            &[("scope", "read:measurements")],
        )
        .await;
    assert_eq!(resp.status().as_u16(), 303);
    client_credentials(server, &id, &secret, API).await;
    // Rotation asks first, then shows the new secret once.
    let (status, confirm) = dash
        .page(&format!("/admin/applications/{id}/rotate-secret"))
        .await;
    assert_eq!(status, 200);
    assert!(confirm.contains("stops working"));
    let resp = dash
        .post(
            &format!("/admin/applications/{id}/rotate-secret"),
            &[("csrf", &csrf_in(&confirm))],
        )
        .await;
    assert_eq!(resp.status().as_u16(), 200);
    let new_secret = secret_in(&resp.text().await.unwrap()).expect("the new secret");
    assert_ne!(new_secret, secret);
    let refused = server
        .post_form(
            "/oauth/token",
            &[
                ("grant_type", "client_credentials"),
                ("client_id", &id),
                ("client_secret", &secret),
                ("audience", API),
            ],
        )
        .await;
    assert_eq!(refused.status, 401, "{}", refused.text);
    client_credentials(server, &id, &new_secret, API).await;
    let (_, later) = page(&dash, &format!("/admin/applications/{id}/quickstart")).await;
    assert!(!later.contains(&new_secret));
    // A forged rotation changes nothing.
    let resp = dash
        .post(
            &format!("/admin/applications/{id}/rotate-secret"),
            &[("csrf", "forged")],
        )
        .await;
    assert_eq!(resp.status().as_u16(), 403);
    client_credentials(server, &id, &new_secret, API).await;
}

#[tokio::test]
async fn public_applications_have_no_secret_to_rotate() {
    let dash = Dashboard::start().await;
    create(&dash, "Shop SPA", "spa").await;
    let id = client_named(&dash, "Shop SPA").await["client_id"]
        .as_str()
        .unwrap()
        .to_string();
    let (_, danger) = page(&dash, &format!("/admin/applications/{id}/danger")).await;
    assert!(danger.contains("no secret to rotate"));
    let (status, _) = dash
        .page(&format!("/admin/applications/{id}/rotate-secret"))
        .await;
    assert_eq!(status, 400);
    let resp = dash
        .submit(
            "/admin/applications",
            &format!("/admin/applications/{id}/rotate-secret"),
            &[],
        )
        .await;
    assert_eq!(resp.status().as_u16(), 400);
}

fn settings_pairs<'a>() -> Vec<(&'a str, &'a str)> {
    vec![
        ("name", "Shop SPA v2"),
        ("description", "Angular front end"),
        (
            "callbacks",
            "http://localhost:4200\nhttp://localhost:4200/callback",
        ),
        ("web_origins", "http://localhost:4200"),
        ("allowed_logout_urls", "http://localhost:4200/"),
        ("grant_types", "authorization_code"),
        ("grant_types", "refresh_token"),
        ("rotation_type", "rotating"),
        ("token_lifetime", "86400"),
        ("idle_token_lifetime", "3600"),
    ]
}

#[tokio::test]
async fn settings_are_saved_through_the_api() {
    let dash = Dashboard::start().await;
    create(&dash, "Shop SPA", "spa").await;
    let id = client_named(&dash, "Shop SPA").await["client_id"]
        .as_str()
        .unwrap()
        .to_string();
    let settings = format!("/admin/applications/{id}");
    let (status, html) = page(&dash, &settings).await;
    assert_eq!(status, 200);
    assert!(html.contains("Allowed Callback URLs") && html.contains("Refresh Token"));
    assert!(
        !html.contains("value=\"client_credentials\""),
        "a SPA is not offered client credentials"
    );
    let resp = dash.submit(&settings, &settings, &settings_pairs()).await;
    assert_eq!(resp.status().as_u16(), 303);
    assert_eq!(location(&resp), format!("{settings}?done=saved"));
    let client = dash.mgmt.get(&format!("/clients/{id}")).await.body;
    assert_eq!(client["name"], "Shop SPA v2");
    assert_eq!(client["description"], "Angular front end");
    assert_eq!(
        client["callbacks"],
        json!(["http://localhost:4200", "http://localhost:4200/callback"])
    );
    assert_eq!(client["web_origins"], json!(["http://localhost:4200"]));
    assert_eq!(
        client["grant_types"],
        json!(["authorization_code", "refresh_token"])
    );
    assert_eq!(client["refresh_token"]["token_lifetime"], 86400);
    assert_eq!(client["refresh_token"]["idle_token_lifetime"], 3600);
    assert_eq!(client["refresh_token"]["expiration_type"], "expiring");
    let (_, saved) = page(&dash, &format!("{settings}?done=saved")).await;
    assert!(saved.contains("Settings saved."));
    // The notice is a fixed text, never what the query says.
    let (_, odd) = page(&dash, &format!("{settings}?done=%3Cb%3Ehi")).await;
    assert!(!odd.contains("<b>hi"));
}

#[tokio::test]
async fn every_bad_setting_gets_its_message_and_nothing_is_written() {
    let dash = Dashboard::start().await;
    create(&dash, "Shop SPA", "spa").await;
    let before = client_named(&dash, "Shop SPA").await;
    let id = before["client_id"].as_str().unwrap().to_string();
    let settings = format!("/admin/applications/{id}");
    let long = "d".repeat(141);
    let cases: [(&str, &str, &str); 10] = [
        ("name", "", "Enter a name."),
        ("description", &long, "at most 140"),
        ("callbacks", "http://ok.example/\nnot a url", "Entry 2"),
        ("web_origins", "https://a.example/path", "no path"),
        ("allowed_logout_urls", "/relative", "not an absolute URL"),
        ("grant_types", "client_credentials", "is not a grant type"),
        ("rotation_type", "sometimes", "rotating or non-rotating"),
        ("token_lifetime", "-5", "whole number of seconds"),
        ("token_lifetime", "31557601", "whole number of seconds"),
        (
            "idle_token_lifetime",
            "99999999999999999999",
            "whole number of seconds",
        ),
    ];
    for (field, value, message) in cases {
        let mut pairs = settings_pairs();
        pairs.retain(|(k, _)| *k != field);
        pairs.push((field, value));
        let resp = dash.submit(&settings, &settings, &pairs).await;
        assert_eq!(resp.status().as_u16(), 422, "{field}={value}");
        let html = unescape(&resp.text().await.unwrap());
        let at = html
            .find(&format!("id=\"e-{field}\""))
            .unwrap_or_else(|| panic!("no message next to {field}: {html}"));
        assert!(html[at..].contains(message), "{field}: {message}");
        // What was typed is shown again.
        assert!(html.contains("Angular front end") || field == "description");
        assert_eq!(client_named(&dash, "Shop SPA").await, before, "{field}");
    }
    // All at once: one message per field, still nothing written.
    let all: Vec<(&str, &str)> = cases.iter().map(|(f, v, _)| (*f, *v)).collect();
    let resp = dash.submit(&settings, &settings, &all).await;
    let html = resp.text().await.unwrap();
    for (field, ..) in cases {
        assert!(html.contains(&format!("id=\"e-{field}\"")), "{field}");
    }
    assert_eq!(client_named(&dash, "Shop SPA").await, before);
    // A forged form changes nothing.
    let mut forged = vec![("csrf", "forged")];
    forged.extend(settings_pairs());
    assert_eq!(dash.post(&settings, &forged).await.status().as_u16(), 403);
    assert_eq!(client_named(&dash, "Shop SPA").await, before);
}

#[tokio::test]
async fn the_apis_tab_grants_and_removes_client_credentials_access() {
    let dash = Dashboard::start().await;
    let api = create_api(&dash).await;
    let (id, secret) = m2m(&dash, "Cron").await;
    let tab = format!("/admin/applications/{id}/apis");
    let (_, html) = page(&dash, &tab).await;
    assert!(html.contains("Measurements") && html.contains("Not authorized"));
    assert!(html.contains("read:measurements") && html.contains("Read them"));
    let action = format!("{tab}/{api}");
    // A scope the API does not define is refused next to the scopes.
    let resp = dash
        .submit(&tab, &action, &[("scope", "delete:everything")])
        .await;
    assert_eq!(resp.status().as_u16(), 422);
    let html = unescape(&resp.text().await.unwrap());
    assert!(html.contains(&format!("id=\"e-scope-{api}\"")) && html.contains("delete:everything"));
    assert!(dash
        .mgmt
        .get("/client-grants")
        .await
        .body
        .as_array()
        .unwrap()
        .iter()
        .all(|g| g["client_id"] != id.as_str()));
    // Authorize with one scope, then change it.
    let resp = dash
        .submit(&tab, &action, &[("scope", "read:measurements")])
        .await;
    assert_eq!(location(&resp), format!("{tab}?done=access_saved"));
    let grants = dash
        .mgmt
        .get(&format!("/client-grants?client_id={id}"))
        .await
        .body;
    assert_eq!(grants[0]["scope"], json!(["read:measurements"]));
    let token = client_credentials(dash.server(), &id, &secret, API).await;
    assert!(!token.is_empty());
    let resp = dash
        .submit(
            &tab,
            &action,
            &[
                ("scope", "read:measurements"),
                ("scope", "write:measurements"),
            ],
        )
        .await;
    assert_eq!(resp.status().as_u16(), 303);
    let grants = dash
        .mgmt
        .get(&format!("/client-grants?client_id={id}"))
        .await
        .body;
    assert_eq!(grants.as_array().unwrap().len(), 1);
    assert_eq!(
        grants[0]["scope"],
        json!(["read:measurements", "write:measurements"])
    );
    let (_, html) = page(&dash, &tab).await;
    assert!(html.contains("Authorized") && html.contains("Remove access"));
    // Removing asks first; a forged confirmation changes nothing.
    let remove = format!("{action}/remove");
    let (status, confirm) = page(&dash, &remove).await;
    assert_eq!(status, 200);
    assert_eq!(
        dash.post(&remove, &[("csrf", "forged")])
            .await
            .status()
            .as_u16(),
        403
    );
    assert_eq!(
        dash.mgmt
            .get(&format!("/client-grants?client_id={id}"))
            .await
            .body
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let resp = dash.post(&remove, &[("csrf", &csrf_in(&confirm))]).await;
    assert_eq!(location(&resp), format!("{tab}?done=access_removed"));
    assert_eq!(
        dash.mgmt
            .get(&format!("/client-grants?client_id={id}"))
            .await
            .body,
        json!([])
    );
    let refused = dash
        .server()
        .post_form(
            "/oauth/token",
            &[
                ("grant_type", "client_credentials"),
                ("client_id", &id),
                ("client_secret", &secret),
                ("audience", API),
            ],
        )
        .await;
    assert_eq!(refused.status, 403, "{}", refused.text);
    let (status, _) = page(&dash, &remove).await;
    assert_eq!(status, 404, "no access left to remove");
}

#[tokio::test]
async fn delete_asks_first_and_needs_the_csrf_token() {
    let dash = Dashboard::start().await;
    create(&dash, "Old app", "regular_web").await;
    let id = client_named(&dash, "Old app").await["client_id"]
        .as_str()
        .unwrap()
        .to_string();
    let (_, danger) = page(&dash, &format!("/admin/applications/{id}/danger")).await;
    assert!(danger.contains(&format!("/admin/applications/{id}/delete")));
    let action = format!("/admin/applications/{id}/delete");
    let (status, confirm) = page(&dash, &action).await;
    assert_eq!(status, 200);
    assert!(confirm.contains("cannot be undone") && confirm.contains("method=\"post\""));
    assert_eq!(dash.post(&action, &[]).await.status().as_u16(), 403);
    assert_eq!(
        dash.post(&action, &[("csrf", "forged")])
            .await
            .status()
            .as_u16(),
        403
    );
    assert_eq!(
        dash.mgmt
            .get(&format!("/clients/{id}"))
            .await
            .status
            .as_u16(),
        200
    );
    let resp = dash.post(&action, &[("csrf", &csrf_in(&confirm))]).await;
    assert_eq!(location(&resp), "/admin/applications?done=deleted");
    let deleted = format!("Dashboard: DELETE /api/v2/clients/{id}");
    assert!(super::settings::logged(&dash, &deleted).await);
    assert_eq!(
        dash.mgmt
            .get(&format!("/clients/{id}"))
            .await
            .status
            .as_u16(),
        404
    );
    let (_, list) = page(&dash, "/admin/applications?done=deleted").await;
    assert!(list.contains("Application deleted.") && !list.contains("Old app"));
    let (status, _) = page(&dash, &format!("/admin/applications/{id}")).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn the_dashboard_and_management_clients_are_marked_and_kept() {
    let dash = Dashboard::start().await;
    let dashboard = client_named(&dash, "Gatehouse Dashboard").await["client_id"]
        .as_str()
        .unwrap()
        .to_string();
    let management = dash.mgmt.creds.management_client_id.clone();
    let (_, list) = page(&dash, "/admin/applications").await;
    assert!(list.contains("badge warn\">Dashboard") && list.contains("badge warn\">System"));
    for id in [&dashboard, &management] {
        let (status, danger) = page(&dash, &format!("/admin/applications/{id}/danger")).await;
        assert_eq!(status, 200);
        assert!(danger.contains("cannot be deleted here"));
        assert!(!danger.contains(&format!("/admin/applications/{id}/delete")));
        let (status, html) = page(&dash, &format!("/admin/applications/{id}/delete")).await;
        assert_eq!(status, 403);
        assert!(html.contains("lock"));
        let resp = dash
            .submit(
                "/admin/applications",
                &format!("/admin/applications/{id}/delete"),
                &[],
            )
            .await;
        assert_eq!(resp.status().as_u16(), 403);
        assert_eq!(
            dash.mgmt
                .get(&format!("/clients/{id}"))
                .await
                .status
                .as_u16(),
            200
        );
    }
    // The dashboard's own settings are shown, not editable.
    let settings = format!("/admin/applications/{dashboard}");
    let (_, html) = page(&dash, &settings).await;
    assert!(html.contains("fieldset disabled") && !html.contains("Save changes"));
    let resp = dash.submit(&settings, &settings, &settings_pairs()).await;
    assert_eq!(resp.status().as_u16(), 403);
    assert_eq!(
        client_named(&dash, "Gatehouse Dashboard").await["grant_types"],
        json!(["authorization_code"])
    );
    // Signing in still works.
    let (status, _) = page(&dash, "/admin/applications").await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn unknown_and_foreign_ids_get_the_404_page() {
    let dash = Dashboard::start().await;
    let api = create_api(&dash).await;
    let (id, _) = m2m(&dash, "Cron").await;
    for path in [
        "/admin/applications/nope".to_string(),
        "/admin/applications/nope/quickstart".into(),
        "/admin/applications/nope/apis".into(),
        "/admin/applications/nope/danger".into(),
        "/admin/applications/nope/delete".into(),
        "/admin/applications/nope/rotate-secret".into(),
        format!("/admin/applications/{api}"),
        "/admin/applications/%00".into(),
        "/admin/applications/%FF".into(),
        "/admin/applications/%FF/danger".into(),
        format!("/admin/applications/{}", "x".repeat(300)),
        format!("/admin/applications/{id}/apis/nope/remove"),
        format!("/admin/applications/{id}/apis/%00/remove"),
    ] {
        let (status, html) = page(&dash, &path).await;
        assert_eq!(status, 404, "{path}: {html}");
        assert!(html.contains("Not found"), "{path}");
    }
    for action in [
        "/admin/applications/%FF".to_string(),
        "/admin/applications/nope".to_string(),
        "/admin/applications/nope/delete".into(),
        format!("/admin/applications/{id}/apis/nope"),
        format!("/admin/applications/nope/apis/{api}"),
    ] {
        let resp = dash
            .submit("/admin/applications", &action, &[("name", "x")])
            .await;
        assert_eq!(resp.status().as_u16(), 404, "{action}");
    }
    // A signed-out browser is sent to sign in, whatever the path.
    let stranger = dash.server().browser();
    let resp =
        crate::authorize::get(&stranger, &dash.server().url("/admin/applications/%FF")).await;
    assert!(location(&resp).starts_with("/admin/sign-in"));
}

#[tokio::test]
async fn quickstarts_are_filled_with_the_real_values() {
    let dash = Dashboard::start().await;
    create_api(&dash).await;
    create(&dash, "Shop SPA", "spa").await;
    let id = client_named(&dash, "Shop SPA").await["client_id"]
        .as_str()
        .unwrap()
        .to_string();
    let (status, html) = dash
        .page(&format!("/admin/applications/{id}/quickstart?done=created"))
        .await;
    assert_eq!(status, 200);
    let html = unescape(&html);
    let issuer = &dash.server().issuer;
    let domain = issuer.trim_end_matches('/');
    assert!(html.contains("Application created."));
    assert!(html.contains(&format!("domain: '{domain}',")), "{html}");
    assert!(html.contains(&format!("clientId: '{id}',")));
    assert!(html.contains(&format!("audience: '{API}',")));
    assert!(html.contains("provideAuth0") && html.contains("authHttpInterceptorFn"));
    assert!(html.contains("allowedList"));
    assert!(html.contains(&format!("customQueryParams: {{ audience: '{API}' }}")));
    assert!(html.contains(&format!("issuer: '{issuer}',")));
    assert!(html.contains("data-copy=\"qs-spa-js\""));
    let (id, _) = m2m(&dash, "Cron").await;
    let (_, html) = page(
        &dash,
        &format!("/admin/applications/{id}/quickstart?audience=nope"),
    )
    .await;
    let html = unescape(&html);
    assert!(html.contains("grant_type=client_credentials"));
    assert!(html.contains(&format!("audience='{API}'")));
    assert!(html.contains("YOUR_CLIENT_SECRET"));
}

#[tokio::test]
async fn the_list_pages() {
    let dash = Dashboard::start().await;
    for n in 0..26 {
        let reply = dash
            .mgmt
            .post(
                "/clients",
                json!({"name": format!("App {n:02}"), "app_type": "spa"}),
            )
            .await;
        assert_eq!(reply.status.as_u16(), 201);
    }
    let (_, first) = page(&dash, "/admin/applications").await;
    assert!(first.contains("href=\"/admin/applications?page=1\""));
    assert!(!first.contains("Previous"));
    let (_, second) = page(&dash, "/admin/applications?page=1").await;
    assert!(second.contains("Previous") && !second.contains("page=2"));
    let rows = |html: &str| html.matches("<td><a href=").count();
    assert_eq!(rows(&first), 25);
    assert_eq!(
        rows(&second),
        26 + 2 - 25,
        "the dashboard and management clients too"
    );
    for n in 0..26 {
        let name = format!("App {n:02}<");
        assert!(first.contains(&name) ^ second.contains(&name), "{name}");
    }
    let (status, far) = page(&dash, "/admin/applications?page=999999999999").await;
    assert_eq!(status, 200);
    assert_eq!(
        rows(&far),
        25,
        "a page out of range falls back to the first"
    );
    let (_, empty) = page(&dash, "/admin/applications?page=50").await;
    assert!(empty.contains("No applications on this page"));
}
