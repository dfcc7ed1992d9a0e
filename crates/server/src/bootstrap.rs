//! First-start bootstrap of a new tenant: the system API `<issuer>api/v2/`
//! with every management scope and Auth0's end-user scopes, a
//! machine-to-machine client granted every management scope, an `Admin` role
//! holding every management permission, and an admin user with that role (so
//! the admin can sign in through `/authorize` with management scopes: in user
//! flows those come only through RBAC, auth0-compat.md §9).
//!
//! [`bootstrap`] is idempotent: once a system API exists it creates nothing
//! but what an older version did not (the end-user scopes, the `Admin`
//! role), and returns `None`, so the credentials are shown exactly once. The CLI prints
//! them and writes `bootstrap.json`; presets (flags or `GATEHOUSE_BOOTSTRAP_*`)
//! replace the random values for automation.

use crate::password::hash_password_once;
use crate::routes::management::auth::management_audience;
use crate::routes::management::connections;
use crate::routes::management::scopes;
use gatehouse_core::ids;
use gatehouse_core::model::{
    AppType, Client, ClientGrant, Permission, ResourceServer, Role, SubjectType, User,
};
use gatehouse_core::password_policy::PersonalInfo;
use gatehouse_core::redact::Secret;
use gatehouse_core::secret::{hash_token, MIN_CLIENT_SECRET_CHARS};
use gatehouse_store::{Page, Store, StoreError, StoredClient, StoredUser};
use serde::{Deserialize, Serialize};

/// Values to use instead of random ones.
#[derive(Debug, Default, Clone)]
pub struct BootstrapOptions {
    pub client_id: Option<String>,
    pub client_secret: Option<Secret<String>>,
    pub admin_email: Option<String>,
    pub admin_password: Option<Secret<String>>,
}

/// What a fresh tenant's operator needs, shown once; the shape of
/// `<data-dir>/bootstrap.json`.
#[derive(Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct BootstrapCredentials {
    pub management_client_id: String,
    pub management_client_secret: String,
    pub management_audience: String,
    pub admin_email: String,
    pub admin_password: String,
}

