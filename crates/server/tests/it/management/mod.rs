//! The Management API v2 over real HTTP, authenticated with tokens from the
//! bootstrap client (client_credentials for `<issuer>api/v2/`).
//!
//! - [`auth`]: 401/403 strings, malformed bodies, queries and paths, OpenAPI.
//! - [`actions`]: Actions, deploy, test, triggers, bindings, executions.
//! - [`apis`]: resource servers, clients, client grants.
//! - [`directory`]: users, search, roles, permissions, the seed-000 story.
//! - [`keys_tenant`]: signing keys, tenant settings, connections, bootstrap.
//! - [`logs`]: log search, checkpoint reads, a user's logs.
//! - [`dashboard`]: users by email, stats, 501 for Auth0 paths not served.
//! - [`password_policy`]: the connection's password options and the policy
//!   applied by the Management API and the signup page.
//! - [`tickets`]: password-change and email-verification tickets, the
//!   verification-email job.
//! - [`email_settings`]: email templates and the email provider.

mod actions;
mod apis;
mod auth;
mod dashboard;
mod directory;
mod email_attack;
mod email_settings;
mod keys_tenant;
mod logs;
mod password_policy;
mod tickets;
pub(crate) mod user_flows;

use crate::support::{Reply, TestServer};
use gatehouse_core::model::{AppType, Client, ClientGrant, SubjectType};
use gatehouse_core::secret::hash_token;
use gatehouse_server::bootstrap::{bootstrap, BootstrapCredentials, BootstrapOptions};
use gatehouse_store::StoredClient;
use reqwest::Method;
use serde_json::Value;

/// A server with a bootstrapped tenant and a full-scope management token.
pub struct Mgmt {
    pub server: TestServer,
    pub creds: BootstrapCredentials,
    pub token: String,
}

impl Mgmt {
    pub async fn start() -> Self {
        Self::on(TestServer::start().await).await
    }

    /// Bootstraps the tenant of an already started server.
    pub async fn on(server: TestServer) -> Self {
        let creds = bootstrap(
            server.store.as_ref(),
            &server.issuer,
            BootstrapOptions::default(),
            server.state.now(),
        )
        .await
        .expect("bootstrap")
        .expect("a fresh store bootstraps");
        let token = client_credentials(
            &server,
            &creds.management_client_id,
            &creds.management_client_secret,
            &creds.management_audience,
        )
        .await;
        Self {
            server,
            creds,
            token,
        }
    }

    /// A token from a new client granted only `scopes` on the management API.
    pub async fn token_with(&self, scopes: &[&str]) -> String {
        let id = gatehouse_core::ids::client_id();
        let secret = "a-test-secret-with-enough-entropy-0123456789";
        let now = self.server.state.now();
        let store = self.server.store.as_ref();
        store
            .create_client(
                &StoredClient {
                    client: Client::new(id.clone(), "limited", AppType::NonInteractive),
                    secret_hash: Some(hash_token(secret)),
                },
                now,
            )
            .await
            .unwrap();
        store
            .create_client_grant(
                &ClientGrant {
                    id: gatehouse_core::ids::prefixed("cgr"),
                    client_id: Some(id.clone()),
                    default_for: None,
                    audience: self.creds.management_audience.clone(),
                    scope: scopes.iter().map(|s| s.to_string()).collect(),
                    subject_type: SubjectType::Client,
                    allow_all_scopes: false,
                },
                now,
            )
            .await
            .unwrap();
        client_credentials(&self.server, &id, secret, &self.creds.management_audience).await
    }

    /// A request with the full-scope token.
    pub async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Reply {
        self.call_as(Some(&self.token), method, path, body).await
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.call(Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Reply {
        self.call(Method::POST, path, Some(body)).await
    }

    pub async fn patch(&self, path: &str, body: Value) -> Reply {
        self.call(Method::PATCH, path, Some(body)).await
    }

    pub async fn delete(&self, path: &str) -> Reply {
        self.call(Method::DELETE, path, None).await
    }

    /// A request under `/api/v2` with any (or no) token.
    pub async fn call_as(
        &self,
        token: Option<&str>,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Reply {
        let mut req = self
            .server
            .http
            .request(method, self.server.url(&format!("/api/v2{path}")));
        if let Some(token) = token {
            req = req.bearer_auth(token);
        }
        if let Some(body) = body {
            req = req.json(&body);
        }
        Reply::read(req.send().await.expect("request")).await
    }

    /// A request with a raw body.
    pub async fn raw(&self, method: Method, path: &str, body: &str) -> Reply {
        let req = self
            .server
            .http
            .request(method, self.server.url(&format!("/api/v2{path}")))
            .bearer_auth(&self.token)
            .header("content-type", "application/json")
            .body(body.to_string());
        Reply::read(req.send().await.expect("request")).await
    }
}

/// The access token of a client_credentials grant (asserts success).
pub async fn client_credentials(
    server: &TestServer,
    client_id: &str,
    secret: &str,
    audience: &str,
) -> String {
    let reply = server
        .post_form(
            "/oauth/token",
            &[
                ("grant_type", "client_credentials"),
                ("client_id", client_id),
                ("client_secret", secret),
                ("audience", audience),
            ],
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.text);
    reply.body["access_token"]
        .as_str()
        .expect("access_token")
        .to_string()
}

/// Asserts Auth0's error shape, status and errorCode.
pub fn assert_mgmt_error(reply: &Reply, status: u16, error_code: &str) {
    assert_eq!(reply.status.as_u16(), status, "{}", reply.text);
    assert_eq!(reply.body["statusCode"], status, "{}", reply.text);
    assert!(reply.body["error"].is_string(), "{}", reply.text);
    assert!(reply.body["message"].is_string(), "{}", reply.text);
    assert_eq!(reply.body["errorCode"], error_code, "{}", reply.text);
}
