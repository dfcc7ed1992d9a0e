//! A tenant seeded through the store (the Management API comes later): the
//! measurements API of seed 000 with RBAC and permissions in the token, a
//! machine client with a client grant, an SPA, a web app, and two users —
//! alice with the role `reader`, bob with nothing.

use gatehouse_core::clock::{Clock, SystemClock};
use gatehouse_core::model::*;
use gatehouse_core::secret::hash_token;
use gatehouse_server::password::hash_password;
use gatehouse_store::{Store, StoredClient, StoredUser};

pub const API: &str = "https://measurements.example/";
pub const OTHER_API: &str = "https://other.example/";
pub const PASSWORD: &str = "correct horse battery staple";
pub const SPA_ORIGIN: &str = "http://localhost:4200";

pub struct Seeded {
    pub m2m_id: String,
    pub m2m_secret: String,
    pub spa_id: String,
    pub web_id: String,
    pub web_secret: String,
    pub alice: User,
    pub bob: User,
}

fn scope(value: &str) -> ScopeDefinition {
    ScopeDefinition {
        value: value.into(),
        description: String::new(),
    }
}

pub async fn seed(store: &dyn Store) -> Seeded {
    let now = SystemClock.now();
    let mut api = ResourceServer::new("rs_measure", "Measurements", API);
    api.scopes = vec![scope("read:measurements"), scope("write:measurements")];
    api.enforce_policies = true;
    api.token_dialect = TokenDialect::AccessTokenAuthz;
    api.allow_offline_access = true;
    store.create_resource_server(&api, now).await.unwrap();
    let mut other = ResourceServer::new("rs_other", "Other", OTHER_API);
    other.scopes = vec![scope("myscope")];
    store.create_resource_server(&other, now).await.unwrap();

    let m2m_secret = "m2m-secret-value-with-enough-entropy-0123456789".to_string();
    let m2m = Client::new("m2m-client", "Machine", AppType::NonInteractive);
    store
        .create_client(
            &StoredClient {
                client: m2m.clone(),
                secret_hash: Some(hash_token(&m2m_secret)),
            },
            now,
        )
        .await
        .unwrap();
    store
        .create_client_grant(
            &ClientGrant {
                id: "cgr_m2m".into(),
                client_id: Some(m2m.client_id.clone()),
                default_for: None,
                audience: API.into(),
                scope: vec!["read:measurements".into(), "write:measurements".into()],
                subject_type: SubjectType::Client,
                allow_all_scopes: false,
            },
            now,
        )
        .await
        .unwrap();

    let mut spa = Client::new("spa-client", "SPA", AppType::Spa);
    spa.callbacks = vec![format!("{SPA_ORIGIN}/callback")];
    spa.grant_types.push("password".into());
    spa.grant_types
        .push("urn:ietf:params:oauth:grant-type:device_code".into());
    store
        .create_client(
            &StoredClient {
                client: spa.clone(),
                secret_hash: None,
            },
            now,
        )
        .await
        .unwrap();

    let web_secret = "web-secret-value-with-enough-entropy-0123456789".to_string();
    let mut web = Client::new("web-client", "Web", AppType::RegularWeb);
    web.grant_types.push("password".into());
    web.callbacks = vec!["https://web.example/callback".into()];
    store
        .create_client(
            &StoredClient {
                client: web.clone(),
                secret_hash: Some(hash_token(&web_secret)),
            },
            now,
        )
        .await
        .unwrap();

    let hash = hash_password(PASSWORD).unwrap();
    let mut users = Vec::new();
    for email in ["alice@example.com", "bob@example.com"] {
        let mut user = User::new(gatehouse_core::ids::user_id(), email, now);
        user.email_verified = true;
        store
            .create_user(&StoredUser {
                user: user.clone(),
                password_hash: Some(hash.clone()),
            })
            .await
            .unwrap();
        users.push(user);
    }
    let reader = Role {
        id: "rol_reader".into(),
        name: "reader".into(),
        description: "Reads measurements".into(),
    };
    store.create_role(&reader, now).await.unwrap();
    store
        .add_role_permissions(
            &reader.id,
            &[Permission {
                resource_server_identifier: API.into(),
                permission_name: "read:measurements".into(),
            }],
        )
        .await
        .unwrap();
    store
        .assign_user_roles(&users[0].user_id, std::slice::from_ref(&reader.id))
        .await
        .unwrap();
    let bob = users.pop().unwrap();
    let alice = users.pop().unwrap();
    Seeded {
        m2m_id: m2m.client_id,
        m2m_secret,
        spa_id: spa.client_id,
        web_id: web.client_id,
        web_secret,
        alice,
        bob,
    }
}
