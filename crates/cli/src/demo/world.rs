//! The demo's tenant: seed 000's world, made once per demo directory
//! through `gatehouse seed`'s own code, and its SPA's URLs kept pointing at
//! wherever the server listens now.

use super::MARKER_FILE;
use crate::data_dir::write_private_file;
use crate::seed::{self, SeedFile};
use gatehouse_core::ids;
use gatehouse_store::Store;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::path::Path;

/// The demo API's identifier: the `audience` its tokens carry.
pub const DEMO_AUDIENCE: &str = "https://measurements.example/api";
/// The demo page's application.
pub const DEMO_CLIENT_ID: &str = "gatehouse-demo-spa";
/// The scope the demo API requires, and the demo page asks for.
pub const READ_SCOPE: &str = "read:measurements";

/// A demo user and the password the banner prints.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DemoUser {
    pub email: String,
    pub password: String,
}

/// The demo's users, with passwords generated when the demo directory was
/// made.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DemoUsers {
    pub alice: DemoUser,
    pub bob: DemoUser,
}

impl DemoUsers {
    fn generate() -> Self {
        let user = |name: &str| DemoUser {
            email: format!("{name}@example.com"),
            password: format!("{name}-{}", ids::random_alphanumeric(12)),
        };
        Self {
            alice: user("alice"),
            bob: user("bob"),
        }
    }
}

/// Makes the demo world with `users` in `store` on the first start, and
/// points the SPA at `base` (the server's URL without the trailing slash)
/// on every start.
pub async fn ensure_world(
    store: &dyn Store,
    base: &str,
    users: &DemoUsers,
    now: i64,
) -> Result<(), String> {
    let database = |e: gatehouse_store::StoreError| format!("demo: database: {e}");
    match store.client(DEMO_CLIENT_ID).await.map_err(database)? {
        None => {
            seed::apply(store, seed_file(base, users)?, now).await?;
        }
        Some(mut stored) => {
            let client = &mut stored.client;
            client.callbacks = vec![page_url(base)];
            client.allowed_logout_urls = vec![page_url(base)];
            client.web_origins = vec![base.to_string()];
            client.allowed_origins = vec![base.to_string()];
            store.update_client(&stored).await.map_err(database)?;
        }
    }
    Ok(())
}

/// The marker file's contents: a version that says "a demo made this",
/// and the users.
#[derive(Serialize, Deserialize)]
struct Marker {
    gatehouse_demo: u32,
    #[serde(flatten)]
    users: DemoUsers,
}

const MARKER_VERSION: u32 = 1;

/// The users of the marker in `data_dir`, when it holds one that reads as
/// a demo's (a file of that name with other contents marks nothing).
pub(super) fn read_marker(data_dir: &Path) -> Option<DemoUsers> {
    let bytes = std::fs::read(data_dir.join(MARKER_FILE)).ok()?;
    let marker: Marker = serde_json::from_slice(&bytes).ok()?;
    (marker.gatehouse_demo == MARKER_VERSION).then_some(marker.users)
}

/// The users of the demo in `data_dir`, which [`super::claim_data_dir`]
/// has let the demo take: read from its marker, or generated and written
/// there, before the database gets anything.
pub fn marked_users(data_dir: &Path) -> Result<DemoUsers, String> {
    if let Some(users) = read_marker(data_dir) {
        return Ok(users);
    }
    let path = data_dir.join(MARKER_FILE);
    if path.exists() {
        return Err(format!("{} is not a demo's marker", path.display()));
    }
    let marker = Marker {
        gatehouse_demo: MARKER_VERSION,
        users: DemoUsers::generate(),
    };
    let bytes = serde_json::to_vec_pretty(&marker).map_err(|e| e.to_string())?;
    write_private_file(&path, &bytes)
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(marker.users)
}

fn page_url(base: &str) -> String {
    format!("{base}/demo")
}

/// Seed 000's world as a seed file: the API with RBAC and permissions in
/// the token, the SPA, the role `reader`, alice with it and bob without.
fn seed_file(base: &str, users: &DemoUsers) -> Result<SeedFile, String> {
    let value = json!({
        "apis": [{
            "name": "Measurements API (demo)",
            "identifier": DEMO_AUDIENCE,
            "scopes": [
                {"value": READ_SCOPE, "description": "Read the measurements"},
                {"value": "write:measurements", "description": "Record measurements"}
            ],
            "enforce_policies": true,
            "token_dialect": "access_token_authz"
        }],
        "clients": [{
            "client_id": DEMO_CLIENT_ID,
            "name": "Measurements SPA (demo)",
            "app_type": "spa",
            "callbacks": [page_url(base)],
            "allowed_logout_urls": [page_url(base)],
            "web_origins": [base],
            "allowed_origins": [base]
        }],
        "roles": [{
            "name": "reader",
            "description": "Reads the measurements",
            "permissions": [
                {"resource_server_identifier": DEMO_AUDIENCE, "permission_name": READ_SCOPE}
            ]
        }],
        "users": [
            {"email": users.alice.email, "password": users.alice.password,
             "email_verified": true, "roles": ["reader"]},
            {"email": users.bob.email, "password": users.bob.password, "email_verified": true}
        ]
    });
    serde_json::from_value(value).map_err(|e| format!("demo seed: {e}"))
}
