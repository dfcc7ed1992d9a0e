//! The grant-decision cases as data: a named case is a world (tenant, APIs,
//! client, user, grants, consent) plus a request, and the outcome it must
//! produce. Core's table tests run them against the pure decision; with the
//! `testing` feature the server's integration tests replay every one over
//! HTTP and through the simulation (`crates/server/tests/it/simulate.rs`), so
//! one list proves the decision, real issuance and simulation agree.
//!
//! The tables: [`user_cases`] (audience choice, RBAC, access policies,
//! offline access, password grant, consent, the system API) and
//! [`client_cases`] (client credentials); [`all`] is every case.

// Test data: a missing test API is a broken table, and panics say so.
#![allow(missing_docs, clippy::expect_used, clippy::indexing_slicing)]

pub mod client_cases;
pub mod user_cases;

use super::*;
use crate::error::ErrorCode;
use crate::model::{AppType, PermissionSource, ScopeDefinition, SubjectType, TenantSettings};
use crate::scope::ScopeSet;

/// Every case of every table, in table order.
pub fn all() -> Vec<Case> {
    [
        user_cases::audience_choice(),
        user_cases::rbac(),
        user_cases::access_policies(),
        user_cases::offline_access_and_lifetimes(),
        user_cases::password_grant(),
        user_cases::consent(),
        user_cases::system_api_in_user_flows(),
        client_cases::client_credentials(),
    ]
    .into_iter()
    .flatten()
    .collect()
}

pub const MEAS: &str = "https://measurements.example/";
pub const MYAPI: &str = "https://myapi.example";
pub const OTHER: &str = "https://other.example/";
pub const MGMT: &str = "https://tenant.example/api/v2/";

/// Everything the store would load for a request.
#[derive(Clone)]
pub struct World {
    pub tenant: TenantSettings,
    pub apis: Vec<ResourceServer>,
    pub client: Client,
    pub user: User,
    pub permissions: Vec<EffectivePermission>,
    pub roles_granting: Vec<(String, Vec<String>)>,
    pub grants: Vec<ClientGrant>,
    pub consent: Option<TestConsent>,
}

#[derive(Clone, Default)]
pub struct TestConsent {
    pub consented: Option<ScopeSet>,
    pub prompt: bool,
    pub loopback: bool,
}

pub fn api(id: &str, identifier: &str, name: &str, scopes: &[&str]) -> ResourceServer {
    let mut api = ResourceServer::new(id, name, identifier);
    api.scopes = scopes
        .iter()
        .map(|s| ScopeDefinition {
            value: s.to_string(),
            description: String::new(),
        })
        .collect();
    api
}

impl Default for World {
    fn default() -> Self {
        Self::new()
    }
}

impl World {
    /// Seed 000's Measurements API (RBAC on, permissions in the token), seed 001's
    /// API (RBAC off), a third API, the Management API; an Angular SPA; bob.
    pub fn new() -> Self {
        let mut meas = api(
            "rs_meas",
            MEAS,
            "Measurements",
            &["read:measurements", "write:measurements"],
        );
        meas.enforce_policies = true;
        meas.token_dialect = TokenDialect::AccessTokenAuthz;
        let mut mgmt = api("rs_mgmt", MGMT, "Auth0 Management API", &["read:users"]);
        mgmt.is_system = true;
        Self {
            tenant: TenantSettings::default(),
            apis: vec![
                meas,
                api("rs_my", MYAPI, "My API", &["myscope", "other:scope"]),
                api("rs_other", OTHER, "Other API", &["shared:scope"]),
                mgmt,
            ],
            client: Client::new("spa_client", "Angular SPA", AppType::Spa),
            user: User::new("auth0|0123456789abcdef01234567", "bob@example.com", 0),
            permissions: Vec::new(),
            roles_granting: Vec::new(),
            grants: Vec::new(),
            consent: None,
        }
    }

    pub fn api(&mut self, identifier: &str) -> &mut ResourceServer {
        self.apis
            .iter_mut()
            .find(|a| a.identifier == identifier)
            .expect("test API exists")
    }

    /// Gives bob `scope` with these role names (empty = directly).
    pub fn permit(&mut self, scope: &str, roles: &[&str]) {
        let sources = if roles.is_empty() {
            vec![PermissionSource::Direct]
        } else {
            roles
                .iter()
                .map(|r| PermissionSource::Role {
                    role_id: format!("rol_{r}"),
                    role_name: r.to_string(),
                })
                .collect()
        };
        self.permissions.push(EffectivePermission {
            permission_name: scope.into(),
            sources,
        });
    }

    pub fn role_grants(&mut self, scope: &str, roles: &[&str]) {
        self.roles_granting
            .push((scope.into(), roles.iter().map(|r| r.to_string()).collect()));
    }

