//! `gatehouse seed --file seed.json`: creates APIs, clients, client grants,
//! roles and users through the store, for demos, tests and the e2e suite
//! (until the Management API lands). Objects take Auth0's Management API
//! field names; anything left out gets the same defaults as a new object in
//! Auth0 (an SPA gets `token_endpoint_auth_method: none`, rotating refresh
//! tokens, …). Passwords are hashed with argon2id, client secrets stored as
//! hashes; a `client_secret` must have at least 32 characters. Runs against the same database as `serve` (SQLite in WAL mode
//! accepts it while the server runs). An object that exists already is an
//! error, so a seed file is applied once.
//!
//! ```json
//! {
//!   "tenant": {"default_audience": null, "allowed_logout_urls": []},
//!   "apis": [{"name": "Measurements", "identifier": "https://api/",
//!             "scopes": [{"value": "read:measurements"}], "enforce_policies": true,
//!             "token_dialect": "access_token_authz"}],
//!   "clients": [{"client_id": "spa", "name": "SPA", "app_type": "spa",
//!                "callbacks": ["http://127.0.0.1:3000/"], "client_secret": null}],
//!   "client_grants": [{"client_id": "m2m", "audience": "https://api/", "scope": ["read:measurements"]}],
//!   "roles": [{"name": "reader", "permissions": [
//!             {"resource_server_identifier": "https://api/", "permission_name": "read:measurements"}]}],
//!   "users": [{"email": "alice@example.com", "password": "…", "roles": ["reader"]}]
//! }
//! ```

