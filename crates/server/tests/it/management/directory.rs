//! Users, search, roles and permissions — and the seed-000 story set up
//! entirely through the Management API.

use super::{assert_mgmt_error, Mgmt};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use reqwest::Method;
use serde_json::{json, Value};

const CONN: &str = "Username-Password-Authentication";
const PW: &str = "correct horse battery staple";

async fn create_user(m: &Mgmt, email: &str, name: &str) -> String {
    let r = m
        .post(
            "/users",
            json!({"connection": CONN, "email": email, "password": PW, "name": name, "email_verified": true}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    r.body["user_id"].as_str().unwrap().to_string()
}

fn enc(id: &str) -> String {
    id.replace('|', "%7C")
}

fn emails(v: &Value) -> Vec<&str> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|u| u["email"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn users_crud_and_errors() {
    let m = Mgmt::start().await;
    let r = m
        .post(
            "/users",
            json!({"connection": CONN, "email": "Carol@Example.com", "password": PW,
                   "user_metadata": {"theme": "dark"}, "app_metadata": {"plan": "free"}}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let id = r.body["user_id"].as_str().unwrap().to_string();
    assert!(id.starts_with("auth0|") && id.len() == 30, "{id}");
    assert_eq!(r.body["identities"][0]["connection"], CONN);
    assert_eq!(r.body["identities"][0]["provider"], "auth0");
    assert_eq!(r.body["identities"][0]["user_id"], &id[6..]);
    assert!(r.body["created_at"].as_str().unwrap().ends_with('Z'));
    assert!(r.body.get("password").is_none());

    let r = m
        .post(
            "/users",
            json!({"connection": CONN, "email": "carol@example.com", "password": PW}),
        )
        .await;
    assert_mgmt_error(&r, 409, "auth0_idp_error");
    assert_eq!(r.body["message"], "The user already exists.");
    let r = m
        .post("/users", json!({"email": "d@example.com", "password": PW}))
        .await;
    assert_mgmt_error(&r, 400, "invalid_body");
    assert!(r.body["message"].as_str().unwrap().contains("connection"));
    let r = m
        .post(
            "/users",
            json!({"connection": "Other", "email": "d@example.com", "password": PW}),
        )
        .await;
    assert_mgmt_error(&r, 400, "invalid_body");
    assert!(r.body["message"].as_str().unwrap().contains("Other"));
    for bad in [
        json!({"connection": CONN, "email": "not-an-email", "password": PW}),
        json!({"connection": CONN, "password": PW}),
        json!({"connection": CONN, "email": "e@example.com"}),
        json!({"connection": CONN, "email": "e@example.com", "password": "short"}),
        json!({"connection": CONN, "email": "e@example.com", "password": PW, "username": "e"}),
        json!({"connection": CONN, "email": "e@example.com", "password": PW, "user_id": "a|b"}),
        json!({"connection": CONN, "email": "e@example.com", "password": PW, "app_metadata": []}),
    ] {
        let r = m.post("/users", bad.clone()).await;
        assert_mgmt_error(&r, 400, "invalid_body");
    }

    let path = format!("/users/{}", enc(&id));
    let r = m.get(&path).await;
    assert_eq!(r.body["email"], "Carol@Example.com");
    let r = m.get(&format!("{path}?fields=email,user_id")).await;
    assert_eq!(r.body.as_object().unwrap().len(), 2);

    // PATCH: profile, metadata merge, block, password.
    let r = m
        .patch(
            &path,
            json!({"name": "Carol", "blocked": true, "user_metadata": {"theme": null, "lang": "fr"}}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["blocked"], true);
    assert_eq!(r.body["user_metadata"], json!({"lang": "fr"}));
    assert_eq!(r.body["app_metadata"], json!({"plan": "free"}));
    let other = create_user(&m, "dave@example.com", "Dave").await;
    let r = m.patch(&path, json!({"email": "dave@example.com"})).await;
    assert_mgmt_error(&r, 409, "auth0_idp_error");
    let r = m.patch(&path, json!({"password": "x"})).await;
    assert_mgmt_error(&r, 400, "invalid_body");
    let r = m.patch(&path, json!({"connection": "nope"})).await;
    assert_mgmt_error(&r, 400, "invalid_body");

    // Blocked users cannot log in (password grant is exercised in the story test).
    let r = m.delete(&format!("/users/{}", enc(&other))).await;
    assert_eq!(r.status, 204);
    for r in [
        m.get(&format!("/users/{}", enc(&other))).await,
        m.delete(&format!("/users/{}", enc(&other))).await,
        m.patch(&format!("/users/{}", enc(&other)), json!({"name": "x"}))
            .await,
        m.get(&format!("/users/{}/roles", enc(&other))).await,
        m.get(&format!("/users/{}/permissions", enc(&other))).await,
        m.get("/users/auth0%7Cmissing").await,
    ] {
        assert_mgmt_error(&r, 404, "inexistent_user");
    }
}

#[tokio::test]
async fn user_search_sort_fields_and_pages() {
    let m = Mgmt::start().await;
    for (email, name) in [
        ("alice@example.com", "Alice Liddell"),
        ("bob@example.com", "Bob Builder"),
        ("alfred@other.org", "Alfred Pennyworth"),
    ] {
        create_user(&m, email, name).await;
    }
    // The bootstrap admin exists too.
    let r = m.get("/users?include_totals=true").await;
    assert_eq!(r.body["total"], 4);
    assert_eq!(r.body["length"], 4);
    let q = |s: &str| {
        format!(
            "/users?search_engine=v3&q={}",
            s.replace(" ", "%20")
                .replace('"', "%22")
                .replace('|', "%7C")
        )
    };
    let r = m.get(&q(r#"email:"bob@example.com""#)).await;
    assert_eq!(emails(&r.body), ["bob@example.com"]);
    let r = m.get(&format!("{}&sort=email:1", q("email:al*"))).await;
    assert_eq!(emails(&r.body), ["alfred@other.org", "alice@example.com"]);
    let r = m.get(&format!("{}&sort=email:-1", q("email:al*"))).await;
    assert_eq!(emails(&r.body), ["alice@example.com", "alfred@other.org"]);
    let r = m.get(&q(r#"name:"Bob Builder""#)).await;
    assert_eq!(emails(&r.body), ["bob@example.com"]);
    let r = m.get(&q("pennyworth")).await;
    assert_eq!(emails(&r.body), ["alfred@other.org"]);
    let r = m.get(&q("email:*example.com")).await;
    assert_eq!(r.status, 400);
    let r = m.get(&q("email:nobody*")).await;
    assert_eq!(r.body, json!([]));
    let bob = m.get(&q("email:bob*")).await.body[0]["user_id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = m.get(&q(&format!("user_id:\"{bob}\""))).await;
    assert_eq!(emails(&r.body), ["bob@example.com"]);

    // fields / include_fields on lists.
    let r = m.get(&format!("{}&fields=email", q("email:bob*"))).await;
    assert_eq!(r.body, json!([{"email": "bob@example.com"}]));

    // Pagination edges.
    let r = m
        .get("/users?per_page=3&page=1&include_totals=true&sort=email:1")
        .await;
    assert_eq!(r.body["start"], 3);
    assert_eq!(r.body["limit"], 3);
    assert_eq!(r.body["length"], 1);
    assert_eq!(r.body["users"].as_array().unwrap().len(), 1);
    let r = m.get("/users?per_page=50&page=1").await;
    assert_eq!(r.body, json!([]));
    let r = m.get("/users?per_page=2&page=2&include_totals=true").await;
    assert_eq!(r.body["users"], json!([]));
    assert_eq!(r.body["total"], 4);
}

#[tokio::test]
async fn roles_permissions_and_members() {
    let m = Mgmt::start().await;
    let api = "https://measurements.example/";
    m.post(
        "/resource-servers",
        json!({"name": "Measurements", "identifier": api,
               "scopes": [{"value": "read:measurements", "description": "Read them"}, {"value": "write:measurements"}]}),
    )
    .await;
    let r = m
        .post("/roles", json!({"name": "reader", "description": "Reads"}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let role = r.body["id"].as_str().unwrap().to_string();
    assert!(role.starts_with("rol_"));
    let r = m.post("/roles", json!({"name": "reader"})).await;
    assert_mgmt_error(&r, 409, "role_conflict");
    let r = m.post("/roles", json!({"name": ""})).await;
    assert_mgmt_error(&r, 400, "invalid_body");
    m.post("/roles", json!({"name": "writer"})).await;
    let r = m.get("/roles?name_filter=READ").await;
    assert_eq!(r.body.as_array().unwrap().len(), 1);
    let r = m.get("/roles?include_totals=true&per_page=1").await;
    // The bootstrap's Admin, reader and writer.
    assert_eq!(r.body["total"], 3);
    assert_eq!(r.body["roles"].as_array().unwrap().len(), 1);
    let r = m
        .patch(
            &format!("/roles/{role}"),
            json!({"description": "Reads measurements"}),
        )
        .await;
    assert_eq!(r.body["name"], "reader");
    let r = m
        .patch(&format!("/roles/{role}"), json!({"name": "writer"}))
        .await;
    assert_mgmt_error(&r, 409, "role_conflict");

    // Permissions.
    let perm = json!({"permissions": [{"resource_server_identifier": api, "permission_name": "read:measurements"}]});
    let r = m
        .post(&format!("/roles/{role}/permissions"), perm.clone())
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = m.get(&format!("/roles/{role}/permissions")).await;
    assert_eq!(
        r.body,
        json!([{"resource_server_identifier": api, "permission_name": "read:measurements",
                "resource_server_name": "Measurements", "description": "Read them"}])
    );
    let r = m
        .post(
            &format!("/roles/{role}/permissions"),
            json!({"permissions": [{"resource_server_identifier": api, "permission_name": "fly"}]}),
        )
        .await;
    assert_mgmt_error(&r, 400, "invalid_body");
    let r = m
        .post(
            &format!("/roles/{role}/permissions"),
            json!({"permissions": [{"resource_server_identifier": "https://no/", "permission_name": "x"}]}),
        )
        .await;
    assert_mgmt_error(&r, 404, "inexistent_resource_server");
    let r = m
        .post(
            &format!("/roles/{role}/permissions"),
            json!({"permissions": []}),
        )
        .await;
    assert_mgmt_error(&r, 400, "invalid_body");

    // Members, both directions.
    let alice = create_user(&m, "alice@example.com", "Alice").await;
    let bob = create_user(&m, "bob@example.com", "Bob").await;
    let r = m
        .post(&format!("/roles/{role}/users"), json!({"users": [alice]}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = m
        .post(
            &format!("/roles/{role}/users"),
            json!({"users": ["auth0|nobody"]}),
        )
        .await;
    assert_mgmt_error(&r, 404, "inexistent_user");
    let r = m
        .get(&format!("/roles/{role}/users?include_totals=true"))
        .await;
    assert_eq!(r.body["total"], 1);
    assert_eq!(r.body["users"][0]["email"], "alice@example.com");
    let r = m.get(&format!("/users/{}/roles", enc(&alice))).await;
    assert_eq!(r.body[0]["name"], "reader");
    let r = m.get(&format!("/users/{}/permissions", enc(&alice))).await;
    assert_eq!(r.body[0]["permission_name"], "read:measurements");
    assert_eq!(r.body[0]["sources"][0]["source_type"], "ROLE");
    assert_eq!(r.body[0]["sources"][0]["source_name"], "reader");

    // Direct permissions and user-side role assignment.
    let r = m
        .post(&format!("/users/{}/permissions", enc(&bob)), perm.clone())
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = m
        .post(
            &format!("/users/{}/roles", enc(&bob)),
            json!({"roles": [role]}),
        )
        .await;
    assert_eq!(r.status, 200);
    let r = m
        .get(&format!(
            "/users/{}/permissions?include_totals=true",
            enc(&bob)
        ))
        .await;
    assert_eq!(r.body["total"], 1);
    assert_eq!(
        r.body["permissions"][0]["sources"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let r = m
        .post(
            &format!("/users/{}/roles", enc(&bob)),
            json!({"roles": ["rol_missing"]}),
        )
        .await;
    assert_mgmt_error(&r, 404, "inexistent_role");
    let r = m
        .post(&format!("/users/{}/roles", enc(&bob)), json!({"roles": []}))
        .await;
    assert_mgmt_error(&r, 400, "invalid_body");
    let r = m
        .call(
            Method::DELETE,
            &format!("/users/{}/roles", enc(&bob)),
            Some(json!({"roles": [role]})),
        )
        .await;
    assert_eq!(r.status, 200);
    let r = m
        .call(
            Method::DELETE,
            &format!("/users/{}/permissions", enc(&bob)),
            Some(perm.clone()),
        )
        .await;
    assert_eq!(r.status, 200);
    let r = m.get(&format!("/users/{}/permissions", enc(&bob))).await;
    assert_eq!(r.body, json!([]));
    let r = m
        .call(
            Method::DELETE,
            &format!("/roles/{role}/permissions"),
            Some(perm),
        )
        .await;
    assert_eq!(r.status, 200);
    let r = m.get(&format!("/roles/{role}/permissions")).await;
    assert_eq!(r.body, json!([]));

    let r = m.delete(&format!("/roles/{role}")).await;
    assert_eq!(r.status, 200);
    for r in [
        m.get(&format!("/roles/{role}")).await,
        m.delete(&format!("/roles/{role}")).await,
        m.patch(&format!("/roles/{role}"), json!({"name": "x"}))
            .await,
        m.get(&format!("/roles/{role}/permissions")).await,
        m.get(&format!("/roles/{role}/users")).await,
    ] {
        assert_mgmt_error(&r, 404, "inexistent_role");
    }
}

fn claims(jwt: &str) -> Value {
    let payload = jwt.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

/// Seed 000 set up through the API only: the reader gets read:measurements
/// in `scope` and `permissions`, the other user gets neither; a blocked user
/// cannot log in.
/// `GET /roles/{id}/users` pages in the store: offsets, totals, the page
/// past the end; assigning members twice counts them once.
#[tokio::test]
async fn role_members_pages_and_totals() {
    let m = Mgmt::start().await;
    let r = m.post("/roles", json!({"name": "crowd"})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let role = r.body["id"].as_str().unwrap().to_string();
    let mut members = Vec::new();
    for (email, name) in [
        ("m1@example.com", "One"),
        ("m2@example.com", "Two"),
        ("m3@example.com", "Three"),
    ] {
        members.push(create_user(&m, email, name).await);
    }
    let outsider = create_user(&m, "out@example.com", "Out").await;
    let path = format!("/roles/{role}/users");
    let r = m.post(&path, json!({"users": members})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = m
        .post(&path, json!({"users": [members[0], members[0]]}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);

    // Users created in the same second tie on created_at and are ordered
    // by user_id: the pages are checked against the whole list's order.
    let r = m.get(&path).await;
    let all = emails(&r.body);
    let mut sorted = all.clone();
    sorted.sort_unstable();
    assert_eq!(
        sorted,
        ["m1@example.com", "m2@example.com", "m3@example.com"]
    );

    let r = m
        .get(&format!("{path}?per_page=2&include_totals=true"))
        .await;
    assert_eq!(r.body["total"], 3, "{}", r.text);
    assert_eq!(
        (r.body["start"].clone(), r.body["limit"].clone()),
        (json!(0), json!(2))
    );
    assert_eq!(emails(&r.body["users"]), all[..2]);
    let r = m
        .get(&format!("{path}?per_page=2&page=1&include_totals=true"))
        .await;
    assert_eq!(r.body["total"], 3, "{}", r.text);
    assert_eq!(r.body["start"], 2);
    assert_eq!(emails(&r.body["users"]), all[2..]);
    let r = m.get(&format!("{path}?per_page=2&page=2")).await;
    assert_eq!(r.body, json!([]), "{}", r.text);
    let r = m.get(&format!("/users/{}/roles", enc(&outsider))).await;
    assert_eq!(r.body, json!([]), "{}", r.text);
}

#[tokio::test]
async fn seed_000_through_the_management_api() {
    let m = Mgmt::start().await;
    let api = "https://measurements.example/";
    let r = m
        .post(
            "/resource-servers",
            json!({"name": "Measurements", "identifier": api, "enforce_policies": true,
                   "token_dialect": "access_token_authz", "scopes": [{"value": "read:measurements"}]}),
        )
        .await;
    assert_eq!(r.status, 201);
    let web = m
        .post(
            "/clients",
            json!({"name": "Web", "app_type": "regular_web", "grant_types": ["password", "authorization_code", "refresh_token"]}),
        )
        .await;
    let (web_id, web_secret) = (
        web.body["client_id"].as_str().unwrap().to_string(),
        web.body["client_secret"].as_str().unwrap().to_string(),
    );
    let role = m.post("/roles", json!({"name": "reader"})).await.body["id"]
        .as_str()
        .unwrap()
        .to_string();
    m.post(
        &format!("/roles/{role}/permissions"),
        json!({"permissions": [{"resource_server_identifier": api, "permission_name": "read:measurements"}]}),
    )
    .await;
    let alice = create_user(&m, "alice@example.com", "Alice").await;
    let bob = create_user(&m, "bob@example.com", "Bob").await;
    m.post(
        &format!("/users/{}/roles", enc(&alice)),
        json!({"roles": [role]}),
    )
    .await;

    let login = |email: &'static str| {
        let (id, secret) = (web_id.clone(), web_secret.clone());
        let server = &m.server;
        async move {
            server
                .post_form(
                    "/oauth/token",
                    &[
                        ("grant_type", "password"),
                        ("client_id", &id),
                        ("client_secret", &secret),
                        ("username", email),
                        ("password", PW),
                        ("audience", api),
                        ("scope", "openid profile email read:measurements"),
                    ],
                )
                .await
        }
    };
    let r = login("alice@example.com").await;
    assert_eq!(r.status, 200, "{}", r.text);
    let c = claims(r.body["access_token"].as_str().unwrap());
    assert!(c["scope"]
        .as_str()
        .unwrap()
        .split(' ')
        .any(|s| s == "read:measurements"));
    assert_eq!(c["permissions"], json!(["read:measurements"]));
    let r = login("bob@example.com").await;
    assert_eq!(r.status, 200, "{}", r.text);
    let c = claims(r.body["access_token"].as_str().unwrap());
    assert!(!c["scope"].as_str().unwrap().contains("read:measurements"));
    assert_eq!(c["permissions"], json!([]));

    m.patch(&format!("/users/{}", enc(&bob)), json!({"blocked": true}))
        .await;
    let r = login("bob@example.com").await;
    assert_eq!(r.status, 403, "{}", r.text);
    assert!(r.text.contains("user is blocked"), "{}", r.text);
}

/// The same store calls on PostgreSQL (skipped without
/// `GATEHOUSE_TEST_DATABASE_URL`): role members, inherited permissions,
/// search and totals.
#[tokio::test]
async fn roles_and_users_on_postgres() {
    let Some(server) = crate::support::TestServer::start_postgres().await else {
        return;
    };
    let m = Mgmt::on(server).await;
    let api = "https://pg.example/";
    let r = m
        .post(
            "/resource-servers",
            json!({"identifier": api, "scopes": [{"value": "read:x"}]}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let role = m.post("/roles", json!({"name": "reader"})).await.body["id"]
        .as_str()
        .unwrap()
        .to_string();
    m.post(
        &format!("/roles/{role}/permissions"),
        json!({"permissions": [{"resource_server_identifier": api, "permission_name": "read:x"}]}),
    )
    .await;
    let alice = create_user(&m, "alice@example.com", "Alice").await;
    create_user(&m, "bob@example.com", "Bob").await;
    let r = m
        .post(&format!("/roles/{role}/users"), json!({"users": [alice]}))
        .await;
    assert_eq!(r.status, 200);
    let r = m
        .get(&format!("/roles/{role}/users?include_totals=true"))
        .await;
    assert_eq!(r.body["total"], 1);
    let r = m.get(&format!("/users/{}/permissions", enc(&alice))).await;
    assert_eq!(r.body[0]["sources"][0]["source_type"], "ROLE");
    let r = m.get("/users?q=email:b*&include_totals=true").await;
    assert_eq!(r.body["total"], 1);
    let r = m
        .post(
            "/users",
            json!({"connection": CONN, "email": "ALICE@example.com", "password": PW}),
        )
        .await;
    assert_mgmt_error(&r, 409, "auth0_idp_error");
    let r = m.delete(&format!("/users/{}", enc(&alice))).await;
    assert_eq!(r.status, 204);
    let r = m.get(&format!("/roles/{role}/users")).await;
    assert_eq!(r.body, json!([]));
    m.server.stop().await;
}