    pub fn grant(
        &mut self,
        audience: &str,
        subject_type: SubjectType,
        scopes: &[&str],
    ) -> &mut ClientGrant {
        self.grants.push(ClientGrant {
            id: format!("cgr_{}", self.grants.len() + 1),
            client_id: Some(self.client.client_id.clone()),
            default_for: None,
            audience: audience.into(),
            scope: scopes.iter().map(|s| s.to_string()).collect(),
            subject_type,
            allow_all_scopes: false,
        });
        let last = self.grants.len() - 1;
        &mut self.grants[last]
    }

    pub fn third_party(&mut self) {
        self.client.is_first_party = false;
    }

    /// A machine-to-machine client instead of the SPA.
    pub fn m2m(&mut self) {
        self.client = Client::new("m2m_client", "Nightly Sync", AppType::NonInteractive);
    }

    pub fn consent(&mut self, consented: Option<&str>, prompt: bool, loopback: bool) {
        self.consent = Some(TestConsent {
            consented: consented.map(ScopeSet::parse),
            prompt,
            loopback,
        });
    }
}

/// What a case must produce; `None` fields are not checked.
#[derive(Default)]
pub struct Expect {
    pub error: Option<(ErrorCode, Option<String>)>,
    pub audience: Option<Option<&'static str>>,
    pub audience_rule: Option<AudienceRule>,
    pub scope: Option<&'static str>,
    pub permissions: Option<Option<Vec<&'static str>>>,
    pub refresh: Option<bool>,
    pub id_token: Option<bool>,
    pub consent: Option<bool>,
    pub format: Option<TokenFormat>,
    pub expires_in: Option<u64>,
    pub rules: Vec<(&'static str, ScopeRule, bool)>,
    pub mentions: Vec<&'static str>,
}

pub struct Case {
    pub name: &'static str,
    pub world: World,
    pub flow: Flow,
    pub audience: Option<AudienceParam>,
    pub scope: &'static str,
    pub expect: Expect,
}

/// A case: the default world, the authorization code flow, no audience.
pub fn case(name: &'static str, scope: &'static str) -> Case {
    Case {
        name,
        world: World::new(),
        flow: Flow::AuthorizationCode,
        audience: None,
        scope,
        expect: Expect::default(),
    }
}

impl Case {
    pub fn flow(mut self, flow: Flow) -> Self {
        self.flow = flow;
        self
    }
    pub fn aud(mut self, aud: &str) -> Self {
        self.audience = Some(AudienceParam::Audience(aud.into()));
        self
    }
    pub fn resource(mut self, aud: &str) -> Self {
        self.audience = Some(AudienceParam::Resource(aud.into()));
        self
    }
    pub fn world(mut self, f: impl FnOnce(&mut World)) -> Self {
        f(&mut self.world);
        self
    }
    pub fn err(mut self, code: ErrorCode, description: &str) -> Self {
        self.expect.error = Some((code, Some(description.into())));
        self
    }
    pub fn err_code(mut self, code: ErrorCode) -> Self {
        self.expect.error = Some((code, None));
        self
    }
    pub fn audience_is(mut self, aud: Option<&'static str>, rule: AudienceRule) -> Self {
        self.expect.audience = Some(aud);
        self.expect.audience_rule = Some(rule);
        self
    }
    pub fn audience_rule(mut self, rule: AudienceRule) -> Self {
        self.expect.audience_rule = Some(rule);
        self
    }
    pub fn scope_is(mut self, scope: &'static str) -> Self {
        self.expect.scope = Some(scope);
        self
    }
    pub fn perms(mut self, perms: &[&'static str]) -> Self {
        self.expect.permissions = Some(Some(perms.to_vec()));
        self
    }
    pub fn no_perms(mut self) -> Self {
        self.expect.permissions = Some(None);
        self
    }
    pub fn refresh(mut self, yes: bool) -> Self {
        self.expect.refresh = Some(yes);
        self
    }
    pub fn id_token(mut self, yes: bool) -> Self {
        self.expect.id_token = Some(yes);
        self
    }
    pub fn consent_required(mut self, yes: bool) -> Self {
        self.expect.consent = Some(yes);
        self
    }
    pub fn format(mut self, format: TokenFormat, expires_in: u64) -> Self {
        self.expect.format = Some(format);
        self.expect.expires_in = Some(expires_in);
        self
    }
    pub fn expires_in(mut self, secs: u64) -> Self {
        self.expect.expires_in = Some(secs);
        self
    }
    pub fn rule(mut self, scope: &'static str, rule: ScopeRule, granted: bool) -> Self {
        self.expect.rules.push((scope, rule, granted));
        self
    }
    /// Text the rendered trace must contain.
    pub fn mentions(mut self, text: &'static str) -> Self {
        self.expect.mentions.push(text);
        self
    }
}

pub fn jwt(alg: SigningAlg, dialect: TokenDialect, lifetime: u64) -> TokenFormat {
    TokenFormat::Jwt {
        alg,
        dialect,
        lifetime,
    }
}