use gatehouse_core::ids;
use gatehouse_core::model::{
    AppType, Client, ClientGrant, Permission, ResourceServer, Role, TenantSettings, User,
};
use gatehouse_core::secret::{hash_token, MIN_CLIENT_SECRET_CHARS};
use gatehouse_store::{Store, StoredClient, StoredUser};
use serde::Deserialize;
use serde_json::{json, Map, Value};

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct SeedFile {
    #[serde(default)]
    tenant: Option<Map<String, Value>>,
    #[serde(default)]
    apis: Vec<Map<String, Value>>,
    #[serde(default)]
    clients: Vec<Map<String, Value>>,
    #[serde(default)]
    client_grants: Vec<Map<String, Value>>,
    #[serde(default)]
    roles: Vec<SeedRole>,
    #[serde(default)]
    users: Vec<Map<String, Value>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SeedRole {
    #[serde(default)]
    id: Option<String>,
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    permissions: Vec<Permission>,
}

/// `base` (a default object as JSON) with `overrides` laid over it, read back as `T`.
fn overlay<T: serde::de::DeserializeOwned + serde::Serialize>(
    base: &T,
    overrides: &Map<String, Value>,
    what: &str,
) -> Result<T, String> {
    let mut value = serde_json::to_value(base).map_err(|e| format!("{what}: {e}"))?;
    if let Value::Object(target) = &mut value {
        for (k, v) in overrides {
            target.insert(k.clone(), v.clone());
        }
    }
    serde_json::from_value(value).map_err(|e| format!("{what}: {e}"))
}

fn text(map: &Map<String, Value>, key: &str) -> Option<String> {
    map.get(key).and_then(Value::as_str).map(str::to_string)
}

fn take(map: &mut Map<String, Value>, key: &str) -> Option<Value> {
    map.remove(key).filter(|v| !v.is_null())
}

/// Applies a seed file; returns a summary of what was created (with generated ids).
pub async fn apply(store: &dyn Store, seed: SeedFile, now: i64) -> Result<Value, String> {
    let err = |what: String| move |e: gatehouse_store::StoreError| format!("{what}: {e}");
    if let Some(overrides) = &seed.tenant {
        let current = store
            .tenant_settings()
            .await
            .map_err(err("tenant".into()))?;
        let settings: TenantSettings = overlay(&current, overrides, "tenant")?;
        store
            .put_tenant_settings(&settings)
            .await
            .map_err(err("tenant".into()))?;
    }
    let mut apis = Vec::new();
    for raw in &seed.apis {
        let identifier = text(raw, "identifier").ok_or("apis: every API needs an identifier")?;
        let id = text(raw, "id").unwrap_or_else(|| ids::prefixed("rs"));
        let name = text(raw, "name").unwrap_or_else(|| identifier.clone());
        let api: ResourceServer =
            overlay(&ResourceServer::new(id, name, &identifier), raw, "apis")?;
        store
            .create_resource_server(&api, now)
            .await
            .map_err(err(format!("API {identifier}")))?;
        apis.push(json!({"id": api.id, "identifier": api.identifier}));
    }
    let mut clients = Vec::new();
    for raw in &seed.clients {
        let mut raw = raw.clone();
        let secret = take(&mut raw, "client_secret").and_then(|v| v.as_str().map(str::to_string));
        let client_id = text(&raw, "client_id").unwrap_or_else(ids::client_id);
        if let Some(length) = secret.as_deref().map(|s| s.chars().count()) {
            if length < MIN_CLIENT_SECRET_CHARS {
                return Err(format!(
                    "clients: client {client_id}: client_secret must be at least \
                     {MIN_CLIENT_SECRET_CHARS} characters, not {length}"
                ));
            }
        }
        let name = text(&raw, "name").unwrap_or_else(|| client_id.clone());
        let app_type: AppType = match raw.get("app_type") {
            Some(v) => serde_json::from_value(v.clone()).map_err(|e| format!("clients: {e}"))?,
            None => AppType::RegularWeb,
        };
        let client: Client = overlay(&Client::new(&client_id, name, app_type), &raw, "clients")?;
        store
            .create_client(
                &StoredClient {
                    client,
                    secret_hash: secret.as_deref().map(hash_token),
                },
                now,
            )
            .await
            .map_err(err(format!("client {client_id}")))?;
        clients.push(json!({"client_id": client_id}));
    }
    for raw in &seed.client_grants {
        let mut raw = raw.clone();
        raw.entry("id")
            .or_insert_with(|| Value::String(ids::prefixed("cgr")));
        let grant: ClientGrant = serde_json::from_value(Value::Object(raw))
            .map_err(|e| format!("client_grants: {e}"))?;
        store
            .create_client_grant(&grant, now)
            .await
            .map_err(err(format!("client grant {}", grant.id)))?;
    }
    let mut role_ids = Vec::new();
    for r in seed.roles {
        let role = Role {
            id: r.id.unwrap_or_else(|| ids::prefixed("rol")),
            name: r.name,
            description: r.description,
        };
        store
            .create_role(&role, now)
            .await
            .map_err(err(format!("role {}", role.name)))?;
        store
            .add_role_permissions(&role.id, &r.permissions)
            .await
            .map_err(err(format!("role {}", role.name)))?;
        role_ids.push((role.name, role.id));
    }
    let mut users = Vec::new();
    for raw in &seed.users {
        let mut raw = raw.clone();
        let password = take(&mut raw, "password").and_then(|v| v.as_str().map(str::to_string));
        let roles: Vec<String> = match take(&mut raw, "roles") {
            Some(v) => serde_json::from_value(v).map_err(|e| format!("users.roles: {e}"))?,
            None => Vec::new(),
        };
        let permissions: Vec<Permission> = match take(&mut raw, "permissions") {
            Some(v) => serde_json::from_value(v).map_err(|e| format!("users.permissions: {e}"))?,
            None => Vec::new(),
        };
        let email = text(&raw, "email").ok_or("users: every user needs an email")?;
        let user_id = text(&raw, "user_id").unwrap_or_else(ids::user_id);
        let user: User = overlay(&User::new(&user_id, &email, now), &raw, "users")?;
        let password_hash = match password {
            Some(p) => Some(gatehouse_server::password::hash_password_blocking(p).await?),
            None => None,
        };
        store
            .create_user(&StoredUser {
                user,
                password_hash,
            })
            .await
            .map_err(err(format!("user {email}")))?;
        let mut assign = Vec::new();
        for name in &roles {
            let id = role_ids
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, id)| id.clone())
                .ok_or_else(|| format!("user {email}: role {name} is not in the seed file"))?;
            assign.push(id);
        }
        store
            .assign_user_roles(&user_id, &assign)
            .await
            .map_err(err(format!("user {email}")))?;
        store
            .add_user_permissions(&user_id, &permissions)
            .await
            .map_err(err(format!("user {email}")))?;
        users.push(json!({"email": email, "user_id": user_id}));
    }
    Ok(json!({"apis": apis, "clients": clients, "users": users}))
}

