//! Scale-out: two real `gatehouse serve` processes on one PostgreSQL database
//! share no memory, yet behave as one server — a login on one node refreshes on
//! the other, a revocation on one is refused by the other, a key rotation is
//! published everywhere before anyone signs with it, and both nodes survive
//! their database connections being cut.

use crate::{gatehouse, get_json, http, Server};
use gatehouse_core::clock::{Clock, SystemClock};
use gatehouse_core::jose::{decode_unverified, verify_jwt, VerifyingKey};
use gatehouse_core::model::*;
use gatehouse_core::secret::hash_token;
use gatehouse_store::testing::{TestDatabase, DATABASE_URL_VAR};
use gatehouse_store::{Store, StoredClient, StoredUser};
use serde_json::Value;
use std::time::{Duration, Instant};

const API: &str = "https://orders.example/";
const SECRET: &str = "multinode-secret-0123456789-0123456789";
const PASSWORD: &str = "multinode password";

async fn seed(store: &dyn Store) {
    let now = SystemClock.now();
    let mut api = ResourceServer::new("rs_orders", "Orders", API);
    api.scopes = vec![ScopeDefinition {
        value: "read:orders".into(),
        description: String::new(),
    }];
    api.allow_offline_access = true;
    store.create_resource_server(&api, now).await.unwrap();
    let mut web = Client::new("mn-web", "Web", AppType::RegularWeb);
    web.grant_types.push("password".into());
    web.refresh_token.rotation_type = RotationType::Rotating;
    let m2m = Client::new("mn-m2m", "M2M", AppType::NonInteractive);
    for client in [web, m2m] {
        let stored = StoredClient {
            client,
            secret_hash: Some(hash_token(SECRET)),
        };
        store.create_client(&stored, now).await.unwrap();
    }
    store
        .create_client_grant(
            &ClientGrant {
                id: "cgr_mn".into(),
                client_id: Some("mn-m2m".into()),
                default_for: None,
                audience: API.into(),
                scope: vec!["read:orders".into()],
                subject_type: SubjectType::Client,
                allow_all_scopes: false,
            },
            now,
        )
        .await
        .unwrap();
    let user = User::new(gatehouse_core::ids::user_id(), "carol@example.com", now);
    let password_hash = gatehouse_server::password::hash_password(PASSWORD).unwrap();
    store
        .create_user(&StoredUser {
            user,
            password_hash: Some(password_hash),
        })
        .await
        .unwrap();
}

async fn token(server: &Server, pairs: &[(&str, &str)]) -> (u16, Value) {
    let mut form = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        form.append_pair(k, v);
    }
    let response = http()
        .post(server.url("/oauth/token"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form.finish())
        .send()
        .await
        .expect("POST /oauth/token");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn login(server: &Server) -> (u16, Value) {
    token(
        server,
        &[
            ("grant_type", "password"),
            ("client_id", "mn-web"),
            ("client_secret", SECRET),
            ("username", "carol@example.com"),
            ("password", PASSWORD),
            ("audience", API),
            ("scope", "openid read:orders offline_access"),
        ],
    )
    .await
}

async fn refresh(server: &Server, rt: &str) -> (u16, Value) {
    token(
        server,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", "mn-web"),
            ("client_secret", SECRET),
            ("refresh_token", rt),
        ],
    )
    .await
}

async fn machine_token(server: &Server) -> (u16, Value) {
    token(
        server,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", "mn-m2m"),
            ("client_secret", SECRET),
            ("audience", API),
        ],
    )
    .await
}

/// Verifies `jwt` with the key of the same kid in `server`'s JWKS.
async fn verifies_on(server: &Server, jwt: &str) -> bool {
    let (_, jwks) = get_json(&server.url("/.well-known/jwks.json")).await;
    let Ok((header, _)) = decode_unverified(jwt) else {
        return false;
    };
    jwks["keys"].as_array().into_iter().flatten().any(|jwk| {
        jwk["kid"].as_str() == header.kid.as_deref()
            && VerifyingKey::from_jwk(jwk)
                .ok()
                .and_then(|key| verify_jwt(jwt, &key, &[header.alg.as_str()]).ok())
                .is_some()
    })
}

