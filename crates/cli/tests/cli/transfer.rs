//! `gatehouse migrate`, `export` and `import`: a tenant moves from the
//! embedded SQLite to PostgreSQL (or, without a PostgreSQL URL, to another
//! SQLite file) with its keys, clients and users intact.

use crate::{gatehouse, get_json, http, Server};
use gatehouse_core::clock::{Clock, SystemClock};
use gatehouse_core::model::*;
use gatehouse_core::secret::hash_token;
use gatehouse_store::testing::{TestDatabase, DATABASE_URL_VAR};
use gatehouse_store::{StoredClient, StoredUser};

const SECRET: &str = "transfer-secret-0123456789-0123456789";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_from_sqlite_import_elsewhere_keeps_keys_and_logins() {
    let tmp = tempfile::tempdir().unwrap();
    let source = tmp.path().join("source");
    let migrate = gatehouse(tmp.path(), &["migrate", "--data-dir", "source"])
        .output()
        .unwrap();
    assert!(
        migrate.status.success(),
        "{}",
        String::from_utf8_lossy(&migrate.stderr)
    );
    assert!(String::from_utf8_lossy(&migrate.stdout).contains("up to date"));

    // Seed the SQLite tenant through a first start (keys) and the store.
    let first = Server::start(gatehouse(
        tmp.path(),
        &["serve", "--bind", "127.0.0.1:0", "--data-dir", "source"],
    ));
    let (_, jwks_before) = get_json(&first.url("/.well-known/jwks.json")).await;
    first.process.stop();
    let store = gatehouse_store::open(&format!("sqlite:{}", source.join("gatehouse.db").display()))
        .await
        .unwrap();
    let now = SystemClock.now();
    let mut web = Client::new("moved-web", "Web", AppType::RegularWeb);
    web.grant_types.push("password".into());
    store
        .create_client(
            &StoredClient {
                client: web,
                secret_hash: Some(hash_token(SECRET)),
            },
            now,
        )
        .await
        .unwrap();
    let user = User::new(gatehouse_core::ids::user_id(), "dave@example.com", now);
    let hash = gatehouse_server::password::hash_password("dave's password").unwrap();
    store
        .create_user(&StoredUser {
            user,
            password_hash: Some(hash),
        })
        .await
        .unwrap();
    drop(store);

    let export = gatehouse(
        tmp.path(),
        &["export", "--data-dir", "source", "--output", "dump.json"],
    )
    .output()
    .unwrap();
    assert!(
        export.status.success(),
        "{}",
        String::from_utf8_lossy(&export.stderr)
    );
    let dump = tmp.path().join("dump.json");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&dump).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "the dump holds secrets");
    }
    let dumped: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&dump).unwrap()).unwrap();
    let keys = dumped["signing_keys"].as_array().unwrap();
    assert!(!keys.is_empty());
    for key in keys {
        let private_key = key["private_key"].as_str().unwrap();
        assert!(private_key.starts_with("sealed:v1:"), "{key}");
    }

    let postgres = TestDatabase::create("gh_transfer").await;
    if postgres.is_none() {
        eprintln!(
            "PostgreSQL target skipped: {DATABASE_URL_VAR} not set; importing into SQLite instead"
        );
    }
    let target_url = match &postgres {
        Some(db) => db.url.clone(),
        None => format!("sqlite:{}", tmp.path().join("target.db").display()),
    };
    let import = gatehouse(
        tmp.path(),
        &[
            "import",
            "--database-url",
            &target_url,
            "--file",
            "dump.json",
        ],
    )
    .output()
    .unwrap();
    assert!(
        import.status.success(),
        "{}",
        String::from_utf8_lossy(&import.stderr)
    );
    // dave and the bootstrap admin of the first start.
    assert!(String::from_utf8_lossy(&import.stdout).contains("2 users"));
    let again = gatehouse(
        tmp.path(),
        &[
            "import",
            "--database-url",
            &target_url,
            "--file",
            "dump.json",
        ],
    )
    .output()
    .unwrap();
    assert!(
        !again.status.success(),
        "a second import conflicts instead of duplicating"
    );

    // The keys moved sealed: without the source's master key they do not open.
    let without_key = gatehouse(
        tmp.path(),
        &[
            "serve",
            "--bind",
            "127.0.0.1:0",
            "--data-dir",
            "target",
            "--database-url",
            &target_url,
            "--master-key-file",
            "other.key",
        ],
    );
    std::fs::write(
        tmp.path().join("other.key"),
        gatehouse_core::sealing::MasterKey::generate().to_text(),
    )
    .unwrap();
    let failure = crate::expect_failure("import opened with another master key", without_key);
    assert!(
        failure
            .stderr
            .iter()
            .any(|l| l.contains("the master key does not match")),
        "{:?}",
        failure.stderr
    );
    let moved = Server::start(gatehouse(
        tmp.path(),
        &[
            "serve",
            "--bind",
            "127.0.0.1:0",
            "--data-dir",
            "target",
            "--database-url",
            &target_url,
            "--master-key-file",
            "source/master.key",
        ],
    ));
    let (_, jwks_after) = get_json(&moved.url("/.well-known/jwks.json")).await;
    assert_eq!(
        jwks_after, jwks_before,
        "the same keys are published after the move"
    );
    let login = http()
        .post(moved.url("/oauth/token"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!(
            "grant_type=password&client_id=moved-web&client_secret={SECRET}&username=dave%40example.com&password=dave%27s+password&scope=openid"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(
        login.status(),
        200,
        "{}",
        login.text().await.unwrap_or_default()
    );
    moved.process.stop();
    if let Some(db) = postgres {
        db.drop_now().await;
    }
}
