//! Moving a tenant between databases (`gatehouse export` / `gatehouse import`),
//! e.g. from the embedded SQLite to PostgreSQL when a deployment scales out.
//!
//! The dump holds configuration and identities: tenant settings, signing keys,
//! APIs, clients (secret hashes), client grants, roles and users (password
//! hashes) with their roles and permissions, and Actions (secrets sealed)
//! with each trigger's flow. Short-lived state — codes,
//! sessions, refresh tokens, log events — is not moved: users sign in again.
//! The dump contains hashes, and the private keys and Action secrets as stored
//! (sealed under the master key, which the target must use too); treat it as
//! a secret.

use crate::{
    ActionBinding, Page, Store, StoreError, StoreResult, StoredAction, StoredClient, StoredKey,
    StoredUser,
};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use gatehouse_core::actions::Trigger;
use gatehouse_core::model::{
    Client, ClientGrant, Permission, ResourceServer, Role, SigningAlg, TenantSettings, User,
};
use serde::{Deserialize, Serialize};

pub const FORMAT: &str = "gatehouse-export/1";

#[derive(Debug, Serialize, Deserialize)]
pub struct TenantDump {
    pub format: String,
    pub tenant_settings: TenantSettings,
    pub signing_keys: Vec<KeyDump>,
    pub resource_servers: Vec<ResourceServer>,
    pub clients: Vec<ClientDump>,
    pub client_grants: Vec<ClientGrant>,
    pub roles: Vec<RoleDump>,
    pub users: Vec<UserDump>,
    /// Absent in dumps written before Actions.
    #[serde(default)]
    pub actions: Vec<StoredAction>,
    /// Every trigger's flow, each in order.
    #[serde(default)]
    pub action_bindings: Vec<ActionBinding>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct KeyDump {
    pub kid: String,
    pub alg: SigningAlg,
    pub state: String,
    /// The private key exactly as stored: sealed under the source's master
    /// key (the target needs the same key), or base64 PKCS#8 in dumps written
    /// before sealing (sealed by the target's next start).
    #[serde(rename = "private_key", alias = "private_pkcs8")]
    pub private_key: String,
    pub cert_der: String,
    pub created_at: i64,
    pub state_changed_at: i64,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct ClientDump {
    pub client: Client,
    pub secret_hash: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct RoleDump {
    pub role: Role,
    pub permissions: Vec<Permission>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct UserDump {
    pub user: User,
    pub password_hash: Option<String>,
    pub role_ids: Vec<String>,
    pub permissions: Vec<Permission>,
}

/// What an import created, for the operator.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct ImportCounts {
    pub signing_keys: usize,
    pub resource_servers: usize,
    pub clients: usize,
    pub client_grants: usize,
    pub roles: usize,
    pub users: usize,
    pub actions: usize,
}

/// Reads everything that defines the tenant.
pub async fn export(store: &dyn Store) -> StoreResult<TenantDump> {
    let mut roles = Vec::new();
    for role in store.roles(Page::ALL).await? {
        let permissions = store.role_permissions(&role.id).await?;
        roles.push(RoleDump { role, permissions });
    }
    let mut users = Vec::new();
    for stored in store.users(Page::ALL).await? {
        let id = stored.user.user_id.clone();
        users.push(UserDump {
            role_ids: store
                .user_roles(&id)
                .await?
                .into_iter()
                .map(|r| r.id)
                .collect(),
            permissions: store.user_direct_permissions(&id).await?,
            user: stored.user,
            password_hash: stored.password_hash,
        });
    }
    let mut action_bindings = Vec::new();
    for trigger in Trigger::ALL {
        action_bindings.extend(store.trigger_bindings(trigger.id()).await?);
    }
    Ok(TenantDump {
        format: FORMAT.to_string(),
        actions: store.actions(Page::ALL).await?,
        action_bindings,
        tenant_settings: store.tenant_settings().await?,
        signing_keys: store
            .signing_keys()
            .await?
            .into_iter()
            .map(|k| KeyDump {
                kid: k.kid,
                alg: k.alg,
                state: k.state,
                private_key: k.private_key,
                cert_der: STANDARD.encode(k.cert_der),
                created_at: k.created_at,
                state_changed_at: k.state_changed_at,
            })
            .collect(),
        resource_servers: store.resource_servers(Page::ALL).await?,
        clients: store
            .clients(Page::ALL)
            .await?
            .into_iter()
            .map(|c| ClientDump {
                client: c.client,
                secret_hash: c.secret_hash,
            })
            .collect(),
        client_grants: store.client_grants(Page::ALL).await?,
        roles,
        users,
    })
}

fn decode(what: &str, text: &str) -> StoreResult<Vec<u8>> {
    STANDARD
        .decode(text)
        .map_err(|e| StoreError::Corrupt(format!("{what}: {e}")))
}

/// Users are written this many to a transaction: few commits, and a copy of
/// only one chunk in memory at a time.
const IMPORT_CHUNK: usize = 5_000;

/// Writes a dump into an empty database; anything already there with the same
/// identity is a [`StoreError::Conflict`].
pub async fn import(store: &dyn Store, dump: &TenantDump, now: i64) -> StoreResult<ImportCounts> {
    if dump.format != FORMAT {
        return Err(StoreError::Corrupt(format!(
            "unknown export format {:?} (expected {FORMAT})",
            dump.format
        )));
    }
    store.put_tenant_settings(&dump.tenant_settings).await?;
    for key in &dump.signing_keys {
        store
            .insert_signing_key(&StoredKey {
                kid: key.kid.clone(),
                alg: key.alg,
                state: key.state.clone(),
                private_key: key.private_key.clone(),
                cert_der: decode("cert_der", &key.cert_der)?,
                created_at: key.created_at,
                state_changed_at: key.state_changed_at,
            })
            .await?;
    }
    for api in &dump.resource_servers {
        store.create_resource_server(api, now).await?;
    }
    for c in &dump.clients {
        let stored = StoredClient {
            client: c.client.clone(),
            secret_hash: c.secret_hash.clone(),
        };
        store.create_client(&stored, now).await?;
    }
    for grant in &dump.client_grants {
        store.create_client_grant(grant, now).await?;
    }
    for r in &dump.roles {
        store.create_role(&r.role, now).await?;
        store
            .add_role_permissions(&r.role.id, &r.permissions)
            .await?;
    }
    for chunk in dump.users.chunks(IMPORT_CHUNK) {
        let users: Vec<StoredUser> = chunk
            .iter()
            .map(|u| StoredUser {
                user: u.user.clone(),
                password_hash: u.password_hash.clone(),
            })
            .collect();
        store.create_users(&users).await?;
    }
    for u in &dump.users {
        if !u.role_ids.is_empty() {
            store
                .assign_user_roles(&u.user.user_id, &u.role_ids)
                .await?;
        }
        if !u.permissions.is_empty() {
            store
                .add_user_permissions(&u.user.user_id, &u.permissions)
                .await?;
        }
    }
    for action in &dump.actions {
        store.create_action(action).await?;
    }
    for trigger in Trigger::ALL {
        let flow: Vec<ActionBinding> = dump
            .action_bindings
            .iter()
            .filter(|b| b.trigger_id == trigger.id())
            .cloned()
            .collect();
        if !flow.is_empty() {
            store.replace_trigger_bindings(trigger.id(), &flow).await?;
        }
    }
    Ok(ImportCounts {
        actions: dump.actions.len(),
        signing_keys: dump.signing_keys.len(),
        resource_servers: dump.resource_servers.len(),
        clients: dump.clients.len(),
        client_grants: dump.client_grants.len(),
        roles: dump.roles.len(),
        users: dump.users.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dumps_written_before_sealing_still_read() {
        let old = r#"{"kid": "k1", "alg": "RS256", "state": "current",
            "private_pkcs8": "MIIEvQIBADAN", "cert_der": "MAA=",
            "created_at": 1, "state_changed_at": 1}"#;
        let key: KeyDump = serde_json::from_str(old).unwrap();
        assert_eq!(key.private_key, "MIIEvQIBADAN");
        let written = serde_json::to_value(&key).unwrap();
        assert_eq!(written["private_key"], "MIIEvQIBADAN");
        assert!(written.get("private_pkcs8").is_none());
    }
}
