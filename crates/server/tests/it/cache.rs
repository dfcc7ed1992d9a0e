//! Two nodes on one database: a change made through node A's Management API
//! is enforced by node B within about a second, although B keeps the
//! configuration it read in its store's cache (SQLite: one file; PostgreSQL
//! with `GATEHOUSE_TEST_BACKEND=postgres`: one database).

use crate::management::Mgmt;
use crate::support::{postgres_url_for_test, shared_keys, Reply, TestServer, BACKEND_VAR};
use gatehouse_store::testing::TestDatabase;
use serde_json::{json, Value};
use std::time::Duration;

const API: &str = "https://cached.example/";

/// Where both nodes' database lives; removed when dropped.
enum SharedDatabase {
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Postgres(TestDatabase),
}

/// Node A (bootstrapped, with a management token) and node B on its database.
struct TwoNodes {
    a: Mgmt,
    b: TestServer,
    database: SharedDatabase,
}

impl TwoNodes {
    async fn start() -> Self {
        let (url, database) = if std::env::var(BACKEND_VAR).as_deref() == Ok("postgres") {
            let db = postgres_url_for_test()
                .await
                .unwrap_or_else(|| panic!("{BACKEND_VAR}=postgres needs a database URL"));
            (db.url.clone(), SharedDatabase::Postgres(db))
        } else {
            let dir = tempfile::tempdir().expect("temp dir");
            let url = format!("sqlite:{}", dir.path().join("gatehouse.db").display());
            (url, SharedDatabase::Sqlite(dir))
        };
        let store = gatehouse_store::open(&url).await.expect("open the store");
        for key in shared_keys().await {
            store.insert_signing_key(key).await.expect("seed a key");
        }
        let a = Mgmt::on(TestServer::start_on(store).await).await;
        let b = TestServer::start_with_database_url(&url).await;
        Self { a, b, database }
    }

    async fn stop(self) {
        self.b.stop().await;
        self.a.server.stop().await;
        if let SharedDatabase::Postgres(db) = self.database {
            db.drop_now().await;
        }
    }

    /// An API with two scopes and a machine client granted both, made on A;
    /// returns the client's id, secret and the grant's id.
    async fn machine_client_with_grant(&self) -> (String, String, String) {
        let r = self
            .a
            .post(
                "/resource-servers",
                json!({"identifier": API, "scopes": [{"value": "read:x"}, {"value": "write:x"}]}),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.text);
        let r = self
            .a
            .post(
                "/clients",
                json!({"name": "machine", "app_type": "non_interactive"}),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.text);
        let id = r.body["client_id"].as_str().unwrap().to_string();
        let secret = r.body["client_secret"].as_str().unwrap().to_string();
        let r = self
            .a
            .post(
                "/client-grants",
                json!({"client_id": id, "audience": API, "scope": ["read:x", "write:x"]}),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.text);
        let grant = r.body["id"].as_str().unwrap().to_string();
        (id, secret, grant)
    }
}

/// A client_credentials request to `server`, with `audience` if given.
async fn token(server: &TestServer, id: &str, secret: &str, audience: Option<&str>) -> Reply {
    let mut form = vec![
        ("grant_type", "client_credentials"),
        ("client_id", id),
        ("client_secret", secret),
    ];
    if let Some(audience) = audience {
        form.push(("audience", audience));
    }
    server.post_form("/oauth/token", &form).await
}

/// Asks with `request` until `done` holds for the reply, about a second of
/// waiting at most; returns the last reply, which the caller asserts on.
async fn ask_until<Fut>(mut request: impl FnMut() -> Fut, done: impl Fn(&Reply) -> bool) -> Reply
where
    Fut: std::future::Future<Output = Reply>,
{
    const TRIES: u32 = 50;
    for _ in 1..TRIES {
        let reply = request().await;
        if done(&reply) {
            return reply;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    request().await
}

#[tokio::test]
async fn a_narrowed_then_deleted_grant_is_enforced_on_the_other_node() {
    let nodes = TwoNodes::start().await;
    let (id, secret, grant) = nodes.machine_client_with_grant().await;
    let b = &nodes.b;
    let r = token(b, &id, &secret, Some(API)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["scope"], "read:x write:x", "B read the grant");

    let r = nodes
        .a
        .patch(
            &format!("/client-grants/{grant}"),
            json!({"scope": ["read:x"]}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = ask_until(
        || token(b, &id, &secret, Some(API)),
        |r| r.body["scope"] == "read:x",
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.body["scope"], "read:x",
        "B still grants the removed scope"
    );

    let r = nodes.a.delete(&format!("/client-grants/{grant}")).await;
    assert_eq!(r.status, 204, "{}", r.text);
    let r = ask_until(|| token(b, &id, &secret, Some(API)), |r| r.status == 403).await;
    assert_eq!(
        r.status, 403,
        "B still issues on a deleted grant: {}",
        r.text
    );
    assert_eq!(r.body["error"], "access_denied");
    nodes.stop().await;
}

#[tokio::test]
async fn a_deleted_client_is_refused_by_the_other_node() {
    let nodes = TwoNodes::start().await;
    let (id, secret, _) = nodes.machine_client_with_grant().await;
    let b = &nodes.b;
    assert_eq!(token(b, &id, &secret, Some(API)).await.status, 200);

    let r = nodes.a.delete(&format!("/clients/{id}")).await;
    assert_eq!(r.status, 204, "{}", r.text);
    let r = ask_until(|| token(b, &id, &secret, Some(API)), |r| r.status == 401).await;
    assert_eq!(
        r.status, 401,
        "B still knows the deleted client: {}",
        r.text
    );
    assert_eq!(r.body["error"], "invalid_client");
    nodes.stop().await;
}

#[tokio::test]
async fn a_changed_tenant_setting_is_applied_by_the_other_node() {
    let nodes = TwoNodes::start().await;
    let (id, secret, _) = nodes.machine_client_with_grant().await;
    let b = &nodes.b;
    let r = token(b, &id, &secret, None).await;
    assert_ne!(r.status, 200, "no default audience yet: {}", r.text);

    let r = nodes
        .a
        .patch("/tenants/settings", json!({"default_audience": API}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = ask_until(|| token(b, &id, &secret, None), |r| r.status == 200).await;
    assert_eq!(
        r.status, 200,
        "B ignores the new default audience: {}",
        r.text
    );
    let claims: Value = decode_payload(r.body["access_token"].as_str().unwrap());
    assert_eq!(claims["aud"], API);
    nodes.stop().await;
}

/// The claims of a JWT, unverified (node B signed it; only `aud` matters here).
fn decode_payload(jwt: &str) -> Value {
    use base64::Engine;
    let payload = jwt.split('.').nth(1).expect("a JWT");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .expect("base64url payload");
    serde_json::from_slice(&bytes).expect("JSON claims")
}