/// Reads and parses a seed file.
pub fn read(path: &std::path::Path) -> Result<SeedFile, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read seed file {}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("seed file {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const M2M_SECRET: &str = "m2m-secret-0123456789abcdef-0123456789";

    #[tokio::test]
    async fn short_client_secrets_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite:{}", dir.path().join("g.db").display());
        let store = gatehouse_store::open(&url).await.unwrap();
        let seed = |secret: &str| -> SeedFile {
            serde_json::from_value(json!({"clients": [
                {"client_id": "m2m", "app_type": "non_interactive", "client_secret": secret}]}))
            .unwrap()
        };
        let err = apply(store.as_ref(), seed("s3cret"), 1).await.unwrap_err();
        assert_eq!(
            err,
            "clients: client m2m: client_secret must be at least 32 characters, not 6"
        );
        assert!(store.client("m2m").await.unwrap().is_none());
        let exactly = "x".repeat(MIN_CLIENT_SECRET_CHARS);
        apply(store.as_ref(), seed(&exactly), 1).await.unwrap();
        assert!(store.client("m2m").await.unwrap().is_some());
    }

    #[tokio::test]
    async fn seeds_every_kind_of_object() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite:{}", dir.path().join("g.db").display());
        let store = gatehouse_store::open(&url).await.unwrap();
        let seed: SeedFile = serde_json::from_value(json!({
            "tenant": {"allowed_logout_urls": ["http://127.0.0.1:3000/"]},
            "apis": [{"name": "M", "identifier": "https://m/", "enforce_policies": true,
                      "scopes": [{"value": "read:m"}]}],
            "clients": [{"client_id": "spa", "name": "SPA", "app_type": "spa",
                         "callbacks": ["http://127.0.0.1:3000/"]},
                        {"client_id": "m2m", "app_type": "non_interactive", "client_secret": M2M_SECRET}],
            "client_grants": [{"client_id": "m2m", "audience": "https://m/", "scope": ["read:m"]}],
            "roles": [{"name": "reader", "permissions": [
                {"resource_server_identifier": "https://m/", "permission_name": "read:m"}]}],
            "users": [{"email": "a@example.com", "password": "pw-123456", "roles": ["reader"],
                       "email_verified": true}]
        }))
        .unwrap();
        let summary = apply(store.as_ref(), seed, 1).await.unwrap();
        let spa = store.client("spa").await.unwrap().unwrap();
        assert!(spa.client.is_public());
        assert_eq!(spa.client.callbacks, ["http://127.0.0.1:3000/"]);
        let m2m = store.client("m2m").await.unwrap().unwrap();
        assert_eq!(
            m2m.secret_hash.as_deref(),
            Some(hash_token(M2M_SECRET).as_str())
        );
        assert_eq!(
            store
                .client_grants_for("m2m", "https://m/")
                .await
                .unwrap()
                .len(),
            1
        );
        let user_id = summary["users"][0]["user_id"].as_str().unwrap();
        let perms = store
            .effective_permissions(user_id, "https://m/")
            .await
            .unwrap();
        assert_eq!(perms[0].permission_name, "read:m");
        let user = store.user(user_id).await.unwrap().unwrap();
        assert!(user.user.email_verified);
        assert!(gatehouse_server::password::verify_password(
            "pw-123456",
            user.password_hash.as_deref().unwrap()
        ));
        let tenant = store.tenant_settings().await.unwrap();
        assert_eq!(tenant.allowed_logout_urls, ["http://127.0.0.1:3000/"]);
        // Unknown top-level keys and roles are errors, not silently skipped.
        assert!(serde_json::from_value::<SeedFile>(json!({"apiz": []})).is_err());
        let bad: SeedFile =
            serde_json::from_value(json!({"users": [{"email": "b@example.com", "roles": ["x"]}]}))
                .unwrap();
        assert!(apply(store.as_ref(), bad, 1).await.is_err());
    }
}
