//! The Roles section: creating a role, its settings, permissions and
//! members; each bad value refused next to its field with nothing written
//! (checked through the Management API), CSRF, unknown ids, and seed 000
//! set up entirely in these pages, checked with the simulator.

use super::apis::create_api;
use super::{error_of, unescaped, Dashboard};
use crate::authorize::location;
use gatehouse_core::model::User;
use gatehouse_store::StoredUser;
use serde_json::{json, Value};

const API: &str = "https://measurements.example.com";
const PASSWORD: &str = "a-long-enough-password-1";

async fn roles(dash: &Dashboard) -> Vec<Value> {
    let reply = dash.mgmt.get("/roles").await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    reply.body.as_array().unwrap().clone()
}

async fn role_permissions(dash: &Dashboard, role: &str) -> Vec<String> {
    let reply = dash.mgmt.get(&format!("/roles/{role}/permissions")).await;
    reply
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["permission_name"].as_str().unwrap().to_string())
        .collect()
}

async fn role_users(dash: &Dashboard, role: &str) -> Vec<String> {
    let reply = dash.mgmt.get(&format!("/roles/{role}/users")).await;
    reply
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["user_id"].as_str().unwrap().to_string())
        .collect()
}

/// Creates a role through the dashboard; returns its id.
async fn create_role(dash: &Dashboard, name: &str) -> String {
    let resp = dash
        .submit(
            "/admin/roles/new",
            "/admin/roles/new",
            &[("name", name), ("description", "Reads")],
        )
        .await;
    assert_eq!(resp.status().as_u16(), 303);
    let to = location(&resp);
    to.trim_start_matches("/admin/roles/")
        .trim_end_matches("/permissions?done=created")
        .to_string()
}

async fn create_user(dash: &Dashboard, email: &str) -> String {
    let reply = dash
        .mgmt
        .post(
            "/users",
            json!({"email": email, "password": PASSWORD, "connection": "Username-Password-Authentication", "verify_email": false}),
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.text);
    reply.body["user_id"].as_str().unwrap().to_string()
}

/// An API with `read:measurements` and `write:measurements`, made in the pages.
async fn measurements(dash: &Dashboard) -> String {
    let id = create_api(dash, "Measurements", API).await;
    let tab = format!("/admin/apis/{id}/permissions");
    for value in ["read:measurements", "write:measurements"] {
        let resp = dash.submit(&tab, &tab, &[("value", value)]).await;
        assert_eq!(resp.status().as_u16(), 303);
    }
    id
}