fn kid_of(jwt: &str) -> String {
    decode_unverified(jwt).unwrap().0.kid.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_share_one_postgres_database() {
    let Some(db) = TestDatabase::create("gh_mn").await else {
        eprintln!("skipped: {DATABASE_URL_VAR} not set");
        return;
    };
    let store = gatehouse_store::open(&db.url)
        .await
        .expect("open postgres store");
    seed(store.as_ref()).await;
    let tmp = tempfile::tempdir().unwrap();
    // The nodes share the database, so they share the master key.
    let master_key = gatehouse_core::sealing::MasterKey::generate().to_text();
    let node = |dir: &str| {
        let mut command = gatehouse(
            tmp.path(),
            &[
                "serve",
                "--bind",
                "127.0.0.1:0",
                "--data-dir",
                dir,
                "--database-url",
                &db.url,
            ],
        );
        command.env("GATEHOUSE_MASTER_KEY", &master_key);
        Server::start(command)
    };
    let a = node("a");
    let b = node("b");

    // Log in through A, refresh through B; A's token verifies with B's keys.
    let (status, first) = login(&a).await;
    assert_eq!(status, 200, "{first}");
    assert!(verifies_on(&b, first["access_token"].as_str().unwrap()).await);
    let (status, second) = refresh(&b, first["refresh_token"].as_str().unwrap()).await;
    assert_eq!(status, 200, "{second}");
    let rt2 = second["refresh_token"].as_str().unwrap().to_string();

    // Revoke on B; A refuses the token.
    let revoked = http()
        .post(b.url("/oauth/revoke"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!(
            "client_id=mn-web&client_secret={SECRET}&token={rt2}"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), 200);
    let (status, refused) = refresh(&a, &rt2).await;
    assert_eq!(status, 403, "{refused}");
    assert_eq!(
        refused["error_description"],
        "Unknown or invalid refresh token."
    );

    // Rotation on the database (as `gatehouse keys rotate` does on any node):
    // the key A will sign with was published by B before the rotation.
    let (_, before) = machine_token(&a).await;
    let old_kid = kid_of(before["access_token"].as_str().unwrap());
    let (_, jwks_b_before) = get_json(&b.url("/.well-known/jwks.json")).await;
    let rotate = gatehouse(tmp.path(), &["keys", "rotate", "--database-url", &db.url])
        .env("GATEHOUSE_MASTER_KEY", &master_key)
        .output()
        .expect("gatehouse keys rotate");
    assert!(
        rotate.status.success(),
        "{}",
        String::from_utf8_lossy(&rotate.stderr)
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    let new_token = loop {
        let (status, body) = machine_token(&a).await;
        assert_eq!(status, 200, "{body}");
        let jwt = body["access_token"].as_str().unwrap().to_string();
        if kid_of(&jwt) != old_kid {
            break jwt;
        }
        assert!(
            Instant::now() < deadline,
            "node A never picked up the rotation"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let new_kid = kid_of(&new_token);
    assert!(
        jwks_b_before["keys"]
            .as_array()
            .unwrap()
            .iter()
            .any(|k| k["kid"] == new_kid.as_str()),
        "the new signing key was published before the rotation"
    );
    assert!(verifies_on(&b, &new_token).await);
    assert!(
        verifies_on(&b, before["access_token"].as_str().unwrap()).await,
        "previous key still published"
    );

    // Cut every database connection of both nodes: they recover on their own
    // and nothing committed is lost.
    let (_, kept) = login(&b).await;
    let kept_rt = kept["refresh_token"].as_str().unwrap().to_string();
    assert!(
        db.terminate_connections().await > 0,
        "the nodes had connections to cut"
    );
    for server in [&a, &b] {
        let (status, body) = machine_token(server).await;
        assert_eq!(status, 200, "after pg_terminate_backend: {body}");
    }
    let (status, body) = refresh(&a, &kept_rt).await;
    assert_eq!(
        status, 200,
        "a family committed before the cut survives: {body}"
    );
    let (_, ready) = get_json(&a.url("/readyz")).await;
    assert_eq!(ready["database"], "postgres");

    a.process.stop();
    b.process.stop();
    drop(store);
    db.drop_now().await;
}