impl std::fmt::Debug for BootstrapCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BootstrapCredentials")
            .field("management_client_id", &self.management_client_id)
            .field("management_client_secret", &"[redacted]")
            .field("management_audience", &self.management_audience)
            .field("admin_email", &self.admin_email)
            .field("admin_password", &"[redacted]")
            .finish()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum BootstrapError {
    #[error("bootstrap: {0}")]
    Store(#[from] StoreError),
    #[error("bootstrap: {0}")]
    Invalid(String),
}

/// The bootstrap admin's password: the one given, if the database
/// connection's password policy (stored, else the default) accepts it, or a
/// generated one.
async fn admin_password(
    store: &dyn Store,
    email: &str,
    given: Option<Secret<String>>,
) -> Result<String, BootstrapError> {
    let policy = connections::stored_options(store).await?.password_policy();
    let user = PersonalInfo {
        email,
        ..PersonalInfo::default()
    };
    match given.map(Secret::into_inner) {
        Some(password) => match policy.check(&password, &user) {
            Ok(()) => Ok(password),
            Err(refused) => Err(BootstrapError::Invalid(format!(
                "the bootstrap admin password does not meet the password policy: {}\n* {}",
                refused.message(),
                policy.rule_lines().join("\n* ")
            ))),
        },
        None => policy.generate(&user).ok_or_else(|| {
            BootstrapError::Invalid("no generated admin password meets the password policy".into())
        }),
    }
}

/// The admin's default email: `admin@<issuer host>`, or `admin@localhost`
/// when the host is an IP address.
pub fn default_admin_email(issuer: &str) -> String {
    let host = issuer
        .split("://")
        .nth(1)
        .unwrap_or("")
        .split(['/', ':'])
        .next()
        .unwrap_or("");
    let is_ip = host.parse::<std::net::IpAddr>().is_ok() || host.starts_with('[');
    if host.is_empty() || is_ip {
        "admin@localhost".into()
    } else {
        format!("admin@{host}")
    }
}

/// The name of the bootstrap client and of the system API.
pub const MANAGEMENT_CLIENT_NAME: &str = "Gatehouse Management Client";
pub const SYSTEM_API_NAME: &str = "Gatehouse Management API";
/// The role that holds every management permission.
pub const ADMIN_ROLE_NAME: &str = "Admin";
/// The name of the dashboard's own client.
pub const DASHBOARD_CLIENT_NAME: &str = "Gatehouse Dashboard";

/// Where `/authorize` sends the dashboard's sign-in back to.
pub fn dashboard_callback(issuer: &str) -> String {
    format!("{issuer}admin/callback")
}

/// Where the dashboard's sign-out ends, after `/v2/logout`.
pub fn dashboard_signed_out(issuer: &str) -> String {
    format!("{issuer}admin/sign-in")
}

/// The dashboard's client: a first-party web application of the tenant that
/// signs administrators in with the authorization code and PKCE. Created on
/// first use, recreated if someone deleted it, and its URLs follow the
/// issuer. Concurrent nodes agree on one id through the store.
pub async fn ensure_dashboard_client(
    store: &dyn Store,
    issuer: &str,
    now: i64,
) -> Result<Client, StoreError> {
    let client_id = store
        .server_value_or_insert(
            gatehouse_store::server_values::DASHBOARD_CLIENT_ID,
            &ids::client_id(),
        )
        .await?;
    let callback = dashboard_callback(issuer);
    let signed_out = dashboard_signed_out(issuer);
    if let Some(mut stored) = store.client(&client_id).await? {
        if stored.client.callbacks != [callback.clone()]
            || stored.client.allowed_logout_urls != [signed_out.clone()]
        {
            stored.client.callbacks = vec![callback];
            stored.client.allowed_logout_urls = vec![signed_out];
            store.update_client(&stored).await?;
        }
        return Ok(stored.client);
    }
    let mut client = Client::new(client_id, DASHBOARD_CLIENT_NAME, AppType::RegularWeb);
    client.description = "Gatehouse's own dashboard at /admin (managed by Gatehouse)".into();
    client.token_endpoint_auth_method = gatehouse_core::model::TokenEndpointAuthMethod::None;
    client.grant_types = vec![gatehouse_core::request::AUTHORIZATION_CODE.into()];
    client.callbacks = vec![callback];
    client.allowed_logout_urls = vec![signed_out];
    let stored = StoredClient {
        client: client.clone(),
        secret_hash: None,
    };
    match store.create_client(&stored, now).await {
        // Another node created it first.
        Err(StoreError::Conflict(_)) => Ok(store
            .client(&client.client_id)
            .await?
            .map_or(client, |s| s.client)),
        result => result.map(|()| client),
    }
}

/// Creates the system API, the management client and its grant, and the
/// admin user — unless a system API exists already (then `None`).
pub async fn bootstrap(
    store: &dyn Store,
    issuer: &str,
    options: BootstrapOptions,
    now: i64,
) -> Result<Option<BootstrapCredentials>, BootstrapError> {
    let apis = store.resource_servers(Page::ALL).await?;
    if let Some(system) = apis.into_iter().find(|a| a.is_system) {
        upgrade(store, system, now).await?;
        return Ok(None);
    }
    let client_id = options.client_id.unwrap_or_else(ids::client_id);
    let client_secret = options
        .client_secret
        .map_or_else(ids::client_secret, Secret::into_inner);
    if client_id.trim().is_empty() || client_secret.chars().count() < MIN_CLIENT_SECRET_CHARS {
        return Err(BootstrapError::Invalid(format!(
            "the bootstrap client id must not be empty and its secret must have at least \
             {MIN_CLIENT_SECRET_CHARS} characters"
        )));
    }
    let admin_email = options
        .admin_email
        .unwrap_or_else(|| default_admin_email(issuer));
    let admin_password = admin_password(store, &admin_email, options.admin_password).await?;
    let audience = management_audience(issuer);

    let client = Client::new(
        client_id.clone(),
        MANAGEMENT_CLIENT_NAME,
        AppType::NonInteractive,
    );
    store
        .create_client(
            &StoredClient {
                client,
                secret_hash: Some(hash_token(&client_secret)),
            },
            now,
        )
        .await?;

    let password_hash = hash_password_once(admin_password.clone())
        .await
        .map_err(BootstrapError::Invalid)?;
    let mut admin = User::new(ids::user_id(), &admin_email, now);
    admin.email_verified = true;
    let admin_id = match store
        .create_user(&StoredUser {
            user: admin.clone(),
            password_hash: Some(password_hash),
        })
        .await
    {
        Ok(()) => admin.user_id,
        // A preset admin that exists already (e.g. a restored database) is kept.
        Err(StoreError::Conflict(_)) => store
            .user_by_email(&admin.connection, &admin_email)
            .await?
            .map(|existing| existing.user.user_id)
            .ok_or_else(|| BootstrapError::Invalid(format!("admin {admin_email} not found")))?,
        Err(e) => return Err(e.into()),
    };

    let mut api = ResourceServer::new(ids::random_hex(12), SYSTEM_API_NAME, audience.clone());
    api.is_system = true;
    api.scopes = scopes::system_api_scopes();
    store.create_resource_server(&api, now).await?;
    let admin_role = ensure_admin_role(store, &audience, now).await?;
    store
        .assign_user_roles(&admin_id, std::slice::from_ref(&admin_role))
        .await?;
    store
        .create_client_grant(
            &ClientGrant {
                id: ids::prefixed("cgr"),
                client_id: Some(client_id.clone()),
                default_for: None,
                audience: audience.clone(),
                scope: scopes::names(),
                subject_type: SubjectType::Client,
                allow_all_scopes: false,
            },
            now,
        )
        .await?;
    Ok(Some(BootstrapCredentials {
        management_client_id: client_id,
        management_client_secret: client_secret,
        management_audience: audience,
        admin_email,
        admin_password,
    }))
}

/// Brings a system API made by an older version up to date: the scopes it
/// lacks, and the `Admin` role (which nobody holds until an operator assigns
/// it). A management scope that is new in this version (such as the
/// dashboard's `access:dashboard`) is added to the `Admin` role when that
/// role holds every management permission the API had before: the role is
/// still the all-powerful one bootstrap made, not one an operator narrowed.
async fn upgrade(
    store: &dyn Store,
    mut system: ResourceServer,
    now: i64,
) -> Result<(), BootstrapError> {
    let missing: Vec<_> = scopes::system_api_scopes()
        .into_iter()
        .filter(|s| !system.defines_scope(&s.value))
        .collect();
    if !missing.is_empty() {
        system.scopes.extend(missing.iter().cloned());
        store.update_resource_server(&system).await?;
    }
    let role_id = ensure_admin_role(store, &system.identifier, now).await?;
    let new_names: Vec<String> = missing.into_iter().map(|s| s.value).collect();
    extend_full_admin_role(store, &system.identifier, &role_id, &new_names).await?;
    extend_full_management_grants(store, &system.identifier, &new_names).await
}

/// The same rule for clients: a grant on the Management API that held every
/// management scope before (the bootstrap client's, unless an operator
/// narrowed it) gets the new ones, such as the Actions scopes.
async fn extend_full_management_grants(
    store: &dyn Store,
    audience: &str,
    new_scopes: &[String],
) -> Result<(), BootstrapError> {
    if new_scopes.is_empty() {
        return Ok(());
    }
    let management = scopes::names();
    for mut grant in store.client_grants(Page::ALL).await? {
        if grant.audience != audience || grant.client_id.is_none() {
            continue;
        }
        let held_all_before = management
            .iter()
            .filter(|name| !new_scopes.contains(name))
            .all(|name| grant.scope.contains(name));
        let to_add: Vec<String> = new_scopes
            .iter()
            .filter(|name| management.contains(name) && !grant.scope.contains(name))
            .cloned()
            .collect();
        if held_all_before && !to_add.is_empty() {
            grant.scope.extend(to_add);
            store.update_client_grant(&grant).await?;
        }
    }
    Ok(())
}

async fn extend_full_admin_role(
    store: &dyn Store,
    audience: &str,
    role_id: &str,
    new_scopes: &[String],
) -> Result<(), BootstrapError> {
    let held: Vec<String> = store
        .role_permissions(role_id)
        .await?
        .into_iter()
        .filter(|p| p.resource_server_identifier == audience)
        .map(|p| p.permission_name)
        .collect();
    let management = scopes::names();
    let held_all_before = management
        .iter()
        .filter(|name| !new_scopes.contains(name))
        .all(|name| held.contains(name));
    let to_add: Vec<Permission> = management
        .into_iter()
        .filter(|name| new_scopes.contains(name) && !held.contains(name))
        .map(|permission_name| Permission {
            resource_server_identifier: audience.to_string(),
            permission_name,
        })
        .collect();
    if held_all_before && !to_add.is_empty() {
        store.add_role_permissions(role_id, &to_add).await?;
    }
    Ok(())
}

/// The id of the role named [`ADMIN_ROLE_NAME`], created with every
/// management permission when no role has that name. An existing role of
/// that name is the operator's and is left as it is.
async fn ensure_admin_role(
    store: &dyn Store,
    audience: &str,
    now: i64,
) -> Result<String, BootstrapError> {
    let roles = store.roles(Page::ALL).await?;
    if let Some(role) = roles.into_iter().find(|r| r.name == ADMIN_ROLE_NAME) {
        return Ok(role.id);
    }
    let role = Role {
        id: ids::prefixed("rol"),
        name: ADMIN_ROLE_NAME.into(),
        description: "Every Management API permission (tenant administrators)".into(),
    };
    store.create_role(&role, now).await?;
    let permissions: Vec<Permission> = scopes::names()
        .into_iter()
        .map(|permission_name| Permission {
            resource_server_identifier: audience.to_string(),
            permission_name,
        })
        .collect();
    store.add_role_permissions(&role.id, &permissions).await?;
    Ok(role.id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admin_email_from_issuer() {
        assert_eq!(
            default_admin_email("http://127.0.0.1:8080/"),
            "admin@localhost"
        );
        assert_eq!(
            default_admin_email("https://id.example.com/"),
            "admin@id.example.com"
        );
        assert_eq!(
            default_admin_email("http://localhost:3000/"),
            "admin@localhost"
        );
    }

    #[test]
    fn presets_never_print() {
        let options = BootstrapOptions {
            client_id: Some("preset-client".into()),
            client_secret: Some("preset-secret-0123456789-0123456789".into()),
            admin_email: Some("ops@example.com".into()),
            admin_password: Some("preset password".into()),
        };
        let shown = format!("{options:?}");
        assert!(shown.contains("preset-client"), "{shown}");
        assert!(!shown.contains("preset-secret"), "{shown}");
        assert!(!shown.contains("preset password"), "{shown}");
    }
}