#[tokio::test]
async fn creating_and_editing_a_role_refuses_each_bad_value_and_writes_nothing() {
    let dash = Dashboard::start().await;
    let (status, html) = dash.page("/admin/roles").await;
    assert_eq!(status, 200);
    assert!(html.contains("Admin"), "the bootstrap role is listed");
    let before = roles(&dash).await;
    let long = "r".repeat(51);
    for (name, message) in [
        (" ", "Give the role a name"),
        (long.as_str(), "At most 50 characters"),
        ("Admin", "already exists"),
    ] {
        let resp = dash
            .submit(
                "/admin/roles/new",
                "/admin/roles/new",
                &[("name", name), ("description", "kept")],
            )
            .await;
        assert_eq!(resp.status().as_u16(), 422, "{name}");
        let html = resp.text().await.unwrap();
        assert!(error_of(&html, "name").contains(message), "{name}: {html}");
        assert!(html.contains(">kept</textarea>"), "what was typed stays");
    }
    assert_eq!(roles(&dash).await, before, "nothing written");

    let id = create_role(&dash, "reader").await;
    let page = format!("/admin/roles/{id}");
    let (_, html) = dash.page(&format!("{page}/permissions?done=created")).await;
    assert!(html.contains("Role created."));
    let resp = dash
        .submit(&page, &page, &[("name", ""), ("description", "x")])
        .await;
    assert_eq!(resp.status().as_u16(), 422);
    assert!(error_of(&resp.text().await.unwrap(), "name").contains("Give the role a name"));
    let resp = dash
        .submit(&page, &page, &[("name", "Admin"), ("description", "x")])
        .await;
    assert_eq!(resp.status().as_u16(), 422);
    let reply = dash.mgmt.get(&format!("/roles/{id}")).await;
    assert_eq!(reply.body["name"], "reader");
    assert_eq!(reply.body["description"], "Reads");

    let resp = dash
        .submit(
            &page,
            &page,
            &[("name", "readers"), ("description", "Read measurements")],
        )
        .await;
    assert_eq!(location(&resp), format!("{page}?done=saved"));
    let reply = dash.mgmt.get(&format!("/roles/{id}")).await;
    assert_eq!(reply.body["name"], "readers");
    assert_eq!(reply.body["description"], "Read measurements");

    // The filter finds it; htmx or not, it is the same page.
    let (_, html) = dash.page("/admin/roles?q=READ").await;
    assert!(
        html.contains("readers") && !html.contains(">Admin<"),
        "{html}"
    );
    let (_, html) = dash.page("/admin/roles?q=zzz").await;
    assert!(html.contains("No role has"));

    // Deleting the role that opens the dashboard says so first.
    let admin_role = dash.mgmt.get("/roles?name_filter=Admin").await.body[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (_, html) = dash
        .page(&format!("/admin/roles/{admin_role}/delete"))
        .await;
    assert!(html.contains("This role opens the dashboard"), "{html}");
    let (_, html) = dash.page(&format!("/admin/roles/{id}/delete")).await;
    assert!(!html.contains("opens the dashboard"));
}

#[tokio::test]
async fn permissions_are_picked_from_each_api_and_removed_after_a_confirmation() {
    let dash = Dashboard::start().await;
    let role = create_role(&dash, "reader").await;
    let tab = format!("/admin/roles/{role}/permissions");
    let (_, html) = dash.page(&tab).await;
    assert!(
        html.contains("No API of yours has permissions yet"),
        "{html}"
    );
    measurements(&dash).await;
    let html = unescaped(&dash.page(&tab).await.1);
    assert!(html.contains("read:measurements https://measurements.example.com"));

    let resp = dash.submit(&tab, &tab, &[]).await;
    assert_eq!(resp.status().as_u16(), 422);
    assert!(error_of(&resp.text().await.unwrap(), "permission").contains("Tick at least one"));
    for forged in [
        "read:measurements https://other.example",
        "delete:all https://measurements.example.com",
        "nospace",
    ] {
        let resp = dash.submit(&tab, &tab, &[("permission", forged)]).await;
        assert_eq!(resp.status().as_u16(), 422, "{forged}");
        assert!(resp.text().await.unwrap().contains("Nothing was saved"));
    }
    assert!(
        role_permissions(&dash, &role).await.is_empty(),
        "nothing written"
    );

    let resp = dash
        .submit(
            &tab,
            &tab,
            &[
                (
                    "permission",
                    "read:measurements https://measurements.example.com",
                ),
                (
                    "permission",
                    "write:measurements https://measurements.example.com",
                ),
            ],
        )
        .await;
    assert_eq!(location(&resp), format!("{tab}?done=permissions_added"));
    let mut held = role_permissions(&dash, &role).await;
    held.sort();
    assert_eq!(held, ["read:measurements", "write:measurements"]);

    let confirm = format!(
        "{tab}/remove?api=https%3A%2F%2Fmeasurements.example.com&scope=write%3Ameasurements"
    );
    let (status, html) = dash.page(&confirm).await;
    assert_eq!(status, 200);
    assert!(html.contains("Remove this permission from the role?"));
    assert_eq!(role_permissions(&dash, &role).await.len(), 2);
    let resp = dash.submit(&confirm, &confirm, &[]).await;
    assert_eq!(location(&resp), format!("{tab}?done=permission_removed"));
    assert_eq!(role_permissions(&dash, &role).await, ["read:measurements"]);
    assert_eq!(dash.page(&confirm).await.0, 404, "no longer held");
}

#[tokio::test]
async fn members_are_added_by_email_or_id_paged_and_removed_after_a_confirmation() {
    let dash = Dashboard::start().await;
    let role = create_role(&dash, "reader").await;
    let bob = create_user(&dash, "bob@example.com").await;
    let alice = create_user(&dash, "alice@example.com").await;
    let tab = format!("/admin/roles/{role}/users");
    let (_, html) = dash.page(&tab).await;
    assert!(html.contains("Nobody has this role yet"));

    for (typed, message) in [
        ("", "Enter the user"),
        ("bob @example.com", "without spaces"),
        (
            "nobody@example.com",
            "No user has the email nobody@example.com",
        ),
        ("auth0|nope", "No user has the id auth0|nope"),
    ] {
        let resp = dash.submit(&tab, &tab, &[("user", typed)]).await;
        assert_eq!(resp.status().as_u16(), 422, "{typed}");
        let html = resp.text().await.unwrap();
        assert!(error_of(&html, "user").contains(message), "{typed}: {html}");
    }
    assert!(role_users(&dash, &role).await.is_empty(), "nothing written");

    let resp = dash
        .submit(&tab, &tab, &[("user", "BOB@example.com")])
        .await;
    assert_eq!(location(&resp), format!("{tab}?done=member_added"));
    let resp = dash.submit(&tab, &tab, &[("user", &alice)]).await;
    assert_eq!(resp.status().as_u16(), 303);
    let resp = dash
        .submit(&tab, &tab, &[("user", "bob@example.com")])
        .await;
    assert_eq!(resp.status().as_u16(), 422);
    assert!(error_of(&resp.text().await.unwrap(), "user").contains("already has this role"));
    let mut members = role_users(&dash, &role).await;
    members.sort();
    let mut expected = vec![alice.clone(), bob.clone()];
    expected.sort();
    assert_eq!(members, expected);

    // Fifty more: two pages.
    let store = dash.server().store.clone();
    let now = dash.server().state.now();
    for i in 0..50 {
        let user = User::new(
            format!("auth0|paged{i:02}"),
            &format!("p{i:02}@example.com"),
            now,
        );
        store
            .create_user(&StoredUser {
                user,
                password_hash: None,
            })
            .await
            .unwrap();
        store
            .assign_user_roles(&format!("auth0|paged{i:02}"), std::slice::from_ref(&role))
            .await
            .unwrap();
    }
    let first = unescaped(&dash.page(&tab).await.1);
    assert!(
        first.contains("Page 1") && first.contains(&format!("{tab}?page=1")),
        "{first}"
    );
    let second = unescaped(&dash.page(&format!("{tab}?page=1")).await.1);
    assert_eq!(
        second.matches("/users/remove?user_id=").count(),
        2,
        "{second}"
    );
    assert!(!second.contains("?page=2"));
    assert_eq!(dash.page(&format!("{tab}?page=x")).await.0, 200);

    let confirm = format!("{tab}/remove?user_id={}", bob.replace('|', "%7C"));
    let (status, html) = dash.page(&confirm).await;
    assert_eq!(status, 200);
    assert!(html.contains("Remove this user from the role?") && html.contains("bob@example.com"));
    assert!(role_users(&dash, &role).await.contains(&bob));
    let resp = dash.submit(&confirm, &confirm, &[]).await;
    assert_eq!(location(&resp), format!("{tab}?done=member_removed"));
    assert!(!role_users(&dash, &role).await.contains(&bob));
    assert_eq!(dash.page(&confirm).await.0, 404, "no longer a member");
}

#[tokio::test]
async fn seed_000_set_up_in_the_dashboard_gives_bob_the_scope_once_he_has_the_role() {
    let dash = Dashboard::start().await;
    // The API, with RBAC and permissions in the token.
    let api = measurements(&dash).await;
    let settings = format!("/admin/apis/{api}");
    let resp = dash
        .submit(
            &settings,
            &settings,
            &[
                ("name", "Measurements"),
                ("rbac", "on"),
                ("add_permissions", "on"),
                ("profile", "auth0"),
                ("signing_alg", "RS256"),
                ("token_lifetime", "86400"),
                ("token_lifetime_for_web", "7200"),
                ("skip_consent", "on"),
            ],
        )
        .await;
    assert_eq!(resp.status().as_u16(), 303);
    // The role reader with read:measurements.
    let role = create_role(&dash, "reader").await;
    let perms = format!("/admin/roles/{role}/permissions");
    let resp = dash
        .submit(
            &perms,
            &perms,
            &[(
                "permission",
                "read:measurements https://measurements.example.com",
            )],
        )
        .await;
    assert_eq!(resp.status().as_u16(), 303);
    // The SPA and bob (other sections' pages; the Management API here).
    let spa = dash
        .mgmt
        .post("/clients", json!({"name": "Angular SPA", "app_type": "spa", "callbacks": ["http://localhost:4200"]}))
        .await;
    let spa = spa.body["client_id"].as_str().unwrap().to_string();
    create_user(&dash, "bob@example.com").await;

    let simulate = || async {
        let reply = dash
            .mgmt
            .post(
                "/x-gatehouse/simulate",
                json!({"client_id": spa, "user": "bob@example.com", "audience": API,
                       "scope": "openid profile email read:measurements"}),
            )
            .await;
        assert_eq!(reply.status, 200, "{}", reply.text);
        reply.body
    };
    let before = simulate().await;
    assert_eq!(
        before["scope"], "openid profile email",
        "the seed's symptom"
    );
    assert_eq!(before["access_token"]["claims"]["permissions"], json!([]));

    let members = format!("/admin/roles/{role}/users");
    let resp = dash
        .submit(&members, &members, &[("user", "bob@example.com")])
        .await;
    assert_eq!(resp.status().as_u16(), 303);
    let after = simulate().await;
    assert_eq!(after["scope"], "openid profile email read:measurements");
    assert_eq!(
        after["access_token"]["claims"]["permissions"],
        json!(["read:measurements"])
    );
}

#[tokio::test]
async fn forms_without_the_csrf_token_change_nothing_and_unknown_ids_are_not_found() {
    let dash = Dashboard::start().await;
    let role = create_role(&dash, "reader").await;
    measurements(&dash).await;
    let bob = create_user(&dash, "bob@example.com").await;
    let before = roles(&dash).await;
    let page = format!("/admin/roles/{role}");
    for token in [None, Some("forged")] {
        let posts: Vec<(String, Vec<(&str, &str)>)> = vec![
            ("/admin/roles/new".into(), vec![("name", "writer")]),
            (page.clone(), vec![("name", "renamed")]),
            (
                format!("{page}/permissions"),
                vec![(
                    "permission",
                    "read:measurements https://measurements.example.com",
                )],
            ),
            (format!("{page}/users"), vec![("user", "bob@example.com")]),
            (format!("{page}/delete"), vec![]),
        ];
        for (action, pairs) in posts {
            let mut all: Vec<(&str, &str)> = token.map(|t| ("csrf", t)).into_iter().collect();
            all.extend(pairs);
            let resp = dash.post(&action, &all).await;
            assert_eq!(resp.status().as_u16(), 403, "{action}");
        }
    }
    assert_eq!(roles(&dash).await, before);
    assert!(role_permissions(&dash, &role).await.is_empty());
    assert!(role_users(&dash, &role).await.is_empty());

    let api = dash.mgmt.get("/resource-servers").await.body[0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    for bad in ["nope", api.as_str(), "%00"] {
        for tab in ["", "/permissions", "/users", "/delete"] {
            let (status, html) = dash.page(&format!("/admin/roles/{bad}{tab}")).await;
            assert_eq!(status, 404, "{bad}{tab}: {html}");
        }
    }
    let resp = dash
        .submit(&page, "/admin/roles/nope/users", &[("user", &bob)])
        .await;
    assert_eq!(resp.status().as_u16(), 404);
    assert_eq!(
        dash.page(&format!("{page}/users/remove?user_id=nope"))
            .await
            .0,
        404
    );
    assert_eq!(dash.page(&format!("{page}/users/remove")).await.0, 404);

    let confirm = format!("{page}/delete");
    let (status, html) = dash.page(&confirm).await;
    assert_eq!(status, 200);
    assert!(html.contains("Delete this role?"));
    let resp = dash.submit(&confirm, &confirm, &[]).await;
    assert_eq!(location(&resp), "/admin/roles?done=deleted");
    assert_eq!(roles(&dash).await.len(), before.len() - 1);
    assert_eq!(dash.page(&page).await.0, 404);
}
